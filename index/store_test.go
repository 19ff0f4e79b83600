package index

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/trackmatch/trackmatch/models"
)

// openTestStore opens a store in dir and closes it when the test ends.
func openTestStore(t testing.TB, dir string, opts StoreOptions) *Store {
	t.Helper()
	s, err := Open(dir, opts)
	if err != nil {
		t.Fatalf("Open(%s): %v", dir, err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}

// assertJSONEqual compares got and want by their JSON, which is what the
// store promises to keep.
func assertJSONEqual(t testing.TB, what string, got, want any) {
	t.Helper()
	g, err1 := json.Marshal(got)
	w, err2 := json.Marshal(want)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: marshal: %v %v", what, err1, err2)
	}
	if !bytes.Equal(g, w) {
		t.Fatalf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func wantCode(t testing.TB, err error, code string) {
	t.Helper()
	if got := models.ErrorCode(err); got != code {
		t.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
}

var testTime = time.Date(2024, 3, 1, 10, 0, 0, 0, time.UTC)

func testChild(kind models.Kind, name, ref string) models.Child {
	return models.Child{
		ID:          NewID(),
		Kind:        kind,
		ExternalRef: ref,
		Names:       []string{name},
		Sex:         models.SexFemale,
		Age:         &models.AgeRange{Min: 7, Max: 9},
		ObservedOn:  "2023-11-02",
		Place:       models.Place{State: "Bihar", District: "Patna"},
		Status:      models.StatusOpen,
		CreatedAt:   testTime,
		UpdatedAt:   testTime,
	}
}

func testDescriptor(seed float32) *models.Descriptor {
	d := new(models.Descriptor)
	for i := range d {
		d[i] = seed + float32(i)/1000
	}
	return d
}

// testPhoto is a photo of childID with one described subject face and one
// bystander face without a descriptor.
func testPhoto(childID string, seed float32) models.Photo {
	return models.Photo{
		ID:          NewID(),
		ChildID:     childID,
		ContentType: "image/jpeg",
		SHA256:      "00",
		Width:       640,
		Height:      480,
		TakenOn:     "2023-10-30",
		Faces: []models.Face{
			{Box: [4]int{10, 20, 100, 120}, Landmarks: []models.Point{{X: 1.5, Y: 2.5}},
				Descriptor: testDescriptor(seed), Quality: models.FaceQuality{SizePx: 100, Detector: models.DetectorHOG}},
			{Box: [4]int{300, 20, 40, 40}, Quality: models.FaceQuality{SizePx: 40, Detector: models.DetectorCNN}},
		},
		Subject:   0,
		CreatedAt: testTime,
	}
}

func randomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewIDSortsByTimeAndIsValid(t *testing.T) {
	a := NewID()
	time.Sleep(2 * time.Millisecond)
	b := NewID()
	if len(a) != 32 || !validID(a) || !validID(b) {
		t.Fatalf("ids %q %q: want 32 valid characters", a, b)
	}
	if a >= b {
		t.Fatalf("NewID %q made before %q should sort first", a, b)
	}
	if NewID() == NewID() {
		t.Fatal("two NewIDs are equal")
	}
}

func TestValidIDRefusesKeySeparators(t *testing.T) {
	for _, id := range []string{"", "a/b", "a~b", "a-b", "a b", string(make([]byte, 65))} {
		if validID(id) {
			t.Errorf("validID(%q) = true", id)
		}
	}
}

// TestRoundTripSurvivesReopen writes one of everything, closes the store,
// reopens it and reads everything back.
func TestRoundTripSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	miss := testChild(models.KindMissing, "Priya Kumari", "FIR-12/2023")
	found := testChild(models.KindFound, "Unknown girl", "CCI-77")
	photo := testPhoto(miss.ID, 0.25)
	original := randomBytes(t, 2*photoChunkSize+123) // three chunks
	match := models.Match{MissingID: miss.ID, FoundID: found.ID, Probability: 0.83, Score: 7.2,
		Status: models.MatchNew, ParamsVersion: 1, CreatedAt: testTime, UpdatedAt: testTime,
		Explanation: []models.Contribution{{Field: "face", Weight: 5.1, Detail: "faces are close"}}}
	job := models.Job{ID: NewID(), Type: "rescore", State: models.JobRunning, Total: 10, Processed: 3,
		Checkpoint: miss.ID, CreatedAt: testTime}
	params := models.Params{Source: "defaults", Prior: 0.001, CreatedAt: testTime,
		Fields: map[string]models.FieldParams{"sex": {Levels: map[string]models.LevelParams{"agree": {M: 0.95, U: 0.5}}}}}
	for _, c := range []models.Child{miss, found} {
		if err := s.PutChild(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.PutPhoto(ctx, photo, original); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMatch(ctx, match); err != nil {
		t.Fatal(err)
	}
	if err := s.PutJob(ctx, job); err != nil {
		t.Fatal(err)
	}
	audit, err := s.AppendAudit(ctx, models.AuditEntry{KeyID: "k1", Role: "investigator", Action: "read",
		Target: miss.ID, Route: "/v1/children/:id", Status: 200, At: testTime})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutParams(ctx, params); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	s = openTestStore(t, dir, StoreOptions{})
	got, err := s.GetChild(ctx, miss.ID)
	if err != nil {
		t.Fatal(err)
	}
	photo.Bytes = len(original)
	want := miss
	want.Photos = []models.Photo{photo}
	assertJSONEqual(t, "child", got, want)
	if got.Photos[0].Faces[0].Descriptor == nil || *got.Photos[0].Faces[0].Descriptor != *photo.Faces[0].Descriptor {
		t.Fatal("descriptor did not round-trip bit for bit")
	}
	if got.Photos[0].Faces[1].Descriptor != nil {
		t.Fatal("a face without a descriptor came back with one")
	}
	data, ct, err := s.PhotoBytes(ctx, photo.ID)
	if err != nil || ct != "image/jpeg" || !bytes.Equal(data, original) {
		t.Fatalf("PhotoBytes = %d bytes, %q, %v; want the %d original bytes", len(data), ct, err, len(original))
	}
	gotMatch, err := s.GetMatch(ctx, models.MatchID(miss.ID, found.ID))
	if err != nil {
		t.Fatal(err)
	}
	match.ID = models.MatchID(miss.ID, found.ID)
	assertJSONEqual(t, "match", gotMatch, match)
	gotJob, err := s.GetJob(ctx, job.ID)
	if err != nil {
		t.Fatal(err)
	}
	assertJSONEqual(t, "job", gotJob, job)
	entries, _, err := s.ListAudit(ctx, time.Time{}, 10, "")
	if err != nil || len(entries) != 1 {
		t.Fatalf("ListAudit = %v, %v; want 1 entry", entries, err)
	}
	assertJSONEqual(t, "audit", entries[0], audit)
	gotParams, err := s.LatestParams(ctx)
	if err != nil {
		t.Fatal(err)
	}
	params.Version = 1
	assertJSONEqual(t, "params", gotParams, params)
	if n, err := s.CountChildren(ctx, ""); err != nil || n != 2 {
		t.Fatalf("CountChildren = %d, %v; want 2", n, err)
	}
}

func TestOpenRefusesBadKeyLength(t *testing.T) {
	_, err := Open(t.TempDir(), StoreOptions{EncryptionKey: []byte("short")})
	wantCode(t, err, models.EINVALID)
}

// A store open in one place cannot be opened again (a second server, or
// an offline command while the server runs): ECONFLICT, not a Badger error.
func TestOpenRefusesAStoreInUse(t *testing.T) {
	dir := t.TempDir()
	openTestStore(t, dir, StoreOptions{})
	_, err := Open(dir, StoreOptions{})
	wantCode(t, err, models.ECONFLICT)
}

func TestEncryptedStoreRefusesWrongKey(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	key := randomBytes(t, 32)
	s, err := Open(dir, StoreOptions{EncryptionKey: key})
	if err != nil {
		t.Fatal(err)
	}
	c := testChild(models.KindMissing, "Asha", "")
	if err := s.PutChild(ctx, c); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, k := range map[string][]byte{"other key": randomBytes(t, 32), "no key": nil, "shorter key": key[:16]} {
		_, err := Open(dir, StoreOptions{EncryptionKey: k})
		var ke *KeyError
		if !errors.As(err, &ke) || !errors.Is(err, badger.ErrEncryptionKeyMismatch) {
			t.Fatalf("%s: Open error = %v; want a *KeyError", name, err)
		}
	}
	s = openTestStore(t, dir, StoreOptions{EncryptionKey: key})
	if got, err := s.GetChild(ctx, c.ID); err != nil || got.Names[0] != "Asha" {
		t.Fatalf("right key: GetChild = %+v, %v", got, err)
	}
}

func TestPlaintextStoreRefusesAKey(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, StoreOptions{EncryptionKey: randomBytes(t, 16)})
	var ke *KeyError
	if !errors.As(err, &ke) {
		t.Fatalf("Open error = %v; want a *KeyError", err)
	}
}

// filesContaining returns, for each needle found in a file under dir, the
// names of the files that contain it. Each file is read once.
func filesContaining(t *testing.T, dir string, needles ...[]byte) map[string][]string {
	t.Helper()
	hits := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				hits[string(n)] = append(hits[string(n)], filepath.Base(path))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// photoNeedles are windows of photo bytes, one inside each stored chunk.
func photoNeedles(original []byte) [][]byte {
	var ns [][]byte
	for off := 0; off < len(original); off += photoChunkSize {
		end := min(off+1000+48, len(original))
		ns = append(ns, original[min(off+1000, end-48):end])
	}
	return ns
}

func TestEncryptionKeepsPlaintextOffDisk(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir, StoreOptions{EncryptionKey: randomBytes(t, 32)})
	if err != nil {
		t.Fatal(err)
	}
	c := testChild(models.KindMissing, "Zubaida Quintessa Encrypted", "REF-ENCRYPTED-0001")
	if err := s.PutChild(ctx, c); err != nil {
		t.Fatal(err)
	}
	original := randomBytes(t, photoChunkSize+5000)
	if err := s.PutPhoto(ctx, testPhoto(c.ID, 0.5), original); err != nil {
		t.Fatal(err)
	}
	// Look both while the data sits in the write-ahead log and after Close
	// has flushed it into tables.
	check := func(when string) {
		needles := append([][]byte{[]byte(c.Names[0]), []byte(c.ExternalRef), []byte(c.ID)}, photoNeedles(original)...)
		for n, files := range filesContaining(t, dir, needles...) {
			t.Errorf("%s: plaintext %.20q found in %v", when, n, files)
		}
	}
	check("open")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	check("closed")
}

// TestEraseRemovesDeletedChildFromDisk deletes a child, runs Erase, closes
// the store and looks for the child's name, reference, id and photo bytes
// in every file of the data folder. A second child that stays is looked for
// too, to prove the scan would find plaintext if it were there.
func TestEraseRemovesDeletedChildFromDisk(t *testing.T) {
	for _, flushFirst := range []bool{false, true} {
		t.Run(fmt.Sprintf("flushed_to_tables=%v", flushFirst), func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			s, err := Open(dir, StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			gone := testChild(models.KindMissing, "Xiomara Quillfeather Erasable", "REF-ERASE-ME-4711")
			kept := testChild(models.KindFound, "Kestrel Vandermeer Keepable", "REF-KEEP-ME-0815")
			for _, c := range []models.Child{gone, kept} {
				if err := s.PutChild(ctx, c); err != nil {
					t.Fatal(err)
				}
			}
			gonePhoto, keptPhoto := testPhoto(gone.ID, 1), testPhoto(kept.ID, 2)
			goneBytes, keptBytes := randomBytes(t, 2*photoChunkSize+777), randomBytes(t, 5000)
			if err := s.PutPhoto(ctx, gonePhoto, goneBytes); err != nil {
				t.Fatal(err)
			}
			if err := s.PutPhoto(ctx, keptPhoto, keptBytes); err != nil {
				t.Fatal(err)
			}
			if err := s.PutMatch(ctx, models.Match{MissingID: gone.ID, FoundID: kept.ID, Probability: 0.9,
				Status: models.MatchNew, Explanation: []models.Contribution{{Field: "names", Detail: "Xiomara Quillfeather Erasable vs Kestrel"}}}); err != nil {
				t.Fatal(err)
			}
			if flushFirst { // the child's data now sits in SSTables, not only the write-ahead log
				if err := s.Close(); err != nil {
					t.Fatal(err)
				}
				if s, err = Open(dir, StoreOptions{}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.DeleteChild(ctx, gone.ID); err != nil {
				t.Fatal(err)
			}
			if err := s.Erase(ctx); err != nil {
				t.Fatal(err)
			}
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			goneNeedles := append([][]byte{[]byte(gone.Names[0]), []byte(gone.ExternalRef), []byte(gone.ID), []byte(gonePhoto.ID)},
				photoNeedles(goneBytes)...)
			keptNeedles := [][]byte{[]byte(kept.Names[0]), keptBytes[100:148]}
			hits := filesContaining(t, dir, append(goneNeedles, keptNeedles...)...)
			for _, n := range goneNeedles {
				if files := hits[string(n)]; len(files) > 0 {
					t.Errorf("deleted child's %.24q still in %v", n, files)
				}
			}
			for _, n := range keptNeedles {
				if len(hits[string(n)]) == 0 {
					t.Errorf("kept child's %.24q not found on disk: the scan cannot see plaintext", n)
				}
			}
			s = openTestStore(t, dir, StoreOptions{})
			if _, err := s.GetChild(ctx, kept.ID); err != nil {
				t.Fatalf("kept child after Erase: %v", err)
			}
		})
	}
}

// TestAcknowledgedWritesSurviveKill runs a writer in a child process, kills
// it with SIGKILL after it has acknowledged some writes, and reopens the
// store: every acknowledged record must be there (no Close ever ran). This
// covers a process crash; surviving power loss is what SyncWrites adds, and
// no test here can cut the power.
func TestAcknowledgedWritesSurviveKill(t *testing.T) {
	if dir := os.Getenv("TRACKMATCH_STORE_KILL_DIR"); dir != "" {
		killedWriter(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAcknowledgedWritesSurviveKill$")
	cmd.Env = append(os.Environ(), "TRACKMATCH_STORE_KILL_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var acked []string
	sc := bufio.NewScanner(out)
	for len(acked) < 50 && sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "acked "); ok {
			acked = append(acked, id)
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	if len(acked) < 50 {
		t.Fatalf("writer acknowledged only %d writes", len(acked))
	}
	s := openTestStore(t, dir, StoreOptions{})
	for _, id := range acked {
		if _, err := s.GetChild(context.Background(), id); err != nil {
			t.Fatalf("acknowledged record %s lost after kill: %v", id, err)
		}
	}
}

// killedWriter writes records until it is killed, printing each id once
// PutChild has returned.
func killedWriter(dir string) {
	s, err := Open(dir, StoreOptions{})
	if err != nil {
		fmt.Println("open:", err)
		os.Exit(1)
	}
	for {
		c := testChild(models.KindMissing, "Killed Writer", "")
		if err := s.PutChild(context.Background(), c); err != nil {
			fmt.Println("put:", err)
			os.Exit(1)
		}
		fmt.Println("acked", c.ID)
	}
}

func TestClosedStoreIsUnavailable(t *testing.T) {
	s, err := Open(t.TempDir(), StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	_, err = s.GetChild(context.Background(), NewID())
	wantCode(t, err, models.EUNAVAILABLE)
}

func TestCanceledContext(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.PutChild(ctx, testChild(models.KindFound, "A", ""))
	wantCode(t, err, models.ECANCELED)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("error %v does not wrap context.Canceled", err)
	}
}

// BenchmarkPutChild measures the cost of durability: each write with
// SyncWrites (the store's only mode) against the same write unsynced, and
// synced writes from 16 goroutines, which Badger commits with shared syncs.
//
//	go test ./index -run '^$' -bench PutChild -benchtime 3s
func BenchmarkPutChild(b *testing.B) {
	for _, tc := range []struct {
		name     string
		unsync   bool
		parallel bool
	}{{"sync", false, false}, {"nosync", true, false}, {"sync-16writers", false, true}} {
		b.Run(tc.name, func(b *testing.B) {
			s := openTestStore(b, b.TempDir(), StoreOptions{unsyncedWrites: tc.unsync})
			ctx := context.Background()
			put := func() {
				c := testChild(models.KindMissing, "Bench Child", "")
				if err := s.PutChild(ctx, c); err != nil {
					b.Fatal(err)
				}
			}
			if tc.parallel {
				b.SetParallelism(8) // x GOMAXPROCS 2
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						put()
					}
				})
				return
			}
			for b.Loop() {
				put()
			}
		})
	}
}
