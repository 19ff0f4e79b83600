package engine

import (
	"math"
	"math/rand/v2"
	"testing"
)

// synthPairs draws genuine and impostor pairs whose dlib distances
// separate by dlibSep and MobileFaceNet distances by mfnSep (in standard
// deviations), independently, at yearsApart.
func synthPairs(r *rand.Rand, n int, dlibSep, mfnSep, yearsApart float64) []FacePair {
	var out []FacePair
	for i := range n {
		same := i%4 == 0
		d := 0.6 + 0.05*r.NormFloat64()
		m := 0.8 + 0.1*r.NormFloat64()
		if same {
			d -= 0.05 * dlibSep
			m -= 0.1 * mfnSep
		}
		out = append(out, FacePair{Dlib: d, MFN: m, YearsApart: yearsApart, Same: same})
	}
	return out
}

func TestFitFaceFusionWeighsTheStrongerModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	// Near in time dlib separates better; far apart MobileFaceNet does.
	pairs := append(synthPairs(r, 2000, 3, 1, 1), synthPairs(r, 2000, 1, 3, 8)...)
	f, err := FitFaceFusion(pairs, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Groups) != len(FaceFusionGapEdges)+1 {
		t.Fatalf("%d groups, want %d", len(f.Groups), len(FaceFusionGapEdges)+1)
	}
	near, far := f.group(1), f.group(8)
	// Weights per standard deviation of each distance.
	if !(near.WDlib*0.05 < near.WMFN*0.1) {
		t.Errorf("near: dlib weight %g·0.05 should outweigh MobileFaceNet %g·0.1", near.WDlib, near.WMFN)
	}
	if !(far.WMFN*0.1 < far.WDlib*0.05) {
		t.Errorf("far: MobileFaceNet weight %g·0.1 should outweigh dlib %g·0.05", far.WMFN, far.WDlib)
	}
	// Groups 3-5 and 11+ have no pairs: they fall back to the fit on all.
	if g := f.group(4); g.WDlib != f.group(20).WDlib {
		t.Errorf("empty groups fitted differently: %+v vs %+v", g, f.group(20))
	}
	// Undated pairs may be any gap apart: they are read by the fit on
	// every pair pooled, which weighs both models between near and far.
	if u := f.group(-1); u != f.Unknown || u == nil || u.WDlib == near.WDlib || u.WMFN == far.WMFN {
		t.Errorf("undated pairs read by %+v, want the pooled fit %+v", u, f.Unknown)
	}
	if g := f.group(20); g.WDlib != f.Unknown.WDlib {
		t.Errorf("an empty group should fall back to the pooled fit: %+v vs %+v", g, f.Unknown)
	}
	if g := (FaceFusion{Groups: f.Groups}).group(math.NaN()); g != &f.Groups[0] {
		t.Errorf("without a pooled fit, undated pairs should be read by the first group")
	}

	// The fused distance is on dlib's scale: a typical genuine pair far
	// apart, whose dlib distance says little, moves down; a typical
	// impostor stays above it.
	gen := f.Distance(0.55, 0.5, 8)
	imp := f.Distance(0.6, 0.8, 8)
	if !(gen < 0.55 && imp > gen) {
		t.Errorf("fused genuine %.3f, impostor %.3f", gen, imp)
	}
	if f.LogLR(0.55, 0.5, 8) <= 0 || f.LogLR(0.6, 0.8, 8) >= 0 {
		t.Errorf("LogLR genuine %.2f, impostor %.2f", f.LogLR(0.55, 0.5, 8), f.LogLR(0.6, 0.8, 8))
	}
	// Without a MobileFaceNet distance the dlib distance passes through.
	if got := f.Distance(0.57, math.NaN(), 8); got != 0.57 {
		t.Errorf("no MobileFaceNet: %g, want 0.57", got)
	}
	if got := (FaceFusion{}).Distance(0.57, 0.3, 1); got != 0.57 {
		t.Errorf("no groups: %g, want 0.57", got)
	}
}

