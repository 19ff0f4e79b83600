package engine

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func TestCalibrateByHand(t *testing.T) {
	preds := []Prediction{
		{0.05, false}, {0.15, false}, // bin 0 and 1 of 5
		{0.9, true}, {0.9, false}, {1, true}, // last bin holds 1.0
	}
	c := Calibrate(preds, 5)
	if c.N != 5 || len(c.Bins) != 5 {
		t.Fatalf("%+v", c)
	}
	last := c.Bins[4]
	if last.Count != 3 || math.Abs(last.MeanPredicted-2.8/3) > 1e-12 || math.Abs(last.ObservedRate-2.0/3) > 1e-12 {
		t.Fatalf("last bin %+v", last)
	}
	if c.Bins[0].Count != 2 || c.Bins[2].Count != 0 || c.Bins[0].Lo != 0 || c.Bins[4].Hi != 1 {
		t.Fatalf("bins %+v", c.Bins)
	}
	brier := (0.05*0.05 + 0.15*0.15 + 0.1*0.1 + 0.9*0.9 + 0) / 5
	if math.Abs(c.Brier-brier) > 1e-12 {
		t.Fatalf("Brier %v, want %v", c.Brier, brier)
	}
	ece := 2.0/5*math.Abs(0.1-0) + 3.0/5*math.Abs(2.8/3-2.0/3)
	if math.Abs(c.ECE-ece) > 1e-12 {
		t.Fatalf("ECE %v, want %v", c.ECE, ece)
	}
	if empty := Calibrate(nil, 0); empty.N != 0 || len(empty.Bins) != 10 || empty.Brier != 0 {
		t.Fatalf("empty: %+v", empty)
	}
}

func TestCalibrateTellsCalibratedFromOverconfident(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	var good, over []Prediction
	for range 100_000 {
		p := r.Float64()
		y := r.Float64() < p
		good = append(good, Prediction{p, y})
		// Overconfident: pushes probabilities toward 0 and 1.
		q := 1 / (1 + math.Exp(-3*math.Log(p/(1-p))))
		over = append(over, Prediction{q, y})
	}
	g, o := Calibrate(good, 10), Calibrate(over, 10)
	if g.ECE > 0.01 || math.Abs(g.Brier-1.0/6) > 0.005 {
		t.Fatalf("calibrated: ECE %v, Brier %v (want ≈0 and 1/6)", g.ECE, g.Brier)
	}
	if o.ECE < 0.05 || o.Brier <= g.Brier || o.LogLoss <= g.LogLoss {
		t.Fatalf("overconfident: ECE %v, Brier %v vs %v, log loss %v vs %v", o.ECE, o.Brier, g.Brier, o.LogLoss, g.LogLoss)
	}
	for _, b := range g.Bins {
		if math.Abs(b.MeanPredicted-b.ObservedRate) > 0.02 {
			t.Fatalf("calibrated bin %+v", b)
		}
	}
}

func TestQueryPosterior(t *testing.T) {
	// One candidate: the pairwise posterior with prior rate/n.
	for _, w := range []float64{-5, 0, 7, 20} {
		got := QueryPosterior([]float64{w}, 1000, 0.5)[0]
		lambda := 0.5 / 1000
		want := logistic2(w + math.Log2(lambda/(1-lambda)))
		if math.Abs(got-want) > 1e-12 {
			t.Errorf("weight %v: %v, want the pairwise %v", w, got, want)
		}
	}
	// Two candidates equally close share what one alone would get; a
	// candidate well clear of the next keeps nearly all of it.
	alone := QueryPosterior([]float64{20}, 1000, 0.5)[0]
	twin := QueryPosterior([]float64{20, 20}, 1000, 0.5)
	if !(twin[0] < 0.55 && math.Abs(twin[0]-twin[1]) < 1e-12 && alone > 0.99) {
		t.Errorf("alone %.3f, twins %.3f and %.3f", alone, twin[0], twin[1])
	}
	if clear := QueryPosterior([]float64{20, 8}, 1000, 0.5); clear[0] < 0.99 {
		t.Errorf("a candidate 12 bits clear of the next: %.3f", clear[0])
	}
	// No overflow with huge weights; the probabilities of a query sum to
	// at most 1.
	ps := QueryPosterior([]float64{900, 850, -3}, 10, 0.9)
	if s := ps[0] + ps[1] + ps[2]; math.IsNaN(s) || s > 1+1e-12 || ps[0] < 0.99 {
		t.Errorf("huge weights: %v", ps)
	}
}

