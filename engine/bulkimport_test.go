package engine_test

import (
	"context"
	"testing"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/models"
)

func importRec(kind models.Kind, ref, name string, photos ...[]byte) models.ImportRecord {
	r := models.ImportRecord{ChildInput: models.ChildInput{Kind: kind, ExternalRef: ref, Names: []string{name}, Sex: models.SexFemale,
		Age: &models.AgeRange{Min: 9, Max: 10}, ObservedOn: "2024-05-01", Place: models.Place{State: "Bihar"}}}
	for i, p := range photos {
		r.Photos = append(r.Photos, models.ImportPhoto{Data: p, Name: string(rune('a' + i))})
	}
	return r
}

// A batch is stored record by record with per-item results; sending it
// again changes nothing; a changed record is updated; bad records are
// refused alone and lose nothing else.
func TestImporterResultsAndIdempotency(t *testing.T) {
	w := newWorld(t, engine.RescoreOptions{})
	ctx := context.Background()
	im := engine.NewImporter(w.svc, 2)
	face := w.face()
	batch := []models.ImportRecord{
		importRec(models.KindMissing, "FIR-1", "Sunita Kumari", descriptorPhoto(face)),
		importRec(models.KindFound, "CCI-1", "Sunita", descriptorPhoto(w.jitter(face, 0.2)), []byte("not a photo")),
		importRec(models.KindFound, "", "No Ref"),                         // refused: external_ref
		importRec(models.KindFound, "CCI-2", "Twice"),                     // refused: duplicate
		{ChildInput: models.ChildInput{Kind: "lost", ExternalRef: "X-1"}}, // refused: invalid kind
		importRec(models.KindFound, "CCI-2", "Twice again"),               // refused: duplicate
		importRec(models.KindMissing, "CCI-2", "Same ref, other kind"),    // a different key: created
	}
	res, err := im.ImportRecords(ctx, batch)
	if err != nil {
		t.Fatal(err)
	}
	want := []models.ImportStatus{models.ImportCreated, models.ImportCreated, models.ImportRefused, models.ImportRefused,
		models.ImportRefused, models.ImportRefused, models.ImportCreated}
	for i, r := range res {
		if r.Status != want[i] || r.Index != i {
			t.Fatalf("result %d: %+v, want %s", i, r, want[i])
		}
	}
	wantField := map[int]string{2: "external_ref", 3: "external_ref", 4: "kind", 5: "external_ref"}
	wantCode := map[int]string{2: models.EINVALID, 3: models.ECONFLICT, 4: models.EINVALID, 5: models.ECONFLICT}
	for i, f := range wantField {
		e := res[i].Error
		if e == nil || e.Code != wantCode[i] || len(e.Fields) == 0 || e.Fields[0].Field != f {
			t.Errorf("result %d: error %+v, want %s on %s", i, e, wantCode[i], f)
		}
	}
	if p := res[1].Photos; len(p) != 2 || p[0].Status != models.ImportCreated || p[1].Status != models.ImportRefused ||
		p[1].Error.Code != models.ECORRUPT || p[1].Error.Fields[0].Field != "photos[1]" || p[1].Name != "b" {
		t.Fatalf("photos of record 1: %+v", p)
	}
	got, err := w.svc.GetChild(ctx, res[0].ID)
	if err != nil || got.ExternalRef != "FIR-1" || len(got.Photos) != 1 {
		t.Fatalf("stored record 0: %+v, %v", got, err)
	}
	cands, err := w.svc.Candidates(ctx, res[0].ID, 5)
	if err != nil || len(cands) == 0 || cands[0].ID != res[1].ID {
		t.Fatalf("candidates of the imported missing child: %+v, %v; want %s", cands, err, res[1].ID)
	}

	// Again: nothing new. Then one field changed: updated, same id.
	again, err := im.ImportRecords(ctx, batch[:2])
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range again {
		if r.Status != models.ImportUnchanged || r.ID != res[i].ID || r.Photos[0].Status != models.ImportUnchanged || r.Photos[0].PhotoID != res[i].Photos[0].PhotoID {
			t.Fatalf("again %d: %+v, want unchanged with the same ids", i, r)
		}
	}
	changed := batch[0]
	changed.Marks = "mole on the left cheek"
	upd, err := im.ImportRecords(ctx, []models.ImportRecord{changed})
	if err != nil {
		t.Fatal(err)
	}
	if upd[0].Status != models.ImportUpdated || upd[0].ID != res[0].ID {
		t.Fatalf("changed record: %+v, want updated %s", upd[0], res[0].ID)
	}
	if got, _ := w.svc.GetChild(ctx, res[0].ID); got.Marks != changed.Marks || len(got.Photos) != 1 {
		t.Fatalf("after update: %+v", got)
	}
	s := models.Summarize(res)
	if s.Created != 3 || s.Refused != 4 || s.PhotosCreated != 2 || s.PhotosRefused != 1 {
		t.Fatalf("summary %+v", s)
	}
}

// A batch over the limit is refused whole; a record sent again without a
// status keeps the stored one (an import does not reopen a case).
func TestImporterStatusKeptAndTooLarge(t *testing.T) {
	w := newWorld(t, engine.RescoreOptions{})
	ctx := context.Background()
	im := engine.NewImporter(w.svc, 1)
	if _, err := im.ImportRecords(ctx, make([]models.ImportRecord, models.MaxImportBatch+1)); models.ErrorCode(err) != models.ETOOLARGE {
		t.Fatalf("oversized batch: %v, want too_large", err)
	}
	r := importRec(models.KindMissing, "FIR-9", "Asha")
	r.Status = models.StatusClosed
	if res, err := im.ImportRecords(ctx, []models.ImportRecord{r}); err != nil || res[0].Status != models.ImportCreated {
		t.Fatalf("first: %+v %v", res, err)
	}
	r.Status = "" // sent without a status: the stored one stays, nothing changes
	res, err := im.ImportRecords(ctx, []models.ImportRecord{r})
	if err != nil || res[0].Status != models.ImportUnchanged {
		t.Fatalf("without status: %+v %v, want unchanged", res, err)
	}
	if got, _ := w.svc.GetChild(ctx, res[0].ID); got.Status != models.StatusClosed {
		t.Fatalf("status %s, want closed kept", got.Status)
	}
}
