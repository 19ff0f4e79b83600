package engine

import (
	"math"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func defaultScorer(t *testing.T) *Scorer {
	t.Helper()
	s, err := NewScorer(DefaultParams())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func levelWeight(p models.Params, field, level string) float64 {
	lp := p.Fields[field].Levels[level]
	return math.Log2(lp.M / lp.U)
}

func TestScoreSumsWeightsAndExplains(t *testing.T) {
	p := DefaultParams()
	s := defaultScorer(t)
	face := s.FaceComparison(FaceScaleFused, 0.46, 2, 9, true) // a band's centre: the band's weight, not interpolated
	cmps := []FieldComparison{
		face,
		{Field: FieldName, Level: "phonetic", Detail: "Puja and Pooja sound alike"},
		{Field: FieldAge, Level: "overlap", Detail: "ages 8-10 and 9 overlap"},
		{Field: FieldSex, Level: "same", Detail: "both female"},
		{Field: FieldMarks, Detail: "no marks recorded on the found record"},
		{Field: FieldPlace, Level: "other", Detail: "Patna and Pune"},
	}
	got := s.Score(cmps)
	want := levelWeight(p, FieldFace, "1-3y/0.44-0.48") + levelWeight(p, FieldName, "phonetic") +
		levelWeight(p, FieldAge, "overlap") + levelWeight(p, FieldSex, "same") + levelWeight(p, FieldPlace, "other")
	if math.Abs(got.Score-want) > 1e-12 {
		t.Fatalf("score %v, want %v", got.Score, want)
	}
	if got.Blocked {
		t.Fatal("blocked without a conflict")
	}
	if len(got.Explanation) != len(cmps) {
		t.Fatalf("%d contributions for %d comparisons", len(got.Explanation), len(cmps))
	}
	sum := 0.0
	for i, c := range got.Explanation {
		if c.Field != cmps[i].Field || c.Detail != cmps[i].Detail {
			t.Errorf("contribution %d = %+v, from %+v", i, c, cmps[i])
		}
		sum += c.Weight
	}
	if math.Abs(sum-got.Score) > 1e-12 {
		t.Fatalf("contributions sum to %v, score %v", sum, got.Score)
	}
	if got.Explanation[4].Weight != 0 {
		t.Fatalf("missing field weighs %v", got.Explanation[4].Weight)
	}
	x := got.Score + math.Log2(p.Prior/(1-p.Prior))
	if wantP := 1 / (1 + math.Pow(2, -x)); math.Abs(got.Probability-wantP) > 1e-12 {
		t.Fatalf("probability %v, want %v", got.Probability, wantP)
	}
	if !strings.Contains(face.Detail, "distance 0.46") || !strings.Contains(face.Detail, "2 years apart") {
		t.Fatalf("face detail %q", face.Detail)
	}
}

func TestScoreProbabilityFromPrior(t *testing.T) {
	s := defaultScorer(t)
	// No evidence: the probability is the prior.
	if got := s.Score(nil); math.Abs(got.Probability-DefaultPrior) > 1e-15 || got.Score != 0 {
		t.Fatalf("no evidence: %+v", got)
	}
	// Evidence that exactly cancels the prior odds gives one half.
	p := DefaultParams()
	p.Prior = 0.2                                                                  // odds 1:4, so 2 bits of agreement give 1:1
	p.Fields[FieldSex] = models.FieldParams{Levels: map[string]models.LevelParams{ // m/u = 4
		"same": {M: 0.8, U: 0.2}, "conflict": {M: 0.2, U: 0.8},
	}}
	s2, err := NewScorer(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.Score([]FieldComparison{{Field: FieldSex, Level: "same"}}); math.Abs(got.Probability-0.5) > 1e-12 {
		t.Fatalf("cancelling evidence: %+v", got)
	}
	// Overwhelming evidence stays finite and below 1.
	big := make([]FieldComparison, 200)
	for i := range big {
		big[i] = FieldComparison{Field: FieldName, Level: "exact"}
	}
	if got := s.Score(big); !(got.Probability > 0.999 && got.Probability <= 1) || math.IsNaN(got.Probability) {
		t.Fatalf("overwhelming evidence: %v", got.Probability)
	}
	for i := range big {
		big[i] = FieldComparison{Field: FieldName, Level: "none"}
	}
	if got := s.Score(big); !(got.Probability >= 0 && got.Probability < 1e-100) {
		t.Fatalf("overwhelming disagreement: %v", got.Probability)
	}
}

func TestScoreBlockedByConflict(t *testing.T) {
	s := defaultScorer(t)
	got := s.Score([]FieldComparison{
		s.FaceComparison(FaceScaleFused, 0.3, 0.5, 10, true),
		{Field: FieldSex, Level: "conflict", Detail: "female against male", Conflict: true},
	})
	if !got.Blocked || got.Probability != 0 {
		t.Fatalf("conflict not blocked: %+v", got)
	}
	if len(got.Explanation) != 2 || got.Explanation[1].Detail != "female against male" || got.Explanation[1].Weight >= 0 {
		t.Fatalf("blocked pair must still explain itself: %+v", got.Explanation)
	}
}

func TestNameTermFrequency(t *testing.T) {
	p := DefaultParams()
	s := defaultScorer(t)
	m := p.Fields[FieldName].Levels["exact"].M
	name := func(level string, f float64) float64 {
		return s.Score([]FieldComparison{{Field: FieldName, Level: level, TermFrequency: f}}).Score
	}
	pooja := name("exact", 0.02)          // one child in fifty is a Pooja
	priyamvada := name("exact", 0.000_25) // one in four thousand a Priyamvada
	if math.Abs(pooja-math.Log2(m/0.02)) > 1e-12 || math.Abs(priyamvada-math.Log2(m/0.000_25)) > 1e-12 {
		t.Fatalf("Pooja %v, Priyamvada %v", pooja, priyamvada)
	}
	if priyamvada-pooja < 6 {
		t.Fatalf("a rare name should weigh far more: Pooja %.2f, Priyamvada %.2f bits", pooja, priyamvada)
	}
	if got := name("exact", 1e-9); math.Abs(got-math.Log2(m/NameTFFloor)) > 1e-12 {
		t.Fatalf("frequency below the floor: %v", got)
	}
	if got, want := name("exact", 0), levelWeight(p, FieldName, "exact"); got != want {
		t.Fatalf("unknown frequency: %v, want the level's %v", got, want)
	}
	if got, want := name("fuzzy", 0.02), levelWeight(p, FieldName, "fuzzy"); got != want {
		t.Fatalf("fuzzy agreement is not frequency-adjusted: %v, want %v", got, want)
	}
	phon := name("phonetic", 0.001)
	if want := math.Log2(p.Fields[FieldName].Levels["phonetic"].M / 0.001); math.Abs(phon-want) > 1e-12 {
		t.Fatalf("phonetic: %v, want %v", phon, want)
	}
}

func TestScoreUnknownLevel(t *testing.T) {
	s := defaultScorer(t)
	got := s.Score([]FieldComparison{{Field: FieldAge, Level: "ancient", Detail: "?"}, {Field: "shoe", Level: "same"}})
	if got.Score != 0 || !strings.Contains(got.Explanation[0].Detail, "no parameters") || !strings.Contains(got.Explanation[1].Detail, "no parameters") {
		t.Fatalf("unknown level: %+v", got)
	}
}

func TestNewScorerRejectsBadParams(t *testing.T) {
	for name, edit := range map[string]func(p *models.Params){
		"zero prior": func(p *models.Params) { p.Prior = 0 },
		"prior one":  func(p *models.Params) { p.Prior = 1 },
		"zero m": func(p *models.Params) {
			p.Fields[FieldSex].Levels["conflict"] = models.LevelParams{M: 0, U: 0.5}
		},
		"m sum": func(p *models.Params) {
			p.Fields[FieldSex].Levels["same"] = models.LevelParams{M: 0.5, U: 0.5}
		},
		"face level missing": func(p *models.Params) { delete(p.Fields[FieldFace].Levels, "1-3y/<0.30") },
	} {
		p := DefaultParams()
		edit(&p)
		if _, err := NewScorer(p); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

func TestScorerCopiesParams(t *testing.T) {
	p := DefaultParams()
	s, err := NewScorer(p)
	if err != nil {
		t.Fatal(err)
	}
	cmp := []FieldComparison{{Field: FieldSex, Level: "same"}}
	before := s.Score(cmp).Score
	p.Fields[FieldSex].Levels["same"] = models.LevelParams{M: 0.1, U: 0.9}
	if after := s.Score(cmp).Score; after != before || s.Version() != 1 {
		t.Fatalf("scorer changed with its params: %v then %v", before, after)
	}
}
