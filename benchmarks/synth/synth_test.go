package synth

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/trackmatch/trackmatch/models"
)

func TestDataFilesParse(t *testing.T) {
	c, err := loadCorpus()
	if err != nil {
		t.Fatal(err)
	}
	g := New(1, Config{})
	for _, s := range c.states {
		for _, cm := range s.communities {
			for _, sex := range []string{"m", "f"} {
				if len(g.given[cm.given+"/"+sex].names) == 0 {
					t.Errorf("%s: no %s given names in pool %s", s.name, sex, cm.given)
				}
				if cm.surname != "initial" && len(g.surnames[cm.surname+"/"+sex].names) == 0 {
					t.Errorf("%s: no %s surnames in pool %s", s.name, sex, cm.surname)
				}
			}
		}
	}
}

// scriptBlocks are the Unicode blocks of the script codes in the data.
var scriptBlocks = map[string][2]rune{
	"deva": {0x0900, 0x097F}, "beng": {0x0980, 0x09FF}, "guru": {0x0A00, 0x0A7F},
	"gujr": {0x0A80, 0x0AFF}, "orya": {0x0B00, 0x0B7F}, "taml": {0x0B80, 0x0BFF},
	"telu": {0x0C00, 0x0C7F}, "knda": {0x0C80, 0x0CFF}, "mlym": {0x0D00, 0x0D7F},
}

func TestNativeFormsAreWrittenInTheirScript(t *testing.T) {
	c, err := loadCorpus()
	if err != nil {
		t.Fatal(err)
	}
	check := func(n name) {
		for script, form := range n.native {
			b := scriptBlocks[script]
			for _, r := range form {
				if r == 0x200C || r == 0x200D { // ZWNJ, ZWJ
					continue
				}
				if r < b[0] || r > b[1] {
					t.Errorf("%s %s:%s: %q (U+%04X) is not in the script", n.latin[0], script, form, r, r)
					break
				}
			}
		}
		for _, l := range n.latin {
			for _, r := range l {
				if r > unicode.MaxASCII {
					t.Errorf("Latin spelling %q has a non-ASCII letter", l)
					break
				}
			}
		}
	}
	for _, pool := range [](map[string][]name){c.given, c.surnames} {
		for _, ns := range pool {
			for _, n := range ns {
				check(n)
			}
		}
	}
	for _, n := range c.pets {
		check(n)
	}
}

func TestSameSeedSameRecords(t *testing.T) {
	a, b := New(42, Config{IDPrefix: "x"}), New(42, Config{IDPrefix: "x"})
	for i := 0; i < 2000; i++ {
		if x, y := a.Next(), b.Next(); !reflect.DeepEqual(x, y) {
			t.Fatalf("record %d differs:\n%+v\n%+v", i, x, y)
		}
	}
	for i := 0; i < 200; i++ {
		m1, f1 := a.Pair()
		m2, f2 := b.Pair()
		if !reflect.DeepEqual(m1, m2) || !reflect.DeepEqual(f1, f2) {
			t.Fatalf("pair %d differs", i)
		}
	}
	c := New(43, Config{IDPrefix: "x"})
	same := 0
	d := New(42, Config{IDPrefix: "x"})
	for i := 0; i < 100; i++ {
		x, y := c.Next(), d.Next()
		if reflect.DeepEqual(x.Names, y.Names) {
			same++
		}
	}
	if same > 20 {
		t.Errorf("seeds 42 and 43 gave the same names %d times in 100", same)
	}
}

func TestRecordsAreValid(t *testing.T) {
	cfg := Config{}.withDefaults()
	now := cfg.To.AddDate(0, 0, 1)
	g := New(7, Config{})
	ids := map[string]bool{}
	check := func(c models.Child) {
		if err := c.Validate(now); err != nil {
			t.Fatalf("invalid record %+v: %v", c, err)
		}
		if ids[c.ID] {
			t.Fatalf("duplicate id %s", c.ID)
		}
		ids[c.ID] = true
	}
	for i := 0; i < 5000; i++ {
		check(g.Next())
	}
	for i := 0; i < 1000; i++ {
		m, f := g.Pair()
		check(m)
		check(f)
	}
}

