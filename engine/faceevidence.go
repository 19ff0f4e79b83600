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
// the earlier photo, and the level name carries both: "1-3y/0.40-0.48" is
// band 0.40–0.48 among pairs whose photos were taken 1 to 3 years apart.
//
// Within each group the m (and the u) of the six bands sum to 1; the
// estimators in params.go treat "group/band" levels this way for any field.
// The numbers are data, in models.Params: DefaultParams builds them from
// FaceModel's distance distributions, FaceModel.FromSamples from measured
// distances, and EM or investigators' decisions re-estimate them.

// FaceBands says how a photo pair maps to a "face" level: distance band
// edges, and the edges in years apart that separate the face groups. Its
// level names are part of a params document: changing an edge renames
// levels, so params must be rebuilt (DefaultParams, FaceModel.FromSamples).
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

// DefaultFaceBands are the bands of params version 1: six distance bands
// around dlib's usual 0.6 cut-off; age gaps of 0–1, 1–3, 3–6, 6–10 and 10+
// years; under-fives split at 3 years apart; and a group for pairs whose
// photo dates are unknown.
func DefaultFaceBands() FaceBands {
	return FaceBands{
		DistanceEdges: []float64{0.40, 0.48, 0.55, 0.62, 0.70},
		GapEdges:      []float64{1, 3, 6, 10},
		YoungAge:      5,
		YoungGapEdges: []float64{3},
	}
}

// faceUnknownGroup is the group of pairs whose photo dates are unknown.
const faceUnknownGroup = "unknown"

// youngPrefix marks the groups of pairs whose earlier photo shows an
// under-YoungAge child.
const youngPrefix = "u"

