package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	bberrors "go.etcd.io/bbolt/errors"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
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

// AttributeHit is one candidate from Candidates: a record of the other kind,
// Bleve's relevance score (for ordering only; it is not a probability), and
// why it was retrieved.
type AttributeHit = models.AttributeHit

// Reasons an AttributeHit was retrieved, one per kind of agreeing clause.
const (
	ReasonNameFolded   = "name:folded"   // a name token is the same after script folding
	ReasonNamePhonetic = "name:phonetic" // a name token has the same phonetic key
	ReasonNameFuzzy    = "name:fuzzy"    // a name token is one edit away
	ReasonMarks        = "marks"         // a mark of the same type (and region, side)
	ReasonAge          = "age"           // both ages known and the birth years overlap
	ReasonSex          = "sex"           // both sexes known and equal
	ReasonDistrict     = "district"      // same district
	ReasonState        = "state"         // same state
)

// MaxCandidates bounds the limit of one Candidates call.
const MaxCandidates = 10000

// Index fields. Names and marks are indexed in one field per partition
// (kind and sex, e.g. "name_found_female"), so that a query searches only
// records of the other kind and a compatible sex: the name clauses, the
// costly part of a search, never visit the others. The source text is also
// stored once, unpartitioned, to explain hits.
const (
	attrFieldPart      = "part"   // the partition, e.g. "found_female"
	attrFieldStatus    = "status" // open, matched, closed
	attrFieldNames     = "names"  // stored only: the names as written
	attrFieldMarks     = "marks"  // stored only: the marks as written
	attrFieldSex       = "sex"    // stored only
	attrPrefixNames    = "names_" // + partition: source property of the two below
	attrPrefixName     = "name_"  // + partition: folded tokens
	attrPrefixPhonetic = "phon_"  // + partition: phonetic keys
	attrPrefixMarks    = "mark_"  // + partition: mark terms
	attrFieldState     = "state"
	attrFieldDistrict  = "district"
	attrFieldPartYear  = "part_year" // partition/birth year, widened by the widest tolerance; partition/? when unknown
	attrFieldBirth     = "birth"     // stored only: "lo hi ref", for the exact test
	attrFieldObserved  = "observed_on"
	attrRebuildSuffix  = ".rebuild"
	attrOldSuffix      = ".old"
	attrRebuildBatch   = 5000
	attrMaxQueryTokens = 32 // distinct name tokens, and mark terms, a query uses
	attrMaxFuzzyRunes  = 24 // longer tokens are not names: no fuzzy automaton for them
)

// attrPartition names the partition of a kind and sex.
func attrPartition(k models.Kind, s models.Sex) string {
	if s == "" {
		s = models.SexUnknown
	}
	return string(k) + "_" + string(s)
}

// attrPartitions lists every partition, for the mapping.
func attrPartitions() []string {
	var ps []string
	for _, k := range []models.Kind{models.KindMissing, models.KindFound} {
		for _, s := range []models.Sex{models.SexFemale, models.SexMale, models.SexUnknown} {
			ps = append(ps, attrPartition(k, s))
		}
	}
	return ps
}

// queryPartitions are the partitions q's candidates are in: the other kind,
// and every sex that does not conflict with q's (unknown conflicts with none).
func queryPartitions(q *models.Child) []string {
	k := q.Kind.Other()
	switch q.Sex {
	case models.SexFemale, models.SexMale:
		return []string{attrPartition(k, q.Sex), attrPartition(k, models.SexUnknown)}
	}
	return []string{attrPartition(k, models.SexFemale), attrPartition(k, models.SexMale), attrPartition(k, models.SexUnknown)}
}

// Internal-storage keys and values of the consistency facts.
const (
	attrKeyAnalysis = "trackmatch/attr/analysis"
	attrKeyState    = "trackmatch/attr/state"
	attrStateOpen   = "open"
	attrStateClean  = "clean"
)