func TestPairsDifferLikeTwoRegistrationsOfOneChild(t *testing.T) {
	g := New(11, Config{})
	const n = 3000
	sameSex, ageOK, sameState, foundNamed, foundNative := 0, 0, 0, 0, 0
	for i := 0; i < n; i++ {
		m, f := g.Pair()
		if m.Kind != models.KindMissing || f.Kind != models.KindFound {
			t.Fatalf("pair kinds %s, %s", m.Kind, f.Kind)
		}
		mt, _ := m.ObservedOn.Time()
		ft, _ := f.ObservedOn.Time()
		if ft.Before(mt) || ft.After(Config{}.withDefaults().To) {
			t.Fatalf("found on %s, missing on %s", f.ObservedOn, m.ObservedOn)
		}
		if m.Sex == f.Sex {
			sameSex++
		}
		// The found age estimate should be near the missing age moved on.
		exp, _ := m.AgeOn(ft)
		mid := float64(f.Age.Min+f.Age.Max) / 2
		if d := mid - float64(exp.Min+exp.Max)/2; d >= -4 && d <= 4 {
			ageOK++
		}
		if strings.EqualFold(m.Place.State, f.Place.State) {
			sameState++
		}
		if len(f.Names) > 0 {
			foundNamed++
			for _, r := range f.Names[0] {
				if r >= 0x0900 && r <= 0x0D7F {
					foundNative++
					break
				}
			}
		}
	}
	frac := func(k int) float64 { return float64(k) / n }
	if frac(sameSex) < 0.95 || frac(sameSex) == 1 {
		t.Errorf("same sex in %.3f of pairs: want most, not all", frac(sameSex))
	}
	if frac(ageOK) < 0.95 {
		t.Errorf("found age within 4 years of the expected age in only %.3f of pairs", frac(ageOK))
	}
	if s := frac(sameState); s < 0.55 || s > 0.9 {
		t.Errorf("found in the home state in %.3f of pairs", s)
	}
	if s := frac(foundNamed); s < 0.75 || s > 0.97 {
		t.Errorf("found children named in %.3f of pairs", s)
	}
	if foundNative == 0 {
		t.Errorf("no found-child name in a native script")
	}
}

func TestRecordsVaryAcrossTheCountry(t *testing.T) {
	g := New(3, Config{MissingShare: 0.5})
	states := map[string]bool{}
	missing, marked, md, nativeScripts := 0, 0, 0, map[string]bool{}
	const n = 5000
	for i := 0; i < n; i++ {
		c := g.Next()
		states[strings.ToLower(c.Place.State)] = true
		if c.Kind == models.KindMissing {
			missing++
		}
		if c.Marks != "" {
			marked++
		}
		for _, nm := range c.Names {
			if strings.HasPrefix(nm, "Md") || strings.HasPrefix(nm, "Mohd") || strings.HasPrefix(nm, "MD") || strings.HasPrefix(nm, "MOHD") {
				md++
			}
			for _, r := range nm {
				for script, b := range scriptBlocks {
					if r >= b[0] && r <= b[1] {
						nativeScripts[script] = true
					}
				}
			}
		}
	}
	if len(states) < 15 {
		t.Errorf("%d states in %d records", len(states), n)
	}
	if s := float64(missing) / n; s < 0.45 || s > 0.55 {
		t.Errorf("missing share %.3f, configured 0.5", s)
	}
	if s := float64(marked) / n; s < 0.25 || s > 0.55 {
		t.Errorf("records with marks text %.3f", s)
	}
	if md == 0 {
		t.Errorf("no Md./Mohd. prefix in %d records", n)
	}
	if len(nativeScripts) < 6 {
		t.Errorf("names in only %d native scripts: %v", len(nativeScripts), nativeScripts)
	}
}

func TestConfigWindowIsRespected(t *testing.T) {
	from := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC)
	g := New(5, Config{From: from, To: to, IDPrefix: "w-"})
	for i := 0; i < 500; i++ {
		m, f := g.Pair()
		for _, c := range []models.Child{m, f, g.Next()} {
			d, ok := c.ObservedOn.Time()
			if !ok || d.Before(from) || d.After(to) {
				t.Fatalf("observed on %s outside %s..%s", c.ObservedOn, from, to)
			}
			if !strings.HasPrefix(c.ID, "w-") {
				t.Fatalf("id %s without prefix", c.ID)
			}
		}
	}
}

func TestPopulationPlacesEveryPair(t *testing.T) {
	for _, c := range []struct{ n, pairs int }{{1000, 30}, {10, 5}, {7, 0}, {3, 4}, {999, 333}} {
		recs, truth := New(9, Config{}).Population(c.n, c.pairs)
		if want := max(c.n, 2*c.pairs); len(recs) != want || len(truth) != c.pairs {
			t.Fatalf("Population(%d, %d): %d records, %d pairs", c.n, c.pairs, len(recs), len(truth))
		}
		for _, p := range truth {
			m, f := recs[p.Missing], recs[p.Found]
			if m.Kind != models.KindMissing || f.Kind != models.KindFound || p.Found != p.Missing+1 {
				t.Fatalf("pair %+v: kinds %s, %s", p, m.Kind, f.Kind)
			}
		}
	}
}

func BenchmarkNext(b *testing.B) {
	g := New(1, Config{})
	for i := 0; i < b.N; i++ {
		_ = g.Next()
	}
}
