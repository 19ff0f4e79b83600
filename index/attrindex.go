package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/trackmatch/trackmatch/models"
)

// AttributeIndex is the Bleve index of every record's retrieval attributes
// (names folded and phonetic, marks, age as birth years, sex, kind, place,
// date, status). It finds candidates for a record by attributes alone; the
// store stays the source of truth and the index is derived from it. One
// process at a time may open it (a second gets EUNAVAILABLE).
//
// Consistency. The index lives beside the store (DIR/bleve beside
// DIR/badger) and is written after the store, so a crash can leave it
// behind. Three facts kept in Bleve's internal storage let the caller tell:
//
//   - the analysis fingerprint it was built with (mapping version plus a hash
//     of what models/names and models/marks make of fixed probes): a change
//     of folding, phonetic keys or mark parsing makes every indexed term
//     suspect;
//   - a state flag written "open" when the index is opened and "clean" by
//     Close, so an index not closed cleanly (crash, kill, a failed write, an
//     interrupted rebuild) is known; scorch also loses its last batches in
//     a crash (writes do not wait for the disk: see AttributePersistDelay),
//     which this flag covers;
//   - the document count, which the caller compares with the store's.
//
// At start the caller opens both, then calls OutOfDate(storeCount); on a
// non-empty reason it calls Rebuild with an iterator over the store before
// serving. Rebuild builds a fresh index beside the live one and swaps it in.
type AttributeIndex struct {
	path string // "" for an index held in memory (OpenMemAttributeIndex)

	// rebuildMu keeps writes out while Rebuild runs (they wait, then go to
	// the new index); searches go on against the old one.
	rebuildMu sync.RWMutex
	// mu guards idx, which Rebuild swaps and Close clears.
	mu  sync.RWMutex
	idx bleve.Index

	startReason string      // why the index was out of date when opened; "" if not
	failed      atomic.Bool // a write failed since the last open or rebuild

	// writes merges concurrent Index and Delete calls into one Bleve batch.
	writes *attrWriter
}

// ChildSource iterates over stored children, calling yield for each and
// stopping at the first error yield returns. The store provides one; tests
// and benchmarks use a slice.
type ChildSource func(yield func(*models.Child) error) error

// Internal-storage keys and values of the consistency facts.
const (
	attrKeyAnalysis = "trackmatch/attr/analysis"
	attrKeyState    = "trackmatch/attr/state"
	attrStateOpen   = "open"
	attrStateClean  = "clean"
)

// OpenAttributeIndex opens the attribute index at path, creating an empty
// one when there is none. An index that exists but cannot be opened (for
// example written by an incompatible version) is derived data: it is
// deleted, recreated empty, and reported by OutOfDate.
func OpenAttributeIndex(path string) (*AttributeIndex, error) {
	// Leftovers of a rebuild interrupted before or during its swap. The old
	// index would otherwise stay on disk for good, deleted records and all;
	// if the swap stopped half-way the store is the source to rebuild from.
	for _, left := range []string{path + attrRebuildSuffix, path + attrOldSuffix} {
		if err := os.RemoveAll(left); err != nil {
			return nil, fmt.Errorf("remove leftover rebuild: %w", err)
		}
	}
	idx, reason, err := openOrCreateAttr(path)
	if err != nil {
		return nil, err
	}
	if idx, err = goLive(idx, path); err != nil {
		return nil, err
	}
	return newAttributeIndex(path, idx, reason), nil
}

// newAttributeIndex wraps an opened Bleve index and starts its writer.
func newAttributeIndex(path string, idx bleve.Index, reason string) *AttributeIndex {
	x := &AttributeIndex{path: path, idx: idx, startReason: reason}
	x.writes = newAttrWriter(x.applyBatch)
	return x
}

// memAttrReason is what OutOfDate says of an index in memory until its
// first Rebuild.
const memAttrReason = "the index is held in memory and built from the store at every start"

