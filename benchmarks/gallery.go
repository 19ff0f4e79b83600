package benchmarks

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/trackmatch/trackmatch/benchmarks/synth"
	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// GalleryConfig shapes a synthetic gallery: found children, missing
// children, and true pairs between them.
type GalleryConfig struct {
	// Dir is the data folder, laid out as `trackmatch serve --data` opens
	// it (Dir/badger, Dir/bleve).
	Dir string
	// Found and Missing are the records of each kind, Pairs of which (on
	// each side) are the same child.
	Found, Missing, Pairs int
	Seed                  uint64
	// Analyzer reads photos other than descriptorPhoto's (the real face
	// pipeline, for a benchmark that also uploads real photos); nil for
	// descriptors only.
	Analyzer engine.PhotoAnalyzer
	Logger   *slog.Logger
}

// Gallery is a filled data folder, open, with the engine over it.
type Gallery struct {
	Config  GalleryConfig
	Store   *index.Store
	Attrs   *index.AttributeIndex
	Faces   *index.VectorIndex
	Service *engine.Service
	// Truth maps each paired missing child's id to its found child's id;
	// Queries lists those missing ids in the order they were made.
	Truth   map[string]string
	Queries []string
	// Photos is the number of face descriptors stored (one per record).
	Photos int
	// Imported is how long Service.Import took for every record.
	Imported time.Duration
}

// galleryChunk is how many records BuildGallery generates and imports at a
// time, so that a million records are never all in memory at once.
const galleryChunk = 20_000

// BuildGallery generates the records of cfg (package synth: realistic
// names, attributes and face descriptors following the real model's
// distances on children) and enrols them through engine.Service.Import
// into a new data folder, with the default scoring parameters stored.
func BuildGallery(ctx context.Context, cfg GalleryConfig) (*Gallery, error) {
	if cfg.Pairs > min(cfg.Found, cfg.Missing) {
		return nil, fmt.Errorf("gallery: %d pairs need as many records of each kind", cfg.Pairs)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("gallery: %w", err)
	}
	g := &Gallery{Config: cfg, Truth: map[string]string{}}
	if err := g.open(ctx, false); err != nil {
		return nil, err
	}
	start := time.Now()
	if err := g.fill(ctx); err != nil {
		g.Close()
		return nil, err
	}
	g.Imported = time.Since(start)
	return g, nil
}

// open opens the store and indexes in cfg.Dir and builds the Service over
// them; load=true fills the in-memory indexes from the store, as the
// server does at start.
func (g *Gallery) open(ctx context.Context, load bool) error {
	var err error
	if g.Store, err = index.Open(filepath.Join(g.Config.Dir, "badger"), index.StoreOptions{Logger: g.Config.Logger}); err != nil {
		return fmt.Errorf("gallery: %w", err)
	}
	if g.Attrs, err = index.OpenAttributeIndex(filepath.Join(g.Config.Dir, "bleve")); err != nil {
		g.Store.Close()
		return fmt.Errorf("gallery: %w", err)
	}
	params, err := g.Store.LatestParams(ctx)
	if models.ErrorCode(err) == models.ENOTFOUND {
		params, err = g.Store.PutParams(ctx, engine.DefaultParams())
	}
	if err != nil {
		g.Close()
		return fmt.Errorf("gallery params: %w", err)
	}
	sc, err := engine.NewScorer(params)
	if err != nil {
		g.Close()
		return fmt.Errorf("gallery scorer: %w", err)
	}
	g.Faces = index.NewVectorIndex()
	g.Service = engine.NewService(engine.ServiceDeps{Store: g.Store, Matches: g.Store, Attrs: g.Attrs,
		Faces: g.Faces, Photos: descriptorAnalyzer{g.Config.Analyzer}, Names: names.NewFrequencies(), Scorer: sc,
		NewID: index.NewID, Logger: g.Config.Logger})
	if load {
		if _, _, err := g.Service.LoadIndexes(ctx, g.Store); err != nil {
			g.Close()
			return fmt.Errorf("gallery: %w", err)
		}
	}
	return nil
}

// Reopen closes the gallery and opens it again from disk, the in-memory
// indexes rebuilt from the store; it returns how long the opening took.
func (g *Gallery) Reopen(ctx context.Context) (time.Duration, error) {
	if err := g.Close(); err != nil {
		return 0, err
	}
	start := time.Now()
	err := g.open(ctx, true)
	return time.Since(start), err
}

// Close closes the indexes and the store and lets the in-memory indexes
// go; the data folder stays.
func (g *Gallery) Close() error {
	g.Service, g.Faces = nil, nil
	var err error
	if g.Attrs != nil {
		err = g.Attrs.Close()
		g.Attrs = nil
	}
	if g.Store != nil {
		if cerr := g.Store.Close(); err == nil {
			err = cerr
		}
		g.Store = nil
	}
	return err
}

