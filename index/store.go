// Package index holds trackmatch's durable store (Badger), its name and
// attribute index (Bleve) and its in-memory face vector index. The store is
// the source of truth; the other two are rebuilt from it at start.
package index

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	badger "github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/trackmatch/trackmatch/models"
)

// Key layout. Every key is ASCII: a one-letter prefix naming the record
// type, '/' separators, and ids made of [0-9A-Za-z_] (all of which sort after
// '/', so a child's own keys sit right after its record). <p>, <at>, <n> and
// <version> are fixed-width big-endian binary so that byte order is the order
// listings need. Values are JSON unless noted.
//
//	c/<childID>                  child record, without its photos
//	c/<childID>/p/<photoID>      photo metadata; binary envelope: JSON with the
//	                             descriptors cut out, then 512 bytes per face (photo.go)
//	c/<childID>/g                empty guard: set by PutPhoto and PutMatch, read by
//	                             DeleteChild, so Badger's conflict detection makes
//	                             a concurrent pair retry instead of leaving orphans
//	i/<photoID>                  -> childID: find a photo by its id alone
//	b/<photoID>/<n>              original photo bytes, chunk n (uint32), <= 256 KiB each
//	x/<kind>/<externalRef>       -> childID: portal reference, unique per kind
//	m/<matchID>                  match (matchID = missingID~foundID)
//	q/a/<p>/<matchID>            empty: review queue over every match, best first
//	q/s/<status>/<p>/<matchID>   empty: review queue per match status, best first
//	                             (p = ^float64bits(probability), so bytes ascend as
//	                             probability descends; ties go by match id)
//	r/<childID>/<matchID>        empty: the matches a child is in (both sides)
//	d/<at>/<matchID>             decision record: the history of decisions, oldest
//	                             first (at as in a/); one per decision, kept when a
//	                             later decision replaces it on the match (listing.go)
//	e/<matchID>/<at>             empty: finds a match's d/ entries, to delete them
//	                             with the match
//	j/<jobID>                    job
//	a/<at>/<auditID>             audit entry (at = uint64 unix nanoseconds)
//	v/<version>                  scoring params (version = uint32); every version kept
//	z/erase                      transient marker written and dropped by Erase
//	o/<deliveryID>, n/<matchID>  webhook outbox and its once-per-match marks (outbox.go)
//
// Listing records (ListChildren) has no index but x/: the other filters
// are checked on a scan of c/ bounded per page (listing.go).
//
// Keys hold ids only, except x/ which holds the portal reference; names,
// photos and descriptors are in values.
//
// Every value stays below Badger's value threshold (photo bytes are chunked
// for this), so values live in the LSM tree and never in the value log:
// compaction alone removes deleted data, which is what makes Erase work.
const (
	prefixChild    = "c/"
	prefixPhotoIdx = "i/"
	prefixBytes    = "b/"
	prefixExtRef   = "x/"
	prefixMatch    = "m/"
	prefixQueueAll = "q/a/"
	prefixQueueSt  = "q/s/"
	prefixChildRel = "r/"
	prefixJob      = "j/"
	prefixAudit    = "a/"
	prefixParams   = "v/"
	prefixErase    = "z/"
)

// Key prefixes of the history of decisions (listing.go).
const (
	prefixDecision   = "d/"
	prefixDecisionOf = "e/"
)

// Defaults for StoreOptions, chosen for a 2-core, 24 GiB machine that also
// runs dlib, Bleve and the vector index: Badger stays under about 0.8 GiB.
const (
	// DefaultMemTableSize bounds the memtable; Badger refuses a transaction
	// over 15% of it, so 160 MiB admits a photo of up to about 24 MiB, above
	// the API's 20 MB photo limit with room for the metadata.
	DefaultMemTableSize = 160 << 20
	// MinMemTableSize is the smallest memtable Badger accepts with values
	// kept in the LSM tree up to 1 MiB (the transaction limit is 15% of it).
	MinMemTableSize = 8 << 20
	// DefaultNumMemtables is how many memtables may wait for a flush (3 x 160 MiB).
	DefaultNumMemtables = 3
	// DefaultBlockCacheSize caches decrypted blocks; used only with encryption,
	// since plaintext blocks are read straight from the OS page cache.
	DefaultBlockCacheSize = 256 << 20
	// DefaultIndexCacheSize caps memory for table indexes and bloom filters
	// (Badger requires a cap with encryption; it also bounds memory without).
	DefaultIndexCacheSize = 64 << 20
	// DefaultValueLogFileSize keeps value-log files small: no value is large
	// enough to go there (see the key layout), but Badger keeps one open.
	DefaultValueLogFileSize = 64 << 20
	// DefaultNumCompactors is one compactor per core (Badger needs at least 2).
	DefaultNumCompactors = 2
)

