// Package api is trackmatch's HTTP layer: gin handlers for records, photos,
// searches, matches, jobs and the audit log, with API-key authentication,
// per-key rate limits, body limits, structured access logs that carry no
// child data, Prometheus metrics and an OpenAPI 3 document built from the
// same route table that registers the handlers.
package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/trackmatch/trackmatch/models"
)

// ChildService stores child records and their photos and searches them.
type ChildService interface {
	// CreateChild is idempotent on (kind, external_ref): created=false
	// returns the record already stored.
	CreateChild(ctx context.Context, c *models.Child) (child *models.Child, created bool, err error)
	GetChild(ctx context.Context, id string) (*models.Child, error) // models.ENOTFOUND
	UpdateChild(ctx context.Context, id string, c *models.Child) (*models.Child, error)
	DeleteChild(ctx context.Context, id string) error
	// AddPhoto fails with models.ENOFACE, EUNSUPPORTED, ECORRUPT or ETOOLARGE.
	AddPhoto(ctx context.Context, childID string, data []byte) (*models.Photo, error)
	PhotoBytes(ctx context.Context, photoID string) (data []byte, contentType string, err error)
	Candidates(ctx context.Context, id string, limit int) ([]models.Candidate, error)
	// Search scores a query record and photos against stored records of
	// the other kind, and stores nothing.
	Search(ctx context.Context, q *models.Child, photos [][]byte, limit int) ([]models.Candidate, error)
	// ListChildren returns a page of records, in creation order.
	ListChildren(ctx context.Context, f models.ChildFilter) (children []models.Child, nextCursor string, err error)
	// DeletePhoto removes a photo, its faces and descriptors, and re-scores
	// the record's matches without it; models.ENOTFOUND for an unknown id.
	DeletePhoto(ctx context.Context, photoID string) error
}

// MatchService lists scored pairs for review and records decisions on them.
type MatchService interface {
	ListMatches(ctx context.Context, f models.MatchFilter) (matches []models.Match, nextCursor string, err error)
	DecideMatch(ctx context.Context, id string, d models.Decision) (*models.Match, error)
	// ListDecisions returns a page of the history of decisions, oldest first.
	ListDecisions(ctx context.Context, f models.DecisionFilter) (decisions []models.DecisionRecord, nextCursor string, err error)
}

// JobService runs and reports background re-scoring jobs.
type JobService interface {
	StartRescore(ctx context.Context, full bool) (*models.Job, error)
	GetJob(ctx context.Context, id string) (*models.Job, error)
	CancelJob(ctx context.Context, id string) (*models.Job, error)
	// ListJobs returns up to limit jobs, newest first, running or not.
	ListJobs(ctx context.Context, limit int) ([]models.Job, error)
}

// AuditLog stores and lists the audit trail.
type AuditLog interface {
	AppendAudit(ctx context.Context, e models.AuditEntry) (models.AuditEntry, error)
	ListAudit(ctx context.Context, since time.Time, limit int, cursor string) (entries []models.AuditEntry, nextCursor string, err error)
}

// Config holds the HTTP layer's limits. A zero field takes the default in
// its comment.
type Config struct {
	// Keys are the accepted API keys (see ParseKeys). With none, every /v1
	// request is refused with 401.
	Keys []Key
	// RatePerSecond and RateBurst bound each key's request rate (20, 40).
	RatePerSecond float64
	RateBurst     int
	// MaxJSONBytes bounds a JSON body and the query part of a search (1 MB).
	MaxJSONBytes int64
	// MaxPhotoBytes bounds one photo (20 MB).
	MaxPhotoBytes int64
	// MaxSearchBytes bounds the photos of one search together (64 MB).
	MaxSearchBytes int64
	// MaxPhotosPerSearch bounds the photo parts of one search (10).
	MaxPhotosPerSearch int
	// MaxConcurrentEmbeds bounds the photo uploads and searches with photos
	// being analysed at once (4): a request takes a slot once its photos
	// are read and keeps it until the service returns (capacity.go).
	MaxConcurrentEmbeds int
	// MaxPhotoBytesInFlight bounds the photo bytes held by requests in
	// flight together (2 × MaxConcurrentEmbeds × MaxPhotoBytes, 160 MB:
	// a photo for every slot and one more waiting for each; never less
	// than one search of the largest size). A request reserves it as its photos arrive, so
	// a client trickling its body holds only what it has sent; past the
	// bound a request gets 503.
	MaxPhotoBytesInFlight int64
	// EmbedWait is how long a photo request whose photos are read waits
	// for a free slot before it gets 503 unavailable (2s).
	EmbedWait time.Duration
	// PhotoReadTimeout is how long a photo request may take to send its
	// body (2m), so a slow or stalled client cannot hold its photo bytes
	// for ever.
	PhotoReadTimeout time.Duration
}

// Defaults for Config's zero fields.
const (
	DefaultRatePerSecond       = 20
	DefaultRateBurst           = 40
	DefaultMaxJSONBytes        = 1 << 20
	DefaultMaxPhotoBytes       = 20 << 20
	DefaultMaxSearchBytes      = 64 << 20
	DefaultMaxPhotosPerSearch  = 10
	DefaultMaxConcurrentEmbeds = 4
	DefaultEmbedWait           = 2 * time.Second
	DefaultPhotoReadTimeout    = 2 * time.Minute
)

