package engine

import (
	"math"
	"math/rand/v2"
	"testing"
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
