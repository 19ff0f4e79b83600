package engine

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// BulkWriter is what a bulk import writes through: the Service (whose
// AddPhoto counts as interactive work, so a running job gives way).
type BulkWriter interface {
	Import(ctx context.Context, cs []models.Child) error
	CreateChild(ctx context.Context, c *models.Child) (*models.Child, bool, error)
	UpdateChild(ctx context.Context, id string, c *models.Child) (*models.Child, error)
	AddPhoto(ctx context.Context, childID string, data []byte) (*models.Photo, error)
	ListChildren(ctx context.Context, f models.ChildFilter) ([]models.Child, string, error)
}

// Importer loads batches of records with their photos, the one way both
// the API (POST /v1/import) and `trackmatch import --data` do it. Records
// are matched to stored ones by (kind, external_ref): a new one is stored
// with the others of its batch by Service.Import, a stored one is left
// alone when the fields sent are those stored and replaced otherwise.
// Photos go to the face workers Workers at a time, through AddPhoto, which
// stores the same bytes only once per record. Sending a batch again, after
// a crash or a timeout, therefore stores nothing twice.
type Importer struct {
	w       BulkWriter
	workers int
	now     func() time.Time
}

// NewImporter returns an Importer writing through w, analysing up to
// workers photos at once (0: one per core, as the face workers are).
func NewImporter(w BulkWriter, workers int) *Importer {
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	return &Importer{w: w, workers: workers, now: time.Now}
}

// ImportRecords imports one batch and returns one result per record, in
// order. A record that is invalid, lacks external_ref or shares its
// (kind, external_ref) with another of the same batch is refused alone;
// the others go on. More than models.MaxImportBatch records is ETOOLARGE
// for the whole batch, with nothing stored.
func (im *Importer) ImportRecords(ctx context.Context, recs []models.ImportRecord) ([]models.ImportResult, error) {
	if len(recs) > models.MaxImportBatch {
		return nil, models.Errorf(models.ETOOLARGE, "a batch holds at most %d records, got %d", models.MaxImportBatch, len(recs))
	}
	res := make([]models.ImportResult, len(recs))
	children := make([]*models.Child, len(recs))
	now := im.now()
	for i := range recs {
		r := &recs[i]
		res[i] = models.ImportResult{Index: i, Kind: r.Kind, ExternalRef: r.ExternalRef}
		if err := checkImportRecord(r); err != nil {
			refuse(&res[i], err)
			continue
		}
		c := r.Child()
		if err := c.Validate(now); err != nil {
			refuse(&res[i], err)
			continue
		}
		c.Normalize()
		children[i] = c
	}
	refuseDuplicates(res, children)

	var fresh []int // indexes of records not stored yet
	for i, c := range children {
		if c == nil {
			continue
		}
		got, _, err := im.w.ListChildren(ctx, models.ChildFilter{Kind: c.Kind, ExternalRef: c.ExternalRef, Limit: 1})
		switch {
		case err != nil:
			refuse(&res[i], fmt.Errorf("look up external ref: %w", err))
		case len(got) == 0:
			fresh = append(fresh, i)
		default:
			im.reconcile(ctx, &res[i], &got[0], c, recs[i].Status == "")
		}
	}
	im.create(ctx, res, children, fresh)
	im.addPhotos(ctx, res, recs)
	return res, nil
}

// checkImportRecord refuses what an import needs beyond a valid record:
// an external_ref, and photos that are there and not too many.
func checkImportRecord(r *models.ImportRecord) error {
	var fe []models.FieldError
	if strings.TrimSpace(r.ExternalRef) == "" {
		fe = append(fe, models.FieldError{Field: "external_ref", Message: "is required for an import: it is what makes sending a record again safe"})
	}
	if len(r.Photos) > models.MaxImportPhotos {
		fe = append(fe, models.FieldError{Field: "photos", Message: fmt.Sprintf("at most %d photos a record, got %d", models.MaxImportPhotos, len(r.Photos))})
	}
	for j, p := range r.Photos {
		if len(p.Data) == 0 {
			fe = append(fe, models.FieldError{Field: fmt.Sprintf("photos[%d].data", j), Message: "is empty"})
		}
	}
	if fe != nil {
		return &models.Error{Code: models.EINVALID, Message: "the record cannot be imported", Fields: fe}
	}
	return nil
}

// refuseDuplicates refuses every record whose (kind, external_ref) is
// another's in the same batch: which of them is right is for the portal to
// say, so none is stored.
func refuseDuplicates(res []models.ImportResult, children []*models.Child) {
	at := map[[2]string][]int{}
	for i, c := range children {
		if c != nil {
			k := [2]string{string(c.Kind), c.ExternalRef}
			at[k] = append(at[k], i)
		}
	}
	for _, idx := range at {
		if len(idx) < 2 {
			continue
		}
		for _, i := range idx {
			others := make([]string, 0, len(idx)-1)
			for _, j := range idx {
				if j != i {
					others = append(others, fmt.Sprint(j))
				}
			}
			refuse(&res[i], &models.Error{Code: models.ECONFLICT, Message: "the same kind and external_ref appear more than once in this batch",
				Fields: []models.FieldError{{Field: "external_ref", Message: "also at index " + strings.Join(others, ", ") + " of this batch; none of them was imported"}}})
			children[i] = nil
		}
	}
}

