package main

// Crash safety: the real server is killed with SIGKILL while several
// clients ingest records and photos and delete some, then restarted; every
// acknowledged write must be there, every acknowledged delete gone, and the
// Bleve and vector indexes must agree with Badger (the store is the source
// of truth; openApp rebuilds Bleve when it was not closed cleanly and the
// vector index at every start).
//
// Size: TRACKMATCH_CRASH_RECORDS records (default 1500) over
// TRACKMATCH_CRASH_KILLS kills (default 3), one record in 25 with a photo.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2"

	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// crashPeople are the identities whose first photo the workload uploads;
// small PNGs (150×150) that HOG finds a face in at the first step.
var crashPeople = []string{"amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"}

// envInt reads a positive integer from the environment, or def.
func envInt(t testing.TB, key string, def int) int {
	t.Helper()
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		t.Fatalf("%s=%q: want a positive integer", key, v)
	}
	return n
}

// crashRecord is what the clients were told about one record.
type crashRecord struct {
	id, name string
	kind     models.Kind
	person   string   // whose photo was acknowledged; "" for none
	photos   []string // acknowledged photo ids
	deleted  bool     // a delete was acknowledged (204)
	pending  bool     // a delete is in flight or was cut off: either outcome is right
	owner    int      // the client that may delete it
	seq      int
}

// crashWorkload is the shared ledger of acknowledged writes.
type crashWorkload struct {
	mu      sync.Mutex
	recs    map[string]*crashRecord
	byOwner map[int][]*crashRecord
	seq     atomic.Int64 // records attempted
	acked   atomic.Int64 // creates acknowledged
	photos  map[string][]byte
}

// crashName is a name no other record of the run has: two tokens of three
// consonant-vowel syllables, both derived from seq.
func crashName(seq int) string {
	const cons, vows = "bdfgklmnprstvz", "aeiou"
	syl := func(n int) string {
		var b strings.Builder
		for range 3 {
			s := n % (len(cons) * len(vows))
			n /= len(cons) * len(vows)
			b.WriteByte(cons[s/len(vows)])
			b.WriteByte(vows[s%len(vows)])
		}
		return b.String()
	}
	cap := func(s string) string { return strings.ToUpper(s[:1]) + s[1:] }
	return cap(syl(seq)) + " " + cap(syl((seq*7919+13)%343000))
}

// TestCrashSafety ingests records from several clients and kills the server
// at random moments, checking after each restart that every acknowledged
// write survived, every acknowledged delete stayed deleted, and that the
// indexes agree with the store, both through the API and by opening the
// data folder offline after a clean stop.
func TestCrashSafety(t *testing.T) {
	faces := sharedDir(t, "faces")
	records := envInt(t, "TRACKMATCH_CRASH_RECORDS", 1500)
	kills := envInt(t, "TRACKMATCH_CRASH_KILLS", 3)
	const clients, photoEvery, deleteEvery = 8, 25, 10
	seed := uint64(time.Now().UnixNano())
	t.Logf("records=%d kills=%d clients=%d seed=%d", records, kills, clients, seed)
	rng := rand.New(rand.NewPCG(seed, 1))

	portal, reader := newKeyRing("portal", 4*clients), newKeyRing("investigator", 4*clients)
	s := startServer(t, serverOptions{Env: []string{keysEnv(portal, reader)}})
	w := &crashWorkload{recs: map[string]*crashRecord{}, byOwner: map[int][]*crashRecord{}, photos: map[string][]byte{}}
	for _, p := range crashPeople {
		b, err := os.ReadFile(filepath.Join(faces, p, p+"1.png"))
		if err != nil {
			t.Fatal(err)
		}
		w.photos[p] = b
	}

	start := time.Now()
	for k := range kills {
		phaseEnd := int64(records * (k + 1) / kills)
		phaseStart := w.acked.Load()
		killAt := phaseStart + (phaseEnd-phaseStart)/2 + rng.Int64N((phaseEnd-phaseStart)/2+1)
		var killed atomic.Bool
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for c := range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				w.client(ctx, t, s, c, rand.New(rand.NewPCG(seed, uint64(100*k+c+2))), portal, &killed, photoEvery, deleteEvery)
			}()
		}
		for w.acked.Load() < killAt && !t.Failed() {
			time.Sleep(5 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(100)) * time.Millisecond)
		if s.exited() {
			t.Fatalf("the server exited on its own before kill %d\n%s", k+1, s.Logs())
		}
		killed.Store(true)
		s.Kill()
		cancel()
		wg.Wait()
		t.Logf("kill %d after %d acknowledged creates (%.0fs in)", k+1, w.acked.Load(), time.Since(start).Seconds())
		s.start(modelsDir(t))
		if !strings.Contains(s.Logs(), "rebuilding attribute index from the store") {
			t.Errorf("kill %d: the attribute index was not rebuilt after a crash\n%s", k+1, s.Logs())
		}
		w.verify(t, s, reader, rng, fmt.Sprintf("after kill %d", k+1))
		s.Stop()
		w.verifyOffline(t, s.opts.Data, nil, fmt.Sprintf("after kill %d", k+1))
		s.start(modelsDir(t))
	}

	// One more kill, during start-up: while the store is opened, the index
	// rebuilt or the models loaded. A crash mid-rebuild must leave an index
	// the next start rebuilds again.
	s.Kill()
	killDuringStartup(t, s, time.Duration(100+rng.IntN(900))*time.Millisecond)
	s.start(modelsDir(t))
	w.verify(t, s, reader, rng, "after a kill during start-up")
	s.Stop()
	w.verifyOffline(t, s.opts.Data, nil, "after a kill during start-up")

	var alive, deleted, pending, photos int
	for _, r := range w.recs {
		switch {
		case r.pending:
			pending++
		case r.deleted:
			deleted++
		default:
			alive++
			photos += len(r.photos)
		}
	}
	t.Logf("survived %d kills (+1 during start-up) in %.0fs: %d records acknowledged alive (%d photos), %d deletes acknowledged, %d deletes cut off",
		kills, time.Since(start).Seconds(), alive, photos, deleted, pending)
}

