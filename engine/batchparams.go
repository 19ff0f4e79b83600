package engine

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// emPool is how many candidates per retrieval path EM takes for each sampled
// missing child: the top of each search, where the matches are.
const emPool = 10

// reestimate runs at the start of a job, before any pair is scored. With
// EM on, it first re-estimates m by EM on candidate pairs of a sample of
// missing children, with u from random pairs of the sample (face m fixed:
// pairs found by face search are close in face among non-matches too);
// when EM finds no usable match class (ErrDegenerate) it keeps the
// parameters and logs why. Then, if investigators made MinNewDecisions
// decisions since the newest parameters were made (or EM made new ones),
// it re-estimates m
// from every decided pair's comparison vector, recomputed now
// (EstimateFromDecisions, on the newest parameters not themselves
// estimated from decisions, so no decision counts twice). New parameters
// are stored as a new version and the Service scores with them at once.
func (r *Rescorer) reestimate(ctx context.Context) error {
	cur, err := r.store.LatestParams(ctx)
	if err != nil {
		return err
	}
	base, err := r.baseParams(ctx, cur)
	if err != nil {
		return err
	}
	newBase := false
	if r.opt.EM {
		p, rep, err := r.estimateEM(ctx, base)
		switch {
		case errors.Is(err, ErrDegenerate):
			r.log.Warn("EM kept the parameters", "version", cur.Version, "reason", err.Error(),
				"iterations", rep.Iterations, "lambda", rep.Lambda)
		case err != nil:
			if ctx.Err() != nil {
				return err
			}
			r.log.Warn("EM kept the parameters", "version", cur.Version, "err", err)
		default:
			if base, err = r.store.PutParams(ctx, p); err != nil {
				return fmt.Errorf("store EM parameters: %w", err)
			}
			newBase = true
			r.log.Info("EM re-estimated the parameters", "version", base.Version, "iterations", rep.Iterations,
				"lambda", rep.Lambda, "reverted", rep.Reverted)
		}
	}
	var confirmed, rejected [][]FieldComparison
	fresh := 0
	if !r.opt.NoReestimate {
		var decided []models.Match
		for _, st := range []models.MatchStatus{models.MatchConfirmed, models.MatchRejected} {
			ms, err := r.listMatches(ctx, st)
			if err != nil {
				return err
			}
			decided = append(decided, ms...)
		}
		for _, m := range decided {
			if m.Decision != nil && m.Decision.At.After(cur.CreatedAt) {
				fresh++
			}
		}
		if fresh > 0 && fresh < r.opt.MinNewDecisions {
			r.log.Info("too few new decisions to re-estimate the parameters yet", "new", fresh,
				"needed", r.opt.MinNewDecisions, "version", cur.Version)
		}
		if fresh >= r.opt.MinNewDecisions || newBase {
			for _, m := range decided {
				ps, err := r.svc.ScorePair(ctx, m.MissingID, m.FoundID)
				if models.ErrorCode(err) == models.ENOTFOUND {
					continue
				}
				if err != nil {
					return fmt.Errorf("compare decided pair %s: %w", m.ID, err)
				}
				if m.Status == models.MatchConfirmed {
					confirmed = append(confirmed, ps.Comparisons)
				} else {
					rejected = append(rejected, ps.Comparisons)
				}
			}
		}
	}
	if len(confirmed)+len(rejected) > 0 {
		from := base.Version
		p, err := EstimateFromDecisions(base, confirmed, rejected, r.opt.Decisions)
		if err != nil {
			return fmt.Errorf("estimate from decisions: %w", err)
		}
		if base, err = r.store.PutParams(ctx, p); err != nil {
			return fmt.Errorf("store parameters: %w", err)
		}
		newBase = true
		r.log.Info("re-estimated the parameters from decisions", "version", base.Version,
			"confirmed", len(confirmed), "rejected", len(rejected), "from_version", from)
	}
	if !newBase {
		return nil
	}
	sc, err := NewScorer(base)
	if err != nil {
		return fmt.Errorf("scorer for v%d: %w", base.Version, err)
	}
	r.svc.SetScorer(sc)
	return nil
}

// baseParams returns the newest version at or before cur not estimated
// from decisions.
func (r *Rescorer) baseParams(ctx context.Context, cur models.Params) (models.Params, error) {
	p := cur
	for p.Source == SourceDecisions && p.Version > 1 {
		prev, err := r.store.GetParams(ctx, p.Version-1)
		if err != nil {
			return models.Params{}, fmt.Errorf("parameters before v%d: %w", p.Version, err)
		}
		p = prev
	}
	return p, nil
}