// Boosts of the candidate query's clauses. A token that agrees folded also
// agrees phonetically, and which of two spellings a register used is hardly
// evidence, so the folded clause only breaks ties: with it at 4 (phonetic
// 2), a true match spelt differently ("Puja" for "Pooja") fell behind every
// same-spelt namesake; at 0.1 the true record of synthetic pairs was in the
// top 10 for 194 queries of 300 instead of 152, and in the top 100 for 238
// instead of 230 (benchmarks/retrieval_test.go population). The scorer,
// not retrieval, weighs spelling.
const (
	boostFolded   = 0.1
	boostPhonetic = 2.0
	boostFuzzy    = 1.0
	// An agreeing initial only ranks (it gates nothing), but among the
	// thousands who share a common given name it is what sets the true
	// record apart ("X. Priya"), as it does for the scorer.
	boostInitial  = 2.0
	boostMarkSide = 2.0 // type/region/side
	boostMarkArea = 1.5 // type/region
	boostMarkType = 0.3 // type alone: common, weak
	boostDistrict = 1.0
	boostState    = 0.5

	boostFilterOnly = 1e-3 // filters that drive a name-less search must not rank it
)

// ageTolerance is how many years two birth-year ranges may be apart and
// still meet, given the gap in years between the two observations. A found
// child's age is estimated from appearance (or a bone test), two years out
// either way for an adolescent, and an estimate made years later, of an
// older child, is less certain still.
func ageTolerance(gap int) int {
	if gap < 0 {
		gap = -gap
	}
	switch {
	case gap <= 2:
		return 2
	case gap <= 6:
		return 3
	}
	return ageMaxTolerance
}

// ageMaxTolerance is the tolerance of the largest gaps, and so the widest.
const ageMaxTolerance = 4

// ageMeets is the age test of Candidates on two birth-year ranges with the
// years they were observed in.
func ageMeets(qlo, qhi, qref, lo, hi, ref int) bool {
	t := ageTolerance(ref - qref)
	return lo <= qhi+t && hi >= qlo-t
}

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

// attrMapping is the index mapping: explicit fields only, nothing dynamic,
// no _all field, no term vectors. The fields hits are explained from are
// stored (the source text, a few hundred bytes a record).
func attrMapping() *mapping.IndexMappingImpl {
	field := func(fm *mapping.FieldMapping, name, analyzer string) *mapping.FieldMapping {
		fm.Name = name
		if analyzer != "" {
			fm.Analyzer = analyzer
		}
		fm.Store = false
		fm.IncludeInAll = false
		fm.DocValues = false
		fm.IncludeTermVectors = false
		return fm
	}
	text := func(name, analyzer string) *mapping.FieldMapping {
		return field(bleve.NewTextFieldMapping(), name, analyzer)
	}
	kw := func() *mapping.FieldMapping {
		fm := field(bleve.NewKeywordFieldMapping(), "", "")
		fm.SkipFreqNorm = true // filters: presence is all that counts
		return fm
	}
	stored := func() *mapping.FieldMapping {
		fm := field(bleve.NewKeywordFieldMapping(), "", "")
		fm.Index, fm.Store = false, true
		return fm
	}

	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(attrFieldPart, kw())
	dm.AddFieldMappingsAt(attrFieldStatus, kw())
	for _, p := range attrPartitions() {
		dm.AddFieldMappingsAt(attrPrefixNames+p,
			text(attrPrefixName+p, analyzerNameFolded),
			text(attrPrefixPhonetic+p, analyzerNamePhonetic))
		dm.AddFieldMappingsAt(attrPrefixMarks+p, text("", analyzerMarks))
	}
	dm.AddFieldMappingsAt(attrFieldNames, stored())
	dm.AddFieldMappingsAt(attrFieldMarks, stored())
	dm.AddFieldMappingsAt(attrFieldSex, stored())
	state, district := text("", analyzerPlace), text("", analyzerPlace)
	state.Store, district.Store = true, true
	dm.AddFieldMappingsAt(attrFieldState, state)
	dm.AddFieldMappingsAt(attrFieldDistrict, district)
	// Years are keywords, not numbers: each record lists the birth years it
	// can meet at the widest tolerance, prefixed with its partition (a
	// handful of terms), so a query tests partition and overlap at once with
	// one term per partition and year of its own range. Bleve numeric ranges,
	// and an exact per-gap-band filter in Bleve, were several times slower:
	// the exact test runs on the hits, from the stored "birth".
	dm.AddFieldMappingsAt(attrFieldPartYear, kw())
	dm.AddFieldMappingsAt(attrFieldBirth, stored())
	dm.AddFieldMappingsAt(attrFieldObserved, field(bleve.NewDateTimeFieldMapping(), "", ""))

	im := bleve.NewIndexMapping()
	im.DefaultMapping = dm
	im.DefaultAnalyzer = keyword.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im
}

