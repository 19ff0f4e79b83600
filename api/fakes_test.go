package api

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// The fakes stand in for the engine: in-memory, deterministic, and steered
// by the photo bytes they are sent (a photo starting "NOFACE" has no face).

var fakeTime = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

type fakeChildren struct {
	mu       sync.Mutex
	children map[string]*models.Child
	photos   map[string][]byte
	seq      int
	fail     error // when set, every method returns it

	// blocked, when set, makes AddPhoto and Search with photos announce
	// themselves on entered and wait for release.
	entered chan struct{}
	release chan struct{}

	lastSearch struct {
		query  *models.Child
		photos [][]byte
		limit  int
	}
	lastLimit      int
	lastListFilter models.ChildFilter
}

func newFakeChildren() *fakeChildren {
	return &fakeChildren{children: map[string]*models.Child{}, photos: map[string][]byte{}}
}

func notFound(what string) error { return models.Errorf(models.ENOTFOUND, "no such %s", what) }

func (f *fakeChildren) CreateChild(_ context.Context, c *models.Child) (*models.Child, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, false, f.fail
	}
	if c.ExternalRef != "" {
		for _, have := range f.children {
			if have.Kind == c.Kind && have.ExternalRef == c.ExternalRef {
				cp := *have
				return &cp, false, nil
			}
		}
	}
	f.seq++
	stored := *c
	stored.ID = fmt.Sprintf("child-%d", f.seq)
	stored.Normalize()
	stored.CreatedAt, stored.UpdatedAt = fakeTime, fakeTime
	f.children[stored.ID] = &stored
	cp := stored
	return &cp, true, nil
}

func (f *fakeChildren) GetChild(_ context.Context, id string) (*models.Child, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, f.fail
	}
	c, ok := f.children[id]
	if !ok {
		return nil, notFound("record")
	}
	cp := *c
	return &cp, nil
}

func (f *fakeChildren) UpdateChild(_ context.Context, id string, c *models.Child) (*models.Child, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	old, ok := f.children[id]
	if !ok {
		return nil, notFound("record")
	}
	if c.Kind != old.Kind { // as engine.Service.UpdateChild
		return nil, models.Errorf(models.ECONFLICT, "a record's kind cannot change")
	}
	updated := *c
	updated.ID, updated.Photos, updated.CreatedAt, updated.UpdatedAt = id, old.Photos, old.CreatedAt, fakeTime.Add(time.Hour)
	updated.Normalize()
	f.children[id] = &updated
	cp := updated
	return &cp, nil
}

func (f *fakeChildren) DeleteChild(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.children[id]; !ok {
		return notFound("record")
	}
	delete(f.children, id)
	return nil
}

