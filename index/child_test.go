package index

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"sync"
	"testing"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/trackmatch/trackmatch/models"
)

func TestGetChildUnknownIsNotFound(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	for _, id := range []string{NewID(), "", "a/b", "x~y"} {
		_, err := s.GetChild(ctx, id)
		wantCode(t, err, models.ENOTFOUND)
	}
	wantCode(t, s.DeleteChild(ctx, NewID()), models.ENOTFOUND)
}

func TestPutChildValidatesKeyFields(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	c := testChild(models.KindMissing, "A", "")
	c.ID = "bad/id"
	wantCode(t, s.PutChild(ctx, c), models.EINVALID)
	c = testChild("lost", "A", "")
	wantCode(t, s.PutChild(ctx, c), models.EINVALID)
	c = testChild(models.KindMissing, "A", "")
	if err := s.PutChild(ctx, c); err != nil {
		t.Fatal(err)
	}
	c.Kind = models.KindFound
	wantCode(t, s.PutChild(ctx, c), models.ECONFLICT)
}

func TestPutChildIgnoresPhotosAndKeepsThem(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	c := testChild(models.KindFound, "Meena", "")
	if err := s.PutChild(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.PutPhoto(ctx, testPhoto(c.ID, 1), []byte("jpeg")); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetChild(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	got.Names = []string{"Meena Devi"}
	got.Photos = append(got.Photos, testPhoto(c.ID, 9)) // ignored: photos go through PutPhoto
	if err := s.PutChild(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, err := s.GetChild(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if again.Names[0] != "Meena Devi" || len(again.Photos) != 1 || again.Photos[0].ID != got.Photos[0].ID {
		t.Fatalf("after update: names %v, %d photos; want the new name and the one stored photo", again.Names, len(again.Photos))
	}
}

func TestChildByExternalRefIsIdempotent(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	c := testChild(models.KindMissing, "Ravi", "FIR 101/2024 Patna")
	if _, err := s.ChildByExternalRef(ctx, models.KindMissing, c.ExternalRef); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("before create: %v, want ENOTFOUND", err)
	}
	if err := s.PutChild(ctx, c); err != nil {
		t.Fatal(err)
	}
	got, err := s.ChildByExternalRef(ctx, models.KindMissing, c.ExternalRef)
	if err != nil || got.ID != c.ID {
		t.Fatalf("ChildByExternalRef = %s, %v; want %s", got.ID, err, c.ID)
	}
	// Re-putting the same record is fine; another record with the ref is not.
	if err := s.PutChild(ctx, c); err != nil {
		t.Fatal(err)
	}
	dup := testChild(models.KindMissing, "Ravi", c.ExternalRef)
	wantCode(t, s.PutChild(ctx, dup), models.ECONFLICT)
	// The same reference on the other side is another namespace.
	other := testChild(models.KindFound, "Ravi", c.ExternalRef)
	if err := s.PutChild(ctx, other); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ChildByExternalRef(ctx, models.KindFound, c.ExternalRef); err != nil || got.ID != other.ID {
		t.Fatalf("found side: %s, %v; want %s", got.ID, err, other.ID)
	}
	// Changing the reference moves the entry.
	c.ExternalRef = "FIR 102/2024 Patna"
	if err := s.PutChild(ctx, c); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChildByExternalRef(ctx, models.KindMissing, "FIR 101/2024 Patna"); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("old ref after change: %v, want ENOTFOUND", err)
	}
	if got, err := s.ChildByExternalRef(ctx, models.KindMissing, c.ExternalRef); err != nil || got.ID != c.ID {
		t.Fatalf("new ref: %s, %v", got.ID, err)
	}
	if err := s.PutChild(ctx, dup); err != nil { // the old ref is free again
		t.Fatal(err)
	}
}

func TestConcurrentCreatesWithOneRefKeepOne(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.PutChild(ctx, testChild(models.KindFound, "Same", "CCI-1"))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch models.ErrorCode(err) {
		case "":
			ok++
		case models.ECONFLICT:
		default:
			t.Fatalf("unexpected error %v", err)
		}
	}
	if n, _ := s.CountChildren(ctx, ""); ok != 1 || n != 1 {
		t.Fatalf("%d creates succeeded and %d records exist; want 1 and 1", ok, n)
	}
}

// TestDeleteChildRemovesEverything deletes a child with photos, matches and
// an external reference, then checks every API and every raw key and value.
func TestDeleteChildRemovesEverything(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	gone := testChild(models.KindMissing, "Tanvi Gone", "FIR-DELETE-1")
	kept := testChild(models.KindFound, "Kept Child", "CCI-KEEP-1")
	kept2 := testChild(models.KindFound, "Kept Too", "")
	keptMissing := testChild(models.KindMissing, "Kept Missing", "")
	for _, c := range []models.Child{gone, kept, kept2, keptMissing} {
		if err := s.PutChild(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	p1, p2 := testPhoto(gone.ID, 1), testPhoto(gone.ID, 2)
	for _, p := range []models.Photo{p1, p2} {
		if err := s.PutPhoto(ctx, p, randomBytes(t, photoChunkSize+10)); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutPhoto(ctx, testPhoto(kept.ID, 3), []byte("kept photo")); err != nil {
		t.Fatal(err)
	}
	for _, m := range []models.Match{
		{MissingID: gone.ID, FoundID: kept.ID, Probability: 0.7, Status: models.MatchNew},
		{MissingID: gone.ID, FoundID: kept2.ID, Probability: 0.2, Status: models.MatchRejected},
		{MissingID: keptMissing.ID, FoundID: kept.ID, Probability: 0.5, Status: models.MatchNew},
	} {
		if err := s.PutMatch(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteChild(ctx, gone.ID); err != nil {
		t.Fatal(err)
	}

	_, err := s.GetChild(ctx, gone.ID)
	wantCode(t, err, models.ENOTFOUND)
	_, err = s.ChildByExternalRef(ctx, models.KindMissing, gone.ExternalRef)
	wantCode(t, err, models.ENOTFOUND)
	for _, p := range []models.Photo{p1, p2} {
		_, _, err = s.PhotoBytes(ctx, p.ID)
		wantCode(t, err, models.ENOTFOUND)
		_, err = s.GetPhoto(ctx, p.ID)
		wantCode(t, err, models.ENOTFOUND)
	}
	_, err = s.GetMatch(ctx, models.MatchID(gone.ID, kept.ID))
	wantCode(t, err, models.ENOTFOUND)
	ms, err := s.MatchesForChild(ctx, kept.ID)
	if err != nil || len(ms) != 1 || ms[0].MissingID != keptMissing.ID {
		t.Fatalf("MatchesForChild(kept) = %v, %v; want only the match with the kept missing child", ms, err)
	}
	page, _, err := s.ListMatches(ctx, models.MatchFilter{})
	if err != nil || len(page) != 1 {
		t.Fatalf("ListMatches = %v, %v; want 1", page, err)
	}
	page, _, err = s.ListMatches(ctx, models.MatchFilter{Status: models.MatchRejected})
	if err != nil || len(page) != 0 {
		t.Fatalf("ListMatches(rejected) = %v, %v; want none", page, err)
	}
	if err := s.ForEachDescriptor(ctx, func(childID, _ string, _ int, _ models.Kind, _ models.Descriptor, _ models.Date) error {
		if childID == gone.ID {
			t.Error("ForEachDescriptor yields a deleted child's descriptor")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if ids, _ := s.ListChildIDs(ctx, ""); len(ids) != 3 {
		t.Fatalf("ListChildIDs = %v; want the 3 kept records", ids)
	}

	// No key or value anywhere still names the child, its photos or its name.
	for _, n := range []string{gone.ID, p1.ID, p2.ID, gone.Names[0], gone.ExternalRef} {
		if keys := rawKeysContaining(t, s, n); len(keys) > 0 {
			t.Errorf("%q is still in the entries %q", n, keys)
		}
	}
}

// rawKeysContaining returns every live key whose key or value contains needle.
func rawKeysContaining(t *testing.T, s *Store, needle string) []string {
	t.Helper()
	var hits []string
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: true})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			k := it.Item().Key()
			v, err := it.Item().ValueCopy(nil)
			if err != nil {
				return err
			}
			if bytes.Contains(k, []byte(needle)) || bytes.Contains(v, []byte(needle)) {
				hits = append(hits, string(k))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// TestWritesCannotOutliveDeleteChild races match and photo writes against
// the deletion of their child: nothing may survive its child.
func TestWritesCannotOutliveDeleteChild(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{unsyncedWrites: true})
	ctx := context.Background()
	found := testChild(models.KindFound, "F", "")
	if err := s.PutChild(ctx, found); err != nil {
		t.Fatal(err)
	}
	for range 20 {
		miss := testChild(models.KindMissing, "M", "")
		if err := s.PutChild(ctx, miss); err != nil {
			t.Fatal(err)
		}
		photo := testPhoto(miss.ID, 1)
		var wg sync.WaitGroup
		wg.Add(3)
		go func() {
			defer wg.Done()
			err := s.PutPhoto(ctx, photo, []byte("img"))
			if err != nil && models.ErrorCode(err) != models.ENOTFOUND {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			err := s.PutMatch(ctx, models.Match{MissingID: miss.ID, FoundID: found.ID, Probability: 0.5, Status: models.MatchNew})
			if err != nil && models.ErrorCode(err) != models.ENOTFOUND {
				t.Error(err)
			}
		}()
		go func() {
			defer wg.Done()
			if err := s.DeleteChild(ctx, miss.ID); err != nil {
				t.Error(err)
			}
		}()
		wg.Wait()
		if _, err := s.GetMatch(ctx, models.MatchID(miss.ID, found.ID)); models.ErrorCode(err) != models.ENOTFOUND {
			t.Fatalf("match of a deleted child: %v", err)
		}
		if _, err := s.GetPhoto(ctx, photo.ID); models.ErrorCode(err) != models.ENOTFOUND {
			t.Fatalf("photo of a deleted child: %v", err)
		}
		if keys := rawKeysContaining(t, s, miss.ID); len(keys) > 0 {
			t.Fatalf("keys of a deleted child: %q", keys)
		}
	}
	ms, err := s.MatchesForChild(ctx, found.ID)
	if err != nil || len(ms) != 0 {
		t.Fatalf("found child still has %d matches (%v)", len(ms), err)
	}
}

func TestForEachChildPagesAndFilters(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{unsyncedWrites: true})
	ctx := context.Background()
	var missing, found []string
	for i := range childPageSize*2 + 7 { // three pages
		kind := models.KindMissing
		if i%3 == 0 {
			kind = models.KindFound
		}
		c := testChild(kind, "C", "")
		if err := s.PutChild(ctx, c); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			if err := s.PutPhoto(ctx, testPhoto(c.ID, float32(i)), []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		if kind == models.KindMissing {
			missing = append(missing, c.ID)
		} else {
			found = append(found, c.ID)
		}
	}
	var seen []string
	photos := 0
	err := s.ForEachChild(ctx, models.KindMissing, func(c models.Child) error {
		if c.Kind != models.KindMissing {
			t.Fatalf("kind filter let %s through", c.Kind)
		}
		for _, p := range c.Photos {
			if p.ChildID != c.ID {
				t.Fatalf("child %s got photo of %s", c.ID, p.ChildID)
			}
		}
		photos += len(c.Photos)
		seen = append(seen, c.ID)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(seen, sortedCopy(missing)) {
		t.Fatalf("ForEachChild(missing) saw %d ids, want %d in id order", len(seen), len(missing))
	}
	if photos == 0 {
		t.Fatal("ForEachChild returned no photos")
	}
	ids, err := s.ListChildIDs(ctx, models.KindFound)
	if err != nil || !slices.Equal(ids, sortedCopy(found)) {
		t.Fatalf("ListChildIDs(found) = %d ids, %v; want %d", len(ids), err, len(found))
	}
	if n, _ := s.CountChildren(ctx, ""); n != len(missing)+len(found) {
		t.Fatalf("CountChildren = %d, want %d", n, len(missing)+len(found))
	}
	stop := errors.New("stop")
	calls := 0
	err = s.ForEachChild(ctx, "", func(models.Child) error { calls++; return stop })
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("ForEachChild after fn error: %v after %d calls", err, calls)
	}
}

func sortedCopy(s []string) []string {
	c := slices.Clone(s)
	slices.Sort(c)
	return c
}
