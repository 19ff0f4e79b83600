package engine

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// Parameter sources recorded in models.Params.Source.
const (
	SourceDefaults  = "defaults"
	SourceEM        = "em"
	SourceDecisions = "decisions"
)

// DefaultPrior is the default prior λ that a random missing–found pair is
// the same child: with tens of thousands of open records on each side and
// most missing children never registered as found, about one random pair in
// 100,000 is a match. It matters only for the probability, not the ranking.
const DefaultPrior = 1e-5

// paramRow is one row of the default table: a level's m and u.
type paramRow struct {
	name string
	m, u float64
}

// DefaultParams returns version 1 of the scoring parameters: the table
// below, the family and home fields (familyDefaults), and the "face" field
// built from DefaultFaceField (distances measured on FG-NET and the shared
// adult photos, on each FaceScale).
func DefaultParams() models.Params {
	// defaultLevels are the documented defaults of version 1, each field's
	// levels from strongest agreement to strongest disagreement. m is
	// P(level | same child), u is P(level | different children); each column
	// sums to 1 per field. They are judgement, to be replaced by estimates from
	// data (EstimateEM) and from investigators' decisions.
	defaultLevels := []struct {
		field  string
		levels []paramRow
	}{
		{FieldName, []paramRow{
			// Names of missing children are given by families, of found children
			// by the child or by staff, often a nickname or a new name: only
			// about 45% of true matches share the name exactly. u is the chance
			// two different children share the name; the term-frequency
			// adjustment replaces it by the agreeing name's own frequency.
			{"exact", 0.42, 0.003},
			{"folded", 0.19, 0.003},  // same after case, diacritics, script folding
			{"phonetic", 0.12, 0.01}, // same sound, different spelling (Pooja/Puja)
			{"fuzzy", 0.08, 0.02},    // small edit distance
			// The given name agrees but a family name on each side does not
			// ("Priya Sharma" / "Priya Verma", names.Comparison.Partial): a
			// true match only when a surname was recorded wrongly or changed
			// (a few in a hundred; taken from exact and folded), while
			// strangers share a common given name, or a first word like
			// Mohammad, more than one time in a hundred (taken from none).
			// Of the 16 such pairs in testdata/name_pairs.csv, 15 are two
			// children; they are chosen as hard cases, so the weight is
			// only 1 bit rather than the exact level's 7.
			{"partial", 0.03, 0.015},
			{"initial", 0.04, 0.02}, // one side is only the initial of the other
			// Written alike though no word agrees (names.Similar: a
			// spelling past the fuzzy level, "Augustine" / "अगस्टिन"):
			// taken from none; 1 bit, no more than an initial.
			{"similar", 0.02, 0.01},
			// No agreement at all still happens for one true match in eight
			// (renamed, unnamed "baby girl" records), so this is only -3 bits.
			{"none", 0.10, 0.919},
		}},
		{FieldInitials, []paramRow{
			// Initials of names that agree (names.Comparison.Initials), as
			// South Indian officials write the father's initial: the same
			// child's records agree on them when both write them; namesakes
			// (Murugan S / Murugan K) often do not. Judgement, to be
			// estimated (EM, decisions): agreement +1.7 bits, conflict -2.7.
			{"agree", 0.40, 0.12},
			{"mixed", 0.05, 0.05},
			{"conflict", 0.05, 0.33},
			{"other", 0.50, 0.50}, // on one side only, or neither: no evidence
		}},
		{FieldAge, []paramRow{
			// Ages are caregivers' estimates and the missing child's age is
			// projected to the found date; most matches overlap. A random pair
			// of children under 18 overlaps about a quarter of the time.
			{"overlap", 0.85, 0.25},
			{"near", 0.12, 0.25}, // within a couple of years
			{"far", 0.03, 0.50},  // estimates can be badly wrong, so not -inf
		}},
		{FieldSex, []paramRow{
			// Records err (a typo, a child dressed as the other sex), so m(same)
			// is 0.97, not 1; random pairs agree half the time. A conflict is
			// also a hard block set by the comparison; its weight only explains.
			{"same", 0.97, 0.50},
			{"conflict", 0.03, 0.50},
		}},
		{FieldMarks, []paramRow{
			// Identifying marks (moles, scars, birthmarks) agreeing in type,
			// part and side are rare by chance; they are often omitted or
			// described differently, and children gain scars, so "none" is
			// common among true matches too.
			{"match", 0.25, 0.005},
			{"partial", 0.20, 0.03}, // one record less precise: agrees by chance more often
			// Same type and place, opposite sides: left and right are often
			// swapped (the describer's left, a mirrored selfie), while by
			// chance it is as rare as a match: still evidence for.
			{"conflict", 0.035, 0.006},
			{"none", 0.515, 0.959},
		}},
		{FieldHeight, []paramRow{
			// Height projected with growth charts over the time between records;
			// measured heights are rare, estimated ones rough.
			{"fits", 0.75, 0.30},
			{"near", 0.20, 0.25},
			{"far", 0.05, 0.45},
		}},
		{FieldLanguage, []paramRow{
			// A child keeps their mother tongue, but records list one language
			// of several; Hindi alone is shared by a large share of random pairs.
			{"shared", 0.90, 0.35},
			{"none", 0.10, 0.65},
		}},
		{FieldPlace, []paramRow{
			// Many children are found far from home (trains, trafficking,
			// labour), so a true match is in the same district only about a
			// third of the time; random pairs share one of ~750 districts
			// rarely, a state more often.
			{"district", 0.35, 0.02},
			{"state", 0.30, 0.10},
			{"other", 0.35, 0.88},
		}},
		{FieldDates, []paramRow{
			// A child is found after going missing; the comparison already
			// allows a week's slack for late reports, so "found well before"
			// is left to wrong dates in a record. Random pairs are about 60/40.
			{"consistent", 0.98, 0.60},
			{"found_before", 0.02, 0.40},
		}},
	}
	p := models.Params{
		Version:   1,
		Source:    SourceDefaults,
		CreatedAt: time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC),
		Prior:     DefaultPrior,
		Fields:    map[string]models.FieldParams{},
	}
	for _, f := range append(defaultLevels, familyDefaults()...) {
		fp := models.FieldParams{Levels: map[string]models.LevelParams{}}
		for _, l := range f.levels {
			fp.Levels[l.name] = models.LevelParams{M: l.m, U: l.u}
		}
		p.Fields[f.field] = fp
	}
	face, err := DefaultFaceField()
	if err != nil {
		panic("engine: default face model: " + err.Error()) // a bug in the defaults, caught by tests
	}
	p.Fields[FieldFace] = face
	return p
}