// OpenMemAttributeIndex returns an empty attribute index held in memory
// only, for a store encrypted at rest: Bleve cannot encrypt its files, and
// its terms and stored fields are names, marks and places. OutOfDate
// reports it out of date until Rebuild fills it from the store, which the
// caller does at every start (as for the vector index); Close discards it.
func OpenMemAttributeIndex() (*AttributeIndex, error) {
	idx, err := bleve.NewMemOnly(attrMapping())
	if err != nil {
		return nil, fmt.Errorf("create attribute index in memory: %w", err)
	}
	return newAttributeIndex("", idx, memAttrReason), nil
}

// openOrCreateAttr opens or creates the index at path and says why an
// existing one is out of date.
func openOrCreateAttr(path string) (bleve.Index, string, error) {
	idx, err := openAttr(path)
	switch {
	case errors.Is(err, bberrors.ErrTimeout):
		return nil, "", fmt.Errorf("open attribute index: %w",
			models.Errorf(models.EUNAVAILABLE, "the attribute index is in use by another process"))
	case err == nil:
		reason, err := attrStaleReason(idx)
		if err != nil {
			_ = idx.Close()
			return nil, "", err
		}
		return idx, reason, nil
	case errors.Is(err, bleve.ErrorIndexPathDoesNotExist):
		idx, err := createAttr(path)
		return idx, "", err
	}
	// The path exists but does not open, and not for want of the lock.
	// Delete it only if it is a Bleve index (or an empty directory): never
	// a directory we do not know.
	entries, rerr := os.ReadDir(path)
	_, merr := os.Stat(filepath.Join(path, "index_meta.json"))
	if rerr != nil || (len(entries) > 0 && merr != nil) {
		return nil, "", fmt.Errorf("open attribute index %s: %w", path, err)
	}
	if err := os.RemoveAll(path); err != nil {
		return nil, "", fmt.Errorf("remove unreadable attribute index: %w", err)
	}
	idx, cerr := createAttr(path)
	if cerr != nil {
		return nil, "", cerr
	}
	reason := ""
	if len(entries) > 0 {
		reason = "the index could not be opened and was recreated empty"
	}
	return idx, reason, nil
}

// attrLockWait is how long opening waits for another process's lock on the
// index; Bleve would otherwise wait for ever.
const attrLockWait = "1s"

// openAttr opens an existing index.
func openAttr(path string) (bleve.Index, error) {
	return bleve.OpenUsing(path, map[string]interface{}{"bolt_timeout": attrLockWait})
}

// AttributePersistDelay is how long a write to the attribute index stays in
// memory only, at most, before Bleve writes it to disk with every write that
// came in meanwhile. Writes return once they are in the index and
// searchable, without waiting for the disk: waiting cost a segment file,
// its fsync and a merge per write (measured on a small index with one write
// every 80 ms, as an upload stream gives: 14 ms of CPU a write, 4 with this
// delay; 7 with 250 ms). A crash loses the writes not yet on disk, and costs
// no more than before: the state flag is "open" on disk before the first
// write returns (goLive waits for it), so a crash always means a Rebuild.
// Close writes "clean" and waits until that, and every write before it, is
// on disk (markClean).
const AttributePersistDelay = 500 * time.Millisecond

// attrPersistWait is the longest Close waits for the disk.
const attrPersistWait = 30 * time.Second

// goLive marks idx, opened at path in scorch's default mode (which waits
// for the disk), "open", then reopens it not waiting for the disk.
func goLive(idx bleve.Index, path string) (bleve.Index, error) {
	err := idx.SetInternal([]byte(attrKeyState), []byte(attrStateOpen))
	if cerr := idx.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("mark attribute index open: %w", err)
	}
	live, err := bleve.OpenUsing(path, map[string]interface{}{
		"bolt_timeout":           attrLockWait,
		"unsafe_batch":           true,
		"scorchPersisterOptions": map[string]interface{}{"PersisterNapTimeMSec": int(AttributePersistDelay / time.Millisecond)},
	})
	if err != nil {
		return nil, fmt.Errorf("reopen attribute index: %w", err)
	}
	return live, nil
}

