package index

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/trackmatch/trackmatch/models"
)

func keyParams(version int) []byte {
	return binary.BigEndian.AppendUint32([]byte(prefixParams), uint32(version))
}

// PutParams stores p as a new version and returns it as stored: Version is
// always the latest version plus one (1 for the first), whatever p.Version
// says, and a zero CreatedAt is now. Earlier versions are kept, so a score
// can always be traced to the parameters that produced it.
func (s *Store) PutParams(ctx context.Context, p models.Params) (models.Params, error) {
	if p.CreatedAt.IsZero() {
		p.CreatedAt = s.now().UTC()
	}
	err := s.update(ctx, func(txn *badger.Txn) error {
		latest, ok, err := latestParams(txn)
		if err != nil {
			return err
		}
		p.Version = 1
		if ok {
			p.Version = latest.Version + 1
		}
		if p.Version > math.MaxUint32 {
			return fmt.Errorf("params version %d overflows", p.Version)
		}
		// Reading the new key puts it in the read set: two concurrent
		// PutParams that picked the same version conflict, and one retries.
		if _, taken, err := getValue(txn, keyParams(p.Version)); err != nil {
			return err
		} else if taken {
			return fmt.Errorf("params version %d exists", p.Version)
		}
		val, err := json.Marshal(p)
		if err != nil {
			return fmt.Errorf("encode params: %w", err)
		}
		return txn.Set(keyParams(p.Version), val)
	})
	if err != nil {
		return models.Params{}, fmt.Errorf("put params: %w", err)
	}
	return p, nil
}

// LatestParams returns the newest version; ENOTFOUND when none is stored.
func (s *Store) LatestParams(ctx context.Context) (models.Params, error) {
	var p models.Params
	err := s.view(ctx, func(txn *badger.Txn) error {
		var ok bool
		var err error
		p, ok, err = latestParams(txn)
		if err == nil && !ok {
			err = models.Errorf(models.ENOTFOUND, "no scoring parameters stored")
		}
		return err
	})
	if err != nil {
		return models.Params{}, fmt.Errorf("latest params: %w", err)
	}
	return p, nil
}

// GetParams returns version version; ENOTFOUND when there is none.
func (s *Store) GetParams(ctx context.Context, version int) (models.Params, error) {
	var p models.Params
	err := s.view(ctx, func(txn *badger.Txn) error {
		if version < 1 || version > math.MaxUint32 {
			return models.Errorf(models.ENOTFOUND, "no params version %d", version)
		}
		val, ok, err := getValue(txn, keyParams(version))
		if err != nil {
			return err
		}
		if !ok {
			return models.Errorf(models.ENOTFOUND, "no params version %d", version)
		}
		return json.Unmarshal(val, &p)
	})
	if err != nil {
		return models.Params{}, fmt.Errorf("get params %d: %w", version, err)
	}
	return p, nil
}

func latestParams(txn *badger.Txn) (models.Params, bool, error) {
	var p models.Params
	prefix := []byte(prefixParams)
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix, Reverse: true})
	defer it.Close()
	it.Seek(append(append([]byte(nil), prefix...), 0xff, 0xff, 0xff, 0xff, 0xff))
	if !it.Valid() {
		return p, false, nil
	}
	if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &p) }); err != nil {
		return p, false, fmt.Errorf("decode params: %w", err)
	}
	return p, true, nil
}
