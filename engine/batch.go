package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// The overnight re-score. A Rescorer runs one job at a time: for every
// missing child, in id order, it gathers candidates among the found
// children (face neighbours and attribute candidates, as a search does),
// scores each pair with the current parameters and keeps the pairs at or
// above a probability threshold as matches for review.
//
// Incremental rule. A run is full when asked (models.Job.Full), when there
// is no earlier finished run, or when the parameters changed since the last
// finished run started (a version created after that start, e.g. by this
// run's own re-estimation). Otherwise, with since = the last finished
// run's start less RescoreOptions.SinceMargin, a pair is scored again only
// if one of its records changed (UpdatedAt >= since; UpdatedAt moves on
// every edit and photo upload, and new records count as changed):
//   - a changed missing child is scored against all its candidates and all
//     its stored matches;
//   - for each changed found child the search is run the other way (its
//     candidates among the missing children) and those pairs, with its
//     stored matches, are scored when their missing child comes up;
//   - every other pair keeps its stored score (PairsSkipped counts the
//     stored matches left so).
//
// Probabilities. At its start the job estimates the match rate, the share
// of missing children whose record is among the found ones, from a sample
// of searches (EstimateMatchRate; RateSample), and every probability of
// the run, and of searches after it, uses it. Each missing child's
// candidates are weighed against each other (Scorer.Posterior: at most one
// of them is the child), and a pair bound for the queue also against the
// other missing children its found child could be (ExclusivePosterior).
//
// Review queue. A pair enters when its probability is at or above the
// threshold, or when it is its missing child's best candidate by a clear
// margin (ReviewRule, QueueMargin): with only a photo, a true pair in a
// large gallery rarely reaches a high probability, yet stands out among
// the child's own candidates. Each stored match says why it is in the
// queue (models.Match.Queue, QueueDetail). A pair scored for the first
// time is stored only when it enters, with status new. A stored pair is always updated (score,
// probability, explanation, version, inputs hash); an undecided one stays
// new, a decided one keeps its decision and status, whatever its new score.
// A stored pair that no longer qualifies is kept, with its lower
// probability and no queue reason (MatchesDown; the review queue orders by probability and
// filters by min_probability, so it sinks out of view rather than losing
// its history), and counts as up if it later rises past the threshold
// again. The job never writes child records, so a confirmed match's
// "matched" statuses stay.
//
// Checkpoints. Results are written in order of missing-child id: every
// CheckpointEvery children the matches of the children finished so far are
// written (PutMatches, batched), then the job's checkpoint (the last
// missing id fully processed, processed/total, the summary so far). A
// restart resumes after the checkpoint; a child after it is processed again,
// which only rewrites the same matches.

// JobTypeRescore is models.Job.Type of a re-scoring job.
const JobTypeRescore = "rescore"

// Defaults of RescoreOptions.
const (
	// DefaultRescoreThreshold is the probability from which a pair enters
	// the review queue; probabilities carry the gallery-size prior (one in
	// three missing children is among the found ones). The queue is
	// ordered by probability, so a low threshold costs review at its
	// bottom, while a pair left out is a child nobody looks for. On the
	// synthetic 10k × 100k benchmark, 23% of true pairs score 0.2 or more
	// against 12% at 0.5, with no false pair at 0.2 in a 5% sample of
	// searches (about 80 in all at 0.05).
	DefaultRescoreThreshold = 0.2
	// DefaultQueueMargin is ReviewRule.Margin of the re-scoring job, in
	// bits: on synthetic galleries (benchmarks.TestCalibration, held-apart
	// fold) a 3-bit margin queues 83% of photo-only true pairs against 74%
	// at 6 bits, at 1.1 items per true pair either way.
	DefaultQueueMargin = 3
	// DefaultRateSample is RescoreOptions.RateSample.
	DefaultRateSample = 500
	// DefaultRescorePool is how many candidates each retrieval path (face,
	// attributes) returns per child: twice an interactive search's.
	DefaultRescorePool = 100
	// DefaultCheckpointEvery is how many missing children a checkpoint
	// covers: two synced writes per hundred children.
	DefaultCheckpointEvery = 100
	// DefaultSinceMargin widens the incremental window backwards, so that
	// an edit whose UpdatedAt was stamped just before the last run started
	// but committed after that run read the record is still picked up.
	DefaultSinceMargin = time.Minute
	// DefaultMaxYield bounds a pause for interactive calls, so that the
	// job still moves under a steady stream of them.
	DefaultMaxYield = 250 * time.Millisecond
	// yieldEvery is how many pairs the job scores between two looks at
	// the interactive calls in flight.
	yieldEvery = 16
	// DefaultMinNewDecisions is about the number of pseudo-decisions the
	// estimate is smoothed with (DecisionOptions.PriorStrength), so a new
	// version moves the parameters noticeably.
	DefaultMinNewDecisions = 20
	// DefaultCacheRecords is the found records a run keeps decoded.
	DefaultCacheRecords = 50_000
	// flushMatches writes the buffered matches early when this many wait.
	flushMatches = 1024
)

