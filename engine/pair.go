package engine

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"

	"github.com/trackmatch/trackmatch/models"
)

// PairScore is one stored missing–found pair scored with the current
// parameters: what the batch job and an investigator re-checking a match
// see, and the comparison vector the estimators learn from.
type PairScore struct {
	Scored
	// Comparisons is the pair's comparison vector, in explanation order.
	Comparisons []FieldComparison
	// ParamsVersion is the version of the parameters that scored it.
	ParamsVersion int
	// InputsHash identifies the inputs of the score (see InputsHash).
	InputsHash string
}

// ScorePair loads the records missingID and foundID and scores them with the
// current parameters and the prior of a search among the found records, as
// the batch job does. ENOTFOUND when either is gone, EINVALID when the kinds
// are not missing and found.
func (s *Service) ScorePair(ctx context.Context, missingID, foundID string) (*PairScore, error) {
	m, err := s.store.GetChild(ctx, missingID)
	if err != nil {
		return nil, err
	}
	f, err := s.store.GetChild(ctx, foundID)
	if err != nil {
		return nil, err
	}
	if m.Kind != models.KindMissing || f.Kind != models.KindFound {
		return nil, models.Errorf(models.EINVALID, "a pair is a missing record and a found record")
	}
	ps := s.ScoreRecords(&m, &f)
	return &ps, nil
}

// ScoreRecords scores two loaded records, missing and found, as ScorePair
// does: for callers that hold the records already.
func (s *Service) ScoreRecords(missing, found *models.Child) PairScore {
	return s.scoreLoaded(s.galleryScorer(models.KindFound), missing, childFaces(missing), found)
}

// ScoreWith scores loaded records, missing and found, with scorer (the
// re-scoring job holds one scorer for a whole run).
func (s *Service) ScoreWith(scorer *Scorer, missing, found *models.Child) PairScore {
	return s.scoreLoaded(scorer, missing, childFaces(missing), found)
}

// scoreLoaded scores a loaded missing child m (with faces mf) against a
// loaded found child f.
func (s *Service) scoreLoaded(scorer *Scorer, m *models.Child, mf []childFace, f *models.Child) PairScore {
	cmps := s.comparePair(scorer, m, mf, f, childFaces(f))
	return PairScore{Scored: scorer.Score(cmps), Comparisons: cmps, ParamsVersion: scorer.Version(),
		InputsHash: InputsHash(m, f, scorer.Version())}
}

// InputsHash is a hash of what a pair's score depends on: the two records'
// ids and update times (UpdatedAt changes on every edit and photo upload),
// their photos' ids, contents and chosen faces, and the parameters version.
// Two scores with the same hash came from the same inputs; a record's case
// status is not an input.
func InputsHash(missing, found *models.Child, paramsVersion int) string {
	h := sha256.New()
	var buf [8]byte
	writeInt := func(v int64) {
		binary.BigEndian.PutUint64(buf[:], uint64(v))
		h.Write(buf[:])
	}
	writeInt(int64(paramsVersion))
	for _, c := range []*models.Child{missing, found} {
		fmt.Fprintf(h, "%s\x00", c.ID)
		writeInt(c.UpdatedAt.UnixNano())
		writeInt(int64(len(c.Photos)))
		for i := range c.Photos {
			p := &c.Photos[i]
			fmt.Fprintf(h, "%s\x00%s\x00%s\x00", p.ID, p.SHA256, p.TakenOn)
			writeInt(int64(p.Subject))
		}
	}
	return hex.EncodeToString(h.Sum(nil)[:16])
}
