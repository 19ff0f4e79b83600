package index

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strings"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/trackmatch/trackmatch/models"
)

// matchTxnSize is how many matches PutMatches commits per transaction.
const matchTxnSize = 128

func keyMatch(id string) []byte { return []byte(prefixMatch + id) }

func keyRel(childID, matchID string) []byte {
	return []byte(prefixChildRel + childID + "/" + matchID)
}

// queuePrefix is the review-queue prefix for status ("" for every status).
func queuePrefix(status models.MatchStatus) []byte {
	if status == "" {
		return []byte(prefixQueueAll)
	}
	return []byte(prefixQueueSt + string(status) + "/")
}

// queuePos is a match's position in a queue: probability descending, then id.
func queuePos(p float64, id string) []byte {
	b := binary.BigEndian.AppendUint64(nil, ^math.Float64bits(p+0)) // +0 turns -0 into 0
	return append(append(b, '/'), id...)
}

func parseQueuePos(pos []byte) (p float64, id string, ok bool) {
	if len(pos) < 10 || pos[8] != '/' {
		return 0, "", false
	}
	return math.Float64frombits(^binary.BigEndian.Uint64(pos)), string(pos[9:]), true
}

func queueKeys(m models.Match) [][]byte {
	pos := queuePos(m.Probability, m.ID)
	return [][]byte{
		append(queuePrefix(""), pos...),
		append(queuePrefix(m.Status), pos...),
	}
}

// splitMatchID returns the two record ids of a match id, ok=false when id
// is not missingID~foundID.
func splitMatchID(id string) (missingID, foundID string, ok bool) {
	missingID, foundID, ok = strings.Cut(id, "~")
	return missingID, foundID, ok && validID(missingID) && validID(foundID)
}

// PutMatch creates or replaces match m; see PutMatches.
func (s *Store) PutMatch(ctx context.Context, m models.Match) error {
	return s.PutMatches(ctx, []models.Match{m})
}

