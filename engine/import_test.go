package engine_test

import (
	"context"
	"math"
	"testing"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/models"
)

// importedChild is a record with one analysed photo of face, as Import takes.
func importedChild(kind models.Kind, name, ref string, face models.Descriptor) models.Child {
	d := face
	return models.Child{Kind: kind, Names: []string{name}, Sex: models.SexFemale, ExternalRef: ref,
		Age: &models.AgeRange{Min: 9, Max: 10}, ObservedOn: "2024-05-01",
		Place:  models.Place{State: "Bihar", District: "Patna"},
		Photos: []models.Photo{{ContentType: "image/jpeg", Faces: []models.Face{{Descriptor: &d}}, Subject: 0}}}
}

// Imported records are stored with their descriptors, indexed by face and
// attributes, and found as candidates like records created one by one.
func TestImportStoresAndIndexes(t *testing.T) {
	w := newWorld(t, engine.RescoreOptions{})
	ctx := context.Background()
	face := w.face()
	cs := []models.Child{
		importedChild(models.KindMissing, "Sunita Kumari", "FIR-1", face),
		importedChild(models.KindFound, "Sunita", "CCI-1", w.jitter(face, 0.25)),
		importedChild(models.KindFound, "Rekha Devi", "CCI-2", w.face()),
	}
	if err := w.svc.Import(ctx, cs); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		got, err := w.svc.GetChild(ctx, c.ID)
		if err != nil {
			t.Fatalf("imported %s: %v", c.ID, err)
		}
		if len(got.Photos) != 1 || got.Photos[0].SubjectFace() == nil || *got.Photos[0].SubjectFace().Descriptor != *c.Photos[0].Faces[0].Descriptor {
			t.Fatalf("imported %s: photos %+v, want the one descriptor", c.ID, got.Photos)
		}
	}
	cands, err := w.svc.Candidates(ctx, cs[0].ID, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(cands) == 0 || cands[0].ID != cs[1].ID {
		t.Fatalf("candidates of the imported missing child: %+v, want %s first", cands, cs[1].ID)
	}
	// The attribute index has them too: a name-only search finds the found one.
	hits, err := w.svc.Search(ctx, &models.Child{Kind: models.KindMissing, Names: []string{"Rekha Devi"},
		Sex: models.SexFemale, ObservedOn: "2024-05-01"}, nil, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) == 0 || hits[0].ID != cs[2].ID {
		t.Fatalf("name search: %+v, want %s first", hits, cs[2].ID)
	}
}

// A batch with a bad record stores nothing; an external_ref already in use
// is a conflict.
func TestImportRefusesBadRecords(t *testing.T) {
	w := newWorld(t, engine.RescoreOptions{})
	ctx := context.Background()
	bad := models.Descriptor{}
	bad[3] = float32(math.NaN())
	cs := []models.Child{importedChild(models.KindFound, "Asha", "CCI-9", w.face()),
		importedChild(models.KindFound, "Meena", "CCI-10", bad)}
	err := w.svc.Import(ctx, cs)
	if models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("NaN descriptor: %v, want EINVALID", err)
	}
	noFace := importedChild(models.KindFound, "Meena", "CCI-11", w.face())
	noFace.Photos[0].Subject = -1
	if err := w.svc.Import(ctx, []models.Child{noFace}); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("photo without a subject face: %v, want EINVALID", err)
	}
	if n, err := w.store.CountChildren(ctx, ""); err != nil || n != 0 {
		t.Fatalf("after refused imports: %d records (%v), want 0", n, err)
	}
	if err := w.svc.Import(ctx, cs[:1]); err != nil {
		t.Fatal(err)
	}
	again := []models.Child{importedChild(models.KindFound, "Asha Kumari", "CCI-9", w.face())}
	if err := w.svc.Import(ctx, again); models.ErrorCode(err) != models.ECONFLICT {
		t.Fatalf("external_ref in use: %v, want ECONFLICT", err)
	}
}
