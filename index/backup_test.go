package index

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"filippo.io/age"

	"github.com/trackmatch/trackmatch/models"
)

const testPassphrase = "correct horse battery staple"

func TestBackupRestoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	key := randomBytes(t, 32)
	s := openTestStore(t, t.TempDir(), StoreOptions{EncryptionKey: key})
	miss := testChild(models.KindMissing, "Backup Name Plaintext", "FIR-B-1")
	found := testChild(models.KindFound, "F", "")
	for _, c := range []models.Child{miss, found} {
		if err := s.PutChild(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	photo := testPhoto(miss.ID, 4)
	original := randomBytes(t, photoChunkSize+99)
	if err := s.PutPhoto(ctx, photo, original); err != nil {
		t.Fatal(err)
	}
	if err := s.PutMatch(ctx, models.Match{MissingID: miss.ID, FoundID: found.ID, Probability: 0.6, Status: models.MatchNew}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutParams(ctx, models.Params{Source: "defaults"}); err != nil {
		t.Fatal(err)
	}
	deleted := testChild(models.KindFound, "Deleted Before Backup", "")
	if err := s.PutChild(ctx, deleted); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteChild(ctx, deleted.ID); err != nil {
		t.Fatal(err)
	}

	wantCode(t, s.Backup(ctx, &bytes.Buffer{}, "short"), models.EINVALID)
	var buf bytes.Buffer
	if err := s.Backup(ctx, &buf, testPassphrase); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte(miss.Names[0])) || bytes.Contains(buf.Bytes(), original[500:548]) {
		t.Fatal("the backup holds plaintext")
	}

	// Wrong passphrase: a *KeyError, nothing restored.
	wrongDir := filepath.Join(t.TempDir(), "wrong")
	err := Restore(ctx, bytes.NewReader(buf.Bytes()), "not the passphrase at all", wrongDir, RestoreOptions{AllowPlaintext: true})
	var ke *KeyError
	if !errors.As(err, &ke) {
		t.Fatalf("wrong passphrase: %v; want a *KeyError", err)
	}
	// Truncated backup: fails and leaves the folder empty.
	cutDir := t.TempDir()
	err = Restore(ctx, bytes.NewReader(buf.Bytes()[:buf.Len()-100]), testPassphrase, cutDir, RestoreOptions{AllowPlaintext: true})
	if err == nil {
		t.Fatal("a truncated backup restored without error")
	}
	if entries, _ := os.ReadDir(cutDir); len(entries) != 0 {
		t.Fatalf("failed restore left %d files", len(entries))
	}

	// Right passphrase, into a fresh folder and a plaintext store.
	dir := filepath.Join(t.TempDir(), "restored")
	if err := Restore(ctx, bytes.NewReader(buf.Bytes()), testPassphrase, dir, RestoreOptions{AllowPlaintext: true}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, Restore(ctx, bytes.NewReader(buf.Bytes()), testPassphrase, dir, RestoreOptions{AllowPlaintext: true}), models.ECONFLICT)
	r := openTestStore(t, dir, StoreOptions{})
	got, err := r.GetChild(ctx, miss.ID)
	if err != nil || len(got.Photos) != 1 || *got.Photos[0].Faces[0].Descriptor != *photo.Faces[0].Descriptor {
		t.Fatalf("restored child: %+v, %v", got, err)
	}
	if data, _, err := r.PhotoBytes(ctx, photo.ID); err != nil || !bytes.Equal(data, original) {
		t.Fatalf("restored photo bytes: %d, %v", len(data), err)
	}
	if c, err := r.ChildByExternalRef(ctx, models.KindMissing, "FIR-B-1"); err != nil || c.ID != miss.ID {
		t.Fatalf("restored external ref: %v", err)
	}
	if ms, _, err := r.ListMatches(ctx, models.MatchFilter{}); err != nil || len(ms) != 1 {
		t.Fatalf("restored matches: %d, %v", len(ms), err)
	}
	if p, err := r.LatestParams(ctx); err != nil || p.Version != 1 {
		t.Fatalf("restored params: %+v, %v", p, err)
	}
	if _, err := r.GetChild(ctx, deleted.ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Fatalf("a child deleted before the backup came back: %v", err)
	}
	if n, _ := r.CountChildren(ctx, ""); n != 2 {
		t.Fatalf("restored %d children, want 2", n)
	}
}

// TestRestoreKeepsEncryptionAtRest: a backup records whether its store was
// encrypted at rest, and restoring an encrypted store's backup without a
// key is refused, writing nothing, unless AllowPlaintext says so on
// purpose. A plaintext store's backup restores without a key as before; an
// old backup (version 1 header), which does not say, counts as encrypted.
func TestRestoreKeepsEncryptionAtRest(t *testing.T) {
	ctx := context.Background()
	backupOf := func(opts StoreOptions) ([]byte, models.Child) {
		s := openTestStore(t, t.TempDir(), opts)
		c := testChild(models.KindMissing, "Encrypted Atrest", "FIR-ENC-1")
		if err := s.PutChild(ctx, c); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := s.Backup(ctx, &buf, testPassphrase); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes(), c
	}
	key := randomBytes(t, 32)
	encrypted, c := backupOf(StoreOptions{EncryptionKey: key})
	plain, pc := backupOf(StoreOptions{})
	old := withHeader(t, encrypted, backupMagicV1)

	restore := func(backup []byte, opts RestoreOptions) (string, error) {
		dir := filepath.Join(t.TempDir(), "restored")
		return dir, Restore(ctx, bytes.NewReader(backup), testPassphrase, dir, opts)
	}
	for name, b := range map[string][]byte{"encrypted": encrypted, "version 1": old} {
		dir, err := restore(b, RestoreOptions{})
		if !errors.Is(err, ErrPlaintextFromEncrypted) {
			t.Fatalf("%s backup into a plaintext store: %v, want ErrPlaintextFromEncrypted", name, err)
		}
		if _, serr := os.Stat(dir); !errors.Is(serr, os.ErrNotExist) {
			t.Errorf("%s backup: the refused restore created %s (%v)", name, dir, serr)
		}
		// With a key the new store is encrypted: it does not open without one.
		dir, err = restore(b, RestoreOptions{Store: StoreOptions{EncryptionKey: randomBytes(t, 16)}})
		if err != nil {
			t.Fatalf("%s backup with a key: %v", name, err)
		}
		var ke *KeyError
		if _, err := Open(dir, StoreOptions{}); !errors.As(err, &ke) {
			t.Errorf("%s backup restored with a key opens without one: %v", name, err)
		}
		// On purpose, a plaintext store.
		dir, err = restore(b, RestoreOptions{AllowPlaintext: true})
		if err != nil {
			t.Fatalf("%s backup with AllowPlaintext: %v", name, err)
		}
		if got, err := openTestStore(t, dir, StoreOptions{}).GetChild(ctx, c.ID); err != nil || got.Names[0] != c.Names[0] {
			t.Errorf("%s backup restored in plaintext: %+v, %v", name, got, err)
		}
	}
	dir, err := restore(plain, RestoreOptions{})
	if err != nil {
		t.Fatalf("plaintext backup without a key: %v", err)
	}
	if got, err := openTestStore(t, dir, StoreOptions{}).GetChild(ctx, pc.ID); err != nil || got.ID != pc.ID {
		t.Errorf("plaintext backup restored: %+v, %v", got, err)
	}
	if _, err := restore(withHeader(t, plain, "trackmatch-backup 3 something\n"), RestoreOptions{AllowPlaintext: true}); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("unknown header: %v, want EINVALID", err)
	}
}

// withHeader returns backup with its header line replaced by header,
// encrypted again to testPassphrase.
func withHeader(t *testing.T, backup []byte, header string) []byte {
	t.Helper()
	id, err := age.NewScryptIdentity(testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	r, err := age.Decrypt(bytes.NewReader(backup), id)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	_, body, ok := bytes.Cut(plain, []byte("\n"))
	if !ok {
		t.Fatal("backup has no header line")
	}
	rcpt, err := age.NewScryptRecipient(testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	rcpt.SetWorkFactor(10)
	var out bytes.Buffer
	w, err := age.Encrypt(&out, rcpt)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, header); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(body); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
