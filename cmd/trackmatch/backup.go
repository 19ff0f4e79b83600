package main

// backup, restore and erase work on a data folder offline: the running
// server holds Badger's directory lock, so each refuses, saying so, while
// `trackmatch serve` has the folder open. That is the simplest correct
// choice: a backup taken offline is consistent by construction, and
// erasure must rewrite files the server has open. Stop the server, run
// the command, start the server again.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// runBackup implements `trackmatch backup --data DIR --out FILE`: a full
// snapshot of the store, encrypted with age to a passphrase read from
// --passphrase-file or TRACKMATCH_BACKUP_PASSPHRASE. The Bleve index is
// not in it (restore rebuilds it), nor are the API keys kept in the data
// folder (configuration, not data). FILE must not exist; it is written
// beside its final name and renamed when complete, so a FILE is always a
// whole backup.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("out", "", "backup file to write (must not exist)")
	passFile := fs.String("passphrase-file", "", "file holding the backup passphrase; else env TRACKMATCH_BACKUP_PASSPHRASE")
	finish := bindConfig(fs)
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	cfg, err := finish()
	if err != nil {
		return badUsage(err)
	}
	if *out == "" {
		return usagef("--out FILE is required")
	}
	pass, err := backupPassphrase(*passFile)
	if err != nil {
		return badUsage(err)
	}
	if _, err := os.Stat(*out); err == nil {
		return fmt.Errorf("%s exists; choose a new file", *out)
	}
	start := time.Now()
	st, err := openStoreOffline(cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	n, err := st.CountChildren(ctx, "")
	if err != nil {
		return err
	}
	if err := writeAtomically(*out, func(w io.Writer) error { return st.Backup(ctx, w, pass) }); err != nil {
		return err
	}
	fi, _ := os.Stat(*out)
	fmt.Fprintf(stdout, "backed up %d records to %s (%d bytes, encrypted) in %.1fs\n", n, *out, fi.Size(), time.Since(start).Seconds())
	return nil
}

// runRestore implements `trackmatch restore --in FILE --data NEWDIR`: it
// loads a backup into a new data folder (absent or empty) and builds the
// Bleve index from it; the vector index is built by serve at start. The
// new store is encrypted with --encryption-key-file or
// TRACKMATCH_ENCRYPTION_KEY when given, whatever the old one used. A
// backup of an encrypted store (or an old backup that does not say) is
// not restored without a key unless --allow-plaintext asks for a plaintext
// store on purpose.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	in := fs.String("in", "", "backup file to read")
	passFile := fs.String("passphrase-file", "", "file holding the backup passphrase; else env TRACKMATCH_BACKUP_PASSPHRASE")
	allowPlain := fs.Bool("allow-plaintext", false, "restore an encrypted store's backup into an unencrypted store (names, marks and photos in clear)")
	finish := bindConfig(fs)
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	cfg, err := finish()
	if err != nil {
		return badUsage(err)
	}
	if *in == "" {
		return usagef("--in FILE is required")
	}
	pass, err := backupPassphrase(*passFile)
	if err != nil {
		return badUsage(err)
	}
	if entries, err := os.ReadDir(cfg.Data); err == nil && len(entries) > 0 {
		return fmt.Errorf("%s is not empty; restore into a new folder", cfg.Data)
	}
	f, err := os.Open(*in)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	opts := index.RestoreOptions{Store: index.StoreOptions{EncryptionKey: cfg.EncryptionKey}, AllowPlaintext: *allowPlain}
	if err := index.Restore(ctx, f, pass, cfg.badgerDir(), opts); err != nil {
		if errors.Is(err, index.ErrPlaintextFromEncrypted) {
			return fmt.Errorf("%w.\nGive the new store a key with --encryption-key-file (or TRACKMATCH_ENCRYPTION_KEY), "+
				"or add --allow-plaintext to write it unencrypted on purpose", err)
		}
		return err
	}
	if cfg.EncryptionKey == nil && *allowPlain {
		fmt.Fprintf(stderr, "trackmatch restore: warning: %s is not encrypted at rest (--allow-plaintext)\n", cfg.Data)
	}
	n, err := rebuildAttrsOffline(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %d records into %s in %.1fs; start the server with --data %s\n", n, cfg.Data, time.Since(start).Seconds(), cfg.Data)
	return nil
}

// runErase implements `trackmatch erase --data DIR`, the erasure step after
// deletions: it makes Badger drop the deleted records' bytes from its files
// (Store.Erase) and rebuilds the Bleve index from the store into fresh
// files, removing the old ones, in which scorch keeps deleted documents
// until a merge. After it, no file in the data folder holds a deleted
// record's name, photo or descriptors. Backups taken before still do.
func runErase(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("erase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	finish := bindConfig(fs)
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	cfg, err := finish()
	if err != nil {
		return badUsage(err)
	}
	if _, err := os.Stat(cfg.badgerDir()); err != nil {
		return fmt.Errorf("no store in %s: %w", cfg.Data, err)
	}
	start := time.Now()
	st, err := openStoreOffline(cfg)
	if err != nil {
		return err
	}
	err = st.Erase(ctx)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	n, err := rebuildAttrsOffline(ctx, cfg)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "erased deleted data from %s (%d records kept) in %.1fs\n", cfg.Data, n, time.Since(start).Seconds())
	return nil
}

// openStoreOffline opens the data folder's store for a command that runs
// while the server is stopped, saying so when the server has it open.
func openStoreOffline(cfg config) (*index.Store, error) {
	st, err := index.Open(cfg.badgerDir(), index.StoreOptions{EncryptionKey: cfg.EncryptionKey})
	if models.ErrorCode(err) == models.ECONFLICT {
		return nil, fmt.Errorf("%w; this command runs offline: stop `trackmatch serve` first", err)
	}
	return st, err
}

// rebuildAttrsOffline rebuilds the data folder's Bleve index from its
// store into fresh files and closes both; it returns the record count. For
// an encrypted store it writes no index that is not already on disk: Bleve
// files are plaintext, and the server can build its index in memory.
func rebuildAttrsOffline(ctx context.Context, cfg config) (int, error) {
	st, err := openStoreOffline(cfg)
	if err != nil {
		return 0, err
	}
	defer st.Close()
	if _, err := os.Stat(cfg.bleveDir()); cfg.EncryptionKey != nil && errors.Is(err, os.ErrNotExist) {
		return st.CountChildren(ctx, "")
	}
	attrs, err := index.OpenAttributeIndex(cfg.bleveDir())
	if err != nil {
		return 0, fmt.Errorf("open attribute index: %w", err)
	}
	err = attrs.Rebuild(ctx, storeSource(ctx, st))
	if cerr := attrs.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("rebuild attribute index: %w", err)
	}
	return st.CountChildren(ctx, "")
}

// backupPassphrase reads the passphrase from file (trailing newline
// dropped) or else TRACKMATCH_BACKUP_PASSPHRASE.
func backupPassphrase(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("read passphrase file: %w", err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if p := os.Getenv("TRACKMATCH_BACKUP_PASSPHRASE"); p != "" {
		return p, nil
	}
	return "", errors.New("no passphrase: use --passphrase-file or set TRACKMATCH_BACKUP_PASSPHRASE")
}

// writeAtomically writes path through write, into a temporary file beside
// it (mode 0600) renamed into place only when write and the sync succeed.
func writeAtomically(path string, write func(io.Writer) error) (err error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".partial-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
