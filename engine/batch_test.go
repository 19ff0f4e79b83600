package engine_test

// Tests of the re-scoring job on the real store (Badger), attribute index
// (Bleve) and vector index in a temporary folder. Photos go through
// Service.AddPhoto with a stand-in analyzer that reads the descriptor out
// of the "photo" bytes, so records change exactly as an upload changes them.

import (
	"context"
	"encoding/binary"
	"log/slog"
	"math"
	"math/rand/v2"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// descriptorPhoto is a stand-in photo: the descriptor's 128 float32s.
func descriptorPhoto(d models.Descriptor) []byte {
	b := make([]byte, 0, 4*len(d))
	for _, x := range d {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
	}
	return b
}

// descriptorAnalyzer reads a descriptorPhoto back as one detected face.
type descriptorAnalyzer struct{}

func (descriptorAnalyzer) Analyze(_ context.Context, data []byte) (*models.PhotoAnalysis, error) {
	var d models.Descriptor
	if len(data) != 4*len(d) {
		return nil, models.Errorf(models.ECORRUPT, "not a test descriptor")
	}
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return &models.PhotoAnalysis{ContentType: "image/x-descriptor", Width: 100, Height: 100,
		Faces: []models.Face{{Box: [4]int{10, 10, 80, 80}, Descriptor: &d}}, Subject: 0}, nil
}

// gatedStore lets a test hold the job at the n-th missing child it starts
// (MatchesForChild is the first thing the job does for a child) until the
// job's context ends.
type gatedStore struct {
	*index.Store
	after   int64 // children let through; <0 lets all through
	seen    atomic.Int64
	blocked chan struct{} // closed when the gate first holds a child
}

func (g *gatedStore) MatchesForChild(ctx context.Context, id string) ([]models.Match, error) {
	if g.after >= 0 && g.seen.Add(1) > g.after {
		select {
		case <-g.blocked:
		default:
			close(g.blocked)
		}
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return g.Store.MatchesForChild(ctx, id)
}

// world is a service over real indexes with a rescorer.
type world struct {
	t     *testing.T
	store *index.Store
	attrs *index.AttributeIndex
	svc   *engine.Service
	gate  *gatedStore
	r     *engine.Rescorer
	rng   *rand.Rand
	opt   engine.RescoreOptions
}

func newWorld(t *testing.T, opt engine.RescoreOptions) *world {
	t.Helper()
	if opt.SinceMargin == 0 {
		opt.SinceMargin = -1 // records are made a moment before each run
	}
	dir := t.TempDir()
	st, err := index.Open(filepath.Join(dir, "badger"), index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ai, err := index.OpenAttributeIndex(filepath.Join(dir, "bleve"))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{t: t, store: st, attrs: ai, rng: rand.New(rand.NewPCG(1, 2)), opt: opt}
	t.Cleanup(func() {
		w.r.Close()
		ai.Close()
		st.Close()
	})
	params, err := st.PutParams(context.Background(), engine.DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	sc, err := engine.NewScorer(params)
	if err != nil {
		t.Fatal(err)
	}
	w.svc = engine.NewService(engine.ServiceDeps{Store: st, Matches: st, Attrs: ai, Faces: index.NewVectorIndex(),
		Photos: descriptorAnalyzer{}, Names: names.NewFrequencies(), Scorer: sc, NewID: index.NewID,
		Logger: slog.New(slog.DiscardHandler)})
	w.restart(-1)
	return w
}

// restart replaces the rescorer (as a process restart would), with a gate
// holding the job after the given number of children (-1: none).
func (w *world) restart(after int64) {
	if w.r != nil {
		w.r.Close()
	}
	w.gate = &gatedStore{Store: w.store, after: after, blocked: make(chan struct{})}
	opt := w.opt
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	w.r = engine.NewRescorer(w.svc, w.gate, opt)
}

// face returns a person's face: a random direction of length 0.5. Photos
// of one person are within about 0.3 of each other, of two about 0.75.
func (w *world) face() models.Descriptor {
	return w.jitter(models.Descriptor{}, 0.5)
}

func (w *world) jitter(d models.Descriptor, r float64) models.Descriptor {
	var v [models.DescriptorSize]float64
	n := 0.0
	for i := range v {
		v[i] = w.rng.NormFloat64()
		n += v[i] * v[i]
	}
	for i := range d {
		d[i] += float32(v[i] * r / math.Sqrt(n))
	}
	return d
}

// child creates a record with one photo of face.
func (w *world) child(kind models.Kind, name string, sex models.Sex, age int, on string, face models.Descriptor) *models.Child {
	w.t.Helper()
	ctx := context.Background()
	c, _, err := w.svc.CreateChild(ctx, &models.Child{Kind: kind, Names: []string{name}, Sex: sex,
		Age: &models.AgeRange{Min: age, Max: age}, ObservedOn: models.Date(on),
		Place: models.Place{State: "Bihar", District: "Patna"}})
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.svc.AddPhoto(ctx, c.ID, descriptorPhoto(face)); err != nil {
		w.t.Fatal(err)
	}
	return c
}

// population is four true pairs and four children on each side with no
// counterpart: 8 missing and 8 found, half of each sex, every pair within
// face search range. Searches find only children of the same sex (the
// others' sex conflicts), so each child has 4 candidates: 32 pairs.
type population struct {
	missing, found []*models.Child
	faces          map[string]models.Descriptor // person's face by missing id
}

func (w *world) populate() *population {
	p := &population{faces: map[string]models.Descriptor{}}
	given := []string{"Ramesh Kumar", "Sunita Devi", "Anil Yadav", "Pooja Kumari", "Mohan Lal", "Rekha Singh",
		"Deepak Paswan", "Kavita Mishra", "Suresh Mahto", "Anita Rai", "Vikas Thakur", "Geeta Sahni"}
	sexOf := func(i int) models.Sex {
		if i%2 == 0 {
			return models.SexMale
		}
		return models.SexFemale
	}
	for i := range 4 {
		f := w.face()
		m := w.child(models.KindMissing, given[i], sexOf(i), 9, "2023-03-01", w.jitter(f, 0.2))
		p.missing = append(p.missing, m)
		p.faces[m.ID] = f
		p.found = append(p.found, w.child(models.KindFound, given[i], sexOf(i), 9, "2023-06-01", w.jitter(f, 0.2)))
	}
	for i := 4; i < 8; i++ {
		p.missing = append(p.missing, w.child(models.KindMissing, given[i], sexOf(i), 12, "2022-01-01", w.face()))
		p.found = append(p.found, w.child(models.KindFound, given[i+4], sexOf(i), 5, "2024-01-01", w.face()))
	}
	return p
}

// run starts a job and waits for it to end.
func (w *world) run(full bool) *models.Job {
	w.t.Helper()
	ctx := context.Background()
	j, err := w.r.StartRescore(ctx, full)
	if err != nil {
		w.t.Fatal(err)
	}
	j, err = w.r.Wait(ctx, j.ID)
	if err != nil {
		w.t.Fatal(err)
	}
	if j.State != models.JobDone {
		w.t.Fatalf("job %s ended %s: %s", j.ID, j.State, j.Error)
	}
	return j
}

// matches returns every stored match by id.
func (w *world) matches() map[string]models.Match {
	w.t.Helper()
	out := map[string]models.Match{}
	cursor := ""
	for {
		ms, next, err := w.store.ListMatches(context.Background(), models.MatchFilter{Limit: 1000, Cursor: cursor})
		if err != nil {
			w.t.Fatal(err)
		}
		for _, m := range ms {
			out[m.ID] = m
		}
		if next == "" {
			return out
		}
		cursor = next
	}
}

func (w *world) params() models.Params {
	w.t.Helper()
	p, err := w.store.LatestParams(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	return p
}

// TestRescoreFindsTruePairs: a full run stores the four true pairs, and
// nothing else, as new matches with their explanation, version and inputs
// hash; a second run with nothing changed (one decision made) scores
// nothing.
func TestRescoreFindsTruePairs(t *testing.T) {
	w := newWorld(t, engine.RescoreOptions{})
	p := w.populate()
	j := w.run(false)
	s := j.Summary
	t.Logf("full run: %+v", *s)
	last := ""
	for _, m := range p.missing {
		last = max(last, m.ID)
	}
	if !j.Full || j.Processed != 8 || j.Total != 8 || j.Checkpoint != last {
		t.Errorf("job: full=%v processed %d/%d checkpoint %q", j.Full, j.Processed, j.Total, j.Checkpoint)
	}
	if s.PairsScored != 32 || s.PairsSkipped != 0 || s.MatchesNew != 4 || s.MatchesUp != 0 || s.MatchesDown != 0 {
		t.Errorf("summary %+v, want 32 pairs scored (8×4 of the same sex, all within face range) and 4 new", *s)
	}
	ms := w.matches()
	for i := range 4 {
		id := models.MatchID(p.missing[i].ID, p.found[i].ID)
		m, ok := ms[id]
		if !ok {
			t.Errorf("true pair %d not stored", i)
			continue
		}
		if m.Status != models.MatchNew || m.Probability < engine.DefaultRescoreThreshold || m.ParamsVersion != 1 ||
			len(m.InputsHash) != 32 || len(m.Explanation) != 17 { // 8 attribute fields, 8 of family and home, the face
			t.Errorf("pair %d: status %s p=%.3f v%d hash %q, %d contributions", i, m.Status, m.Probability,
				m.ParamsVersion, m.InputsHash, len(m.Explanation))
		}
	}
	if len(ms) != 4 {
		t.Errorf("%d matches stored, want the 4 true pairs", len(ms))
	}
	// One decision is too few to re-estimate the parameters (20 by default).
	if _, err := w.svc.DecideMatch(context.Background(), models.MatchID(p.missing[0].ID, p.found[0].ID),
		models.Decision{Decision: models.MatchConfirmed, By: "k"}); err != nil {
		t.Fatal(err)
	}
	j = w.run(false)
	if j.Full || j.Summary.PairsScored != 0 || j.Summary.PairsSkipped != 4 || j.Summary.MatchesNew != 0 || w.params().Version != 1 {
		t.Errorf("second run: full=%v %+v at v%d, want incremental at v1 with nothing scored and the 4 matches skipped",
			j.Full, *j.Summary, w.params().Version)
	}
}

// TestRescoreIncrementalScoresChangedPairs: a new photo of a found child
// brings back exactly its pairs (the search run from the found side: the
// 4 missing children of its sex), an edit of a missing child exactly its
// pairs (the 4 found children of its sex); the other stored matches are
// skipped, and untouched.
func TestRescoreIncrementalScoresChangedPairs(t *testing.T) {
	w := newWorld(t, engine.RescoreOptions{})
	p := w.populate()
	w.run(false)
	before := w.matches()
	ctx := context.Background()

	f := p.found[1]
	if _, err := w.svc.AddPhoto(ctx, f.ID, descriptorPhoto(w.jitter(p.faces[p.missing[1].ID], 0.2))); err != nil {
		t.Fatal(err)
	}
	j := w.run(false)
	t.Logf("after a photo: %+v", *j.Summary)
	if j.Full || j.Summary.PairsScored != 4 || j.Summary.PairsSkipped != 3 {
		t.Errorf("after a new photo of one found child: full=%v %+v, want 4 pairs scored and 3 skipped", j.Full, *j.Summary)
	}
	after := w.matches()
	for id, m := range after {
		changed := m.FoundID == f.ID
		if changed == (m.InputsHash == before[id].InputsHash) || changed == m.UpdatedAt.Equal(before[id].UpdatedAt) {
			t.Errorf("match %s: hash or update time changed=%v, want %v", id, m.InputsHash != before[id].InputsHash, changed)
		}
	}

	m := *p.missing[2]
	m.Names = append(m.Names, "Munna")
	if _, err := w.svc.UpdateChild(ctx, m.ID, &m); err != nil {
		t.Fatal(err)
	}
	// Skipped: every stored match but the edited child's own.
	stored, own := w.matches(), 0
	for _, sm := range stored {
		if sm.MissingID == m.ID {
			own++
		}
	}
	j = w.run(false)
	if j.Full || j.Summary.PairsScored != 4 || j.Summary.PairsSkipped != len(stored)-own {
		t.Errorf("after an edit of one missing child: %+v, want 4 pairs scored and %d skipped", *j.Summary, len(stored)-own)
	}
	// A forced full run scores everything again.
	if j := w.run(true); j.Summary.PairsScored != 32 || j.Summary.PairsSkipped != 0 {
		t.Errorf("full run: %+v", *j.Summary)
	}
}

// TestRescoreKeepsDecisions: decisions made between runs (one while a job
// is held mid-run) survive every later run, confirmed records stay
// matched, the parameters are re-estimated from the decisions at the next
// start (a new version the matches then carry), and a decided match that
// falls below the threshold keeps its decision while an undecided one is
// kept with its lower probability and counted down.
func TestRescoreKeepsDecisions(t *testing.T) {
	w := newWorld(t, engine.RescoreOptions{CheckpointEvery: 1, MinNewDecisions: 1})
	p := w.populate()
	w.run(false)
	ctx := context.Background()
	id := func(i int) string { return models.MatchID(p.missing[i].ID, p.found[i].ID) }
	if _, err := w.svc.DecideMatch(ctx, id(0), models.Decision{Decision: models.MatchConfirmed, By: "k1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.svc.DecideMatch(ctx, id(1), models.Decision{Decision: models.MatchRejected, By: "k1", Note: "different mother"}); err != nil {
		t.Fatal(err)
	}

	// A full run held after 3 children; pair 2 is decided while it waits,
	// before or after the job scored it.
	w.restart(3)
	j, err := w.r.StartRescore(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	<-w.gate.blocked
	if _, err := w.svc.DecideMatch(ctx, id(2), models.Decision{Decision: models.MatchConfirmed, By: "k2"}); err != nil {
		t.Fatal(err)
	}
	w.restart(-1) // stops the held job at its checkpoint
	if _, err := w.r.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if j, err = w.r.Wait(ctx, j.ID); err != nil || j.State != models.JobDone {
		t.Fatalf("resumed job: %v %+v", err, j)
	}
	if v := w.params(); v.Version != 2 || v.Source != engine.SourceDecisions || w.svc.Scorer().Version() != 2 {
		t.Errorf("params after decisions: v%d %s, service scores with v%d; want v2 from decisions",
			v.Version, v.Source, w.svc.Scorer().Version())
	}
	ms := w.matches()
	for i, want := range []models.MatchStatus{models.MatchConfirmed, models.MatchRejected, models.MatchConfirmed, models.MatchNew} {
		m := ms[id(i)]
		if m.Status != want || (want != models.MatchNew) != (m.Decision != nil) || m.ParamsVersion != 2 {
			t.Errorf("pair %d: status %s decision %v v%d, want %s at v2", i, m.Status, m.Decision, m.ParamsVersion, want)
		}
	}
	if ms[id(1)].Decision == nil || ms[id(1)].Decision.Note != "different mother" {
		t.Errorf("rejection lost its note: %+v", ms[id(1)].Decision)
	}
	for _, c := range []*models.Child{p.missing[0], p.found[0], p.missing[2], p.found[2]} {
		got, err := w.svc.GetChild(ctx, c.ID)
		if err != nil || got.Status != models.StatusMatched {
			t.Errorf("record of a confirmed pair: status %s (%v), want matched", got.Status, err)
		}
	}

	// Sex recorded wrongly on two found children: their pairs are blocked
	// and fall to probability 0. The rejected one keeps its decision; the
	// undecided one stays new, kept, and counts as down.
	for _, i := range []int{1, 3} {
		c, _ := w.svc.GetChild(ctx, p.found[i].ID)
		c.Sex = map[models.Sex]models.Sex{models.SexMale: models.SexFemale, models.SexFemale: models.SexMale}[c.Sex]
		if _, err := w.svc.UpdateChild(ctx, c.ID, c); err != nil {
			t.Fatal(err)
		}
	}
	j = w.run(false) // full: pair 2's decision is newer than v2, so v3
	if j.Summary.MatchesDown != 2 || j.Summary.MatchesNew != 0 || w.params().Version != 3 {
		t.Errorf("after two conflicts: %+v at v%d, want 2 down at v3", *j.Summary, w.params().Version)
	}
	ms = w.matches()
	if m := ms[id(1)]; m.Probability != 0 || m.Status != models.MatchRejected || m.Decision == nil {
		t.Errorf("rejected pair now blocked: p=%v status %s", m.Probability, m.Status)
	}
	if m := ms[id(3)]; m.Probability != 0 || m.Status != models.MatchNew || m.Decision != nil {
		t.Errorf("undecided pair now blocked: p=%v status %s, want kept at 0 and new", m.Probability, m.Status)
	}
	// Fixing the record brings the undecided pair back up.
	c, _ := w.svc.GetChild(ctx, p.found[3].ID)
	c.Sex = p.missing[3].Sex
	if _, err := w.svc.UpdateChild(ctx, c.ID, c); err != nil {
		t.Fatal(err)
	}
	if j := w.run(false); j.Summary.MatchesUp != 1 {
		t.Errorf("after the fix: %+v, want 1 up", *j.Summary)
	}
}

// TestRescoreResumesFromCheckpoint: a job stopped mid-run (as at shutdown)
// stays running with its checkpoint; the next Resume continues after it,
// so the whole job scores each pair once.
func TestRescoreResumesFromCheckpoint(t *testing.T) {
	// One worker: with two, a slow first child (its queued pairs' rivals
	// are searched for) can hold every result back when the gate closes.
	w := newWorld(t, engine.RescoreOptions{CheckpointEvery: 2, Workers: 1})
	w.populate()
	ctx := context.Background()
	w.restart(5)
	j, err := w.r.StartRescore(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	<-w.gate.blocked
	if _, err := w.r.StartRescore(ctx, false); models.ErrorCode(err) != models.ECONFLICT {
		t.Errorf("second job while one runs: %v, want conflict", err)
	}
	w.r.Close()
	stopped, err := w.store.GetJob(ctx, j.ID)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped: state %s processed %d/%d checkpoint %s summary %+v", stopped.State, stopped.Processed,
		stopped.Total, stopped.Checkpoint, *stopped.Summary)
	if stopped.State != models.JobRunning || stopped.Processed == 0 || stopped.Processed >= 8 ||
		stopped.Summary.PairsScored != 4*stopped.Processed {
		t.Fatalf("stopped job: %+v", stopped)
	}
	written := w.matches()
	w.restart(-1)
	if r, err := w.r.Resume(ctx); err != nil || r == nil || r.ID != j.ID {
		t.Fatalf("resume: %v %v", r, err)
	}
	j, err = w.r.Wait(ctx, j.ID)
	if err != nil || j.State != models.JobDone || j.Processed != 8 {
		t.Fatalf("resumed job: %v %+v", err, j)
	}
	if j.Summary.PairsScored != 32 || j.Summary.MatchesNew != 4 {
		t.Errorf("resumed job's summary %+v, want each of the 32 pairs scored once and 4 new", *j.Summary)
	}
	final := w.matches()
	for id := range written {
		if _, ok := final[id]; !ok {
			t.Errorf("match %s written before the stop is gone", id)
		}
	}
	if len(final) != 4 {
		t.Errorf("%d matches, want 4", len(final))
	}
}

// TestRescoreCancel: a canceled job ends canceled, keeps what it wrote, and
// a new job can start; canceling a done job is a conflict.
func TestRescoreCancel(t *testing.T) {
	w := newWorld(t, engine.RescoreOptions{CheckpointEvery: 1})
	w.populate()
	ctx := context.Background()
	w.restart(4)
	j, err := w.r.StartRescore(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	<-w.gate.blocked
	j, err = w.r.CancelJob(ctx, j.ID)
	if err != nil || j.State != models.JobCanceled || j.FinishedAt == nil || j.Processed != 4 {
		t.Fatalf("cancel: %v %+v", err, j)
	}
	if again, err := w.r.CancelJob(ctx, j.ID); err != nil || again.State != models.JobCanceled {
		t.Errorf("cancel again: %v %v", again, err)
	}
	w.restart(-1)
	done := w.run(false)
	if !done.Full {
		t.Errorf("a canceled run is no baseline: the next run should be full")
	}
	if _, err := w.r.CancelJob(ctx, done.ID); models.ErrorCode(err) != models.ECONFLICT {
		t.Errorf("cancel a done job: %v, want conflict", err)
	}
	if _, err := w.r.GetJob(ctx, "nosuchjob"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("unknown job: %v", err)
	}
}

// TestRescoreEMDegenerateKeepsParams: EM on a sample with too few matches
// to identify them fails as degenerate, and the job goes on with the
// parameters it had.
func TestRescoreEMDegenerateKeepsParams(t *testing.T) {
	w := newWorld(t, engine.RescoreOptions{EM: true})
	w.populate()
	j := w.run(false)
	if v := w.params().Version; v != 1 || w.svc.Scorer().Version() != 1 || j.Summary.MatchesNew != 4 {
		t.Errorf("after EM on 8 records: params v%d, scorer v%d, %+v; want v1 kept", v, w.svc.Scorer().Version(), *j.Summary)
	}
}

// TestInputsHash: the hash moves with either record's update time, photos
// and the parameters version, and not with a record's case status.
func TestInputsHash(t *testing.T) {
	at := time.Date(2025, 5, 1, 0, 0, 0, 0, time.UTC)
	m := &models.Child{ID: "m1", Kind: models.KindMissing, UpdatedAt: at}
	f := &models.Child{ID: "f1", Kind: models.KindFound, UpdatedAt: at, Photos: []models.Photo{{ID: "p1", SHA256: "aa"}}}
	base := engine.InputsHash(m, f, 1)
	m2 := *m
	m2.Status = models.StatusMatched
	if engine.InputsHash(&m2, f, 1) != base {
		t.Error("status changed the hash")
	}
	m2.UpdatedAt = at.Add(time.Nanosecond)
	f2 := *f
	f2.Photos = append([]models.Photo{}, f.Photos...)
	f2.Photos[0].Subject = 1
	for name, h := range map[string]string{
		"version": engine.InputsHash(m, f, 2), "updated": engine.InputsHash(&m2, f, 1),
		"subject": engine.InputsHash(m, &f2, 1), "swapped": engine.InputsHash(f, m, 1),
	} {
		if h == base {
			t.Errorf("%s: same hash", name)
		}
	}
}