// Internal limits.
const (
	photoChunkSize     = 256 << 10 // well under the 1 MiB value threshold
	valueThreshold     = 1 << 20   // Badger's maximum: values below it stay in the LSM tree
	maxConflictRetries = 8
	maxBlockedRetries  = 400 // x blockedRetryWait: 10 s
	blockedRetryWait   = 25 * time.Millisecond
	childPageSize      = 256 // children per read transaction when scanning
	maxIDLen           = 64
	// DefaultPageSize is the page length of listings when the caller gives none.
	DefaultPageSize = 50
	// MaxPageSize is the longest page a listing returns.
	MaxPageSize = 1000
)

// StoreOptions configure Open. The zero value is a plaintext store with the
// defaults above; a zero numeric field means its default.
type StoreOptions struct {
	// EncryptionKey turns on AES encryption at rest: 16, 24 or 32 bytes
	// (AES-128/192/256). nil means plaintext. A store created with a key can
	// only be opened with the same key.
	EncryptionKey []byte
	// Logger receives Badger's warnings and errors (never its info chatter);
	// nil discards them.
	Logger *slog.Logger
	// MemTableSize, NumMemtables, BlockCacheSize, IndexCacheSize,
	// ValueLogFileSize and NumCompactors override the Default* constants.
	// MemTableSize must be at least MinMemTableSize.
	MemTableSize     int64
	NumMemtables     int
	BlockCacheSize   int64
	IndexCacheSize   int64
	ValueLogFileSize int64
	NumCompactors    int
	// Clock gives the time for CreatedAt and audit defaults; nil is time.Now.
	Clock func() time.Time
	// MatchEventThreshold, when above 0, makes a match reaching this
	// probability for the first time queue a webhook delivery (outbox.go).
	MatchEventThreshold float64

	// unsyncedWrites turns durability off; only the SyncWrites benchmark sets it.
	unsyncedWrites bool
}

// Store is trackmatch's durable store. Every write is acknowledged only once
// it is on disk (Badger SyncWrites). Safe for concurrent use.
type Store struct {
	db          *badger.DB
	dir         string
	log         *slog.Logger
	now         func() time.Time
	encrypted   bool // opened with an encryption key; backups record it
	closed      atomic.Bool
	closeOnce   sync.Once
	closeErr    error
	childScan   int     // records a ListChildren page examines at most; 0 is maxChildScan
	matchEvents float64 // StoreOptions.MatchEventThreshold
}

// KeyError reports that a key or passphrase does not open an encrypted
// store or backup: it is wrong, missing, or given for a plaintext store.
type KeyError struct {
	What string // "store" or "backup"
	Path string // the store's folder; empty for a backup
	Err  error  // the underlying cause
}

// Error implements the error interface.
func (e *KeyError) Error() string {
	if e.What == "backup" {
		return "index: the passphrase does not open this backup"
	}
	return fmt.Sprintf("index: the encryption key does not open the store at %s "+
		"(wrong key, no key for an encrypted store, or a key for a plaintext one)", e.Path)
}

// Unwrap returns the underlying cause.
func (e *KeyError) Unwrap() error { return e.Err }

