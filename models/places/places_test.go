package places

import (
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func TestResolve(t *testing.T) {
	tests := []struct {
		in              models.Place
		state, district string
		inferred        bool
	}{
		{models.Place{State: "UP"}, "Uttar Pradesh", "", false},
		{models.Place{State: "U.P."}, "Uttar Pradesh", "", false},
		{models.Place{State: " uttar  pradesh"}, "Uttar Pradesh", "", false},
		{models.Place{State: "उत्तर प्रदेश"}, "Uttar Pradesh", "", false},
		{models.Place{State: "Orissa"}, "Odisha", "", false},
		{models.Place{State: "W.B."}, "West Bengal", "", false},
		{models.Place{State: "MP"}, "Madhya Pradesh", "", false},
		{models.Place{State: "J&K"}, "Jammu and Kashmir", "", false},
		{models.Place{State: "NCT of Delhi", District: "New Delhi"}, "Delhi", "New Delhi", false},
		{models.Place{State: "Uttaranchal"}, "Uttarakhand", "", false},
		{models.Place{State: "Pondicherry"}, "Puducherry", "", false},
		{models.Place{State: "ＭＡＨＡＲＡＳＨＴＲＡ", District: "Bombay"}, "Maharashtra", "Mumbai", false},
		{models.Place{State: "Maharashtra", District: "Mumbai Suburban"}, "Maharashtra", "Mumbai", false},
		{models.Place{District: "Calcutta"}, "West Bengal", "Kolkata", true},
		{models.Place{District: "Distt. Gaya"}, "", "Gaya", false},
		{models.Place{District: "Aurangabad"}, "", "Aurangabad", false}, // in Bihar and Maharashtra: no guess
		{models.Place{Text: "Found at Patna Junction, Bihar"}, "Bihar", "", true},
		{models.Place{Text: "found near CST station, Mumbai"}, "Maharashtra", "", true},
		{models.Place{Text: "picked up from train coming from Bihar to Delhi"}, "", "", false}, // two states: no guess; "up" is a word
		{models.Place{District: "जिला पुणे"}, "Maharashtra", "Pune", true},
		{models.Place{State: "महाराष्ट्र", District: "Pune City"}, "Maharashtra", "Pune", false},
		{models.Place{State: "Gondwana"}, "Gondwana", "", false}, // unknown: kept, folded
	}
	for _, tt := range tests {
		got := Resolve(tt.in)
		if got.State != tt.state || got.District != tt.district || got.Inferred != tt.inferred {
			t.Errorf("Resolve(%+v) = %+v, want state %q district %q inferred %v", tt.in, got, tt.state, tt.district, tt.inferred)
		}
	}
}

func TestKeyFoldsWritingVariants(t *testing.T) {
	for _, s := range []string{"Pune", "PUNE", " pune  district ", "Dist. Pune", "Zila Pune", "पुणे", "जिला पुणे", "Pune City"} {
		if got := Key(s); got != "pune" {
			t.Errorf("Key(%q) = %q, want pune", s, got)
		}
	}
	if got := Key("North 24 Parganas"); got != "north 24 parganas" {
		t.Errorf("Key(North 24 Parganas) = %q", got)
	}
	if got := Key(""); got != "" {
		t.Errorf("Key(\"\") = %q, want empty", got)
	}
	if got := Key("J&K"); got != "j and k" {
		t.Errorf("Key(J&K) = %q, want j and k", got)
	}
}

// Every resolved name is its own fixed point: resolving the display name
// again gives the same key, which is what lets the index store resolved
// names and still meet a query resolved from another spelling.
func TestResolvedKeysAreStable(t *testing.T) {
	for _, p := range []models.Place{
		{State: "UP", District: "Allahabad"}, {State: "Orissa", District: "Cuttack"}, {District: "Calcutta"},
		{State: "Gondwana", District: "Distt. Xyz"}, {State: "WB", District: "North 24 Parganas"},
	} {
		r := Resolve(p)
		again := Resolve(models.Place{State: r.State, District: r.District})
		if again.StateKey() != r.StateKey() || again.DistrictKey() != r.DistrictKey() {
			t.Errorf("Resolve(%+v) = %+v, resolved again %+v: keys differ", p, r, again)
		}
	}
}
