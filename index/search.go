package index

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/trackmatch/trackmatch/models"
)

// AttributeIndex is the Bleve index of every record's retrieval attributes
// (names folded and phonetic, marks, age as birth years, sex, kind, place,
// date, status). It finds candidates for a record without faces; the store
// stays the source of truth and the index is derived from it.
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
//     interrupted rebuild) is known; scorch may also lose its last batches in
//     a crash, which this flag covers;
//   - the document count, which the caller compares with the store's.
//
// At start the caller opens both, then calls OutOfDate(storeCount); on a
// non-empty reason it calls Rebuild with an iterator over the store before
// serving. Rebuild builds a fresh index beside the live one and swaps it in.
type AttributeIndex struct {
	path string

	// rebuildMu keeps writes out while Rebuild runs (they wait, then go to
	// the new index); searches go on against the old one.
	rebuildMu sync.RWMutex
	// mu guards idx, which Rebuild swaps and Close clears.
	mu  sync.RWMutex
	idx bleve.Index

	startReason string      // why the index was out of date when opened; "" if not
	failed      atomic.Bool // a write failed since the last open or rebuild
}

// ChildSource iterates over stored children, calling yield for each and
// stopping at the first error yield returns. The store provides one; tests
// and benchmarks use a slice.
type ChildSource func(yield func(*models.Child) error) error

// AttributeHit is one candidate from Candidates: a record of the other kind,
// Bleve's relevance score (for ordering only; it is not a probability), and
// why it was retrieved.
type AttributeHit struct {
	ID    string
	Score float64
	// Matched maps each reason (ReasonNameFolded, ...) to the index terms
	// that agreed: folded tokens, phonetic keys, mark terms such as
	// "mole/face/left", or the folded place. ReasonAge and ReasonSex carry
	// no terms. A hit with no reasons came in on the filters alone.
	Matched map[string][]string
}

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

// Index fields. "names" is one source property analysed two ways.
const (
	attrFieldKind      = "kind"
	attrFieldSex       = "sex"
	attrFieldStatus    = "status"
	attrFieldNames     = "names" // source property
	attrFieldName      = "name"  // folded tokens
	attrFieldPhonetic  = "name_phonetic"
	attrFieldMarks     = "marks"
	attrFieldState     = "state"
	attrFieldDistrict  = "district"
	attrFieldAgeKnown  = "age_known" // "y" or "n"
	attrFieldBirthMin  = "birth_year_min"
	attrFieldBirthMax  = "birth_year_max"
	attrFieldRefYear   = "ref_year" // year the age was observed
	attrFieldObserved  = "observed_on"
	attrRebuildSuffix  = ".rebuild"
	attrOldSuffix      = ".old"
	attrRebuildBatch   = 2000
	attrMaxQueryTokens = 32
)

// Internal-storage keys and values of the consistency facts.
const (
	attrKeyAnalysis = "trackmatch/attr/analysis"
	attrKeyState    = "trackmatch/attr/state"
	attrStateOpen   = "open"
	attrStateClean  = "clean"
)

// Boosts of the candidate query's clauses. Exact folded agreement counts
// most; weaker evidence is there to rank, not to dominate.
const (
	boostFolded   = 4.0
	boostPhonetic = 2.0
	boostFuzzy    = 1.0
	boostMarkSide = 2.0 // type/region/side
	boostMarkArea = 1.5 // type/region
	boostMarkType = 0.3 // type alone: common, weak
	boostDistrict = 1.0
	boostState    = 0.5
	boostSex      = 0.2
	boostAge      = 0.2
)

// ageBand is one band of ageBands.
type ageBand struct{ maxGap, tolerance int }

// ageBands widen the birth-year tolerance (in years) with the gap in years
// between the two observations: an age estimated years later, from the look
// of an older child, is less certain. Bands are disjoint and in order; the
// last (maxGap -1) is open-ended.
func ageBands() []ageBand {
	return []ageBand{{maxGap: 2, tolerance: 1}, {maxGap: 6, tolerance: 2}, {maxGap: -1, tolerance: 3}}
}

// OpenAttributeIndex opens the attribute index at path, creating an empty
// one when there is none. An index that exists but cannot be opened (for
// example written by an incompatible version) is derived data: it is
// deleted, recreated empty, and reported by OutOfDate.
func OpenAttributeIndex(path string) (*AttributeIndex, error) {
	// Leftovers of a rebuild interrupted before its swap.
	if err := os.RemoveAll(path + attrRebuildSuffix); err != nil {
		return nil, fmt.Errorf("remove leftover rebuild: %w", err)
	}
	idx, reason, err := openOrCreateAttr(path)
	if err != nil {
		return nil, err
	}
	if err := idx.SetInternal([]byte(attrKeyState), []byte(attrStateOpen)); err != nil {
		_ = idx.Close()
		return nil, fmt.Errorf("mark attribute index open: %w", err)
	}
	return &AttributeIndex{path: path, idx: idx, startReason: reason}, nil
}