// reconcile compares a record sent with the one stored under its ref:
// unchanged when the editable fields are the same, else replaced. A record
// sent without a status keeps the stored one (an import does not reopen a
// matched case).
func (im *Importer) reconcile(ctx context.Context, r *models.ImportResult, stored, sent *models.Child, keepStatus bool) {
	r.ID = stored.ID
	if keepStatus {
		sent.Status = stored.Status
	}
	if sameFields(stored, sent) {
		r.Status = models.ImportUnchanged
		return
	}
	sent.ID = stored.ID
	if _, err := im.w.UpdateChild(ctx, stored.ID, sent); err != nil {
		refuse(r, fmt.Errorf("update %s: %w", stored.ID, err))
		r.ID = stored.ID // the record is there; only its update was refused
		return
	}
	r.Status = models.ImportUpdated
}

// sameFields reports whether the editable fields of sent are those of
// stored (both normalized).
func sameFields(stored, sent *models.Child) bool {
	x := *sent
	x.ID, x.CreatedAt, x.UpdatedAt, x.Photos = stored.ID, stored.CreatedAt, stored.UpdatedAt, stored.Photos
	a, err1 := json.Marshal(&x)
	b, err2 := json.Marshal(stored)
	return err1 == nil && err2 == nil && bytes.Equal(a, b)
}

// create stores the batch's new records together with Service.Import. If
// that fails (another client created one of the refs meanwhile, say),
// each is created alone instead, which is idempotent on its ref.
func (im *Importer) create(ctx context.Context, res []models.ImportResult, children []*models.Child, fresh []int) {
	if len(fresh) == 0 {
		return
	}
	batch := make([]models.Child, len(fresh))
	for k, i := range fresh {
		batch[k] = *children[i]
	}
	if err := im.w.Import(ctx, batch); err == nil {
		for k, i := range fresh {
			res[i].Status, res[i].ID = models.ImportCreated, batch[k].ID
		}
		return
	}
	for _, i := range fresh {
		c := *children[i]
		got, created, err := im.w.CreateChild(ctx, &c)
		switch {
		case err != nil:
			refuse(&res[i], err)
		case created:
			res[i].Status, res[i].ID = models.ImportCreated, got.ID
		default:
			im.reconcile(ctx, &res[i], got, children[i], false)
		}
	}
}

// addPhotos analyses and stores the photos of every record not refused,
// workers at a time.
func (im *Importer) addPhotos(ctx context.Context, res []models.ImportResult, recs []models.ImportRecord) {
	type job struct{ rec, photo int }
	jobs := make(chan job)
	var wg sync.WaitGroup
	for range im.workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				pr := &res[j.rec].Photos[j.photo]
				p, err := im.w.AddPhoto(ctx, res[j.rec].ID, recs[j.rec].Photos[j.photo].Data)
				if err != nil {
					pr.Status, pr.Error = models.ImportRefused, photoError(err, j.photo)
					continue
				}
				pr.Status, pr.PhotoID, pr.Faces = models.ImportCreated, p.ID, len(p.Faces)
				if p.Existing {
					pr.Status = models.ImportUnchanged
				}
			}
		}()
	}
	for i := range res {
		if res[i].Status == models.ImportRefused || len(recs[i].Photos) == 0 {
			continue
		}
		res[i].Photos = make([]models.ImportPhotoResult, len(recs[i].Photos))
		for j, p := range recs[i].Photos {
			res[i].Photos[j] = models.ImportPhotoResult{Index: j, Name: p.Name}
		}
	}
	for i := range res {
		for j := range res[i].Photos {
			jobs <- job{i, j}
		}
	}
	close(jobs)
	wg.Wait()
}

// refuse marks r refused with err as the client may see it: a domain error
// as it is, anything else as internal (its text may carry data).
func refuse(r *models.ImportResult, err error) {
	r.Status, r.ID = models.ImportRefused, ""
	r.Error = clientError(err)
}

// photoError is a photo's refusal, naming the photo as the field.
func photoError(err error, j int) *models.Error {
	e := clientError(err)
	if len(e.Fields) == 0 {
		e.Fields = []models.FieldError{{Field: fmt.Sprintf("photos[%d]", j), Message: e.Message}}
	}
	return e
}

// clientError is err as a client may see it.
func clientError(err error) *models.Error {
	return &models.Error{Code: models.ErrorCode(err), Message: models.ErrorMessage(err), Fields: models.ErrorFields(err)}
}
