package main

// What is on disk: with an encryption key no file in the data folder holds
// a record's name or photo in plaintext, and after DELETE and `trackmatch
// erase` no file holds the deleted record's name, photo or descriptor.

import (
	"bytes"
	"context"
	"crypto/rand"
	encbin "encoding/binary"
	"encoding/hex"
	"io/fs"
	"math"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// filesContaining scans every file under dir and returns, for each needle
// found, the files (relative to dir) that contain it.
func filesContaining(t testing.TB, dir string, needles ...[]byte) map[string][]string {
	t.Helper()
	hits := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		for _, n := range needles {
			if bytes.Contains(b, n) {
				hits[string(n)] = append(hits[string(n)], rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return hits
}

// nameNeedles are a name as stored and its lower-case words, as an index
// might hold them (Bleve's term dictionary is an FST, so its terms are not
// plain runs of bytes; its stored fields are).
func nameNeedles(name string) [][]byte {
	out := [][]byte{[]byte(name)}
	for _, w := range strings.Fields(strings.ToLower(name)) {
		out = append(out, []byte(w))
	}
	return out
}

// photoNeedles are four 48-byte windows from inside a photo's bytes.
func photoNeedles(photo []byte) [][]byte {
	var out [][]byte
	for i := 1; i <= 4; i++ {
		off := len(photo) * i / 5
		out = append(out, photo[off:off+48])
	}
	return out
}

// descriptorNeedle is the first 64 bytes of a descriptor as the store
// writes it (little-endian float32s).
func descriptorNeedle(d *models.Descriptor) []byte {
	b := make([]byte, 0, 64)
	for _, f := range d[:16] {
		b = encbin.LittleEndian.AppendUint32(b, math.Float32bits(f))
	}
	return b
}

// createWithPhoto creates a found record named name and uploads photo.
func createWithPhoto(t *testing.T, s *server, name string, photo []byte) (id, photoID string) {
	t.Helper()
	r := s.JSON(t, "POST", "/v1/children", portalKey, map[string]any{"kind": "found", "names": []string{name}})
	if r.Status != http.StatusCreated {
		t.Fatalf("create %s: %d %s", name, r.Status, r.Body)
	}
	var c struct{ ID string }
	r.JSON(t, &c)
	r = s.Multipart(t, "POST", "/v1/children/"+c.ID+"/photos", portalKey, part{Name: "photo", Filename: "p.png", Data: photo})
	if r.Status != http.StatusCreated {
		t.Fatalf("photo for %s: %d %s", name, r.Status, r.Body)
	}
	var p struct {
		PhotoID string `json:"photo_id"`
	}
	r.JSON(t, &p)
	return c.ID, p.PhotoID
}

// TestEncryptionAtRest runs the server with a key and looks for a record's
// name and photo bytes in every file of the store while it runs and after
// it stops; then a wrong key, and no key, must refuse to start, saying why.
func TestEncryptionAtRest(t *testing.T) {
	faces := sharedDir(t, "faces")
	raw := make([]byte, 32)
	rand.Read(raw)
	key := hex.EncodeToString(raw)
	data := t.TempDir()
	s := startServer(t, serverOptions{Data: data, Env: []string{"TRACKMATCH_ENCRYPTION_KEY=" + key}})
	const name = "Zephyrine Quornwallis"
	photo := readFile(t, filepath.Join(faces, "bernadette", "bernadette1.png"))
	id, _ := createWithPhoto(t, s, name, photo)
	needles := append(nameNeedles(name), photoNeedles(photo)...)

	check := func(when string) {
		t.Helper()
		// Badger encrypts; Bleve cannot, so with a key openApp holds it in memory.
		for n, files := range filesContaining(t, data, needles...) {
			t.Errorf("%s: plaintext %.24q in the data folder's files %v", when, n, files)
		}
	}
	check("while running")
	s.Stop()
	check("after stop")

	// A wrong key, and no key, must refuse to start and say why.
	other := make([]byte, 32)
	rand.Read(other)
	for what, env := range map[string][]string{
		"a wrong key": {"TRACKMATCH_ENCRYPTION_KEY=" + hex.EncodeToString(other)},
		"no key":      {"TRACKMATCH_ENCRYPTION_KEY="},
	} {
		code, _, stderr := runCLI(t, env, "serve", "--addr", freeAddr(t), "--data", data, "--models", modelsDir(t), "--workers", "1")
		if code == 0 || !strings.Contains(stderr, "encryption key does not open the store") {
			t.Errorf("start with %s: exit %d, stderr:\n%s", what, code, lastBytes(stderr, 2000))
		}
	}
	// The right key still opens it.
	s.opts.Env = []string{"TRACKMATCH_ENCRYPTION_KEY=" + key}
	s.start(modelsDir(t))
	if r := s.Do(t, "GET", "/v1/children/"+id, investigatorKey, "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), name) {
		t.Errorf("record after restart with the key: %d %s", r.Status, r.Body)
	}
}

// TestEraseLeavesNoTrace deletes a record with a photo and a match through
// the API, runs `trackmatch erase`, and scans every file of the data folder
// (Badger and Bleve) for the record's name, photo bytes and descriptor: none
// may remain, while the kept record's still can be found (so the scan can
// see plaintext).
func TestEraseLeavesNoTrace(t *testing.T) {
	faces := sharedDir(t, "faces")
	data := t.TempDir()
	s := startServer(t, serverOptions{Data: data})
	const gone, kept = "Xiomara Quillfeather", "Keeperina Stayworth"
	gonePhoto := readFile(t, filepath.Join(faces, "raj", "raj1.png"))
	keptPhoto := readFile(t, filepath.Join(faces, "penny", "penny1.png"))
	goneID, _ := createWithPhoto(t, s, gone, gonePhoto)
	keptID, _ := createWithPhoto(t, s, kept, keptPhoto)
	r := s.JSON(t, "POST", "/v1/children", portalKey, map[string]any{"kind": "missing", "names": []string{"Quenby Ashdown"}})
	var missing struct{ ID string }
	r.JSON(t, &missing)
	s.Stop()

	// A match between the record to delete and a missing child, and the
	// record's descriptor, read offline.
	ctx := context.Background()
	st, err := index.Open(filepath.Join(data, "badger"), index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutMatch(ctx, models.Match{MissingID: missing.ID, FoundID: goneID, Probability: 0.8, Status: models.MatchNew,
		Explanation: []models.Contribution{{Field: "names", Detail: "Quenby Ashdown vs " + gone}}}); err != nil {
		t.Fatal(err)
	}
	c, err := st.GetChild(ctx, goneID)
	if err != nil || len(c.Photos) != 1 || c.Photos[0].SubjectFace() == nil {
		t.Fatalf("set-up: %v %+v", err, c.Photos)
	}
	desc := descriptorNeedle(c.Photos[0].SubjectFace().Descriptor)
	st.Close()

	s.start(modelsDir(t))
	matchIDs := func() []string {
		r := s.Do(t, "GET", "/v1/matches", investigatorKey, "", nil)
		var res struct{ Matches []struct{ ID string } }
		r.JSON(t, &res)
		var ids []string
		for _, m := range res.Matches {
			ids = append(ids, m.ID)
		}
		return ids
	}
	if ids := matchIDs(); !slices.Contains(ids, models.MatchID(missing.ID, goneID)) {
		t.Fatalf("set-up: the match is not in the review queue: %v", ids)
	}
	if r := s.Do(t, "DELETE", "/v1/children/"+goneID, portalKey, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.Status, r.Body)
	}
	if ids := matchIDs(); slices.Contains(ids, models.MatchID(missing.ID, goneID)) {
		t.Errorf("the deleted record's match is still in the review queue")
	}
	if r := s.Do(t, "GET", "/v1/children/"+goneID, investigatorKey, "", nil); r.Status != http.StatusNotFound {
		t.Errorf("deleted record: GET %d", r.Status)
	}
	w := &crashWorkload{photos: map[string][]byte{"raj": gonePhoto}}
	readers := &keyRing{keys: []string{investigatorKey}}
	if ids := w.search(t, s, readers, models.KindMissing, gone, "", 10); slices.Contains(ids, goneID) {
		t.Errorf("name search finds the deleted record")
	}
	if ids := w.search(t, s, readers, models.KindMissing, "", "raj", 10); slices.Contains(ids, goneID) {
		t.Errorf("photo search finds the deleted record")
	}
	s.Stop()

	goneNeedles := append(append(nameNeedles(gone), photoNeedles(gonePhoto)...), desc)
	before := filesContaining(t, data, goneNeedles...)
	t.Logf("after DELETE, before erase: %d of %d needles still on disk", len(before), len(goneNeedles))

	code, stdout, stderr := runCLI(t, nil, "erase", "--data", data)
	if code != 0 {
		t.Fatalf("erase: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("erase: %s", strings.TrimSpace(stdout))
	hits := filesContaining(t, data, append(goneNeedles, append(nameNeedles(kept), photoNeedles(keptPhoto)[0])...)...)
	for _, n := range goneNeedles {
		if files := hits[string(n)]; len(files) > 0 {
			t.Errorf("after erase the deleted record's %.24q is still in %v", n, files)
		}
	}
	for _, n := range [][]byte{[]byte(kept), photoNeedles(keptPhoto)[0]} {
		if len(hits[string(n)]) == 0 {
			t.Errorf("the kept record's %.24q is nowhere on disk: the scan cannot see plaintext", n)
		}
	}

	// The server starts on the erased folder and still has the kept record.
	s.start(modelsDir(t))
	if ids := w.search(t, s, readers, models.KindMissing, kept, "", 10); !slices.Contains(ids, keptID) {
		t.Errorf("after erase, name search does not find the kept record: %v", ids)
	}
}

// runCLI runs the trackmatch binary with args and extra environment, and
// returns its exit code and output. A command still running after two
// minutes is killed.
func runCLI(t *testing.T, env []string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary(t), args...)
	cmd.Env = append(append(os.Environ(), "OPENBLAS_NUM_THREADS=1",
		"TRACKMATCH_API_KEYS=admin:"+adminKey+",portal:"+portalKey+",investigator:"+investigatorKey), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), out.String(), errb.String()
	}
	if err != nil {
		t.Fatalf("run %v: %v", args, err)
	}
	return 0, out.String(), errb.String()
}
