package engine

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// Candidate pool sizes: each retrieval path returns more than the caller
// asked for, because the fused score reorders them.
const (
	poolFactor  = 5
	minPoolSize = 50
	MaxLimit    = 100
)

// childFace is one face of a child, with the date its photo was taken.
type childFace struct {
	desc    *models.Descriptor
	mfn     *models.MFNDescriptor // nil when the face has no MobileFaceNet descriptor
	takenOn models.Date
}

// childFaces returns the subject faces of a child's photos.
func childFaces(c *models.Child) []childFace {
	var out []childFace
	for i := range c.Photos {
		p := &c.Photos[i]
		if f := p.SubjectFace(); f != nil && f.Descriptor != nil {
			taken := p.TakenOn
			if taken == "" {
				taken = c.ObservedOn
			}
			out = append(out, childFace{desc: f.Descriptor, mfn: f.MFN, takenOn: taken})
		}
	}
	return out
}

// Candidates ranks the children of the other kind who could be the stored
// child id. It counts as interactive (Priority).
func (s *Service) Candidates(ctx context.Context, id string, limit int) ([]models.Candidate, error) {
	defer s.priority.Interactive()()
	c, err := s.store.GetChild(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.rank(ctx, &c, childFaces(&c), limit)
}

// Search ranks candidates for a query record and photos without storing
// anything. The query's kind is the side of the query child. It counts as
// interactive (Priority).
func (s *Service) Search(ctx context.Context, q *models.Child, photos [][]byte, limit int) ([]models.Candidate, error) {
	defer s.priority.Interactive()()
	if err := q.Validate(s.now()); err != nil {
		return nil, err
	}
	q.Normalize()
	var faces []childFace
	for i, data := range photos {
		a, err := s.photos.Analyze(ctx, data)
		if err != nil {
			return nil, fmt.Errorf("photo %d: %w", i+1, err)
		}
		f := a.SubjectFace()
		if f == nil || f.Descriptor == nil {
			return nil, models.Errorf(models.ENOFACE, "no face was found in photo %d", i+1)
		}
		faces = append(faces, childFace{desc: f.Descriptor, mfn: f.MFN, takenOn: q.ObservedOn})
	}
	return s.rank(ctx, q, faces, limit)
}

// rank gathers candidates from the face and attribute indexes, scores each
// pair and returns the best first, without pairs blocked by a hard conflict.
func (s *Service) rank(ctx context.Context, q *models.Child, faces []childFace, limit int) ([]models.Candidate, error) {
	if limit <= 0 {
		limit = 10
	}
	limit = min(limit, MaxLimit)
	ids, err := s.candidateIDs(ctx, q, faces, max(limit*poolFactor, minPoolSize))
	if err != nil {
		return nil, err
	}
	scored, err := s.scoreCandidates(ctx, q, faces, ids)
	if err != nil {
		return nil, err
	}
	// Equal scores are ordered by how alike the names are written
	// (names.Closeness), then by id: never by id alone when the names
	// can tell.
	sort.Slice(scored, func(i, j int) bool {
		if scored[i].Score != scored[j].Score {
			return scored[i].Score > scored[j].Score
		}
		if ci, cj := scored[i].closenessTo(q), scored[j].closenessTo(q); ci != cj {
			return ci > cj
		}
		return scored[i].ID < scored[j].ID
	})
	out := make([]models.Candidate, len(scored))
	for i := range scored {
		out[i] = scored[i].Candidate
	}
	// Each candidate's probability weighs it against the others
	// (Scorer.Posterior): at most one of them is the child.
	weights := make([]float64, len(out))
	for i := range out {
		weights[i] = out[i].Score
	}
	for i, p := range s.galleryScorer(q.Kind.Other()).Posterior(weights) {
		out[i].Probability = p
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// scoredCandidate is a scored candidate and its names, whose closeness to
// the query's (names.Closeness) orders equal scores.
type scoredCandidate struct {
	models.Candidate
	names     []string
	closeness float64 // -1 until computed
}

// closenessTo is names.Closeness of q's names and c's, computed once, and
// only for candidates whose score ties another's.
func (c *scoredCandidate) closenessTo(q *models.Child) float64 {
	if c.closeness < 0 {
		c.closeness = names.Closeness(q.Names, c.names)
	}
	return c.closeness
}

// scoreCandidates loads and scores each candidate id against q, a share
// of them per core, and returns those not blocked by a hard conflict, in
// no particular order.
func (s *Service) scoreCandidates(ctx context.Context, q *models.Child, faces []childFace, ids []string) ([]scoredCandidate, error) {
	scorer := s.galleryScorer(q.Kind.Other())
	workers := max(1, min(runtime.NumCPU(), len(ids)/minIDsPerWorker))
	outs := make([][]scoredCandidate, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < len(ids); i += workers {
				if err := ctx.Err(); err != nil {
					errs[w] = models.Errorf(models.ECANCELED, "search canceled")
					return
				}
				other, err := s.store.GetChild(ctx, ids[i])
				if models.ErrorCode(err) == models.ENOTFOUND {
					continue // deleted since it was indexed
				}
				if err != nil {
					errs[w] = fmt.Errorf("load candidate %s: %w", ids[i], err)
					return
				}
				if other.ID == q.ID || other.Kind == q.Kind {
					continue
				}
				r := s.scorePair(scorer, q, faces, &other, childFaces(&other))
				if r.Blocked {
					continue
				}
				outs[w] = append(outs[w], scoredCandidate{models.Candidate{ID: other.ID, Kind: other.Kind, Probability: r.Probability,
					Score: r.Score, Explanation: r.Explanation}, other.Names, -1})
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return slices.Concat(outs...), nil
}

// minIDsPerWorker is the fewest candidates worth a goroutine of their own.
const minIDsPerWorker = 16

// CandidateIDs are the ids of the records of the other kind that q's
// attributes or faces retrieve, up to pool per path: what a lookup ranks,
// and what the re-scoring job scores.
func (s *Service) CandidateIDs(ctx context.Context, q *models.Child, pool int) ([]string, error) {
	return s.candidateIDs(ctx, q, childFaces(q), pool)
}

// GalleryScorer is the scorer of a search among the records of kind
// gallery: the current parameters with the prior of that gallery's size.
func (s *Service) GalleryScorer(gallery models.Kind) *Scorer { return s.galleryScorer(gallery) }

// ComparePair compares two loaded records field by field, faces included,
// with scorer's face evidence.
func (s *Service) ComparePair(scorer *Scorer, a, b *models.Child) []FieldComparison {
	return s.comparePair(scorer, a, childFaces(a), b, childFaces(b))
}

// candidateIDs returns, in id order, the children of the other kind that
// the face index (the pool nearest q's faces) and the attribute index (the
// pool best by attributes) retrieve for q: the pairs worth scoring.
func (s *Service) candidateIDs(ctx context.Context, q *models.Child, faces []childFace, pool int) ([]string, error) {
	// The two indexes are searched at once: a lookup waits for the slower,
	// not for both in turn.
	var attrHits []models.AttributeHit
	var attrErr error
	var wg sync.WaitGroup
	if len(faces) == 0 || rankableAttributes(q) {
		wg.Go(func() {
			attrHits, attrErr = s.attrs.Candidates(ctx, q, pool)
		})
	}
	ids := map[string]bool{}
	var faceErr error
	if len(faces) > 0 {
		fq := models.FaceQuery{Descriptors: make([]models.Descriptor, len(faces)), Sex: q.Sex}
		for i, f := range faces {
			fq.Descriptors[i] = *f.desc
			if f.mfn != nil {
				fq.MFN = append(fq.MFN, *f.mfn)
			}
		}
		// With MobileFaceNet descriptors the hits are the union of both
		// models' nearest children.
		hits, err := s.faces.Search(ctx, fq, q.Kind.Other(), pool)
		if err != nil {
			faceErr = fmt.Errorf("face neighbours: %w", err)
		}
		for _, h := range hits {
			ids[h.ChildID] = true
		}
	}
	wg.Wait()
	if faceErr != nil {
		return nil, faceErr
	}
	if attrErr != nil {
		return nil, fmt.Errorf("attribute candidates: %w", attrErr)
	}
	for _, h := range attrHits {
		ids[h.ID] = true
	}
	delete(ids, q.ID)
	out := make([]string, 0, len(ids))
	for id := range ids {
		out = append(out, id)
	}
	sort.Strings(out)
	return out, nil
}

// rankableAttributes says whether q has an attribute that attribute
// retrieval ranks by: a name, a mark, a place, a guardian's name, or a home
// village or police station. Without one, its hits for
// a photo search would be any records of a compatible sex and age, in no
// useful order, and would cost a walk over all of them; the face index
// has already found the records the photo's evidence can rank.
func rankableAttributes(q *models.Child) bool {
	return len(q.Names) > 0 || strings.TrimSpace(q.Marks) != "" || q.Place.State != "" || q.Place.District != "" ||
		len(q.Guardians) > 0 || q.Home.Village != "" || q.Home.PoliceStation != ""
}

// galleryScorer is the current scorer with the prior of a search among the
// records of kind gallery, at the service's match rate (see
// Scorer.ForGallery). The match rate is the missing children's; a found
// child's is the same number of true pairs over the found records,
// MatchRate·missing/found.
func (s *Service) galleryScorer(gallery models.Kind) *Scorer {
	n, rate := s.counts.of(gallery), s.MatchRate()
	if gallery == models.KindMissing && n > 0 {
		if found := s.counts.of(models.KindFound); found > 0 {
			rate = min(rate*float64(n)/float64(found), MaxMatchRate)
		}
	}
	return s.Scorer().ForGallery(n, rate)
}

// scorePair compares a query child a (with faces af) against a candidate b.
func (s *Service) scorePair(scorer *Scorer, a *models.Child, af []childFace, b *models.Child, bf []childFace) Scored {
	return scorer.Score(s.comparePair(scorer, a, af, b, bf))
}

// comparePair returns the comparison vector of a pair, a and b in either
// order: the attribute comparisons, then the face comparison.
func (s *Service) comparePair(scorer *Scorer, a *models.Child, af []childFace, b *models.Child, bf []childFace) []FieldComparison {
	missing, found := a, b
	if a.Kind == models.KindFound {
		missing, found = b, a
	}
	cmps := CompareAttributes(missing, found, s.names)
	return append(cmps, compareFaces(scorer, a, af, b, bf))
}

// compareFaces finds the closest pair of faces between two children and
// turns its distance into face evidence, weighed by the years between the
// two photos and the child's age in the earlier one.
func compareFaces(scorer *Scorer, a *models.Child, af []childFace, b *models.Child, bf []childFace) FieldComparison {
	best, bi, bj := -1.0, -1, -1
	var bestDlib, bestMFN float64
	var bestScale FaceScale
	for i := range af {
		for j := range bf {
			d := af[i].desc.Distance(bf[j].desc)
			m := -1.0 // a side without a MobileFaceNet descriptor: dlib alone
			if af[i].mfn != nil && bf[j].mfn != nil {
				m = af[i].mfn.CosineDistance(bf[j].mfn)
			}
			years, _ := photoGap(a, af[i].takenOn, b, bf[j].takenOn)
			fd, scale := scorer.fusion.Read(d, m, years)
			if best < 0 || fd < best {
				best, bi, bj, bestDlib, bestMFN, bestScale = fd, i, j, d, m, scale
			}
		}
	}
	if bi < 0 {
		return scorer.FaceComparison(FaceScaleFused, -1, -1, -1, false)
	}
	years, ageEarlier := photoGap(a, af[bi].takenOn, b, bf[bj].takenOn)
	c := scorer.FaceComparison(bestScale, best, years, ageEarlier, true)
	if bestScale == FaceScaleFused {
		c.Detail += fmt.Sprintf(" (both face models: dlib distance %.2f, MobileFaceNet cosine distance %.2f, read together as %.2f on dlib's scale)", bestDlib, bestMFN, best)
	}
	return c
}

// photoGap returns the years between two photos (-1 when a date is unknown)
// and the child's estimated age in the earlier one (-1 when unknown).
func photoGap(a *models.Child, ta models.Date, b *models.Child, tb models.Date) (years, ageEarlier float64) {
	da, okA := ta.Time()
	db, okB := tb.Time()
	if !okA || !okB {
		return -1, -1
	}
	years = db.Sub(da).Hours() / 24 / 365.25
	earlierChild, earlierDate := a, da
	if years < 0 {
		years = -years
		earlierChild, earlierDate = b, db
	}
	ageEarlier = ageAt(earlierChild, earlierDate)
	if ageEarlier < 0 { // fall back on the other record's age, moved to that date
		other := b
		if earlierChild == b {
			other = a
		}
		ageEarlier = ageAt(other, earlierDate)
	}
	return years, ageEarlier
}

func ageAt(c *models.Child, t time.Time) float64 {
	r, ok := c.AgeOn(t)
	if !ok {
		return -1
	}
	return float64(r.Min+r.Max) / 2
}

// MatchStore keeps the matches the batch job found and their decisions.
type MatchStore interface {
	GetMatch(ctx context.Context, id string) (models.Match, error)
	// MergeMatchScores writes new scores into matches, each keeping its
	// stored decision, in one transaction per batch; an undecided match
	// below dropBelow is removed (index.Store.MergeMatchScores).
	MergeMatchScores(ctx context.Context, ms []models.Match, dropBelow float64) (removed int, err error)
	// DecideMatch records a decision on a match in one transaction.
	DecideMatch(ctx context.Context, id string, d models.Decision) (models.Match, error)
	ListMatches(ctx context.Context, f models.MatchFilter) ([]models.Match, string, error)
	MatchesForChild(ctx context.Context, childID string) ([]models.Match, error)
	DeleteMatch(ctx context.Context, id string) error
	// ListDecisions returns a page of the history of decisions, oldest first.
	ListDecisions(ctx context.Context, f models.DecisionFilter) ([]models.DecisionRecord, string, error)
}

// ListDecisions returns a page of the history of decisions, oldest first:
// every decision made, including those a later one replaced on its match.
func (s *Service) ListDecisions(ctx context.Context, f models.DecisionFilter) ([]models.DecisionRecord, string, error) {
	return s.matches.ListDecisions(ctx, f)
}

// rescoreMatchesOf scores every stored match of c again with the evidence
// stored now (after a photo was removed): an undecided match that falls
// below threshold, the least probability the re-score job keeps a new
// pair at, is removed (the evidence that put it in the queue is gone);
// every other match is updated in place with its new score, and a decided
// one keeps its decision (MatchStore.MergeMatchScores, so that no decision
// made meanwhile is lost). The caller holds recordMu.
func (s *Service) rescoreMatchesOf(ctx context.Context, c *models.Child, threshold float64) (removed int, err error) {
	ms, err := s.matches.MatchesForChild(ctx, c.ID)
	if err != nil {
		return 0, fmt.Errorf("matches of %s: %w", c.ID, err)
	}
	scorer := s.galleryScorer(models.KindFound)
	var rescored []models.Match
	for _, m := range ms {
		otherID := m.FoundID
		if c.ID == m.FoundID {
			otherID = m.MissingID
		}
		other, err := s.store.GetChild(ctx, otherID)
		if models.ErrorCode(err) == models.ENOTFOUND {
			continue // deleted with its matches
		}
		if err != nil {
			return 0, fmt.Errorf("load %s: %w", otherID, err)
		}
		missing, found := c, &other
		if c.Kind == models.KindFound {
			missing, found = &other, c
		}
		ps := s.scoreLoaded(scorer, missing, childFaces(missing), found)
		m.Probability, m.Score, m.Explanation = ps.Probability, ps.Score, ps.Explanation
		m.ParamsVersion, m.InputsHash, m.UpdatedAt = ps.ParamsVersion, ps.InputsHash, s.now().UTC()
		rescored = append(rescored, m)
	}
	removed, err = s.matches.MergeMatchScores(ctx, rescored, threshold)
	if err != nil {
		return removed, fmt.Errorf("re-score matches of %s: %w", c.ID, err)
	}
	return removed, nil
}

// ListMatches returns the review queue, best first.
func (s *Service) ListMatches(ctx context.Context, f models.MatchFilter) ([]models.Match, string, error) {
	return s.matches.ListMatches(ctx, f)
}

// DecideMatch records an investigator's verdict on a match. A confirmed
// match sets both records to status matched. A later decision replaces an
// earlier one (an investigator may correct a mistake); the batch job keeps
// whatever was decided last (the store merges its scores and decides in
// transactions of their own, so neither waits for the other).
func (s *Service) DecideMatch(ctx context.Context, id string, d models.Decision) (*models.Match, error) {
	if d.Decision != models.MatchConfirmed && d.Decision != models.MatchRejected {
		return nil, &models.Error{Code: models.EINVALID, Message: "invalid decision",
			Fields: []models.FieldError{{Field: "decision", Message: `must be "confirmed" or "rejected"`}}}
	}
	if d.At.IsZero() {
		d.At = s.now().UTC()
	}
	m, err := s.matches.DecideMatch(ctx, id, d)
	if err != nil {
		return nil, fmt.Errorf("store decision on %s: %w", id, err)
	}
	if d.Decision == models.MatchConfirmed {
		for _, cid := range []string{m.MissingID, m.FoundID} {
			if err := s.setStatus(ctx, cid, models.StatusMatched); err != nil {
				return nil, err
			}
		}
	}
	return &m, nil
}

// setStatus changes a record's case status without touching its evidence,
// so it does not count as a change for incremental re-scoring.
func (s *Service) setStatus(ctx context.Context, id string, st models.Status) error {
	s.recordMu.Lock()
	defer s.recordMu.Unlock()
	c, err := s.store.GetChild(ctx, id)
	if models.ErrorCode(err) == models.ENOTFOUND {
		return nil // erased since the match was made
	}
	if err != nil {
		return err
	}
	if c.Status == st {
		return nil
	}
	c.Status = st
	if err := s.store.PutChild(ctx, c); err != nil {
		return fmt.Errorf("set status of %s: %w", id, err)
	}
	return nil
}
