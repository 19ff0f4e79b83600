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
// Within each group the m (and the u) of the bands sum to 1; the
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
	// YoungMaxGap, when positive, is the years apart from which a young
	// pair's faces are not counted at all: dlib cannot tell the child from
	// other children any more, and a flat band table would only add noise
	// (and give EM a group it cannot fit).
	YoungMaxGap float64
}

// DefaultFaceBands are the bands of params version 1. Distance bands are
// narrow (0.04) from 0.48 to 0.72, where the genuine and impostor
// distributions of children cross and a few hundredths change the weight
// by a bit, and wide where one side dominates: below 0.40 nearly every pair
// is the same child, from 0.80 nearly every pair is two children (adults'
// impostors centre on 0.83). Groups: years apart 0–1, 1–3, 3–6, 6–10 and
// 10+; for under-fives, whose faces change fastest, 0–3, 3–6 and 6–10,
// and no face evidence from 10 years apart (their genuine distances grow
// from 0.41 to 0.65 over ten years, into the range of other small
// children's, 0.56±0.08: see MeasuredFaceDistances); and a group for pairs
// whose photo dates are unknown.
func DefaultFaceBands() FaceBands {
	return FaceBands{
		DistanceEdges: []float64{0.40, 0.48, 0.52, 0.56, 0.60, 0.64, 0.68, 0.72, 0.80},
		GapEdges:      []float64{1, 3, 6, 10},
		YoungAge:      5,
		YoungGapEdges: []float64{3, 6},
		YoungMaxGap:   10,
	}
}

// FaceGroupUnknown is the face group of pairs whose photo dates are unknown.
const FaceGroupUnknown = "unknown"

// youngPrefix marks the groups of pairs whose earlier photo shows an
// under-YoungAge child.
const youngPrefix = "u"

// Groups returns every face group name, older-children groups first.
func (b FaceBands) Groups() []string {
	groups := gapGroupNames(b.GapEdges, "y")
	groups = append(groups, b.youngGroups()...)
	return append(groups, FaceGroupUnknown)
}

