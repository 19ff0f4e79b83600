package models

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models/clothing"
)

func TestValidateFamilyFieldsNameEachProblem(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := Child{Kind: KindFound, Guardians: make([]Guardian, 100)}
	for i := range c.Guardians {
		c.Guardians[i] = Guardian{Name: "Ramesh"}
	}
	c.Guardians[0].Relation = "uncle"
	c.Home.Landmarks = strings.Repeat("m", 10000)
	c.Descriptors.Complexion = "green"
	err := c.Validate(now)
	if ErrorCode(err) != EINVALID {
		t.Fatalf("code = %q, want %q", ErrorCode(err), EINVALID)
	}
	got := map[string]string{}
	for _, f := range ErrorFields(err) {
		got[f.Field] = f.Message
	}
	for _, want := range []string{"guardians", "guardians[0].relation", "home.landmarks", "descriptors.complexion"} {
		if got[want] == "" {
			t.Errorf("no error for %s; got %v", want, got)
		}
	}
	if len(got) != 4 {
		t.Errorf("want 4 fields named (one for the 100 guardians, not one each), got %d: %v", len(got), got)
	}
}

func TestValidateAcceptsFamilyRecord(t *testing.T) {
	c := Child{Kind: KindMissing, Names: []string{"Velan"},
		Guardians: []Guardian{{Name: "Kannan", Relation: RelationFather}, {Name: "Lakshmi", Relation: RelationMother}, {Name: "Old record"}},
		Home:      Home{Village: "Rampur", PoliceStation: "Kotwali", District: "Gaya", State: "Bihar", Landmarks: "near the big temple"},
		Clothing:  Clothing{Garment: "kameez", Colour: "lal"}, Descriptors: Descriptors{Complexion: "Wheatish", Build: "thin"}}
	if err := c.Validate(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatalf("valid record refused: %v", err)
	}
}

func TestGuardianReadsOldPlainNames(t *testing.T) {
	var c Child
	if err := json.Unmarshal([]byte(`{"kind":"missing","guardians":["Ramesh",{"name":"Sita","relation":"mother"}]}`), &c); err != nil {
		t.Fatal(err)
	}
	want := []Guardian{{Name: "Ramesh"}, {Name: "Sita", Relation: RelationMother}}
	if len(c.Guardians) != 2 || c.Guardians[0] != want[0] || c.Guardians[1] != want[1] {
		t.Fatalf("guardians = %+v, want %+v", c.Guardians, want)
	}
	if got := c.GuardiansOf(RelationUnknown); len(got) != 1 || got[0] != "Ramesh" {
		t.Errorf("unknown relation guardians = %v, want [Ramesh]", got)
	}
}

func TestNormalizeMovesRelationsToGuardians(t *testing.T) {
	cases := []struct {
		name      string
		wantNames []string
		want      Guardian
	}{
		{"Rahul S/O Ramesh", []string{"Rahul"}, Guardian{"Ramesh", RelationFather}},
		{"Pooja d/o. Suresh Kumar", []string{"Pooja"}, Guardian{"Suresh Kumar", RelationFather}},
		{"राहुल पिता रमेश", []string{"राहुल"}, Guardian{"रमेश", RelationFather}},
		{"son of Ramesh", nil, Guardian{"Ramesh", RelationFather}},
		{"Munni mother Sita", []string{"Munni"}, Guardian{"Sita", RelationMother}},
	}
	for _, tc := range cases {
		c := Child{Kind: KindFound, Names: []string{tc.name}}
		c.Normalize()
		if strings.Join(c.Names, "|") != strings.Join(tc.wantNames, "|") || len(c.Guardians) != 1 || c.Guardians[0] != tc.want {
			t.Errorf("%q: names %q guardians %+v, want %q and %+v", tc.name, c.Names, c.Guardians, tc.wantNames, tc.want)
		}
	}
	// A guardian written with its relation, and a name without one.
	c := Child{Kind: KindFound, Names: []string{"Sonu"}, Guardians: []Guardian{{Name: "पिता रमेश"}}}
	c.Normalize()
	if len(c.Names) != 1 || c.Guardians[0] != (Guardian{"रमेश", RelationFather}) {
		t.Errorf("names %q guardians %+v", c.Names, c.Guardians)
	}
}

func TestClothingVocabulary(t *testing.T) {
	d := clothing.Read("lal kameez", "", "neeli salwar, checked")
	if strings.Join(d.Garments, ",") != "kurta,salwar" || strings.Join(d.Colours, ",") != "blue,red" || strings.Join(d.Patterns, ",") != "checked" {
		t.Errorf("read %+v", d)
	}
	if e := clothing.Read("red kurta"); strings.Join(clothing.Shared(d.Garments, e.Garments), ",") != "kurta" {
		t.Errorf("kameez and kurta should share a garment: %+v %+v", d, e)
	}
	if d := clothing.Read("नीली फ्रॉक"); strings.Join(d.Garments, ",") != "frock" || strings.Join(d.Colours, ",") != "blue" {
		t.Errorf("Devanagari read %+v", d)
	}
}

func TestGuardianRefusesOtherShapes(t *testing.T) {
	for _, b := range []string{`{"guardians":[1]}`, `{"guardians":[["a"]]}`, `{"guardians":[{"name":1}]}`} {
		var c Child
		if err := json.Unmarshal([]byte(b), &c); err == nil || !strings.Contains(err.Error(), "guardian must be") {
			t.Errorf("%s: err %v, want the guardian's shape named", b, err)
		}
	}
}
