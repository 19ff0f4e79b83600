package engine

import (
	"fmt"
	"math"
	"sort"
	"strings"

	"github.com/trackmatch/trackmatch/models"
)

// Face evidence is one Fellegi–Sunter field, "face", like any other: the
// best photo pair's Euclidean distance falls in a distance band, and the
// band's m and u (how often true matches and non-matches land in it) give
// its weight log2(m/u). What makes the face special is that dlib's distances
// between photos of one child grow with the years between the photos, and
// that dlib tells young children apart poorly. So the band's m and u are
// conditional on a face group, chosen from the years apart and the age at
// the earlier photo, and the level name carries both: "1-3y/0.40-0.44" is
// band 0.40–0.44 among pairs whose photos were taken 1 to 3 years apart.
//
// Within each group the m (and the u) of the bands sum to 1; the
// estimators in params.go treat "group/band" levels this way for any field.
// The numbers are data, in models.Params: DefaultParams builds them from
// the distances measured on the shared photo sets (MeasuredFaceSamples, by
// FaceModel.FieldParams), and EM or investigators' decisions re-estimate
// them. The weight a pair gets is the bands' weights interpolated at its
// distance (Scorer), so that within a band a nearer face still ranks first.

// FaceBands says how a photo pair maps to a "face" level: distance band
// edges, and the edges in years apart that separate the face groups. Its
// level names are part of a params document: changing an edge renames
// levels, so params must be rebuilt (DefaultParams).
type FaceBands struct {
	// DistanceEdges are increasing upper bounds of all but the last band.
	DistanceEdges []float64
	// GapEdges are increasing upper bounds, in years apart, of all but the
	// last group of older children.
	GapEdges []float64
	// YoungAge: a pair whose earlier photo shows a child younger than this
	// uses the young groups, split by YoungGapEdges.
	YoungAge      float64
	YoungGapEdges []float64
}

// DefaultFaceBands are the bands of the default parameters. Distance bands
// are 0.04 wide from 0.40 to 0.72, where the genuine and impostor
// distributions of children cross and a few hundredths change the weight
// by a bit; below 0.40 they are 0.05 wide, because a pair at 0.27 (photos
// of one adult) is far stronger evidence than one at 0.39; and from 0.80
// nearly every pair is two children. Groups: years apart 0–1, 1–3, 3–6,
// 6–10 and 10+; the same for under-fives, whose faces change fastest (0–3,
// 3–6, 6–10, 10+: weak evidence after ten years, but never none); and a
// group for pairs whose photo dates are unknown.
func DefaultFaceBands() FaceBands {
	return FaceBands{
		DistanceEdges: []float64{0.30, 0.35, 0.40, 0.44, 0.48, 0.52, 0.56, 0.60, 0.64, 0.68, 0.72, 0.80},
		GapEdges:      []float64{1, 3, 6, 10},
		YoungAge:      5,
		YoungGapEdges: []float64{3, 6, 10},
	}
}

// FaceGroupUnknown is the face group of pairs whose photo dates are unknown.
const FaceGroupUnknown = "unknown"

// FaceScale is the distance a face pair is read on, and so the measured
// bands it is scored by: both models read together (FaceFusion.Distance),
// or dlib's distance alone when a side has no MobileFaceNet descriptor or
// the fusion is off. Each scale has its own groups in the "face" field
// (FaceScale.Group), so its m and u are measured and re-estimated (EM,
// decisions) on its own pairs, never mixed with the other scale's.
type FaceScale string

const (
	// FaceScaleFused is both models read together on dlib's scale; its
	// groups are the plain ones ("6-10y").
	FaceScaleFused FaceScale = ""
	// FaceScaleDlib is dlib's distance alone; its groups are prefixed
	// ("dlib:6-10y").
	FaceScaleDlib FaceScale = "dlib"
)

// FaceScales are every scale, in the order of the "face" field's groups.
func FaceScales() []FaceScale { return []FaceScale{FaceScaleFused, FaceScaleDlib} }

// Group returns the name of face group g on scale s.
func (s FaceScale) Group(g string) string {
	if s == FaceScaleFused {
		return g
	}
	return string(s) + ":" + g
}

// faceScaleOf splits a scaled group name into its scale and plain group.
func faceScaleOf(group string) (FaceScale, string) {
	if g, ok := strings.CutPrefix(group, string(FaceScaleDlib)+":"); ok {
		return FaceScaleDlib, g
	}
	return FaceScaleFused, group
}

