package index

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
	"github.com/trackmatch/trackmatch/models/places"
)

// AttributeHit is one candidate from Candidates: a record of the other kind,
// Bleve's relevance score (for ordering only; it is not a probability), and
// why it was retrieved.
type AttributeHit = models.AttributeHit

// Reasons an AttributeHit was retrieved, one per kind of agreeing clause.
const (
	ReasonNameFolded   = "name:folded"   // a name token is the same after script folding
	ReasonNamePhonetic = "name:phonetic" // a name token has the same phonetic key
	ReasonNameFuzzy    = "name:fuzzy"    // a name token is one edit away, or has the same consonant skeleton
	ReasonMarks        = "marks"         // a mark of the same type (and region, side)
	ReasonAge          = "age"           // both ages known and the birth years overlap
	ReasonSex          = "sex"           // both sexes known and equal
	ReasonDistrict     = "district"      // same district
	ReasonState        = "state"         // same state
)

// MaxCandidates bounds the limit of one Candidates call.
const MaxCandidates = 10000

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

// ageIndexMargin is how many years beyond its birth years a record's
// part_year terms reach (index format: changing it needs a rebuild). The
// query side widens its own years by the rest of the widest tolerance.
const ageIndexMargin = 4

// ageMeets is the age test of Candidates on two birth-year ranges with the
// years their ages were observed in: models.AgeTolerance, the scorer's rule,
// at the gap and the children's average age at the later year, each taken
// a year wider for the whole years they are counted in (so retrieval is
// never stricter than scoring), and at most models.AgeWidestTolerance.
func ageMeets(qlo, qhi, qref, lo, hi, ref int) bool {
	gap := max(ref-qref, qref-ref)
	later := max(ref, qref)
	age := float64(4*later-(qlo+qhi+lo+hi)) / 4
	t := min(models.AgeTolerance(float64(gap+1), age+1), float64(models.AgeWidestTolerance()))
	return float64(lo) <= float64(qhi)+t && float64(hi) >= float64(qlo)-t
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
//	         phonetic key (names.SearchKeys included), by consonant
//	         skeleton (names.Skeleton), or by key within one edit
//	         (keyFuzziness): together as lenient as names.Compare's fuzzy
//	         level (engine/eval's retrieval test); initials only rank; or a
//	         mark agrees at type/region precision; a query without names
//	         matches every record of its partitions the filters let through
//	filter   when q's age is known: birth years overlap within a tolerance
//	         that widens with the gap between the two observations
//	         (ageMeets: models.AgeTolerance, the scorer's rule), or the
//	         record's age or date is unknown. Bleve applies the widest
//	         tolerance (models.AgeWidestTolerance); the exact one is applied to the fetched hits (limit
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
	// Bleve orders equal scores by its internal document numbers, which
	// change as segments merge and between processes; ordering them by id
	// makes a search return the same records however the index was built
	// (a resumed re-score must rank as an uninterrupted one does).
	slices.SortStableFunc(res.Hits, func(a, b *search.DocumentMatch) int {
		if c := cmp.Compare(b.Score, a.Score); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
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
	for _, k := range keys {
		if s := skeletonTerm(k); s != "" {
			addKey(s)
		}
	}
	return tokens, keys
}

// keyFuzziness is the edit distance a phonetic key of n letters is
// searched with: 1. A key is shorter than its word (Rakkiah's is rakia)
// and Compare allows the edits of the word's length on keys too, but two
// edits on a key cost several times the CPU (Retrieval100k: 2.4x with 2
// from 5 letters; 1.8x with a prefix of one letter kept), most of it in
// building Levenshtein automata. The variants two edits apart are mostly
// vowels written differently (rakia/rakaiya, mutubel/mautaubel), which the
// consonant skeleton (names.Skeleton, a plain term) meets instead; with
// it, fuzzy searches of the folded words (up to two edits) found nothing
// more and were dropped. The retrieval test against a full scan
// (engine/eval) checks that nothing Compare ranks in its first ten is
// left out.
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
	place := places.Resolve(q.Place)
	cq.district, cq.state = place.DistrictKey(), place.StateKey()
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
		}
		for _, k := range ks {
			if strings.HasPrefix(k, skeletonTag) {
				gate = append(gate, termQuery(attrPrefixPhonetic+p, k, boostFuzzy))
				continue
			}
			gate = append(gate, termQuery(attrPrefixPhonetic+p, k, boostPhonetic))
			// As lenient as names.Compare, which also compares keys by
			// spelling distance.
			if n := len(k); n >= 5 && n <= attrMaxFuzzyRunes && k[0] != '~' && k[0] != '#' {
				fz := query.NewFuzzyQuery(k)
				fz.SetField(attrPrefixPhonetic + p)
				fz.SetFuzziness(keyFuzziness(n))
				fz.SetBoost(boostFuzzy)
				gate = append(gate, fz)
			}
		}
	}
	if fg := familyGate(q, parts); len(fg) > 0 {
		gate, nameGated = append(gate, fg...), true
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
	// Records carry their years ageIndexMargin wide; the query reaches the
	// rest of the widest tolerance.
	widen := max(0, models.AgeWidestTolerance()-ageIndexMargin)
	var qs []query.Query
	for _, p := range parts {
		qs = append(qs, termQuery(attrFieldPartYear, p+"/?", boost))
		for y := lo - widen; y <= hi+widen; y++ {
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
			case len(keys) == 2 && cq.phonetic[skeletonTerm(keys[0])]:
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
			if t := places.Key(v); t != "" && t == f.want {
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