// Groups returns every face group name, older-children groups first.
func (b FaceBands) Groups() []string {
	groups := gapGroupNames(b.GapEdges, "y")
	for _, g := range gapGroupNames(b.YoungGapEdges, "y") {
		groups = append(groups, fmt.Sprintf("%s%g:%s", youngPrefix, b.YoungAge, g))
	}
	return append(groups, faceUnknownGroup)
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

// Levels returns every face level name, group by group.
func (b FaceBands) Levels() []string {
	var ls []string
	for _, g := range b.Groups() {
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
		return faceUnknownGroup
	}
	if ageAtEarlier >= 0 && ageAtEarlier < b.YoungAge {
		names := gapGroupNames(b.YoungGapEdges, "y")
		return fmt.Sprintf("%s%g:%s", youngPrefix, b.YoungAge, names[bandIndex(b.YoungGapEdges, yearsApart)])
	}
	return gapGroupNames(b.GapEdges, "y")[bandIndex(b.GapEdges, yearsApart)]
}

// Band returns the name of the distance band of d.
func (b FaceBands) Band(d float64) string {
	return b.BandNames()[bandIndex(b.DistanceEdges, d)]
}

// Level returns the "group/band" level of a pair.
func (b FaceBands) Level(distance, yearsApart, ageAtEarlier float64) string {
	return b.Group(yearsApart, ageAtEarlier) + "/" + b.Band(distance)
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
// best pair's Euclidean distance, yearsApart the years between the two
// photos and ageAtEarlier the child's age at the earlier one (negative or
// NaN when unknown). known is false when either record has no usable face;
// the field then contributes nothing.
func (b FaceBands) CompareFaces(distance, yearsApart, ageAtEarlier float64, known bool) FieldComparison {
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
	if ageAtEarlier >= 0 {
		fmt.Fprintf(&d, ", the earlier at age %s", formatYears(ageAtEarlier))
		if ageAtEarlier < b.YoungAge {
			fmt.Fprintf(&d, " (faces of under-%gs are weak evidence)", b.YoungAge)
		}
	}
	return FieldComparison{Field: FieldFace, Level: b.Level(distance, yearsApart, ageAtEarlier), Detail: d.String()}
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

// FaceDistributions are the distance distributions of one face group:
// between photos of the same child (Genuine) and of different children of
// similar age (Impostor).
type FaceDistributions struct {
	Genuine  Gaussian `json:"genuine"`
	Impostor Gaussian `json:"impostor"`
}

// FaceModel describes dlib's distances per face group, from which
// FieldParams derives the "face" field's m and u.
type FaceModel struct {
	Bands  FaceBands
	Groups map[string]FaceDistributions
	// UFloor is the least u of any band. Real impostor distances have
	// heavier tails than a normal (look-alikes, siblings, poor photos), and
	// a band's weight log2(m/u) must not run away on a Gaussian's tail.
	UFloor float64
	// MFloor is the least m of any band, for the same reason on the other
	// side: a true match can land anywhere when a photo is bad, and a
	// missed match costs more than a wasted review.
	MFloor float64
}

// DefaultFaceModel returns PLACEHOLDER distributions: dlib's commonly
// reported adult figures (genuine 0.40±0.08, impostor 0.85±0.10) made
// worse for children: genuine distances grow and spread with years apart,
// and impostor children sit closer together than impostor adults, more so
// when young. They are to be replaced by distributions measured on
// ../shared/faces and FG-NET by age gap (FaceModel.FromSamples), then
// re-estimated from real pairs (EstimateEM, EstimateFromDecisions).
func DefaultFaceModel() FaceModel {
	older := Gaussian{Mean: 0.80, SD: 0.10}
	young := Gaussian{Mean: 0.72, SD: 0.10}
	return FaceModel{
		Bands: DefaultFaceBands(),
		Groups: map[string]FaceDistributions{
			"0-1y":           {Genuine: Gaussian{0.42, 0.08}, Impostor: older},
			"1-3y":           {Genuine: Gaussian{0.47, 0.09}, Impostor: older},
			"3-6y":           {Genuine: Gaussian{0.53, 0.10}, Impostor: older},
			"6-10y":          {Genuine: Gaussian{0.60, 0.11}, Impostor: older},
			"10y+":           {Genuine: Gaussian{0.66, 0.12}, Impostor: older},
			"u5:0-3y":        {Genuine: Gaussian{0.52, 0.10}, Impostor: young},
			"u5:3y+":         {Genuine: Gaussian{0.64, 0.12}, Impostor: young},
			faceUnknownGroup: {Genuine: Gaussian{0.56, 0.12}, Impostor: Gaussian{0.77, 0.11}},
		},
		UFloor: 0.001,
		MFloor: 0.03,
	}
}

// FieldParams returns the "face" field's levels: per group and band, m is
// the genuine and u the impostor probability of the band, floored and
// renormalised so that each group's m and u still sum to 1, then made
// monotone (MakeMonotone).
func (fm FaceModel) FieldParams() (models.FieldParams, error) {
	levels := map[string]models.LevelParams{}
	edges := fm.Bands.DistanceEdges
	names := fm.Bands.BandNames()
	for _, g := range fm.Bands.Groups() {
		dist, ok := fm.Groups[g]
		if !ok {
			return models.FieldParams{}, fmt.Errorf("face model has no distributions for group %q", g)
		}
		if !(dist.Genuine.SD > 0 && dist.Impostor.SD > 0) {
			return models.FieldParams{}, fmt.Errorf("face model group %q: standard deviations must be positive", g)
		}
		m := bandMasses(dist.Genuine, edges)
		u := bandMasses(dist.Impostor, edges)
		floorAndNormalise(m, fm.MFloor)
		floorAndNormalise(u, fm.UFloor)
		for i, band := range names {
			levels[g+"/"+band] = models.LevelParams{M: m[i], U: u[i]}
		}
	}
	fp := models.FieldParams{Levels: levels}
	fm.Bands.MakeMonotone(fp)
	return fp, nil
}

// MakeMonotone adjusts a "face" field in place so that, in every group, a
// nearer band never weighs less than a farther one: adjacent bands that
// violate this are pooled (pool-adjacent-violators on m/u) and share the
// pooled ratio, keeping their m and the group's total u. (u is the side
// moved because violations come from u's floor and sparse tails, while m
// is what EM and decisions estimate.) Floors on u and
// sparse samples otherwise let, say, "10y+/<0.40" weigh less than
// "10y+/0.40-0.48", which no reader would accept. Groups missing a band
// are left alone.
func (b FaceBands) MakeMonotone(fp models.FieldParams) {
	names := b.BandNames()
	for _, g := range b.Groups() {
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
// u over its bands in proportion to m.
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
			if a.m*b.u >= b.m*a.u { // a.m/a.u >= b.m/b.u
				break
			}
			st = append(st[:len(st)-2], block{a.lo, b.hi, a.m + b.m, a.u + b.u})
		}
	}
	for _, b := range st {
		for i := b.lo; i < b.hi; i++ {
			u[i] = b.u * m[i] / b.m
		}
	}
}

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

// FromSamples estimates the "face" field's levels from measured distances
// per face group: genuine[g] between photos of one child, impostor[g]
// between photos of different children. Each band's share is smoothed
// toward prior (the current params' face field, e.g. DefaultParams') by
// priorStrength pseudo-pairs, so a group with few samples keeps its prior
// shape and one with none keeps its prior exactly; m and u are then floored
// and made monotone as in FieldParams.
func (fm FaceModel) FromSamples(genuine, impostor map[string][]float64, prior models.FieldParams, priorStrength float64) (models.FieldParams, error) {
	levels := map[string]models.LevelParams{}
	b := fm.Bands
	names := b.BandNames()
	for _, g := range b.Groups() {
		m := make([]float64, len(names))
		u := make([]float64, len(names))
		for i, band := range names {
			p, ok := prior.Levels[g+"/"+band]
			if !ok {
				return models.FieldParams{}, fmt.Errorf("prior has no face level %s/%s", g, band)
			}
			m[i], u[i] = priorStrength*p.M, priorStrength*p.U
		}
		if len(genuine[g]) == 0 && len(impostor[g]) == 0 {
			for _, band := range names {
				levels[g+"/"+band] = prior.Levels[g+"/"+band]
			}
			continue
		}
		for _, d := range genuine[g] {
			m[bandIndex(b.DistanceEdges, d)]++
		}
		for _, d := range impostor[g] {
			u[bandIndex(b.DistanceEdges, d)]++
		}
		nm, nu := priorStrength+float64(len(genuine[g])), priorStrength+float64(len(impostor[g]))
		if nm <= 0 || nu <= 0 {
			return models.FieldParams{}, fmt.Errorf("face group %q has no samples and no prior strength", g)
		}
		for i := range m {
			m[i] /= nm
			u[i] /= nu
		}
		floorAndNormalise(m, fm.MFloor)
		floorAndNormalise(u, fm.UFloor)
		for i, band := range names {
			levels[g+"/"+band] = models.LevelParams{M: m[i], U: u[i]}
		}
	}
	fp := models.FieldParams{Levels: levels}
	b.MakeMonotone(fp)
	return fp, nil
}