// JobStore keeps re-scoring jobs and their checkpoints.
type JobStore interface {
	PutJob(ctx context.Context, j models.Job) error
	GetJob(ctx context.Context, id string) (models.Job, error)
	ListJobs(ctx context.Context, limit int) ([]models.Job, error)
}

// ParamsStore keeps every version of the scoring parameters.
type ParamsStore interface {
	LatestParams(ctx context.Context) (models.Params, error)
	GetParams(ctx context.Context, version int) (models.Params, error)
	PutParams(ctx context.Context, p models.Params) (models.Params, error)
}

// BatchStore is what the re-scoring job needs from storage besides the
// Service's stores: records in id order, a record's matches, batched match
// score merges (which keep decisions), jobs and parameters.
type BatchStore interface {
	JobStore
	ParamsStore
	ChildLister
	GetChild(ctx context.Context, id string) (models.Child, error)
	CountChildren(ctx context.Context, kind models.Kind) (int, error)
	MatchesForChild(ctx context.Context, childID string) ([]models.Match, error)
	MergeMatchScores(ctx context.Context, ms []models.Match, dropBelow float64) (removed int, err error)
	ListMatches(ctx context.Context, f models.MatchFilter) ([]models.Match, string, error)
}

// RescoreOptions configure a Rescorer; zero values take the defaults.
type RescoreOptions struct {
	// Threshold is the least probability of a new match (DefaultRescoreThreshold).
	Threshold float64
	// QueueMargin is the margin, in bits, by which a missing child's best
	// candidate must stand above the next to enter the queue whatever its
	// probability (ReviewRule.Margin; DefaultQueueMargin, negative for
	// none).
	QueueMargin float64
	// Review is the rule in effect, from Threshold and QueueMargin (set by
	// the defaults; a caller's value is replaced).
	Review ReviewRule
	// RateSample is how many missing children, sampled evenly, the job
	// searches at its start to estimate the match rate (EstimateMatchRate),
	// which every probability depends on (default 500; negative for none).
	RateSample int
	// Workers score missing children in parallel (default half the cores,
	// at least 1), leaving the rest to interactive searches.
	Workers int
	// Pool is the candidates per retrieval path per child (DefaultRescorePool).
	Pool int
	// CheckpointEvery is the children per checkpoint (DefaultCheckpointEvery).
	CheckpointEvery int
	// CacheRecords bounds the found records a run keeps decoded
	// (DefaultCacheRecords, about 1.5 KB each; negative for none): each
	// is a candidate of many missing children.
	CacheRecords int
	// SinceMargin is DefaultSinceMargin unless set; negative for none.
	SinceMargin time.Duration
	// MaxYield, when set and Priority is nil, gives the job a Priority of
	// its own pausing at most this long (negative for no pausing), which
	// the Service's calls do not reach: for measurements. Zero takes the
	// Service's Priority.
	MaxYield time.Duration
	// Priority is shared with the Service (ServiceDeps.Priority), which
	// counts its interactive calls; nil takes the Service's.
	Priority *Priority
	// NoReestimate turns off re-estimating the parameters from
	// investigators' decisions at the start of a run.
	NoReestimate bool
	// MinNewDecisions is how many decisions newer than the parameters it
	// takes to re-estimate them (DefaultMinNewDecisions): each new version
	// makes the run full, so decisions are taken in batches.
	MinNewDecisions int
	// Decisions tune that re-estimation.
	Decisions DecisionOptions
	// EM also re-estimates m by EM on a sample of candidate pairs at the
	// start of a run (see reestimate); off by default.
	EM bool
	// EMSample is how many missing children EM samples (default 2000).
	EMSample int
	// Logger receives progress and decisions about parameters; never child data.
	Logger *slog.Logger
}

