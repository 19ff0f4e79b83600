package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// TestFamilyFieldsValidatedAndKept: the bad inputs get one 422
// naming each field (and nothing is stored); a record with family, home,
// clothing and descriptors keeps them, its relation written into a name
// moved to the guardian it names.
func TestFamilyFieldsValidatedAndKept(t *testing.T) {
	h := newHarness(t)
	guardians := make([]map[string]string, 100)
	for i := range guardians {
		guardians[i] = map[string]string{"name": "Ramesh", "relation": "father"}
	}
	guardians[0]["relation"] = "uncle"
	body := missingChild()
	body["guardians"] = guardians
	body["home"] = map[string]string{"village": "Rampur", "landmarks": strings.Repeat("temple ", 1430)}
	e := wantError(t, h.do(jsonReq("POST", "/v1/children", portalKey, body)), http.StatusUnprocessableEntity, models.EINVALID)
	got := map[string]string{}
	for _, f := range e.Fields {
		got[f.Field] = f.Message
	}
	for _, want := range []string{"guardians", "guardians[0].relation", "home.landmarks"} {
		if got[want] == "" {
			t.Errorf("no message for %s in %v", want, e.Fields)
		}
	}
	if n := len(h.children.children); n != 0 {
		t.Errorf("an invalid record was stored")
	}
	wantError(t, h.do(jsonReq("POST", "/v1/children", portalKey, map[string]any{"kind": "found", "guardians": []any{1}})), http.StatusBadRequest, models.EBADREQUEST)

	body = missingChild()
	body["names"] = []string{"Asha D/O Ramesh Prasad"}
	body["guardians"] = []any{"Sunita Devi", map[string]string{"name": "Kamla", "relation": "guardian"}}
	body["home"] = map[string]string{"village": "Rampur", "police_station": "Kotwali", "landmarks": "near the big temple"}
	body["clothing"] = map[string]string{"garment": "frock", "colour": "lal"}
	body["descriptors"] = map[string]string{"complexion": "wheatish", "build": "thin"}
	c := h.createChild(body)
	if len(c.Names) != 1 || c.Names[0] != "Asha" {
		t.Errorf("names %q, want the relation moved out", c.Names)
	}
	want := []models.Guardian{{Name: "Sunita Devi"}, {Name: "Kamla", Relation: models.RelationGuardian}, {Name: "Ramesh Prasad", Relation: models.RelationFather}}
	if len(c.Guardians) != len(want) {
		t.Fatalf("guardians %+v, want %+v", c.Guardians, want)
	}
	for i := range want {
		if c.Guardians[i] != want[i] {
			t.Errorf("guardian %d = %+v, want %+v", i, c.Guardians[i], want[i])
		}
	}
	if c.Home.PoliceStation != "Kotwali" || c.Clothing.Colour != "lal" || c.Descriptors.Build != "thin" {
		t.Errorf("home %+v clothing %+v descriptors %+v not kept", c.Home, c.Clothing, c.Descriptors)
	}
}