// PutMatches creates or replaces matches, committing up to 128 per
// transaction (a batch re-score would otherwise pay one disk sync per pair).
// Each match's ID is models.MatchID(MissingID, FoundID) (filled in when
// empty); both records must exist with the right kinds (ENOTFOUND,
// EINVALID), which also keeps a match from outliving a concurrent
// DeleteChild. A zero CreatedAt keeps the stored one (or is now), a zero
// UpdatedAt is now. The stored match is replaced whole: a re-scorer keeps
// decisions with MergeMatchScores, an investigator decides with DecideMatch.
func (s *Store) PutMatches(ctx context.Context, ms []models.Match) error {
	ms = append([]models.Match(nil), ms...)
	for i := range ms {
		m := &ms[i]
		if m.ID == "" {
			m.ID = models.MatchID(m.MissingID, m.FoundID)
		}
		if err := validMatch(*m); err != nil {
			return err
		}
	}
	for len(ms) > 0 {
		n := min(len(ms), matchTxnSize)
		batch := ms[:n]
		ms = ms[n:]
		if err := s.update(ctx, func(txn *badger.Txn) error {
			kinds := map[string]models.Kind{}
			for _, m := range batch {
				if err := s.putMatch(txn, kinds, m); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return fmt.Errorf("put matches: %w", err)
		}
	}
	return nil
}

// validMatch checks a match's id, status and probability.
func validMatch(m models.Match) error {
	if !validID(m.MissingID) || !validID(m.FoundID) || m.ID != models.MatchID(m.MissingID, m.FoundID) {
		return models.Errorf(models.EINVALID, "match id must be missing_id~found_id of two record ids")
	}
	if !m.Status.Valid() {
		return models.Errorf(models.EINVALID, "match status must be %q, %q or %q",
			models.MatchNew, models.MatchConfirmed, models.MatchRejected)
	}
	if !(m.Probability >= 0 && m.Probability <= 1) { // also refuses NaN
		return models.Errorf(models.EINVALID, "match probability must be between 0 and 1")
	}
	return nil
}

func (s *Store) putMatch(txn *badger.Txn, kinds map[string]models.Kind, m models.Match) error {
	for _, side := range []struct {
		id   string
		kind models.Kind
	}{{m.MissingID, models.KindMissing}, {m.FoundID, models.KindFound}} {
		kind, seen := kinds[side.id]
		if !seen {
			rec, ok, err := getValue(txn, keyChild(side.id))
			if err != nil {
				return err
			}
			if !ok {
				return models.Errorf(models.ENOTFOUND, "no record %s", side.id)
			}
			var h childHead
			if err := json.Unmarshal(rec, &h); err != nil {
				return fmt.Errorf("decode child %s: %w", side.id, err)
			}
			kind = h.Kind
			kinds[side.id] = kind
		}
		if kind != side.kind {
			return models.Errorf(models.EINVALID, "record %s is %s, not %s", side.id, kind, side.kind)
		}
	}
	old, exists, err := getValue(txn, keyMatch(m.ID))
	if err != nil {
		return err
	}
	now := s.now().UTC()
	var prevPtr *models.Match
	if exists {
		var prev models.Match
		prevPtr = &prev
		if err := json.Unmarshal(old, &prev); err != nil {
			return fmt.Errorf("decode match %s: %w", m.ID, err)
		}
		if err := deleteKeys(txn, queueKeys(prev)); err != nil {
			return err
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = prev.CreatedAt
		}
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = now
	}
	if m.UpdatedAt.IsZero() {
		m.UpdatedAt = now
	}
	val, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode match %s: %w", m.ID, err)
	}
	if err := txn.Set(keyMatch(m.ID), val); err != nil {
		return err
	}
	if err := appendDecisionTxn(txn, prevPtr, m); err != nil {
		return err
	}
	if err := s.queueMatchEvent(txn, m); err != nil { // the webhook outbox (outbox.go)
		return err
	}
	keys := append(queueKeys(m), keyRel(m.MissingID, m.ID), keyRel(m.FoundID, m.ID),
		keyGuard(m.MissingID), keyGuard(m.FoundID)) // the guards: see PutPhoto
	for _, k := range keys {
		if err := txn.Set(k, nil); err != nil {
			return err
		}
	}
	return nil
}

// MergeMatchScores writes new scores into matches, each keeping the
// decision, status and creation time stored for it (a match without a
// decision is new), read and written in one transaction (up to 128 matches
// each), so that no decision made meanwhile is lost: a decision committed
// between the read and the write makes Badger retry the transaction. A
// match whose record is gone is skipped. An undecided match whose new
// probability is below dropBelow is removed instead of written (0 removes
// none): its evidence no longer puts it in the queue. It returns how many
// matches were removed.
func (s *Store) MergeMatchScores(ctx context.Context, ms []models.Match, dropBelow float64) (removed int, err error) {
	ms = append([]models.Match(nil), ms...)
	for i := range ms {
		if ms[i].ID == "" {
			ms[i].ID = models.MatchID(ms[i].MissingID, ms[i].FoundID)
		}
		ms[i].Status = models.MatchNew // checked by putMatch; the stored one is kept below
		if err := validMatch(ms[i]); err != nil {
			return 0, err
		}
	}
	for len(ms) > 0 {
		n := min(len(ms), matchTxnSize)
		batch := ms[:n]
		ms = ms[n:]
		dropped := 0
		if err := s.update(ctx, func(txn *badger.Txn) error {
			dropped = 0
			kinds := map[string]models.Kind{}
			for _, m := range batch {
				cur, err := readMatch(txn, m.ID)
				switch {
				case err == nil:
					m.Decision, m.Status, m.CreatedAt = cur.Decision, cur.Status, cur.CreatedAt
					if cur.Decision == nil {
						m.Status = models.MatchNew
					}
				case models.ErrorCode(err) == models.ENOTFOUND:
					m.Decision, m.Status = nil, models.MatchNew
				default:
					return err
				}
				if m.Decision == nil && m.Probability < dropBelow {
					if err == nil {
						if err := deleteKeys(txn, queueKeys(cur)); err != nil {
							return err
						}
						if err := deleteMatchTxn(txn, m.ID); err != nil {
							return err
						}
						dropped++
					}
					continue
				}
				if err := s.putMatch(txn, kinds, m); err != nil {
					if models.ErrorCode(err) == models.ENOTFOUND {
						continue // a record deleted since it was scored: its matches went with it
					}
					return err
				}
			}
			return nil
		}); err != nil {
			return removed, fmt.Errorf("merge match scores: %w", err)
		}
		removed += dropped
	}
	return removed, nil
}

// DecideMatch records decision d on match id (missingID~foundID) and sets
// its status to the decision, keeping its scores, in one transaction:
// ENOTFOUND when there is no such match. d.At must be set.
func (s *Store) DecideMatch(ctx context.Context, id string, d models.Decision) (models.Match, error) {
	var m models.Match
	err := s.update(ctx, func(txn *badger.Txn) error {
		var err error
		m, err = readMatch(txn, id)
		if err != nil {
			return err
		}
		dd := d
		m.Decision, m.Status, m.UpdatedAt = &dd, d.Decision, d.At
		return s.putMatch(txn, map[string]models.Kind{}, m)
	})
	if err != nil {
		return models.Match{}, fmt.Errorf("decide match %s: %w", id, err)
	}
	return m, nil
}

// GetMatch returns match id (missingID~foundID); ENOTFOUND when there is none.
func (s *Store) GetMatch(ctx context.Context, id string) (models.Match, error) {
	var m models.Match
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		m, err = readMatch(txn, id)
		return err
	})
	if err != nil {
		return models.Match{}, fmt.Errorf("get match %s: %w", id, err)
	}
	return m, nil
}