// youngGroups names the young groups: "u5:0-3y", ..., the last one closed
// at YoungMaxGap when it is set ("u5:6-10y") and open otherwise ("u5:6y+").
func (b FaceBands) youngGroups() []string {
	names := gapGroupNames(b.YoungGapEdges, "y")
	if b.YoungMaxGap > 0 {
		lo := 0.0
		if n := len(b.YoungGapEdges); n > 0 {
			lo = b.YoungGapEdges[n-1]
		}
		names[len(names)-1] = fmt.Sprintf("%g-%gy", lo, b.YoungMaxGap)
	}
	for i, n := range names {
		names[i] = fmt.Sprintf("%s%g:%s", youngPrefix, b.YoungAge, n)
	}
	return names
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
// when unknown. An unknown age counts as not young. It is "" for a young
// pair YoungMaxGap or more years apart, whose faces are not counted.
func (b FaceBands) Group(yearsApart, ageAtEarlier float64) string {
	if !(yearsApart >= 0) { // also NaN
		return FaceGroupUnknown
	}
	if ageAtEarlier >= 0 && ageAtEarlier < b.YoungAge {
		if b.YoungMaxGap > 0 && yearsApart >= b.YoungMaxGap {
			return ""
		}
		return b.youngGroups()[bandIndex(b.YoungGapEdges, yearsApart)]
	}
	return gapGroupNames(b.GapEdges, "y")[bandIndex(b.GapEdges, yearsApart)]
}

// Band returns the name of the distance band of d.
func (b FaceBands) Band(d float64) string {
	return b.BandNames()[bandIndex(b.DistanceEdges, d)]
}

// Level returns the "group/band" level of a pair, or "" when the pair's
// faces are not counted (see Group).
func (b FaceBands) Level(distance, yearsApart, ageAtEarlier float64) string {
	g := b.Group(yearsApart, ageAtEarlier)
	if g == "" {
		return ""
	}
	return g + "/" + b.Band(distance)
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
// the field then contributes nothing, as it does for a young pair too many
// years apart (FaceBands.Group), whose detail says why.
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
	level := b.Level(distance, yearsApart, ageAtEarlier)
	if ageAtEarlier >= 0 {
		fmt.Fprintf(&d, ", the earlier at age %s", formatYears(ageAtEarlier))
		switch {
		case level == "":
			fmt.Fprintf(&d, "; not counted: after %g years an under-%g's face is no longer told apart from other children's", b.YoungMaxGap, b.YoungAge)
		case ageAtEarlier < b.YoungAge:
			fmt.Fprintf(&d, " (faces of under-%gs are weak evidence)", b.YoungAge)
		}
	}
	return FieldComparison{Field: FieldFace, Level: level, Detail: d.String()}
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

// Component is one part of a Mixture: a normal distribution and its share.
type Component struct {
	Weight float64 `json:"weight"`
	Gaussian
}

// Mixture is a distribution of face distances made of normal components
// whose weights sum to 1.
type Mixture []Component

// Normal returns the mixture of one component, g.
func Normal(mean, sd float64) Mixture { return Mixture{{Weight: 1, Gaussian: Gaussian{mean, sd}}} }

// cdf returns P(X < x).
func (m Mixture) cdf(x float64) float64 {
	var p float64
	for _, c := range m {
		p += c.Weight * c.Gaussian.cdf(x)
	}
	return p
}

// valid reports whether every sd is positive and the weights sum to 1.
func (m Mixture) valid() bool {
	var w float64
	for _, c := range m {
		if !(c.SD > 0) || !(c.Weight >= 0) {
			return false
		}
		w += c.Weight
	}
	return len(m) > 0 && math.Abs(w-1) < 1e-9
}

// FaceDistributions are the distance distributions of one face group:
// between photos of the same child (Genuine) and of different children
// (Impostor).
type FaceDistributions struct {
	Genuine  Mixture `json:"genuine"`
	Impostor Mixture `json:"impostor"`
}

// MeasuredFaceDistances are dlib's distances (Euclidean, 128-D, subject
// faces found by the default FacePipeline) measured per face group on the
// FG-NET development set (../shared/faces-children: 21 people, 262 photos
// with a face, ages 0–69). `trackmatch eval --photos ../shared/faces-children
// --max-age 70` prints the genuine figures below (by default it keeps
// photos at 25 or under, which moves 10y+ to 0.587±0.071) for any labelled
// set, so they can be checked on photos this set does not have (its
// impostor column is by age difference, as the under-fives' rows are
// measured, not the pool); engine's TestChildrenAgeing reports the
// marginal figures by years apart (0–2: 0.406±0.081, 3–5: 0.447±0.081,
// 6–10: 0.509±0.087, 11+: 0.596±0.100).
//
// Genuine: every pair of one person's photos, grouped by the years between
// them and the age at the earlier one (FaceBands.Group); n is the number
// of pairs.
//
// Impostor: the children that compete with the true one in a gallery. For
// children five and over it is the pool of FG-NET cross-person pairs with
// both photos at 25 or under (0.687±0.089, n=21694; with adults too it is
// 0.716±0.093): other children of the age the true child has at the later
// photo sit no closer (0.68–0.76 by gap). Under-fives are different: other
// small children look alike to dlib (an under-five against another child
// 0–3 years older: 0.561±0.077, n=1231), while older children do not (an
// under-five against anyone: 0.685±0.101, n=11289). A gallery holds both,
// so their impostor is half each, the same for every gap: a longer gap can
// only weaken a close pair, never make it stronger evidence.
func MeasuredFaceDistances() map[string]FaceDistributions {
	pool := Normal(0.687, 0.089)
	young := Mixture{{0.5, Gaussian{0.561, 0.077}}, {0.5, Gaussian{0.685, 0.101}}}
	return map[string]FaceDistributions{
		// 0-1y has only 5 FG-NET pairs (0.366±0.043); it takes 1-3y's
		// figures rather than claim that photos a few months apart agree
		// better (adults' short-gap pairs: 0.441±0.081 on face-api.js).
		"0-1y":     {Genuine: Normal(0.407, 0.072), Impostor: pool},
		"1-3y":     {Genuine: Normal(0.407, 0.072), Impostor: pool},  // n=153
		"3-6y":     {Genuine: Normal(0.450, 0.079), Impostor: pool},  // n=215
		"6-10y":    {Genuine: Normal(0.495, 0.086), Impostor: pool},  // n=199
		"10y+":     {Genuine: Normal(0.561, 0.095), Impostor: pool},  // n=430
		"u5:0-3y":  {Genuine: Normal(0.407, 0.099), Impostor: young}, // n=71
		"u5:3-6y":  {Genuine: Normal(0.439, 0.085), Impostor: young}, // n=105
		"u5:6-10y": {Genuine: Normal(0.513, 0.085), Impostor: young}, // n=131
		// Under-fives 10+ years apart: genuine 0.646±0.084 (n=229), beyond
		// the young impostors' centre; not a group (FaceBands.YoungMaxGap).
		// Dates unknown: every FG-NET genuine pair with both photos at 25
		// or under, whatever the gap (n=1097), against the pool.
		FaceGroupUnknown: {Genuine: Normal(0.506, 0.113), Impostor: pool},
	}
}

// FaceMargins move measured distributions toward each other, so that a
// model built on 21 mostly European people of FG-NET does not claim more
// than it knows about the children it serves (South Asian, photographed on
// phones and by police, some with a face the pipeline picked wrongly).
type FaceMargins struct {
	// GenuineShift is added to every genuine mean: photos worse than the
	// development set's push true pairs apart.
	GenuineShift float64
	// ImpostorShift is taken from every impostor mean: populations dlib
	// separates less well pull strangers together.
	ImpostorShift float64
	// SDFactor multiplies every standard deviation (a 21-person sample's sd
	// is itself uncertain by about a tenth, and tails are heavier than a
	// normal's).
	SDFactor float64
	// MinSD is the least standard deviation after widening.
	MinSD float64
}

// DefaultFaceMargins are the margins of DefaultFaceModel.
//
// ImpostorShift 0.03 is a tenth of what separates the one non-European
// set measured (East Asian adults of the go-face test set: impostors at
// 0.544±0.070, genuine 0.517±0.088, so dlib barely tells them apart) from
// the European adults (impostors at 0.833±0.077). A population as badly
// separated as that one cannot be fixed by a margin: for it the face
// evidence is overstated, and only the caps (FaceModel.LookAlike and the
// floors) bound the damage.
func DefaultFaceMargins() FaceMargins {
	return FaceMargins{GenuineShift: 0.02, ImpostorShift: 0.03, SDFactor: 1.25, MinSD: 0.09}
}

// Widen returns d moved by the margins, component by component.
func (w FaceMargins) Widen(d FaceDistributions) FaceDistributions {
	move := func(m Mixture, shift float64) Mixture {
		out := make(Mixture, len(m))
		for i, c := range m {
			out[i] = Component{Weight: c.Weight, Gaussian: Gaussian{Mean: c.Mean + shift, SD: max(c.SD*w.SDFactor, w.MinSD)}}
		}
		return out
	}
	return FaceDistributions{Genuine: move(d.Genuine, w.GenuineShift), Impostor: move(d.Impostor, -w.ImpostorShift)}
}

// FaceModel describes dlib's distances per face group, from which
// FieldParams derives the "face" field's m and u.
type FaceModel struct {
	Bands  FaceBands
	Groups map[string]FaceDistributions
	// Failure is the share of true pairs whose distance is a stranger's: a
	// photo too poor, turned or blurred, or the wrong face picked as the
	// subject. It bounds how far a distant pair counts against a match:
	// m ≥ Failure·u, so a band weighs at least log2(Failure).
	Failure float64
	// LookAlike is the share of strangers whose distance is like the same
	// child's: siblings, look-alikes, and populations dlib separates badly.
	// It bounds how far a close pair counts for a match: u ≥ LookAlike·m,
	// so a band weighs at most −log2(LookAlike).
	LookAlike float64
	// UFloor and MFloor are the least u and m of any band, a last guard
	// for distributions with no mass in a band.
	UFloor float64
	MFloor float64
}

// DefaultFaceModel is the face model of params version 1:
// MeasuredFaceDistances widened by DefaultFaceMargins, with 3% of true
// pairs failing (so no band weighs less than −5 bits) and 0.5% of strangers
// looking alike (so none weighs more than 7.6 bits; in practice the
// nearest band of photos 1–3 years apart weighs 4.9 bits, a likelihood
// ratio of 30, where FG-NET's own figures would say about 600: the widened
// impostor puts 1% of strangers below 0.40, FG-NET has 17 of 21694 pairs,
// 0.08%, there).
// To be re-estimated from real pairs (FromSamples, EstimateEM,
// EstimateFromDecisions).
func DefaultFaceModel() FaceModel {
	fm := FaceModel{
		Bands:     DefaultFaceBands(),
		Groups:    map[string]FaceDistributions{},
		Failure:   0.03,
		LookAlike: 0.005,
		UFloor:    0.002,
		MFloor:    0.002,
	}
	w := DefaultFaceMargins()
	for g, d := range MeasuredFaceDistances() {
		fm.Groups[g] = w.Widen(d)
	}
	return fm
}

// FieldParams returns the "face" field's levels: per group and band, m is
// the genuine probability of the band mixed with Failure of the
// impostor's, u the impostor probability mixed with LookAlike of the
// genuine's; both floored and renormalised so that each group's m and u
// still sum to 1, then made monotone (MakeMonotone).
func (fm FaceModel) FieldParams() (models.FieldParams, error) {
	if !(fm.Failure >= 0 && fm.Failure < 1 && fm.LookAlike >= 0 && fm.LookAlike < 1) {
		return models.FieldParams{}, fmt.Errorf("face model: failure %v and look-alike %v must be in [0, 1)", fm.Failure, fm.LookAlike)
	}
	levels := map[string]models.LevelParams{}
	edges := fm.Bands.DistanceEdges
	names := fm.Bands.BandNames()
	for _, g := range fm.Bands.Groups() {
		dist, ok := fm.Groups[g]
		if !ok {
			return models.FieldParams{}, fmt.Errorf("face model has no distributions for group %q", g)
		}
		if !dist.Genuine.valid() || !dist.Impostor.valid() {
			return models.FieldParams{}, fmt.Errorf("face model group %q: every sd must be positive and the weights sum to 1", g)
		}
		gen := bandMasses(dist.Genuine, edges)
		imp := bandMasses(dist.Impostor, edges)
		m := make([]float64, len(gen))
		u := make([]float64, len(gen))
		for i := range gen {
			m[i] = (1-fm.Failure)*gen[i] + fm.Failure*imp[i]
			u[i] = (1-fm.LookAlike)*imp[i] + fm.LookAlike*gen[i]
		}
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
// pooled ratio, keeping the block's total m and total u. Floors on u and
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
func bandMasses(g Mixture, edges []float64) []float64 {
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
