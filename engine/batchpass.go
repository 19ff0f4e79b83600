package engine

// A pass of the re-score job (see batch.go): the incremental rule, the
// reverse search from changed found children, the scan of the missing
// children with its checkpoints, the scoring of one child's pairs and the
// rivals a pair is weighed against.

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

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
