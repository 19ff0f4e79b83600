package index

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/trackmatch/trackmatch/models"
)

// auditPos is an entry's position in the audit log: time, then id.
func auditPos(at time.Time, id string) []byte {
	b := binary.BigEndian.AppendUint64(nil, uint64(at.UnixNano()))
	return append(append(b, '/'), id...)
}

// AppendAudit appends e to the audit log and returns it as stored: a zero
// ID gets NewID(), a zero At gets now. Entries are keyed by time, so the log
// lists in time order whatever the ids.
func (s *Store) AppendAudit(ctx context.Context, e models.AuditEntry) (models.AuditEntry, error) {
	if e.ID == "" {
		e.ID = NewID()
	}
	if !validID(e.ID) {
		return models.AuditEntry{}, models.Errorf(models.EINVALID, "audit id must be 1-%d characters of [0-9A-Za-z_]", maxIDLen)
	}
	if e.At.IsZero() {
		e.At = s.now()
	}
	e.At = e.At.UTC()
	if e.At.Before(time.Unix(0, 0)) {
		return models.AuditEntry{}, models.Errorf(models.EINVALID, "audit time must be after 1970")
	}
	val, err := json.Marshal(e)
	if err != nil {
		return models.AuditEntry{}, fmt.Errorf("encode audit entry: %w", err)
	}
	if err := s.update(ctx, func(txn *badger.Txn) error {
		return txn.Set(append([]byte(prefixAudit), auditPos(e.At, e.ID)...), val)
	}); err != nil {
		return models.AuditEntry{}, fmt.Errorf("append audit: %w", err)
	}
	return e, nil
}

// ListAudit returns a page of audit entries, oldest first, from since (the
// zero time for the beginning) or, when cursor is set, from just after the
// entry it names. limit is the page size (DefaultPageSize when <= 0, at most
// MaxPageSize); next is "" on the last page, else the cursor of the next
// one. A malformed cursor is EINVALID.
func (s *Store) ListAudit(ctx context.Context, since time.Time, limit int, cursor string) (entries []models.AuditEntry, next string, err error) {
	limit = pageSize(limit)
	prefix := []byte(prefixAudit)
	start := prefix
	if cursor != "" {
		pos, err := base64.RawURLEncoding.DecodeString(cursor)
		if err != nil || len(pos) < 10 || pos[8] != '/' {
			return nil, "", models.Errorf(models.EINVALID, "malformed cursor")
		}
		start = append(append(append([]byte(nil), prefix...), pos...), 0)
	} else if since.After(time.Unix(0, 0)) {
		start = binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), uint64(since.UnixNano()))
	}
	entries = []models.AuditEntry{}
	err = s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, PrefetchValues: true})
		defer it.Close()
		for it.Seek(start); it.Valid(); it.Next() {
			if len(entries) == limit {
				last := entries[limit-1]
				next = base64.RawURLEncoding.EncodeToString(auditPos(last.At, last.ID))
				return nil
			}
			var e models.AuditEntry
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &e) }); err != nil {
				return fmt.Errorf("decode audit entry: %w", err)
			}
			entries = append(entries, e)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("list audit: %w", err)
	}
	return entries, next, nil
}