// Open opens the store in dir, creating it (mode 0700) when absent. One
// process at a time: a store another process has open is ECONFLICT.
func Open(dir string, opts StoreOptions) (*Store, error) {
	switch len(opts.EncryptionKey) {
	case 0, 16, 24, 32:
	default:
		return nil, models.Errorf(models.EINVALID,
			"encryption key must be 16, 24 or 32 bytes, got %d", len(opts.EncryptionKey))
	}
	if opts.MemTableSize != 0 && opts.MemTableSize < MinMemTableSize {
		return nil, models.Errorf(models.EINVALID, "memtable size must be at least %d bytes", MinMemTableSize)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	now := opts.Clock
	if now == nil {
		now = time.Now
	}
	encrypted := len(opts.EncryptionKey) > 0
	blockCache := opts.BlockCacheSize
	if blockCache == 0 && encrypted {
		blockCache = DefaultBlockCacheSize
	}
	bo := badger.DefaultOptions(dir).
		WithLogger(badgerLogger{logger}).
		WithSyncWrites(!opts.unsyncedWrites).
		WithNumVersionsToKeep(1).
		WithDetectConflicts(true). // PutMatch and PutPhoto rely on it to never outlive DeleteChild
		WithMetricsEnabled(false).
		// No compression: records are small, photos are already compressed, and
		// an uncompressed file can be checked for leftover plaintext after Erase.
		WithCompression(options.None).
		WithValueThreshold(valueThreshold).
		WithMemTableSize(orInt64(opts.MemTableSize, DefaultMemTableSize)).
		WithNumMemtables(orInt(opts.NumMemtables, DefaultNumMemtables)).
		WithBlockCacheSize(blockCache).
		WithIndexCacheSize(orInt64(opts.IndexCacheSize, DefaultIndexCacheSize)).
		WithValueLogFileSize(orInt64(opts.ValueLogFileSize, DefaultValueLogFileSize)).
		WithNumCompactors(orInt(opts.NumCompactors, DefaultNumCompactors)).
		WithNumGoroutines(2).
		WithEncryptionKey(opts.EncryptionKey)
	db, err := badger.Open(bo)
	if err != nil {
		if errors.Is(err, badger.ErrEncryptionKeyMismatch) {
			return nil, &KeyError{What: "store", Path: dir, Err: err}
		}
		// Badger has no sentinel for its directory lock; this is its text.
		if strings.Contains(err.Error(), "Another process is using this Badger database") {
			return nil, fmt.Errorf("%w: %w", models.Errorf(models.ECONFLICT,
				"the store at %s is in use by another process (a running trackmatch serve?)", dir), err)
		}
		return nil, fmt.Errorf("open store %s: %w", dir, err)
	}
	return &Store{db: db, dir: dir, log: logger, now: now, encrypted: encrypted, matchEvents: opts.MatchEventThreshold}, nil
}

// Close flushes and closes the store. It is safe to call more than once.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		if err := s.db.Close(); err != nil {
			s.closeErr = fmt.Errorf("close store: %w", err)
		}
	})
	return s.closeErr
}

// Erase makes deletions physical: after it returns, the bytes of every
// record, photo and match deleted before it started are gone from the files
// in the store's folder. It flushes the memtables (so the write-ahead .mem
// file holding them is deleted), compacts every level into one (so each
// deleted key's old versions meet its tombstone and both are dropped), and
// garbage-collects the value log (which Badger uses only for values over the
// threshold; the store keeps every value under it).
//
// What it does not guarantee: a read transaction that was open when Erase
// began keeps old versions and files alive until it ends (the store's own
// scans hold one only for a page); the file system and the disk may keep
// freed blocks (only encryption at rest protects those); backups taken
// before the deletion still hold the data. It rewrites most of the LSM tree
// and pauses writes while memtables flush, so run it after deletions, not
// per request.
func (s *Store) Erase(ctx context.Context) error {
	if err := s.update(ctx, func(txn *badger.Txn) error {
		return txn.Set([]byte(prefixErase+"erase"), []byte{1})
	}); err != nil {
		return fmt.Errorf("erase: %w", err)
	}
	// DropPrefix is Badger's only public way to force a memtable flush; it
	// also compacts level 0 into the tree, skipping the marker.
	if err := s.db.DropPrefix([]byte(prefixErase)); err != nil {
		return fmt.Errorf("erase: flush memtables: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return canceled(err)
	}
	if err := s.db.Flatten(DefaultNumCompactors); err != nil {
		return fmt.Errorf("erase: flatten: %w", err)
	}
	for range 1000 {
		if err := ctx.Err(); err != nil {
			return canceled(err)
		}
		err := s.db.RunValueLogGC(1e-9)
		if errors.Is(err, badger.ErrNoRewrite) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("erase: value log gc: %w", err)
		}
	}
	return nil
}

