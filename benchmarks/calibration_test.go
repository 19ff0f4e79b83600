package benchmarks

import (
	"context"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestCalibration checks the calibration measurement on a 1k gallery and
// logs its figures. TRACKMATCH_CALIBRATION_SCALES (e.g. "1k,100k,1M")
// measures larger galleries too: they take minutes and gigabytes, so only
// when asked.
func TestCalibration(t *testing.T) {
	scales := []int{1_000}
	if env := os.Getenv("TRACKMATCH_CALIBRATION_SCALES"); env != "" {
		scales = nil
		for _, s := range strings.Split(env, ",") {
			s = strings.TrimSpace(strings.ToLower(s))
			mult := 1
			switch {
			case strings.HasSuffix(s, "k"):
				s, mult = strings.TrimSuffix(s, "k"), 1_000
			case strings.HasSuffix(s, "m"):
				s, mult = strings.TrimSuffix(s, "m"), 1_000_000
			}
			n, err := strconv.Atoi(s)
			if err != nil {
				t.Fatalf("TRACKMATCH_CALIBRATION_SCALES: %q", s)
			}
			scales = append(scales, n*mult)
		}
	}
	ctx := context.Background()
	for _, scale := range scales {
		pairs := min(500, scale/5)
		g, err := BuildGallery(ctx, GalleryConfig{Dir: t.TempDir(), Found: scale, Missing: 2 * pairs, Pairs: pairs, Seed: 16})
		if err != nil {
			t.Fatal(err)
		}
		modes, err := MeasureCalibration(ctx, g, CalibrationConfig{})
		g.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(modes) != len(calibrationKinds) {
			t.Fatalf("%d modes, want %d", len(modes), len(calibrationKinds))
		}
		for _, m := range modes {
			t.Logf("%d found, %s: %d queries (%d paired), rate %.3f (true %.3f), calibration %.3f·w%+.2f, top ECE %.4f (uncalibrated %.4f), largest band error %.3f, rank-1 %.3f, queue %.3f of true pairs, %d items, %.2f per true pair, %d by clear best",
				scale, m.Mode, m.Queries, m.Paired, m.Rate, m.TrueRate, m.Calibration.Slope, m.Calibration.Intercept, m.Top.ECE, m.RawECE, m.MaxBandError, m.Rank1, m.QueueShare, m.QueueItems, m.QueuePerTrue, m.QueueClearBest)
			for _, r := range reliabilityRows(m.Top) {
				t.Logf("   %s", r)
			}
			for _, p := range m.Margins {
				t.Logf("   clear-best margin %g bits: %.3f of true pairs queued, %.2f items per true pair, %d queries without a true record queue something", p.Margin, p.Share, p.PerTrue, p.UnpairedQueued)
			}
			if m.Queries != pairs || m.Paired == 0 || m.Top.N == 0 {
				t.Errorf("%s: %d held-apart queries (%d paired, %d with a candidate), want %d", m.Mode, m.Queries, m.Paired, m.Top.N, pairs)
			}
			// The rate estimated on one fold is near the gallery's own.
			if math.Abs(m.Rate-m.TrueRate) > 0.15 {
				t.Errorf("%s: match rate estimated %.3f, true %.3f", m.Mode, m.Rate, m.TrueRate)
			}
			// The queue holds at least the true pairs ranked first with a
			// clear margin, and the probability rule's own.
			if m.QueueShare <= 0 || m.QueueItems < int(m.QueueShare*float64(m.Paired)) {
				t.Errorf("%s: queue share %.3f with %d items", m.Mode, m.QueueShare, m.QueueItems)
			}
		}
		for _, f := range CalibrationFigures(scale, modes) {
			t.Logf("figure: %s = %.4g (%s %.4g): %s", f.Name, f.Value, f.Baseline, f.BaselineValue, f.Note)
		}
	}
}
