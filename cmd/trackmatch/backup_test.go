package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// TestBackupRestoreRoundTrip backs up a stopped server's data folder,
// restores it into a new folder (encrypted with a new key), starts the
// server there and finds everything again: records, photos, name and photo
// searches (Bleve and the vector index are rebuilt from Badger), and not
// the record deleted before the backup. Along the way it checks the
// refusals: a running server's folder, an existing backup file, a wrong
// passphrase, a non-empty restore folder.
func TestBackupRestoreRoundTrip(t *testing.T) {
	faces := sharedDir(t, "faces")
	data := t.TempDir()
	s := startServer(t, serverOptions{Data: data})
	const name = "Oriane Backupvale"
	photo := readFile(t, filepath.Join(faces, "howard", "howard1.png"))
	id, photoID := createWithPhoto(t, s, name, photo)
	goneID, _ := createWithPhoto(t, s, "Deleted Beforebackup", readFile(t, filepath.Join(faces, "stuart", "stuart1.png")))
	if r := s.Do(t, "DELETE", "/v1/children/"+goneID, portalKey, "", nil); r.Status != http.StatusNoContent {
		t.Fatalf("delete: %d", r.Status)
	}

	dir := t.TempDir()
	out := filepath.Join(dir, "trackmatch.backup")
	pass := []string{"TRACKMATCH_BACKUP_PASSPHRASE=correct horse battery staple"}
	// Offline only: while the server runs, backup and erase refuse and say why.
	for _, args := range [][]string{{"backup", "--data", data, "--out", out}, {"erase", "--data", data}} {
		code, _, stderr := runCLI(t, pass, args...)
		if code == 0 || !strings.Contains(stderr, "in use by another process") || !strings.Contains(stderr, "stop `trackmatch serve` first") {
			t.Errorf("%s while the server runs: exit %d, stderr %q", args[0], code, stderr)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatalf("a refused backup left %s behind", out)
	}
	s.Stop()

	if code, _, stderr := runCLI(t, nil, "backup", "--data", data, "--out", out); code != 2 || !strings.Contains(stderr, "passphrase") {
		t.Errorf("backup without a passphrase: exit %d, %q", code, stderr)
	}
	code, stdout, stderr := runCLI(t, pass, "backup", "--data", data, "--out", out)
	if code != 0 {
		t.Fatalf("backup: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("backup: %s", strings.TrimSpace(stdout))
	if fi, err := os.Stat(out); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("backup file: %v, mode %v; want 0600", err, fi.Mode())
	}
	if hits := filesContaining(t, dir, append(nameNeedles(name), photoNeedles(photo)...)...); len(hits) > 0 {
		t.Errorf("plaintext in the backup file: %v", hits)
	}
	if code, _, stderr := runCLI(t, pass, "backup", "--data", data, "--out", out); code == 0 || !strings.Contains(stderr, "exists") {
		t.Errorf("backup over an existing file: exit %d, %q", code, stderr)
	}

	restored := filepath.Join(t.TempDir(), "restored")
	if code, _, stderr := runCLI(t, []string{"TRACKMATCH_BACKUP_PASSPHRASE=wrong horse battery staple"},
		"restore", "--in", out, "--data", restored); code == 0 || !strings.Contains(stderr, "passphrase does not open this backup") {
		t.Errorf("restore with a wrong passphrase: exit %d, %q", code, stderr)
	}
	if entries, _ := os.ReadDir(restored); len(entries) > 0 {
		t.Errorf("a failed restore left files in %s", restored)
	}
	if code, _, stderr := runCLI(t, pass, "restore", "--in", out, "--data", data); code == 0 || !strings.Contains(stderr, "not empty") {
		t.Errorf("restore into a non-empty folder: exit %d, %q", code, stderr)
	}
	raw := make([]byte, 32)
	rand.Read(raw)
	key := "TRACKMATCH_ENCRYPTION_KEY=" + hex.EncodeToString(raw)
	code, stdout, stderr = runCLI(t, append(pass, key), "restore", "--in", out, "--data", restored)
	if code != 0 {
		t.Fatalf("restore: exit %d\n%s%s", code, stdout, stderr)
	}
	t.Logf("restore: %s", strings.TrimSpace(stdout))
	if hits := filesContaining(t, filepath.Join(restored, "badger"), append(nameNeedles(name), photoNeedles(photo)...)...); len(hits) > 0 {
		t.Errorf("plaintext in the store restored with a key: %v", hits)
	}

	r2 := startServer(t, serverOptions{Data: restored, Env: []string{key}})
	r := r2.Do(t, "GET", "/v1/children/"+id, investigatorKey, "", nil)
	var c struct {
		Names  []string
		Photos []struct{ ID string }
	}
	r.JSON(t, &c)
	if r.Status != http.StatusOK || !slices.Equal(c.Names, []string{name}) || len(c.Photos) != 1 || c.Photos[0].ID != photoID {
		t.Errorf("restored record: %d %s", r.Status, r.Body)
	}
	if r := r2.Do(t, "GET", "/v1/photos/"+photoID, investigatorKey, "", nil); r.Status != http.StatusOK || sha256.Sum256(r.Body) != sha256.Sum256(photo) {
		t.Errorf("restored photo: %d, %d bytes", r.Status, len(r.Body))
	}
	if r := r2.Do(t, "GET", "/v1/children/"+goneID, investigatorKey, "", nil); r.Status != http.StatusNotFound {
		t.Errorf("record deleted before the backup: GET %d", r.Status)
	}
	w := &crashWorkload{photos: map[string][]byte{"howard": photo}}
	readers := &keyRing{keys: []string{investigatorKey}}
	if ids := w.search(t, r2, readers, models.KindMissing, name, "", 10); !slices.Contains(ids, id) {
		t.Errorf("name search on the restored server does not find the record: %v", ids)
	}
	if ids := w.search(t, r2, readers, models.KindMissing, "", "howard", 10); len(ids) == 0 || ids[0] != id {
		t.Errorf("photo search on the restored server does not rank the record first: %v", ids)
	}
}

// TestRestoreRefusesPlaintextFromEncrypted: a backup of a store encrypted at
// rest is not restored into a plaintext store unless --allow-plaintext says
// so on purpose. The refusal names both ways out and writes nothing; with
// a key the restored store is encrypted; with the flag it is plaintext and
// restore warns. A plaintext store's backup restores without either.
func TestRestoreRefusesPlaintextFromEncrypted(t *testing.T) {
	raw := make([]byte, 32)
	rand.Read(raw)
	key := "TRACKMATCH_ENCRYPTION_KEY=" + hex.EncodeToString(raw)
	pass := "TRACKMATCH_BACKUP_PASSPHRASE=correct horse battery staple"
	const name = "Encrypted Restorevale"
	backupOf := func(storeKey []byte, env ...string) string {
		data := t.TempDir()
		st, err := index.Open(filepath.Join(data, "badger"), index.StoreOptions{EncryptionKey: storeKey})
		if err != nil {
			t.Fatal(err)
		}
		c := models.Child{ID: index.NewID(), Kind: models.KindMissing, Names: []string{name}, Status: models.StatusOpen}
		if err := st.PutChild(context.Background(), c); err != nil {
			t.Fatal(err)
		}
		if err := st.Close(); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(t.TempDir(), "trackmatch.backup")
		if code, stdout, stderr := runCLI(t, append(env, pass), "backup", "--data", data, "--out", out); code != 0 {
			t.Fatalf("backup: exit %d\n%s%s", code, stdout, stderr)
		}
		return out
	}
	encrypted := backupOf(raw, key)

	refused := filepath.Join(t.TempDir(), "refused")
	code, _, stderr := runCLI(t, []string{pass}, "restore", "--in", encrypted, "--data", refused)
	if code == 0 || !strings.Contains(stderr, "encrypted at rest") ||
		!strings.Contains(stderr, "--encryption-key-file") || !strings.Contains(stderr, "--allow-plaintext") {
		t.Errorf("restore of an encrypted store's backup without a key: exit %d, stderr %q; want a refusal naming both fixes", code, stderr)
	}
	if dirHasFiles(refused) {
		t.Errorf("a refused restore wrote files into %s", refused)
	}

	withKey := filepath.Join(t.TempDir(), "with-key")
	if code, stdout, stderr := runCLI(t, []string{pass, key}, "restore", "--in", encrypted, "--data", withKey); code != 0 {
		t.Fatalf("restore with a key: exit %d\n%s%s", code, stdout, stderr)
	}
	if hits := filesContaining(t, withKey, nameNeedles(name)...); len(hits) > 0 {
		t.Errorf("plaintext in the store restored with a key: %v", hits)
	}

	plain := filepath.Join(t.TempDir(), "plain")
	code, stdout, stderr := runCLI(t, []string{pass}, "restore", "--allow-plaintext", "--in", encrypted, "--data", plain)
	if code != 0 || !strings.Contains(stderr, "not encrypted at rest") {
		t.Fatalf("restore with --allow-plaintext: exit %d, want 0 and a warning\n%s%s", code, stdout, stderr)
	}
	if hits := filesContaining(t, filepath.Join(plain, "badger"), nameNeedles(name)...); len(hits) == 0 {
		t.Errorf("the store restored with --allow-plaintext holds no plaintext name: is it encrypted after all?")
	}

	fromPlain := backupOf(nil)
	again := filepath.Join(t.TempDir(), "from-plain")
	if code, stdout, stderr := runCLI(t, []string{pass}, "restore", "--in", fromPlain, "--data", again); code != 0 || strings.Contains(stderr, "warning") {
		t.Errorf("restore of a plaintext store's backup: exit %d, want 0 without a warning\n%s%s", code, stdout, stderr)
	}
}

// dirHasFiles reports whether dir exists and holds any file.
func dirHasFiles(dir string) bool {
	found := false
	filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		found = found || (err == nil && !d.IsDir())
		return nil
	})
	return found
}
