package engine

import (
	"fmt"
	"math"

	"github.com/trackmatch/trackmatch/models"
)

// Prediction is a scored pair with its true status, for calibration.
type Prediction struct {
	Probability float64
	Match       bool
}

// ReliabilityBin is one row of a reliability table: the pairs whose
// predicted probability fell in [Lo, Hi) (the last bin includes 1).
type ReliabilityBin struct {
	Lo            float64 `json:"lo"`
	Hi            float64 `json:"hi"`
	Count         int     `json:"count"`
	MeanPredicted float64 `json:"mean_predicted"` // 0 when Count is 0
	ObservedRate  float64 `json:"observed_rate"`  // share of matches; 0 when Count is 0
}

// Calibration says how far predicted probabilities can be taken at their
// word: a well calibrated scorer's pairs at 0.8 are matches 80% of the time.
type Calibration struct {
	N     int              `json:"n"`
	Bins  []ReliabilityBin `json:"bins"`
	Brier float64          `json:"brier"` // mean squared error of the probabilities
	// ECE is the expected calibration error: the count-weighted mean of
	// |MeanPredicted − ObservedRate| over the bins.
	ECE float64 `json:"ece"`
	// LogLoss is the mean negative log-likelihood, in bits, with
	// probabilities clamped to [1e-12, 1−1e-12].
	LogLoss float64 `json:"log_loss"`
}

// Calibrate builds the reliability table of preds over nbins equal-width
// bins of [0, 1] (10 when nbins < 1) with the Brier score, ECE and log loss.
// Probabilities outside [0, 1] are clamped.
func Calibrate(preds []Prediction, nbins int) Calibration {
	if nbins < 1 {
		nbins = 10
	}
	c := Calibration{N: len(preds), Bins: make([]ReliabilityBin, nbins)}
	sumP := make([]float64, nbins)
	hits := make([]int, nbins)
	for i := range c.Bins {
		c.Bins[i].Lo = float64(i) / float64(nbins)
		c.Bins[i].Hi = float64(i+1) / float64(nbins)
	}
	for _, p := range preds {
		x := min(max(p.Probability, 0), 1)
		y := 0.0
		if p.Match {
			y = 1
		}
		c.Brier += (x - y) * (x - y)
		q := min(max(x, 1e-12), 1-1e-12)
		if p.Match {
			c.LogLoss -= math.Log2(q)
		} else {
			c.LogLoss -= math.Log2(1 - q)
		}
		b := min(int(x*float64(nbins)), nbins-1)
		c.Bins[b].Count++
		sumP[b] += x
		if p.Match {
			hits[b]++
		}
	}
	if len(preds) == 0 {
		return c
	}
	n := float64(len(preds))
	c.Brier /= n
	c.LogLoss /= n
	for i := range c.Bins {
		b := &c.Bins[i]
		if b.Count == 0 {
			continue
		}
		b.MeanPredicted = sumP[i] / float64(b.Count)
		b.ObservedRate = float64(hits[i]) / float64(b.Count)
		c.ECE += float64(b.Count) / n * math.Abs(b.MeanPredicted-b.ObservedRate)
	}
	return c
}

// QueryPosterior returns, for the scored candidates of one query child in
// a gallery of n records of the other kind, the probability that each is
// the child, given every candidate's match weight (log2 likelihood
// ratio): rate is the share of query children whose record is in the
// gallery at all. It is Bayes' rule over the hypotheses "candidate i is
// the child" (prior rate/n each) and "the child is not there" (1−rate),
// with the at-most-one-match constraint of a gallery:
//
//	P_i = (rate/n)·LR_i / (1 − rate + (rate/n)·Σ_j LR_j)
//
// where the sum runs over every gallery record; the n−k records not
// scored count with their expected likelihood ratio under a non-match,
// which is 1 for any proper m and u. So a candidate's probability falls
// when another candidate is as close, and a best candidate well clear of
// the rest gets what its weight says. With k = 1 it is the pairwise
// posterior with prior rate/n. Blocked pairs are left out by the caller
// (their likelihood ratio is 0). n is raised to at least len(weights).
func QueryPosterior(weights []float64, n int, rate float64) []float64 {
	out := make([]float64, len(weights))
	if len(weights) == 0 {
		return out
	}
	n = max(n, len(weights))
	rate = min(max(rate, 1e-9), 1)
	rate = min(rate, MaxMatchRate)
	// Work relative to the largest weight: 2^(w−top) never overflows.
	top := weights[0]
	for _, w := range weights {
		top = max(top, w)
	}
	a := rate / float64(n)
	sum := 0.0
	for _, w := range weights {
		sum += math.Exp2(w - top)
	}
	// Denominator over 2^top: (1 − rate·k/n)·2^−top + a·Σ 2^(w−top).
	rest := (1 - a*float64(len(weights))) * math.Exp2(-top)
	den := rest + a*sum
	for i, w := range weights {
		out[i] = a * math.Exp2(w-top) / den
	}
	return out
}