// wait blocks while the fake is set to block, for the capacity tests.
func (f *fakeChildren) wait(ctx context.Context) error {
	if f.entered == nil {
		return nil
	}
	f.entered <- struct{}{}
	select {
	case <-f.release:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fakeChildren) AddPhoto(ctx context.Context, childID string, data []byte) (*models.Photo, error) {
	switch {
	case bytes.HasPrefix(data, []byte("NOFACE")):
		return nil, models.Errorf(models.ENOFACE, "no face found in the photo")
	case bytes.HasPrefix(data, []byte("CORRUPT")):
		return nil, models.Errorf(models.ECORRUPT, "the image cannot be decoded")
	case bytes.HasPrefix(data, []byte("NOTIMAGE")):
		return nil, models.Errorf(models.EUNSUPPORTED, "not an image type trackmatch reads")
	case bytes.HasPrefix(data, []byte("HUGE")):
		return nil, models.Errorf(models.ETOOLARGE, "the image is over 12000 pixels wide")
	case bytes.HasPrefix(data, []byte("PANIC")):
		panic("fake engine exploded")
	case bytes.HasPrefix(data, []byte("BUG")):
		return nil, errors.New("fake engine bug: index out of range")
	}
	if err := f.wait(ctx); err != nil {
		return nil, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.children[childID]
	if !ok {
		return nil, notFound("record")
	}
	for _, p := range c.Photos {
		if bytes.Equal(f.photos[p.ID], data) {
			p.Existing = true
			return &p, nil
		}
	}
	f.seq++
	desc := &models.Descriptor{0.123456, 0.654321}
	p := models.Photo{
		ID: fmt.Sprintf("photo-%d", f.seq), ChildID: childID, ContentType: "image/jpeg",
		Bytes: len(data), Width: 640, Height: 480, CreatedAt: fakeTime,
		Faces: []models.Face{{
			Box:        [4]int{10, 20, 100, 120},
			Landmarks:  []models.Point{{X: 30, Y: 40}, {X: 70, Y: 40}},
			Descriptor: desc,
			Quality:    models.FaceQuality{SizePx: 100, Blur: 250.5, Brightness: 120, Detector: models.DetectorHOG},
		}},
		Subject: 0,
	}
	c.Photos = append(c.Photos, p)
	f.photos[p.ID] = append([]byte(nil), data...)
	return &p, nil
}

func (f *fakeChildren) PhotoBytes(_ context.Context, id string) ([]byte, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	d, ok := f.photos[id]
	if !ok {
		return nil, "", notFound("photo")
	}
	return d, "image/jpeg", nil
}

// fakeName and fakeMark are personal text the fake candidates' details
// quote, which only roles that read records may see.
const (
	fakeName = "Sunita Kumari"
	fakeMark = "mole on left cheek"
)

func fakeCandidates(kind models.Kind, limit int) []models.Candidate {
	cs := []models.Candidate{
		{ID: "found-7", Kind: kind, Probability: 0.93, Score: 11.5, Explanation: []models.Contribution{
			{Field: "face", Level: "3-6y/0.40-0.48", Weight: 8.2, Summary: "face: distance 0.40-0.48, photos 3-6 years apart",
				Detail: "face: distance 0.41 between photos taken 5 years apart"},
			{Field: "name", Level: "phonetic", Weight: 3.1, Summary: "name: same sound, different spelling",
				Detail: "names: '" + fakeName + "' ~ 'Suneeta Devi' (same sound, different spelling)"},
			{Field: "marks", Level: "match", Weight: 2.4, Summary: "marks: a mark agrees in type, body part and side",
				Detail: "marks: '" + fakeMark + "' ~ 'mole left cheek' (both a mole on the left cheek)"},
		}},
		{ID: "found-9", Kind: kind, Probability: 0.2, Score: -1.5}, // no explanation: must still be []
	}
	if limit < len(cs) {
		cs = cs[:limit]
	}
	return cs
}

func (f *fakeChildren) Candidates(_ context.Context, id string, limit int) ([]models.Candidate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	c, ok := f.children[id]
	if !ok {
		return nil, notFound("record")
	}
	f.lastLimit = limit
	return fakeCandidates(c.Kind.Other(), limit), nil
}

func (f *fakeChildren) Search(ctx context.Context, q *models.Child, photos [][]byte, limit int) ([]models.Candidate, error) {
	if len(photos) > 0 {
		if err := f.wait(ctx); err != nil {
			return nil, err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastSearch.query, f.lastSearch.photos, f.lastSearch.limit = q, photos, limit
	return fakeCandidates(q.Kind.Other(), limit), nil
}

type fakeMatches struct {
	mu         sync.Mutex
	matches    map[string]*models.Match
	lastFilter models.MatchFilter

	lastDecisionFilter models.DecisionFilter
}

func newFakeMatches() *fakeMatches {
	m := &models.Match{
		ID: models.MatchID("child-1", "found-7"), MissingID: "child-1", FoundID: "found-7",
		Probability: 0.93, Score: 11.5, Status: models.MatchNew, ParamsVersion: 1,
		Explanation: []models.Contribution{{Field: "face", Weight: 8.2, Detail: "faces 0.41 apart"}},
		CreatedAt:   fakeTime, UpdatedAt: fakeTime,
	}
	return &fakeMatches{matches: map[string]*models.Match{m.ID: m}}
}

func (f *fakeMatches) ListMatches(_ context.Context, filter models.MatchFilter) ([]models.Match, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lastFilter = filter
	var out []models.Match
	for _, m := range f.matches {
		if (filter.Status == "" || m.Status == filter.Status) && m.Probability >= filter.MinProbability {
			out = append(out, *m)
		}
	}
	next := ""
	if filter.Cursor == "" && len(out) > 0 {
		next = "page-2"
	}
	return out, next, nil
}

func (f *fakeMatches) DecideMatch(_ context.Context, id string, d models.Decision) (*models.Match, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m, ok := f.matches[id]
	if !ok {
		return nil, notFound("match")
	}
	if m.Decision != nil {
		return nil, models.Errorf(models.ECONFLICT, "the match is already decided")
	}
	m.Decision, m.Status, m.UpdatedAt = &d, d.Decision, d.At
	cp := *m
	return &cp, nil
}

type fakeJobs struct {
	mu      sync.Mutex
	jobs    map[string]*models.Job
	running bool
}

func newFakeJobs() *fakeJobs { return &fakeJobs{jobs: map[string]*models.Job{}} }

func (f *fakeJobs) StartRescore(_ context.Context, full bool) (*models.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.running {
		return nil, models.Errorf(models.ECONFLICT, "a re-score is already running")
	}
	f.running = true
	id := fmt.Sprintf("job-%d", len(f.jobs)+1)
	started := fakeTime
	j := &models.Job{ID: id, Type: "rescore", Full: full, State: models.JobRunning, Processed: 3, Total: 10, CreatedAt: fakeTime, StartedAt: &started}
	f.jobs[id] = j
	cp := *j
	return &cp, nil
}

func (f *fakeJobs) GetJob(_ context.Context, id string) (*models.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	if !ok {
		return nil, notFound("job")
	}
	cp := *j
	return &cp, nil
}

func (f *fakeJobs) CancelJob(_ context.Context, id string) (*models.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	j, ok := f.jobs[id]
	if !ok {
		return nil, notFound("job")
	}
	if j.State.Finished() {
		return nil, models.Errorf(models.ECONFLICT, "the job has finished")
	}
	done := fakeTime.Add(time.Minute)
	j.State, j.FinishedAt = models.JobCanceled, &done
	j.Summary = &models.JobSummary{DurationSeconds: 60, PairsScored: 3}
	f.running = false
	cp := *j
	return &cp, nil
}

type fakeAudit struct {
	mu      sync.Mutex
	entries []models.AuditEntry
	fail    error
}

func (f *fakeAudit) AppendAudit(_ context.Context, e models.AuditEntry) (models.AuditEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return e, f.fail
	}
	e.ID = fmt.Sprintf("audit-%d", len(f.entries)+1)
	f.entries = append(f.entries, e)
	return e, nil
}

func (f *fakeAudit) ListAudit(_ context.Context, _ time.Time, limit int, cursor string) ([]models.AuditEntry, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := append([]models.AuditEntry(nil), f.entries...)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, "", nil
}

func (f *fakeAudit) all() []models.AuditEntry {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]models.AuditEntry(nil), f.entries...)
}

func (f *fakeChildren) ListChildren(_ context.Context, filter models.ChildFilter) ([]models.Child, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return nil, "", f.fail
	}
	if filter.Cursor == "bogus" {
		return nil, "", models.Errorf(models.EINVALID, "malformed cursor")
	}
	out := []models.Child{}
	for _, c := range f.children {
		if (filter.Kind == "" || c.Kind == filter.Kind) && (filter.ExternalRef == "" || c.ExternalRef == filter.ExternalRef) {
			out = append(out, *c)
		}
	}
	f.lastListFilter = filter
	return out, "", nil
}

func (f *fakeChildren) DeletePhoto(_ context.Context, id string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.photos[id]; !ok {
		return notFound("photo")
	}
	delete(f.photos, id)
	for _, c := range f.children {
		for i, p := range c.Photos {
			if p.ID == id {
				c.Photos = append(c.Photos[:i], c.Photos[i+1:]...)
				break
			}
		}
	}
	return nil
}

func (f *fakeMatches) ListDecisions(_ context.Context, filter models.DecisionFilter) ([]models.DecisionRecord, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if filter.Cursor == "bogus" {
		return nil, "", models.Errorf(models.EINVALID, "malformed cursor")
	}
	f.lastDecisionFilter = filter
	out := []models.DecisionRecord{}
	for _, m := range f.matches {
		if m.Decision != nil {
			out = append(out, models.DecisionRecord{MatchID: m.ID, MissingID: m.MissingID, FoundID: m.FoundID, Decision: *m.Decision})
		}
	}
	return out, "", nil
}

func (f *fakeJobs) ListJobs(_ context.Context, limit int) ([]models.Job, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := []models.Job{}
	for _, j := range f.jobs {
		out = append(out, *j)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}