func (o RescoreOptions) withDefaults() RescoreOptions {
	if !(o.Threshold > 0 && o.Threshold <= 1) {
		o.Threshold = DefaultRescoreThreshold
	}
	if o.QueueMargin == 0 {
		o.QueueMargin = DefaultQueueMargin
	}
	o.Review = ReviewRule{Threshold: o.Threshold, Margin: max(o.QueueMargin, 0), MinWeight: 0}
	if o.RateSample == 0 {
		o.RateSample = DefaultRateSample
	}
	if o.Workers <= 0 {
		o.Workers = max(1, runtime.NumCPU()/2)
	}
	if o.Pool <= 0 {
		o.Pool = DefaultRescorePool
	}
	if o.CheckpointEvery <= 0 {
		o.CheckpointEvery = DefaultCheckpointEvery
	}
	if o.CacheRecords == 0 {
		o.CacheRecords = DefaultCacheRecords
	}
	if o.SinceMargin == 0 {
		o.SinceMargin = DefaultSinceMargin
	}
	o.SinceMargin = max(o.SinceMargin, 0)
	if o.MinNewDecisions <= 0 {
		o.MinNewDecisions = DefaultMinNewDecisions
	}
	if o.EMSample <= 0 {
		o.EMSample = 2000
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	return o
}

// Causes of a run's cancellation.
var (
	errJobCanceled = errors.New("job canceled")
	errShutdown    = errors.New("shutting down")
)

// Rescorer runs re-scoring jobs, one at a time, in the background, and
// implements the API's job service. It ranks and scores through the
// Service's exported methods, writes scores with the store's
// MergeMatchScores (so a decision made while it runs is never overwritten)
// and makes way for interactive calls through the Priority it shares with
// the Service. Safe for concurrent use.
type Rescorer struct {
	svc   *Service
	store BatchStore
	opt   RescoreOptions
	log   *slog.Logger

	mu     sync.Mutex
	cur    *activeJob // the job running, nil when idle
	closed bool
	wg     sync.WaitGroup

	priority *Priority // the job pauses for interactive calls
}

// activeJob is the job a Rescorer is running. job is guarded by Rescorer.mu.
type activeJob struct {
	job    models.Job
	cancel context.CancelCauseFunc
	done   chan struct{}
}

// NewRescorer returns a Rescorer scoring with svc and writing to store.
func NewRescorer(svc *Service, store BatchStore, opt RescoreOptions) *Rescorer {
	opt = opt.withDefaults()
	switch {
	case opt.Priority != nil:
	case opt.MaxYield != 0:
		opt.Priority = NewPriority(opt.MaxYield)
	default:
		opt.Priority = svc.Priority()
	}
	return &Rescorer{svc: svc, store: store, opt: opt, log: opt.Logger, priority: opt.Priority}
}

// Options returns the options in effect, defaults filled in.
func (r *Rescorer) Options() RescoreOptions { return r.opt }

// StartRescore starts a job in the background and returns it queued; full
// re-scores every pair, not only changed ones. ECONFLICT while another job
// runs, EUNAVAILABLE after Close.
func (r *Rescorer) StartRescore(ctx context.Context, full bool) (*models.Job, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.canStartLocked(); err != nil {
		return nil, err
	}
	j := models.Job{ID: r.svc.newID(), Type: JobTypeRescore, Full: full, State: models.JobQueued,
		CreatedAt: r.svc.now().UTC()}
	if err := r.store.PutJob(ctx, j); err != nil {
		return nil, fmt.Errorf("store job: %w", err)
	}
	r.startLocked(j)
	return &j, nil
}

func (r *Rescorer) canStartLocked() error {
	if r.closed {
		return models.Errorf(models.EUNAVAILABLE, "shutting down")
	}
	if r.cur != nil {
		return models.Errorf(models.ECONFLICT, "re-scoring job %s is %s; one job runs at a time", r.cur.job.ID, r.cur.job.State)
	}
	return nil
}

// Resume continues the newest unfinished job (queued or running when the
// process stopped, gracefully or not) from its checkpoint, and marks any
// older unfinished one failed. It returns the resumed job, or nil when
// there was none.
func (r *Rescorer) Resume(ctx context.Context) (*models.Job, error) {
	jobs, err := r.store.ListJobs(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	var resume *models.Job
	for i := range jobs {
		j := jobs[i]
		if j.Type != JobTypeRescore || j.State.Finished() {
			continue
		}
		if resume == nil {
			resume = &jobs[i]
			continue
		}
		j.State, j.Error = models.JobFailed, "superseded by job "+resume.ID+" after a restart"
		now := r.svc.now().UTC()
		j.FinishedAt = &now
		if err := r.store.PutJob(ctx, j); err != nil {
			return nil, fmt.Errorf("retire job %s: %w", j.ID, err)
		}
	}
	if resume == nil {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.canStartLocked(); err != nil {
		return nil, err
	}
	r.log.Info("resuming re-scoring job", "job", resume.ID, "state", resume.State,
		"processed", resume.Processed, "total", resume.Total)
	r.startLocked(*resume)
	j := *resume
	return &j, nil
}

func (r *Rescorer) startLocked(j models.Job) {
	ctx, cancel := context.WithCancelCause(context.Background())
	a := &activeJob{job: j, cancel: cancel, done: make(chan struct{})}
	r.cur = a
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		defer close(a.done)
		defer cancel(nil)
		r.run(ctx, a)
		r.mu.Lock()
		r.cur = nil
		r.mu.Unlock()
	}()
}

// Current returns the job running now, or nil.
func (r *Rescorer) Current() *models.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cur == nil {
		return nil
	}
	j := r.cur.job
	return &j
}

// GetJob returns job id: the live state of the running job (processed
// moves between checkpoints), or the stored one. ENOTFOUND when unknown.
func (r *Rescorer) GetJob(ctx context.Context, id string) (*models.Job, error) {
	r.mu.Lock()
	if r.cur != nil && r.cur.job.ID == id {
		j := r.cur.job
		r.mu.Unlock()
		return &j, nil
	}
	r.mu.Unlock()
	j, err := r.store.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	return &j, nil
}

// CancelJob stops job id at its next child, keeps what it wrote, and
// returns it canceled. Canceling a canceled job returns it; a done or
// failed one is ECONFLICT.
func (r *Rescorer) CancelJob(ctx context.Context, id string) (*models.Job, error) {
	r.mu.Lock()
	a := r.cur
	if a != nil && a.job.ID == id {
		r.mu.Unlock()
		a.cancel(errJobCanceled)
		select {
		case <-a.done:
		case <-ctx.Done():
			return nil, models.Errorf(models.ECANCELED, "gave up waiting for job %s to stop", id)
		}
		return r.GetJob(ctx, id)
	}
	defer r.mu.Unlock()
	j, err := r.store.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	switch {
	case j.State == models.JobCanceled:
		return &j, nil
	case j.State.Finished():
		return nil, models.Errorf(models.ECONFLICT, "job %s is %s", id, j.State)
	}
	// Unfinished but not running here (never resumed): cancel it in place.
	now := r.svc.now().UTC()
	j.State, j.FinishedAt = models.JobCanceled, &now
	if err := r.store.PutJob(ctx, j); err != nil {
		return nil, fmt.Errorf("store job: %w", err)
	}
	return &j, nil
}

// Wait blocks until job id is no longer running here (finished, or stopped
// by Close) or ctx ends, and returns it.
func (r *Rescorer) Wait(ctx context.Context, id string) (*models.Job, error) {
	r.mu.Lock()
	a := r.cur
	r.mu.Unlock()
	if a != nil && a.job.ID == id {
		select {
		case <-a.done:
		case <-ctx.Done():
			return nil, models.Errorf(models.ECANCELED, "stopped waiting for job %s", id)
		}
	}
	return r.GetJob(ctx, id)
}

// Close stops the running job at its next child, waits until it has
// written its results and checkpoint, and refuses new jobs. The job stays
// running in the store, so Resume continues it at the next start.
func (r *Rescorer) Close() error {
	r.mu.Lock()
	r.closed = true
	if r.cur != nil {
		r.cur.cancel(errShutdown)
	}
	r.mu.Unlock()
	r.wg.Wait()
	return nil
}

// update applies fn to the running job's state under the lock.
func (r *Rescorer) update(a *activeJob, fn func(j *models.Job)) models.Job {
	r.mu.Lock()
	defer r.mu.Unlock()
	fn(&a.job)
	return a.job
}

// run executes a job to its end and stores how it ended.
func (r *Rescorer) run(ctx context.Context, a *activeJob) {
	err := r.execute(ctx, a)
	cause := context.Cause(ctx)
	store := context.WithoutCancel(ctx)
	now := r.svc.now().UTC()
	switch {
	case err == nil:
		j := r.update(a, func(j *models.Job) { j.State, j.FinishedAt = models.JobDone, &now })
		r.log.Info("re-scoring job done", "job", j.ID, "processed", j.Processed, "pairs_scored", j.Summary.PairsScored,
			"pairs_skipped", j.Summary.PairsSkipped, "new", j.Summary.MatchesNew, "up", j.Summary.MatchesUp,
			"down", j.Summary.MatchesDown, "seconds", j.Summary.DurationSeconds)
	case errors.Is(cause, errShutdown):
		j := r.update(a, func(*models.Job) {})
		r.log.Info("re-scoring job stopped for shutdown; it resumes at the next start", "job", j.ID,
			"processed", j.Processed, "total", j.Total, "checkpoint", j.Checkpoint)
		if err := r.store.PutJob(store, j); err != nil {
			r.log.Error("store job at shutdown", "job", j.ID, "err", err)
		}
		return
	case errors.Is(cause, errJobCanceled):
		j := r.update(a, func(j *models.Job) { j.State, j.FinishedAt = models.JobCanceled, &now })
		r.log.Info("re-scoring job canceled", "job", j.ID, "processed", j.Processed, "total", j.Total)
	default:
		j := r.update(a, func(j *models.Job) { j.State, j.FinishedAt, j.Error = models.JobFailed, &now, err.Error() })
		r.log.Error("re-scoring job failed", "job", j.ID, "err", err)
	}
	if err := r.store.PutJob(store, r.update(a, func(*models.Job) {})); err != nil {
		r.log.Error("store finished job", "job", a.job.ID, "err", err)
	}
}

// execute runs a job's phases: parameters, mode, the reverse search of an
// incremental run, and the scan of the missing children.
func (r *Rescorer) execute(ctx context.Context, a *activeJob) error {
	sessionStart := time.Now()
	j := r.update(a, func(*models.Job) {})
	if j.State == models.JobQueued {
		if !r.opt.NoReestimate || r.opt.EM {
			if err := r.reestimate(ctx); err != nil {
				return fmt.Errorf("re-estimate parameters: %w", err)
			}
		}
		now := r.svc.now().UTC()
		j = r.update(a, func(j *models.Job) { j.State, j.StartedAt = models.JobRunning, &now })
		if err := r.store.PutJob(ctx, j); err != nil {
			return fmt.Errorf("store job: %w", err)
		}
	}
	if r.opt.RateSample > 0 {
		if err := r.estimateRate(ctx); err != nil {
			return fmt.Errorf("estimate the match rate: %w", err)
		}
	}
	p, err := r.newPass(ctx, j)
	if err != nil {
		return err
	}
	total, err := r.store.CountChildren(ctx, models.KindMissing)
	if err != nil {
		return err
	}
	r.update(a, func(j *models.Job) {
		j.Full = p.full // what the run does, asked for or not
		j.Total = max(total, j.Processed)
		if j.Summary == nil {
			j.Summary = &models.JobSummary{}
		}
	})
	r.log.Info("re-scoring", "job", j.ID, "full", p.full, "reason", p.reason, "params_version", p.scorer.Version(),
		"threshold", r.opt.Threshold, "workers", r.opt.Workers, "missing", total, "resume_after", j.Processed)
	if !p.full {
		if err := p.reverseSearch(ctx); err != nil {
			return err
		}
	}
	return p.scan(ctx, a, sessionStart)
}

// pass is one session of a job's work: the scorer and the incremental rule.
type pass struct {
	r      *Rescorer
	scorer *Scorer
	full   bool
	reason string
	since  time.Time // incremental: records with UpdatedAt >= since changed
	// extra lists, per unchanged missing child, the found children whose
	// pair must be scored again (from the reverse search).
	extra map[string][]string
	found recordCache
}

// recordCache keeps found records decoded for one session of a job, up to
// a bound, dropping an arbitrary one when full. A record edited during the
// session may be scored as it was when cached; its UpdatedAt puts it in
// the next run.
type recordCache struct {
	mu    sync.Mutex
	limit int
	byID  map[string]*models.Child
	load  func(ctx context.Context, id string) (models.Child, error)
	hits  int
	loads int
}

func (c *recordCache) get(ctx context.Context, id string) (*models.Child, error) {
	c.mu.Lock()
	if r, ok := c.byID[id]; ok {
		c.hits++
		c.mu.Unlock()
		return r, nil
	}
	c.loads++
	c.mu.Unlock()
	r, err := c.load(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.limit <= 0 {
		return &r, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.byID) >= c.limit {
		for k := range c.byID {
			delete(c.byID, k)
			break
		}
	}
	c.byID[id] = &r
	return &r, nil
}

// newPass decides whether the run is full or incremental.
func (r *Rescorer) newPass(ctx context.Context, j models.Job) (*pass, error) {
	p := &pass{r: r, scorer: r.svc.GalleryScorer(models.KindFound), full: true,
		found: recordCache{limit: r.opt.CacheRecords, byID: map[string]*models.Child{}, load: r.store.GetChild}}
	last, err := r.lastDone(ctx, j.ID)
	if err != nil {
		return nil, err
	}
	params, err := r.store.LatestParams(ctx)
	if err != nil {
		return nil, fmt.Errorf("latest params: %w", err)
	}
	switch {
	case j.Full:
		p.reason = "asked for"
	case last == nil || last.StartedAt == nil:
		p.reason = "no earlier finished run"
	case params.CreatedAt.After(*last.StartedAt):
		p.reason = fmt.Sprintf("parameters v%d are newer than the last run", params.Version)
	case params.Version != p.scorer.Version():
		p.reason = fmt.Sprintf("scoring with v%d, newest stored is v%d", p.scorer.Version(), params.Version)
	default:
		p.full, p.reason = false, "changes since job "+last.ID
		p.since = last.StartedAt.Add(-r.opt.SinceMargin)
	}
	return p, nil
}

// lastDone returns the newest done re-scoring job other than except, or nil.
func (r *Rescorer) lastDone(ctx context.Context, except string) (*models.Job, error) {
	jobs, err := r.store.ListJobs(ctx, 0)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	for i := range jobs {
		if jobs[i].ID != except && jobs[i].Type == JobTypeRescore && jobs[i].State == models.JobDone {
			return &jobs[i], nil
		}
	}
	return nil, nil
}

// changed reports whether c changed since the last run.
func (p *pass) changed(c *models.Child) bool { return p.full || !c.UpdatedAt.Before(p.since) }

// reverseSearch runs, for each found child changed since the last run, the
// search among the missing children, and adds those pairs and the found
// child's stored matches to extra.
func (p *pass) reverseSearch(ctx context.Context) error {
	var changed []models.Child
	err := p.r.store.ForEachChild(ctx, models.KindFound, func(c models.Child) error {
		if p.changed(&c) {
			changed = append(changed, c)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("changed found children: %w", err)
	}
	start := time.Now()
	extra := map[string]map[string]bool{}
	var mu sync.Mutex
	work := make(chan *models.Child)
	errs := make(chan error, p.r.opt.Workers)
	var wg sync.WaitGroup
	for range p.r.opt.Workers {
		wg.Go(func() {
			for f := range work {
				ids, err := p.r.svc.CandidateIDs(ctx, f, p.r.opt.Pool)
				if err == nil {
					var ms []models.Match
					ms, err = p.r.store.MatchesForChild(ctx, f.ID)
					if models.ErrorCode(err) == models.ENOTFOUND {
						continue // deleted since
					}
					for _, m := range ms {
						ids = append(ids, m.MissingID)
					}
				}
				if err != nil {
					errs <- fmt.Errorf("reverse search for %s: %w", f.ID, err)
					return
				}
				mu.Lock()
				for _, id := range ids {
					if extra[id] == nil {
						extra[id] = map[string]bool{}
					}
					extra[id][f.ID] = true
				}
				mu.Unlock()
			}
		})
	}
	var sendErr error
send:
	for i := range changed {
		select {
		case work <- &changed[i]:
		case err := <-errs:
			sendErr = err
			break send
		case <-ctx.Done():
			sendErr = models.Errorf(models.ECANCELED, "re-scoring stopped")
			break send
		}
	}
	close(work)
	wg.Wait()
	close(errs)
	if sendErr == nil {
		sendErr = <-errs
	}
	if sendErr != nil {
		return sendErr
	}
	p.extra = make(map[string][]string, len(extra))
	pairs := 0
	for m, fs := range extra {
		for f := range fs {
			p.extra[m] = append(p.extra[m], f)
		}
		slices.Sort(p.extra[m])
		pairs += len(fs)
	}
	p.r.log.Info("reverse search for changed found children", "found_changed", len(changed),
		"missing_touched", len(p.extra), "pairs", pairs, "seconds", time.Since(start).Seconds())
	return nil
}

// childResult is what processing one missing child produced.
type childResult struct {
	seq     int
	id      string
	matches []models.Match
	tally   models.JobSummary
	err     error
}

// scan processes the missing children after the checkpoint with the
// workers, and writes results and checkpoints in id order.
func (p *pass) scan(ctx context.Context, a *activeJob, sessionStart time.Time) error {
	r := p.r
	j := r.update(a, func(*models.Job) {})
	after := j.Checkpoint
	baseSeconds := j.Summary.DurationSeconds

	wctx, stop := context.WithCancel(ctx)
	defer stop()
	type item struct {
		seq   int
		child models.Child
	}
	work := make(chan item, 2*r.opt.Workers)
	results := make(chan childResult, 2*r.opt.Workers)
	produced := make(chan error, 1)
	go func() {
		seq := 0
		err := r.store.ForEachChild(wctx, models.KindMissing, func(c models.Child) error {
			if after != "" && c.ID <= after {
				return nil
			}
			select {
			case work <- item{seq, c}:
				seq++
				return nil
			case <-wctx.Done():
				return wctx.Err()
			}
		})
		close(work)
		produced <- err
	}()
	var wg sync.WaitGroup
	for range r.opt.Workers {
		wg.Go(func() {
			for it := range work {
				res := p.process(wctx, &it.child)
				res.seq, res.id = it.seq, it.child.ID
				results <- res
			}
		})
	}
	go func() { wg.Wait(); close(results) }()

	// Collect in order: a child's result is written once every child
	// before it is done, so the checkpoint is always a finished prefix.
	var (
		waiting  = map[int]childResult{}
		next     int
		buf      []models.Match
		sinceCk  int
		firstErr error
	)
	checkpoint := func() error {
		if err := r.writeMatches(context.WithoutCancel(ctx), buf); err != nil {
			return err
		}
		buf = buf[:0]
		sinceCk = 0
		j := r.update(a, func(j *models.Job) {
			j.Summary.DurationSeconds = baseSeconds + time.Since(sessionStart).Seconds()
			j.Total = max(j.Total, j.Processed)
		})
		if err := r.store.PutJob(context.WithoutCancel(ctx), j); err != nil {
			return fmt.Errorf("checkpoint: %w", err)
		}
		r.log.Debug("re-scoring checkpoint", "job", j.ID, "processed", j.Processed, "total", j.Total)
		return nil
	}
	for res := range results {
		if firstErr != nil {
			continue // drain
		}
		waiting[res.seq] = res
		for {
			res, ok := waiting[next]
			if !ok {
				break
			}
			delete(waiting, next)
			if res.err != nil {
				firstErr = res.err
				stop()
				break
			}
			next++
			buf = append(buf, res.matches...)
			r.update(a, func(j *models.Job) {
				j.Processed++
				j.Checkpoint = res.id
				addTally(j.Summary, &res.tally)
			})
			sinceCk++
			if sinceCk >= r.opt.CheckpointEvery || len(buf) >= flushMatches {
				if err := checkpoint(); err != nil {
					firstErr = err
					stop()
					break
				}
			}
		}
	}
	if err := checkpoint(); err != nil && firstErr == nil {
		firstErr = err
	}
	p.found.mu.Lock()
	r.log.Info("re-scoring session", "job", j.ID, "records_loaded", p.found.loads, "cache_hits", p.found.hits)
	p.found.mu.Unlock()
	perr := <-produced
	if err := ctx.Err(); err != nil {
		return models.Errorf(models.ECANCELED, "re-scoring stopped")
	}
	if firstErr != nil {
		return firstErr
	}
	if perr != nil {
		return fmt.Errorf("missing children: %w", perr)
	}
	return nil
}

func addTally(s *models.JobSummary, t *models.JobSummary) {
	s.PairsScored += t.PairsScored
	s.PairsSkipped += t.PairsSkipped
	s.MatchesNew += t.MatchesNew
	s.MatchesUp += t.MatchesUp
	s.MatchesDown += t.MatchesDown
}

// process scores one missing child's pairs that the rule says to score,
// and returns the matches to write.
func (p *pass) process(ctx context.Context, m *models.Child) childResult {
	r := p.r
	var res childResult
	stored, err := r.store.MatchesForChild(ctx, m.ID)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return res // deleted since the scan read it
	}
	if err != nil {
		res.err = fmt.Errorf("matches of %s: %w", m.ID, err)
		return res
	}
	old := make(map[string]*models.Match, len(stored))
	for i := range stored {
		old[stored[i].FoundID] = &stored[i]
	}
	var ids []string
	if p.changed(m) {
		ids, err = r.svc.CandidateIDs(ctx, m, r.opt.Pool)
		if err != nil {
			res.err = fmt.Errorf("candidates of %s: %w", m.ID, err)
			return res
		}
		for f := range old {
			ids = append(ids, f)
		}
	}
	ids = append(ids, p.extra[m.ID]...)
	r.priority.Yield(ctx)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	res.tally.PairsSkipped = len(old)
	type scoredPair struct {
		f    *models.Child
		ps   PairScore
		prev *models.Match
	}
	var scored []scoredPair
	for i, id := range ids {
		if err := ctx.Err(); err != nil {
			res.err = models.Errorf(models.ECANCELED, "re-scoring stopped")
			return res
		}
		if i%yieldEvery == yieldEvery-1 {
			r.priority.Yield(ctx)
		}
		f, err := p.found.get(ctx, id)
		if models.ErrorCode(err) == models.ENOTFOUND {
			continue
		}
		if err != nil {
			res.err = fmt.Errorf("load candidate %s: %w", id, err)
			return res
		}
		if f.Kind != models.KindFound {
			continue
		}
		ps := r.svc.ScoreWith(p.scorer, m, f)
		res.tally.PairsScored++
		prev := old[id]
		if prev != nil {
			res.tally.PairsSkipped--
		}
		scored = append(scored, scoredPair{f, ps, prev})
	}
	// Probabilities weigh each candidate against the child's others
	// (Scorer.Posterior); blocked pairs are not candidates and stay at 0.
	var weights []float64
	var at []int
	for i := range scored {
		if !scored[i].ps.Blocked {
			weights = append(weights, scored[i].ps.Score)
			at = append(at, i)
		}
	}
	probs := make([]float64, len(scored))
	reasons := make([]QueueReason, len(scored))
	post := p.scorer.Posterior(weights)
	why := r.opt.Review.Reasons(weights, post)
	// A pair bound for the queue is weighed against the other missing
	// children its found child could be (ExclusivePosterior): a found
	// child is one child, and two look-alikes cannot both be it.
	rivalled := false
	for j, reason := range why {
		if reason.Code == "" {
			continue
		}
		rivals, err := p.rivals(ctx, m, scored[at[j]].f)
		if err != nil {
			res.err = err
			return res
		}
		if len(rivals) == 0 {
			continue
		}
		others := make([]float64, 0, len(weights)-1)
		others = append(append(others, weights[:j]...), weights[j+1:]...)
		post[j] = p.scorer.Exclusive(weights[j], others, rivals)
		rivalled = true
	}
	if rivalled {
		why = r.opt.Review.Reasons(weights, post)
	}
	for j, i := range at {
		probs[i], reasons[i] = post[j], why[j]
	}
	for i, sp := range scored {
		f, ps, prev := sp.f, sp.ps, sp.prev
		above := reasons[i].Code != ""
		switch {
		case prev == nil && !above:
			continue
		case prev == nil:
			res.tally.MatchesNew++
		case prev.Queue == "" && prev.Probability < r.opt.Review.Threshold && above:
			res.tally.MatchesUp++
		case (prev.Queue != "" || prev.Probability >= r.opt.Review.Threshold) && !above:
			res.tally.MatchesDown++
		}
		res.matches = append(res.matches, models.Match{
			ID: models.MatchID(m.ID, f.ID), MissingID: m.ID, FoundID: f.ID,
			Probability: probs[i], Score: ps.Score, Status: models.MatchNew, Explanation: ps.Explanation,
			ParamsVersion: ps.ParamsVersion, InputsHash: ps.InputsHash,
			Queue: reasons[i].Code, QueueDetail: reasons[i].Detail,
		})
	}
	return res
}

// rivalFloor is the least prior odds·likelihood ratio of a rival worth
// a search of its own: below it the rival moves the pair's probability by
// under a thousandth.
const rivalFloor = 1e-3

// rivals returns the missing children other than m that could be the
// found child f, by a search from f's side, each with its weight against
// f and, when it matters, the weights of its own other candidates.
func (p *pass) rivals(ctx context.Context, m *models.Child, f *models.Child) ([]Rival, error) {
	r := p.r
	ids, err := r.svc.CandidateIDs(ctx, f, r.opt.Pool)
	if err != nil {
		return nil, fmt.Errorf("rivals for %s: %w", f.ID, err)
	}
	o := linkOdds(p.scorer.gallery, p.scorer.rate)
	var out []Rival
	for _, id := range ids {
		if id == m.ID {
			continue
		}
		c, err := r.store.GetChild(ctx, id)
		if models.ErrorCode(err) == models.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("load rival %s: %w", id, err)
		}
		if c.Kind != models.KindMissing {
			continue
		}
		sc := p.scorer.Score(r.svc.ComparePair(p.scorer, &c, f))
		if sc.Blocked || o*math.Exp2(sc.Score) < rivalFloor {
			continue
		}
		// The rival's own row, without f: how well it is explained elsewhere.
		row, err := r.svc.CandidateIDs(ctx, &c, r.opt.Pool)
		if err != nil {
			return nil, fmt.Errorf("row of rival %s: %w", id, err)
		}
		rv := Rival{Weight: sc.Score}
		for _, fid := range row {
			if fid == f.ID {
				continue
			}
			g, err := p.found.get(ctx, fid)
			if models.ErrorCode(err) == models.ENOTFOUND {
				continue
			}
			if err != nil {
				return nil, fmt.Errorf("load candidate %s: %w", fid, err)
			}
			if g.Kind != models.KindFound {
				continue
			}
			if s := p.scorer.Score(r.svc.ComparePair(p.scorer, &c, g)); !s.Blocked {
				rv.Others = append(rv.Others, s.Score)
			}
		}
		out = append(out, rv)
	}
	return out, nil
}

// writeMatches merges the scores ms into the stored matches, each keeping
// the decision stored for it (MergeMatchScores reads and writes in one
// transaction, so no decision lands between). A match whose record was
// deleted meanwhile is dropped.
func (r *Rescorer) writeMatches(ctx context.Context, ms []models.Match) error {
	if len(ms) == 0 {
		return nil
	}
	_, err := r.store.MergeMatchScores(ctx, ms, 0)
	return err
}