// birthYears moves an age range to a common reference: the calendar years
// the child can have been born in, [year(ref)-max-1, year(ref)-min]. Ages
// recorded years apart then compare without moving ranges. The reference is
// ObservedOn, else the record's creation; ok is false when age or date is
// unknown.
func birthYears(c *models.Child) (lo, hi, refYear int, ok bool) {
	if a := c.Age; a == nil || a.Min < 0 || a.Max < a.Min || a.Max > models.MaxAgeYears {
		return 0, 0, 0, false // unknown, or not an age Validate allows: no evidence
	}
	ref, okRef := c.ObservedOn.Time()
	if !okRef {
		if c.CreatedAt.IsZero() {
			return 0, 0, 0, false
		}
		ref = c.CreatedAt
	}
	y := ref.Year()
	return y - c.Age.Max - 1, y - c.Age.Min, y, true
}

// attrDoc is the document indexed for c. Names, marks and places go in as
// text and are analysed by the registered analyzers.
func attrDoc(c *models.Child) map[string]interface{} {
	sex := c.Sex
	if sex == "" {
		sex = models.SexUnknown
	}
	status := c.Status
	if status == "" {
		status = models.StatusOpen
	}
	p := attrPartition(c.Kind, sex)
	d := map[string]interface{}{
		attrFieldPart:   p,
		attrFieldSex:    string(sex),
		attrFieldStatus: string(status),
	}
	if len(c.Names) > 0 {
		d[attrPrefixNames+p] = c.Names
		d[attrFieldNames] = c.Names
	}
	if c.Marks != "" {
		d[attrPrefixMarks+p] = c.Marks
		d[attrFieldMarks] = c.Marks
	}
	if c.Place.State != "" {
		d[attrFieldState] = c.Place.State
	}
	if c.Place.District != "" {
		d[attrFieldDistrict] = c.Place.District
	}
	if lo, hi, ref, ok := birthYears(c); ok {
		years := make([]string, 0, hi-lo+1+2*ageMaxTolerance)
		for y := lo - ageMaxTolerance; y <= hi+ageMaxTolerance; y++ {
			years = append(years, partYear(p, y))
		}
		d[attrFieldPartYear] = years
		d[attrFieldBirth] = fmt.Sprintf("%d %d %d", lo, hi, ref)
	} else {
		d[attrFieldPartYear] = p + "/?"
	}
	if t, ok := c.ObservedOn.Time(); ok {
		d[attrFieldObserved] = t
	}
	return d
}

// errAttrClosed is returned after Close, or after a failed rebuild swap.
func errAttrClosed() error {
	return models.Errorf(models.EUNAVAILABLE, "the attribute index is closed")
}

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

// Candidates returns up to limit records of the other kind whose attributes
// could be q's, best first, with the reasons each was retrieved.
//
// The query (built from Bleve query objects, never query-string text, so
// whatever is typed into a name is only ever a term):
//
//	where    the partitions of the other kind and of every sex that does
//	         not conflict with q's (female excludes male and the reverse;
//	         unknown excludes nothing): names and marks are indexed per
//	         partition, so the name clauses search only these
//	must     when q has name tokens: at least one agrees, folded, by
//	         phonetic key (names.SearchKeys included), or token or key
//	         within the edits names.Compare allows (nameFuzziness,
//	         keyFuzziness); initials only rank; or a
//	         mark agrees at type/region precision; a query without names
//	         matches every record of its partitions the filters let through
//	filter   when q's age is known: birth years overlap within a tolerance
//	         that widens with the gap between the two observations
//	         (ageTolerance: 2 years up to a 2-year gap, 3 up to 6, then 4),
//	         or the record's age is unknown. Bleve applies the widest
//	         tolerance; the exact one is applied to the fetched hits (limit
//	         and a margin), so a page can rarely come back short
//	must not status closed
//	should   marks by type alone, same district, same state (ranking)
//
// Reasons are read from the hits' stored fields, not from Bleve's
// explanation or term locations, which cost on every document visited.
func (x *AttributeIndex) Candidates(ctx context.Context, q *models.Child, limit int) ([]AttributeHit, error) {
	if q == nil || !q.Kind.Valid() {
		return nil, models.Errorf(models.EINVALID, "query kind must be %q or %q", models.KindMissing, models.KindFound)
	}
	if limit < 1 || limit > MaxCandidates {
		return nil, models.Errorf(models.EINVALID, "limit must be between 1 and %d", MaxCandidates)
	}
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return nil, errAttrClosed()
	}
	// Fetch a margin beyond limit: the exact age test drops some hits.
	fetch := limit + limit/2 + 8
	df, release := x.docFreqs(ctx)
	defer release()
	cq := newCandidateQuery(q, nameGate{docFreq: df, enough: pruneTargetPerHit * fetch})
	req := bleve.NewSearchRequestOptions(cq.query, fetch, 0, false)
	req.Fields = []string{attrFieldNames, attrFieldMarks, attrFieldState, attrFieldDistrict, attrFieldSex, attrFieldBirth}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("search candidates: %w", err)
	}
	hits := make([]AttributeHit, 0, limit)
	for _, h := range res.Hits {
		if len(hits) == limit {
			break
		}
		if !cq.ageOK(h.Fields) {
			continue
		}
		hits = append(hits, AttributeHit{ID: h.ID, Score: h.Score, Matched: cq.reasons(h.Fields)})
	}
	return hits, nil
}

