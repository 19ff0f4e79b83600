package index

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"filippo.io/age"

	"github.com/trackmatch/trackmatch/models"
)

// MinPassphraseLen is the shortest backup passphrase accepted. A backup
// holds every child's record and photos; age's scrypt makes each guess cost
// about a second, which only helps if the passphrase is not guessable.
const MinPassphraseLen = 12

// The plaintext inside every backup opens with a header line, so that
// Restore can tell a trackmatch backup from any other age file and knows
// whether the store it came from was encrypted at rest. Version 1 headers
// (backupMagicV1, written before the second field existed) do not say.
const (
	backupMagicV1     = "trackmatch-backup 1\n"
	backupHeaderPlain = "trackmatch-backup 2 encrypted-at-rest=no\n"
	backupHeaderEnc   = "trackmatch-backup 2 encrypted-at-rest=yes\n"
)

// ErrPlaintextFromEncrypted is the error Restore returns when a backup of a
// store encrypted at rest, or of a store that may have been (an old backup
// that does not say), would be restored into a plaintext store without
// RestoreOptions.AllowPlaintext.
var ErrPlaintextFromEncrypted = errors.New("restore would write a plaintext store from the backup of an encrypted one")

// RestoreOptions configure Restore.
type RestoreOptions struct {
	// Store opens the new store; its EncryptionKey encrypts it, so a
	// restore can also change the key.
	Store StoreOptions
	// AllowPlaintext lets a backup of an encrypted store (or of one that
	// may have been) be restored without an encryption key, writing names,
	// marks and photos in clear. Without it such a restore is refused.
	AllowPlaintext bool
}

// Backup writes a full, consistent snapshot of the store to w, encrypted
// with age to the passphrase (scrypt recipient, work factor 2^18: about a
// second and 256 MiB to try one passphrase). Badger's backup stream is
// plaintext even from an encrypted store, so it never leaves this function
// unencrypted. Deleted records are not in it; records deleted after it was
// taken stay in it until the backup itself is destroyed.
func (s *Store) Backup(ctx context.Context, w io.Writer, passphrase string) error {
	if len(passphrase) < MinPassphraseLen {
		return models.Errorf(models.EINVALID, "backup passphrase must be at least %d characters", MinPassphraseLen)
	}
	if err := s.ready(ctx); err != nil {
		return err
	}
	rcpt, err := age.NewScryptRecipient(passphrase)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	aw, err := age.Encrypt(w, rcpt)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	header := backupHeaderPlain
	if s.encrypted {
		header = backupHeaderEnc
	}
	if _, err := io.WriteString(aw, header); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	stream := s.db.NewStream()
	stream.LogPrefix = "trackmatch backup"
	if _, err := stream.Backup(ctxWriter{ctx, aw}, 0); err != nil {
		if ctx.Err() != nil {
			return canceled(ctx.Err())
		}
		return fmt.Errorf("backup: %w", err)
	}
	// Close writes age's final, authenticated chunk: a backup cut short is
	// detected on restore rather than restored as a partial store.
	if err := aw.Close(); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return nil
}

// Restore reads a backup written by Backup from r, decrypts it with the
// passphrase and loads it into a new store in dir, which must be absent or
// empty (ECONFLICT otherwise). The new store is opened with opts.Store, so
// a restore can also change the encryption key. A backup of a store
// encrypted at rest, or an old backup that does not say, is refused with
// ErrPlaintextFromEncrypted when opts.Store has no key, unless
// opts.AllowPlaintext; nothing is written then. A wrong passphrase is a
// *KeyError; a damaged or truncated backup fails and leaves dir empty.
// Open the restored store with Open(dir, opts.Store).
func Restore(ctx context.Context, r io.Reader, passphrase, dir string, opts RestoreOptions) (err error) {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("restore: %w", err)
	}
	if len(entries) > 0 {
		return models.Errorf(models.ECONFLICT, "restore needs an empty folder, and %s is not", dir)
	}
	id, err := age.NewScryptIdentity(passphrase)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	plain, err := age.Decrypt(r, id)
	if err != nil {
		var nomatch *age.NoIdentityMatchError
		if errors.As(err, &nomatch) {
			return &KeyError{What: "backup", Err: err}
		}
		return fmt.Errorf("restore: not a readable backup: %w", err)
	}
	br := bufio.NewReader(plain)
	// A header without its newline in the first 4 KiB matches no case.
	header, _ := br.ReadSlice('\n')
	var fromEncrypted, known bool
	switch string(header) {
	case backupHeaderEnc:
		fromEncrypted, known = true, true
	case backupHeaderPlain:
		known = true
	case backupMagicV1:
	default:
		return models.Errorf(models.EINVALID, "this is not a trackmatch backup")
	}
	if len(opts.Store.EncryptionKey) == 0 && !opts.AllowPlaintext && (fromEncrypted || !known) {
		why := "the backup comes from a store encrypted at rest"
		if !known {
			why = "the backup does not say whether its store was encrypted at rest (it was written by an older trackmatch)"
		}
		return fmt.Errorf("%w: %s and no encryption key is given for the new store", ErrPlaintextFromEncrypted, why)
	}
	s, err := Open(dir, opts.Store)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	defer func() {
		if cerr := s.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("restore: %w", cerr)
		}
		if err != nil {
			removeContents(dir)
		}
	}()
	if err := s.db.Load(ctxReader{ctx, br}, 256); err != nil {
		if ctx.Err() != nil {
			return canceled(ctx.Err())
		}
		return fmt.Errorf("restore: load: %w", err)
	}
	// Badger's advice after loading a backup: put every table on one level.
	if err := s.db.Flatten(DefaultNumCompactors); err != nil {
		return fmt.Errorf("restore: flatten: %w", err)
	}
	return nil
}

// removeContents deletes everything inside dir (a failed restore's files)
// but not dir itself, which may be a mount point.
func removeContents(dir string) {
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		_ = os.RemoveAll(filepath.Join(dir, e.Name()))
	}
}

// ctxWriter and ctxReader stop a backup or restore when ctx is done.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
