package index

import (
	"context"
	"fmt"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// TestParentsNameAndVillageBringCandidatesIn: a found child who gives no
// name of its own, only its father's name (in Devanagari) or its village,
// still retrieves the missing report that names them, and nothing of its
// own kind.
func TestParentsNameAndVillageBringCandidatesIn(t *testing.T) {
	ctx := context.Background()
	x, err := OpenMemAttributeIndex()
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	var cs []*models.Child
	for i := range 50 {
		cs = append(cs, &models.Child{ID: fmt.Sprintf("m%02d", i), Kind: models.KindMissing, Names: []string{"Rahul"},
			Guardians: []models.Guardian{{Name: "Suresh", Relation: models.RelationFather}}, Home: models.Home{Village: "Sitapur"}})
	}
	cs = append(cs,
		&models.Child{ID: "true", Kind: models.KindMissing, Names: []string{"Munna Yadav"},
			Guardians: []models.Guardian{{Name: "Bhagirath Yadav", Relation: models.RelationFather}}, Home: models.Home{Village: "Kishangarh"}},
		&models.Child{ID: "same-kind", Kind: models.KindFound, Guardians: []models.Guardian{{Name: "Bhagirath"}}, Home: models.Home{Village: "Kishangarh"}})
	if err := x.IndexBatch(ctx, cs); err != nil {
		t.Fatal(err)
	}
	for _, q := range []models.Child{
		{Kind: models.KindFound, Guardians: []models.Guardian{{Name: "भगीरथ", Relation: models.RelationFather}}},
		{Kind: models.KindFound, Home: models.Home{Village: "Kishangadh"}},
	} {
		hits, err := x.Candidates(ctx, &q, 5)
		if err != nil {
			t.Fatal(err)
		}
		if len(hits) == 0 || hits[0].ID != "true" {
			t.Errorf("query %+v %+v: hits %+v, want the true record first", q.Guardians, q.Home, hits)
		}
		for _, h := range hits {
			if h.ID == "same-kind" {
				t.Errorf("a found record retrieved for a found query")
			}
		}
	}
}
