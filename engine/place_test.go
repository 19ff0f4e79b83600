package engine

import (
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func TestNormalizePlace(t *testing.T) {
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
		{models.Place{State: "Gondwana"}, "Gondwana", "", false},                               // unknown: kept, folded
	}
	for _, tt := range tests {
		got := normalizePlace(tt.in)
		if got.state != tt.state || got.district != tt.district || got.inferred != tt.inferred {
			t.Errorf("normalizePlace(%+v) = %+v, want state %q district %q inferred %v", tt.in, got, tt.state, tt.district, tt.inferred)
		}
	}
}

func TestComparePlaces(t *testing.T) {
	tests := []struct {
		a, b   models.Place
		level  string
		detail string
	}{
		{models.Place{State: "UP", District: "Allahabad"}, models.Place{State: "Uttar Pradesh", District: "Prayagraj"}, PlaceDistrict, "same district (Prayagraj, Uttar Pradesh)"},
		{models.Place{State: "UP", District: "Agra"}, models.Place{State: "Uttar Pradesh", District: "Lucknow"}, PlaceState, "different districts (Agra and Lucknow)"},
		{models.Place{State: "UP", District: "Agra"}, models.Place{State: "U.P."}, PlaceState, "district not recorded on the found record"},
		{models.Place{State: "Bihar"}, models.Place{State: "Delhi"}, PlaceOther, "different states (Bihar on the missing record, Delhi on the found record)"},
		{models.Place{State: "Orissa"}, models.Place{State: "odisha"}, PlaceState, ""},
		{models.Place{District: "Bombay"}, models.Place{State: "Maharashtra", District: "Mumbai City"}, PlaceDistrict, "missing record's state read from"},
		{models.Place{District: "Aurangabad"}, models.Place{State: "Bihar", District: "Aurangabad"}, "", "state not recorded on the missing record"},
		{models.Place{}, models.Place{}, "", "state not recorded on either record"},
	}
	for _, tt := range tests {
		c := comparePlaces(tt.a, tt.b)
		if c.Level != tt.level || !strings.Contains(c.Detail, tt.detail) {
			t.Errorf("comparePlaces(%+v, %+v) = %+v, want %q with %q", tt.a, tt.b, c, tt.level, tt.detail)
		}
	}
}
