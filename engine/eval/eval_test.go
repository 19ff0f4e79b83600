package eval

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPairsRoundTrip(t *testing.T) {
	in := []Pair{{A: "A . ARAVIND", B: "ए अरविंद", Same: true}, {A: "Ravi, S.", B: "रवि \"एस\"", Same: false}}
	var buf bytes.Buffer
	if err := WritePairs(&buf, in); err != nil {
		t.Fatal(err)
	}
	got, err := ReadPairs(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(in) || got[0] != in[0] || got[1] != in[1] {
		t.Fatalf("round trip: got %+v, want %+v", got, in)
	}
	for _, bad := range []string{"x,y\n1,2\n", "a,b,same\nx,y,maybe\n", "a,b,same\nx\n"} {
		if _, err := ReadPairs(strings.NewReader(bad)); err == nil {
			t.Errorf("ReadPairs(%q): want an error", bad)
		}
	}
}

func TestBaselineFold(t *testing.T) {
	for in, want := range map[string]string{
		"राम":         "rama", // Sanscript keeps the inherent a
		"ए अरविंद":    "e aravimda",
		"A . ARAVIND": "a aravind",
		"José":        "jose",
		"க்ருஷ்ணன்":   "krusnan",
		"(दिवंगत) आर.चंद्रमोहन": "divamgata ara camdramohana",
		"":  "",
		"।": "",
	} {
		if got := BaselineFold(in); got != want {
			t.Errorf("BaselineFold(%q) = %q, want %q", in, got, want)
		}
	}
	if s := BaselineSimilarity("rama", "rama"); s != 1 {
		t.Errorf("similarity of equal names = %v, want 1", s)
	}
	if BaselineSimilarity("rama", "ramu") <= BaselineSimilarity("rama", "sita") {
		t.Error("Jaro-Winkler should rank ramu above sita for rama")
	}
}

// syntheticPeople are people whose words overlap, for the generator.
func syntheticPeople() []Person {
	var ps []Person
	given := []string{"Arun", "Ravi", "Velan", "Selvam", "Murugan", "Kannan", "Bala", "Raja"}
	deva := []string{"अरुण", "रवि", "वेलन", "सेल्वम", "मुरुगन", "कन्नन", "बाला", "राजा"}
	inits := []string{"A", "K", "S", "M"}
	dinits := []string{"ए", "के", "एस", "एम"}
	for i, g := range given {
		for j, in := range inits {
			ps = append(ps, Person{Latin: []string{in + ". " + g}, Devanagari: []string{dinits[j] + " " + deva[i]}})
		}
	}
	return ps
}

func TestMakePairsSplitAndNegatives(t *testing.T) {
	ps := syntheticPeople()
	dev, test := MakePairs(ps, SplitDev, 7), MakePairs(ps, SplitTest, 7)
	if len(dev) == 0 || len(test) == 0 {
		t.Fatalf("dev %d, test %d pairs: want both halves used", len(dev), len(test))
	}
	again := MakePairs(ps, SplitDev, 7)
	if len(again) != len(dev) {
		t.Fatal("MakePairs is not deterministic")
	}
	for i := range dev {
		if dev[i] != again[i] {
			t.Fatalf("MakePairs is not deterministic at %d", i)
		}
	}
	devNames := map[string]bool{}
	for _, p := range dev {
		devNames[p.A], devNames[p.B] = true, true
	}
	for _, p := range test {
		if devNames[p.A] || devNames[p.B] {
			t.Errorf("%q/%q is in both splits", p.A, p.B)
		}
	}
	// No queried person's name is in the gallery as a negative.
	for _, split := range [][]Pair{dev, test} {
		queried := map[string]bool{}
		for _, p := range split {
			if p.Same {
				queried[p.A], queried[p.B] = true, true
			}
		}
		same, diff := 0, 0
		for _, p := range split {
			if p.Same {
				same++
				continue
			}
			diff++
			if queried[p.B] {
				t.Errorf("negative %q is a queried person's name", p.B)
			}
			if !queried[p.A] {
				t.Errorf("different pair queries %q, who has no same pair", p.A)
			}
		}
		if same != diff {
			t.Errorf("%d same and %d different pairs: want one of each per queried person", same, diff)
		}
	}
}

func TestNamesRunsTheRealPath(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Badger store and a Bleve index")
	}
	pairs := []Pair{
		{A: "Rahul Sharma", B: "राहुल शर्मा", Same: true},
		{A: "Pooja Kumari", B: "पूजा", Same: true},
		{A: "Mohammad Salim", B: "Md Salim", Same: true},
		{A: "Rahul Sharma", B: "Sunil Sharma"},
		{A: "Pooja Kumari", B: "Rekha Kumari"},
		{A: "Mohammad Salim", B: "Mohammad Arif"},
	}
	rep, err := Names(context.Background(), pairs, NamesOptions{Dir: t.TempDir(), Failures: 5})
	if err != nil {
		t.Fatal(err)
	}
	tm, bl := rep.Trackmatch, rep.Baseline
	if tm.Same != 3 || tm.Different != 3 || bl.Same != 3 || rep.Skipped != 0 {
		t.Fatalf("counted %+v / %+v skipped %d; want 3 same and 3 different rows", tm, bl, rep.Skipped)
	}
	if tm.Recall1 != 1 || tm.Recall10 != 1 {
		t.Errorf("trackmatch recall@1 %.2f @10 %.2f on easy pairs; want 1 (failures %+v)", tm.Recall1, tm.Recall10, rep.Failures)
	}
	if tm.FalseMatch != 0 {
		t.Errorf("false matches %.3f among clearly different names; want 0", tm.FalseMatch)
	}
	if !math.IsNaN(bl.FalseMatch) {
		t.Errorf("baseline false matches %v; want NaN (it has no probabilities)", bl.FalseMatch)
	}
	// A pair labelled different whose names are one full name is counted
	// as a false match, and a same pair whose b is refused is skipped.
	rep, err = Names(context.Background(), []Pair{
		{A: "Anjali Priyadarshini Gupta", B: "अंजलि प्रियदर्शिनी गुप्ता"},
		{A: "Ravi", B: "\x00", Same: true},
	}, NamesOptions{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Trackmatch.FalseMatch != 1 || rep.Skipped != 1 {
		t.Errorf("false matches %.2f skipped %d; want 1 and 1", rep.Trackmatch.FalseMatch, rep.Skipped)
	}
}

// sharedNames opens a file of ../shared/names-real, skipping when absent.
func sharedNames(t *testing.T, name string) *os.File {
	t.Helper()
	path := filepath.Join("..", "..", "..", "shared", "names-real", name)
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("shared names not found at %s", path)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func TestReadPeopleSharedSets(t *testing.T) {
	aff, err := ReadPeople(sharedNames(t, "affidavit-relatives.csv"))
	if err != nil {
		t.Fatal(err)
	}
	cr, err := ReadPeople(sharedNames(t, "cricketers.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if len(aff) < 4900 || len(cr) < 200 {
		t.Fatalf("read %d affidavit and %d cricketer rows; want about 5,000 and 233", len(aff), len(cr))
	}
	if len(cr[0].Latin) != 2 || len(cr[0].Devanagari) != 2 {
		t.Fatalf("cricketer row %+v: want full and scorecard forms", cr[0])
	}
	dev, test := 0, 0
	for _, p := range aff {
		if SplitOf(p) == SplitDev {
			dev++
		} else {
			test++
		}
	}
	if math.Abs(float64(dev-test)) > 0.05*float64(len(aff)) {
		t.Errorf("split %d dev / %d test: want about half each", dev, test)
	}
	if ps := MakePairs(cr, SplitDev, 1); len(ps) < 100 {
		t.Errorf("%d cricketer dev pairs; want scorecard and full-name pairs for each queried person", len(ps))
	}
}
