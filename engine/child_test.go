package engine_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// cancelingStore cancels the caller's context right after each write it
// commits: a client that hangs up just as its write lands.
type cancelingStore struct {
	*index.Store
	cancel context.CancelFunc // nil: cancel nothing
}

func (s *cancelingStore) PutChild(ctx context.Context, c models.Child) error {
	err := s.Store.PutChild(ctx, c)
	s.hangUp()
	return err
}

func (s *cancelingStore) DeleteChild(ctx context.Context, id string) error {
	err := s.Store.DeleteChild(ctx, id)
	s.hangUp()
	return err
}

func (s *cancelingStore) hangUp() {
	if s.cancel != nil {
		s.cancel()
	}
}

// bleveAttrs presents the Bleve index's hits as the engine's type.
type bleveAttrs struct{ *index.AttributeIndex }

func (a bleveAttrs) Candidates(ctx context.Context, q *models.Child, limit int) ([]models.AttributeHit, error) {
	hits, err := a.AttributeIndex.Candidates(ctx, q, limit)
	out := make([]models.AttributeHit, len(hits))
	for i, h := range hits {
		out[i] = models.AttributeHit{ID: h.ID, Score: h.Score, Matched: h.Matched}
	}
	return out, err
}

// A caller that goes away once its write is committed must not leave the
// Bleve index behind the store: a create and a delete that each did so
// would leave the counts equal and the index wrong, which the start-up
// check (a count comparison on a cleanly closed index) would not catch.
func TestIndexFollowsStoreWhenCallerGoes(t *testing.T) {
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
	params, err := st.PutParams(context.Background(), engine.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := engine.NewScorer(params)
	if err != nil {
		t.Fatal(err)
	}
	cs := &cancelingStore{Store: st}
	svc := engine.NewService(engine.ServiceDeps{Store: cs, Matches: st, Attrs: bleveAttrs{ai}, Faces: index.NewVectorIndex(),
		Names: names.NewFrequencies(), Scorer: sc, NewID: index.NewID,
		Logger: slog.New(slog.DiscardHandler)})
	call := func() context.Context {
		ctx, cancel := context.WithCancel(context.Background())
		cs.cancel = cancel
		return ctx
	}

	kept, _, err := svc.CreateChild(context.Background(), &models.Child{Kind: models.KindFound, Names: []string{"Ruksana Begum"}})
	if err != nil {
		t.Fatal(err)
	}
	created, _, err := svc.CreateChild(call(), &models.Child{Kind: models.KindFound, Names: []string{"Tanvir Ahmed"}})
	if err != nil {
		t.Fatalf("create whose caller left after the store write: %v", err)
	}
	if err := svc.DeleteChild(call(), kept.ID); err != nil {
		t.Fatalf("delete whose caller left after the store write: %v", err)
	}
	hits, err := ai.Candidates(context.Background(), &models.Child{Kind: models.KindMissing}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].ID != created.ID {
		t.Errorf("Bleve holds %v; want only the created record %s", hits, created.ID)
	}
}
