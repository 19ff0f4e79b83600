package engine

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// ChildStore is what the engine needs from durable storage.
type ChildStore interface {
	PutChild(ctx context.Context, c models.Child) error
	PutChildren(ctx context.Context, cs []models.Child) error
	GetChild(ctx context.Context, id string) (models.Child, error)
	DeleteChild(ctx context.Context, id string) error
	ChildByExternalRef(ctx context.Context, kind models.Kind, ref string) (models.Child, error)
	PutPhoto(ctx context.Context, p models.Photo, original []byte) error
	PhotoBytes(ctx context.Context, photoID string) ([]byte, string, error)
	GetPhoto(ctx context.Context, photoID string) (models.Photo, error)
	DeletePhoto(ctx context.Context, photoID string) error
	// ListChildren returns a page of records in id order (index.Store.ListChildren).
	ListChildren(ctx context.Context, f models.ChildFilter) ([]models.Child, string, error)
}

// AttributeIndex finds children whose names, age, sex and marks could match.
type AttributeIndex interface {
	Index(ctx context.Context, c *models.Child) error
	IndexBatch(ctx context.Context, cs []*models.Child) error
	Delete(ctx context.Context, id string) error
	Candidates(ctx context.Context, q *models.Child, limit int) ([]models.AttributeHit, error)
}

// FaceIndex finds the children whose photos are nearest a query's faces,
// among those of the kind searched whose sex the query admits.
type FaceIndex interface {
	Add(e models.FaceEntry) error
	// ReplaceChild atomically swaps a child's faces for entries, which may
	// carry a new sex.
	ReplaceChild(childID string, entries []models.FaceEntry) error
	RemoveChild(childID string) int
	Search(ctx context.Context, q models.FaceQuery, kind models.Kind, k int) ([]models.FaceHit, error)
}

// PhotoAnalyzer turns photo bytes into faces.
type PhotoAnalyzer interface {
	Analyze(ctx context.Context, data []byte) (*models.PhotoAnalysis, error)
}

// NameCounter keeps how common each name is among the records.
type NameCounter interface {
	Add(names []string)
	Remove(names []string)
	Of(token string) float64
}

// IDGenerator makes new record and photo ids.
type IDGenerator func() string

// Service is trackmatch's application core: it keeps records, photos and
// indexes in step, and ranks candidates. The API calls it; cmd builds it.
type Service struct {
	store    ChildStore
	matches  MatchStore
	attrs    AttributeIndex
	faces    FaceIndex
	photos   PhotoAnalyzer
	names    NameCounter
	scorer   atomic.Pointer[Scorer]
	newID    IDGenerator
	now      func() time.Time
	log      *slog.Logger
	priority *Priority // interactive calls counted, for the job to make way
	// queueThreshold is the least probability of an undecided match kept
	// after its record's evidence changes.
	queueThreshold float64
	createMu       sync.Mutex // serialises creates so external_ref stays unique
	// recordMu serialises every read-modify-write of a stored record
	// (update, the touch after a photo, delete, status), and keeps the
	// in-memory indexes in step with the store's order of writes. It is
	// never held across face analysis.
	recordMu sync.Mutex
	counts   kindCounts // records of each kind, for the gallery-size prior
	// matchRate holds the float64 bits of the share of children whose
	// record is on the other side (SetMatchRate); 0 for DefaultMatchRate.
	matchRate atomic.Uint64
}

// kindCounts counts records by kind, kept in step by create and delete.
type kindCounts struct {
	missing, found atomic.Int64
}

func (k *kindCounts) add(kind models.Kind, d int64) {
	if kind == models.KindMissing {
		k.missing.Add(d)
	} else {
		k.found.Add(d)
	}
}

func (k *kindCounts) of(kind models.Kind) int {
	if kind == models.KindMissing {
		return int(k.missing.Load())
	}
	return int(k.found.Load())
}

// ServiceDeps are the parts a Service is built from.
type ServiceDeps struct {
	Store   ChildStore
	Matches MatchStore
	Attrs   AttributeIndex
	Faces   FaceIndex
	Photos  PhotoAnalyzer
	Names   NameCounter
	Scorer  *Scorer
	NewID   IDGenerator
	Now     func() time.Time // nil = time.Now
	Logger  *slog.Logger
	// Priority counts the Service's interactive calls so that a running
	// re-scoring job makes way for them; nil makes one with the default
	// pause (NewPriority). Give the same one to the Rescorer.
	Priority *Priority
	// QueueThreshold is the least probability of an undecided match kept
	// when its record's evidence changes (DeletePhoto); 0 for
	// DefaultRescoreThreshold. The Rescorer's Threshold, in the API.
	QueueThreshold float64
}

// NewService builds a Service from its parts.
func NewService(d ServiceDeps) *Service {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Priority == nil {
		d.Priority = NewPriority(0)
	}
	if !(d.QueueThreshold > 0 && d.QueueThreshold <= 1) {
		d.QueueThreshold = DefaultRescoreThreshold
	}
	s := &Service{store: d.Store, matches: d.Matches, attrs: d.Attrs, faces: d.Faces, photos: d.Photos, names: d.Names,
		newID: d.NewID, now: d.Now, log: d.Logger, priority: d.Priority, queueThreshold: d.QueueThreshold}
	s.scorer.Store(d.Scorer)
	return s
}

// Priority is the Priority the Service counts its interactive calls with.
func (s *Service) Priority() *Priority { return s.priority }

// Scorer returns the scorer for the current parameters.
func (s *Service) Scorer() *Scorer { return s.scorer.Load() }

// MatchRate is the share of children the service assumes have a record
// on the other side: DefaultMatchRate until SetMatchRate.
func (s *Service) MatchRate() float64 {
	if r := math.Float64frombits(s.matchRate.Load()); r > 0 {
		return r
	}
	return DefaultMatchRate
}

// SetMatchRate sets the match rate of every probability computed after
// it (the re-scoring job sets its estimate, EstimateMatchRate); r <= 0
// goes back to DefaultMatchRate.
func (s *Service) SetMatchRate(r float64) {
	s.matchRate.Store(math.Float64bits(max(min(r, 1), 0)))
}

// SetScorer switches to new parameters; scores computed after it use them.
func (s *Service) SetScorer(sc *Scorer) { s.scorer.Store(sc) }
