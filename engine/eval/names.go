package eval

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"path/filepath"
	"time"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// NamesOptions configure a names evaluation.
type NamesOptions struct {
	// Dir is an empty folder for the evaluation's store and index (a
	// temporary one; the caller removes it).
	Dir string
	// Limit is how many candidates each search asks for, as a /v1/search
	// would; 0 is 10. Recall@10 needs at least 10.
	Limit int
	// Failures is how many same pairs the run keeps whose true record is
	// not first, for study; 0 keeps none.
	Failures int
	// Logger gets progress; nil is silent. It never gets names.
	Logger *slog.Logger
}

// NamesMetrics are one method's figures on a set of pairs.
type NamesMetrics struct {
	Same, Different int // rows of each label queried
	// Recall1 and Recall10 are the shares of same rows whose own b is
	// first, and among the first ten.
	Recall1, Recall10 float64
	// FalseMatch is the share of different rows whose own b gets a
	// probability of at least 0.5; NaN for a method without probabilities.
	FalseMatch float64
}

// NameFailure is a same pair whose true record was not ranked first.
type NameFailure struct {
	A, B string
	Rank int    // 0 when not among the candidates
	Top  string // the name ranked first, if any
	P    float64
}

// NamesReport is the outcome of Names.
type NamesReport struct {
	Trackmatch, Baseline NamesMetrics
	// Skipped rows: a name the API would refuse (422), counted nowhere.
	Skipped  int
	Failures []NameFailure
	Elapsed  time.Duration
}

