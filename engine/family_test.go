package engine

import (
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func familyPair(m, f models.Child) []FieldComparison {
	m.Kind, f.Kind = models.KindMissing, models.KindFound
	return CompareAttributes(&m, &f, nil)
}

func TestChildInitialIsEvidenceAboutTheFather(t *testing.T) {
	found := models.Child{Names: []string{"K. Velan"}}
	for _, tc := range []struct{ father, want string }{{"Kannan", InitialAgrees}, {"Murugan", InitialDiffers}, {"R. Kannan", InitialAgrees}} {
		m := models.Child{Names: []string{"Velan"}, Guardians: []models.Guardian{{Name: tc.father, Relation: models.RelationFather}}}
		got := attributeField(t, familyPair(m, found), FieldFatherInitial)
		if got.Level != tc.want {
			t.Errorf("K. Velan with father %s: %q (%s), want %q", tc.father, got.Level, got.Detail, tc.want)
		}
	}
	// When both records name the father, his names are compared instead.
	m := models.Child{Names: []string{"Velan"}, Guardians: []models.Guardian{{Name: "Murugan", Relation: models.RelationFather}}}
	f := models.Child{Names: []string{"K. Velan"}, Guardians: []models.Guardian{{Name: "Murugan", Relation: models.RelationFather}}}
	cmps := familyPair(m, f)
	if l := attributeField(t, cmps, FieldFatherInitial).Level; l != "" {
		t.Errorf("initial counted beside the fathers' names: %q", l)
	}
	if l := attributeField(t, cmps, FieldFather).Level; l != "exact" {
		t.Errorf("father Murugan against Murugan: %q", l)
	}
}

func TestParentsComparedByRelation(t *testing.T) {
	m := models.Child{Guardians: []models.Guardian{{Name: "Ramesh Yadav", Relation: models.RelationFather}, {Name: "Sunita Devi", Relation: models.RelationMother}}}
	// A father across scripts agrees; the mother named as father does not
	// make the fathers agree.
	f := models.Child{Guardians: []models.Guardian{{Name: "रमेश", Relation: models.RelationFather}}}
	if l := attributeField(t, familyPair(m, f), FieldFather).Level; l == "" || l == "none" {
		t.Errorf("father Ramesh Yadav against रमेश: %q", l)
	}
	f = models.Child{Guardians: []models.Guardian{{Name: "Sunita", Relation: models.RelationFather}}}
	if l := attributeField(t, familyPair(m, f), FieldFather).Level; l != "none" {
		t.Errorf("the mother's name on the other record's father: %q, want none", l)
	}
	// A guardian of unknown relation meets both parents, in its own field.
	f = models.Child{Guardians: []models.Guardian{{Name: "Sunita"}}}
	cmps := familyPair(m, f)
	if g := attributeField(t, cmps, FieldGuardian); g.Level == "" || g.Level == "none" {
		t.Errorf("unknown-relation Sunita against mother Sunita Devi: %+v", g)
	}
	if l := attributeField(t, cmps, FieldMother).Level; l != "" {
		t.Errorf("mother field counted without a mother on the found record: %q", l)
	}
	sc, err := NewScorer(DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	father := sc.Score([]FieldComparison{attributeField(t, familyPair(m, models.Child{Guardians: []models.Guardian{{Name: "Sunita", Relation: models.RelationMother}}}), FieldMother)})
	unknown := sc.Score([]FieldComparison{attributeField(t, cmps, FieldGuardian)})
	if !(unknown.Score > 0 && unknown.Score < father.Score) {
		t.Errorf("unknown relation weighs %.2f, the known mother %.2f: want less but positive", unknown.Score, father.Score)
	}
}

func TestHomeLandmarksClothing(t *testing.T) {
	m := models.Child{ObservedOn: "2024-05-01",
		Home:     models.Home{Village: "Rampur", PoliceStation: "Kotwali", State: "Bihar", Landmarks: "near the big Hanuman temple, behind the brick kiln"},
		Clothing: models.Clothing{Garment: "kameez", Colour: "lal"}}
	f := models.Child{ObservedOn: "2024-05-09",
		Home:     models.Home{Village: "Raampur", Landmarks: "hanuman mandir ke paas"},
		Clothing: models.Clothing{Text: "red kurta"}}
	cmps := familyPair(m, f)
	if l := attributeField(t, cmps, FieldHome).Level; l != HomeVillage {
		t.Errorf("Rampur / Raampur: %q", l)
	}
	if l := attributeField(t, cmps, FieldLandmarks).Level; l != LandmarksRare {
		t.Errorf("landmarks sharing Hanuman: %q", l)
	}
	if l := attributeField(t, cmps, FieldClothing).Level; l != ClothingMatch {
		t.Errorf("lal kameez / red kurta 8 days apart: %q", l)
	}
	f.Home.State = "Kerala"
	f.ObservedOn = "2026-05-09"
	cmps = familyPair(m, f)
	if l := attributeField(t, cmps, FieldHome).Level; l != HomeOther {
		t.Errorf("Rampur in Bihar and in Kerala: %q", l)
	}
	if c := attributeField(t, cmps, FieldClothing); c.Level != "" || !strings.Contains(c.Detail, "apart") {
		t.Errorf("clothing two years apart counted: %+v", c)
	}
	f.Home = models.Home{Landmarks: "near the school"}
	if l := attributeField(t, familyPair(m, f), FieldLandmarks).Level; l != LandmarksNone {
		t.Errorf("no shared landmark word: %q", l)
	}
}

func TestParamsWithoutFamilyFieldsStillScore(t *testing.T) {
	old := DefaultParams()
	for _, f := range familyDefaults() {
		delete(old.Fields, f.field)
	}
	sc, err := NewScorer(old)
	if err != nil {
		t.Fatal(err)
	}
	c := FieldComparison{Field: FieldHome, Level: HomeVillage}
	if s := sc.Score([]FieldComparison{c}); !(s.Score > 0) {
		t.Errorf("home village under parameters stored before it: weight %.2f", s.Score)
	}
	if _, err := EstimateFromDecisions(old, [][]FieldComparison{{c}}, [][]FieldComparison{{{Field: FieldHome, Level: HomeOther}}}, DecisionOptions{}); err != nil {
		t.Errorf("estimating from parameters without the family fields: %v", err)
	}
}
