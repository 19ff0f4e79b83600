package benchmarks

import (
	"fmt"
	"math"

	"github.com/trackmatch/trackmatch/engine"
)

// AccuracyFigures turns MeasureLookup's runs into recall at rank 1 and 10
// and precision and recall at the default review threshold
// (engine.DefaultRescoreThreshold), for photo and attributes fused,
// against the photo alone as the baseline. Each query's true found record
// is known (synthetic truth); it counts once however often it was timed.
func AccuracyFigures(scale int, runs map[string]*lookupRun) []Figure {
	fused, photo := runs["photo and attributes"], runs["photo only"]
	if fused == nil || photo == nil {
		return nil
	}
	t := engine.DefaultRescoreThreshold
	fig := func(name string, f func(*lookupRun) float64) Figure {
		return Figure{Section: "accuracy", Scale: scale, Name: fmt.Sprintf("%s (%d queries)", name, len(fused.ranks)),
			Value: f(fused), Unit: "", Baseline: "photo only", BaselineValue: f(photo)}
	}
	out := []Figure{
		fig("recall@1, photo and attributes", func(r *lookupRun) float64 { return recallAt(r, 1) }),
		fig("recall@10, photo and attributes", func(r *lookupRun) float64 { return recallAt(r, 10) }),
		fig(fmt.Sprintf("precision at p ≥ %.2g, photo and attributes", t), func(r *lookupRun) float64 { return precisionAt(r, t) }),
		fig(fmt.Sprintf("recall at p ≥ %.2g, photo and attributes", t), func(r *lookupRun) float64 { return truePairsAt(r, t) }),
	}
	if a := runs["attributes only"]; a != nil {
		out = append(out, Figure{Section: "accuracy", Scale: scale, Name: fmt.Sprintf("recall@10, attributes only (%d queries)", len(a.ranks)),
			Value: recallAt(a, 10), Baseline: "photo only", BaselineValue: recallAt(photo, 10)})
	}
	return out
}

// recallAt is the share of queries whose true record ranked within k.
func recallAt(r *lookupRun, k int) float64 {
	hit := 0
	for _, rank := range r.ranks {
		if rank >= 0 && rank < k {
			hit++
		}
	}
	return float64(hit) / float64(max(1, len(r.ranks)))
}

// precisionAt is the share of returned candidates at probability ≥ t that
// are the query's true record; NaN when none reached t.
func precisionAt(r *lookupRun, t float64) float64 {
	above, truth := 0, 0
	for _, c := range r.scored {
		if c.probability >= t {
			above++
			if c.true {
				truth++
			}
		}
	}
	if above == 0 {
		return math.NaN()
	}
	return float64(truth) / float64(above)
}

// truePairsAt is the share of queries whose true record was returned at
// probability ≥ t: the pairs an investigator's queue would show.
func truePairsAt(r *lookupRun, t float64) float64 {
	n := 0
	for _, c := range r.scored {
		if c.true && c.probability >= t {
			n++
		}
	}
	return float64(n) / float64(max(1, len(r.ranks)))
}