// TestFaceFusionBeatsEitherModel checks that ranking by the fused distance
// separates genuine from impostor pairs better than either distance alone
// when the two models' errors are independent.
func TestFaceFusionBeatsEitherModel(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	train := synthPairs(r, 4000, 1.5, 1.5, 2)
	test := synthPairs(r, 4000, 1.5, 1.5, 2)
	f, err := FitFaceFusion(train, nil)
	if err != nil {
		t.Fatal(err)
	}
	auc := func(score func(p FacePair) float64) float64 {
		var gen, imp []float64
		for _, p := range test {
			if p.Same {
				gen = append(gen, score(p))
			} else {
				imp = append(imp, score(p))
			}
		}
		var wins float64
		for _, g := range gen {
			for _, i := range imp {
				if g < i {
					wins++
				}
			}
		}
		return wins / float64(len(gen)*len(imp))
	}
	dl := auc(func(p FacePair) float64 { return p.Dlib })
	mf := auc(func(p FacePair) float64 { return p.MFN })
	fu := auc(func(p FacePair) float64 { return f.Distance(p.Dlib, p.MFN, p.YearsApart) })
	if fu <= dl+0.02 || fu <= mf+0.02 {
		t.Errorf("AUC fused %.3f, dlib %.3f, MobileFaceNet %.3f: fusion should beat both", fu, dl, mf)
	}
}

func TestFitFaceFusionRefusesTooFewPairs(t *testing.T) {
	if _, err := FitFaceFusion([]FacePair{{Dlib: 0.3, MFN: 0.2, Same: true}}, nil); err == nil {
		t.Error("fitted on one pair")
	}
	if _, err := FitFaceFusion(nil, []float64{5, 3}); err == nil {
		t.Error("unsorted edges accepted")
	}
}

func TestDefaultFaceFusion(t *testing.T) {
	f := DefaultFaceFusion()
	for _, years := range []float64{0, 4, 8, 15, -1} {
		// A MobileFaceNet distance typical of the same child (0.3) pulls the
		// fused distance below dlib's; one typical of another child (0.9)
		// pushes it above.
		if got := f.Distance(0.5, 0.3, years); !(got < 0.5) {
			t.Errorf("%g years: close MobileFaceNet gives %.3f, want under 0.5", years, got)
		}
		if got := f.Distance(0.5, 0.9, years); !(got > 0.5) {
			t.Errorf("%g years: far MobileFaceNet gives %.3f, want over 0.5", years, got)
		}
		if f.LogLR(0.4, 0.3, years) <= f.LogLR(0.6, 0.9, years) {
			t.Errorf("%g years: LogLR does not fall with distance", years)
		}
	}
}

func TestFaceFusionOnlyReadsOneModel(t *testing.T) {
	f := DefaultFaceFusion()
	for _, years := range []float64{-1, 1, 4, 8, 20} {
		if d := f.Only(FaceModelsDlib).Distance(0.5, 0.3, years); d != 0.5 {
			t.Errorf("%g years: dlib alone read 0.5 as %g", years, d)
		}
		mfn := f.Only(FaceModelsMobileFaceNet)
		a, b := mfn.Distance(0.3, 0.4, years), mfn.Distance(0.7, 0.4, years)
		if a != b {
			t.Errorf("%g years: MobileFaceNet alone depends on dlib's distance: %g vs %g", years, a, b)
		}
		if near, far := mfn.Distance(0.5, 0.3, years), mfn.Distance(0.5, 0.6, years); !(near < far) {
			t.Errorf("%g years: MobileFaceNet alone reads 0.3 as %g, 0.6 as %g", years, near, far)
		}
		if d := mfn.Distance(0.5, -1, years); d != 0.5 {
			t.Errorf("%g years: a pair without MobileFaceNet should keep dlib's 0.5, got %g", years, d)
		}
		if f.Only(FaceModelsBoth).Distance(0.5, 0.3, years) != f.Distance(0.5, 0.3, years) {
			t.Errorf("%g years: both models should read as the fusion itself", years)
		}
	}
}
