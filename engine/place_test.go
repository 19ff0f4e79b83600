package engine

import (
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

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