// candidateQuery is a built query and what is needed to read its hits.
type candidateQuery struct {
	query query.Query
	// What q brings, to explain hits with.
	folded, phonetic, marks map[string]bool
	district, state, sex    string
	ageKnown                bool
	birthLo, birthHi        int // q's birth years and the year its age was observed
	birthRef                int
}

func termQuery(field, term string, boost float64) *query.TermQuery {
	t := query.NewTermQuery(term)
	t.SetField(field)
	t.SetBoost(boost)
	return t
}

// partYear is the part_year term of a partition and a birth year.
func partYear(part string, year int) string { return part + "/" + strconv.Itoa(year) }

// queryNameTerms returns q's distinct folded tokens and the phonetic terms
// they ask for (keys, and loose keys as phoneticKeys tags them), in order of
// appearance and bounded so that a hostile query stays cheap.
func queryNameTerms(ns []string) (tokens, keys []string) {
	seenT, seenK := map[string]bool{}, map[string]bool{}
	addKey := func(k string) {
		if !seenK[k] && len(keys) < 2*attrMaxQueryTokens {
			seenK[k] = true
			keys = append(keys, k)
		}
	}
	for _, n := range ns {
		tamil := writtenInTamil(n)
		for _, t := range nameTerms(n) {
			if seenT[t] || len(tokens) >= attrMaxQueryTokens {
				continue
			}
			seenT[t] = true
			tokens = append(tokens, t)
			if k := names.Key(t); k != "" {
				addKey(k)
			}
			for _, l := range queryLooseKeys(t, tamil) {
				addKey(l)
			}
		}
		for _, k := range names.SearchKeys(n) {
			addKey(k)
		}
	}
	return tokens, keys
}

// nameFuzziness is the edit distance a name token of n letters (5 or
// more) is searched with: what names.Compare's fuzzy level allows a word
// of that length (1, 2 from 7 letters), each of its edits costing at
// least one.
func nameFuzziness(n int) int {
	return max(1, names.MaxEdits(n))
}

// keyFuzziness is the edit distance a phonetic key of n letters is
// searched with: 1. A key is shorter than its word (Rakkiah's is rakia)
// and Compare allows the edits of the word's length on keys too, but two
// edits on a key reach so many terms that the search costs several times
// more (Retrieval100k: 2.4x the CPU with 2 from 5 letters, 2x from 7);
// the retrieval test against a full scan (engine/eval) measures what one
// edit leaves out: 16 of 1,047 dev queries.
func keyFuzziness(int) int { return 1 }

