package engine

import (
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func TestFaceLevels(t *testing.T) {
	b := DefaultFaceBands()
	for _, tc := range []struct {
		d, years, age float64
		want          string
	}{
		{0.27, 0.5, 10, "0-1y/<0.30"},
		{0.3999, 1, 10, "1-3y/0.35-0.40"}, // 1 year is the first edge: the next group
		{0.40, 2.9, 10, "1-3y/0.40-0.44"},
		{0.55, 4, 7, "3-6y/0.52-0.56"},
		{0.69, 8, 6, "6-10y/0.68-0.72"},
		{0.70, 7, 3, "u5:6-10y/0.68-0.72"},
		{0.70, 10, 3, "u5:10y+/0.68-0.72"}, // under-fives ten years apart: weak, but counted
		{0.50, 12, 6, "10y+/0.48-0.52"},
		{0.50, 2, 3, "u5:0-3y/0.48-0.52"},
		{0.85, 4, 4.9, "u5:3-6y/>=0.80"},
		{0.50, 2, -1, "1-3y/0.48-0.52"}, // unknown age counts as not young
		{0.50, 20, -1, "10y+/0.48-0.52"},
		{0.50, -1, 3, "unknown/0.48-0.52"},
		{0.50, math.NaN(), 3, "unknown/0.48-0.52"},
	} {
		if got := b.Level(FaceScaleFused, tc.d, tc.years, tc.age); got != tc.want {
			t.Errorf("Level(%v, %v, %v) = %q, want %q", tc.d, tc.years, tc.age, got, tc.want)
		}
	}
	want := []string{"0-1y", "1-3y", "3-6y", "6-10y", "10y+", "u5:0-3y", "u5:3-6y", "u5:6-10y", "u5:10y+", "unknown"}
	if got := b.Groups(); !slices.Equal(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
	if n := len(b.Levels()); n != len(want)*13*len(FaceScales()) {
		t.Fatalf("%d face levels, want %d", n, len(want)*13*len(FaceScales()))
	}
}

func TestFaceComparison(t *testing.T) {
	b := DefaultFaceBands()
	c := b.CompareFaces(FaceScaleFused, 0.46, 4, 3, true)
	if c.Field != FieldFace || c.Level != "u5:3-6y/0.44-0.48" || c.Conflict || c.Distance != 0.46 {
		t.Fatalf("comparison %+v", c)
	}
	for _, want := range []string{"distance 0.46", "4 years apart", "age 3", "weak evidence"} {
		if !strings.Contains(c.Detail, want) {
			t.Errorf("detail %q lacks %q", c.Detail, want)
		}
	}
	if c := b.CompareFaces(FaceScaleFused, 0.46, 0.25, -1, true); !strings.Contains(c.Detail, "3 months apart") || strings.Contains(c.Detail, "age") {
		t.Errorf("detail %q", c.Detail)
	}
	if c := b.CompareFaces(FaceScaleFused, 0.46, -1, -1, true); !strings.Contains(c.Detail, "unknown dates") {
		t.Errorf("detail %q", c.Detail)
	}
	// An under-five eleven years later still counts, weakly, and says so.
	young := b.CompareFaces(FaceScaleFused, 0.46, 11, 2, true)
	if young.Level != "u5:10y+/0.44-0.48" || !strings.Contains(young.Detail, "weaker still after 10 years") || !strings.Contains(young.Detail, "11 years apart") {
		t.Errorf("under-five 11 years apart: %+v", young)
	}
	if w := defaultScorer(t).Score([]FieldComparison{young}).Score; !(w > 0) {
		t.Errorf("under-five 11 years apart at 0.46 weighs %.2f bits, want a small positive weight", w)
	}
	for _, c := range []FieldComparison{b.CompareFaces(FaceScaleFused, 0.46, 4, 3, false), b.CompareFaces(FaceScaleFused, math.NaN(), 4, 3, true)} {
		if c.Level != "" || c.Field != FieldFace {
			t.Errorf("missing face gave %+v", c)
		}
		if got := defaultScorer(t).Score([]FieldComparison{c}); got.Score != 0 || got.Explanation[0].Weight != 0 {
			t.Errorf("missing face weighs %v", got.Score)
		}
	}
}

// TestFaceModelTable logs the default face weights (bits) by group and
// band: the table the report quotes.
func TestFaceModelTable(t *testing.T) {
	p := DefaultParams()
	b := DefaultFaceBands()
	var s strings.Builder
	fmt.Fprintf(&s, "%-14s", "group")
	for _, band := range b.BandNames() {
		fmt.Fprintf(&s, "%10s", band)
	}
	for _, g := range b.ScaledGroups() {
		fmt.Fprintf(&s, "\n%-14s", g)
		for _, band := range b.BandNames() {
			fmt.Fprintf(&s, "%10.2f", levelWeight(p, FieldFace, g+"/"+band))
		}
	}
	t.Logf("face weights, bits:\n%s", s.String())
}

// faceWeight is the default scorer's face weight of a pair.
func faceWeight(t *testing.T, d, years, age float64) float64 {
	t.Helper()
	return defaultScorer(t).Score([]FieldComparison{DefaultFaceBands().CompareFaces(FaceScaleFused, d, years, age, true)}).Score
}

func TestFaceWeightsShrinkWithYearsAndYouth(t *testing.T) {
	w := func(d, years, age float64) float64 { return faceWeight(t, d, years, age) }
	// A close pair weighs less the more years lie between the photos, for
	// older children and for under-fives alike. (Photos under a year apart
	// are left out: 4 measured pairs, so that group is mostly its parent's.)
	// Close on the scale the bands are measured on, both models read
	// together: genuine pairs 1-3 years apart sit at 0.37±0.09 there, so
	// 0.45 is already far for them and is weighed by the data, not by
	// this rule.
	for _, tc := range []struct{ age, d float64 }{{8, 0.30}, {8, 0.35}, {8, 0.38}, {2, 0.30}, {2, 0.36}} {
		prev := math.Inf(1)
		for _, years := range []float64{2, 4, 8, 12} {
			cur := w(tc.d, years, tc.age)
			if cur > prev+1e-9 {
				t.Errorf("age %v, distance %v weighs %.2f at %v years, more than %.2f at fewer", tc.age, tc.d, cur, years, prev)
			}
			prev = cur
		}
	}
	// Measured: a decade costs bits at 0.35.
	if got := w(0.35, 2, 8) - w(0.35, 12, 8); got < 1 {
		t.Errorf("ten years more between photos cost %.2f bits at distance 0.35, want at least 1", got)
	}
	// A far pair counts less against a match across many years.
	if w(0.75, 12, 8) <= w(0.75, 2, 8) {
		t.Error("distance 0.75 should weigh less against a match after 12 years")
	}
	// Under-fives ten years on: weak but never zero, and a nearer face
	// still weighs more, so a face-only search ranks by it.
	if a, b := w(0.50, 11, 2), w(0.65, 11, 2); !(a > 0 && a > b && a < w(0.50, 8, 2)) {
		t.Errorf("under-five 11 years apart: %.2f bits at 0.50, %.2f at 0.65, %.2f at 0.50 after 8 years", a, b, w(0.50, 8, 2))
	}
	// Weights come from the data, not a cap: photos of unknown dates at
	// 0.27 (the same adult) weigh far more than at 0.39, and both count
	// for a match.
	if a, b := w(0.27, -1, -1), w(0.39, -1, -1); !(a > b+2 && b > 3) {
		t.Errorf("unknown dates: %.2f bits at 0.27, %.2f at 0.39", a, b)
	}
	// Within every group, nearer never weighs less (bands and the
	// interpolation between them); the nearest counts for, the farthest
	// against.
	p := DefaultParams()
	b := DefaultFaceBands()
	for _, g := range b.ScaledGroups() {
		prev := math.Inf(1)
		for _, band := range b.BandNames() {
			cur := levelWeight(p, FieldFace, g+"/"+band)
			if cur > prev+1e-12 {
				t.Errorf("group %s: band %s weighs %.3f, more than the nearer band's %.3f", g, band, cur, prev)
			}
			prev = cur
		}
		if near, far := levelWeight(p, FieldFace, g+"/<0.30"), levelWeight(p, FieldFace, g+"/>=0.80"); near <= 2 || far >= -1 {
			t.Errorf("group %s: nearest band %.2f, farthest %.2f", g, near, far)
		}
	}
	for _, tc := range []struct{ years, age float64 }{{2, 8}, {12, 8}, {11, 2}, {-1, -1}} {
		prev := math.Inf(1)
		for d := 0.2; d < 1; d += 0.005 {
			cur := w(d, tc.years, tc.age)
			if cur > prev+1e-9 {
				t.Fatalf("%v years, age %v: %.3f bits at %.3f, more than %.3f just nearer", tc.years, tc.age, cur, d, prev)
			}
			prev = cur
		}
	}
}

// TestFaceModelShrinks checks the estimator: a group with few pairs
// follows its parent, one with many its own counts, and no band's share
// is below half a pair of what was measured.
func TestFaceModelShrinks(t *testing.T) {
	b := DefaultFaceBands()
	parent := FaceSamples{
		Genuine:  b.NewDistanceSample(normalSample(1, 2000, 0.50, 0.10)),
		Impostor: b.NewDistanceSample(normalSample(2, 20000, 0.70, 0.09)),
	}
	few := FaceSamples{Genuine: b.NewDistanceSample([]float64{0.31, 0.33}), Impostor: parent.Impostor}
	many := FaceSamples{Genuine: b.NewDistanceSample(normalSample(3, 5000, 0.33, 0.03)), Impostor: parent.Impostor}
	fm := FaceModel{Bands: b, PriorPairs: DefaultPriorPairs, Samples: map[string]FaceSamples{FaceGroupUnknown: parent, "1-3y": few, "3-6y": many}}
	fp, err := fm.FieldParams()
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultParams()
	p.Fields[FieldFace] = fp
	if err := ValidateParams(p); err != nil {
		t.Fatal(err)
	}
	m := func(l string) float64 { return fp.Levels[l].M }
	// Two pairs at 0.31–0.33 move the 1-3y group a little toward them;
	// 5000 pairs at 0.33±0.03 make 3-6y their own.
	if got, par := m("1-3y/0.30-0.35"), m("6-10y/0.30-0.35"); !(got > par && got < 0.2) {
		t.Errorf("two pairs: m(0.30-0.35) = %.3f, parent-only group %.3f", got, par)
	}
	if got := m("3-6y/0.30-0.35"); got < 0.5 {
		t.Errorf("5000 pairs at 0.33: m(0.30-0.35) = %.3f, want most of them", got)
	}
	// No pair of 20000 impostors below 0.30: u there is the prior normal's
	// tail, never more than half a pair; no genuine pair above 0.80 of the
	// 5000: m there is half a pair, not the normal's far tail (photos that
	// fail land there).
	floor := 0.5 / (20000 + DefaultPriorPairs)
	if u := fp.Levels["unknown/<0.30"].U; u > floor || u < 1e-7 {
		t.Errorf("u(<0.30) = %g, want the normal tail's, at most %g", u, floor)
	}
	if got, floor := m("3-6y/>=0.80"), 0.5/(5000+DefaultPriorPairs); got < floor/2 {
		t.Errorf("m(>=0.80) = %g, want about half a pair, %g (pooled with its neighbours)", got, floor)
	}
	if _, err := (FaceModel{Bands: b, PriorPairs: 20, Samples: map[string]FaceSamples{}}).FieldParams(); err == nil {
		t.Error("no unknown-dates samples: want an error")
	}
}

func normalSample(seed uint64, n int, mean, sd float64) []float64 {
	r := rand.New(rand.NewPCG(seed, seed))
	out := make([]float64, n)
	for i := range out {
		out[i] = mean + sd*r.NormFloat64()
	}
	return out
}

func TestMakeMonotoneIdempotent(t *testing.T) {
	fp := DefaultParams().Fields[FieldFace]
	again := models.FieldParams{Levels: maps.Clone(fp.Levels)}
	DefaultFaceBands().MakeMonotone(again)
	for l, lp := range fp.Levels {
		if again.Levels[l] != lp {
			t.Fatalf("%s moved from %+v to %+v", l, lp, again.Levels[l])
		}
	}
}

func TestPoolAdjacentViolators(t *testing.T) {
	m := []float64{0.1, 0.3, 0.4, 0.2}
	u := []float64{0.01, 0.01, 0.18, 0.8}
	poolAdjacentViolators(m, u)
	// Bands 0 and 1 pool to ratio 0.4/0.02 = 20 each, shared in proportion
	// to m+u (0.11 and 0.31); the group's m and u still sum to 1.
	wantM := []float64{0.4 * 0.11 / 0.42, 0.4 * 0.31 / 0.42, 0.4, 0.2}
	wantU := []float64{0.02 * 0.11 / 0.42, 0.02 * 0.31 / 0.42, 0.18, 0.8}
	for i := range m {
		if math.Abs(m[i]-wantM[i]) > 1e-12 || math.Abs(u[i]-wantU[i]) > 1e-12 {
			t.Fatalf("m = %v, u = %v; want %v, %v", m, u, wantM, wantU)
		}
	}
	for i := 1; i < len(m); i++ {
		if m[i]/u[i] > m[i-1]/u[i-1]+1e-12 {
			t.Fatalf("ratios still increase: m=%v u=%v", m, u)
		}
	}
}
