package index

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

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
	err := Restore(ctx, bytes.NewReader(buf.Bytes()), "not the passphrase at all", wrongDir, StoreOptions{})
	var ke *KeyError
	if !errors.As(err, &ke) {
		t.Fatalf("wrong passphrase: %v; want a *KeyError", err)
	}
	// Truncated backup: fails and leaves the folder empty.
	cutDir := t.TempDir()
	err = Restore(ctx, bytes.NewReader(buf.Bytes()[:buf.Len()-100]), testPassphrase, cutDir, StoreOptions{})
	if err == nil {
		t.Fatal("a truncated backup restored without error")
	}
	if entries, _ := os.ReadDir(cutDir); len(entries) != 0 {
		t.Fatalf("failed restore left %d files", len(entries))
	}

	// Right passphrase, into a fresh folder and a plaintext store.
	dir := filepath.Join(t.TempDir(), "restored")
	if err := Restore(ctx, bytes.NewReader(buf.Bytes()), testPassphrase, dir, StoreOptions{}); err != nil {
		t.Fatal(err)
	}
	wantCode(t, Restore(ctx, bytes.NewReader(buf.Bytes()), testPassphrase, dir, StoreOptions{}), models.ECONFLICT)
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