// markClean writes the clean state and waits, at most attrPersistWait,
// until scorch has written it to disk: scorch writes in order, so every
// write before it is on disk too.
func markClean(idx bleve.Index) error {
	b := idx.NewBatch()
	b.SetInternal([]byte(attrKeyState), []byte(attrStateClean))
	persisted := make(chan error, 1)
	b.SetPersistedCallback(func(err error) { persisted <- err })
	if err := idx.Batch(b); err != nil {
		return err
	}
	select {
	case err := <-persisted:
		return err
	case <-time.After(attrPersistWait):
		return fmt.Errorf("not written to disk within %v", attrPersistWait)
	}
}

// attrStaleReason reads the consistency facts of an opened index.
func attrStaleReason(idx bleve.Index) (string, error) {
	fp, err := idx.GetInternal([]byte(attrKeyAnalysis))
	if err != nil {
		return "", fmt.Errorf("read attribute index analysis: %w", err)
	}
	state, err := idx.GetInternal([]byte(attrKeyState))
	if err != nil {
		return "", fmt.Errorf("read attribute index state: %w", err)
	}
	switch {
	case string(fp) != analysisFingerprint():
		return "the name or mark analysis changed since the index was built", nil
	case string(state) != attrStateClean:
		return "the index was not closed cleanly", nil
	}
	return "", nil
}

// createAttr creates an empty index with the current mapping, stamped with
// the current analysis and a clean state.
func createAttr(path string) (bleve.Index, error) {
	idx, err := bleve.New(path, attrMapping())
	if err != nil {
		return nil, fmt.Errorf("create attribute index %s: %w", path, err)
	}
	b := idx.NewBatch()
	b.SetInternal([]byte(attrKeyAnalysis), []byte(analysisFingerprint()))
	b.SetInternal([]byte(attrKeyState), []byte(attrStateClean))
	if err := idx.Batch(b); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("stamp attribute index: %w", err)
	}
	return idx, nil
}

// errAttrClosed is returned after Close, or after a failed rebuild swap.
func errAttrClosed() error {
	return models.Errorf(models.EUNAVAILABLE, "the attribute index is closed")
}

// Count returns the number of documents in the index.
func (x *AttributeIndex) Count() (uint64, error) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return 0, errAttrClosed()
	}
	n, err := x.idx.DocCount()
	if err != nil {
		return 0, fmt.Errorf("count attribute index: %w", err)
	}
	return n, nil
}

// OutOfDate says why the index cannot be trusted against a store holding
// storeCount records, or "" when it can: built with other analysis, not
// closed cleanly, a write failed since it was opened, or the counts differ.
// The caller rebuilds on any reason.
func (x *AttributeIndex) OutOfDate(storeCount uint64) (string, error) {
	x.mu.RLock()
	reason := x.startReason
	x.mu.RUnlock()
	if reason != "" {
		return reason, nil
	}
	if x.failed.Load() {
		return "a write to the index failed", nil
	}
	n, err := x.Count()
	if err != nil {
		return "", err
	}
	if n != storeCount {
		return fmt.Sprintf("the index holds %d records and the store %d", n, storeCount), nil
	}
	return "", nil
}