// MeasuredSamples returns the distances measured on scale s: the one
// choice of table that the default parameters (DefaultFaceModel), and so
// scoring, calibration and the estimators' priors, all follow.
func (s FaceScale) MeasuredSamples() map[string]FaceSamples {
	if s == FaceScaleDlib {
		return MeasuredDlibFaceSamples()
	}
	return MeasuredFaceSamples()
}

// youngPrefix marks the groups of pairs whose earlier photo shows an
// under-YoungAge child.
const youngPrefix = "u"

// Groups returns every face group name of one scale, unprefixed,
// older-children groups first (ScaledGroups names them on every scale).
func (b FaceBands) Groups() []string {
	groups := gapGroupNames(b.GapEdges, "y")
	groups = append(groups, b.youngGroups()...)
	return append(groups, FaceGroupUnknown)
}

// youngGroups names the young groups: "u5:0-3y", ..., "u5:10y+".
func (b FaceBands) youngGroups() []string {
	names := gapGroupNames(b.YoungGapEdges, "y")
	for i, n := range names {
		names[i] = fmt.Sprintf("%s%g:%s", youngPrefix, b.YoungAge, n)
	}
	return names
}

// Young reports whether group is one of the under-YoungAge groups.
func (b FaceBands) Young(group string) bool {
	return strings.HasPrefix(group, fmt.Sprintf("%s%g:", youngPrefix, b.YoungAge))
}

// ScaledGroups returns every group of the "face" field: Groups on each
// of FaceScales.
func (b FaceBands) ScaledGroups() []string {
	var out []string
	for _, s := range FaceScales() {
		for _, g := range b.Groups() {
			out = append(out, s.Group(g))
		}
	}
	return out
}

// BandNames returns the distance bands' names, nearest first.
func (b FaceBands) BandNames() []string {
	e := b.DistanceEdges
	names := []string{fmt.Sprintf("<%.2f", e[0])}
	for i := 1; i < len(e); i++ {
		names = append(names, fmt.Sprintf("%.2f-%.2f", e[i-1], e[i]))
	}
	return append(names, fmt.Sprintf(">=%.2f", e[len(e)-1]))
}

// bandCentres returns the distance each band's weight is pinned at when
// weights are interpolated: the middle of a closed band, and half a
// neighbouring band's width beyond the edge for the two open ones.
func (b FaceBands) bandCentres() []float64 {
	e := b.DistanceEdges
	c := make([]float64, len(e)+1)
	c[0] = e[0] - (e[1]-e[0])/2
	for i := 1; i < len(e); i++ {
		c[i] = (e[i-1] + e[i]) / 2
	}
	n := len(e)
	c[n] = e[n-1] + (e[n-1]-e[n-2])/2
	return c
}

// Levels returns every face level name, group by group, on every scale.
func (b FaceBands) Levels() []string {
	var ls []string
	for _, g := range b.ScaledGroups() {
		for _, band := range b.BandNames() {
			ls = append(ls, g+"/"+band)
		}
	}
	return ls
}

// Group returns the face group of a pair: yearsApart between the photos and
// ageAtEarlier, the child's age at the earlier photo, each negative or NaN
// when unknown. An unknown age counts as not young.
func (b FaceBands) Group(yearsApart, ageAtEarlier float64) string {
	if !(yearsApart >= 0) { // also NaN
		return FaceGroupUnknown
	}
	if ageAtEarlier >= 0 && ageAtEarlier < b.YoungAge {
		return b.youngGroups()[bandIndex(b.YoungGapEdges, yearsApart)]
	}
	return gapGroupNames(b.GapEdges, "y")[bandIndex(b.GapEdges, yearsApart)]
}

// Band returns the name of the distance band of d.
func (b FaceBands) Band(d float64) string {
	return b.BandNames()[bandIndex(b.DistanceEdges, d)]
}

// Level returns the "group/band" level of a pair read on scale.
func (b FaceBands) Level(scale FaceScale, distance, yearsApart, ageAtEarlier float64) string {
	return scale.Group(b.Group(yearsApart, ageAtEarlier)) + "/" + b.Band(distance)
}

// interpolate returns the weight at distance d of a group whose bands
// weigh w (nearest first): linear between the band centres, flat beyond
// the outer ones. Weights that fall with distance (MakeMonotone) give an
// interpolation that falls too, so a nearer face never weighs less.
func (b FaceBands) interpolate(w []float64, d float64) float64 {
	c := b.bandCentres()
	if d <= c[0] {
		return w[0]
	}
	for i := 1; i < len(c); i++ {
		if d <= c[i] {
			f := (d - c[i-1]) / (c[i] - c[i-1])
			return w[i-1] + f*(w[i]-w[i-1])
		}
	}
	return w[len(w)-1]
}