// newCandidateQuery builds the query documented on Candidates, its name
// gate pruned by ng.
func newCandidateQuery(q *models.Child, ng nameGate) candidateQuery {
	cq := candidateQuery{folded: map[string]bool{}, phonetic: map[string]bool{}, marks: map[string]bool{}}
	if q.Sex == models.SexFemale || q.Sex == models.SexMale {
		cq.sex = string(q.Sex)
	}
	lo, hi, ref, ageKnown := birthYears(q)
	cq.ageKnown, cq.birthLo, cq.birthHi, cq.birthRef = ageKnown, lo, hi, ref
	cq.district, cq.state = placeTerm(q.Place.District), placeTerm(q.Place.State)
	parts := queryPartitions(q)

	var gate, should []query.Query
	tokens, keys := queryNameTerms(q.Names)
	for _, t := range tokens {
		cq.folded[t] = true
	}
	for _, k := range keys {
		cq.phonetic[k] = true
	}
	// Initials gate nothing: names.Compare needs a whole word to agree, and
	// a query's initial is on thousands of records. They only rank.
	words, wordKeys := make([]string, 0, len(tokens)), make([]string, 0, len(keys))
	var initials []string
	for _, t := range tokens {
		if len(t) == 1 {
			initials = append(initials, t)
		} else {
			words = append(words, t)
		}
	}
	for _, k := range keys {
		if len(k) > 1 {
			wordKeys = append(wordKeys, k)
		}
	}
	nameGated := false
	for _, p := range parts {
		for _, t := range initials {
			should = append(should, termQuery(attrPrefixName+p, t, boostInitial))
		}
		ts, ks := ng.prune(p, words, wordKeys)
		nameGated = nameGated || len(ts)+len(ks) > 0
		for _, t := range ts {
			gate = append(gate, termQuery(attrPrefixName+p, t, boostFolded))
			if n := utf8.RuneCountInString(t); n >= 5 && n <= attrMaxFuzzyRunes {
				fz := query.NewFuzzyQuery(t)
				fz.SetField(attrPrefixName + p)
				fz.SetFuzziness(nameFuzziness(n))
				fz.SetBoost(boostFuzzy)
				gate = append(gate, fz)
			}
		}
		for _, k := range ks {
			gate = append(gate, termQuery(attrPrefixPhonetic+p, k, boostPhonetic))
			// As lenient as names.Compare, which also compares keys by
			// spelling distance.
			if n := len(k); n >= 5 && n <= attrMaxFuzzyRunes && k[0] != '~' {
				fz := query.NewFuzzyQuery(k)
				fz.SetField(attrPrefixPhonetic + p)
				fz.SetFuzziness(keyFuzziness(n))
				fz.SetBoost(boostFuzzy)
				gate = append(gate, fz)
			}
		}
	}
	mts := markTerms(q.Marks)
	if len(mts) > attrMaxQueryTokens {
		mts = mts[:attrMaxQueryTokens]
	}
	for _, m := range mts {
		cq.marks[m] = true
		for _, p := range parts {
			switch n := markPrecision(m); {
			case n >= 3:
				gate = append(gate, termQuery(attrPrefixMarks+p, m, boostMarkSide))
			case n == 2:
				gate = append(gate, termQuery(attrPrefixMarks+p, m, boostMarkArea))
			default:
				should = append(should, termQuery(attrPrefixMarks+p, m, boostMarkType))
			}
		}
	}
	if cq.district != "" {
		should = append(should, termQuery(attrFieldDistrict, cq.district, boostDistrict))
	}
	if cq.state != "" {
		should = append(should, termQuery(attrFieldState, cq.state, boostState))
	}

	bq := query.NewBooleanQuery(nil, nil, []query.Query{termQuery(attrFieldStatus, string(models.StatusClosed), 1)})
	if nameGated {
		// The name gate drives the search, in q's partitions only; the
		// age filter tests its hits (Bleve filters do not score).
		bq.AddMust(query.NewDisjunctionQuery(gate))
		if age := ageFilter(q, parts, 1); age != nil {
			bq.AddFilter(age)
		}
	} else {
		// No names (or initials only): the partitions (with the age test
		// when q's age is known) drive, at a near-zero boost so that they
		// do not rank; marks and initials only rank.
		must := ageFilter(q, parts, boostFilterOnly)
		if must == nil {
			ps := make([]query.Query, len(parts))
			for i, p := range parts {
				ps[i] = termQuery(attrFieldPart, p, boostFilterOnly)
			}
			must = query.NewDisjunctionQuery(ps)
		}
		bq.AddMust(must)
		should = append(should, gate...)
	}
	if len(should) > 0 {
		bq.AddShould(should...)
	}
	cq.query = bq
	return cq
}