// Rebuild replaces the index with one built from src, in batches, in a
// directory beside the live index that is swapped in when complete. Writes
// wait until it is done; searches use the old index until the swap. On error
// the old index stays in place (and stays out of date).
func (x *AttributeIndex) Rebuild(ctx context.Context, src ChildSource) error {
	x.rebuildMu.Lock()
	defer x.rebuildMu.Unlock()
	if x.path == "" {
		return x.rebuildInMemory(ctx, src)
	}

	tmp := x.path + attrRebuildSuffix
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("rebuild attribute index: %w", err)
	}
	nidx, err := createAttr(tmp)
	if err != nil {
		return fmt.Errorf("rebuild attribute index: %w", err)
	}
	err = fillAttr(ctx, nidx, src)
	if err == nil {
		err = compactAttr(ctx, nidx)
	}
	if cerr := nidx.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close rebuilt index: %w", cerr)
	}
	if err != nil {
		_ = os.RemoveAll(tmp)
		return fmt.Errorf("rebuild attribute index: %w", err)
	}

	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx != nil {
		// The old index is being replaced: close it without marking it clean.
		_ = x.idx.Close()
		x.idx = nil
	}
	old := x.path + attrOldSuffix
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("swap rebuilt index: %w", err)
	}
	if err := os.Rename(x.path, old); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("swap rebuilt index: %w", err)
	}
	if err := os.Rename(tmp, x.path); err != nil {
		return fmt.Errorf("swap rebuilt index: %w", err)
	}
	_ = os.RemoveAll(old)
	idx, err := openAttr(x.path)
	if err != nil {
		return fmt.Errorf("open rebuilt index: %w", err)
	}
	if idx, err = goLive(idx, x.path); err != nil {
		return fmt.Errorf("rebuilt index: %w", err)
	}
	x.idx = idx
	x.startReason = ""
	x.failed.Store(false)
	return nil
}

// rebuildInMemory is Rebuild for an index held in memory: a new one is
// filled and swapped in; nothing touches the disk.
func (x *AttributeIndex) rebuildInMemory(ctx context.Context, src ChildSource) error {
	nidx, err := bleve.NewMemOnly(attrMapping())
	if err != nil {
		return fmt.Errorf("rebuild attribute index: %w", err)
	}
	if err := fillAttr(ctx, nidx, src); err != nil {
		_ = nidx.Close()
		return fmt.Errorf("rebuild attribute index: %w", err)
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx != nil {
		_ = x.idx.Close()
	}
	x.idx = nidx
	x.startReason = ""
	x.failed.Store(false)
	return nil
}

// fillAttr indexes every child of src into idx in batches of attrRebuildBatch.
func fillAttr(ctx context.Context, idx bleve.Index, src ChildSource) error {
	b := idx.NewBatch()
	flush := func() error {
		if b.Size() == 0 {
			return nil
		}
		if err := idx.Batch(b); err != nil {
			return fmt.Errorf("index batch: %w", err)
		}
		b.Reset()
		return nil
	}
	err := src(func(c *models.Child) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := checkChild(c); err != nil {
			return err
		}
		if err := b.Index(c.ID, attrDoc(c)); err != nil {
			return fmt.Errorf("index record: %w", err)
		}
		if b.Size() >= attrRebuildBatch {
			return flush()
		}
		return nil
	})
	if err != nil {
		return err
	}
	return flush()
}

// compactAttr merges a freshly built index into one segment: a rebuild
// leaves many small ones, and every query pays per segment.
func compactAttr(ctx context.Context, idx bleve.Index) error {
	adv, err := idx.Advanced()
	if err != nil {
		return fmt.Errorf("compact rebuilt index: %w", err)
	}
	sc, ok := adv.(*scorch.Scorch)
	if !ok {
		return nil
	}
	if err := sc.ForceMerge(ctx, nil); err != nil {
		return fmt.Errorf("compact rebuilt index: %w", err)
	}
	return ctx.Err()
}

// Close marks the index clean, unless a write failed, and closes it (an
// index in memory is discarded).
func (x *AttributeIndex) Close() error {
	x.rebuildMu.Lock()
	defer x.rebuildMu.Unlock()
	// No write is in flight (each holds rebuildMu's read lock until its
	// batch is written), and later ones find the index closed.
	x.writes.stop()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx == nil {
		return nil
	}
	var err error
	if !x.failed.Load() && x.path != "" {
		if err = markClean(x.idx); err != nil {
			err = fmt.Errorf("mark attribute index clean: %w", err)
		}
	}
	if cerr := x.idx.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("close attribute index: %w", cerr)
	}
	x.idx = nil
	return err
}