func TestEstimateMatchRate(t *testing.T) {
	// Half the queries have a true record far clear of everything (30
	// bits in a gallery of 1000): the estimate finds about half.
	var qs [][]float64
	for i := range 400 {
		ws := []float64{-2, -3, 1}
		if i%2 == 0 {
			ws = append(ws, 30)
		}
		qs = append(qs, ws)
	}
	if r := EstimateMatchRate(qs, 1000, DefaultMatchRate); math.Abs(r-0.5) > 0.02 {
		t.Errorf("rate %.3f, want about 0.5", r)
	}
	if r := EstimateMatchRate(nil, 1000, 0.2); r != 0.2 {
		t.Errorf("no queries: %v, want the start", r)
	}
}

func TestExclusivePosterior(t *testing.T) {
	// Without rivals it is the query posterior.
	ws := []float64{12, 3, -1}
	want := QueryPosterior(ws, 50, 0.5)[0]
	if got := ExclusivePosterior(12, ws[1:], 50, 0.5, nil); math.Abs(got-want) > 1e-12 {
		t.Fatalf("no rivals: %v, want %v", got, want)
	}
	// A rival as close and explained by nothing else halves the pair;
	// a rival whose own true record is far clearer takes little.
	lone := ExclusivePosterior(12, ws[1:], 50, 0.5, []Rival{{Weight: 12, Others: []float64{-1, -2}}})
	explained := ExclusivePosterior(12, ws[1:], 50, 0.5, []Rival{{Weight: 12, Others: []float64{25}}})
	if !(lone < 0.6*want && explained > 0.95*want) {
		t.Errorf("alone %.3f; with an unexplained rival %.3f, with an explained one %.3f", want, lone, explained)
	}
}

func TestReviewRule(t *testing.T) {
	r := ReviewRule{Threshold: 0.5, Margin: 4, MinWeight: 0}
	got := r.Reasons([]float64{9, 3, 2}, []float64{0.3, 0.01, 0.01})
	if got[0].Code != models.QueueClearBest || !strings.Contains(got[0].Detail, "6.0 bits") || got[1].Code != "" {
		t.Errorf("clear best: %+v", got)
	}
	got = r.Reasons([]float64{9, 7, 2}, []float64{0.6, 0.2, 0.01})
	if got[0].Code != models.QueueProbability || got[1].Code != "" {
		t.Errorf("probability: %+v", got)
	}
	if got := r.Reasons([]float64{9, 7}, []float64{0.3, 0.2}); got[0].Code != "" || got[1].Code != "" {
		t.Errorf("best only 2 bits clear, under the threshold: %+v", got)
	}
	if got := r.Reasons([]float64{-1}, []float64{0.001}); got[0].Code != "" {
		t.Errorf("a lone candidate weighing against a match: %+v", got)
	}
	if got := r.Reasons([]float64{3}, []float64{0.1}); got[0].Code != models.QueueClearBest {
		t.Errorf("a lone candidate for a match: %+v", got)
	}
}

func TestFitCalibration(t *testing.T) {
	// Searches whose weights understate the evidence by half: the true
	// record at weight w is right as often as 2w says.
	rng := rand.New(rand.NewPCG(3, 4))
	var qs []QueryOutcome
	for range 2000 {
		ws := []float64{rng.NormFloat64() - 3, rng.NormFloat64() - 3, 4 + 3*rng.NormFloat64()}
		q := QueryOutcome{Weights: ws, Match: -1, Gallery: 100}
		truth := QueryPosterior([]float64{2 * ws[0], 2 * ws[1], 2 * ws[2]}, 100, 0.5)
		if u := rng.Float64(); u < truth[2] {
			q.Match = 2
		}
		qs = append(qs, q)
	}
	c := FitCalibration(qs, 0.5)
	if c.Slope < 1.6 || c.Slope > 2.5 {
		t.Errorf("fitted %+v, want a slope near 2", c)
	}
	if id := FitCalibration(nil, 0.5); id.Slope != 1 || id.Intercept != 0 {
		t.Errorf("no outcomes: %+v, want the identity", id)
	}
}