func readMatch(txn *badger.Txn, id string) (models.Match, error) {
	var m models.Match
	if _, _, ok := splitMatchID(id); !ok {
		return m, models.Errorf(models.ENOTFOUND, "no match %q", id)
	}
	val, ok, err := getValue(txn, keyMatch(id))
	if err != nil {
		return m, err
	}
	if !ok {
		return m, models.Errorf(models.ENOTFOUND, "no match %s", id)
	}
	if err := json.Unmarshal(val, &m); err != nil {
		return m, fmt.Errorf("decode match %s: %w", id, err)
	}
	return m, nil
}

// ListMatches returns a page of the review queue: matches with f.Status (""
// for any) and probability >= f.MinProbability, best first (probability
// descending, then id). f.Limit is the page size (DefaultPageSize when <= 0,
// at most MaxPageSize). next is "" on the last page, else the opaque cursor
// to pass as f.Cursor for the page after; a malformed cursor is EINVALID.
func (s *Store) ListMatches(ctx context.Context, f models.MatchFilter) (matches []models.Match, next string, err error) {
	if f.Status != "" && !f.Status.Valid() {
		return nil, "", models.Errorf(models.EINVALID, "unknown match status %q", f.Status)
	}
	if math.IsNaN(f.MinProbability) {
		return nil, "", models.Errorf(models.EINVALID, "min_probability must be a number")
	}
	limit := pageSize(f.Limit)
	prefix := queuePrefix(f.Status)
	start := prefix
	if f.Cursor != "" {
		pos, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if _, _, ok := parseQueuePos(pos); err != nil || !ok {
			return nil, "", models.Errorf(models.EINVALID, "malformed cursor")
		}
		start = append(append(append([]byte(nil), prefix...), pos...), 0) // just after the cursor
	}
	err = s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(start); it.Valid(); it.Next() {
			pos := it.Item().Key()[len(prefix):]
			p, id, ok := parseQueuePos(pos)
			if !ok {
				return fmt.Errorf("malformed queue key %q", it.Item().Key())
			}
			if p < f.MinProbability {
				return nil
			}
			if len(matches) == limit {
				last := matches[limit-1]
				next = base64.RawURLEncoding.EncodeToString(queuePos(last.Probability, last.ID))
				return nil
			}
			m, err := readMatch(txn, id)
			if err != nil {
				return err
			}
			matches = append(matches, m)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list matches: %w", err)
	}
	return matches, next, nil
}

