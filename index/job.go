package index

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/trackmatch/trackmatch/models"
)

func keyJob(id string) []byte { return []byte(prefixJob + id) }

// PutJob creates or replaces job j (its checkpoint, state and summary), so
// that a re-scoring run survives a restart. A zero CreatedAt is now.
func (s *Store) PutJob(ctx context.Context, j models.Job) error {
	if !validID(j.ID) {
		return models.Errorf(models.EINVALID, "job id must be 1-%d characters of [0-9A-Za-z_]", maxIDLen)
	}
	if j.CreatedAt.IsZero() {
		j.CreatedAt = s.now().UTC()
	}
	val, err := json.Marshal(j)
	if err != nil {
		return fmt.Errorf("encode job %s: %w", j.ID, err)
	}
	if err := s.update(ctx, func(txn *badger.Txn) error {
		return txn.Set(keyJob(j.ID), val)
	}); err != nil {
		return fmt.Errorf("put job %s: %w", j.ID, err)
	}
	return nil
}

// GetJob returns job id; ENOTFOUND when there is none.
func (s *Store) GetJob(ctx context.Context, id string) (models.Job, error) {
	var j models.Job
	err := s.view(ctx, func(txn *badger.Txn) error {
		if !validID(id) {
			return models.Errorf(models.ENOTFOUND, "no job %q", id)
		}
		val, ok, err := getValue(txn, keyJob(id))
		if err != nil {
			return err
		}
		if !ok {
			return models.Errorf(models.ENOTFOUND, "no job %s", id)
		}
		return json.Unmarshal(val, &j)
	})
	if err != nil {
		return models.Job{}, fmt.Errorf("get job %s: %w", id, err)
	}
	return j, nil
}

// ListJobs returns up to limit jobs (every job when limit <= 0), newest
// first by CreatedAt, then id; callers resuming work after a restart pick
// the unfinished ones (State.Finished() false).
func (s *Store) ListJobs(ctx context.Context, limit int) ([]models.Job, error) {
	jobs := []models.Job{}
	err := s.view(ctx, func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixJob), PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			var j models.Job
			if err := it.Item().Value(func(v []byte) error { return json.Unmarshal(v, &j) }); err != nil {
				return fmt.Errorf("decode job %s: %w", it.Item().Key(), err)
			}
			jobs = append(jobs, j)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	sort.Slice(jobs, func(a, b int) bool {
		if !jobs[a].CreatedAt.Equal(jobs[b].CreatedAt) {
			return jobs[a].CreatedAt.After(jobs[b].CreatedAt)
		}
		return jobs[a].ID > jobs[b].ID
	})
	if limit > 0 && len(jobs) > limit {
		jobs = jobs[:limit]
	}
	return jobs, nil
}