// WithDefaults returns p with every field and level it lacks filled from
// DefaultParams: parameters stored before a field (initials, the family
// and home fields), a level (the name's "similar") or a face scale's
// groups (dlib's own bands) existed score and estimate with that field
// or level at its default until re-estimated, instead of counting 0 or
// failing. A missing field or a whole missing group takes the defaults
// as they are. Levels missing from a group p has take their default m and
// u, and the group's levels p has are scaled to share the rest, in their
// stored proportions, so that each group still sums to 1. Fields and
// levels p has are otherwise kept; p itself is returned when nothing is
// missing. NewScorer, EstimateEM and EstimateFromDecisions all call it.
func WithDefaults(p models.Params) models.Params {
	def := DefaultParams()
	missing := func(f string) []string {
		var out []string
		have := p.Fields[f].Levels
		for l := range def.Fields[f].Levels {
			if _, ok := have[l]; !ok {
				out = append(out, l)
			}
		}
		return out
	}
	var q models.Params
	cloned := false
	for _, f := range slices.Sorted(maps.Keys(def.Fields)) {
		lacks := missing(f)
		if len(lacks) == 0 {
			continue
		}
		if !cloned {
			q, cloned = cloneParams(p), true
		}
		if q.Fields == nil {
			q.Fields = map[string]models.FieldParams{}
		}
		fp, ok := q.Fields[f]
		if !ok || fp.Levels == nil {
			fp = models.FieldParams{Levels: map[string]models.LevelParams{}}
		}
		// The default mass of each group's missing levels.
		gone := map[string][2]float64{}
		for _, l := range lacks {
			d := def.Fields[f].Levels[l]
			g := gone[levelGroup(l)]
			gone[levelGroup(l)] = [2]float64{g[0] + d.M, g[1] + d.U}
			fp.Levels[l] = d
		}
		for l, lp := range fp.Levels {
			if slices.Contains(lacks, l) {
				continue
			}
			if g, ok := gone[levelGroup(l)]; ok {
				fp.Levels[l] = models.LevelParams{M: lp.M * (1 - g[0]), U: lp.U * (1 - g[1])}
			}
		}
		q.Fields[f] = fp
	}
	if !cloned {
		return p
	}
	return q
}

