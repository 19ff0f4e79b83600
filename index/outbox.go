package index

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/trackmatch/trackmatch/models"
)

// The webhook outbox (key layout in store.go):
//
//	o/<deliveryID>   a models.Delivery waiting to be sent (deliveryID from NewID)
//	n/<matchID>      empty: a delivery was queued for this match once
//
// PutMatches queues a delivery in the same transaction as a match that
// reaches StoreOptions.MatchEventThreshold for the first time, so a match
// is never stored without its notification nor notified without being
// stored, and a restart loses neither.
const (
	prefixOutbox   = "o/"
	prefixNotified = "n/"
)

// queueMatchEvent adds m's delivery to the outbox within txn when events
// are on, m reaches the threshold and no delivery was queued for m before.
func (s *Store) queueMatchEvent(txn *badger.Txn, m models.Match) error {
	if s.matchEvents <= 0 || m.Probability < s.matchEvents {
		return nil
	}
	mark := []byte(prefixNotified + m.ID)
	if _, seen, err := getValue(txn, mark); err != nil || seen {
		return err
	}
	ev := models.MatchEvent{ID: NewID(), Type: models.EventMatchCreated, MatchID: m.ID, Probability: m.Probability,
		Missing: models.EventRecord{ID: m.MissingID}, Found: models.EventRecord{ID: m.FoundID}, CreatedAt: s.now().UTC()}
	for _, r := range []*models.EventRecord{&ev.Missing, &ev.Found} {
		val, ok, err := getValue(txn, keyChild(r.ID))
		if err != nil {
			return err
		}
		if ok {
			var ref struct {
				ExternalRef string `json:"external_ref"`
			}
			if err := json.Unmarshal(val, &ref); err != nil {
				return fmt.Errorf("decode child %s: %w", r.ID, err)
			}
			r.ExternalRef = ref.ExternalRef
		}
	}
	val, err := json.Marshal(models.Delivery{Event: ev, NextAt: ev.CreatedAt})
	if err != nil {
		return err
	}
	if err := txn.Set([]byte(prefixOutbox+ev.ID), val); err != nil {
		return err
	}
	return txn.Set(mark, nil)
}

// DueDeliveries returns up to limit deliveries whose NextAt is at or before
// now, oldest first.
func (s *Store) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]models.Delivery, error) {
	var out []models.Delivery
	err := s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixOutbox), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid() && len(out) < limit; it.Next() {
			var d models.Delivery
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &d) }); err != nil {
				return fmt.Errorf("decode delivery %s: %w", it.Item().Key(), err)
			}
			if !d.NextAt.After(now) {
				out = append(out, d)
			}
		}
		return nil
	})
	return out, err
}

// PendingDeliveries counts the deliveries in the outbox.
func (s *Store) PendingDeliveries(ctx context.Context) (int, error) {
	n := 0
	err := s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixOutbox)})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			n++
		}
		return nil
	})
	return n, err
}

// PutDelivery replaces a delivery still in the outbox (after a failed
// attempt); one already acknowledged (deleted) stays gone.
func (s *Store) PutDelivery(ctx context.Context, d models.Delivery) error {
	if !validID(d.Event.ID) {
		return models.Errorf(models.EINVALID, "bad delivery id")
	}
	val, err := json.Marshal(d)
	if err != nil {
		return err
	}
	key := []byte(prefixOutbox + d.Event.ID)
	return s.update(ctx, func(txn *badger.Txn) error {
		if _, ok, err := getValue(txn, key); err != nil || !ok {
			return err
		}
		return txn.Set(key, val)
	})
}

// DeleteDelivery removes an acknowledged delivery from the outbox.
func (s *Store) DeleteDelivery(ctx context.Context, id string) error {
	if !validID(id) {
		return models.Errorf(models.EINVALID, "bad delivery id")
	}
	return s.update(ctx, func(txn *badger.Txn) error { return txn.Delete([]byte(prefixOutbox + id)) })
}
