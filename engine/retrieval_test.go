package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// TestRetrievalNeverStricterThanScoring generates missing and found
// records and checks, for every pair, that the attribute index retrieves
// the found record for the missing one whenever the scorer would rank the
// pair on the fields retrieval filters on: names agreeing at some level
// other than an initial, an age not far, sexes not in conflict. And for
// place, which only ranks: when the scorer says same state (or district),
// the hit carries that reason.
func TestRetrievalNeverStricterThanScoring(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 20))
	families := [][]string{
		{"Pooja", "Puja", "पूजा", "Pooja Kumari", "POOJA"},
		{"Rahul", "राहुल", "রাহুল", "Rahul Kumar", "Raahul"},
		{"Imran Shaikh", "Sheikh Imran", "Imran", "Md Imran"},
		{"Lakshmi", "Laxmi", "लक्ष्मी", "Lakshmi Devi"},
		{"Sunil Yadav", "Sunil", "सुनील यादव"},
		{"Priya Verma", "Priya Sharma", "Priya"},
	}
	placesPool := []models.Place{
		{}, {State: "UP", District: "Allahabad"}, {State: "Uttar Pradesh", District: "Prayagraj"},
		{State: "Maharashtra", District: "Pune City"}, {District: "जिला पुणे"}, {State: "MH", District: "Dist. Pune"},
		{State: "Bihar", District: "Patna"}, {Text: "found at Patna junction, Bihar"}, {State: "W.B.", District: "Calcutta"},
		{District: "Kolkata"}, {State: "Orissa"}, {State: "Odisha", District: "Cuttack"},
	}
	sexes := []models.Sex{models.SexFemale, models.SexMale, ""}
	record := func(id string, kind models.Kind) *models.Child {
		fam := families[rng.IntN(len(families))]
		c := &models.Child{ID: id, Kind: kind, Status: models.StatusOpen,
			Names: []string{fam[rng.IntN(len(fam))]}, Sex: sexes[rng.IntN(len(sexes))],
			Place: placesPool[rng.IntN(len(placesPool))]}
		if rng.IntN(10) > 0 {
			lo := rng.IntN(models.MaxAgeYears - 2)
			c.Age = &models.AgeRange{Min: lo, Max: lo + rng.IntN(3)}
		}
		if rng.IntN(10) > 0 {
			c.ObservedOn = models.Date(fmt.Sprintf("%d-%02d-%02d", 2000+rng.IntN(26), 1+rng.IntN(12), 1+rng.IntN(28)))
		}
		return c
	}
	x, err := index.OpenAttributeIndex(filepath.Join(t.TempDir(), "bleve"))
	if err != nil {
		t.Fatalf("open attribute index: %v", err)
	}
	t.Cleanup(func() { _ = x.Close() })
	ctx := context.Background()
	var found []*models.Child
	for i := range 300 {
		f := record(fmt.Sprintf("f%03d", i), models.KindFound)
		if err := x.Index(ctx, f); err != nil {
			t.Fatalf("index %s: %v", f.ID, err)
		}
		found = append(found, f)
	}
	checked := map[string]int{}
	for i := range 60 {
		m := record(fmt.Sprintf("m%03d", i), models.KindMissing)
		hits, err := x.Candidates(ctx, m, index.MaxCandidates)
		if err != nil {
			t.Fatalf("candidates: %v", err)
		}
		got := map[string]index.AttributeHit{}
		for _, h := range hits {
			got[h.ID] = h
		}
		for _, f := range found {
			nm := compareNames(m.Names, f.Names, nil)
			age := compareAge(m, f)
			sex := compareSex(m.Sex, f.Sex)
			place := comparePlaces(m.Place, f.Place)
			ranked := nm.Level != "" && nm.Level != string(names.LevelNone) && nm.Level != string(names.LevelInitial) &&
				age.Level != AgeFar && sex.Level != SexConflict
			if !ranked {
				continue
			}
			checked["pairs"]++
			if age.Level == AgeNear {
				checked["age near"]++
			}
			h, ok := got[f.ID]
			if !ok {
				t.Errorf("%v / %v not retrieved, but scored names %s, %s, %s", m, f, nm.Level, age.Detail, sex.Level)
				continue
			}
			switch place.Level {
			case PlaceDistrict:
				checked["same district"]++
				if _, ok := h.Matched[index.ReasonDistrict]; !ok {
					t.Errorf("%+v / %+v: scored %q, retrieved without the district reason (%v)", m.Place, f.Place, place.Detail, h.Matched)
				}
				fallthrough
			case PlaceState:
				checked["same state"]++
				if _, ok := h.Matched[index.ReasonState]; !ok {
					t.Errorf("%+v / %+v: scored %q, retrieved without the state reason (%v)", m.Place, f.Place, place.Detail, h.Matched)
				}
			}
		}
	}
	// The generator must reach each case the test is about.
	for _, k := range []string{"pairs", "age near", "same state", "same district"} {
		if checked[k] < 10 {
			t.Errorf("only %d generated pairs with %s: the generator misses the case", checked[k], k)
		}
	}
	t.Logf("checked %v", checked)
}
