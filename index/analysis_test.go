package index

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models/names"
)

// attrAnalyze runs a registered analyzer through the index mapping, the way
// Bleve does when it indexes a field.
func attrAnalyze(t *testing.T, analyzer, text string) []string {
	t.Helper()
	ts, err := attrMapping().AnalyzeText(analyzer, []byte(text))
	if err != nil {
		t.Fatalf("analyze %q with %s: %v", text, analyzer, err)
	}
	var out []string
	for _, tok := range ts {
		out = append(out, string(tok.Term))
	}
	return out
}

func TestAnalyzersAreRegisteredAndAgreeWithQueryTerms(t *testing.T) {
	for _, name := range []string{"Rahul Kumar", "राहुल", "রাহুল", "Sheikh Imran", "Mohd. Aamir", "Baby Pooja"} {
		if got, want := attrAnalyze(t, analyzerNameFolded, name), nameTerms(name); !reflect.DeepEqual(got, want) {
			t.Errorf("folded analyzer on %q = %q, query side = %q", name, got, want)
		}
		if got, want := attrAnalyze(t, analyzerNamePhonetic, name), phoneticTerms(name); !reflect.DeepEqual(got, want) {
			t.Errorf("phonetic analyzer on %q = %q, query side = %q", name, got, want)
		}
	}
	for _, m := range []string{"black mole on left cheek", "jalne ka nishan daayan haath"} {
		if got, want := attrAnalyze(t, analyzerMarks, m), markTerms(m); !reflect.DeepEqual(got, want) {
			t.Errorf("marks analyzer on %q = %q, query side = %q", m, got, want)
		}
	}
	if got := attrAnalyze(t, analyzerPlace, "Dist. Pune"); !reflect.DeepEqual(got, []string{"pune"}) {
		t.Errorf("place analyzer on %q = %q, want [pune]", "Dist. Pune", got)
	}
}

func TestScriptsFoldToOneToken(t *testing.T) {
	latin := nameTerms("Rahul")
	if len(latin) != 1 || latin[0] != "rahul" {
		t.Fatalf("nameTerms(Rahul) = %q, want [rahul] (models/names Tokens not implemented yet?)", latin)
	}
	for _, s := range []string{"राहुल", "রাহুল", "RAHUL"} {
		if got := nameTerms(s); !reflect.DeepEqual(got, latin) {
			t.Errorf("nameTerms(%q) = %q, want %q", s, got, latin)
		}
	}
	if a, b := phoneticTerms("Shaikh"), phoneticTerms("Sheikh"); len(a) != 3 || !reflect.DeepEqual(a, b) || a[2] != skeletonTag+"sk" {
		t.Errorf("phonetic terms Shaikh %q, Sheikh %q: want one shared key, loose key and skeleton", a, b)
	}
	// A Tamil-written name's loose key is tagged apart from a Latin one's.
	ta, la := phoneticTerms("கீதா"), phoneticTerms("Geetha")
	if len(ta) != 3 || len(la) != 3 || ta[1] != looseTamil+names.LooseKey("Geetha") || la[1] != looseOther+names.LooseKey("Geetha") {
		t.Errorf("phonetic terms கீதா %q, Geetha %q", ta, la)
	}
}

func TestPlaceTermFoldsWritingVariants(t *testing.T) {
	for _, s := range []string{"Pune", "PUNE", " pune  district ", "Dist. Pune", "Zila Pune"} {
		if got := placeTerm(s); got != "pune" {
			t.Errorf("placeTerm(%q) = %q, want pune", s, got)
		}
	}
	if got := placeTerm("North 24 Parganas"); got != "north 24 parganas" {
		t.Errorf("placeTerm(North 24 Parganas) = %q", got)
	}
	if got := placeTerm(""); got != "" {
		t.Errorf("placeTerm(\"\") = %q, want empty", got)
	}
	if got := placeTerm("पुणे"); got != "pune" {
		t.Errorf("placeTerm(पुणे) = %q, want pune (needs models/names Fold)", got)
	}
}

func TestMarkTermsAtThreePrecisions(t *testing.T) {
	got := markTerms("black mole on left cheek")
	want := map[string]bool{"mole": true, "mole/face": true, "mole/face/left": true}
	if len(got) != len(want) {
		t.Fatalf("markTerms = %q, want %v (models/marks Parse not implemented yet?)", got, want)
	}
	for _, term := range got {
		if !want[term] {
			t.Errorf("unexpected mark term %q in %q", term, got)
		}
		if p := markPrecision(term); p != strings.Count(term, "/")+1 || p < 1 || p > 3 {
			t.Errorf("markPrecision(%q) = %d", term, p)
		}
	}
	// The same mark described another way meets at type/region.
	other := markTerms("til on left side of face")
	if !attrContains(other, "mole/face") {
		t.Errorf("markTerms(til on left side of face) = %q, want mole/face among them", other)
	}
}

func attrContains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func TestAnalysisFingerprintIsStable(t *testing.T) {
	a, b := analysisFingerprint(), analysisFingerprint()
	if want := fmt.Sprintf("v%d-", analysisVersion); a != b || !strings.HasPrefix(a, want) {
		t.Errorf("fingerprint %q then %q: want equal, prefixed %s", a, b, want)
	}
}
