package engine

import (
	"fmt"
	"math"

	"github.com/trackmatch/trackmatch/models"
)

// NameTFFloor is the least u a name's term frequency can stand in for:
// agreement on a name seen once in the index says much, but not more than
// agreement on a name shared by one child in ten thousand.
const NameTFFloor = 1e-4

// Scorer turns the field comparisons of a pair into a Fellegi–Sunter match
// weight, a probability and an explanation, with one version of the
// parameters. It is immutable and safe for concurrent use.
type Scorer struct {
	version      int
	prior        float64
	logPriorOdds float64
	fields       map[string]map[string]models.LevelParams
	bands        FaceBands
	// faceWeights are each face group's band weights, nearest first, for
	// interpolating at a pair's distance.
	faceWeights map[string][]float64
	// fusion folds MobileFaceNet's distance into dlib's scale, where the
	// face bands were measured (FaceFusion.Distance).
	fusion FaceFusion
	// gallery and rate are the gallery size and match rate of ForGallery
	// (0 and DefaultMatchRate until set).
	gallery int
	rate    float64
	// calib maps weights to the weights probabilities use (identity
	// unless the parameters carry a fitted Calibration).
	calib models.Calibration
}

// Scored is the outcome of scoring one pair.
type Scored struct {
	// Score is the match weight: the sum of the contributions, in log2 units.
	Score float64
	// Probability is 1/(1+2^-(Score+log2(λ/(1−λ)))), or 0 when Blocked.
	Probability float64
	// Explanation has one contribution per comparison, in the order given;
	// missing fields are there with weight 0, so a reader sees what was
	// not known.
	Explanation []models.Contribution
	// Blocked is true when a comparison is a hard conflict (female against
	// male): the pair is not a candidate and callers drop it.
	Blocked bool
}

// NewScorer returns a scorer for p, which must pass ValidateParams and, if
// it has a "face" field, have a level for every DefaultFaceBands level.
// The scorer copies p.
func NewScorer(p models.Params) (*Scorer, error) {
	p = WithDefaults(p) // parameters stored before a field or level existed
	if err := ValidateParams(p); err != nil {
		return nil, err
	}
	bands := DefaultFaceBands()
	if face, ok := p.Fields[FieldFace]; ok {
		for _, l := range bands.Levels() {
			if _, ok := face.Levels[l]; !ok {
				return nil, models.Errorf(models.EINVALID, "scoring parameters v%d: face field has no level %q", p.Version, l)
			}
		}
	}
	s := &Scorer{
		version:      p.Version,
		prior:        p.Prior,
		logPriorOdds: math.Log2(p.Prior / (1 - p.Prior)),
		fields:       make(map[string]map[string]models.LevelParams, len(p.Fields)),
		bands:        bands,
		rate:         DefaultMatchRate,
		calib:        models.Calibration{Slope: 1},
		fusion:       DefaultFaceFusion(),
	}
	if p.Calibration != nil {
		s.calib = *p.Calibration
	}
	for f, fp := range cloneParams(p).Fields {
		s.fields[f] = fp.Levels
	}
	if face, ok := p.Fields[FieldFace]; ok {
		s.faceWeights = map[string][]float64{}
		for _, g := range bands.ScaledGroups() {
			for _, band := range bands.BandNames() {
				lp := face.Levels[g+"/"+band]
				s.faceWeights[g] = append(s.faceWeights[g], math.Log2(lp.M/lp.U))
			}
		}
	}
	return s, nil
}

// Version is the version of the parameters the scorer uses, recorded with
// every score (models.Match.ParamsVersion).
func (s *Scorer) Version() int { return s.version }

// FaceComparison is the "face" comparison of a photo pair read on scale
// under the scorer's face bands; see FaceBands.CompareFaces.
func (s *Scorer) FaceComparison(scale FaceScale, distance, yearsApart, ageAtEarlier float64, known bool) FieldComparison {
	return s.bands.CompareFaces(scale, distance, yearsApart, ageAtEarlier, known)
}

// Score sums log2(m/u) over the comparisons. A comparison with an empty
// Level contributes nothing. The face's weight is its group's band weights
// interpolated at the pair's distance (FaceBands.interpolate), so faces in
// one band still rank by distance. For exact, folded and phonetic name agreement
// with a known TermFrequency f, u is max(f, NameTFFloor) instead of the
// level's u, so a rare shared name weighs more than a common one. A level
// the parameters do not know contributes nothing and says so.
func (s *Scorer) Score(cmps []FieldComparison) Scored {
	out := Scored{Explanation: make([]models.Contribution, 0, len(cmps))}
	for _, c := range cmps {
		w, detail := s.weight(c)
		out.Score += w
		out.Explanation = append(out.Explanation, models.Contribution{Field: c.Field, Level: c.Level, Weight: w, Summary: s.summary(c), Detail: detail})
		out.Blocked = out.Blocked || c.Conflict
	}
	if !out.Blocked {
		out.Probability = logistic2(s.calibrate(out.Score) + s.logPriorOdds)
	}
	return out
}

