package index

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

func listIDs(cs []models.Child) []string {
	var ids []string
	for _, c := range cs {
		ids = append(ids, c.ID)
	}
	return ids
}

func TestListChildrenFiltersAndPages(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	var all []models.Child
	for i, spec := range []struct {
		kind     models.Kind
		state    string
		status   models.Status
		ref      string
		daysLate int
	}{
		{models.KindMissing, "Bihar", models.StatusOpen, "M-1", 0},
		{models.KindFound, "Kerala", models.StatusOpen, "F-1", 1},
		{models.KindMissing, "Kerala", models.StatusMatched, "M-2", 2},
		{models.KindFound, "Bihar", models.StatusClosed, "", 3},
		{models.KindMissing, "Bihar", models.StatusOpen, "M-3", 4},
	} {
		c := testChild(spec.kind, "Asha", spec.ref)
		c.ID = fmt.Sprintf("child%02d", i) // NewID orders by creation only to the millisecond
		c.Place.State, c.Status = spec.state, spec.status
		c.CreatedAt = testTime.AddDate(0, 0, spec.daysLate)
		c.UpdatedAt = c.CreatedAt.Add(time.Duration(i) * time.Hour)
		if err := s.PutChild(ctx, c); err != nil {
			t.Fatal(err)
		}
		all = append(all, c)
	}
	if err := s.PutPhoto(ctx, testPhoto(all[0].ID, 0.1), []byte("jpeg")); err != nil {
		t.Fatal(err)
	}
	id := func(is ...int) []string {
		var out []string
		for _, i := range is {
			out = append(out, all[i].ID)
		}
		return out
	}
	for _, c := range []struct {
		name string
		f    models.ChildFilter
		want []string
	}{
		{"all", models.ChildFilter{}, id(0, 1, 2, 3, 4)},
		{"kind", models.ChildFilter{Kind: models.KindFound}, id(1, 3)},
		{"status", models.ChildFilter{Status: models.StatusOpen}, id(0, 1, 4)},
		{"state any case", models.ChildFilter{State: "bihar"}, id(0, 3, 4)},
		{"district", models.ChildFilter{District: "PATNA", Kind: models.KindMissing, State: "Kerala"}, id(2)},
		{"district mismatch", models.ChildFilter{District: "Gaya"}, nil},
		{"created since", models.ChildFilter{CreatedSince: testTime.AddDate(0, 0, 3)}, id(3, 4)},
		{"updated since", models.ChildFilter{UpdatedSince: testTime.AddDate(0, 0, 2).Add(2 * time.Hour)}, id(2, 3, 4)},
		{"external ref, either kind", models.ChildFilter{ExternalRef: "M-2"}, id(2)},
		{"external ref, other kind", models.ChildFilter{ExternalRef: "M-2", Kind: models.KindFound}, nil},
		{"external ref and status", models.ChildFilter{ExternalRef: "M-2", Status: models.StatusOpen}, nil},
	} {
		got, next, err := s.ListChildren(ctx, c.f)
		if err != nil || next != "" || !slices.Equal(listIDs(got), c.want) {
			t.Errorf("%s: %v next %q err %v, want %v", c.name, listIDs(got), next, err, c.want)
		}
	}
	got, _, _ := s.ListChildren(ctx, models.ChildFilter{ExternalRef: "M-1"})
	if len(got) != 1 || len(got[0].Photos) != 1 {
		t.Errorf("listed records come with their photos: %+v", got)
	}

	// Pages of two, then the bound on records examined per page.
	var seen []string
	f := models.ChildFilter{Limit: 2}
	for {
		page, next, err := s.ListChildren(ctx, f)
		if err != nil || len(page) > 2 {
			t.Fatalf("page: %d records, %v", len(page), err)
		}
		seen = append(seen, listIDs(page)...)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	if !slices.Equal(seen, id(0, 1, 2, 3, 4)) {
		t.Errorf("pages gave %v", seen)
	}
	s.childScan = 2
	f = models.ChildFilter{Kind: models.KindFound, State: "Bihar"}
	page, next, err := s.ListChildren(ctx, f)
	if err != nil || len(page) != 0 || next == "" {
		t.Fatalf("first bounded page: %v next %q err %v; want empty with a cursor (records 0 and 1 examined)", listIDs(page), next, err)
	}
	f.Cursor = next
	if page, next, _ = s.ListChildren(ctx, f); !slices.Equal(listIDs(page), id(3)) || next == "" {
		t.Errorf("second bounded page: %v next %q, want %v and a cursor", listIDs(page), next, id(3))
	}
	f.Cursor = next
	if page, next, _ = s.ListChildren(ctx, f); len(page) != 0 || next != "" {
		t.Errorf("last bounded page: %v next %q", listIDs(page), next)
	}

	for _, f := range []models.ChildFilter{{Cursor: "!!"}, {Cursor: "AAAA/"}, {Kind: "both"}} {
		_, _, err := s.ListChildren(ctx, f)
		wantCode(t, err, models.EINVALID)
	}
}

func TestDecisionHistory(t *testing.T) {
	ctx := context.Background()
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	m1, f1, m2 := testChild(models.KindMissing, "A", "M1"), testChild(models.KindFound, "B", "F1"), testChild(models.KindMissing, "C", "M2")
	for _, c := range []models.Child{m1, f1, m2} {
		if err := s.PutChild(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	put := func(missing string, d *models.Decision) models.Match {
		t.Helper()
		m := models.Match{MissingID: missing, FoundID: f1.ID, Probability: 0.5, Status: models.MatchNew, Decision: d}
		if d != nil {
			m.Status = d.Decision
		}
		if err := s.PutMatch(ctx, m); err != nil {
			t.Fatal(err)
		}
		m.ID = models.MatchID(missing, f1.ID)
		return m
	}
	put(m1.ID, nil) // no decision: no history
	d1 := &models.Decision{Decision: models.MatchRejected, Note: "no", By: "k1", At: testTime}
	d2 := &models.Decision{Decision: models.MatchConfirmed, Note: "yes", By: "k2", At: testTime.Add(time.Hour)}
	put(m1.ID, d1)
	put(m1.ID, d1) // a re-scorer carrying the decision over adds nothing
	put(m1.ID, d2)
	put(m2.ID, &models.Decision{Decision: models.MatchConfirmed, By: "k1", At: testTime.Add(30 * time.Minute)})

	all, next, err := s.ListDecisions(ctx, models.DecisionFilter{})
	if err != nil || next != "" || len(all) != 3 {
		t.Fatalf("history: %+v next %q err %v", all, next, err)
	}
	if all[0].Decision != *d1 || all[0].MatchID != models.MatchID(m1.ID, f1.ID) || all[1].MissingID != m2.ID || all[2].Decision != *d2 {
		t.Errorf("history out of order or wrong: %+v", all)
	}
	var paged []models.DecisionRecord
	f := models.DecisionFilter{Limit: 1}
	for {
		page, next, err := s.ListDecisions(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		paged = append(paged, page...)
		if next == "" {
			break
		}
		f.Cursor = next
	}
	if len(paged) != 3 || paged[2].Decision != *d2 {
		t.Errorf("pages of one: %+v", paged)
	}
	if since, _, _ := s.ListDecisions(ctx, models.DecisionFilter{Since: testTime.Add(time.Minute)}); len(since) != 2 || since[0].MissingID != m2.ID {
		t.Errorf("since: %+v", since)
	}
	_, _, err = s.ListDecisions(ctx, models.DecisionFilter{Cursor: "x"})
	wantCode(t, err, models.EINVALID)

	// Deleting a match, or a record, takes its decisions with it.
	if err := s.DeleteMatch(ctx, models.MatchID(m2.ID, f1.ID)); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.DeleteMatch(ctx, models.MatchID(m2.ID, f1.ID)), models.ENOTFOUND)
	if _, err := s.GetMatch(ctx, models.MatchID(m2.ID, f1.ID)); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("match after DeleteMatch: %v", err)
	}
	if left, _, _ := s.ListDecisions(ctx, models.DecisionFilter{}); len(left) != 2 {
		t.Errorf("after DeleteMatch: %+v", left)
	}
	if q, _, _ := s.ListMatches(ctx, models.MatchFilter{}); len(q) != 1 {
		t.Errorf("queue after DeleteMatch: %d matches, want 1", len(q))
	}
	if err := s.DeleteChild(ctx, m1.ID); err != nil {
		t.Fatal(err)
	}
	if left, _, _ := s.ListDecisions(ctx, models.DecisionFilter{}); len(left) != 0 {
		t.Errorf("after DeleteChild: %+v", left)
	}
	if keys := rawKeysContaining(t, s, m1.ID); len(keys) != 0 {
		t.Errorf("keys naming the deleted record remain: %q", keys)
	}
}

// BenchmarkListChildren compares a portal's lookup by external_ref (the
// x/ index) against finding the same record by a filter that only a scan
// answers (district), and a first page with no filter, over 10k records.
// Compare the sub-benchmarks as ratios of one run.
func BenchmarkListChildren(b *testing.B) {
	ctx := context.Background()
	s := openTestStore(b, b.TempDir(), StoreOptions{})
	const n = 10000
	cs := make([]models.Child, n)
	for i := range cs {
		cs[i] = testChild(models.KindFound, "Asha", fmt.Sprintf("REF-%05d", i))
		cs[i].ID = fmt.Sprintf("child%05d", i)
	}
	cs[n-1].Place.District = "Kochi"
	if err := s.PutChildren(ctx, cs); err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct {
		name string
		f    models.ChildFilter
		want int
	}{
		{"external_ref", models.ChildFilter{Kind: models.KindFound, ExternalRef: fmt.Sprintf("REF-%05d", n-1)}, 1},
		{"district_scan", models.ChildFilter{District: "Kochi", Limit: 1}, 1},
		{"first_page_50", models.ChildFilter{Limit: 50}, 50},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				f := c.f
				got := 0
				for {
					page, next, err := s.ListChildren(ctx, f)
					if err != nil {
						b.Fatal(err)
					}
					got += len(page)
					if next == "" || got >= c.want {
						break
					}
					f.Cursor = next
				}
				if got != c.want {
					b.Fatalf("%d records, want %d", got, c.want)
				}
			}
		})
	}
}
