package engine_test

import (
	"context"
	"log/slog"
	"path/filepath"
	"slices"
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
	svc := engine.NewService(engine.ServiceDeps{Store: cs, Matches: st, Attrs: ai, Faces: index.NewVectorIndex(),
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

// faceService is a service over a real store and attribute index in a
// temporary folder (openStores), with the given face index.
func faceService(t *testing.T, faces engine.FaceIndex) (*engine.Service, *index.Store) {
	t.Helper()
	st, ai := openStores(t)
	return newTestService(t, st, ai, faces), st
}

// openStores opens a real store and attribute index in a temporary
// folder, closed when the test ends.
func openStores(t *testing.T) (*index.Store, *index.AttributeIndex) {
	t.Helper()
	dir := t.TempDir()
	st, err := index.Open(filepath.Join(dir, "badger"), index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ai, err := index.OpenAttributeIndex(filepath.Join(dir, "bleve"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ai.Close() })
	return st, ai
}

// newTestService is a service with the default parameters over st, attrs
// and faces, reading descriptorPhoto's photos.
func newTestService(t *testing.T, st *index.Store, attrs engine.AttributeIndex, faces engine.FaceIndex) *engine.Service {
	t.Helper()
	sc, err := engine.NewScorer(engine.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	return engine.NewService(engine.ServiceDeps{Store: st, Matches: st, Attrs: attrs, Faces: faces,
		Photos: descriptorAnalyzer{}, Names: names.NewFrequencies(), Scorer: sc, NewID: index.NewID,
		Logger: slog.New(slog.DiscardHandler)})
}

// The face index files every child under its recorded sex through each
// way in (Import, AddPhoto, LoadIndexes) and follows UpdateChild and
// DeleteChild: a search as one sex finds exactly the children it admits.
func TestFaceIndexFollowsSex(t *testing.T) {
	ctx := context.Background()
	vi := index.NewVectorIndex()
	svc, st := faceService(t, vi)
	var face models.Descriptor
	face[0] = 0.5
	imported := []models.Child{
		importedChild(models.KindFound, "Ravi", "CCI-1", face),
		importedChild(models.KindFound, "Sunita", "CCI-2", face),
	}
	imported[0].Sex = models.SexMale
	if err := svc.Import(ctx, imported); err != nil {
		t.Fatal(err)
	}
	male, female := imported[0].ID, imported[1].ID
	created := map[models.Sex]string{}
	for _, sex := range []models.Sex{models.SexFemale, models.SexUnknown} {
		c, _, err := svc.CreateChild(ctx, &models.Child{Kind: models.KindFound, Names: []string{"Pooja"}, Sex: sex})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.AddPhoto(ctx, c.ID, descriptorPhoto(face)); err != nil {
			t.Fatal(err)
		}
		created[sex] = c.ID
	}
	changed, unknown := created[models.SexFemale], created[models.SexUnknown]
	found := func(vi *index.VectorIndex, sex models.Sex) []string {
		t.Helper()
		hits, err := vi.Search(ctx, models.FaceQuery{Descriptors: []models.Descriptor{face}, Sex: sex}, models.KindFound, 10)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, h := range hits {
			ids = append(ids, h.ChildID)
		}
		slices.Sort(ids)
		return ids
	}
	expect := func(vi *index.VectorIndex, when string, bySex map[models.Sex][]string) {
		t.Helper()
		for sex, want := range bySex {
			slices.Sort(want)
			if got := found(vi, sex); !slices.Equal(got, want) {
				t.Errorf("%s: a %s search found %v, want %v", when, sex, got, want)
			}
		}
	}
	expect(vi, "after import and upload", map[models.Sex][]string{
		models.SexFemale: {female, changed, unknown},
		models.SexMale:   {male, unknown},
	})

	c, err := svc.GetChild(ctx, changed)
	if err != nil {
		t.Fatal(err)
	}
	// The other kind is refused, as a conflict with the stored record,
	// and changes nothing.
	other := *c
	other.Kind, other.Sex = c.Kind.Other(), models.SexMale
	if _, err := svc.UpdateChild(ctx, changed, &other); models.ErrorCode(err) != models.ECONFLICT {
		t.Errorf("kind change: %v, want %s", err, models.ECONFLICT)
	}
	c.Sex = models.SexMale
	if _, err := svc.UpdateChild(ctx, changed, c); err != nil {
		t.Fatal(err)
	}
	if err := svc.DeleteChild(ctx, male); err != nil {
		t.Fatal(err)
	}
	after := map[models.Sex][]string{
		models.SexFemale:  {female, unknown},
		models.SexMale:    {changed, unknown},
		models.SexUnknown: {female, changed, unknown},
	}
	expect(vi, "after a change to male and a delete", after)

	// A restart loads the same index from the store.
	loaded := index.NewVectorIndex()
	again, _ := faceService(t, loaded)
	if _, faces, err := again.LoadIndexes(ctx, st); err != nil || faces != 3 {
		t.Fatalf("LoadIndexes: %d faces, err %v; want 3", faces, err)
	}
	expect(loaded, "after LoadIndexes", after)
}