// client runs one portal client until ctx ends or the server goes away:
// create a record; one in photoEvery gets a photo (a quarter of those race
// a delete of the same record); one step in deleteEvery deletes one of its
// own earlier records instead.
func (w *crashWorkload) client(ctx context.Context, t *testing.T, s *server, c int, rng *rand.Rand, keys *keyRing, killed *atomic.Bool, photoEvery, deleteEvery int) {
	gone := func(err error) bool {
		if err == nil {
			return false
		}
		if !killed.Load() && ctx.Err() == nil {
			t.Errorf("client %d: request failed while the server should be up: %v", c, err)
		}
		return true
	}
	for ctx.Err() == nil {
		if rng.IntN(deleteEvery) == 0 {
			if r := w.pickOwn(c, rng); r != nil {
				if gone(w.delete(ctx, t, s, keys, r)) {
					return
				}
				continue
			}
		}
		seq := int(w.seq.Add(1))
		kind := models.KindMissing
		if seq%2 == 0 || seq%photoEvery == 0 {
			kind = models.KindFound
		}
		rec := &crashRecord{name: crashName(seq), kind: kind, owner: c, seq: seq}
		body, _ := json.Marshal(map[string]any{"kind": kind, "names": []string{rec.name},
			"external_ref": fmt.Sprintf("CRASH-%d", seq)})
		resp, err := retry429(ctx, func() (response, error) {
			return s.Try(ctx, "POST", "/v1/children", keys.Next(), "application/json", bytes.NewReader(body))
		})
		if gone(err) {
			return
		}
		if resp.Status != http.StatusCreated {
			t.Errorf("create: %d %s", resp.Status, resp.Body)
			return
		}
		var got struct{ ID string }
		if err := json.Unmarshal(resp.Body, &got); err != nil || got.ID == "" {
			t.Errorf("create answered %s", resp.Body)
			return
		}
		rec.id = got.ID
		w.mu.Lock()
		w.recs[rec.id] = rec
		w.mu.Unlock()
		w.acked.Add(1)
		if seq%photoEvery != 0 {
			w.mu.Lock()
			w.byOwner[c] = append(w.byOwner[c], rec)
			w.mu.Unlock()
			continue
		}
		person := crashPeople[(seq/photoEvery)%len(crashPeople)]
		race := rng.IntN(4) == 0
		var delErr error
		var dwg sync.WaitGroup
		if race {
			w.mu.Lock()
			rec.pending = true
			w.mu.Unlock()
			wait := time.Duration(rng.IntN(150)) * time.Millisecond
			dwg.Add(1)
			go func() {
				defer dwg.Done()
				time.Sleep(wait)
				delErr = w.delete(ctx, t, s, keys, rec)
			}()
		}
		pb, ct := multipartBody(t, part{Name: "photo", Filename: person + ".png", Data: w.photos[person]})
		resp, err = retry429(ctx, func() (response, error) {
			return s.Try(ctx, "POST", "/v1/children/"+rec.id+"/photos", keys.Next(), ct, bytes.NewReader(pb))
		})
		dwg.Wait()
		if gone(err) || gone(delErr) {
			return
		}
		switch {
		case resp.Status == http.StatusCreated:
			var ph struct {
				PhotoID string `json:"photo_id"`
			}
			if err := json.Unmarshal(resp.Body, &ph); err != nil || ph.PhotoID == "" {
				t.Errorf("photo upload answered %s", resp.Body)
				return
			}
			w.mu.Lock()
			rec.photos, rec.person = append(rec.photos, ph.PhotoID), person
			w.mu.Unlock()
		case race && resp.Status == http.StatusNotFound:
			// the delete came first
		default:
			t.Errorf("photo upload: %d %s", resp.Status, resp.Body)
			return
		}
		if !race {
			w.mu.Lock()
			w.byOwner[c] = append(w.byOwner[c], rec)
			w.mu.Unlock()
		}
	}
}

