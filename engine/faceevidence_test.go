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
		{0.30, 0.5, 10, "0-1y/<0.40"},
		{0.3999, 1, 10, "1-3y/<0.40"}, // 1 year is the first edge: the next group
		{0.40, 2.9, 10, "1-3y/0.40-0.48"},
		{0.55, 4, 7, "3-6y/0.52-0.56"},
		{0.69, 8, 6, "6-10y/0.68-0.72"},
		{0.70, 7, 3, "u5:6-10y/0.68-0.72"},
		{0.70, 10, 3, ""}, // under-fives ten years apart: not counted
		{0.50, 12, 6, "10y+/0.48-0.52"},
		{0.50, 2, 3, "u5:0-3y/0.48-0.52"},
		{0.85, 4, 4.9, "u5:3-6y/>=0.80"},
		{0.50, 2, -1, "1-3y/0.48-0.52"}, // unknown age counts as not young
		{0.50, 20, -1, "10y+/0.48-0.52"},
		{0.50, -1, 3, "unknown/0.48-0.52"},
		{0.50, math.NaN(), 3, "unknown/0.48-0.52"},
	} {
		if got := b.Level(tc.d, tc.years, tc.age); got != tc.want {
			t.Errorf("Level(%v, %v, %v) = %q, want %q", tc.d, tc.years, tc.age, got, tc.want)
		}
	}
	want := []string{"0-1y", "1-3y", "3-6y", "6-10y", "10y+", "u5:0-3y", "u5:3-6y", "u5:6-10y", "unknown"}
	if got := b.Groups(); !slices.Equal(got, want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
	if n := len(b.Levels()); n != len(want)*10 {
		t.Fatalf("%d face levels, want %d", n, len(want)*10)
	}
}

