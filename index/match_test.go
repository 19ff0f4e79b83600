package index

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// matchFixture stores missing and found records and returns their ids.
func matchFixture(t *testing.T, s *Store, nMissing, nFound int) (missing, found []string) {
	t.Helper()
	ctx := context.Background()
	for i := range nMissing + nFound {
		kind := models.KindMissing
		if i >= nMissing {
			kind = models.KindFound
		}
		c := testChild(kind, "C", "")
		if err := s.PutChild(ctx, c); err != nil {
			t.Fatal(err)
		}
		if kind == models.KindMissing {
			missing = append(missing, c.ID)
		} else {
			found = append(found, c.ID)
		}
	}
	return missing, found
}

func TestListMatchesOrderAndCursor(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	missing, found := matchFixture(t, s, 3, 3)
	// Nine pairs; probabilities with ties, statuses mixed.
	probs := []float64{0.9, 0.5, 0.5, 0.1, 0.99, 0.5, 0, 0.75, 1}
	var all []models.Match
	for i, p := range probs {
		st := models.MatchNew
		if i%4 == 3 {
			st = models.MatchRejected
		}
		all = append(all, models.Match{MissingID: missing[i/3], FoundID: found[i%3], Probability: p, Status: st})
	}
	if err := s.PutMatches(ctx, all); err != nil {
		t.Fatal(err)
	}
	list := func(f models.MatchFilter) []string {
		var ids []string
		for page := 0; ; page++ {
			ms, next, err := s.ListMatches(ctx, f)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) > pageSize(f.Limit) {
				t.Fatalf("page of %d over limit %d", len(ms), f.Limit)
			}
			for _, m := range ms {
				ids = append(ids, fmt.Sprintf("%.2f %s", m.Probability, m.ID))
			}
			if next == "" {
				return ids
			}
			if page > 20 {
				t.Fatal("cursor does not advance")
			}
			f.Cursor = next
		}
	}
	want := func(keep func(models.Match) bool) []string {
		var ms []models.Match
		for _, m := range all {
			if keep(m) {
				m.ID = models.MatchID(m.MissingID, m.FoundID)
				ms = append(ms, m)
			}
		}
		// Best first, then by id: a plain insertion sort keeps the test obvious.
		for i := 1; i < len(ms); i++ {
			for j := i; j > 0 && (ms[j].Probability > ms[j-1].Probability ||
				ms[j].Probability == ms[j-1].Probability && ms[j].ID < ms[j-1].ID); j-- {
				ms[j], ms[j-1] = ms[j-1], ms[j]
			}
		}
		var ids []string
		for _, m := range ms {
			ids = append(ids, fmt.Sprintf("%.2f %s", m.Probability, m.ID))
		}
		return ids
	}
	check := func(name string, got, want []string) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s:\n got %v\nwant %v", name, got, want)
		}
	}
	everything := want(func(models.Match) bool { return true })
	for _, limit := range []int{1, 2, 4, 9, 100} {
		check(fmt.Sprintf("all, limit %d", limit), list(models.MatchFilter{Limit: limit}), everything)
	}
	check("new, limit 2", list(models.MatchFilter{Status: models.MatchNew, Limit: 2}),
		want(func(m models.Match) bool { return m.Status == models.MatchNew }))
	check("min 0.5, limit 2", list(models.MatchFilter{MinProbability: 0.5, Limit: 2}),
		want(func(m models.Match) bool { return m.Probability >= 0.5 }))
	check("new and min 0.75", list(models.MatchFilter{Status: models.MatchNew, MinProbability: 0.75, Limit: 3}),
		want(func(m models.Match) bool { return m.Status == models.MatchNew && m.Probability >= 0.75 }))

	// The last full page of an exact multiple has no next cursor.
	ms, next, err := s.ListMatches(ctx, models.MatchFilter{MinProbability: 0.9, Limit: 3})
	if err != nil || len(ms) != 3 || next != "" {
		t.Fatalf("exact page: %d matches, next %q, %v; want 3 and no cursor", len(ms), next, err)
	}

	// Re-scoring and deciding moves a match in the queues without duplicates.
	m := all[3]
	m.Probability, m.Status = 0.95, models.MatchConfirmed
	if err := s.PutMatch(ctx, m); err != nil {
		t.Fatal(err)
	}
	all[3] = m
	check("after update", list(models.MatchFilter{Limit: 4}), want(func(models.Match) bool { return true }))
	check("rejected after update", list(models.MatchFilter{Status: models.MatchRejected}),
		want(func(m models.Match) bool { return m.Status == models.MatchRejected }))

	for _, f := range []models.MatchFilter{{Cursor: "!!"}, {Cursor: "AAAA"}, {Status: "maybe"}, {MinProbability: math.NaN()}} {
		_, _, err := s.ListMatches(ctx, f)
		wantCode(t, err, models.EINVALID)
	}
}

