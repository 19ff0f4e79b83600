package engine_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// countingAttrs counts attribute retrievals.
type countingAttrs struct {
	*index.AttributeIndex
	calls atomic.Int64
}

func (a *countingAttrs) Candidates(ctx context.Context, q *models.Child, limit int) ([]models.AttributeHit, error) {
	a.calls.Add(1)
	return a.AttributeIndex.Candidates(ctx, q, limit)
}

// A photo search with nothing else to rank by leaves attribute retrieval
// out (its hits would be arbitrary, and cost a walk over the gallery);
// with a name, or without a photo, retrieval runs.
func TestSearchRetrievesAttributesOnlyWhenTheyRank(t *testing.T) {
	ctx := context.Background()
	st, ai := openStores(t)
	ca := &countingAttrs{AttributeIndex: ai}
	svc := newTestService(t, st, ca, index.NewVectorIndex())
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

// recordingFaces keeps the hits of the last face search.
type recordingFaces struct {
	*index.VectorIndex
	last []models.FaceHit
}

func (f *recordingFaces) Search(ctx context.Context, q models.FaceQuery, kind models.Kind, k int) ([]models.FaceHit, error) {
	hits, err := f.VectorIndex.Search(ctx, q, kind, k)
	f.last = hits
	return hits, err
}

// A female query's face pool holds no male child, so that male faces
// nearer than hers cannot push the true female out of it: here the 59
// nearest found children are male and she is 60th, beyond the pool of 50
// that a search for 10 asks for; the pool is filled with the compatible
// children instead and she is found.
func TestSearchPoolHoldsOnlyCompatibleSexes(t *testing.T) {
	ctx := context.Background()
	faces := &recordingFaces{VectorIndex: index.NewVectorIndex()}
	svc, _ := faceService(t, faces)
	var face models.Descriptor
	face[0] = 0.5
	w := &world{rng: rand.New(rand.NewPCG(3, 4))} // for jitter: face moved by exactly r
	var gallery []models.Child
	add := func(sex models.Sex, r float64) {
		c := importedChild(models.KindFound, "Anita", fmt.Sprintf("CCI-%d", len(gallery)), w.jitter(face, r))
		c.Sex = sex
		gallery = append(gallery, c)
	}
	for i := range 59 {
		add(models.SexMale, 0.20+0.002*float64(i))
	}
	add(models.SexFemale, 0.33) // the true female: 60th nearest
	for range 5 {
		add(models.SexUnknown, 0.5)
		add(models.SexFemale, 0.6)
	}
	if err := svc.Import(ctx, gallery); err != nil {
		t.Fatal(err)
	}
	sexOf := map[string]models.Sex{}
	for _, c := range gallery {
		sexOf[c.ID] = c.Sex
	}
	truth := gallery[59].ID

	// A photo and sex only: no attribute retrieval, the face pool is all.
	q := models.Child{Kind: models.KindMissing, Sex: models.SexFemale, ObservedOn: "2024-05-01"}
	cands, err := svc.Search(ctx, &q, [][]byte{descriptorPhoto(face)}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) == 0 || cands[0].ID != truth {
		t.Errorf("candidates %+v, want the true female %s first", cands, truth)
	}
	if len(faces.last) != 11 {
		t.Errorf("face pool of %d children, want all 11 of a compatible sex", len(faces.last))
	}
	for _, h := range faces.last {
		if sexOf[h.ChildID] == models.SexMale {
			t.Errorf("face pool holds male child %s", h.ChildID)
			break
		}
	}
	// A query of unknown sex still sees the male faces first.
	q = models.Child{Kind: models.KindMissing, ObservedOn: "2024-05-01"}
	if _, err := svc.Search(ctx, &q, [][]byte{descriptorPhoto(face)}, 10); err != nil {
		t.Fatal(err)
	}
	if len(faces.last) != 50 || sexOf[faces.last[0].ChildID] != models.SexMale {
		t.Errorf("unknown-sex pool: %d children, nearest %s; want 50, nearest male", len(faces.last), sexOf[faces.last[0].ChildID])
	}
}

// Candidates of equal score are ordered by how alike their names are
// written to the query's (names.Closeness), not by id: whichever ids the
// records get, "रामासामी स" comes before "रामसामी सु" for "Ramasamy S"
// (the same key and initial, so the same score).
func TestSearchOrdersEqualScoresByCloseness(t *testing.T) {
	ctx := context.Background()
	st, ai := openStores(t)
	svc := newTestService(t, st, ai, index.NewVectorIndex())
	for range 6 { // several imports: ids fall either way round
		gallery := []models.Child{{Kind: models.KindFound, Names: []string{"रामसामी सु"}}, {Kind: models.KindFound, Names: []string{"रामासामी स"}}}
		if err := svc.Import(ctx, gallery); err != nil {
			t.Fatal(err)
		}
		q := models.Child{Kind: models.KindMissing, Names: []string{"Ramasamy S"}}
		cands, err := svc.Search(ctx, &q, nil, 10)
		if err != nil {
			t.Fatal(err)
		}
		rank := map[string]int{}
		for i, c := range cands {
			rank[c.ID] = i + 1
		}
		if len(cands) != 2 || cands[0].Score != cands[1].Score {
			t.Fatalf("candidates %+v: want two of equal score", cands)
		}
		if close, far := rank[gallery[1].ID], rank[gallery[0].ID]; close != 1 || far != 2 {
			t.Fatalf("रामासामी स at %d, रामसामी सु at %d: want the one written alike first", close, far)
		}
		for _, c := range gallery {
			if err := svc.DeleteChild(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
}
