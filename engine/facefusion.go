package engine

import (
	"fmt"
	"math"
	"sort"
)

// Two face models describe each face: dlib's ResNet (Euclidean distance)
// and MobileFaceNet (cosine distance). They fail on different photos, so
// their distances are combined into one face field, never counted as two.
// FaceFusion learns, for each group of years between the photos, a logistic
// model of "same child" on both distances, and another on dlib's alone; a
// pair's fused distance is the dlib distance that carries the same evidence
// under dlib's model as the two distances do together. It is on dlib's
// scale, so FaceBands' distance bands and groups by age serve both; but
// fused distances of one child sit nearer and of two children farther
// than dlib's, so each has its own measured bands (FaceScale): a pair
// without a MobileFaceNet descriptor on both sides keeps its dlib distance
// and is read on dlib's bands (Read).

// FaceFusionGroup is the fitted combination for pairs whose photos are
// under MaxYears apart (0 in the last group: any gap).
type FaceFusionGroup struct {
	MaxYears float64 `json:"max_years"` // 0 for no bound (the last group), so that it stores as JSON
	// Log-odds of "same child" from dlib's distance alone: DlibBias + DlibSlope·d.
	DlibBias  float64 `json:"dlib_bias"`
	DlibSlope float64 `json:"dlib_slope"`
	// Log-odds from both: Bias + WDlib·d + WMFN·m.
	Bias  float64 `json:"bias"`
	WDlib float64 `json:"w_dlib"`
	WMFN  float64 `json:"w_mfn"`
	// Log-odds from MobileFaceNet's distance alone: MFNBias + MFNSlope·m
	// (FaceFusion.Only, to measure the model by itself).
	MFNBias  float64 `json:"mfn_bias,omitempty"`
	MFNSlope float64 `json:"mfn_slope,omitempty"`
	// PriorLogOdds is log(genuine/impostor pairs) in the fitting data, to
	// turn log-odds into a log likelihood ratio.
	PriorLogOdds float64 `json:"prior_log_odds"`
}

// FaceFusion combines the two models' distances; its groups are ordered by
// MaxYears. The zero value has no groups and passes dlib's distance through.
type FaceFusion struct {
	Groups []FaceFusionGroup `json:"groups"`
	// Unknown, when set, reads pairs whose photo dates are unknown: fitted
	// on the pairs of every gap pooled, as FaceBands' unknown-dates group
	// pools them, because an undated pair may be any gap apart. Without
	// it they are read by the first group.
	Unknown *FaceFusionGroup `json:"unknown,omitempty"`
}

// DefaultFaceFusion is FitFaceFusion on the pairs of the children of
// ../shared/faces-children in the "tune" half (a hash of the person; the
// other half is left for reporting), printed by
// `go run ./benchmarks/cmd/facemodels` (its groups per years apart, the
// pooled Unknown group for undated pairs, and each group's MobileFaceNet-
// only fit). MeasuredFaceSamples were measured on distances read through
// it (pairs it cannot fuse are read on MeasuredDlibFaceSamples: Read), so
// changing it means measuring them again. It is a starting point:
// EM and the decisions re-estimate the bands on its scale, but do not yet
// re-fit it from the store's own pairs.
func DefaultFaceFusion() FaceFusion {
	return FaceFusion{Groups: []FaceFusionGroup{
		{MaxYears: 3, DlibBias: 13.6983, DlibSlope: -31.7739, Bias: 11.7373, WDlib: -6.9154, WMFN: -22.0000, MFNBias: 9.9576, MFNSlope: -25.4671, PriorLogOdds: -2.4734},
		{MaxYears: 6, DlibBias: 15.7760, DlibSlope: -32.9561, Bias: 13.6310, WDlib: -10.5752, WMFN: -17.8191, MFNBias: 10.5613, MFNSlope: -22.5438, PriorLogOdds: -2.1907},
		{MaxYears: 11, DlibBias: 16.7564, DlibSlope: -31.9235, Bias: 15.7586, WDlib: -11.8325, WMFN: -16.3452, MFNBias: 11.8820, MFNSlope: -21.0928, PriorLogOdds: -2.3581},
		{MaxYears: 0, DlibBias: 13.3682, DlibSlope: -24.0127, Bias: 13.3869, WDlib: -6.7551, WMFN: -14.6198, MFNBias: 11.3306, MFNSlope: -17.7810, PriorLogOdds: -2.7949},
	}, Unknown: &FaceFusionGroup{DlibBias: 9.3346, DlibSlope: -19.2924, Bias: 6.5792, WDlib: -3.0235, WMFN: -10.4196, MFNBias: 5.7898, MFNSlope: -11.9812, PriorLogOdds: -2.5515}}
}

// Face model selections for FaceFusion.Only.
const (
	FaceModelsBoth          = "both"
	FaceModelsDlib          = "dlib"
	FaceModelsMobileFaceNet = "mobilefacenet"
)