// openOrCreateAttr opens or creates the index at path and says why an
// existing one is out of date.
func openOrCreateAttr(path string) (bleve.Index, string, error) {
	idx, err := bleve.Open(path)
	switch {
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
	// The path exists but does not open. Delete it only if it is a Bleve
	// index (or an empty directory): never a directory we do not know.
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
// no _all field, nothing stored (hits need only their ids).
func attrMapping() *mapping.IndexMappingImpl {
	field := func(fm *mapping.FieldMapping, name, analyzer string, vectors bool) *mapping.FieldMapping {
		fm.Name = name
		if analyzer != "" {
			fm.Analyzer = analyzer
		}
		fm.Store = false
		fm.IncludeInAll = false
		fm.DocValues = false
		fm.IncludeTermVectors = vectors
		return fm
	}
	text := func(name, analyzer string) *mapping.FieldMapping {
		return field(bleve.NewTextFieldMapping(), name, analyzer, true)
	}
	kw := func(vectors bool) *mapping.FieldMapping {
		return field(bleve.NewKeywordFieldMapping(), "", "", vectors)
	}
	num := func() *mapping.FieldMapping { return field(bleve.NewNumericFieldMapping(), "", "", false) }

	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(attrFieldKind, kw(false))
	dm.AddFieldMappingsAt(attrFieldSex, kw(true))
	dm.AddFieldMappingsAt(attrFieldStatus, kw(false))
	dm.AddFieldMappingsAt(attrFieldAgeKnown, kw(true))
	dm.AddFieldMappingsAt(attrFieldNames,
		text(attrFieldName, analyzerNameFolded),
		text(attrFieldPhonetic, analyzerNamePhonetic))
	dm.AddFieldMappingsAt(attrFieldMarks, text("", analyzerMarks))
	dm.AddFieldMappingsAt(attrFieldState, text("", analyzerPlace))
	dm.AddFieldMappingsAt(attrFieldDistrict, text("", analyzerPlace))
	dm.AddFieldMappingsAt(attrFieldBirthMin, num())
	dm.AddFieldMappingsAt(attrFieldBirthMax, num())
	dm.AddFieldMappingsAt(attrFieldRefYear, num())
	dm.AddFieldMappingsAt(attrFieldObserved, field(bleve.NewDateTimeFieldMapping(), "", "", false))

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
	if c.Age == nil {
		return 0, 0, 0, false
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
	d := map[string]interface{}{
		attrFieldKind:   string(c.Kind),
		attrFieldSex:    string(sex),
		attrFieldStatus: string(status),
	}
	if len(c.Names) > 0 {
		d[attrFieldNames] = c.Names
	}
	if c.Marks != "" {
		d[attrFieldMarks] = c.Marks
	}
	if c.Place.State != "" {
		d[attrFieldState] = c.Place.State
	}
	if c.Place.District != "" {
		d[attrFieldDistrict] = c.Place.District
	}
	if lo, hi, ref, ok := birthYears(c); ok {
		d[attrFieldAgeKnown] = "y"
		d[attrFieldBirthMin] = float64(lo)
		d[attrFieldBirthMax] = float64(hi)
		d[attrFieldRefYear] = float64(ref)
	} else {
		d[attrFieldAgeKnown] = "n"
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
	return nil
}

// Index adds or replaces c's document. Call it after the store write.
func (x *AttributeIndex) Index(ctx context.Context, c *models.Child) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkChild(c); err != nil {
		return err
	}
	x.rebuildMu.RLock()
	defer x.rebuildMu.RUnlock()
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return errAttrClosed()
	}
	if err := x.idx.Index(c.ID, attrDoc(c)); err != nil {
		x.failed.Store(true)
		return fmt.Errorf("index record: %w", err)
	}
	return nil
}

// Delete removes the document of record id; an unknown id is not an error.
func (x *AttributeIndex) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	x.rebuildMu.RLock()
	defer x.rebuildMu.RUnlock()
	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return errAttrClosed()
	}
	if err := x.idx.Delete(id); err != nil {
		x.failed.Store(true)
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

	tmp := x.path + attrRebuildSuffix
	if err := os.RemoveAll(tmp); err != nil {
		return fmt.Errorf("rebuild attribute index: %w", err)
	}
	nidx, err := createAttr(tmp)
	if err != nil {
		return fmt.Errorf("rebuild attribute index: %w", err)
	}
	err = fillAttr(ctx, nidx, src)
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
	idx, err := bleve.Open(x.path)
	if err != nil {
		return fmt.Errorf("open rebuilt index: %w", err)
	}
	if err := idx.SetInternal([]byte(attrKeyState), []byte(attrStateOpen)); err != nil {
		_ = idx.Close()
		return fmt.Errorf("mark rebuilt index open: %w", err)
	}
	x.idx = idx
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

// Close marks the index clean, unless a write failed, and closes it.
func (x *AttributeIndex) Close() error {
	x.rebuildMu.Lock()
	defer x.rebuildMu.Unlock()
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.idx == nil {
		return nil
	}
	var err error
	if !x.failed.Load() {
		if err = x.idx.SetInternal([]byte(attrKeyState), []byte(attrStateClean)); err != nil {
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
//	filter   kind = other kind; when q's age is known, birth years overlap
//	         within a tolerance that widens with the gap between the two
//	         observations (ageBands), or the record's age is unknown
//	must not sex conflict (a female query excludes male records and the
//	         reverse; unknown excludes nothing); status closed
//	must     when q has name tokens: at least one of its name tokens agrees
//	         folded, phonetically or within one edit (tokens of 5+ letters),
//	         or a mark agrees at type/region precision; a query without
//	         names matches every record the filters let through
//	should   marks by type alone, same district, same state, same known
//	         sex, known age (ranking and reasons only)
func (x *AttributeIndex) Candidates(ctx context.Context, q *models.Child, limit int) ([]AttributeHit, error) {
	if q == nil || !q.Kind.Valid() {
		return nil, models.Errorf(models.EINVALID, "query kind must be %q or %q", models.KindMissing, models.KindFound)
	}
	if limit < 1 || limit > MaxCandidates {
		return nil, models.Errorf(models.EINVALID, "limit must be between 1 and %d", MaxCandidates)
	}
	cq := newCandidateQuery(q)
	req := bleve.NewSearchRequestOptions(cq.query, limit, 0, false)
	req.IncludeLocations = true

	x.mu.RLock()
	defer x.mu.RUnlock()
	if x.idx == nil {
		return nil, errAttrClosed()
	}
	res, err := x.idx.SearchInContext(ctx, req)
	if err != nil {
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		return nil, fmt.Errorf("search candidates: %w", err)
	}
	hits := make([]AttributeHit, 0, len(res.Hits))
	for _, h := range res.Hits {
		hits = append(hits, AttributeHit{ID: h.ID, Score: h.Score, Matched: cq.reasons(h.Locations)})
	}
	return hits, nil
}

// candidateQuery is a built query and what is needed to read its hits.
type candidateQuery struct {
	query  query.Query
	folded map[string]bool // q's folded name tokens: a "name" hit on another term is fuzzy
}

func termQuery(field, term string, boost float64) *query.TermQuery {
	t := query.NewTermQuery(term)
	t.SetField(field)
	t.SetBoost(boost)
	return t
}

func numRange(field string, lo, hi *float64) *query.NumericRangeQuery {
	yes := true
	r := query.NewNumericRangeInclusiveQuery(lo, hi, &yes, &yes)
	r.SetField(field)
	return r
}

func f64(v int) *float64 { f := float64(v); return &f }

// queryNameTerms returns q's distinct folded tokens and phonetic keys, in
// order of appearance and bounded so that a hostile query stays cheap.
func queryNameTerms(ns []string) (tokens, keys []string) {
	seenT, seenK := map[string]bool{}, map[string]bool{}
	for _, n := range ns {
		for _, t := range nameTerms(n) {
			if !seenT[t] && len(tokens) < attrMaxQueryTokens {
				seenT[t] = true
				tokens = append(tokens, t)
			}
		}
		for _, k := range phoneticTerms(n) {
			if !seenK[k] && len(keys) < attrMaxQueryTokens {
				seenK[k] = true
				keys = append(keys, k)
			}
		}
	}
	return tokens, keys
}

// newCandidateQuery builds the query documented on Candidates.
func newCandidateQuery(q *models.Child) candidateQuery {
	cq := candidateQuery{folded: map[string]bool{}}
	bq := query.NewBooleanQuery(nil, nil, nil)

	filters := []query.Query{termQuery(attrFieldKind, string(q.Kind.Other()), 1)}
	if age := ageFilter(q); age != nil {
		filters = append(filters, age)
	}
	bq.AddFilter(query.NewConjunctionQuery(filters))

	switch q.Sex {
	case models.SexFemale:
		bq.AddMustNot(termQuery(attrFieldSex, string(models.SexMale), 1))
	case models.SexMale:
		bq.AddMustNot(termQuery(attrFieldSex, string(models.SexFemale), 1))
	}
	bq.AddMustNot(termQuery(attrFieldStatus, string(models.StatusClosed), 1))

	var gate, should []query.Query
	tokens, keys := queryNameTerms(q.Names)
	for _, t := range tokens {
		cq.folded[t] = true
		gate = append(gate, termQuery(attrFieldName, t, boostFolded))
		if utf8.RuneCountInString(t) >= 5 {
			fz := query.NewFuzzyQuery(t)
			fz.SetField(attrFieldName)
			fz.SetFuzziness(1)
			fz.SetBoost(boostFuzzy)
			gate = append(gate, fz)
		}
	}
	for _, k := range keys {
		gate = append(gate, termQuery(attrFieldPhonetic, k, boostPhonetic))
	}
	hasNames := len(tokens) > 0
	for _, m := range markTerms(q.Marks) {
		switch p := markPrecision(m); {
		case p >= 3:
			gate = append(gate, termQuery(attrFieldMarks, m, boostMarkSide))
		case p == 2:
			gate = append(gate, termQuery(attrFieldMarks, m, boostMarkArea))
		default:
			should = append(should, termQuery(attrFieldMarks, m, boostMarkType))
		}
	}
	if d := placeTerm(q.Place.District); d != "" {
		should = append(should, termQuery(attrFieldDistrict, d, boostDistrict))
	}
	if s := placeTerm(q.Place.State); s != "" {
		should = append(should, termQuery(attrFieldState, s, boostState))
	}
	if q.Sex == models.SexFemale || q.Sex == models.SexMale {
		should = append(should, termQuery(attrFieldSex, string(q.Sex), boostSex))
	}
	if _, _, _, ok := birthYears(q); ok {
		should = append(should, termQuery(attrFieldAgeKnown, "y", boostAge))
	}

	if hasNames {
		bq.AddMust(query.NewDisjunctionQuery(gate))
	} else {
		// No names: marks only rank, and the filters decide.
		should = append(should, gate...)
		bq.AddMust(query.NewMatchAllQuery())
	}
	if len(should) > 0 {
		bq.AddShould(should...)
	}
	cq.query = bq
	return cq
}

// ageFilter is the birth-year overlap filter of Candidates, nil when q's age
// is unknown. For each gap band: the record was observed within the band's
// gap of q, and its birth years overlap q's widened by the band's tolerance.
// Records of unknown age pass: no evidence either way.
func ageFilter(q *models.Child) query.Query {
	lo, hi, ref, ok := birthYears(q)
	if !ok {
		return nil
	}
	alts := []query.Query{termQuery(attrFieldAgeKnown, "n", 1)}
	prev := -1 // largest gap of the previous band
	for _, b := range ageBands() {
		overlap := []query.Query{
			numRange(attrFieldBirthMin, nil, f64(hi+b.tolerance)),
			numRange(attrFieldBirthMax, f64(lo-b.tolerance), nil),
		}
		switch {
		case prev < 0 && b.maxGap >= 0: // first band: |gap| <= maxGap
			overlap = append(overlap, numRange(attrFieldRefYear, f64(ref-b.maxGap), f64(ref+b.maxGap)))
		case b.maxGap >= 0: // middle band: prev < |gap| <= maxGap
			overlap = append(overlap, query.NewDisjunctionQuery([]query.Query{
				numRange(attrFieldRefYear, f64(ref-b.maxGap), f64(ref-prev-1)),
				numRange(attrFieldRefYear, f64(ref+prev+1), f64(ref+b.maxGap)),
			}))
		default: // last band: |gap| > prev
			overlap = append(overlap, query.NewDisjunctionQuery([]query.Query{
				numRange(attrFieldRefYear, nil, f64(ref-prev-1)),
				numRange(attrFieldRefYear, f64(ref+prev+1), nil),
			}))
		}
		alts = append(alts, query.NewConjunctionQuery(overlap))
		prev = b.maxGap
	}
	return query.NewDisjunctionQuery(alts)
}

// reasons reads which clauses a hit matched from its term locations.
func (cq candidateQuery) reasons(locs search.FieldTermLocationMap) map[string][]string {
	out := map[string][]string{}
	add := func(reason, term string) {
		if term == "" {
			if _, ok := out[reason]; !ok {
				out[reason] = nil
			}
			return
		}
		out[reason] = append(out[reason], term)
	}
	for field, terms := range locs {
		for term := range terms {
			switch field {
			case attrFieldName:
				if cq.folded[term] {
					add(ReasonNameFolded, term)
				} else {
					add(ReasonNameFuzzy, term)
				}
			case attrFieldPhonetic:
				add(ReasonNamePhonetic, term)
			case attrFieldMarks:
				add(ReasonMarks, term)
			case attrFieldDistrict:
				add(ReasonDistrict, term)
			case attrFieldState:
				add(ReasonState, term)
			case attrFieldSex:
				add(ReasonSex, "")
			case attrFieldAgeKnown:
				add(ReasonAge, "")
			}
		}
	}
	for _, ts := range out {
		sort.Strings(ts)
	}
	return out
}
