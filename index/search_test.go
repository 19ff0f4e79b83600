package index

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/trackmatch/trackmatch/models"
)

// attrKid builds a record; age -1 means unknown.
func attrKid(id string, kind models.Kind, sex models.Sex, observed string, ageMin, ageMax int, names ...string) *models.Child {
	c := &models.Child{ID: id, Kind: kind, Sex: sex, ObservedOn: models.Date(observed), Names: names, Status: models.StatusOpen}
	if ageMin >= 0 {
		c.Age = &models.AgeRange{Min: ageMin, Max: ageMax}
	}
	return c
}

// attrOpen opens an index in a fresh temporary directory and closes it at
// the end of the test.
func attrOpen(t *testing.T) (*AttributeIndex, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bleve")
	x, err := OpenAttributeIndex(path)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { _ = x.Close() })
	return x, path
}

func attrPut(t *testing.T, x *AttributeIndex, cs ...*models.Child) {
	t.Helper()
	for _, c := range cs {
		if err := x.Index(context.Background(), c); err != nil {
			t.Fatalf("index %s: %v", c.ID, err)
		}
	}
}

func attrSearch(t *testing.T, x *AttributeIndex, q *models.Child, limit int) map[string]AttributeHit {
	t.Helper()
	hits, err := x.Candidates(context.Background(), q, limit)
	if err != nil {
		t.Fatalf("candidates: %v", err)
	}
	if len(hits) > limit {
		t.Fatalf("%d hits for limit %d", len(hits), limit)
	}
	out := map[string]AttributeHit{}
	for _, h := range hits {
		if _, dup := out[h.ID]; dup {
			t.Fatalf("hit %s returned twice", h.ID)
		}
		out[h.ID] = h
	}
	return out
}