// Only returns the fusion that reads one model's distance alone, on
// dlib's scale, for measuring each model by itself through the same face
// bands: FaceModelsDlib passes dlib's distance through (the zero
// FaceFusion), FaceModelsMobileFaceNet maps MobileFaceNet's distance by
// each group's MobileFaceNet-only fit (a pair without it keeps dlib's),
// and anything else returns f.
func (f FaceFusion) Only(model string) FaceFusion {
	switch model {
	case FaceModelsDlib:
		return FaceFusion{}
	case FaceModelsMobileFaceNet:
		mfnOnly := func(g FaceFusionGroup) FaceFusionGroup {
			g.Bias, g.WDlib, g.WMFN = g.MFNBias, 0, g.MFNSlope
			return g
		}
		out := FaceFusion{}
		for _, g := range f.Groups {
			out.Groups = append(out.Groups, mfnOnly(g))
		}
		if f.Unknown != nil {
			u := mfnOnly(*f.Unknown)
			out.Unknown = &u
		}
		return out
	}
	return f
}

// FaceFusionGapEdges are the default groups' upper bounds in years apart:
// 0-2, 3-5, 6-10, 11+ whole years, as the measurements report them.
var FaceFusionGapEdges = []float64{3, 6, 11}

// group returns the group for yearsApart (negative or NaN: unknown, read
// by Unknown or else the first group), or nil when there is none.
func (f FaceFusion) group(yearsApart float64) *FaceFusionGroup {
	if len(f.Groups) == 0 {
		return nil
	}
	if !(yearsApart >= 0) {
		if f.Unknown != nil {
			return f.Unknown
		}
		yearsApart = 0
	}
	for i := range f.Groups {
		if m := f.Groups[i].MaxYears; m <= 0 || yearsApart < m {
			return &f.Groups[i]
		}
	}
	return &f.Groups[len(f.Groups)-1]
}

// Read returns the distance a pair is scored on and its scale, the one
// place that decides which measured bands a pair is read by: with a
// MobileFaceNet distance (mfn >= 0) and a fitted group for yearsApart,
// the fused distance (Distance) on FaceScaleFused; otherwise dlib's own
// distance on FaceScaleDlib (a side without a MobileFaceNet descriptor,
// a record stored before MobileFaceNet and not re-embedded, or the zero
// FaceFusion of --face-models dlib).
func (f FaceFusion) Read(dlib, mfn, yearsApart float64) (float64, FaceScale) {
	if g := f.group(yearsApart); g == nil || !(mfn >= 0) || math.IsNaN(dlib) || g.DlibSlope >= 0 {
		return dlib, FaceScaleDlib
	}
	return f.Distance(dlib, mfn, yearsApart), FaceScaleFused
}

// Distance returns the fused distance of a pair on dlib's scale: the dlib
// distance whose evidence, under the group's dlib-only model, equals that of
// dlib distance dlib and MobileFaceNet cosine distance mfn together.
// mfn NaN or negative (a side without a MobileFaceNet descriptor) returns
// dlib unchanged, as does a FaceFusion without groups.
func (f FaceFusion) Distance(dlib, mfn, yearsApart float64) float64 {
	g := f.group(yearsApart)
	if g == nil || !(mfn >= 0) || math.IsNaN(dlib) || g.DlibSlope >= 0 {
		return dlib
	}
	l := g.Bias + g.WDlib*dlib + g.WMFN*mfn
	return math.Max(0, (l-g.DlibBias)/g.DlibSlope)
}

// LogLR returns the natural log likelihood ratio, same child against
// different children, of a pair's two distances (dlib's alone when mfn is
// NaN or negative). It is 0 for a FaceFusion without groups.
func (f FaceFusion) LogLR(dlib, mfn, yearsApart float64) float64 {
	g := f.group(yearsApart)
	if g == nil {
		return 0
	}
	if !(mfn >= 0) {
		return g.DlibBias + g.DlibSlope*dlib - g.PriorLogOdds
	}
	return g.Bias + g.WDlib*dlib + g.WMFN*mfn - g.PriorLogOdds
}

// FacePair is one labelled pair of faces for FitFaceFusion.
type FacePair struct {
	Dlib, MFN  float64 // distances
	YearsApart float64
	Same       bool
}

// minFusionPairs is the fewest genuine and impostor pairs a group needs;
// a group with fewer borrows the pairs of every gap.
const minFusionPairs = 10