// bandIndex returns the index of the first edge above x (len(edges) if none).
func bandIndex(edges []float64, x float64) int {
	return sort.Search(len(edges), func(i int) bool { return x < edges[i] })
}

// gapGroupNames names the buckets of edges: "0-1y", "1-3y", ..., "10y+".
func gapGroupNames(edges []float64, unit string) []string {
	names := make([]string, 0, len(edges)+1)
	lo := 0.0
	for _, e := range edges {
		names = append(names, fmt.Sprintf("%g-%g%s", lo, e, unit))
		lo = e
	}
	return append(names, fmt.Sprintf("%g%s+", lo, unit))
}

// CompareFaces is the "face" comparison of a photo pair: distance is the
// best pair's distance read on scale (FaceFusion.Read), yearsApart the years between the two
// photos and ageAtEarlier the child's age at the earlier one (negative or
// NaN when unknown). known is false when either record has no usable face;
// the field then contributes nothing.
func (b FaceBands) CompareFaces(scale FaceScale, distance, yearsApart, ageAtEarlier float64, known bool) FieldComparison {
	if !known || math.IsNaN(distance) || distance < 0 {
		return FieldComparison{Field: FieldFace, Detail: "face: no usable face photo on both records"}
	}
	var d strings.Builder
	fmt.Fprintf(&d, "face: distance %.2f between photos", distance)
	if yearsApart >= 0 {
		fmt.Fprintf(&d, " taken %s apart", formatYears(yearsApart))
	} else {
		d.WriteString(" taken on unknown dates")
	}
	group := b.Group(yearsApart, ageAtEarlier)
	if ageAtEarlier >= 0 {
		fmt.Fprintf(&d, ", the earlier at age %s", formatYears(ageAtEarlier))
		if b.Young(group) {
			fmt.Fprintf(&d, " (faces of under-%gs are weak evidence", b.YoungAge)
			if last := b.YoungGapEdges; len(last) > 0 && yearsApart >= last[len(last)-1] {
				fmt.Fprintf(&d, ", weaker still after %g years", last[len(last)-1])
			}
			d.WriteString(")")
		}
	}
	if scale == FaceScaleDlib {
		d.WriteString(", read on dlib's own bands (dlib's distance alone)")
	}
	return FieldComparison{Field: FieldFace, Level: scale.Group(group) + "/" + b.Band(distance), Detail: d.String(), Distance: distance}
}

func formatYears(y float64) string {
	switch {
	case y < 1:
		return fmt.Sprintf("%d months", int(math.Round(y*12)))
	case math.Round(y) == 1:
		return "1 year"
	default:
		return fmt.Sprintf("%.0f years", y)
	}
}

// Gaussian is a normal distribution of face distances.
type Gaussian struct {
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
}

// cdf returns P(X < x).
func (g Gaussian) cdf(x float64) float64 {
	return 0.5 * math.Erfc(-(x-g.Mean)/(g.SD*math.Sqrt2))
}

// DistanceSample summarises measured distances of one kind (genuine or
// impostor) in one face group: how many, their mean and sample sd, and how
// many fell in each distance band of DefaultFaceBands.
type DistanceSample struct {
	N     int     `json:"n"`
	Mean  float64 `json:"mean"`
	SD    float64 `json:"sd"`
	Bands []int   `json:"bands"`
}

// NewDistanceSample summarises distances over the bands of b.
func (b FaceBands) NewDistanceSample(ds []float64) DistanceSample {
	s := DistanceSample{N: len(ds), Bands: make([]int, len(b.DistanceEdges)+1)}
	for _, d := range ds {
		s.Mean += d
		s.Bands[bandIndex(b.DistanceEdges, d)]++
	}
	if s.N == 0 {
		return s
	}
	s.Mean /= float64(s.N)
	for _, d := range ds {
		s.SD += (d - s.Mean) * (d - s.Mean)
	}
	if s.N > 1 {
		s.SD = math.Sqrt(s.SD / float64(s.N-1))
	}
	return s
}

// FaceSamples are a face group's measured distances: between photos of the
// same person (Genuine) and of different people (Impostor).
type FaceSamples struct {
	Genuine  DistanceSample `json:"genuine"`
	Impostor DistanceSample `json:"impostor"`
}

