package index

import (
	"context"
	"fmt"
	"slices"
	"sync"

	"github.com/blevesearch/bleve/v2"

	"github.com/trackmatch/trackmatch/models"
)

// checkChild refuses records the index cannot key or filter.
func checkChild(c *models.Child) error {
	if c == nil || c.ID == "" {
		return models.Errorf(models.EINVALID, "record without an id")
	}
	if !c.Kind.Valid() {
		return models.Errorf(models.EINVALID, "record kind must be %q or %q", models.KindMissing, models.KindFound)
	}
	if !c.Sex.Valid() {
		return models.Errorf(models.EINVALID, "record sex must be %q, %q or %q", models.SexFemale, models.SexMale, models.SexUnknown)
	}
	return nil
}

// Index adds or replaces c's document, and returns once the document is in
// the index (or the write failed). Call it after the store write.
// Concurrent calls share one Bleve batch (see attrWriter): every batch makes
// a segment that Bleve persists and later merges, so N uploads at once cost
// one segment, not N.
func (x *AttributeIndex) Index(ctx context.Context, c *models.Child) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkChild(c); err != nil {
		return err
	}
	err := x.write(ctx, func(b *bleve.Batch) error { return b.Index(c.ID, attrDoc(c)) })
	if err != nil {
		return fmt.Errorf("index record: %w", err)
	}
	return nil
}

// write runs add, which puts one record's change into b, and has the
// change written with whatever other changes are waiting. The record's
// batch is built here, by the caller, so that mapping documents runs in
// parallel; the writer merges the batches. Writes hold rebuildMu's read
// lock until their batch is written, so Rebuild and Close wait for them.
func (x *AttributeIndex) write(ctx context.Context, add func(*bleve.Batch) error) error {
	x.rebuildMu.RLock()
	defer x.rebuildMu.RUnlock()
	x.mu.RLock()
	idx := x.idx
	x.mu.RUnlock()
	if idx == nil {
		return errAttrClosed()
	}
	b := idx.NewBatch()
	if err := add(b); err != nil {
		x.failed.Store(true)
		return err
	}
	return x.writes.write(ctx, b)
}

// applyBatch writes the merged batch of every waiting write; a failure
// fails each of them and marks the index out of date.
func (x *AttributeIndex) applyBatch(b *bleve.Batch) error {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return errAttrClosed()
	}
	if err := x.idx.Batch(b); err != nil {
		x.failed.Store(true)
		return err
	}
	return nil
}

// attrWriter merges concurrent writes into one Bleve batch: a goroutine
// takes every write waiting, writes them as one batch and gives each the
// batch's result. Bleve makes an in-memory segment of every batch and
// later writes and merges segments, per segment: measured with writes
// waiting for the disk, four writers at once cost 5 ms of CPU a record
// instead of 9 one at a time. (A live index no longer waits for the disk,
// see AttributePersistDelay, which took both to about 1 ms.)
type attrWriter struct {
	apply func(*bleve.Batch) error // writes a merged batch

	mu      sync.Mutex
	pending []*attrWrite
	stopped bool

	wake chan struct{} // buffered 1: pending may not be empty
	quit chan struct{} // closed by stop
	done chan struct{} // closed when the goroutine has returned
}

// attrWrite is one caller's change, waiting for its batch's result.
type attrWrite struct {
	b      *bleve.Batch
	result chan error // buffered 1
}

// newAttrWriter starts a writer that writes with apply; stop ends it.
func newAttrWriter(apply func(*bleve.Batch) error) *attrWriter {
	w := &attrWriter{apply: apply, wake: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// write queues b and waits for the result of the batch it joins. When ctx
// ends before the writer has taken b, b is withdrawn and ctx's error
// returned; once taken, its batch's result is returned, so that an error
// always means the change was not made.
func (w *attrWriter) write(ctx context.Context, b *bleve.Batch) error {
	op := &attrWrite{b: b, result: make(chan error, 1)}
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return errAttrClosed()
	}
	w.pending = append(w.pending, op)
	w.mu.Unlock()
	select {
	case w.wake <- struct{}{}:
	default: // already woken: the next flush takes op
	}
	select {
	case err := <-op.result:
		return err
	case <-ctx.Done():
	}
	w.mu.Lock()
	i := slices.Index(w.pending, op)
	if i >= 0 {
		w.pending = slices.Delete(w.pending, i, i+1)
	}
	w.mu.Unlock()
	if i >= 0 {
		return ctx.Err()
	}
	return <-op.result
}

func (w *attrWriter) run() {
	defer close(w.done)
	for {
		select {
		case <-w.wake:
			w.flush()
		case <-w.quit:
			w.flush() // what was queued before stop
			return
		}
	}
}

// flush writes every pending write as one batch, in the order they came:
// of two changes to one record, the later wins, as it would one by one.
func (w *attrWriter) flush() {
	w.mu.Lock()
	ops := w.pending
	w.pending = nil
	w.mu.Unlock()
	if len(ops) == 0 {
		return
	}
	b := ops[0].b
	for _, op := range ops[1:] {
		b.Merge(op.b)
	}
	err := w.apply(b)
	for _, op := range ops {
		op.result <- err
	}
}

// stop writes what is queued, then ends the goroutine; later writes fail
// with EUNAVAILABLE. It is safe to call more than once.
func (w *attrWriter) stop() {
	w.mu.Lock()
	first := !w.stopped
	w.stopped = true
	w.mu.Unlock()
	if first {
		close(w.quit)
	}
	<-w.done
}

// IndexBatch adds or replaces the documents of many records in batches of
// attrRebuildBatch: a bulk import's counterpart of Index. Call it after
// the store write.
func (x *AttributeIndex) IndexBatch(ctx context.Context, cs []*models.Child) error {
	x.rebuildMu.RLock()
	defer x.rebuildMu.RUnlock()
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return errAttrClosed()
	}
	err := fillAttr(ctx, x.idx, func(yield func(*models.Child) error) error {
		for _, c := range cs {
			if err := yield(c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		x.failed.Store(true)
		return fmt.Errorf("index records: %w", err)
	}
	return nil
}

// Delete removes the document of record id; an unknown id is not an error.
// Like Index, it returns once the change is made, sharing a batch with
// concurrent writes.
func (x *AttributeIndex) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	err := x.write(ctx, func(b *bleve.Batch) error {
		b.Delete(id)
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete record from index: %w", err)
	}
	return nil
}