// fill generates the records, true pairs spread at random among the
// others, and imports them a chunk at a time.
func (g *Gallery) fill(ctx context.Context) error {
	cfg := g.Config
	faces := synth.NewFaces(int64(cfg.Seed), synth.ChildFaces())
	gp := synth.New(int64(cfg.Seed), synth.Config{})
	gm := synth.New(int64(cfg.Seed)+1, synth.Config{MissingShare: 1})
	gf := synth.New(int64(cfg.Seed)+2, synth.Config{MissingShare: 1e-9})
	rng := rand.New(rand.NewPCG(cfg.Seed, 3))
	pairs, missing, found := cfg.Pairs, cfg.Missing-cfg.Pairs, cfg.Found-cfg.Pairs
	var chunk []models.Child
	var pairAt []int // indexes in chunk of each pair's missing record (found follows it)
	flush := func() error {
		if err := g.Service.Import(ctx, chunk); err != nil {
			return fmt.Errorf("gallery: %w", err)
		}
		for _, i := range pairAt {
			g.Truth[chunk[i].ID] = chunk[i+1].ID
			g.Queries = append(g.Queries, chunk[i].ID)
		}
		g.Photos += len(chunk)
		chunk, pairAt = chunk[:0], pairAt[:0]
		return nil
	}
	withPhoto := func(c models.Child, d models.Descriptor) models.Child {
		c.ID = ""
		c.Photos = []models.Photo{{ContentType: "image/jpeg", Width: 480, Height: 640, TakenOn: c.ObservedOn,
			Faces: []models.Face{{Box: [4]int{120, 160, 240, 240}, Descriptor: &d}}, Subject: 0}}
		return c
	}
	for left := 2*pairs + missing + found; left > 0; left-- {
		switch r := rng.IntN(left); {
		case r < 2*pairs:
			pairs--
			m, f := gp.Pair()
			id := faces.Identity()
			mt, _ := m.ObservedOn.Time()
			ft, _ := f.ObservedOn.Time()
			pairAt = append(pairAt, len(chunk))
			chunk = append(chunk, withPhoto(m, faces.Photo(id, 0)),
				withPhoto(f, faces.Photo(id, ft.Sub(mt).Hours()/24/365.25)))
			left-- // two records
		case r < 2*pairs+missing:
			missing--
			chunk = append(chunk, withPhoto(gm.Next(), faces.Photo(faces.Identity(), 0)))
		default:
			found--
			chunk = append(chunk, withPhoto(gf.Next(), faces.Photo(faces.Identity(), 0)))
		}
		if len(chunk) >= galleryChunk {
			if err := flush(); err != nil {
				return err
			}
			cfg.Logger.Info("gallery", "records", g.Photos)
		}
	}
	if len(chunk) > 0 {
		return flush()
	}
	return nil
}

// descriptorPhoto and descriptorAnalyzer stand in for photos in updates:
// the "photo" is the descriptor's bytes. Other bytes go to the real
// pipeline, when there is one.
func descriptorPhoto(d models.Descriptor) []byte {
	out := make([]byte, 0, 4*len(d))
	for _, x := range d {
		out = binary.LittleEndian.AppendUint32(out, math.Float32bits(x))
	}
	return out
}

type descriptorAnalyzer struct{ real engine.PhotoAnalyzer }

func (a descriptorAnalyzer) Analyze(ctx context.Context, data []byte) (*models.PhotoAnalysis, error) {
	var d models.Descriptor
	if len(data) != 4*len(d) {
		if a.real == nil {
			return nil, models.Errorf(models.ECORRUPT, "not a descriptor")
		}
		return a.real.Analyze(ctx, data)
	}
	for i := range d {
		d[i] = math.Float32frombits(binary.LittleEndian.Uint32(data[4*i:]))
	}
	return &models.PhotoAnalysis{ContentType: "image/jpeg", Width: 480, Height: 640, Subject: 0,
		Faces: []models.Face{{Box: [4]int{120, 160, 240, 240}, Descriptor: &d}}}, nil
}

// MeasureImport times n records created one at a time through the engine
// (CreateChild, then AddPhoto with a descriptor), as a portal creates
// them, against the bulk import that built g. The n records (missing
// children without a counterpart) stay in the gallery.
func MeasureImport(ctx context.Context, g *Gallery, n int) (Figure, error) {
	gen := synth.New(int64(g.Config.Seed)+9, synth.Config{MissingShare: 1})
	faces := synth.NewFaces(int64(g.Config.Seed)+9, synth.ChildFaces())
	start := time.Now()
	for range n {
		c := gen.Next()
		c.ID = ""
		made, _, err := g.Service.CreateChild(ctx, &c)
		if err != nil {
			return Figure{}, fmt.Errorf("create: %w", err)
		}
		if _, err := g.Service.AddPhoto(ctx, made.ID, descriptorPhoto(faces.Photo(faces.Identity(), 0))); err != nil {
			return Figure{}, fmt.Errorf("add photo: %w", err)
		}
	}
	one := time.Since(start)
	g.Photos += n
	records := g.Config.Found + g.Config.Missing
	return Figure{Section: "enrolment", Scale: g.Config.Found, Name: "bulk import (engine.Service.Import), records/s",
		Value: float64(records) / g.Imported.Seconds(), Unit: "records/s",
		Baseline: fmt.Sprintf("one at a time: CreateChild + AddPhoto (%d records)", n), BaselineValue: float64(n) / one.Seconds()}, nil
}
