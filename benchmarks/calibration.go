package benchmarks

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/models"
)

// Calibration on synthetic truth: are the probabilities an investigator
// sees right, and does the review queue hold the true pairs? Every missing
// child of the gallery is a query, those with a true found record and
// those without, so the match rate is the gallery's own (Pairs/Missing),
// not 1. The queries are split into two folds by their order: the match
// rate is estimated on one (engine.EstimateMatchRate, as the re-scoring
// job does) and everything is checked on the other, held apart.

// CalibrationConfig shapes MeasureCalibration.
type CalibrationConfig struct {
	// Queries bounds the missing children searched (0 = all of them).
	Queries int
	// Rule is the review queue's rule (zero: engine's defaults).
	Rule engine.ReviewRule
}

// CalibrationMode is one kind of query's outcome on the held-apart fold.
type CalibrationMode struct {
	Mode string
	// Queries is the held-apart fold's size; Paired how many of them have
	// a true found record.
	Queries, Paired int
	// Rate is the match rate estimated on the other fold, from the
	// stored records' searches (as the re-scoring job estimates it, and
	// every search then uses it); TrueRate the gallery's.
	Rate, TrueRate float64
	// Calibration is the map of weights fitted on the other fold
	// (engine.FitCalibration); RawECE the top candidate's ECE without it.
	Calibration models.Calibration
	RawECE      float64
	// Top is the reliability of each query's best candidate; MaxBandError
	// the largest |predicted − observed| over its bands with at least
	// MinBandCount queries.
	Top          engine.Calibration
	MaxBandError float64
	// Rank1 is the share of paired queries whose true record is first.
	Rank1 float64
	// QueueShare is the share of paired queries whose true pair enters
	// the queue; QueueItems the items queued, QueuePerTrue the items per
	// true pair queued, QueueClearBest the true pairs that entered by the
	// clear-best rule alone.
	QueueShare     float64
	QueueItems     int
	QueuePerTrue   float64
	QueueClearBest int
	// Margins is the queue under other clear-best margins, for choosing one.
	Margins []MarginPoint
}

// MarginPoint is the review queue's reach under one clear-best margin.
type MarginPoint struct {
	Margin         float64
	Share          float64
	PerTrue        float64
	UnpairedQueued int // queries without a true record that queue an item
}

// marginsTried are the clear-best margins MeasureCalibration reports.
var marginsTried = []float64{2, 3, 4, 5, 6, 8, 1e9}

// MinBandCount is the fewest queries in a reliability band for its error
// to count in MaxBandError: with fewer, one query moves it by more than
// the 0.1 the goal allows.
const MinBandCount = 20

// calibrationKinds are the queries measured: the stored missing record
// (photo and attributes), and its photo alone with the date it was taken
// (every registration has one: a found child who cannot say a name still
// comes in on a date).
var calibrationKinds = []string{"photo and attributes", "photo only"}