// listMatches returns every match with status st.
func (r *Rescorer) listMatches(ctx context.Context, st models.MatchStatus) ([]models.Match, error) {
	var out []models.Match
	cursor := ""
	for {
		ms, next, err := r.store.ListMatches(ctx, models.MatchFilter{Status: st, Limit: 1000, Cursor: cursor})
		if err != nil {
			return nil, fmt.Errorf("list %s matches: %w", st, err)
		}
		out = append(out, ms...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// estimateEM samples up to EMSample missing children evenly by id, takes
// the comparison vectors of their top candidates (pairs blocked by a
// conflict left out) and of as many random missing–found pairs, and runs
// EstimateEM from base.
func (r *Rescorer) estimateEM(ctx context.Context, base models.Params) (models.Params, EMReport, error) {
	start := time.Now()
	missing, err := r.sample(ctx, models.KindMissing, r.opt.EMSample)
	if err != nil {
		return models.Params{}, EMReport{}, err
	}
	found, err := r.sample(ctx, models.KindFound, r.opt.EMSample)
	if err != nil {
		return models.Params{}, EMReport{}, err
	}
	if len(missing) == 0 || len(found) == 0 {
		return models.Params{}, EMReport{}, fmt.Errorf("%w: no records to sample", ErrDegenerate)
	}
	scorer := r.svc.Scorer()
	var pairs, random [][]FieldComparison
	for i := range missing {
		m := &missing[i]
		ids, err := r.svc.CandidateIDs(ctx, m, emPool)
		if err != nil {
			return models.Params{}, EMReport{}, err
		}
		for _, id := range ids {
			f, err := r.store.GetChild(ctx, id)
			if models.ErrorCode(err) == models.ENOTFOUND {
				continue
			}
			if err != nil {
				return models.Params{}, EMReport{}, err
			}
			if cmps := r.svc.ComparePair(scorer, m, &f); !blocked(cmps) {
				pairs = append(pairs, cmps)
			}
		}
		// A fixed stride through the found sample: random enough for u,
		// and the same sample on every run over the same records.
		f := &found[(i*7919)%len(found)]
		random = append(random, r.svc.ComparePair(scorer, m, f))
	}
	p, rep, err := EstimateEM(base, random, pairs, EMOptions{FixedFields: []string{FieldFace}})
	r.log.Info("EM sample", "missing", len(missing), "candidate_pairs", len(pairs), "random_pairs", len(random),
		"seconds", time.Since(start).Seconds())
	return p, rep, err
}

// sample returns up to n records of kind, spread evenly over id order.
func (r *Rescorer) sample(ctx context.Context, kind models.Kind, n int) ([]models.Child, error) {
	total, err := r.store.CountChildren(ctx, kind)
	if err != nil {
		return nil, err
	}
	step := max(1, total/max(n, 1))
	var out []models.Child
	i := 0
	err = r.store.ForEachChild(ctx, kind, func(c models.Child) error {
		if i%step == 0 && len(out) < n {
			out = append(out, c)
		}
		i++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("sample %s records: %w", kind, err)
	}
	return out, nil
}

func blocked(cmps []FieldComparison) bool {
	for _, c := range cmps {
		if c.Conflict {
			return true
		}
	}
	return false
}

// estimateRate searches for up to RateSample missing children, sampled
// evenly by id, among the found children, and sets the Service's match
// rate to EstimateMatchRate over their candidates' weights: how many of
// the missing children the found records hold, as the records themselves
// say. Every probability the job and later searches give depends on it.
func (r *Rescorer) estimateRate(ctx context.Context) error {
	start := time.Now()
	missing, err := r.sample(ctx, models.KindMissing, r.opt.RateSample)
	if err != nil {
		return err
	}
	n, err := r.store.CountChildren(ctx, models.KindFound)
	if err != nil {
		return err
	}
	if len(missing) == 0 || n == 0 {
		return nil
	}
	scorer := r.svc.Scorer()
	var queries [][]float64
	for i := range missing {
		m := &missing[i]
		ids, err := r.svc.CandidateIDs(ctx, m, r.opt.Pool)
		if err != nil {
			return err
		}
		var ws []float64
		for _, id := range ids {
			f, err := r.store.GetChild(ctx, id)
			if models.ErrorCode(err) == models.ENOTFOUND {
				continue
			}
			if err != nil {
				return err
			}
			if f.Kind != models.KindFound {
				continue
			}
			if sc := scorer.Score(r.svc.ComparePair(scorer, m, &f)); !sc.Blocked {
				ws = append(ws, sc.Score)
			}
		}
		queries = append(queries, ws)
		r.priority.Yield(ctx)
	}
	before := r.svc.MatchRate()
	rate := EstimateMatchRate(queries, n, before)
	r.svc.SetMatchRate(rate)
	r.log.Info("match rate estimated", "rate", rate, "before", before, "missing_sampled", len(missing),
		"found", n, "seconds", time.Since(start).Seconds())
	return nil
}
