package index

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/trackmatch/trackmatch/models"
)

// maxChildScan bounds the records one ListChildren page examines. Only
// external_ref has an index key (x/); the other filters are checked on a
// scan of c/ in id order, so a filter that matches few records would
// otherwise read the whole store for one page. A page that reaches the
// bound ends early, possibly short or empty, with a cursor to continue.
const maxChildScan = 5000

// listHead is the part of a stored record the listing filters read.
type listHead struct {
	ID          string        `json:"id"`
	Kind        models.Kind   `json:"kind"`
	Status      models.Status `json:"status"`
	Place       models.Place  `json:"place"`
	ExternalRef string        `json:"external_ref"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

// matches reports whether the record passes every filter but the page.
func (h *listHead) matches(f models.ChildFilter) bool {
	switch {
	case f.Kind != "" && h.Kind != f.Kind,
		f.Status != "" && h.Status != f.Status,
		f.State != "" && !strings.EqualFold(h.Place.State, f.State),
		f.District != "" && !strings.EqualFold(h.Place.District, f.District),
		f.ExternalRef != "" && h.ExternalRef != f.ExternalRef,
		!f.CreatedSince.IsZero() && h.CreatedAt.Before(f.CreatedSince),
		!f.UpdatedSince.IsZero() && h.UpdatedAt.Before(f.UpdatedSince):
		return false
	}
	return true
}

// ListChildren returns a page of the records that pass f, with their
// photos, in id order (creation order for NewID ids). f.Limit is the page
// size (DefaultPageSize when <= 0, at most MaxPageSize). With
// f.ExternalRef the x/ index answers directly (one record per kind at
// most); otherwise the records are scanned from the cursor, at most
// maxChildScan of them per page, so a page may be short, even empty,
// while next is not "". next is "" on the last page; a malformed cursor is
// EINVALID.
func (s *Store) ListChildren(ctx context.Context, f models.ChildFilter) (children []models.Child, next string, err error) {
	if f.Kind != "" && !f.Kind.Valid() {
		return nil, "", models.Errorf(models.EINVALID, "unknown kind %q", f.Kind)
	}
	if f.ExternalRef != "" {
		cs, err := s.childrenByRef(ctx, f)
		return cs, "", err
	}
	limit := pageSize(f.Limit)
	start := []byte(prefixChild)
	if f.Cursor != "" {
		last, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || !validID(string(last)) {
			return nil, "", models.Errorf(models.EINVALID, "malformed cursor")
		}
		start = append(keyChild(string(last)), 0xff) // after the record and all its own keys
	}
	scanLimit := orInt(s.childScan, maxChildScan)
	children = []models.Child{}
	err = s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixChild)})
		defer it.Close()
		scanned := 0
		var lastID string
		for it.Seek(start); it.Valid(); it.Next() {
			item := it.Item()
			rest := string(item.Key()[len(prefixChild):])
			if strings.IndexByte(rest, '/') >= 0 {
				continue // a photo or guard key
			}
			if len(children) == limit || scanned == scanLimit {
				next = base64.RawURLEncoding.EncodeToString([]byte(lastID))
				return nil
			}
			scanned++
			lastID = rest
			var h listHead
			if err := item.Value(func(v []byte) error { return json.Unmarshal(v, &h) }); err != nil {
				return fmt.Errorf("decode child %s: %w", rest, err)
			}
			if !h.matches(f) {
				continue
			}
			c, err := readChild(txn, rest)
			if err != nil {
				return err
			}
			children = append(children, c)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list children: %w", err)
	}
	return children, next, nil
}

// childrenByRef answers a listing with an external_ref from the x/ index.
func (s *Store) childrenByRef(ctx context.Context, f models.ChildFilter) ([]models.Child, error) {
	kinds := []models.Kind{models.KindMissing, models.KindFound}
	if f.Kind != "" {
		kinds = []models.Kind{f.Kind}
	}
	out := []models.Child{}
	for _, k := range kinds {
		c, err := s.ChildByExternalRef(ctx, k, f.ExternalRef)
		if models.ErrorCode(err) == models.ENOTFOUND {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("list children: %w", err)
		}
		h := listHead{ID: c.ID, Kind: c.Kind, Status: c.Status, Place: c.Place, ExternalRef: c.ExternalRef,
			CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt}
		if h.matches(f) {
			out = append(out, c)
		}
	}
	return out, nil
}

// keyDecision is a decision's key in the history: d/<at>/<matchID>, at as
// in the audit log's keys.
func keyDecision(at time.Time, matchID string) []byte {
	k := append([]byte(prefixDecision), auditPos(at, "")...)
	return append(k, matchID...)
}

// keyDecisionOf is the entry that finds a match's decisions from its id:
// e/<matchID>/<at>, so that deleting a match deletes its history too.
func keyDecisionOf(matchID string, at time.Time) []byte {
	return binary.BigEndian.AppendUint64([]byte(prefixDecisionOf+matchID+"/"), uint64(at.UnixNano()))
}

// deleteDecisionsOf deletes, within txn, the history of decisions on matchID.
func deleteDecisionsOf(txn *badger.Txn, matchID string) error {
	prefix := []byte(prefixDecisionOf + matchID + "/")
	for _, k := range keysWithPrefix(txn, prefix) {
		at := time.Unix(0, int64(binary.BigEndian.Uint64(k[len(prefix):])))
		if err := txn.Delete(keyDecision(at, matchID)); err != nil {
			return err
		}
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// appendDecisionTxn adds m's decision to the history when it is not the
// one prev (the stored match, nil if none) already had: PutMatches calls
// it for every match it writes, so a re-scorer carrying a decision over
// adds nothing and every new decision is kept, wherever it is written.
func appendDecisionTxn(txn *badger.Txn, prev *models.Match, m models.Match) error {
	d := m.Decision
	if d == nil || (prev != nil && prev.Decision != nil && *prev.Decision == *d) {
		return nil
	}
	val, err := json.Marshal(models.DecisionRecord{MatchID: m.ID, MissingID: m.MissingID, FoundID: m.FoundID, Decision: *d})
	if err != nil {
		return fmt.Errorf("encode decision on %s: %w", m.ID, err)
	}
	if err := txn.Set(keyDecision(d.At, m.ID), val); err != nil {
		return err
	}
	return txn.Set(keyDecisionOf(m.ID, d.At), nil)
}

// ListDecisions returns a page of the history of decisions, oldest first
// (from f.Since when set). f.Limit is the page size (DefaultPageSize when
// <= 0, at most MaxPageSize); next is "" on the last page; a malformed
// cursor is EINVALID. A match deleted (with its record, or by DeleteMatch)
// takes its decisions out of the history with it.
func (s *Store) ListDecisions(ctx context.Context, f models.DecisionFilter) (out []models.DecisionRecord, next string, err error) {
	limit := pageSize(f.Limit)
	prefix := []byte(prefixDecision)
	start := append([]byte(prefixDecision), auditPos(f.Since, "")...)
	if f.Since.IsZero() {
		start = prefix
	}
	if f.Cursor != "" {
		pos, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || len(pos) < 9 {
			return nil, "", models.Errorf(models.EINVALID, "malformed cursor")
		}
		start = append(append(append([]byte(nil), prefix...), pos...), 0)
	}
	out = []models.DecisionRecord{}
	err = s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
		defer it.Close()
		for it.Seek(start); it.Valid(); it.Next() {
			if len(out) == limit {
				last := out[limit-1]
				next = base64.RawURLEncoding.EncodeToString(keyDecision(last.At, last.MatchID)[len(prefix):])
				return nil
			}
			var r models.DecisionRecord
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &r) }); err != nil {
				return fmt.Errorf("decode decision %q: %w", it.Item().Key(), err)
			}
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list decisions: %w", err)
	}
	return out, next, nil
}