func (c Config) withDefaults() Config {
	if c.RatePerSecond <= 0 {
		c.RatePerSecond = DefaultRatePerSecond
	}
	if c.RateBurst <= 0 {
		c.RateBurst = DefaultRateBurst
	}
	if c.MaxJSONBytes <= 0 {
		c.MaxJSONBytes = DefaultMaxJSONBytes
	}
	if c.MaxPhotoBytes <= 0 {
		c.MaxPhotoBytes = DefaultMaxPhotoBytes
	}
	if c.MaxSearchBytes <= 0 {
		c.MaxSearchBytes = DefaultMaxSearchBytes
	}
	if c.MaxPhotosPerSearch <= 0 {
		c.MaxPhotosPerSearch = DefaultMaxPhotosPerSearch
	}
	if c.MaxConcurrentEmbeds <= 0 {
		c.MaxConcurrentEmbeds = DefaultMaxConcurrentEmbeds
	}
	if c.MaxPhotoBytesInFlight <= 0 {
		c.MaxPhotoBytesInFlight = 2 * int64(c.MaxConcurrentEmbeds) * c.MaxPhotoBytes
	}
	// One search of the largest size always fits.
	c.MaxPhotoBytesInFlight = max(c.MaxPhotoBytesInFlight, c.MaxSearchBytes+c.MaxJSONBytes+multipartSlack)
	if c.EmbedWait <= 0 {
		c.EmbedWait = DefaultEmbedWait
	}
	if c.PhotoReadTimeout <= 0 {
		c.PhotoReadTimeout = DefaultPhotoReadTimeout
	}
	return c
}

// Deps are the services the handlers call and the process's observability
// sinks.
type Deps struct {
	Children ChildService
	Matches  MatchService
	Jobs     JobService
	Audit    AuditLog
	// Ready reports nil once models and indexes are loaded. It is called
	// on every /v1 request and by /readyz, so it must be cheap. Nil means
	// always ready.
	Ready func() error
	// Logger receives access and error logs (nil: discard).
	Logger *slog.Logger
	// Registry is served at /metrics; New registers the HTTP metrics on it
	// (nil: a fresh registry).
	Registry *prometheus.Registry
	// Now is the clock for validation, decisions and audit (nil: time.Now).
	Now func() time.Time
	// Import loads batches for POST /v1/import (nil: that route answers 503).
	Import Importer
}

// Server is the HTTP layer: build it with New, serve Handler.
type Server struct {
	cfg      Config
	children ChildService
	matches  MatchService
	jobs     JobService
	audit    AuditLog
	ready    func() error
	log      *slog.Logger
	now      func() time.Time
	registry *prometheus.Registry

	keys       []keyEntry
	embeds     chan struct{} // semaphore: one token per photo request being analysed
	importer   Importer
	imports    chan struct{} // one import batch at a time
	photoBytes chan struct{} // semaphore: one token per budgetChunk of photo bytes held
	metrics    *httpMetrics
	openapi    []byte // the OpenAPI document, built once from the route table
	engine     *gin.Engine
}

// New builds the server: routes, middleware, metrics and the OpenAPI
// document. It panics if a service is nil or the route table cannot be
// described, both programming errors found at startup.
func New(cfg Config, deps Deps) *Server {
	switch {
	case deps.Children == nil:
		panic("api.New: Deps.Children is nil")
	case deps.Matches == nil:
		panic("api.New: Deps.Matches is nil")
	case deps.Jobs == nil:
		panic("api.New: Deps.Jobs is nil")
	case deps.Audit == nil:
		panic("api.New: Deps.Audit is nil")
	}
	cfg = cfg.withDefaults()
	s := &Server{
		cfg:        cfg,
		children:   deps.Children,
		matches:    deps.Matches,
		jobs:       deps.Jobs,
		audit:      deps.Audit,
		ready:      deps.Ready,
		log:        deps.Logger,
		now:        deps.Now,
		registry:   deps.Registry,
		embeds:     make(chan struct{}, cfg.MaxConcurrentEmbeds),
		importer:   deps.Import,
		imports:    make(chan struct{}, 1),
		photoBytes: make(chan struct{}, (cfg.MaxPhotoBytesInFlight+budgetChunk-1)/budgetChunk),
	}
	if s.ready == nil {
		s.ready = func() error { return nil }
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.registry == nil {
		s.registry = prometheus.NewRegistry()
	}
	for _, k := range cfg.Keys {
		s.keys = append(s.keys, newKeyEntry(k, rate.Limit(cfg.RatePerSecond), cfg.RateBurst))
	}
	if len(s.keys) == 0 {
		s.log.Warn("no API keys configured: every /v1 request will be refused")
	}
	s.metrics = newHTTPMetrics(s.registry, func() float64 { return float64(len(s.embeds)) })
	routes := s.routes()
	doc, err := buildOpenAPI(routes, cfg)
	if err != nil {
		panic(fmt.Sprintf("api.New: OpenAPI document: %v", err))
	}
	if s.openapi, err = json.Marshal(doc); err != nil {
		panic(fmt.Sprintf("api.New: OpenAPI document: %v", err))
	}
	s.engine = s.newEngine(routes)
	return s
}

// Handler is the http.Handler to serve.
func (s *Server) Handler() http.Handler { return s.engine }