// NewID returns a new record id: 32 lowercase hex digits, the first 12 the
// creation time in milliseconds and the rest random (crypto/rand), so ids
// are unguessable and listings by id run in creation order (to the ms).
func NewID() string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	for i := range 6 {
		b[i] = byte(ms >> (40 - 8*i))
	}
	_, _ = rand.Read(b[6:]) // never fails (crypto/rand.Read panics instead)
	return hex.EncodeToString(b[:])
}

// validID reports whether id can be a key component: 1-64 characters of
// [0-9A-Za-z_]. Ids from NewID always are.
func validID(id string) bool {
	if len(id) == 0 || len(id) > maxIDLen {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			return false
		}
	}
	return true
}

// update runs fn in a read-write transaction, retrying on Badger's
// optimistic-concurrency conflicts; the commit is durable when it returns.
func (s *Store) update(ctx context.Context, fn func(txn *badger.Txn) error) error {
	for attempt := 0; ; attempt++ {
		if err := s.ready(ctx); err != nil {
			return err
		}
		err := s.db.Update(fn)
		if errors.Is(err, badger.ErrConflict) && attempt < maxConflictRetries {
			continue
		}
		if errors.Is(err, badger.ErrBlockedWrites) && attempt < maxBlockedRetries {
			// Erase pauses writes while it flushes the memtables; wait it out.
			select {
			case <-ctx.Done():
				return canceled(ctx.Err())
			case <-time.After(blockedRetryWait):
			}
			continue
		}
		if errors.Is(err, badger.ErrConflict) {
			return models.Errorf(models.EUNAVAILABLE, "too many concurrent writes; try again")
		}
		return err
	}
}

// view runs fn in a read-only snapshot transaction.
func (s *Store) view(ctx context.Context, fn func(txn *badger.Txn) error) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	return s.db.View(fn)
}

func (s *Store) ready(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return canceled(err)
	}
	if s.closed.Load() {
		return models.Errorf(models.EUNAVAILABLE, "the store is closed")
	}
	return nil
}

// canceled wraps a context error so that callers can branch both on the
// ECANCELED code and on errors.Is(err, context.Canceled).
func canceled(err error) error {
	return fmt.Errorf("%w: %w", models.Errorf(models.ECANCELED, "the request was canceled"), err)
}

// getValue returns a copy of key's value, or ok=false when it is absent.
func getValue(txn *badger.Txn, key []byte) (val []byte, ok bool, err error) {
	item, err := txn.Get(key)
	if errors.Is(err, badger.ErrKeyNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	val, err = item.ValueCopy(nil)
	return val, err == nil, err
}

// keysWithPrefix returns copies of every key under prefix.
func keysWithPrefix(txn *badger.Txn, prefix []byte) [][]byte {
	it := txn.NewIterator(badger.IteratorOptions{Prefix: prefix})
	defer it.Close()
	var keys [][]byte
	for it.Rewind(); it.Valid(); it.Next() {
		keys = append(keys, it.Item().KeyCopy(nil))
	}
	return keys
}

func orInt64(v, def int64) int64 {
	if v == 0 {
		return def
	}
	return v
}

func orInt(v, def int) int {
	if v == 0 {
		return def
	}
	return v
}

// badgerLogger adapts Badger's printf logger to slog at warning level:
// Badger's info and debug lines are dropped, so it never prints to stderr.
type badgerLogger struct{ log *slog.Logger }

func (l badgerLogger) Errorf(f string, a ...any) {
	l.log.Error(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}

func (l badgerLogger) Warningf(f string, a ...any) {
	l.log.Warn(strings.TrimSpace(fmt.Sprintf(f, a...)), "component", "badger")
}

func (badgerLogger) Infof(string, ...any)  {}
func (badgerLogger) Debugf(string, ...any) {}
