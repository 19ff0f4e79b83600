package engine

import (
	"errors"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func TestDefaultParams(t *testing.T) {
	p := DefaultParams()
	if err := ValidateParams(p); err != nil {
		t.Fatal(err)
	}
	if p.Version != 1 || p.Source != SourceDefaults || p.Prior != DefaultPrior {
		t.Fatalf("version %d source %q prior %v", p.Version, p.Source, p.Prior)
	}
	// The level names are the contract with the attribute comparisons.
	contract := map[string][]string{
		FieldName:     {"exact", "folded", "phonetic", "fuzzy", "partial", "initial", "similar", "none"},
		FieldInitials: {"agree", "mixed", "other", "conflict"},
		FieldAge:      {"overlap", "near", "far"},
		FieldSex:      {"same", "conflict"},
		FieldMarks:    {"match", "partial", "conflict", "none"},
		FieldHeight:   {"fits", "near", "far"},
		FieldLanguage: {"shared", "none"},
		FieldPlace:    {"district", "state", "other"},
		FieldDates:    {"consistent", "found_before"},
	}
	for f, levels := range contract {
		got := slices.Sorted(maps.Keys(p.Fields[f].Levels))
		if !slices.Equal(got, slices.Sorted(slices.Values(levels))) {
			t.Errorf("%s levels %v, want %v", f, got, levels)
		}
		// Listed strongest agreement first: weights must not increase.
		for i := 1; i < len(levels); i++ {
			if levelWeight(p, f, levels[i]) > levelWeight(p, f, levels[i-1]) {
				t.Errorf("%s: %s weighs more than %s", f, levels[i], levels[i-1])
			}
		}
		if levelWeight(p, f, levels[0]) <= 0 || levelWeight(p, f, levels[len(levels)-1]) >= 0 {
			t.Errorf("%s: agreement must count for and disagreement against", f)
		}
	}
	if !slices.Equal(slices.Sorted(maps.Keys(p.Fields[FieldFace].Levels)), slices.Sorted(slices.Values(DefaultFaceBands().Levels()))) {
		t.Error("face levels differ from DefaultFaceBands")
	}
	// A fresh copy each call: callers may edit theirs.
	p.Fields[FieldSex].Levels["same"] = models.LevelParams{M: 0.1, U: 0.9}
	if DefaultParams().Fields[FieldSex].Levels["same"].M != 0.97 {
		t.Fatal("DefaultParams shares state between calls")
	}
}

// synth draws comparison vectors from known params: each field is missing
// with probability 0.1; face picks a group uniformly, then a band.
type synth struct {
	r      *rand.Rand
	p      models.Params
	fields []string
	groups map[string][]string          // field → groups
	levels map[string][]string          // field/group → levels
	faceGr []string                     // face groups
	cache  map[string]map[string]string // unused
}

func newSynth(p models.Params, seed uint64) *synth {
	s := &synth{r: rand.New(rand.NewPCG(seed, seed)), p: p, levels: map[string][]string{}}
	s.fields = slices.Sorted(maps.Keys(p.Fields))
	for _, f := range s.fields {
		for _, l := range slices.Sorted(maps.Keys(p.Fields[f].Levels)) {
			k := f + "|" + levelGroup(l)
			s.levels[k] = append(s.levels[k], l)
		}
	}
	s.faceGr = DefaultFaceBands().ScaledGroups()
	return s
}

func (s *synth) pair(match bool) []FieldComparison {
	var out []FieldComparison
	for _, f := range s.fields {
		if s.r.Float64() < 0.1 {
			out = append(out, FieldComparison{Field: f})
			continue
		}
		group := ""
		if f == FieldFace {
			group = s.faceGr[s.r.IntN(len(s.faceGr))]
		}
		levels := s.levels[f+"|"+group]
		x := s.r.Float64()
		chosen := levels[len(levels)-1]
		for _, l := range levels {
			lp := s.p.Fields[f].Levels[l]
			pr := lp.U
			if match {
				pr = lp.M
			}
			if x < pr {
				chosen = l
				break
			}
			x -= pr
		}
		out = append(out, FieldComparison{Field: f, Level: chosen})
	}
	return out
}

func (s *synth) sample(n int, lambda float64) [][]FieldComparison {
	out := make([][]FieldComparison, n)
	for i := range out {
		out[i] = s.pair(s.r.Float64() < lambda)
	}
	return out
}

// blurred moves every m and u halfway to uniform within its group: a wrong
// but valid starting point.
func blurred(p models.Params) models.Params {
	q := cloneParams(p)
	for f, fp := range q.Fields {
		n := map[string]int{}
		for l := range fp.Levels {
			n[levelGroup(l)]++
		}
		for l, lp := range fp.Levels {
			k := float64(n[levelGroup(l)])
			fp.Levels[l] = models.LevelParams{M: 0.5*lp.M + 0.5/k, U: 0.5*lp.U + 0.5/k}
		}
		q.Fields[f] = fp
	}
	return q
}

func maxDiff(a, b models.Params, field string, mOrU func(models.LevelParams) float64) (float64, string) {
	worst, at := 0.0, ""
	for l, lp := range a.Fields[field].Levels {
		if d := math.Abs(mOrU(lp) - mOrU(b.Fields[field].Levels[l])); d > worst {
			worst, at = d, l
		}
	}
	return worst, at
}

func getM(lp models.LevelParams) float64 { return lp.M }
func getU(lp models.LevelParams) float64 { return lp.U }

func TestEstimateEMRecoversM(t *testing.T) {
	truth := DefaultParams()
	s := newSynth(truth, 1)
	// Twice as many pairs as fields' levels alone need: the face field
	// has 20 groups (10 on each FaceScale) sharing them.
	random := s.sample(240_000, 0)
	pairs := s.sample(80_000, 0.2)
	base := blurred(truth)
	got, rep, err := EstimateEM(base, random, pairs, EMOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateParams(got); err != nil {
		t.Fatal(err)
	}
	if got.Version != base.Version+1 || got.Source != SourceEM || got.Prior != base.Prior {
		t.Fatalf("version %d source %q prior %v", got.Version, got.Source, got.Prior)
	}
	if !rep.Converged || len(rep.Reverted) > 0 || math.Abs(rep.Lambda-0.2) > 0.01 {
		t.Fatalf("report %+v", rep)
	}
	t.Logf("EM: %d iterations, λ=%.4f (true 0.2)", rep.Iterations, rep.Lambda)
	for _, f := range s.fields {
		tol, utol := 0.025, 0.01
		if f == FieldFace {
			// Twenty groups share the matches; and the random pairs, about
			// 12,000 per group, measure a band's u of 0.3 to ±0.0045, so
			// the largest error of 90 levels is near 3 sd.
			tol, utol = 0.05, 0.015
		}
		dm, lm := maxDiff(got, truth, f, getM)
		du, lu := maxDiff(got, truth, f, getU)
		bm, _ := maxDiff(base, truth, f, getM)
		t.Logf("%-8s max|m−true| %.4f (%s; start %.3f)  max|u−true| %.4f (%s)", f, dm, lm, bm, du, lu)
		if dm > tol || du > utol {
			t.Errorf("%s: m off by %.4f at %s, u off by %.4f at %s", f, dm, lm, du, lu)
		}
	}
	// The estimate scores better: true matches rank above non-matches.
	sc, err := NewScorer(got)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Score(s.pair(true)).Score < -50 {
		t.Fatal("implausible score")
	}
}

func TestEstimateEMFixedFieldsAndErrors(t *testing.T) {
	truth := DefaultParams()
	s := newSynth(truth, 2)
	pairs := s.sample(10_000, 0.2)
	base := blurred(truth)
	base.Fields[FieldFace] = truth.Fields[FieldFace] // monotone, so output as given
	got, _, err := EstimateEM(base, nil, pairs, EMOptions{FixedFields: []string{FieldFace}})
	if err != nil {
		t.Fatal(err)
	}
	for l, lp := range base.Fields[FieldFace].Levels {
		g := got.Fields[FieldFace].Levels[l]
		if math.Abs(g.M-lp.M) > 1e-12 || g.U != lp.U {
			t.Fatalf("fixed field moved at %s: %+v → %+v", l, lp, g)
		}
	}
	if d, _ := maxDiff(got, base, FieldName, getU); d != 0 {
		t.Fatal("u changed without random pairs")
	}
	bad := append(slices.Clone(pairs), []FieldComparison{{Field: FieldAge, Level: "ancient"}})
	if _, _, err := EstimateEM(base, nil, bad, EMOptions{}); err == nil {
		t.Fatal("unknown level: want an error")
	}
	if _, _, err := EstimateEM(base, nil, nil, EMOptions{}); !errors.Is(err, ErrDegenerate) {
		t.Fatalf("no pairs: err %v", err)
	}
}

// A sample without matches cannot identify m: EM must refuse, not invent.
func TestEstimateEMDegenerate(t *testing.T) {
	truth := DefaultParams()
	s := newSynth(truth, 3)
	random := s.sample(100_000, 0)
	pairs := s.sample(5_000, 0)
	_, rep, err := EstimateEM(truth, random, pairs, EMOptions{})
	t.Logf("no matches: λ=%.2g after %d iterations, reverted %v, err %v", rep.Lambda, rep.Iterations, rep.Reverted, err)
	if !errors.Is(err, ErrDegenerate) {
		t.Fatalf("want ErrDegenerate, got %v", err)
	}
}

func TestEstimateFromDecisions(t *testing.T) {
	base := DefaultParams()
	exact := func(n int, level string) [][]FieldComparison {
		out := make([][]FieldComparison, n)
		for i := range out {
			out[i] = []FieldComparison{{Field: FieldName, Level: level}, {Field: FieldAge}}
		}
		return out
	}
	// 180 of 200 confirmed matches agree exactly on the name.
	confirmed := append(exact(180, "exact"), exact(20, "none")...)
	rejected := exact(100, "exact")
	got, err := EstimateFromDecisions(base, confirmed, rejected, DecisionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.Source != SourceDecisions {
		t.Fatalf("version %d source %q", got.Version, got.Source)
	}
	if err := ValidateParams(got); err != nil {
		t.Fatal(err)
	}
	// m = (count + 20·prior) / (200 + 20).
	if want := (180 + 20*base.Fields[FieldName].Levels["exact"].M) / 220; math.Abs(got.Fields[FieldName].Levels["exact"].M-want) > 1e-12 {
		t.Fatalf("m(exact) = %v, want %v", got.Fields[FieldName].Levels["exact"].M, want)
	}
	if want := 20 * base.Fields[FieldName].Levels["folded"].M / 220; math.Abs(got.Fields[FieldName].Levels["folded"].M-want) > 1e-12 {
		t.Fatalf("unseen level m(folded) = %v, want %v", got.Fields[FieldName].Levels["folded"].M, want)
	}
	if got.Fields[FieldName].Levels["exact"].U != base.Fields[FieldName].Levels["exact"].U {
		t.Fatal("u moved without UpdateU")
	}
	if d, _ := maxDiff(got, base, FieldAge, getM); d != 0 {
		t.Fatal("a field with no decisions moved")
	}
	withU, err := EstimateFromDecisions(base, confirmed, rejected, DecisionOptions{UpdateU: true})
	if err != nil {
		t.Fatal(err)
	}
	if want := (100 + 20*base.Fields[FieldName].Levels["exact"].U) / 120; math.Abs(withU.Fields[FieldName].Levels["exact"].U-want) > 1e-12 {
		t.Fatalf("u(exact) = %v, want %v", withU.Fields[FieldName].Levels["exact"].U, want)
	}
	// A few decisions only nudge.
	few, err := EstimateFromDecisions(base, exact(2, "none"), nil, DecisionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m := few.Fields[FieldName].Levels["none"].M; m < 0.12 || m > 0.25 {
		t.Fatalf("two decisions moved m(none) from 0.12 to %v", m)
	}
}