// FaceModel turns measured distances per face group into the "face"
// field's m and u (FieldParams).
type FaceModel struct {
	Bands FaceBands
	// Samples are the measured distances per group; a group without
	// samples takes its parent's (see FieldParams).
	Samples map[string]FaceSamples
	// Scale is the distance Samples were measured on; it names the
	// levels FieldParams returns (FaceScale.Group).
	Scale FaceScale
	// PriorPairs is the strength, in pairs, of the prior each group's
	// band shares are shrunk toward; see FieldParams.
	PriorPairs float64
}

// DefaultPriorPairs: a group's own samples outweigh its prior once it has
// more than 20 pairs. The spread of a band share estimated from n pairs
// is about √(p/n); at 20 pairs a band holding a quarter of them is known
// to ±0.11, the size of the prior's own error (a normal fitted to a
// neighbouring group), so below that the prior is the better guess.
const DefaultPriorPairs = 20

// DefaultFaceModel is the face model of the default parameters on scale:
// the distances of scale.MeasuredSamples, shrunk by DefaultPriorPairs.
func DefaultFaceModel(scale FaceScale) FaceModel {
	return FaceModel{Bands: DefaultFaceBands(), Samples: scale.MeasuredSamples(), Scale: scale, PriorPairs: DefaultPriorPairs}
}

// DefaultFaceField is the "face" field of the default parameters: the
// levels of DefaultFaceModel on every scale.
func DefaultFaceField() (models.FieldParams, error) {
	fp := models.FieldParams{Levels: map[string]models.LevelParams{}}
	for _, s := range FaceScales() {
		one, err := DefaultFaceModel(s).FieldParams()
		if err != nil {
			return models.FieldParams{}, fmt.Errorf("face scale %q: %w", s, err)
		}
		for l, lp := range one.Levels {
			fp.Levels[l] = lp
		}
	}
	return fp, nil
}

// FieldParams returns the "face" field's levels. For each group and each
// side (genuine, impostor):
//
//   - the prior is a normal distribution whose mean and variance are the
//     group's own, shrunk toward its parent's (the unknown-dates group,
//     which pools every pair whatever the dates) with PriorPairs
//     pseudo-pairs: a group of 5 pairs is mostly its parent, one of 400
//     mostly itself;
//   - each band's share is its count plus PriorPairs times the prior's
//     mass in the band, over the group's count plus PriorPairs;
//   - a band where no pair was seen is known only to be rarer than about
//     one in n: a genuine share there is half a pair, 0.5/(n+PriorPairs)
//     (photos that fail, a wrong face picked, land in the far bands more
//     often than a normal says); an impostor share is the prior normal's
//     tail, at most half a pair (FG-NET's impostors, and the synthetic
//     galleries', follow the normal into the tail as far as they were
//     measured: 6·10⁻⁴ below 0.44 against its 4·10⁻⁴). So the strongest
//     evidence a group gives follows from what was measured, never from a
//     chosen cap.
//
// Bands are then made monotone (MakeMonotone).
func (fm FaceModel) FieldParams() (models.FieldParams, error) {
	levels := map[string]models.LevelParams{}
	names := fm.Bands.BandNames()
	parent, ok := fm.Samples[FaceGroupUnknown]
	if !ok || parent.Genuine.N < 2 || parent.Impostor.N < 2 {
		return models.FieldParams{}, fmt.Errorf("face model: the %q group needs measured genuine and impostor distances", FaceGroupUnknown)
	}
	for _, g := range fm.Bands.Groups() {
		s := fm.Samples[g]
		m, err := fm.shares(s.Genuine, parent.Genuine, false)
		if err != nil {
			return models.FieldParams{}, fmt.Errorf("face group %q genuine: %w", g, err)
		}
		u, err := fm.shares(s.Impostor, parent.Impostor, true)
		if err != nil {
			return models.FieldParams{}, fmt.Errorf("face group %q impostor: %w", g, err)
		}
		for i, band := range names {
			levels[fm.Scale.Group(g)+"/"+band] = models.LevelParams{M: m[i], U: u[i]}
		}
	}
	fp := models.FieldParams{Levels: levels}
	fm.Bands.MakeMonotone(fp)
	return fp, nil
}

// tinyShare keeps every share positive, as ValidateParams requires.
const tinyShare = 1e-9