func (s *Scorer) weight(c FieldComparison) (float64, string) {
	if c.Level == "" {
		if c.Detail == "" {
			return 0, "not known on both records"
		}
		return 0, c.Detail
	}
	lp, ok := s.fields[c.Field][c.Level]
	if !ok {
		return 0, fmt.Sprintf("%s (level %q has no parameters in v%d; not counted)", c.Detail, c.Level, s.version)
	}
	if c.Field == FieldFace {
		if w, ok := s.faceWeights[levelGroup(c.Level)]; ok {
			return s.bands.interpolate(w, c.Distance), c.Detail
		}
	}
	u := lp.U
	if tfField(c.Field) && c.TermFrequency > 0 && tfAdjusted(c.Level) {
		u = min(max(c.TermFrequency, NameTFFloor), 1)
	}
	return math.Log2(lp.M / u), c.Detail
}

// tfAdjusted reports whether a name level is agreement on the name itself,
// whose weight depends on how common the name is.
func tfAdjusted(level string) bool {
	return level == "exact" || level == "folded" || level == "phonetic"
}

// DefaultMatchRate is the share of query children whose true match is among
// the records searched, until one is estimated from the records themselves
// (EstimateMatchRate, which the re-scoring job runs at its start).
// TrackChild's history has roughly as many found as missing records and
// many children are never registered on the other side; one in three is a
// cautious start.
const DefaultMatchRate = 1.0 / 3

// WithFaceFusion returns a copy of the scorer that reads a pair's two face
// distances by f (FaceFusion.Only measures each model alone).
func (s *Scorer) WithFaceFusion(f FaceFusion) *Scorer {
	c := *s
	c.fusion = f
	return &c
}

// ForGallery returns a scorer whose prior suits a search among n records of
// the other kind of which one is the child with probability rate (rate <= 0
// keeps the scorer's): λ = rate/n for a pair, since at most one of them is
// the child. The parameters' fixed prior assumes a national-size gallery and
// would make every probability tiny in a small one. n <= 0 keeps the
// parameters' prior. Weights and ranking do not change, only probabilities.
func (s *Scorer) ForGallery(n int, rate float64) *Scorer {
	if n <= 0 {
		return s
	}
	c := *s
	if rate > 0 {
		c.rate = min(rate, MaxMatchRate)
	}
	lambda := min(c.rate/float64(n), 0.5)
	c.gallery = n
	c.prior = lambda
	c.logPriorOdds = math.Log2(lambda / (1 - lambda))
	return &c
}

// Posterior returns the probability of each of one query's candidates,
// given their match weights, under the scorer's gallery size and match
// rate (QueryPosterior); without a gallery (ForGallery not called) each
// is the pairwise probability under the parameters' prior.
func (s *Scorer) Posterior(weights []float64) []float64 {
	weights = calibrated(weights, s.calib)
	if s.gallery <= 0 {
		out := make([]float64, len(weights))
		for i, w := range weights {
			out[i] = logistic2(w + s.logPriorOdds)
		}
		return out
	}
	return QueryPosterior(weights, s.gallery, s.rate)
}

// calibrate maps a match weight through the parameters' Calibration.
func (s *Scorer) calibrate(w float64) float64 { return s.calib.Slope*w + s.calib.Intercept }

// Exclusive is ExclusivePosterior under the scorer's gallery size and
// match rate (the pairwise probability when ForGallery was not called and
// there are no others and no rivals).
func (s *Scorer) Exclusive(weight float64, others []float64, rivals []Rival) float64 {
	if s.gallery <= 0 {
		return logistic2(s.calibrate(weight) + s.logPriorOdds)
	}
	cr := make([]Rival, len(rivals))
	for i, r := range rivals {
		cr[i] = Rival{Weight: s.calibrate(r.Weight), Others: calibrated(r.Others, s.calib)}
	}
	return ExclusivePosterior(s.calibrate(weight), calibrated(others, s.calib), s.gallery, s.rate, cr)
}

// MatchRate is the match rate the scorer's probabilities assume.
func (s *Scorer) MatchRate() float64 { return s.rate }