// levelGroup returns the conditioning group of a level: the part before the
// last "/" ("1-3y" for "1-3y/0.40-0.48"), or "" for a plain level. Within a
// field, m and u sum to 1 over each group's levels.
func levelGroup(level string) string {
	if i := strings.LastIndexByte(level, '/'); i >= 0 {
		return level[:i]
	}
	return ""
}

// ValidateParams checks that p can score: a prior strictly between 0 and 1,
// every m and u in (0, 1], and m and u each summing to 1 (within 0.001)
// over every group of every field.
func ValidateParams(p models.Params) error {
	var problems []string
	if !(p.Prior > 0 && p.Prior < 1) {
		problems = append(problems, fmt.Sprintf("prior %v is not strictly between 0 and 1", p.Prior))
	}
	if c := p.Calibration; c != nil && (!(c.Slope > 0) || math.IsInf(c.Slope, 0) || math.IsNaN(c.Intercept) || math.IsInf(c.Intercept, 0)) {
		problems = append(problems, fmt.Sprintf("calibration slope %v must be positive and finite, intercept %v finite", c.Slope, c.Intercept))
	}
	for _, f := range slices.Sorted(maps.Keys(p.Fields)) {
		sums := map[string][2]float64{}
		for _, l := range slices.Sorted(maps.Keys(p.Fields[f].Levels)) {
			lp := p.Fields[f].Levels[l]
			if !(lp.M > 0 && lp.M <= 1) || !(lp.U > 0 && lp.U <= 1) {
				problems = append(problems, fmt.Sprintf("%s/%s: m=%v u=%v must be in (0, 1]", f, l, lp.M, lp.U))
			}
			s := sums[levelGroup(l)]
			sums[levelGroup(l)] = [2]float64{s[0] + lp.M, s[1] + lp.U}
		}
		for _, g := range slices.Sorted(maps.Keys(sums)) {
			if s := sums[g]; math.Abs(s[0]-1) > 1e-3 || math.Abs(s[1]-1) > 1e-3 {
				problems = append(problems, fmt.Sprintf("%s group %q: m sums to %.4f and u to %.4f, want 1", f, g, s[0], s[1]))
			}
		}
	}
	if len(problems) > 0 {
		return models.Errorf(models.EINVALID, "scoring parameters v%d: %s", p.Version, strings.Join(problems, "; "))
	}
	return nil
}

// cloneParams deep-copies p, so estimates never alias their base.
func cloneParams(p models.Params) models.Params {
	q := p
	if p.Calibration != nil {
		c := *p.Calibration
		q.Calibration = &c
	}
	q.Fields = make(map[string]models.FieldParams, len(p.Fields))
	for f, fp := range p.Fields {
		q.Fields[f] = models.FieldParams{Levels: maps.Clone(fp.Levels)}
	}
	return q
}

// levelSample is a sample of comparison vectors as level indexes: at[i][j] is
// pair i's level index in field j, or -1 when the field is missing.
type levelSample struct {
	fields []*fieldEstimate
	at     [][]int32
}

// fieldEstimate is one field's levels, their groups, and m and u as slices.
type fieldEstimate struct {
	name   string
	levels []string
	group  []int // group index of each level
	ngroup int
	m, u   []float64
	fixed  bool
	index  map[string]int32
}

func newFieldEstimates(p models.Params) []*fieldEstimate {
	var fs []*fieldEstimate
	for _, name := range slices.Sorted(maps.Keys(p.Fields)) {
		f := &fieldEstimate{name: name, index: map[string]int32{}}
		groups := map[string]int{}
		for _, l := range slices.Sorted(maps.Keys(p.Fields[name].Levels)) {
			g, ok := groups[levelGroup(l)]
			if !ok {
				g = len(groups)
				groups[levelGroup(l)] = g
			}
			lp := p.Fields[name].Levels[l]
			f.index[l] = int32(len(f.levels))
			f.levels = append(f.levels, l)
			f.group = append(f.group, g)
			f.m = append(f.m, lp.M)
			f.u = append(f.u, lp.U)
		}
		f.ngroup = len(groups)
		fs = append(fs, f)
	}
	return fs
}

func encodeSample(fs []*fieldEstimate, pairs [][]FieldComparison) (*levelSample, error) {
	byName := map[string]int{}
	for j, f := range fs {
		byName[f.name] = j
	}
	e := &levelSample{fields: fs, at: make([][]int32, len(pairs))}
	for i, pair := range pairs {
		row := make([]int32, len(fs))
		for j := range row {
			row[j] = -1
		}
		for _, c := range pair {
			if c.Level == "" {
				continue
			}
			j, ok := byName[c.Field]
			if !ok {
				return nil, fmt.Errorf("pair %d: field %q has no parameters", i, c.Field)
			}
			l, ok := fs[j].index[c.Level]
			if !ok {
				return nil, fmt.Errorf("pair %d: field %q has no parameters for level %q", i, c.Field, c.Level)
			}
			row[j] = l
		}
		e.at[i] = row
	}
	return e, nil
}