// shares estimates one side's band shares from s, shrunk toward a normal
// prior that is itself s's moments shrunk toward parent's.
func (fm FaceModel) shares(s, parent DistanceSample, normalTail bool) ([]float64, error) {
	nb := len(fm.Bands.DistanceEdges) + 1
	if s.N > 0 && len(s.Bands) != nb {
		return nil, fmt.Errorf("%d band counts, want %d", len(s.Bands), nb)
	}
	k := math.Max(fm.PriorPairs, 1)
	n := float64(s.N)
	mean := (n*s.Mean + k*parent.Mean) / (n + k)
	sd := math.Sqrt((n*s.SD*s.SD + k*parent.SD*parent.SD) / (n + k))
	if !(sd > 0) {
		return nil, fmt.Errorf("no spread in the measured distances")
	}
	q := bandMasses(Gaussian{mean, sd}, fm.Bands.DistanceEdges)
	p := make([]float64, nb)
	floor := 0.5 / (n + k)
	for i := range p {
		c := 0.0
		if s.N > 0 {
			c = float64(s.Bands[i])
		}
		p[i] = (c + k*q[i]) / (n + k)
		switch {
		case c > 0:
		case normalTail:
			// Nothing seen here: the prior's own tail, down to half a pair.
			p[i] = max(p[i], min(q[i], floor))
		default:
			p[i] = max(p[i], floor)
		}
	}
	floorAndNormalise(p, tinyShare)
	return p, nil
}

// MakeMonotone adjusts a "face" field in place so that, in every group, a
// nearer band never weighs less than a farther one: adjacent bands that
// violate this are pooled (pool-adjacent-violators on m/u) and share the
// pooled ratio, keeping the block's total m and total u. Floors on u and
// sparse samples otherwise let, say, "10y+/<0.40" weigh less than
// "10y+/0.40-0.48", which no reader would accept. Groups missing a band
// are left alone.
func (b FaceBands) MakeMonotone(fp models.FieldParams) {
	names := b.BandNames()
	for _, g := range b.ScaledGroups() {
		m := make([]float64, len(names))
		u := make([]float64, len(names))
		complete := true
		for i, band := range names {
			lp, ok := fp.Levels[g+"/"+band]
			complete = complete && ok
			m[i], u[i] = lp.M, lp.U
		}
		if !complete {
			continue
		}
		poolAdjacentViolators(m, u)
		for i, band := range names {
			fp.Levels[g+"/"+band] = models.LevelParams{M: m[i], U: u[i]}
		}
	}
}

// poolAdjacentViolators makes m[i]/u[i] non-increasing in i by merging
// runs of bands into blocks with ratio Σm/Σu, then spreading each block's
// m and u over its bands in proportion to m[i]+u[i]: the maximum-likelihood
// monotone fit when both come from samples of equal size. Neither side is
// kept as it was, because either can be the noisy one: u at its floor in
// the near bands, m (a few confirmed matches, or EM's share of them) in the
// far bands, where u is well measured and the genuine mass is small.
func poolAdjacentViolators(m, u []float64) {
	type block struct {
		lo, hi int
		m, u   float64
	}
	var st []block
	for i := range m {
		st = append(st, block{i, i + 1, m[i], u[i]})
		for len(st) > 1 {
			a, b := st[len(st)-2], st[len(st)-1]
			// a.m/a.u >= b.m/b.u, with a relative tolerance so that bands
			// already pooled (equal ratios up to rounding) are left as they
			// are: MakeMonotone is idempotent.
			if a.m*b.u >= b.m*a.u*(1-1e-9) {
				break
			}
			st = append(st[:len(st)-2], block{a.lo, b.hi, a.m + b.m, a.u + b.u})
		}
	}
	for _, b := range st {
		if b.hi-b.lo == 1 {
			continue
		}
		for i := b.lo; i < b.hi; i++ {
			s := (m[i] + u[i]) / (b.m + b.u)
			m[i], u[i] = b.m*s, b.u*s
		}
	}
}

// bandMasses returns the probability of each band under g.
func bandMasses(g Gaussian, edges []float64) []float64 {
	p := make([]float64, len(edges)+1)
	prev := 0.0
	for i, e := range edges {
		c := g.cdf(e)
		p[i] = c - prev
		prev = c
	}
	p[len(edges)] = 1 - prev
	return p
}

// floorAndNormalise raises every p[i] to at least floor and rescales the
// others so the sum stays 1.
func floorAndNormalise(p []float64, floor float64) {
	for range len(p) { // at most len(p) rounds: each round fixes one more entry
		var fixed, free float64
		for _, x := range p {
			if x <= floor {
				fixed += floor
			} else {
				free += x
			}
		}
		done := true
		for i, x := range p {
			if x <= floor {
				p[i] = floor
			} else {
				p[i] = x * (1 - fixed) / free
				if p[i] < floor {
					done = false
				}
			}
		}
		if done {
			return
		}
	}
}