// FitFaceFusion fits one group per gap bucket of edges (FaceFusionGapEdges
// when nil) by ridge-regularised logistic regression on pairs with both
// distances, and the Unknown group on all of them pooled. A group with too
// few pairs of either kind is fitted on all pairs; with too few overall it
// is an error. A pair of unknown gap (YearsApart negative or NaN) counts in
// the pooled fit only.
func FitFaceFusion(pairs []FacePair, edges []float64) (FaceFusion, error) {
	if edges == nil {
		edges = FaceFusionGapEdges
	}
	if !sort.Float64sAreSorted(edges) {
		return FaceFusion{}, fmt.Errorf("face fusion: gap edges %v are not sorted", edges)
	}
	var usable []FacePair
	for _, p := range pairs {
		if p.Dlib >= 0 && p.MFN >= 0 && !math.IsInf(p.Dlib, 0) && !math.IsInf(p.MFN, 0) {
			usable = append(usable, p)
		}
	}
	all, err := fitFusionGroup(usable)
	if err != nil {
		return FaceFusion{}, fmt.Errorf("face fusion: %w", err)
	}
	f := FaceFusion{Unknown: &all}
	bounds := append(append([]float64(nil), edges...), math.Inf(1))
	lo := 0.0
	for _, hi := range bounds {
		var in []FacePair
		for _, p := range usable {
			if y := p.YearsApart; y >= lo && y < hi {
				in = append(in, p)
			}
		}
		g, err := fitFusionGroup(in)
		if err != nil {
			g = all
		}
		if !math.IsInf(hi, 1) {
			g.MaxYears = hi
		}
		f.Groups = append(f.Groups, g)
		lo = hi
	}
	return f, nil
}

// fitFusionGroup fits the dlib-only and the joint model on pairs.
func fitFusionGroup(pairs []FacePair) (FaceFusionGroup, error) {
	var nSame, nDiff int
	for _, p := range pairs {
		if p.Same {
			nSame++
		} else {
			nDiff++
		}
	}
	if nSame < minFusionPairs || nDiff < minFusionPairs {
		return FaceFusionGroup{}, fmt.Errorf("%d genuine and %d impostor pairs, want %d of each", nSame, nDiff, minFusionPairs)
	}
	x1 := make([][]float64, len(pairs))
	x2 := make([][]float64, len(pairs))
	x3 := make([][]float64, len(pairs))
	y := make([]bool, len(pairs))
	for i, p := range pairs {
		x1[i] = []float64{1, p.Dlib}
		x2[i] = []float64{1, p.Dlib, p.MFN}
		x3[i] = []float64{1, p.MFN}
		y[i] = p.Same
	}
	w1 := fitLogistic(x1, y)
	w2 := fitLogistic(x2, y)
	w3 := fitLogistic(x3, y)
	return FaceFusionGroup{
		DlibBias: w1[0], DlibSlope: w1[1],
		Bias: w2[0], WDlib: w2[1], WMFN: w2[2],
		MFNBias: w3[0], MFNSlope: w3[1],
		PriorLogOdds: math.Log(float64(nSame) / float64(nDiff)),
	}, nil
}

// fusionRidge is the L2 penalty on the slopes (not the bias): enough to
// keep a separable group finite, small beside distances of order 1.
const fusionRidge = 1e-2

// fitLogistic fits logistic regression weights (x's first column is the
// bias) by Newton's method with a ridge penalty on the slopes.
func fitLogistic(x [][]float64, y []bool) []float64 {
	k := len(x[0])
	w := make([]float64, k)
	for range 50 {
		grad := make([]float64, k)
		hess := make([][]float64, k)
		for i := range hess {
			hess[i] = make([]float64, k)
		}
		for i, xi := range x {
			var z float64
			for j := range k {
				z += w[j] * xi[j]
			}
			p := 1 / (1 + math.Exp(-z))
			t := 0.0
			if y[i] {
				t = 1
			}
			for j := range k {
				grad[j] += (p - t) * xi[j]
				for l := range k {
					hess[j][l] += p * (1 - p) * xi[j] * xi[l]
				}
			}
		}
		for j := 1; j < k; j++ {
			grad[j] += fusionRidge * w[j]
			hess[j][j] += fusionRidge
		}
		hess[0][0] += 1e-9
		step := solve(hess, grad)
		var size float64
		for j := range k {
			w[j] -= step[j]
			size += math.Abs(step[j])
		}
		if size < 1e-10 {
			break
		}
	}
	return w
}

// solve solves a·x = b for a small symmetric positive definite a by
// Gaussian elimination with partial pivoting.
func solve(a [][]float64, b []float64) []float64 {
	n := len(b)
	m := make([][]float64, n)
	for i := range a {
		m[i] = append(append([]float64(nil), a[i]...), b[i])
	}
	for c := range n {
		p := c
		for r := c + 1; r < n; r++ {
			if math.Abs(m[r][c]) > math.Abs(m[p][c]) {
				p = r
			}
		}
		m[c], m[p] = m[p], m[c]
		if m[c][c] == 0 {
			continue
		}
		for r := c + 1; r < n; r++ {
			f := m[r][c] / m[c][c]
			for k := c; k <= n; k++ {
				m[r][k] -= f * m[c][k]
			}
		}
	}
	x := make([]float64, n)
	for r := n - 1; r >= 0; r-- {
		s := m[r][n]
		for k := r + 1; k < n; k++ {
			s -= m[r][k] * x[k]
		}
		if m[r][r] != 0 {
			x[r] = s / m[r][r]
		}
	}
	return x
}
