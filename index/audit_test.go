package index

import (
	"context"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

func TestAuditOrderingAndPaging(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{Clock: func() time.Time { return testTime.Add(time.Hour) }})
	ctx := context.Background()
	// Appended out of time order; two entries share a timestamp.
	offsets := []time.Duration{5, 1, 3, 3, 2, 4}
	for i, off := range offsets {
		_, err := s.AppendAudit(ctx, models.AuditEntry{At: testTime.Add(off * time.Second), KeyID: "k", Action: "read", Status: 200 + i})
		if err != nil {
			t.Fatal(err)
		}
	}
	defaulted, err := s.AppendAudit(ctx, models.AuditEntry{KeyID: "k", Action: "search"})
	if err != nil {
		t.Fatal(err)
	}
	if !defaulted.At.Equal(testTime.Add(time.Hour)) || !validID(defaulted.ID) {
		t.Fatalf("defaults: at %v id %q; want the store clock and a NewID", defaulted.At, defaulted.ID)
	}
	var all []models.AuditEntry
	cursor := ""
	for {
		page, next, err := s.ListAudit(ctx, time.Time{}, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			break
		}
		cursor = next
	}
	if len(all) != len(offsets)+1 {
		t.Fatalf("paged through %d entries, want %d", len(all), len(offsets)+1)
	}
	for i := 1; i < len(all); i++ {
		if all[i].At.Before(all[i-1].At) {
			t.Fatalf("entry %d at %v comes after one at %v", i, all[i].At, all[i-1].At)
		}
	}
	since, _, err := s.ListAudit(ctx, testTime.Add(3*time.Second), 10, "")
	if err != nil || len(since) != 5 || !since[0].At.Equal(testTime.Add(3*time.Second)) {
		t.Fatalf("since 3s: %d entries (%v), first %v; want 5 from 3s", len(since), err, since[0].At)
	}
	_, _, err = s.ListAudit(ctx, time.Time{}, 10, "bogus")
	wantCode(t, err, models.EINVALID)
}
