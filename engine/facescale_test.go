package engine

import (
	"math"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// scaleTestFaces returns one face per side, dated 8 years apart (group
// 6-10y, ages unknown), at dlib distance dlib and, when mfn >= 0, with
// MobileFaceNet descriptors at cosine distance mfn.
func scaleTestFaces(dlib, mfn float64) (af, bf []childFace) {
	var da, db models.Descriptor
	db[0] = float32(dlib)
	a := childFace{desc: &da, takenOn: "2010-01-01"}
	b := childFace{desc: &db, takenOn: "2018-01-01"}
	if mfn >= 0 {
		var ma, mb models.MFNDescriptor
		ma[0] = 1
		mb[0] = float32(1 - mfn)
		mb[1] = float32(math.Sqrt(1 - (1-mfn)*(1-mfn)))
		a.mfn, b.mfn = &ma, &mb
	}
	return []childFace{a}, []childFace{b}
}

// tableWeight is the weight a pair at distance d in group g gets from the
// face model built on samples alone (one scale, its levels unprefixed):
// what the measured table says, independently of how scales are named.
func tableWeight(t *testing.T, samples map[string]FaceSamples, g string, d float64) float64 {
	t.Helper()
	fp, err := (FaceModel{Bands: DefaultFaceBands(), Samples: samples, PriorPairs: DefaultPriorPairs}).FieldParams()
	if err != nil {
		t.Fatal(err)
	}
	b := DefaultFaceBands()
	var w []float64
	for _, band := range b.BandNames() {
		lp := fp.Levels[g+"/"+band]
		w = append(w, math.Log2(lp.M/lp.U))
	}
	return b.interpolate(w, d)
}

// A pair scored by dlib alone is read on dlib's own measured bands, a pair
// with both models' descriptors on the fused bands (FaceFusion.Read).
func TestFaceEvidenceFollowsThePairsScale(t *testing.T) {
	s := defaultScorer(t)
	child := &models.Child{}
	const dlib, mfn, years = 0.50, 0.35, 8.0

	af, bf := scaleTestFaces(dlib, -1)
	c := compareFaces(s, child, af, child, bf)
	if !strings.HasPrefix(c.Level, "dlib:6-10y/") || !strings.Contains(c.Detail, "dlib's own bands") {
		t.Fatalf("dlib-only pair: level %q, detail %q", c.Level, c.Detail)
	}
	got := s.Score([]FieldComparison{c}).Score
	want := tableWeight(t, MeasuredDlibFaceSamples(), "6-10y", c.Distance)
	fusedAtSame := tableWeight(t, MeasuredFaceSamples(), "6-10y", c.Distance)
	if math.Abs(got-want) > 1e-9 {
		t.Errorf("dlib-only pair at %.3f: %.4f bits, dlib's table gives %.4f", c.Distance, got, want)
	}
	if math.Abs(want-fusedAtSame) < 0.05 {
		t.Fatalf("the tables barely differ at %.3f (%.4f vs %.4f): the test cannot tell them apart", c.Distance, want, fusedAtSame)
	}

	af, bf = scaleTestFaces(dlib, mfn)
	c = compareFaces(s, child, af, child, bf)
	fd := DefaultFaceFusion().Distance(dlib, mfn, years)
	if !strings.HasPrefix(c.Level, "6-10y/") || math.Abs(c.Distance-fd) > 1e-4 {
		t.Fatalf("both-model pair: level %q at %.4f, want group 6-10y at the fused %.4f", c.Level, c.Distance, fd)
	}
	got = s.Score([]FieldComparison{c}).Score
	if want := tableWeight(t, MeasuredFaceSamples(), "6-10y", c.Distance); math.Abs(got-want) > 1e-9 {
		t.Errorf("both-model pair at %.3f: %.4f bits, the fused table gives %.4f", c.Distance, got, want)
	}

	// --face-models dlib: the zero fusion reads every pair on dlib's bands,
	// MobileFaceNet descriptors or not.
	c = compareFaces(s.WithFaceFusion(DefaultFaceFusion().Only(FaceModelsDlib)), child, af, child, bf)
	if !strings.HasPrefix(c.Level, "dlib:6-10y/") || math.Abs(c.Distance-dlib) > 1e-6 {
		t.Errorf("dlib alone: level %q at %.4f, want dlib's bands at %.2f", c.Level, c.Distance, dlib)
	}
}

// Decisions on pairs of one scale re-estimate that scale's bands only.
func TestDecisionsReestimateFaceBandsPerScale(t *testing.T) {
	base := DefaultParams()
	var confirmed [][]FieldComparison
	for range 50 {
		confirmed = append(confirmed, []FieldComparison{{Field: FieldFace, Level: "dlib:6-10y/0.64-0.68", Distance: 0.66}})
	}
	out, err := EstimateFromDecisions(base, confirmed, nil, DecisionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	before, after := base.Fields[FieldFace].Levels, out.Fields[FieldFace].Levels
	if !(after["dlib:6-10y/0.64-0.68"].M > before["dlib:6-10y/0.64-0.68"].M) {
		t.Errorf("dlib band m %.4f, was %.4f: the decisions did not count", after["dlib:6-10y/0.64-0.68"].M, before["dlib:6-10y/0.64-0.68"].M)
	}
	for _, band := range DefaultFaceBands().BandNames() {
		l := "6-10y/" + band
		if math.Abs(after[l].M-before[l].M) > 1e-12 || math.Abs(after[l].U-before[l].U) > 1e-12 {
			t.Errorf("fused level %s moved (%v -> %v) on decisions about dlib-only pairs", l, before[l], after[l])
		}
	}
}
