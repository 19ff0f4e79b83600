package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
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
