package engine

import (
	"math"
	"math/rand/v2"
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
		{0.55, 4, 7, "3-6y/0.55-0.62"},
		{0.69, 8, 6, "6-10y/0.62-0.70"},
		{0.70, 12, 3, "u5:3y+/>=0.70"},
		{0.50, 12, 6, "10y+/0.48-0.55"},
		{0.50, 2, 3, "u5:0-3y/0.48-0.55"},
		{0.50, 2, -1, "1-3y/0.48-0.55"}, // unknown age counts as not young
		{0.50, -1, 3, "unknown/0.48-0.55"},
		{0.50, math.NaN(), 3, "unknown/0.48-0.55"},
	} {
		if got := b.Level(tc.d, tc.years, tc.age); got != tc.want {
			t.Errorf("Level(%v, %v, %v) = %q, want %q", tc.d, tc.years, tc.age, got, tc.want)
		}
	}
	if n := len(b.Levels()); n != 8*6 {
		t.Fatalf("%d face levels, want 48", n)
	}
}

func TestFaceComparison(t *testing.T) {
	b := DefaultFaceBands()
	c := b.CompareFaces(0.46, 4, 3, true)
	if c.Field != FieldFace || c.Level != "u5:3y+/0.40-0.48" || c.Conflict {
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
	for _, c := range []FieldComparison{b.CompareFaces(0.46, 4, 3, false), b.CompareFaces(math.NaN(), 4, 3, true)} {
		if c.Level != "" || c.Field != FieldFace {
			t.Errorf("missing face gave %+v", c)
		}
		if got := defaultScorer(t).Score([]FieldComparison{c}); got.Score != 0 || got.Explanation[0].Weight != 0 {
			t.Errorf("missing face weighs %v", got.Score)
		}
	}
}

func TestFaceWeightsShrinkWithYearsAndYouth(t *testing.T) {
	p := DefaultParams()
	b := DefaultFaceBands()
	w := func(d, years, age float64) float64 { return levelWeight(p, FieldFace, b.Level(d, years, age)) }
	// A close pair weighs less the more years lie between the photos.
	prev := math.Inf(1)
	for _, years := range []float64{0.5, 2, 4, 8, 12} {
		cur := w(0.45, years, 8)
		if cur > prev {
			t.Errorf("distance 0.45 weighs %.2f at %v years, more than %.2f at fewer", cur, years, prev)
		}
		prev = cur
	}
	if w(0.45, 0.5, 8)-w(0.45, 12, 8) < 2 {
		t.Error("twelve years between photos should cost at least 2 bits at distance 0.45")
	}
	// A far pair counts less against a match across many years, too.
	if w(0.75, 12, 8) <= w(0.75, 0.5, 8) {
		t.Error("distance 0.75 should weigh less against a match after 12 years")
	}
	// Young children: weaker evidence than older ones at the same gap.
	for _, d := range []float64{0.35, 0.45, 0.52} {
		if w(d, 2, 3) >= w(d, 2, 8) {
			t.Errorf("distance %v: under-five weighs %.2f, not less than %.2f", d, w(d, 2, 3), w(d, 2, 8))
		}
	}
	// Within every group, nearer never weighs less; genuine-like distances
	// count for, impostor-like against.
	for _, g := range b.Groups() {
		prev := math.Inf(1)
		for _, band := range b.BandNames() {
			cur := levelWeight(p, FieldFace, g+"/"+band)
			if cur > prev+1e-12 {
				t.Errorf("group %s: band %s weighs %.3f, more than the nearer band's %.3f", g, band, cur, prev)
			}
			prev = cur
		}
		if levelWeight(p, FieldFace, g+"/<0.40") <= 2 || levelWeight(p, FieldFace, g+"/>=0.70") >= 0 {
			t.Errorf("group %s: nearest band %.2f, farthest %.2f", g, levelWeight(p, FieldFace, g+"/<0.40"), levelWeight(p, FieldFace, g+"/>=0.70"))
		}
	}
}

func TestPoolAdjacentViolators(t *testing.T) {
	m := []float64{0.1, 0.3, 0.4, 0.2}
	u := []float64{0.01, 0.01, 0.18, 0.8}
	poolAdjacentViolators(m, u)
	// Bands 0 and 1 pool to ratio 0.4/0.02 = 20 each; m stays.
	wantM := []float64{0.1, 0.3, 0.4, 0.2}
	wantU := []float64{0.005, 0.015, 0.18, 0.8}
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
	// 0.40–0.48, scaled by 0.94 for the 2×0.03 that MFloor gives the two
	// empty far bands: 0.465.
	if got := fp.Levels["1-3y/0.40-0.48"].M; math.Abs(got-0.465) > 0.02 || fp.Levels["1-3y/>=0.70"].M != fm.MFloor {
		t.Fatalf("measured m: %v in 0.40-0.48, %v above 0.70", got, fp.Levels["1-3y/>=0.70"].M)
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