// countLevels returns, per field, the weighted count of each level and of
// each group: weight(i) is pair i's weight (1 for plain counting).
func (e *levelSample) countLevels(weight func(i int) float64) (levels, groups [][]float64) {
	levels = make([][]float64, len(e.fields))
	groups = make([][]float64, len(e.fields))
	for j, f := range e.fields {
		levels[j] = make([]float64, len(f.levels))
		groups[j] = make([]float64, f.ngroup)
	}
	for i, row := range e.at {
		w := weight(i)
		for j, l := range row {
			if l >= 0 {
				levels[j][l] += w
				groups[j][e.fields[j].group[l]] += w
			}
		}
	}
	return levels, groups
}

// smoothedProbs returns Bayesian estimates: each level's count plus
// strength × its prior probability, over the group's count plus strength ×
// the group's prior mass. A level never seen keeps a share of its prior.
func smoothedProbs(f *fieldEstimate, prior, counts, groupCounts []float64, strength float64) []float64 {
	priorMass := make([]float64, f.ngroup)
	for l, p := range prior {
		priorMass[f.group[l]] += p
	}
	out := make([]float64, len(prior))
	for l := range prior {
		g := f.group[l]
		den := groupCounts[g] + strength*priorMass[g]
		if den <= 0 {
			out[l] = prior[l]
			continue
		}
		out[l] = (counts[l] + strength*prior[l]) / den
	}
	return out
}

func (f *fieldEstimate) store(p *models.Params) {
	fp := models.FieldParams{Levels: make(map[string]models.LevelParams, len(f.levels))}
	for l, name := range f.levels {
		fp.Levels[name] = models.LevelParams{M: f.m[l], U: f.u[l]}
	}
	p.Fields[f.name] = fp
}

// EMOptions tune EstimateEM; zero values take the defaults.
type EMOptions struct {
	MaxIterations int     // default 200
	Tolerance     float64 // stop when no m and not λ moves more than this; default 1e-6
	// PriorStrength is how many pseudo-pairs per group pull each m toward
	// base's, so that levels never seen among matches keep a small m;
	// default 1.
	PriorStrength float64
	// UPriorStrength does the same for u from the random pairs; default 1.
	UPriorStrength float64
	// InitialLambda is the starting share of matches in the sample; default 0.1.
	InitialLambda float64
	// FixedFields keep base's m: the fields the sample was blocked on
	// (pairs found by face search over-represent close faces among
	// non-matches, so EM cannot learn face's m from them).
	FixedFields []string
}

// EMReport says how an EM run went.
type EMReport struct {
	Iterations int
	Converged  bool
	// Lambda is the estimated share of matches among the sample's pairs: the
	// candidate pairs, not random pairs, so it is not Params.Prior.
	Lambda float64
	// LogLikelihoodGain is how much better, in nats, the fitted mixture
	// explains the sample than "no pair matches"; EstimateEM refuses a fit
	// whose gain a spurious class could reach.
	LogLikelihoodGain float64
	// Reverted lists fields whose estimate was implausible (the level that
	// base weighs as strongest agreement came out with m ≤ u) and that keep
	// base's m instead.
	Reverted []string
}

// ErrDegenerate is returned by EstimateEM when the sample cannot identify
// the match class: no pairs, too few matches to tell from chance
// agreement, or a solution with the classes swapped.
var ErrDegenerate = errors.New("EM found no usable match class")

