package engine_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// countingAttrs counts attribute retrievals.
type countingAttrs struct {
	attrs
	calls atomic.Int64
}

func (a *countingAttrs) Candidates(ctx context.Context, q *models.Child, limit int) ([]models.AttributeHit, error) {
	a.calls.Add(1)
	return a.attrs.Candidates(ctx, q, limit)
}

// A photo search with nothing else to rank by leaves attribute retrieval
// out (its hits would be arbitrary, and cost a walk over the gallery);
// with a name, or without a photo, retrieval runs.
func TestSearchRetrievesAttributesOnlyWhenTheyRank(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := index.Open(filepath.Join(dir, "badger"), index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ai, err := index.OpenAttributeIndex(filepath.Join(dir, "bleve"))
	if err != nil {
		t.Fatal(err)
	}
	defer ai.Close()
	sc, err := engine.NewScorer(engine.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	ca := &countingAttrs{attrs: attrs{ai}}
	svc := engine.NewService(engine.ServiceDeps{Store: st, Matches: st, Attrs: ca, Faces: index.NewVectorIndex(),
		Photos: descriptorAnalyzer{}, Names: names.NewFrequencies(), Scorer: sc, NewID: index.NewID,
		Logger: slog.New(slog.DiscardHandler)})
	var face models.Descriptor
	face[0] = 0.5
	gallery := []models.Child{importedChild(models.KindFound, "Sunita", "CCI-1", face)}
	if err := svc.Import(ctx, gallery); err != nil {
		t.Fatal(err)
	}
	found := gallery[0]
	photo := [][]byte{descriptorPhoto(face)}
	for _, c := range []struct {
		name   string
		q      models.Child
		photos [][]byte
		calls  int64
	}{
		{"photo only", models.Child{Kind: models.KindMissing}, photo, 0},
		{"photo with sex and age", models.Child{Kind: models.KindMissing, Sex: models.SexFemale, Age: &models.AgeRange{Min: 9, Max: 10}}, photo, 0},
		{"photo with a name", models.Child{Kind: models.KindMissing, Names: []string{"Sunita"}}, photo, 1},
		{"photo with a district", models.Child{Kind: models.KindMissing, Place: models.Place{District: "Patna"}}, photo, 1},
		{"sex and age without a photo", models.Child{Kind: models.KindMissing, Sex: models.SexFemale}, nil, 1},
	} {
		before := ca.calls.Load()
		cands, err := svc.Search(ctx, &c.q, c.photos, 10)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := ca.calls.Load() - before; got != c.calls {
			t.Errorf("%s: %d attribute retrievals, want %d", c.name, got, c.calls)
		}
		if len(cands) != 1 || cands[0].ID != found.ID {
			t.Errorf("%s: candidates %+v, want the one found child", c.name, cands)
		}
	}
}