// ageFilter is the index side of the age test of Candidates, nil when q's
// age is unknown: a record of parts whose birth years meet q's at the widest
// tolerance, or whose age is unknown (no evidence either way). Hits are then
// held to the exact tolerance of their gap (ageMeets, in cq.ageOK).
func ageFilter(q *models.Child, parts []string, boost float64) query.Query {
	lo, hi, _, ok := birthYears(q)
	if !ok {
		return nil
	}
	var qs []query.Query
	for _, p := range parts {
		qs = append(qs, termQuery(attrFieldPartYear, p+"/?", boost))
		for y := lo; y <= hi; y++ {
			qs = append(qs, termQuery(attrFieldPartYear, partYear(p, y), boost))
		}
	}
	return query.NewDisjunctionQuery(qs)
}

// ageOK applies the exact age test to a hit's stored birth years.
func (cq candidateQuery) ageOK(fields map[string]interface{}) bool {
	if !cq.ageKnown {
		return true
	}
	b := storedStrings(fields[attrFieldBirth])
	if len(b) != 1 {
		return true // age unknown
	}
	var lo, hi, ref int
	if _, err := fmt.Sscanf(b[0], "%d %d %d", &lo, &hi, &ref); err != nil {
		return true
	}
	return ageMeets(cq.birthLo, cq.birthHi, cq.birthRef, lo, hi, ref)
}

// reasons explains a hit from its stored fields: which of q's name
// tokens, phonetic keys, marks and places it shares, and whether its sex
// and age are known evidence. It runs on the returned hits only; term
// locations would cost more, on every document the query visits.
func (cq candidateQuery) reasons(fields map[string]interface{}) map[string][]string {
	out := map[string][]string{}
	add := func(reason, term string) {
		for _, t := range out[reason] {
			if t == term {
				return
			}
		}
		out[reason] = append(out[reason], term)
	}
	for _, n := range storedStrings(fields[attrFieldNames]) {
		tamil := writtenInTamil(n)
		for _, t := range nameTerms(n) {
			keys := phoneticKeys(t, tamil)
			switch {
			case cq.folded[t]:
				add(ReasonNameFolded, t)
			case len(keys) == 2 && cq.phonetic[keys[0]]:
				add(ReasonNamePhonetic, keys[0])
			case len(keys) == 2 && cq.phonetic[keys[1]]:
				add(ReasonNamePhonetic, keys[1])
			case utf8.RuneCountInString(t) >= 5 && cq.withinOneEdit(t):
				add(ReasonNameFuzzy, t)
			}
		}
	}
	for _, m := range storedStrings(fields[attrFieldMarks]) {
		for _, t := range markTerms(m) {
			if cq.marks[t] {
				add(ReasonMarks, t)
			}
		}
	}
	for _, f := range []struct{ field, reason, want string }{
		{attrFieldDistrict, ReasonDistrict, cq.district},
		{attrFieldState, ReasonState, cq.state},
	} {
		for _, v := range storedStrings(fields[f.field]) {
			if t := placeTerm(v); t != "" && t == f.want {
				add(f.reason, t)
			}
		}
	}
	if sex := storedStrings(fields[attrFieldSex]); cq.sex != "" && len(sex) == 1 && sex[0] == cq.sex {
		out[ReasonSex] = nil
	}
	if cq.ageKnown && len(storedStrings(fields[attrFieldBirth])) == 1 {
		out[ReasonAge] = nil
	}
	for _, ts := range out {
		sort.Strings(ts)
	}
	return out
}

// withinOneEdit reports whether t is one edit from a fuzzed query token.
func (cq candidateQuery) withinOneEdit(t string) bool {
	for q := range cq.folded {
		if utf8.RuneCountInString(q) >= 5 && oneEditApart(q, t) {
			return true
		}
	}
	return false
}

// oneEditApart reports whether a and b differ by exactly one insertion,
// deletion or substitution of a rune (Levenshtein distance 1).
func oneEditApart(a, b string) bool {
	ra, rb := []rune(a), []rune(b)
	if len(ra) > len(rb) {
		ra, rb = rb, ra
	}
	if len(rb)-len(ra) > 1 {
		return false
	}
	i := 0
	for i < len(ra) && ra[i] == rb[i] {
		i++
	}
	if len(ra) == len(rb) {
		return i < len(ra) && string(ra[i+1:]) == string(rb[i+1:])
	}
	return string(ra[i:]) == string(rb[i+1:])
}

// storedStrings reads a stored field as Bleve returns it: a string, or a
// list for a field with several values.
func storedStrings(v interface{}) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []interface{}:
		out := make([]string, 0, len(x))
		for _, e := range x {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}