// EstimateEM re-estimates m and u as Splink does. u comes from randomPairs
// (comparison vectors of random missing–found pairs, nearly all
// non-matches), smoothed toward base's u; nil keeps base's u. m comes from
// expectation–maximisation on pairs (unlabelled candidate pairs, e.g. the
// top of each search): assuming fields independent given match status, with
// u fixed, it alternates the posterior match probability of each pair with
// m and the share of matches λ. Name term frequencies are not used. The
// result is base with Version+1 and Source "em"; base's prior is kept, and
// the face field is made monotone (FaceBands.MakeMonotone).
func EstimateEM(base models.Params, randomPairs, pairs [][]FieldComparison, opt EMOptions) (models.Params, EMReport, error) {
	base = WithDefaults(base) // parameters stored before a field or level existed
	if err := ValidateParams(base); err != nil {
		return models.Params{}, EMReport{}, err
	}
	opt = opt.withDefaults()
	fs := newFieldEstimates(base)
	for _, f := range fs {
		f.fixed = slices.Contains(opt.FixedFields, f.name)
	}
	if len(randomPairs) > 0 {
		er, err := encodeSample(fs, randomPairs)
		if err != nil {
			return models.Params{}, EMReport{}, fmt.Errorf("random pairs: %w", err)
		}
		lc, gc := er.countLevels(func(int) float64 { return 1 })
		for j, f := range fs {
			f.u = smoothedProbs(f, f.u, lc[j], gc[j], opt.UPriorStrength)
		}
	}
	e, err := encodeSample(fs, pairs)
	if err != nil {
		return models.Params{}, EMReport{}, fmt.Errorf("candidate pairs: %w", err)
	}
	if len(pairs) == 0 {
		return models.Params{}, EMReport{}, fmt.Errorf("%w: no candidate pairs", ErrDegenerate)
	}
	baseM := make([][]float64, len(fs))
	for j, f := range fs {
		baseM[j] = slices.Clone(f.m)
	}

	lambda := opt.InitialLambda
	post := make([]float64, len(pairs))
	rep := EMReport{}
	w := make([][]float64, len(fs))
	for rep.Iterations < opt.MaxIterations {
		rep.Iterations++
		// E-step: each pair's posterior probability of being a match.
		for j, f := range fs {
			w[j] = w[j][:0]
			for l := range f.m {
				w[j] = append(w[j], math.Log2(f.m[l]/f.u[l]))
			}
		}
		logOdds := math.Log2(lambda / (1 - lambda))
		sum := 0.0
		for i, row := range e.at {
			x := logOdds
			for j, l := range row {
				if l >= 0 {
					x += w[j][l]
				}
			}
			post[i] = logistic2(x)
			sum += post[i]
		}
		// M-step: λ and each free field's m from the posteriors.
		moved := math.Abs(sum/float64(len(pairs)) - lambda)
		lambda = min(max(sum/float64(len(pairs)), 1e-9), 1-1e-9)
		lc, gc := e.countLevels(func(i int) float64 { return post[i] })
		for j, f := range fs {
			if f.fixed {
				continue
			}
			m := smoothedProbs(f, baseM[j], lc[j], gc[j], opt.PriorStrength)
			for l := range m {
				moved = max(moved, math.Abs(m[l]-f.m[l]))
				f.m[l] = max(m[l], 1e-9)
			}
		}
		if moved < opt.Tolerance {
			rep.Converged = true
			break
		}
	}
	rep.Lambda = lambda
	// Does a match class explain the sample at all? Compare the mixture's
	// log-likelihood with "every pair is a non-match" (λ = 0): without
	// matches EM still finds a small spurious class of pairs that agree by
	// chance, but its gain is of the order of its free parameters (a
	// likelihood-ratio test: 2·gain is roughly χ² with df = free m's + 1).
	df := 1
	for j, f := range fs {
		w[j] = w[j][:0]
		for l := range f.m {
			w[j] = append(w[j], math.Log2(f.m[l]/f.u[l]))
		}
		if !f.fixed {
			df += len(f.levels) - f.ngroup
		}
	}
	for _, row := range e.at {
		x := 0.0
		for j, l := range row {
			if l >= 0 {
				x += w[j][l]
			}
		}
		rep.LogLikelihoodGain += math.Log(1 - lambda + lambda*math.Exp2(x))
	}
	if threshold := float64(df) + 4*math.Sqrt(2*float64(df)); 2*rep.LogLikelihoodGain < threshold {
		return models.Params{}, rep, fmt.Errorf("%w: a match class gains only %.1f nats of log-likelihood (need %.0f for %d parameters)", ErrDegenerate, rep.LogLikelihoodGain, threshold/2, df)
	}
	if lambda*float64(len(pairs)) < 1 {
		return models.Params{}, rep, fmt.Errorf("%w: fewer than one expected match among %d pairs", ErrDegenerate, len(pairs))
	}
	if lambda > 0.95 {
		return models.Params{}, rep, fmt.Errorf("%w: %.0f%% of pairs came out as matches", ErrDegenerate, 100*lambda)
	}
	free := 0
	for j, f := range fs {
		if f.fixed {
			continue
		}
		free++
		if !f.plausible(baseM[j]) {
			rep.Reverted = append(rep.Reverted, f.name)
			f.m = baseM[j]
		}
	}
	if free > 1 && 2*len(rep.Reverted) > free {
		return models.Params{}, rep, fmt.Errorf("%w: implausible m for %s", ErrDegenerate, strings.Join(rep.Reverted, ", "))
	}
	out := cloneParams(base)
	out.Version, out.Source, out.CreatedAt = base.Version+1, SourceEM, time.Now().UTC()
	for _, f := range fs {
		f.store(&out)
	}
	if face, ok := out.Fields[FieldFace]; ok {
		DefaultFaceBands().MakeMonotone(face)
	}
	return out, rep, nil
}