// EstimateMatchRate estimates the share of query children whose record is
// in the gallery from the candidate weights of a sample of queries (each
// query's scored, unblocked candidates) and the gallery size n: the
// fixed point of rate = mean over queries of Σ_i P_i(rate), the
// expectation–maximisation of a two-class mixture whose likelihood
// ratios are known. It starts from start and returns it when the sample
// is empty. The result is in [0.01, MaxMatchRate].
func EstimateMatchRate(queries [][]float64, n int, start float64) float64 {
	if len(queries) == 0 {
		return start
	}
	rate := min(max(start, 0.01), MaxMatchRate)
	for range 200 {
		sum := 0.0
		for _, ws := range queries {
			for _, p := range QueryPosterior(ws, n, rate) {
				sum += p
			}
		}
		next := min(max(sum/float64(len(queries)), 0.01), MaxMatchRate)
		if math.Abs(next-rate) < 1e-6 {
			return next
		}
		rate = next
	}
	return rate
}

// ReviewRule decides which of one missing child's scored candidates enter
// the review queue, and why. The re-scoring job applies it, and the
// benchmarks measure it, so both see one rule.
type ReviewRule struct {
	// Threshold: a pair whose probability is at or above it enters
	// (models.QueueProbability).
	Threshold float64
	// Margin, in bits, when positive: a child's best candidate whose weight
	// is at least Margin above the next candidate's (or alone) enters
	// whatever its probability (models.QueueClearBest). Probabilities in a
	// large gallery stay low for a true pair with only a photo, while the
	// true child still stands out among the child's own candidates.
	Margin float64
	// MinWeight is the least weight of a clear best: a best candidate no
	// likelier to be the child than a stranger is not worth a look.
	MinWeight float64
}

// QueueReason is why one candidate is in the review queue: a code
// (models.QueueProbability, models.QueueClearBest, or "" when it is not)
// and a sentence.
type QueueReason struct {
	Code   string
	Detail string
}

// Reasons returns, for one child's candidates with match weights weights
// and probabilities probs (blocked pairs left out), why each enters the
// queue.
func (r ReviewRule) Reasons(weights, probs []float64) []QueueReason {
	out := make([]QueueReason, len(weights))
	best, second := -1, -1
	for i, w := range weights {
		switch {
		case best < 0 || w > weights[best]:
			best, second = i, best
		case second < 0 || w > weights[second]:
			second = i
		}
	}
	for i, p := range probs {
		if p >= r.Threshold {
			out[i] = QueueReason{models.QueueProbability,
				fmt.Sprintf("probability %.2f, at or above the review threshold %.2f", p, r.Threshold)}
		}
	}
	if best < 0 || out[best].Code != "" || r.Margin <= 0 || weights[best] < r.MinWeight {
		return out
	}
	if second < 0 {
		out[best] = QueueReason{models.QueueClearBest, fmt.Sprintf("the child's only candidate, weight %.1f bits", weights[best])}
		return out
	}
	if gap := weights[best] - weights[second]; gap >= r.Margin {
		out[best] = QueueReason{models.QueueClearBest, fmt.Sprintf("best of the child's %d candidates, %.1f bits (%.0f times likelier) above the next",
			len(weights), gap, math.Exp2(gap))}
	}
	return out
}

// MaxMatchRate bounds the match rate: some children are never registered
// on the other side, and a rate of 1 would leave no room for "none of
// these" in ExclusivePosterior.
const MaxMatchRate = 0.95

// linkOdds is the prior odds that one given pair is a match against "the
// query child has no record here", in a gallery of n at match rate rate.
func linkOdds(n int, rate float64) float64 {
	rate = min(max(rate, 1e-9), MaxMatchRate)
	return rate / float64(max(n, 1)) / (1 - rate)
}

// rowOdds is 1 plus the odds of every link of a row other than the pair
// in question: the scored others by their weights, the rest of the n−1
// records at their expected likelihood ratio, 1.
func rowOdds(others []float64, n int, o float64) float64 {
	z := 1 + o*float64(max(n-1-len(others), 0))
	for _, w := range others {
		z += o * math.Exp2(w)
	}
	return z
}