func attrIDs(hits map[string]AttributeHit) []string {
	var ids []string
	for id := range hits {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// attrExpect fails unless exactly the ids in want were found.
func attrExpect(t *testing.T, hits map[string]AttributeHit, want ...string) {
	t.Helper()
	sort.Strings(want)
	got := attrIDs(hits)
	if len(got) != len(want) {
		t.Fatalf("hits %v, want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("hits %v, want %v", got, want)
		}
	}
}

func attrHasReason(t *testing.T, h AttributeHit, reason string) {
	t.Helper()
	if _, ok := h.Matched[reason]; !ok {
		t.Errorf("hit %s: reasons %v, want %s among them", h.ID, h.Matched, reason)
	}
}

func TestCandidatesDevanagariAndBengaliMeetLatin(t *testing.T) {
	x, _ := attrOpen(t)
	attrPut(t, x,
		attrKid("f-deva", models.KindFound, models.SexMale, "2023-03-01", 9, 10, "राहुल कुमार"),
		attrKid("f-beng", models.KindFound, models.SexMale, "2023-05-01", 9, 9, "রাহুল"),
		attrKid("f-other", models.KindFound, models.SexMale, "2023-05-01", 9, 9, "Suresh Yadav"),
	)
	q := attrKid("m1", models.KindMissing, models.SexMale, "2023-01-10", 9, 9, "Rahul")
	hits := attrSearch(t, x, q, 10)
	attrExpect(t, hits, "f-deva", "f-beng")
	attrHasReason(t, hits["f-deva"], ReasonNameFolded)
	if got := hits["f-deva"].Matched[ReasonNameFolded]; len(got) != 1 || got[0] != "rahul" {
		t.Errorf("folded terms %q, want [rahul]", got)
	}
	attrHasReason(t, hits["f-beng"], ReasonNameFolded)

	// And the other way round: a Devanagari query finds a Latin record.
	attrPut(t, x, attrKid("m-latin", models.KindMissing, models.SexMale, "2023-01-10", 9, 9, "Rahul Verma"))
	hits = attrSearch(t, x, attrKid("f-q", models.KindFound, models.SexMale, "2023-03-01", 9, 10, "राहुल"), 10)
	attrExpect(t, hits, "m-latin")
}

func TestCandidatesShaikhMeetsSheikhPhonetically(t *testing.T) {
	x, _ := attrOpen(t)
	attrPut(t, x,
		attrKid("f-sheikh", models.KindFound, models.SexMale, "2022-01-01", 12, 12, "Sheikh"),
		attrKid("f-shukla", models.KindFound, models.SexMale, "2022-01-01", 12, 12, "Shukla"),
	)
	hits := attrSearch(t, x, attrKid("m", models.KindMissing, models.SexMale, "2022-01-01", 12, 12, "Shaikh"), 10)
	attrExpect(t, hits, "f-sheikh")
	attrHasReason(t, hits["f-sheikh"], ReasonNamePhonetic)
	if _, ok := hits["f-sheikh"].Matched[ReasonNameFolded]; ok {
		t.Errorf("Shaikh and Sheikh reported as the same folded token: %v", hits["f-sheikh"].Matched)
	}
}

func TestCandidatesFuzzyOnLongTokens(t *testing.T) {
	x, _ := attrOpen(t)
	attrPut(t, x,
		attrKid("f-typo", models.KindFound, models.SexFemale, "2022-01-01", 12, 12, "Priyamka"),
		attrKid("f-short", models.KindFound, models.SexFemale, "2022-01-01", 12, 12, "Rina"),
	)
	hits := attrSearch(t, x, attrKid("m", models.KindMissing, models.SexFemale, "2022-01-01", 12, 12, "Priyanka"), 10)
	attrExpect(t, hits, "f-typo")
	if len(hits["f-typo"].Matched) == 0 {
		t.Errorf("no reason for the fuzzy hit")
	}
	// Tokens of fewer than five letters are not fuzzed: Rita does not meet Rina.
	hits = attrSearch(t, x, attrKid("m2", models.KindMissing, models.SexFemale, "2022-01-01", 12, 12, "Rita"), 10)
	attrExpect(t, hits)
}

func TestCandidatesExcludeSexConflict(t *testing.T) {
	x, _ := attrOpen(t)
	attrPut(t, x,
		attrKid("f-f", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"),
		attrKid("f-m", models.KindFound, models.SexMale, "2022-01-01", 10, 10, "Pooja"),
		attrKid("f-u", models.KindFound, models.SexUnknown, "2022-01-01", 10, 10, "Pooja"),
		attrKid("f-empty", models.KindFound, "", "2022-01-01", 10, 10, "Pooja"),
	)
	hits := attrSearch(t, x, attrKid("m", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja"), 10)
	attrExpect(t, hits, "f-f", "f-u", "f-empty")
	attrHasReason(t, hits["f-f"], ReasonSex)
	if _, ok := hits["f-u"].Matched[ReasonSex]; ok {
		t.Errorf("unknown sex reported as agreeing: %v", hits["f-u"].Matched)
	}
	hits = attrSearch(t, x, attrKid("m2", models.KindMissing, models.SexMale, "2022-01-01", 10, 10, "Pooja"), 10)
	attrExpect(t, hits, "f-m", "f-u", "f-empty")
	hits = attrSearch(t, x, attrKid("m3", models.KindMissing, models.SexUnknown, "2022-01-01", 10, 10, "Pooja"), 10)
	attrExpect(t, hits, "f-f", "f-m", "f-u", "f-empty")
}

func TestCandidatesAreOfTheOtherKindOnly(t *testing.T) {
	x, _ := attrOpen(t)
	attrPut(t, x,
		attrKid("m-1", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja Sharma"),
		attrKid("m-2", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja"),
		attrKid("f-1", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"),
	)
	attrExpect(t, attrSearch(t, x, attrKid("q", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja Sharma"), 10), "f-1")
	attrExpect(t, attrSearch(t, x, attrKid("q", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"), 10), "m-1", "m-2")
}

func TestBirthYearsMoveAgesToOneReference(t *testing.T) {
	lo, hi, ref, ok := birthYears(attrKid("a", models.KindMissing, "", "2019-06-01", 8, 10))
	if !ok || lo != 2008 || hi != 2011 || ref != 2019 {
		t.Errorf("8-10 in 2019: birth %d-%d ref %d ok %v, want 2008-2011 ref 2019", lo, hi, ref, ok)
	}
	if _, _, _, ok := birthYears(attrKid("b", models.KindMissing, "", "", 8, 10)); ok {
		t.Errorf("age without a date or creation time gave birth years")
	}
	if _, _, _, ok := birthYears(attrKid("c", models.KindMissing, "", "2019-06-01", -1, -1)); ok {
		t.Errorf("unknown age gave birth years")
	}
}

func TestCandidatesCompareAgeOverTime(t *testing.T) {
	x, _ := attrOpen(t)
	attrPut(t, x,
		attrKid("f-13-2024", models.KindFound, models.SexMale, "2024-04-01", 13, 13, "Ravi"),
		attrKid("f-3-2024", models.KindFound, models.SexMale, "2024-04-01", 3, 3, "Ravi"),
		attrKid("f-9-2019", models.KindFound, models.SexMale, "2019-08-01", 9, 9, "Ravi"),
		attrKid("f-16-2019", models.KindFound, models.SexMale, "2019-08-01", 16, 16, "Ravi"),
		attrKid("f-unknown", models.KindFound, models.SexMale, "2024-04-01", -1, -1, "Ravi"),
		// 20 in 2030 is born 2009-2010: an 11-year gap, widest tolerance, overlaps.
		attrKid("f-20-2030", models.KindFound, models.SexMale, "2030-01-01", 20, 20, "Ravi"),
	)
	q := attrKid("m", models.KindMissing, models.SexMale, "2019-06-01", 8, 10, "Ravi")
	hits := attrSearch(t, x, q, 10)
	attrExpect(t, hits, "f-13-2024", "f-9-2019", "f-unknown", "f-20-2030")
	attrHasReason(t, hits["f-13-2024"], ReasonAge)
	if _, ok := hits["f-unknown"].Matched[ReasonAge]; ok {
		t.Errorf("unknown age reported as agreeing: %v", hits["f-unknown"].Matched)
	}

	// The tolerance widens with the gap: born 2004-2005 (15 in 2020) is
	// three years from q's 2008-2011: outside the 2-year tolerance of a
	// 1-year gap.
	attrPut(t, x, attrKid("f-15-2020", models.KindFound, models.SexMale, "2020-06-01", 15, 15, "Ravi"))
	if _, ok := attrSearch(t, x, q, 10)["f-15-2020"]; ok {
		t.Errorf("15 in 2020 met 8-10 in 2019")
	}
	// ... but within the 3-year tolerance of a 5-year gap (19 in 2024, also
	// born 2004-2005).
	attrPut(t, x, attrKid("f-19-2024", models.KindFound, models.SexMale, "2024-06-01", 19, 19, "Ravi"))
	if _, ok := attrSearch(t, x, q, 10)["f-19-2024"]; !ok {
		t.Errorf("19 in 2024 (born 2004-2005, 5 years on) did not meet 8-10 in 2019 (born 2008-2011, tolerance 3)")
	}
}

func TestCandidatesMatchMarksDescribedDifferently(t *testing.T) {
	x, _ := attrOpen(t)
	mk := func(id, names, text string) *models.Child {
		c := attrKid(id, models.KindFound, models.SexFemale, "2022-01-01", 10, 10, names)
		c.Marks = text
		return c
	}
	attrPut(t, x,
		mk("f-til", "Sunita", "til on left side of face"),
		mk("f-scar", "Geeta", "scar on right hand"),
		mk("f-none", "Kavita", ""),
	)
	q := attrKid("m", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Anjali")
	q.Marks = "black mole on left cheek"
	hits := attrSearch(t, x, q, 10)
	// No name agrees: only the mark at type/region precision lets f-til in.
	attrExpect(t, hits, "f-til")
	attrHasReason(t, hits["f-til"], ReasonMarks)
	if !attrContains(hits["f-til"].Matched[ReasonMarks], "mole/face") {
		t.Errorf("mark terms %q, want mole/face", hits["f-til"].Matched[ReasonMarks])
	}
}

func TestCandidatesWithoutNamesReturnFilterMatchesUpToLimit(t *testing.T) {
	x, _ := attrOpen(t)
	for _, id := range []string{"f-1", "f-2", "f-3", "f-4", "f-5"} {
		attrPut(t, x, attrKid(id, models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Name "+id))
	}
	attrPut(t, x, attrKid("f-boy", models.KindFound, models.SexMale, "2022-01-01", 10, 10))
	attrPut(t, x, attrKid("f-old", models.KindFound, models.SexFemale, "2022-01-01", 17, 17))
	q := attrKid("photo", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10)
	hits := attrSearch(t, x, q, 3)
	if len(hits) != 3 {
		t.Fatalf("%d hits for a name-less query with limit 3 over 5 matches", len(hits))
	}
	all := attrSearch(t, x, q, 100)
	attrExpect(t, all, "f-1", "f-2", "f-3", "f-4", "f-5")
}

func TestCandidatesReasonsForPlaceAndAge(t *testing.T) {
	x, _ := attrOpen(t)
	c := attrKid("f", models.KindFound, models.SexFemale, "2022-01-01", 10, 11, "Meena")
	c.Place = models.Place{State: "MAHARASHTRA", District: "Pune District"}
	attrPut(t, x, c)
	q := attrKid("m", models.KindMissing, models.SexFemale, "2021-01-01", 9, 9, "Meena")
	q.Place = models.Place{State: "Maharashtra", District: "Dist. Pune"}
	h := attrSearch(t, x, q, 10)["f"]
	for _, r := range []string{ReasonDistrict, ReasonState, ReasonAge, ReasonSex} {
		attrHasReason(t, h, r)
	}
	if got := h.Matched[ReasonDistrict]; len(got) != 1 || got[0] != "pune" {
		t.Errorf("district terms %q, want [pune]", got)
	}
}

func TestCandidatesTreatQuerySyntaxAsText(t *testing.T) {
	x, _ := attrOpen(t)
	hostile := []string{
		`name:* OR 1=1`, `"+-&&||!(){}[]^~*?:\/`, `*`, `+kind:missing`, `-sex:male`, `' OR '1'='1`,
		`name:/.*/`, `kind:found AND sex:male`, `_id:*`, `\`,
	}
	attrPut(t, x,
		attrKid("m-rahul", models.KindMissing, models.SexMale, "2022-01-01", 10, 10, "Rahul"),
		attrKid("m-pooja", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja"),
		attrKid("f-own", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"),
	)
	for i, h := range hostile {
		// Hostile text is stored as a name, an id, a place and marks...
		c := attrKid("m-"+h, models.KindMissing, models.SexMale, "2022-01-01", 10, 10, h)
		c.Marks, c.Place = h, models.Place{State: h, District: h}
		attrPut(t, x, c)
		// ... and typed into a found-child query.
		q := attrKid("q", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, h, "Rahul"+h)
		q.Marks, q.Place = h, models.Place{State: h, District: h}
		hits, err := x.Candidates(context.Background(), q, 50)
		if err != nil {
			t.Fatalf("query %d %q: %v", i, h, err)
		}
		for _, hit := range hits {
			if hit.ID == "f-own" {
				t.Errorf("query %q returned a record of its own kind", h)
			}
			if hit.ID == "m-pooja" {
				t.Errorf("query %q returned a record no name of it matches", h)
			}
		}
	}
	// The junk around a real name does not stop it from being found.
	hits := attrSearch(t, x, attrKid("q", models.KindFound, models.SexMale, "2022-01-01", 10, 10, `Rahul"+-&&||!(){}[]^~*?:\/`), 50)
	if _, ok := hits["m-rahul"]; !ok {
		t.Errorf("Rahul with punctuation did not find Rahul: %v", attrIDs(hits))
	}
	if _, ok := hits["m-pooja"]; ok {
		t.Errorf("Rahul with punctuation found Pooja")
	}
	// Records keyed by hostile ids can be deleted.
	for _, h := range hostile {
		if err := x.Delete(context.Background(), "m-"+h); err != nil {
			t.Fatalf("delete %q: %v", h, err)
		}
	}
	if n, err := x.Count(); err != nil || n != 3 {
		t.Errorf("count after deleting hostile ids = %d, %v; want 3", n, err)
	}
}

func TestCandidatesRefuseBadArguments(t *testing.T) {
	x, _ := attrOpen(t)
	q := attrKid("q", models.KindMissing, models.SexFemale, "", -1, -1, "Pooja")
	for _, limit := range []int{0, -1, MaxCandidates + 1} {
		if _, err := x.Candidates(context.Background(), q, limit); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("limit %d: error %v, want %s", limit, err, models.EINVALID)
		}
	}
	if _, err := x.Candidates(context.Background(), &models.Child{Kind: "alien"}, 10); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("bad kind: error %v, want %s", err, models.EINVALID)
	}
	if err := x.Index(context.Background(), &models.Child{Kind: models.KindFound}); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("record without id: error %v, want %s", err, models.EINVALID)
	}
	if err := x.Index(context.Background(), &models.Child{ID: "x", Kind: models.KindFound, Sex: "alien"}); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("record of unknown sex value: error %v, want %s", err, models.EINVALID)
	}
	// An unvalidated query stays bounded: an absurd age is no evidence, and
	// long text gives a bounded number of clauses.
	attrPut(t, x, attrKid("m-1", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja"))
	huge := attrKid("q", models.KindFound, models.SexFemale, "2022-01-01", 0, 1_000_000_000, strings.Repeat("Pooja Priyanka Sunita ", 500), strings.Repeat("x", 5000))
	huge.Marks = strings.Repeat("mole on left cheek, scar on right hand, ", 200)
	if hits, err := x.Candidates(context.Background(), huge, 10); err != nil || len(hits) != 1 {
		t.Errorf("hostile query: %d hits, %v; want the one Pooja", len(hits), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := x.Candidates(ctx, q, 10); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: error %v, want context.Canceled", err)
	}
}

func TestDeleteRemovesRecord(t *testing.T) {
	x, _ := attrOpen(t)
	attrPut(t, x,
		attrKid("f-1", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"),
		attrKid("f-2", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"),
	)
	q := attrKid("q", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja")
	attrExpect(t, attrSearch(t, x, q, 10), "f-1", "f-2")
	if err := x.Delete(context.Background(), "f-1"); err != nil {
		t.Fatal(err)
	}
	if err := x.Delete(context.Background(), "never-there"); err != nil {
		t.Errorf("delete of an unknown id: %v", err)
	}
	attrExpect(t, attrSearch(t, x, q, 10), "f-2")
	if n, err := x.Count(); err != nil || n != 1 {
		t.Errorf("count = %d, %v; want 1", n, err)
	}
	// Re-indexing replaces, it does not add.
	attrPut(t, x, attrKid("f-2", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Geeta"))
	attrExpect(t, attrSearch(t, x, q, 10))
	if n, _ := x.Count(); n != 1 {
		t.Errorf("count after re-index = %d, want 1", n)
	}
}

func TestReopenKeepsRecordsAndIsUpToDate(t *testing.T) {
	x, path := attrOpen(t)
	attrPut(t, x,
		attrKid("f-1", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"),
		attrKid("m-1", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja"),
	)
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	y, err := OpenAttributeIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if reason, err := y.OutOfDate(2); err != nil || reason != "" {
		t.Errorf("after a clean close: out of date %q, %v", reason, err)
	}
	if reason, _ := y.OutOfDate(3); reason == "" {
		t.Errorf("count 2 against a store of 3 not reported")
	}
	attrExpect(t, attrSearch(t, y, attrKid("q", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja"), 10), "f-1")
}

func TestUncleanCloseAndChangedAnalysisAreOutOfDate(t *testing.T) {
	x, path := attrOpen(t)
	attrPut(t, x, attrKid("f-1", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"))
	// A crash: the Bleve index closes without the clean mark.
	if err := x.idx.Close(); err != nil {
		t.Fatal(err)
	}
	x.idx = nil
	y, err := OpenAttributeIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	if reason, _ := y.OutOfDate(1); reason == "" {
		t.Errorf("an index not closed cleanly is not out of date")
	}
	// Indexes built with another analysis are out of date even when closed cleanly.
	if err := y.idx.SetInternal([]byte(attrKeyAnalysis), []byte("v0-old")); err != nil {
		t.Fatal(err)
	}
	if err := y.Close(); err != nil {
		t.Fatal(err)
	}
	z, err := OpenAttributeIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	if reason, _ := z.OutOfDate(1); reason == "" {
		t.Errorf("an index of another analysis is not out of date")
	}
	if err := z.Rebuild(context.Background(), attrSlice(attrKid("f-1", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"))); err != nil {
		t.Fatal(err)
	}
	if reason, _ := z.OutOfDate(1); reason != "" {
		t.Errorf("after rebuild: out of date %q", reason)
	}
}

func attrSlice(cs ...*models.Child) ChildSource {
	return func(yield func(*models.Child) error) error {
		for _, c := range cs {
			if err := yield(c); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestRebuildFromIterator(t *testing.T) {
	x, path := attrOpen(t)
	// A record the store no longer has, and an empty index against a store of 5.
	attrPut(t, x, attrKid("f-gone", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"))
	var cs []*models.Child
	for _, id := range []string{"f-1", "f-2", "f-3", "f-4"} {
		cs = append(cs, attrKid(id, models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"))
	}
	cs = append(cs, attrKid("m-1", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja"))
	if reason, _ := x.OutOfDate(uint64(len(cs))); reason == "" {
		t.Fatalf("1 record against a store of 5 not out of date")
	}

	// A failing source leaves the old index in place.
	boom := errors.New("store read failed")
	err := x.Rebuild(context.Background(), func(yield func(*models.Child) error) error {
		if err := yield(cs[0]); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("rebuild with failing source: %v, want %v", err, boom)
	}
	if n, _ := x.Count(); n != 1 {
		t.Errorf("after a failed rebuild count = %d, want the old 1", n)
	}

	if err := x.Rebuild(context.Background(), attrSlice(cs...)); err != nil {
		t.Fatal(err)
	}
	if n, err := x.Count(); err != nil || n != 5 {
		t.Fatalf("count after rebuild = %d, %v; want 5", n, err)
	}
	if reason, _ := x.OutOfDate(5); reason != "" {
		t.Errorf("after rebuild: out of date %q", reason)
	}
	q := attrKid("q", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja")
	attrExpect(t, attrSearch(t, x, q, 10), "f-1", "f-2", "f-3", "f-4")
	// Writes go on against the rebuilt index, and it survives reopening.
	attrPut(t, x, attrKid("f-5", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"))
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	y, err := OpenAttributeIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if reason, _ := y.OutOfDate(6); reason != "" {
		t.Errorf("reopened after rebuild: out of date %q", reason)
	}
	attrExpect(t, attrSearch(t, y, q, 10), "f-1", "f-2", "f-3", "f-4", "f-5")
}

func TestRebuildLargerThanOneBatch(t *testing.T) {
	x, _ := attrOpen(t)
	n := attrRebuildBatch*2 + 17
	src := func(yield func(*models.Child) error) error {
		for i := 0; i < n; i++ {
			c := attrKid("f-"+strconv.Itoa(i), models.KindFound, models.SexMale, "2022-01-01", 10, 10, "Ravi")
			if err := yield(c); err != nil {
				return err
			}
		}
		return nil
	}
	if err := x.Rebuild(context.Background(), src); err != nil {
		t.Fatal(err)
	}
	if got, _ := x.Count(); got != uint64(n) {
		t.Errorf("count = %d, want %d", got, n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := x.Rebuild(ctx, src); !errors.Is(err, context.Canceled) {
		t.Errorf("rebuild with canceled context: %v", err)
	}
	if got, _ := x.Count(); got != uint64(n) {
		t.Errorf("count after canceled rebuild = %d, want %d", got, n)
	}
}

// A swap cut short by a crash (the live index moved aside, the rebuilt one
// not yet in place) leaves nothing behind at the next open: the old index
// holds deleted records and the store is there to rebuild from.
func TestOpenRemovesAnInterruptedSwap(t *testing.T) {
	x, path := attrOpen(t)
	attrPut(t, x, attrKid("f-1", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"))
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path, path+attrOldSuffix); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(path+attrRebuildSuffix, 0o700); err != nil {
		t.Fatal(err)
	}
	y, err := OpenAttributeIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	for _, left := range []string{path + attrOldSuffix, path + attrRebuildSuffix} {
		if _, err := os.Stat(left); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s survived the open: %v", filepath.Base(left), err)
		}
	}
	if reason, _ := y.OutOfDate(1); reason == "" {
		t.Errorf("an index recreated empty against a store of 1 is not out of date")
	}
}

// An index in memory (for an encrypted store) is out of date until its
// first Rebuild, then searches and takes writes like one on disk.
func TestMemAttributeIndex(t *testing.T) {
	x, err := OpenMemAttributeIndex()
	if err != nil {
		t.Fatal(err)
	}
	if reason, _ := x.OutOfDate(0); reason == "" {
		t.Fatalf("a new index in memory is not out of date")
	}
	cs := []*models.Child{
		attrKid("f-1", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"),
		attrKid("f-2", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"),
	}
	if err := x.Rebuild(context.Background(), attrSlice(cs...)); err != nil {
		t.Fatal(err)
	}
	if reason, _ := x.OutOfDate(2); reason != "" {
		t.Errorf("after rebuild: out of date %q", reason)
	}
	attrPut(t, x, attrKid("f-3", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"))
	if err := x.Delete(context.Background(), "f-1"); err != nil {
		t.Fatal(err)
	}
	q := attrKid("q", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja")
	attrExpect(t, attrSearch(t, x, q, 10), "f-2", "f-3")
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestOpenRefusesForeignDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "precious.txt"), []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenAttributeIndex(dir); err == nil {
		t.Fatalf("opened a directory that is not a Bleve index")
	}
	if _, err := os.Stat(filepath.Join(dir, "precious.txt")); err != nil {
		t.Errorf("foreign file gone: %v", err)
	}
}

func TestOneEditApart(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"priyanka", "priyamka", true}, {"priyanka", "priyanka", false}, {"priyanka", "priyanaka", true},
		{"priyanka", "riyanka", true}, {"priyanka", "priyank", true}, {"priyanka", "pryanak", false},
		{"राहुल", "राहल", true}, {"", "a", true}, {"ab", "ba", false},
	} {
		if got := oneEditApart(c.a, c.b); got != c.want {
			t.Errorf("oneEditApart(%q, %q) = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestAgeToleranceWidensWithTheGap(t *testing.T) {
	// Born 2010 and born 2004-2005: five years apart, too far for records
	// made the same year, near enough for records made 15 years apart.
	if ageMeets(2010, 2010, 2012, 2004, 2005, 2012) {
		t.Errorf("no gap tolerated 5 years")
	}
	if !ageMeets(2010, 2010, 2012, 2004, 2005, 2027) {
		t.Errorf("a 15-year gap did not tolerate 5 years")
	}
	// Born 2008-2011 (8-10 in 2019) and born 2004-2005: three years apart.
	if ageMeets(2008, 2011, 2019, 2004, 2005, 2020) {
		t.Errorf("a 1-year gap tolerated 3 years")
	}
	if !ageMeets(2008, 2011, 2019, 2004, 2005, 2024) {
		t.Errorf("a 5-year gap did not tolerate 3 years")
	}
}

func TestCandidatesTamilLettersMeetLatinByLooseKey(t *testing.T) {
	x, _ := attrOpen(t)
	attrPut(t, x,
		attrKid("f-tamil", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "கீதா"),
		attrKid("f-kita", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Kita"),
	)
	hits := attrSearch(t, x, attrKid("m", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Geetha"), 10)
	// Voicing is blind only where one side is written in Tamil: Geetha
	// meets கீதா, not Kita.
	attrExpect(t, hits, "f-tamil")
	attrHasReason(t, hits["f-tamil"], ReasonNamePhonetic)

	attrPut(t, x, attrKid("m-latin", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Geetha"))
	hits = attrSearch(t, x, attrKid("f-q", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "கீதா"), 10)
	if _, ok := hits["m-latin"]; !ok {
		t.Errorf("a Tamil-written query did not find Geetha: %v", attrIDs(hits))
	}
}

func TestSecondOpenIsRefusedNotDestructive(t *testing.T) {
	x, path := attrOpen(t)
	attrPut(t, x, attrKid("f-1", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"))
	if _, err := OpenAttributeIndex(path); models.ErrorCode(err) != models.EUNAVAILABLE {
		t.Fatalf("second open: %v, want %s", err, models.EUNAVAILABLE)
	}
	if n, err := x.Count(); err != nil || n != 1 {
		t.Errorf("after a refused second open: count %d, %v", n, err)
	}
}

// gatedIndex wraps a Bleve index to watch and hold its batches: each Batch
// call records its size, signals entered, waits for a token on gate when
// gate is set, and fails with fail when set.
type gatedIndex struct {
	innerIndex
	entered chan struct{}
	gate    chan struct{}
	fail    error
	mu      sync.Mutex
	sizes   []int
}

func (g *gatedIndex) Batch(b *bleve.Batch) error {
	g.mu.Lock()
	g.sizes = append(g.sizes, b.Size())
	g.mu.Unlock()
	if g.entered != nil {
		g.entered <- struct{}{}
	}
	if g.gate != nil {
		<-g.gate
	}
	if g.fail != nil {
		return g.fail
	}
	return g.innerIndex.Batch(b)
}

// innerIndex names the embedded index of gatedIndex, whose field would
// otherwise be called Index and hide the method of that name.
type innerIndex = bleve.Index

func (g *gatedIndex) batchSizes() []int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return slices.Clone(g.sizes)
}

// gate replaces x's Bleve index with a gatedIndex around it.
func gate(x *AttributeIndex, g *gatedIndex) *gatedIndex {
	x.mu.Lock()
	defer x.mu.Unlock()
	g.innerIndex = x.idx
	x.idx = g
	return g
}

// waitPending waits until n writes are queued behind the batch being written.
func waitPending(t *testing.T, x *AttributeIndex, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		x.writes.mu.Lock()
		got := len(x.writes.pending)
		x.writes.mu.Unlock()
		if got == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d writes queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

// recvErr receives a write's result, failing the test rather than hanging
// when none comes.
func recvErr(t *testing.T, errs <-chan error) error {
	t.Helper()
	select {
	case err := <-errs:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("a write did not return")
		return nil
	}
}

func foundKid(i int) *models.Child {
	return attrKid(fmt.Sprintf("f-%03d", i), models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja")
}

// TestConcurrentWritesShareOneBatch: writes that arrive while a batch is
// being written are written together as the next batch, and each returns
// once its change is in the index. Deletes join the same batches.
func TestConcurrentWritesShareOneBatch(t *testing.T) {
	x, _ := attrOpen(t)
	attrPut(t, x, foundKid(0), foundKid(1))
	g := gate(x, &gatedIndex{entered: make(chan struct{}, 100), gate: make(chan struct{})})

	const n = 40
	errs := make(chan error, n+1)
	go func() { errs <- x.Index(context.Background(), foundKid(2)) }()
	<-g.entered // the first batch is being written; the others queue
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if i == 0 {
				errs <- x.Delete(context.Background(), foundKid(1).ID)
				return
			}
			errs <- x.Index(context.Background(), foundKid(100+i))
		})
	}
	waitPending(t, x, n)
	close(g.gate)
	wg.Wait()
	for range n + 1 {
		if err := recvErr(t, errs); err != nil {
			t.Fatal(err)
		}
	}
	if sizes := g.batchSizes(); !slices.Equal(sizes, []int{1, n}) {
		t.Errorf("batch sizes %v, want [1 %d]: the queued writes should share one batch", sizes, n)
	}
	if c, err := x.Count(); err != nil || c != 1+1+(n-1) { // f-000, f-002, f-101..f-139; f-001 deleted
		t.Errorf("count %d, %v; want %d", c, err, 1+1+n-1)
	}
	hits := attrSearch(t, x, attrKid("q", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja"), 100)
	if _, ok := hits[foundKid(1).ID]; ok {
		t.Error("the deleted record is still found")
	}
	if _, ok := hits[foundKid(139).ID]; !ok {
		t.Error("a record of the shared batch is not found")
	}
}

// TestFailedBatchFailsEachWrite: when Bleve refuses a batch, every write in
// it gets the error and the index says it is out of date.
func TestFailedBatchFailsEachWrite(t *testing.T) {
	x, _ := attrOpen(t)
	g := gate(x, &gatedIndex{entered: make(chan struct{}, 100), gate: make(chan struct{}), fail: errors.New("disk full")})
	const n = 8
	errs := make(chan error, n+1)
	go func() { errs <- x.Index(context.Background(), foundKid(0)) }()
	<-g.entered
	for i := range n {
		go func() { errs <- x.Index(context.Background(), foundKid(1+i)) }()
	}
	waitPending(t, x, n)
	close(g.gate) // the first batch fails, and so does the shared one
	for range n + 1 {
		if err := recvErr(t, errs); err == nil || !strings.Contains(err.Error(), "disk full") {
			t.Errorf("write error %v, want the batch's", err)
		}
	}
	if sizes := g.batchSizes(); !slices.Equal(sizes, []int{1, n}) {
		t.Errorf("batch sizes %v, want [1 %d]", sizes, n)
	}
	if reason, err := x.OutOfDate(0); err != nil || reason == "" {
		t.Errorf("after failed writes: out of date %q, %v; want a reason", reason, err)
	}
}

// TestWriteWithdrawnWhenContextEnds: a write whose context ends while it
// waits for a batch is withdrawn, and says so; one already in a batch
// returns that batch's result.
func TestWriteWithdrawnWhenContextEnds(t *testing.T) {
	x, _ := attrOpen(t)
	g := gate(x, &gatedIndex{entered: make(chan struct{}, 100), gate: make(chan struct{})})
	first := make(chan error, 1)
	ctx1, cancel1 := context.WithCancel(context.Background())
	go func() { first <- x.Index(ctx1, foundKid(0)) }()
	<-g.entered
	cancel1() // too late: its batch is being written
	ctx, cancel := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() { second <- x.Index(ctx, foundKid(1)) }()
	waitPending(t, x, 1)
	cancel()
	if err := recvErr(t, second); !errors.Is(err, context.Canceled) {
		t.Errorf("withdrawn write: %v, want context.Canceled", err)
	}
	waitPending(t, x, 0)
	close(g.gate)
	if err := recvErr(t, first); err != nil {
		t.Errorf("write already in a batch: %v", err)
	}
	if c, _ := x.Count(); c != 1 {
		t.Errorf("count %d, want 1 (the withdrawn write is not made)", c)
	}
	if reason, _ := x.OutOfDate(1); reason != "" {
		t.Errorf("a withdrawn write made the index out of date: %q", reason)
	}
}

// TestWritesWaitForRebuildAndClose: writes during a Rebuild wait and go to
// the new index; Close lets writes in flight finish, and later ones fail
// with EUNAVAILABLE instead of waiting for a writer that has stopped.
func TestWritesWaitForRebuildAndClose(t *testing.T) {
	x, path := attrOpen(t)
	release := make(chan struct{})
	rebuilt := make(chan error, 1)
	go func() {
		rebuilt <- x.Rebuild(context.Background(), func(yield func(*models.Child) error) error {
			<-release // Rebuild holds its lock until the test lets it go on
			return yield(foundKid(0))
		})
	}()
	for x.rebuildMu.TryRLock() { // wait until Rebuild holds the lock
		x.rebuildMu.RUnlock()
		time.Sleep(time.Millisecond)
	}
	const n = 16
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- x.Index(context.Background(), foundKid(1+i)) }()
	}
	close(release)
	if err := recvErr(t, rebuilt); err != nil {
		t.Fatal(err)
	}
	for range n {
		if err := recvErr(t, errs); err != nil {
			t.Fatal(err)
		}
	}
	if c, err := x.Count(); err != nil || c != n+1 {
		t.Errorf("count after the rebuild and the writes %d, %v; want %d", c, err, n+1)
	}

	// Writes racing Close either land before it or are refused.
	var wg sync.WaitGroup
	var landed, refused atomic.Int64
	for i := range 64 {
		wg.Go(func() {
			err := x.Index(context.Background(), foundKid(100+i))
			switch {
			case err == nil:
				landed.Add(1)
			case models.ErrorCode(err) == models.EUNAVAILABLE:
				refused.Add(1)
			default:
				t.Errorf("write racing Close: %v", err)
			}
		})
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if err := x.Delete(context.Background(), foundKid(0).ID); models.ErrorCode(err) != models.EUNAVAILABLE {
		t.Errorf("delete after Close: %v, want %s", err, models.EUNAVAILABLE)
	}
	y, err := OpenAttributeIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	want := uint64(n + 1 + landed.Load())
	if reason, err := y.OutOfDate(want); err != nil || reason != "" {
		t.Errorf("reopened with %d writes landed and %d refused: out of date %q, %v", landed.Load(), refused.Load(), reason, err)
	}
}

// TestManyWritersAtOnce is for the race detector: writers, deletes and
// searches at once, then every surviving record is found.
func TestManyWritersAtOnce(t *testing.T) {
	x, _ := attrOpen(t)
	const writers, each = 16, 10
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				id := w*each + i
				if err := x.Index(context.Background(), foundKid(id)); err != nil {
					t.Error(err)
					return
				}
				if i%2 == 1 { // delete every other record again
					if err := x.Delete(context.Background(), foundKid(id).ID); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		for range 20 {
			if _, err := x.Candidates(context.Background(), attrKid("q", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja"), 10); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	if c, err := x.Count(); err != nil || c != writers*each/2 {
		t.Errorf("count %d, %v; want %d", c, err, writers*each/2)
	}
}

// TestCrashLosingUnwrittenUpdatesIsOutOfDate: writes do not wait for the
// disk, so a crash may lose them, even an update that leaves the count as
// it was. The state on disk is "open" before the first write returns, so
// the next start still rebuilds.
func TestCrashLosingUnwrittenUpdatesIsOutOfDate(t *testing.T) {
	x, path := attrOpen(t)
	attrPut(t, x, attrKid("f-1", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Pooja"))
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	y, err := OpenAttributeIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	attrPut(t, y, attrKid("f-1", models.KindFound, models.SexFemale, "2022-01-01", 10, 10, "Geeta"))
	// Searchable at once, before it is on disk.
	attrExpect(t, attrSearch(t, y, attrKid("q", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Geeta"), 10), "f-1")
	// A crash: scorch stops without writing what it holds in memory.
	y.writes.stop()
	if err := y.idx.Close(); err != nil {
		t.Fatal(err)
	}
	y.idx = nil
	z, err := OpenAttributeIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	if reason, err := z.OutOfDate(1); err != nil || reason == "" {
		t.Errorf("after a crash: out of date %q, %v; want a reason, the update may be lost", reason, err)
	}
}

// TestCloseWritesEverythingToDisk: Close returns once every write is on
// disk, and the reopened index is clean and complete.
func TestCloseWritesEverythingToDisk(t *testing.T) {
	x, path := attrOpen(t)
	const n = 50
	for i := range n {
		attrPut(t, x, foundKid(i))
	}
	if err := x.Delete(context.Background(), foundKid(0).ID); err != nil {
		t.Fatal(err)
	}
	if err := x.Close(); err != nil {
		t.Fatal(err)
	}
	y, err := OpenAttributeIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	defer y.Close()
	if reason, err := y.OutOfDate(n - 1); err != nil || reason != "" {
		t.Errorf("reopened after Close: out of date %q, %v", reason, err)
	}
	hits := attrSearch(t, y, attrKid("q", models.KindMissing, models.SexFemale, "2022-01-01", 10, 10, "Pooja"), 100)
	if _, ok := hits[foundKid(0).ID]; ok || len(hits) != n-1 {
		t.Errorf("reopened: %d hits, deleted one found %v", len(hits), ok)
	}
}