// pickOwn returns a random live record of client c, or nil.
func (w *crashWorkload) pickOwn(c int, rng *rand.Rand) *crashRecord {
	w.mu.Lock()
	defer w.mu.Unlock()
	own := w.byOwner[c]
	if len(own) == 0 {
		return nil
	}
	i := rng.IntN(len(own))
	r := own[i]
	w.byOwner[c] = slices.Delete(own, i, i+1)
	r.pending = true
	return r
}

// delete deletes r and records the outcome; a transport error leaves it
// pending (the delete may or may not have been committed).
func (w *crashWorkload) delete(ctx context.Context, t *testing.T, s *server, keys *keyRing, r *crashRecord) error {
	resp, err := retry429(ctx, func() (response, error) {
		return s.Try(ctx, "DELETE", "/v1/children/"+r.id, keys.Next(), "", nil)
	})
	if err != nil {
		return err
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	switch resp.Status {
	case http.StatusNoContent:
		r.deleted, r.pending = true, false
	default:
		t.Errorf("delete %s: %d %s", r.id, resp.Status, resp.Body)
	}
	return nil
}

// retry429 repeats a request the rate limiter refused.
func retry429(ctx context.Context, do func() (response, error)) (response, error) {
	for {
		r, err := do()
		if err != nil || r.Status != http.StatusTooManyRequests {
			return r, err
		}
		select {
		case <-ctx.Done():
			return r, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// verify checks the restarted server against the ledger through the API:
// every acknowledged record reads back with its acknowledged photos, every
// acknowledged delete is 404; a name search finds the most recent
// acknowledged records (the ones a crash would lose from Bleve) and a
// sample of the rest, and a photo search finds every live record with that
// photo (the vector index was rebuilt from Badger).
func (w *crashWorkload) verify(t *testing.T, s *server, keys *keyRing, rng *rand.Rand, when string) {
	t.Helper()
	ctx := context.Background()
	w.mu.Lock()
	var all []*crashRecord
	for _, r := range w.recs {
		all = append(all, r)
	}
	w.mu.Unlock()
	slices.SortFunc(all, func(a, b *crashRecord) int { return a.seq - b.seq })

	var failures atomic.Int64
	fail := func(format string, args ...any) {
		if failures.Add(1) <= 20 {
			t.Errorf(when+": "+format, args...)
		}
	}
	jobs := make(chan *crashRecord)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range jobs {
				resp, err := retry429(ctx, func() (response, error) {
					return s.Try(ctx, "GET", "/v1/children/"+r.id, keys.Next(), "", nil)
				})
				if err != nil {
					fail("GET %s: %v", r.id, err)
					continue
				}
				switch {
				case r.pending:
					if resp.Status != http.StatusOK && resp.Status != http.StatusNotFound {
						fail("GET %s (delete cut off): %d %s", r.id, resp.Status, resp.Body)
					}
				case r.deleted:
					if resp.Status != http.StatusNotFound {
						fail("record %s was deleted (204) but GET gives %d %s", r.id, resp.Status, resp.Body)
					}
				default:
					if resp.Status != http.StatusOK {
						fail("acknowledged record %s: GET %d %s", r.id, resp.Status, resp.Body)
						continue
					}
					var got struct {
						Names  []string
						Photos []struct{ ID string }
					}
					if err := json.Unmarshal(resp.Body, &got); err != nil {
						fail("GET %s: %v", r.id, err)
						continue
					}
					if !slices.Equal(got.Names, []string{r.name}) {
						fail("record %s names %q, want %q", r.id, got.Names, r.name)
					}
					for _, p := range r.photos {
						if !slices.ContainsFunc(got.Photos, func(g struct{ ID string }) bool { return g.ID == p }) {
							fail("record %s lost acknowledged photo %s", r.id, p)
						}
					}
				}
			}
		}()
	}
	for _, r := range all {
		jobs <- r
	}
	close(jobs)
	wg.Wait()

	// Name searches: the last records acknowledged before the crash, a
	// random sample of the rest, and deleted ones (which must not appear).
	var live, dead []*crashRecord
	for _, r := range all {
		switch {
		case r.deleted:
			dead = append(dead, r)
		case !r.pending:
			live = append(live, r)
		}
	}
	sample := live[max(0, len(live)-80):]
	for range 80 {
		if len(live) > 0 {
			sample = append(sample, live[rng.IntN(len(live))])
		}
	}
	for _, r := range sample {
		if ids := w.search(t, s, keys, r.kind.Other(), r.name, "", 10); !slices.Contains(ids, r.id) {
			fail("name search for acknowledged record %s (seq %d) does not find it: %v", r.id, r.seq, ids)
		}
	}
	for i, r := range dead {
		if i == 40 {
			break
		}
		if ids := w.search(t, s, keys, r.kind.Other(), r.name, "", 10); slices.Contains(ids, r.id) {
			fail("name search finds deleted record %s", r.id)
		}
	}
	// Photo searches: every live record with person's photo, none deleted.
	for _, p := range crashPeople {
		ids := w.search(t, s, keys, models.KindMissing, "", p, 100)
		for _, r := range all {
			if r.person != p {
				continue
			}
			switch in := slices.Contains(ids, r.id); {
			case !r.deleted && !r.pending && !in:
				fail("photo search for %s does not find record %s with its acknowledged photo", p, r.id)
			case r.deleted && in:
				fail("photo search for %s finds deleted record %s", p, r.id)
			}
		}
	}
	t.Logf("%s: checked %d records by id, %d name searches, %d photo searches; %d failures",
		when, len(all), len(sample)+min(len(dead), 40), len(crashPeople), failures.Load())
}

// search runs /v1/search for a query of kind with one name or one
// person's photo and returns the candidate ids.
func (w *crashWorkload) search(t *testing.T, s *server, keys *keyRing, kind models.Kind, name, person string, limit int) []string {
	t.Helper()
	q := map[string]any{"kind": kind}
	if name != "" {
		q["names"] = []string{name}
	}
	parts := []part{queryPart(t, q)}
	if person != "" {
		parts = append(parts, part{Name: "photo", Filename: person + ".png", Data: w.photos[person]})
	}
	body, ct := multipartBody(t, parts...)
	ctx := context.Background()
	resp, err := retry429(ctx, func() (response, error) {
		return s.Try(ctx, "POST", fmt.Sprintf("/v1/search?limit=%d", limit), keys.Next(), ct, bytes.NewReader(body))
	})
	if err != nil || resp.Status != http.StatusOK {
		t.Errorf("search: %v %d %s", err, resp.Status, resp.Body)
		return nil
	}
	var res struct{ Candidates []struct{ ID string } }
	resp.JSON(t, &res)
	ids := make([]string, len(res.Candidates))
	for i, c := range res.Candidates {
		ids[i] = c.ID
	}
	return ids
}

// verifyOffline opens the stopped server's data folder and checks that the
// Bleve index holds exactly the store's records, that every acknowledged
// record and photo is in the store and no acknowledged delete is.
func (w *crashWorkload) verifyOffline(t *testing.T, data string, key []byte, when string) {
	t.Helper()
	stored, docs := offlineState(t, data, key)
	w.mu.Lock()
	defer w.mu.Unlock()
	bad := 0
	fail := func(format string, args ...any) {
		if bad++; bad <= 20 {
			t.Errorf(when+" (offline): "+format, args...)
		}
	}
	for id := range stored {
		if !docs[id] {
			fail("record %s is in Badger but not in Bleve", id)
		}
	}
	for id := range docs {
		if _, ok := stored[id]; !ok {
			fail("Bleve holds %s, which Badger does not", id)
		}
	}
	for id, r := range w.recs {
		c, ok := stored[id]
		switch {
		case r.pending:
		case r.deleted && ok:
			fail("deleted record %s is in Badger", id)
		case !r.deleted && !ok:
			fail("acknowledged record %s is not in Badger", id)
		case !r.deleted:
			for _, p := range r.photos {
				if !slices.ContainsFunc(c.Photos, func(ph models.Photo) bool { return ph.ID == p && ph.SubjectFace() != nil }) {
					fail("acknowledged photo %s of %s is not in Badger with its face", p, id)
				}
			}
		}
	}
	t.Logf("%s (offline): Badger %d records, Bleve %d documents", when, len(stored), len(docs))
}

// offlineState opens a stopped server's data folder and returns the
// records in Badger (with photos) and the document ids in Bleve.
func offlineState(t testing.TB, data string, key []byte) (map[string]models.Child, map[string]bool) {
	t.Helper()
	ctx := context.Background()
	st, err := index.Open(filepath.Join(data, "badger"), index.StoreOptions{EncryptionKey: key})
	if err != nil {
		t.Fatalf("open store offline: %v", err)
	}
	defer st.Close()
	stored := map[string]models.Child{}
	if err := st.ForEachChild(ctx, "", func(c models.Child) error { stored[c.ID] = c; return nil }); err != nil {
		t.Fatal(err)
	}
	idx, err := bleve.Open(filepath.Join(data, "bleve"))
	if err != nil {
		t.Fatalf("open Bleve offline: %v", err)
	}
	defer idx.Close()
	n, err := idx.DocCount()
	if err != nil {
		t.Fatal(err)
	}
	docs := map[string]bool{}
	if n > 0 {
		res, err := idx.Search(bleve.NewSearchRequestOptions(bleve.NewMatchAllQuery(), int(n), 0, false))
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range res.Hits {
			docs[h.ID] = true
		}
	}
	return stored, docs
}

// killDuringStartup starts the binary on s's data folder and SIGKILLs it
// after d, whatever it is doing by then.
func killDuringStartup(t *testing.T, s *server, d time.Duration) {
	t.Helper()
	k := &server{t: t, opts: s.opts}
	k.launch(modelsDir(t))
	time.Sleep(d)
	k.Kill()
	last := strings.TrimSpace(k.Logs())
	if i := strings.LastIndexByte(last, '\n'); i >= 0 {
		last = last[i+1:]
	}
	t.Logf("killed during start-up after %v; its last log line: %s", d, last)
}

// TestStartReconcilesIndexWithStore sets up the two ways a crash can leave
// Bleve out of step with Badger, deterministically: a record committed to
// Badger whose Bleve write was lost, and a record deleted from Badger whose
// Bleve document survived. The server is killed (so Bleve stays marked
// open), the store is changed behind its back, and the next start must
// rebuild Bleve to hold exactly what Badger holds.
func TestStartReconcilesIndexWithStore(t *testing.T) {
	s := startServer(t, serverOptions{})
	ids := map[string]string{}
	for _, n := range []string{"Keptomira Valunesh", "Droppelika Surimont"} {
		r := s.JSON(t, "POST", "/v1/children", portalKey, map[string]any{"kind": "found", "names": []string{n}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var c struct{ ID string }
		r.JSON(t, &c)
		ids[n] = c.ID
	}
	kept, dropped := ids["Keptomira Valunesh"], ids["Droppelika Surimont"]
	// Let the attribute index write both records to disk before the kill.
	time.Sleep(4 * index.AttributePersistDelay)
	s.Kill()

	// Behind the server's back: delete one record from Badger only, and
	// add one to Badger only, as a crash between the two writes would.
	ctx := context.Background()
	st, err := index.Open(filepath.Join(s.opts.Data, "badger"), index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteChild(ctx, dropped); err != nil {
		t.Fatal(err)
	}
	lost := models.Child{ID: index.NewID(), Kind: models.KindFound, Names: []string{"Lostavira Quendolyn"},
		Sex: models.SexUnknown, Status: models.StatusOpen, CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
	if err := st.PutChild(ctx, lost); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	stored, docs := offlineState(t, s.opts.Data, nil)
	if len(stored) != 2 || !docs[dropped] || docs[lost.ID] || !docs[kept] {
		t.Fatalf("set-up: Badger %d records, Bleve %v; want Bleve to hold the dropped record and not the lost one", len(stored), docs)
	}

	s.start(modelsDir(t))
	w := &crashWorkload{}
	for name, id := range map[string]string{"Keptomira Valunesh": kept, "Lostavira Quendolyn": lost.ID} {
		if got := w.search(t, s, &keyRing{keys: []string{investigatorKey}}, models.KindMissing, name, "", 10); !slices.Contains(got, id) {
			t.Errorf("name search for %s does not find %s after restart: %v", name, id, got)
		}
	}
	s.Stop()
	_, docs = offlineState(t, s.opts.Data, nil)
	if len(docs) != 2 || !docs[kept] || !docs[lost.ID] {
		t.Errorf("after restart Bleve holds %v; want exactly %s and %s", docs, kept, lost.ID)
	}
}