// Rival is another child who could be the other side of a pair: a
// missing child competing for the same found child. Weight is its match
// weight against that found child, Others the weights of its own other
// candidates (the found child left out), which say how well it is
// explained elsewhere.
type Rival struct {
	Weight float64
	Others []float64
}

// ExclusivePosterior is the probability that a pair is a match when each
// child has at most one record on each side: the pair's weight, the
// weights of the query child's other candidates (others), the gallery
// size n and match rate, and the rivals for the candidate (other query
// children it could be). With links of prior odds o = (rate/n)/(1−rate),
// summing over the matchings of the pair's row, its column and the
// rivals' rows:
//
//	P = o·LR / (o·LR + Z_row · (1 + Σ_rivals o·LR_r / Z_r))
//
// where Z_row and each rival's Z_r are 1 plus the odds of their other
// links (rowOdds). Without rivals it is QueryPosterior. A rival whose own
// better candidate explains it takes little away; a rival nothing else
// explains competes in full: two look-alikes cannot both be the child.
func ExclusivePosterior(weight float64, others []float64, n int, rate float64, rivals []Rival) float64 {
	o := linkOdds(n, rate)
	col := 1.0
	for _, r := range rivals {
		col += o * math.Exp2(r.Weight) / rowOdds(r.Others, n, o)
	}
	x := o * math.Exp2(weight)
	return x / (x + rowOdds(others, n, o)*col)
}

// QueryOutcome is one labelled search, for fitting a calibration: its
// scored candidates' match weights, the index of the true record among
// them (-1 when it is not among them or not in the gallery at all), and
// the gallery size.
type QueryOutcome struct {
	Weights []float64
	Match   int
	Gallery int
}

// calibrated returns the weights under c.
func calibrated(ws []float64, c models.Calibration) []float64 {
	out := make([]float64, len(ws))
	for i, w := range ws {
		out[i] = c.Slope*w + c.Intercept
	}
	return out
}

// Apply returns the query's probabilities under c (QueryPosterior).
func (q QueryOutcome) Apply(c models.Calibration, rate float64) []float64 {
	return QueryPosterior(calibrated(q.Weights, c), q.Gallery, rate)
}

// calibrationLogLik is the log-likelihood of the outcomes under c: the
// true record's probability, or, when it is not among the candidates,
// the probability that none of them is the child.
func calibrationLogLik(qs []QueryOutcome, c models.Calibration, rate float64) float64 {
	ll := 0.0
	for _, q := range qs {
		ps := q.Apply(c, rate)
		p := 1.0
		if q.Match >= 0 && q.Match < len(ps) {
			p = ps[q.Match]
		} else {
			for _, x := range ps {
				p -= x
			}
		}
		ll += math.Log(min(max(p, 1e-12), 1))
	}
	return ll
}

// FitCalibration fits the slope and intercept of Params.Calibration by
// maximum likelihood of labelled searches' outcomes under QueryPosterior
// at match rate rate: a search over slopes 0.25–3 and intercepts −20 to
// 20 bits, refined by halving steps. With no outcomes it returns the
// identity.
func FitCalibration(qs []QueryOutcome, rate float64) models.Calibration {
	best := models.Calibration{Slope: 1}
	if len(qs) == 0 {
		return best
	}
	bestLL := calibrationLogLik(qs, best, rate)
	for s := 0.25; s <= 3.0001; s += 0.25 {
		for b := -20.0; b <= 20.0001; b += 2 {
			c := models.Calibration{Slope: s, Intercept: b}
			if ll := calibrationLogLik(qs, c, rate); ll > bestLL {
				best, bestLL = c, ll
			}
		}
	}
	ds, db := 0.125, 1.0
	for range 12 {
		improved := false
		for _, d := range [][2]float64{{ds, 0}, {-ds, 0}, {0, db}, {0, -db}, {ds, db}, {-ds, -db}, {ds, -db}, {-ds, db}} {
			c := models.Calibration{Slope: best.Slope + d[0], Intercept: best.Intercept + d[1]}
			if c.Slope <= 0 {
				continue
			}
			if ll := calibrationLogLik(qs, c, rate); ll > bestLL {
				best, bestLL, improved = c, ll, true
			}
		}
		if !improved {
			ds, db = ds/2, db/2
		}
	}
	return best
}