func TestPutMatchChecksRecords(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	missing, found := matchFixture(t, s, 1, 1)
	wantCode(t, s.PutMatch(ctx, models.Match{MissingID: missing[0], FoundID: NewID(), Probability: 0.5, Status: models.MatchNew}), models.ENOTFOUND)
	wantCode(t, s.PutMatch(ctx, models.Match{MissingID: found[0], FoundID: missing[0], Probability: 0.5, Status: models.MatchNew}), models.EINVALID)
	wantCode(t, s.PutMatch(ctx, models.Match{MissingID: missing[0], FoundID: found[0], Probability: 1.5, Status: models.MatchNew}), models.EINVALID)
	wantCode(t, s.PutMatch(ctx, models.Match{ID: "x", MissingID: missing[0], FoundID: found[0], Probability: 0.5, Status: models.MatchNew}), models.EINVALID)
	wantCode(t, s.PutMatch(ctx, models.Match{MissingID: missing[0], FoundID: found[0], Probability: 0.5}), models.EINVALID)
	_, err := s.GetMatch(ctx, models.MatchID(missing[0], found[0]))
	wantCode(t, err, models.ENOTFOUND)
}

func TestMatchesForChildAndDelete(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	missing, found := matchFixture(t, s, 2, 2)
	created := testTime.Add(-time.Hour)
	for i, p := range []float64{0.3, 0.8, 0.6, 0.1} {
		m := models.Match{MissingID: missing[i/2], FoundID: found[i%2], Probability: p, Status: models.MatchNew, CreatedAt: created}
		if err := s.PutMatch(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := s.MatchesForChild(ctx, found[0])
	if err != nil || len(ms) != 2 || ms[0].Probability != 0.6 || ms[1].Probability != 0.3 {
		t.Fatalf("MatchesForChild(found0) = %+v, %v; want 0.6 then 0.3", ms, err)
	}
	if !ms[0].CreatedAt.Equal(created) || ms[0].UpdatedAt.IsZero() {
		t.Fatalf("timestamps: created %v updated %v", ms[0].CreatedAt, ms[0].UpdatedAt)
	}
	// A re-put without CreatedAt keeps the first one.
	again := ms[0]
	again.CreatedAt = time.Time{}
	again.Score = 3
	if err := s.PutMatch(ctx, again); err != nil {
		t.Fatal(err)
	}
	if got, err := s.GetMatch(ctx, again.ID); err != nil || !got.CreatedAt.Equal(created) || got.Score != 3 {
		t.Fatalf("after re-put: %+v, %v; want CreatedAt %v kept", got, err, created)
	}
	_, err = s.MatchesForChild(ctx, NewID())
	wantCode(t, err, models.ENOTFOUND)

	n, err := s.DeleteMatchesForChild(ctx, missing[0])
	if err != nil || n != 2 {
		t.Fatalf("DeleteMatchesForChild = %d, %v; want 2", n, err)
	}
	if ms, _ := s.MatchesForChild(ctx, found[0]); len(ms) != 1 || ms[0].MissingID != missing[1] {
		t.Fatalf("found0 after delete: %+v", ms)
	}
	if page, _, _ := s.ListMatches(ctx, models.MatchFilter{}); len(page) != 2 {
		t.Fatalf("queue after delete has %d matches, want 2", len(page))
	}
	if _, err := s.GetChild(ctx, missing[0]); err != nil {
		t.Fatalf("DeleteMatchesForChild removed the record: %v", err)
	}
}

// MergeMatchScores keeps a stored decision and status, writes a new match
// as new, removes an undecided match below dropBelow (a decided one stays),
// and skips a match whose record is gone.
func TestMergeMatchScoresKeepsDecisions(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	missing, found := matchFixture(t, s, 1, 4)
	id := func(i int) string { return models.MatchID(missing[0], found[i]) }
	if err := s.PutMatches(ctx, []models.Match{
		{MissingID: missing[0], FoundID: found[0], Probability: 0.5, Status: models.MatchNew},
		{MissingID: missing[0], FoundID: found[1], Probability: 0.5, Status: models.MatchNew},
	}); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := s.DecideMatch(ctx, id(0), models.Decision{Decision: models.MatchConfirmed, By: "k", At: at}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteChild(ctx, found[3]); err != nil {
		t.Fatal(err)
	}
	removed, err := s.MergeMatchScores(ctx, []models.Match{
		{MissingID: missing[0], FoundID: found[0], Probability: 0.01, Status: models.MatchRejected}, // decided: kept
		{MissingID: missing[0], FoundID: found[1], Probability: 0.01},                               // undecided, low: removed
		{MissingID: missing[0], FoundID: found[2], Probability: 0.9},                                // new
		{MissingID: missing[0], FoundID: found[3], Probability: 0.9},                                // record gone: skipped
	}, 0.2)
	if err != nil || removed != 1 {
		t.Fatalf("merge: removed %d, %v; want 1, nil", removed, err)
	}
	m0, err := s.GetMatch(ctx, id(0))
	if err != nil || m0.Status != models.MatchConfirmed || m0.Decision == nil || m0.Decision.By != "k" || m0.Probability != 0.01 {
		t.Errorf("decided match after merge: %+v, %v; want confirmed by k at the new probability", m0, err)
	}
	if _, err := s.GetMatch(ctx, id(1)); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("undecided match below the threshold: %v, want removed", err)
	}
	if m2, err := s.GetMatch(ctx, id(2)); err != nil || m2.Status != models.MatchNew || m2.Decision != nil {
		t.Errorf("new match: %+v, %v", m2, err)
	}
	if _, err := s.GetMatch(ctx, id(3)); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("match of a deleted record: %v, want none", err)
	}
	if _, err := s.DecideMatch(ctx, models.MatchID(missing[0], found[3]), models.Decision{Decision: models.MatchRejected, At: at}); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("decision on no match: %v, want %s", err, models.ENOTFOUND)
	}
}
