package engine

import "math"

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