// Names evaluates name matching on labelled pairs, trackmatch and the
// baseline (BaselineFold, Jaro–Winkler over a full scan) on the same rows.
//
// Protocol: for each row, a is the query (a missing child with only that
// name) and the gallery (found children with only a name) holds every
// different row's b, plus the row's own b when the row is a same row.
// trackmatch is run through the real path of a /v1/search with names
// only: a Badger store and Bleve attribute index on disk in o.Dir, the
// engine's Service (retrieval, then the Fellegi–Sunter scorer with the
// default parameters and a name-frequency counter fed by the gallery).
// A same row's b is created before its query and deleted after it.
//
// Ranks: trackmatch's own order (score, then id); the baseline's truth is
// ranked 1 + the gallery names scoring strictly higher, ties in its
// favour.
func Names(ctx context.Context, pairs []Pair, o NamesOptions) (*NamesReport, error) {
	if o.Limit <= 0 {
		o.Limit = 10
	}
	log := o.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	svc, closeSvc, err := openNamesService(o.Dir)
	if err != nil {
		return nil, err
	}
	defer closeSvc()

	rep := &NamesReport{}
	now := time.Now()
	record := func(kind models.Kind, name string) (models.Child, bool) {
		c := models.Child{Kind: kind, Names: []string{name}}
		return c, c.Validate(now) == nil
	}
	// The shared gallery: every different row's b.
	var gallery []models.Child
	galleryRow := []int{}
	for i, p := range pairs {
		if p.Same {
			continue
		}
		if c, ok := record(models.KindFound, p.B); ok {
			gallery = append(gallery, c)
			galleryRow = append(galleryRow, i)
		}
	}
	if err := svc.Import(ctx, gallery); err != nil {
		return nil, fmt.Errorf("names eval: import gallery: %w", err)
	}
	idOfRow := map[int]string{}
	nameOf := map[string]string{}
	for k, c := range gallery {
		idOfRow[galleryRow[k]] = c.ID
		nameOf[c.ID] = c.Names[0]
	}
	log.Info("names eval: gallery imported", "records", len(gallery), "pairs", len(pairs))
	folded := make([]string, len(gallery))
	for k := range gallery {
		folded[k] = BaselineFold(gallery[k].Names[0])
	}

	var tm, bl counts
	for i, p := range pairs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		q, ok := record(models.KindMissing, p.A)
		if !ok {
			rep.Skipped++
			continue
		}
		ownID, has := idOfRow[i]
		if p.Same {
			c, ok := record(models.KindFound, p.B)
			if !ok {
				rep.Skipped++
				continue
			}
			created, _, err := svc.CreateChild(ctx, &c)
			if err != nil {
				return nil, fmt.Errorf("names eval: row %d: %w", i+1, err)
			}
			ownID, has = created.ID, true
			nameOf[ownID] = p.B
		}
		if !has {
			rep.Skipped++ // a different row whose b the API refuses
			continue
		}
		cands, err := svc.Search(ctx, &q, nil, o.Limit)
		if err != nil {
			return nil, fmt.Errorf("names eval: row %d: search: %w", i+1, err)
		}
		rank, prob := 0, 0.0
		for r, c := range cands {
			if c.ID == ownID {
				rank, prob = r+1, c.Probability
				break
			}
		}
		// The baseline on the same gallery.
		fa, fb := BaselineFold(p.A), BaselineFold(p.B)
		truth := BaselineSimilarity(fa, fb)
		brank := 1
		for k := range folded {
			if galleryRow[k] != i && BaselineSimilarity(fa, folded[k]) > truth {
				brank++
			}
		}
		if p.Same {
			tm.addSame(rank)
			bl.addSame(brank)
			if rank != 1 && len(rep.Failures) < o.Failures {
				f := NameFailure{A: p.A, B: p.B, Rank: rank}
				if len(cands) > 0 {
					f.Top, f.P = nameOf[cands[0].ID], cands[0].Probability
				}
				rep.Failures = append(rep.Failures, f)
			}
			if err := svc.DeleteChild(ctx, ownID); err != nil {
				return nil, fmt.Errorf("names eval: row %d: delete: %w", i+1, err)
			}
			delete(nameOf, ownID)
		} else {
			tm.addDifferent(prob >= 0.5)
			bl.addDifferent(false)
		}
		if (i+1)%1000 == 0 {
			log.Info("names eval", "rows", i+1)
		}
	}
	rep.Trackmatch = tm.metrics()
	rep.Baseline = bl.metrics()
	rep.Baseline.FalseMatch = math.NaN()
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// openNamesService opens a Service on a new Badger store and Bleve
// attribute index in dir, with the default parameters and its own name
// counter; close releases them.
func openNamesService(dir string) (svc *engine.Service, close func(), err error) {
	st, err := index.Open(filepath.Join(dir, "badger"), index.StoreOptions{})
	if err != nil {
		return nil, nil, fmt.Errorf("names eval: %w", err)
	}
	ai, err := index.OpenAttributeIndex(filepath.Join(dir, "bleve"))
	if err != nil {
		st.Close()
		return nil, nil, fmt.Errorf("names eval: %w", err)
	}
	sc, err := engine.NewScorer(engine.DefaultParams())
	if err != nil {
		ai.Close()
		st.Close()
		return nil, nil, fmt.Errorf("names eval: %w", err)
	}
	svc = engine.NewService(engine.ServiceDeps{Store: st, Matches: st, Attrs: ai, Faces: index.NewVectorIndex(),
		Names: names.NewFrequencies(), Scorer: sc, NewID: index.NewID, Logger: slog.New(slog.DiscardHandler)})
	return svc, func() { ai.Close(); st.Close() }, nil
}

// counts tallies one method's outcomes.
type counts struct {
	nSame, top1, top10, diff, falseMatch int
}

func (c *counts) addSame(rank int) {
	c.nSame++
	if rank == 1 {
		c.top1++
	}
	if rank >= 1 && rank <= 10 {
		c.top10++
	}
}

func (c *counts) addDifferent(falseMatch bool) {
	c.diff++
	if falseMatch {
		c.falseMatch++
	}
}

func (c *counts) metrics() NamesMetrics {
	ratio := func(a, b int) float64 {
		if b == 0 {
			return math.NaN()
		}
		return float64(a) / float64(b)
	}
	return NamesMetrics{Same: c.nSame, Different: c.diff, Recall1: ratio(c.top1, c.nSame),
		Recall10: ratio(c.top10, c.nSame), FalseMatch: ratio(c.falseMatch, c.diff)}
}