func TestFaceComparison(t *testing.T) {
	b := DefaultFaceBands()
	c := b.CompareFaces(0.46, 4, 3, true)
	if c.Field != FieldFace || c.Level != "u5:3-6y/0.40-0.48" || c.Conflict {
		t.Fatalf("comparison %+v", c)
	}
	for _, want := range []string{"distance 0.46", "4 years apart", "age 3", "weak evidence"} {
		if !strings.Contains(c.Detail, want) {
			t.Errorf("detail %q lacks %q", c.Detail, want)
		}
	}
	if c := b.CompareFaces(0.46, 0.25, -1, true); !strings.Contains(c.Detail, "3 months apart") || strings.Contains(c.Detail, "age") {
		t.Errorf("detail %q", c.Detail)
	}
	if c := b.CompareFaces(0.46, -1, -1, true); !strings.Contains(c.Detail, "unknown dates") {
		t.Errorf("detail %q", c.Detail)
	}
	young := b.CompareFaces(0.46, 11, 2, true)
	if young.Level != "" || !strings.Contains(young.Detail, "not counted") || !strings.Contains(young.Detail, "11 years apart") {
		t.Errorf("under-five 11 years apart: %+v", young)
	}
	for _, c := range []FieldComparison{b.CompareFaces(0.46, 4, 3, false), b.CompareFaces(math.NaN(), 4, 3, true), young} {
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
	fmt.Fprintf(&s, "%-9s", "group")
	for _, band := range b.BandNames() {
		fmt.Fprintf(&s, "%10s", band)
	}
	for _, g := range b.Groups() {
		fmt.Fprintf(&s, "\n%-9s", g)
		for _, band := range b.BandNames() {
			fmt.Fprintf(&s, "%10.2f", levelWeight(p, FieldFace, g+"/"+band))
		}
	}
	t.Logf("face weights, bits:\n%s", s.String())
}

func TestFaceWeightsShrinkWithYearsAndYouth(t *testing.T) {
	p := DefaultParams()
	b := DefaultFaceBands()
	w := func(d, years, age float64) float64 { return levelWeight(p, FieldFace, b.Level(d, years, age)) }
	// A close pair (nearer than any group's typical true pair) weighs less
	// the more years lie between the photos, for older children and for
	// under-fives alike; and for older children at 0.45 too.
	for _, tc := range []struct{ age, d float64 }{{8, 0.30}, {8, 0.38}, {8, 0.45}, {2, 0.30}, {2, 0.38}} {
		age, d := tc.age, tc.d
		{
			prev := math.Inf(1)
			for _, years := range []float64{0.5, 2, 4, 8, 12} {
				l := b.Level(d, years, age)
				if l == "" {
					continue
				}
				cur := levelWeight(p, FieldFace, l)
				if cur > prev+1e-9 {
					t.Errorf("age %v, distance %v weighs %.2f at %v years, more than %.2f at fewer", age, d, cur, years, prev)
				}
				prev = cur
			}
		}
	}
	// Measured: a decade costs about a bit at 0.45 and two at 0.35.
	if got := w(0.45, 0.5, 8) - w(0.45, 12, 8); got < 1 {
		t.Errorf("twelve years between photos cost %.2f bits at distance 0.45, want at least 1", got)
	}
	if got := w(0.35, 0.5, 8) - w(0.35, 12, 8); got < 2 {
		t.Errorf("twelve years between photos cost %.2f bits at distance 0.35, want at least 2", got)
	}
	// A far pair counts less against a match across many years, too.
	if w(0.75, 12, 8) <= w(0.75, 0.5, 8) {
		t.Error("distance 0.75 should weigh less against a match after 12 years")
	}
	// Young children: weaker evidence than older ones at the same gap.
	for _, years := range []float64{2, 4, 8} {
		for _, d := range []float64{0.35, 0.45} {
			if w(d, years, 3) >= w(d, years, 8) {
				t.Errorf("distance %v, %v years: under-five weighs %.2f, not less than %.2f", d, years, w(d, years, 3), w(d, years, 8))
			}
		}
	}
	// Bounded: within every group, nearer never weighs less; the nearest
	// band counts for and the farthest against; and no band is extreme,
	// whatever the measured distributions would say (FaceModel.Failure,
	// LookAlike).
	fm := DefaultFaceModel()
	hi, lo := -math.Log2(fm.LookAlike), math.Log2(fm.Failure)
	for _, g := range b.Groups() {
		prev := math.Inf(1)
		for _, band := range b.BandNames() {
			cur := levelWeight(p, FieldFace, g+"/"+band)
			if cur > prev+1e-12 {
				t.Errorf("group %s: band %s weighs %.3f, more than the nearer band's %.3f", g, band, cur, prev)
			}
			if cur > hi || cur < lo-1e-9 {
				t.Errorf("group %s band %s weighs %.2f, outside [%.2f, %.2f]", g, band, cur, lo, hi)
			}
			prev = cur
		}
		near, far := levelWeight(p, FieldFace, g+"/<0.40"), levelWeight(p, FieldFace, g+"/>=0.80")
		if near <= 0.5 || far >= -1 {
			t.Errorf("group %s: nearest band %.2f, farthest %.2f", g, near, far)
		}
	}
	if top := w(0.30, 2, 10); top > 6 || top < 4 {
		t.Errorf("the strongest band weighs %.2f bits; the model is meant to cap near 5", top)
	}
}

// TestFaceModelMixesAndWidens checks the model's construction: the margins
// move each group's distributions toward each other, and FieldParams mixes
// failures and look-alikes in.
func TestFaceModelMixesAndWidens(t *testing.T) {
	measured := MeasuredFaceDistances()
	fm := DefaultFaceModel()
	for _, g := range fm.Bands.Groups() {
		d, ok := measured[g]
		if !ok {
			t.Fatalf("no measured distances for group %s", g)
		}
		w := fm.Groups[g]
		if w.Genuine[0].Mean <= d.Genuine[0].Mean || w.Genuine[0].SD <= d.Genuine[0].SD {
			t.Errorf("%s: genuine %+v not widened from %+v", g, w.Genuine, d.Genuine)
		}
		for i := range w.Impostor {
			if w.Impostor[i].Mean >= d.Impostor[i].Mean || w.Impostor[i].SD <= d.Impostor[i].SD {
				t.Errorf("%s: impostor %+v not moved from %+v", g, w.Impostor, d.Impostor)
			}
		}
	}
	// Genuine distances grow with years apart.
	for _, series := range [][]string{{"1-3y", "3-6y", "6-10y", "10y+"}, {"u5:0-3y", "u5:3-6y", "u5:6-10y"}} {
		for i := 1; i < len(series); i++ {
			if measured[series[i]].Genuine[0].Mean <= measured[series[i-1]].Genuine[0].Mean {
				t.Errorf("genuine mean of %s not above %s's", series[i], series[i-1])
			}
		}
	}
	// Without failures and look-alikes, two far-apart distributions give an
	// extreme weight; with them, it is bounded.
	sharp := FaceModel{Bands: fm.Bands, Groups: map[string]FaceDistributions{}, UFloor: 1e-9, MFloor: 1e-9}
	for _, g := range fm.Bands.Groups() {
		sharp.Groups[g] = FaceDistributions{Genuine: Normal(0.35, 0.05), Impostor: Normal(0.85, 0.05)}
	}
	raw, err := sharp.FieldParams()
	if err != nil {
		t.Fatal(err)
	}
	sharp.Failure, sharp.LookAlike = 0.03, 0.005
	mixed, err := sharp.FieldParams()
	if err != nil {
		t.Fatal(err)
	}
	wr := func(fp models.FieldParams, l string) float64 { return math.Log2(fp.Levels[l].M / fp.Levels[l].U) }
	if wr(raw, "1-3y/<0.40") < 15 || wr(raw, "1-3y/>=0.80") > -15 {
		t.Fatalf("unmixed weights %.1f and %.1f, want extreme", wr(raw, "1-3y/<0.40"), wr(raw, "1-3y/>=0.80"))
	}
	if w := wr(mixed, "1-3y/<0.40"); w > -math.Log2(0.005) || w < 7 {
		t.Errorf("mixed nearest weight %.2f, want just under %.2f", w, -math.Log2(0.005))
	}
	if w := wr(mixed, "1-3y/>=0.80"); w < math.Log2(0.03)-1e-9 || w > -4.5 {
		t.Errorf("mixed farthest weight %.2f, want just above %.2f", w, math.Log2(0.03))
	}
	bad := fm
	bad.Groups = map[string]FaceDistributions{}
	for g, d := range fm.Groups {
		bad.Groups[g] = d
	}
	bad.Groups["1-3y"] = FaceDistributions{Genuine: Normal(0.4, 0.1), Impostor: Mixture{{0.5, Gaussian{0.6, 0.1}}}}
	if _, err := bad.FieldParams(); err == nil {
		t.Error("impostor weights summing to 0.5: want an error")
	}
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

func TestFaceFromSamples(t *testing.T) {
	fm := DefaultFaceModel()
	prior := DefaultParams().Fields[FieldFace]
	r := rand.New(rand.NewPCG(1, 1))
	genuine := map[string][]float64{}
	impostor := map[string][]float64{}
	for range 20000 {
		genuine["1-3y"] = append(genuine["1-3y"], 0.44+0.06*r.NormFloat64())
		impostor["1-3y"] = append(impostor["1-3y"], 0.90+0.08*r.NormFloat64())
	}
	fp, err := fm.FromSamples(genuine, impostor, prior, 10)
	if err != nil {
		t.Fatal(err)
	}
	p := DefaultParams()
	p.Fields[FieldFace] = fp
	if err := ValidateParams(p); err != nil {
		t.Fatal(err)
	}
	// The measured group follows the samples: N(0.44, 0.06) puts 0.495 in
	// 0.40–0.48, scaled by 0.99 for the 5×0.002 that MFloor gives the empty
	// far bands: 0.49.
	if got := fp.Levels["1-3y/0.40-0.48"].M; math.Abs(got-0.49) > 0.02 || fp.Levels["1-3y/>=0.80"].M != fm.MFloor {
		t.Fatalf("measured m: %v in 0.40-0.48, %v above 0.80", got, fp.Levels["1-3y/>=0.80"].M)
	}
	// Both near bands have u at the floor, so the nearer (less m) would
	// weigh less; they are pooled to one ratio.
	if w0, w1 := levelWeight(p, FieldFace, "1-3y/<0.40"), levelWeight(p, FieldFace, "1-3y/0.40-0.48"); math.Abs(w0-w1) > 1e-9 {
		t.Fatalf("near bands weigh %v and %v; want pooled", w0, w1)
	}
	// Groups without samples keep their prior.
	for _, band := range fm.Bands.BandNames() {
		l := "6-10y/" + band
		if got, want := fp.Levels[l], prior.Levels[l]; math.Abs(got.M-want.M) > 1e-9 || math.Abs(got.U-want.U) > 1e-9 {
			t.Fatalf("%s: %+v, prior %+v", l, got, want)
		}
	}
	if _, err := fm.FromSamples(genuine, impostor, models.FieldParams{}, 10); err == nil {
		t.Fatal("no prior levels: want an error")
	}
}