// MeasureCalibration searches for the gallery's missing children and
// reports, per kind of query, the held-apart fold's calibration of the
// top candidate and the review queue's reach.
func MeasureCalibration(ctx context.Context, g *Gallery, cfg CalibrationConfig) ([]CalibrationMode, error) {
	if cfg.Rule == (engine.ReviewRule{}) {
		cfg.Rule = engine.ReviewRule{Threshold: engine.DefaultRescoreThreshold, Margin: engine.DefaultQueueMargin}
	}
	var missing []models.Child
	if err := g.Store.ForEachChild(ctx, models.KindMissing, func(c models.Child) error {
		if cfg.Queries <= 0 || len(missing) < cfg.Queries {
			missing = append(missing, c)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	nFound, err := g.Store.CountChildren(ctx, models.KindFound)
	if err != nil {
		return nil, fmt.Errorf("calibration: %w", err)
	}
	trueRate := float64(g.Config.Pairs) / float64(max(g.Config.Missing, 1))
	var out []CalibrationMode
	rate := 0.0 // estimated by the first kind, the stored records
	for _, kind := range calibrationKinds {
		type result struct {
			mate    string
			ids     []string
			weights []float64
		}
		res := make([]result, len(missing))
		for i := range missing {
			m := &missing[i]
			var cands []models.Candidate
			if kind == "photo only" {
				q := &models.Child{Kind: models.KindMissing, Sex: models.SexUnknown, ObservedOn: m.ObservedOn}
				cands, err = g.Service.Search(ctx, q, [][]byte{subjectBytes(m)}, engine.MaxLimit)
			} else {
				cands, err = g.Service.Candidates(ctx, m.ID, engine.MaxLimit)
			}
			if err != nil {
				return nil, fmt.Errorf("calibration %s: %w", kind, err)
			}
			res[i].mate = g.Truth[m.ID]
			for _, c := range cands {
				res[i].ids = append(res[i].ids, c.ID)
				res[i].weights = append(res[i].weights, c.Score)
			}
		}
		// Fold A (even positions) fits the calibration and estimates the
		// rate; fold B is checked.
		var fitQ []engine.QueryOutcome
		paired := 0
		for i := 0; i < len(res); i += 2 {
			q := engine.QueryOutcome{Weights: res[i].weights, Match: slices.Index(res[i].ids, res[i].mate), Gallery: nFound}
			if res[i].mate == "" {
				q.Match = -1
			} else {
				paired++
			}
			fitQ = append(fitQ, q)
		}
		calib := engine.FitCalibration(fitQ, float64(paired)/float64(max(len(fitQ), 1)))
		if rate == 0 {
			var fit [][]float64
			for _, q := range fitQ {
				ws := make([]float64, len(q.Weights))
				for j, w := range q.Weights {
					ws[j] = calib.Slope*w + calib.Intercept
				}
				fit = append(fit, ws)
			}
			rate = engine.EstimateMatchRate(fit, nFound, engine.DefaultMatchRate)
		}
		mode := CalibrationMode{Mode: kind, TrueRate: trueRate, Rate: rate, Calibration: calib}
		var raw []engine.Prediction
		var top []engine.Prediction
		var r1, queued int
		for i := 1; i < len(res); i += 2 {
			r := res[i]
			mode.Queries++
			if r.mate != "" {
				mode.Paired++
			}
			if len(r.ids) == 0 {
				continue
			}
			q := engine.QueryOutcome{Weights: r.weights, Gallery: nFound}
			probs := q.Apply(calib, mode.Rate)
			best := 0
			for j := range r.weights {
				if r.weights[j] > r.weights[best] {
					best = j
				}
			}
			top = append(top, engine.Prediction{Probability: probs[best], Match: r.ids[best] == r.mate})
			raw = append(raw, engine.Prediction{Probability: q.Apply(models.Calibration{Slope: 1}, mode.Rate)[best], Match: r.ids[best] == r.mate})
			if r.mate != "" && r.ids[best] == r.mate {
				r1++
			}
			for j, why := range cfg.Rule.Reasons(r.weights, probs) {
				if why.Code == "" {
					continue
				}
				mode.QueueItems++
				if r.ids[j] == r.mate {
					queued++
					if why.Code == models.QueueClearBest {
						mode.QueueClearBest++
					}
				}
			}
		}
		for _, mg := range marginsTried {
			rule := cfg.Rule
			rule.Margin = mg
			pt := MarginPoint{Margin: mg}
			items, hits := 0, 0
			for i := 1; i < len(res); i += 2 {
				r := res[i]
				if len(r.ids) == 0 {
					continue
				}
				q := engine.QueryOutcome{Weights: r.weights, Gallery: nFound}
				any := false
				for j, why := range rule.Reasons(r.weights, q.Apply(calib, mode.Rate)) {
					if why.Code != "" {
						items++
						any = true
						if r.ids[j] == r.mate {
							hits++
						}
					}
				}
				if any && r.mate == "" {
					pt.UnpairedQueued++
				}
			}
			pt.Share = float64(hits) / float64(max(mode.Paired, 1))
			pt.PerTrue = float64(items) / float64(max(hits, 1))
			mode.Margins = append(mode.Margins, pt)
		}
		mode.Top = engine.Calibrate(top, 10)
		mode.RawECE = engine.Calibrate(raw, 10).ECE
		for _, b := range mode.Top.Bins {
			if b.Count >= MinBandCount {
				mode.MaxBandError = math.Max(mode.MaxBandError, math.Abs(b.MeanPredicted-b.ObservedRate))
			}
		}
		mode.Rank1 = float64(r1) / float64(max(mode.Paired, 1))
		mode.QueueShare = float64(queued) / float64(max(mode.Paired, 1))
		mode.QueuePerTrue = float64(mode.QueueItems) / float64(max(queued, 1))
		out = append(out, mode)
	}
	return out, nil
}

// CalibrationFigures turns MeasureCalibration's modes into figures, each
// against its goal (issue 16: top-candidate ECE ≤ 0.05 with no band off by
// more than 0.1; at least 80% of true pairs in the queue with at most 5
// items per true pair).
func CalibrationFigures(scale int, modes []CalibrationMode) []Figure {
	var out []Figure
	for _, m := range modes {
		name := func(what string) string {
			return fmt.Sprintf("%s, %s (%d held-apart queries, %d with a true record)", what, m.Mode, m.Queries, m.Paired)
		}
		met := func(ok bool) string { return map[bool]string{true: "met", false: "missed"}[ok] }
		out = append(out,
			Figure{Section: "accuracy", Scale: scale, Name: name("top-candidate ECE"), Value: m.Top.ECE,
				Baseline: "goal", BaselineValue: 0.05,
				Note: fmt.Sprintf("goal ≤ 0.05 %s; largest band error %.3f over bands of ≥%d (goal ≤ 0.1 %s); calibration slope %.3f, intercept %.2f bits fitted on the other fold (ECE without it %.3f); match rate estimated %.3f there, true %.3f",
					met(m.Top.ECE <= 0.05), m.MaxBandError, MinBandCount, met(m.MaxBandError <= 0.1), m.Calibration.Slope, m.Calibration.Intercept, m.RawECE, m.Rate, m.TrueRate)},
			Figure{Section: "accuracy", Scale: scale, Name: name("true pairs in the review queue"), Value: m.QueueShare,
				Baseline: "rank-1", BaselineValue: m.Rank1,
				Note: fmt.Sprintf("goal ≥ 0.8 %s; %d queue items, %.2f per true pair queued (goal ≤ 5 %s), %d true pairs by the clear-best rule alone",
					met(m.QueueShare >= 0.8), m.QueueItems, m.QueuePerTrue, met(m.QueuePerTrue <= 5), m.QueueClearBest)},
		)
	}
	return out
}

// reliabilityRows formats a reliability table, bands with queries only.
func reliabilityRows(c engine.Calibration) []string {
	var rows []string
	for _, b := range c.Bins {
		if b.Count > 0 {
			rows = append(rows, fmt.Sprintf("%.1f-%.1f n=%d predicted %.3f observed %.3f", b.Lo, b.Hi, b.Count, b.MeanPredicted, b.ObservedRate))
		}
	}
	return slices.Clip(rows)
}