// plausible reports whether, in every group, the level base weighs as the
// strongest agreement still has m > u.
func (f *fieldEstimate) plausible(baseM []float64) bool {
	best := make([]int, f.ngroup)
	for g := range best {
		best[g] = -1
	}
	for l := range f.levels {
		g := f.group[l]
		if best[g] < 0 || baseM[l]/f.u[l] > baseM[best[g]]/f.u[best[g]] {
			best[g] = l
		}
	}
	for _, l := range best {
		if l >= 0 && f.m[l] <= f.u[l] {
			return false
		}
	}
	return true
}

func (o EMOptions) withDefaults() EMOptions {
	if o.MaxIterations <= 0 {
		o.MaxIterations = 200
	}
	if o.Tolerance <= 0 {
		o.Tolerance = 1e-6
	}
	if o.PriorStrength <= 0 {
		o.PriorStrength = 1
	}
	if o.UPriorStrength <= 0 {
		o.UPriorStrength = 1
	}
	if !(o.InitialLambda > 0 && o.InitialLambda < 1) {
		o.InitialLambda = 0.1
	}
	return o
}

// DecisionOptions tune EstimateFromDecisions; zero values take the defaults.
type DecisionOptions struct {
	// PriorStrength is how many pseudo-decisions per group pull the
	// estimates toward base's; default 20, so a handful of decisions nudge
	// the parameters and hundreds dominate them.
	PriorStrength float64
	// UpdateU also re-estimates u from the rejected pairs. They are hard
	// negatives (pairs that scored high enough to be reviewed), so their
	// agreement is higher than random pairs': u rises and weights shrink.
	// That is right for the reviewed population and conservative elsewhere.
	UpdateU bool
}

// EstimateFromDecisions re-estimates m from the comparison vectors of
// pairs investigators confirmed (and, with UpdateU, u from those they
// rejected): labelled counts, smoothed toward base by PriorStrength
// pseudo-decisions. The result is base with Version+1 and Source
// "decisions", its face field made monotone. Confirmed matches are the ones the system could find, so
// they under-represent true matches with poor photos or wrong attributes.
func EstimateFromDecisions(base models.Params, confirmed, rejected [][]FieldComparison, opt DecisionOptions) (models.Params, error) {
	base = WithDefaults(base) // parameters stored before a field or level existed
	if err := ValidateParams(base); err != nil {
		return models.Params{}, err
	}
	if opt.PriorStrength <= 0 {
		opt.PriorStrength = 20
	}
	fs := newFieldEstimates(base)
	ec, err := encodeSample(fs, confirmed)
	if err != nil {
		return models.Params{}, fmt.Errorf("confirmed pairs: %w", err)
	}
	lc, gc := ec.countLevels(func(int) float64 { return 1 })
	for j, f := range fs {
		f.m = smoothedProbs(f, f.m, lc[j], gc[j], opt.PriorStrength)
	}
	if opt.UpdateU {
		er, err := encodeSample(fs, rejected)
		if err != nil {
			return models.Params{}, fmt.Errorf("rejected pairs: %w", err)
		}
		lc, gc := er.countLevels(func(int) float64 { return 1 })
		for j, f := range fs {
			f.u = smoothedProbs(f, f.u, lc[j], gc[j], opt.PriorStrength)
		}
	}
	out := cloneParams(base)
	out.Version, out.Source, out.CreatedAt = base.Version+1, SourceDecisions, time.Now().UTC()
	for _, f := range fs {
		f.store(&out)
	}
	if face, ok := out.Fields[FieldFace]; ok {
		DefaultFaceBands().MakeMonotone(face)
	}
	return out, nil
}

// logistic2 returns 1/(1+2^-x) without overflow.
func logistic2(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp2(-x))
	}
	e := math.Exp2(x)
	return e / (1 + e)
}