// pageSize applies DefaultPageSize and MaxPageSize to a requested limit.
func pageSize(limit int) int {
	if limit <= 0 {
		return DefaultPageSize
	}
	return min(limit, MaxPageSize)
}

// MatchesForChild returns every match record childID is in, best first;
// ENOTFOUND when there is no such record.
func (s *Store) MatchesForChild(ctx context.Context, childID string) ([]models.Match, error) {
	ms := []models.Match{}
	err := s.view(ctx, func(txn *badger.Txn) error {
		if !validID(childID) {
			return models.Errorf(models.ENOTFOUND, "no record %q", childID)
		}
		if _, ok, err := getValue(txn, keyChild(childID)); err != nil {
			return err
		} else if !ok {
			return models.Errorf(models.ENOTFOUND, "no record %s", childID)
		}
		prefix := []byte(prefixChildRel + childID + "/")
		for _, k := range keysWithPrefix(txn, prefix) {
			m, err := readMatch(txn, string(k[len(prefix):]))
			if err != nil {
				return err
			}
			ms = append(ms, m)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("matches for child %s: %w", childID, err)
	}
	sort.Slice(ms, func(i, j int) bool {
		if ms[i].Probability != ms[j].Probability {
			return ms[i].Probability > ms[j].Probability
		}
		return ms[i].ID < ms[j].ID
	})
	return ms, nil
}

// DeleteMatchesForChild deletes every match childID is in and returns how
// many there were (0 for an unknown record).
func (s *Store) DeleteMatchesForChild(ctx context.Context, childID string) (int, error) {
	if !validID(childID) {
		return 0, nil
	}
	var n int
	err := s.update(ctx, func(txn *badger.Txn) error {
		var err error
		n, err = deleteMatchesOf(txn, childID)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("delete matches for child %s: %w", childID, err)
	}
	return n, nil
}

// deleteMatchesOf deletes, within txn, every match childID is in, with its
// queue and relation entries on both sides.
func deleteMatchesOf(txn *badger.Txn, childID string) (int, error) {
	prefix := []byte(prefixChildRel + childID + "/")
	keys := keysWithPrefix(txn, prefix)
	for _, k := range keys {
		id := string(bytes.TrimPrefix(k, prefix))
		val, ok, err := getValue(txn, keyMatch(id))
		if err != nil {
			return 0, err
		}
		if ok {
			var m models.Match
			if err := json.Unmarshal(val, &m); err != nil {
				return 0, fmt.Errorf("decode match %s: %w", id, err)
			}
			if err := deleteKeys(txn, queueKeys(m)); err != nil {
				return 0, err
			}
		}
		if err := deleteMatchTxn(txn, id); err != nil {
			return 0, err
		}
	}
	return len(keys), nil
}

// deleteMatchTxn deletes, within txn, match id's record, relation entries
// and history of decisions; the caller deletes its queue entries.
func deleteMatchTxn(txn *badger.Txn, id string) error {
	missingID, foundID, _ := splitMatchID(id)
	if err := deleteKeys(txn, [][]byte{keyMatch(id), keyRel(missingID, id), keyRel(foundID, id)}); err != nil {
		return err
	}
	return deleteDecisionsOf(txn, id)
}

// DeleteMatch deletes match id with its queue and relation entries and
// its history of decisions; ENOTFOUND when there is none.
func (s *Store) DeleteMatch(ctx context.Context, id string) error {
	err := s.update(ctx, func(txn *badger.Txn) error {
		m, err := readMatch(txn, id)
		if err != nil {
			return err
		}
		if err := deleteKeys(txn, queueKeys(m)); err != nil {
			return err
		}
		return deleteMatchTxn(txn, id)
	})
	if err != nil {
		return fmt.Errorf("delete match %s: %w", id, err)
	}
	return nil
}
