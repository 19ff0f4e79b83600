package benchmarks

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"

	"github.com/trackmatch/trackmatch/benchmarks/synth"
	"github.com/trackmatch/trackmatch/models"
)

// FamilyConfig shapes MeasureFamily's run.
type FamilyConfig struct {
	// Dir is the data folder to create.
	Dir string
	// Gallery is the number of missing reports searched (the true ones
	// among them); Queries the sparse found children per completeness.
	Gallery, Queries int
	Seed             uint64
	// Relatives are the real fathers' names the generator draws from.
	Relatives []synth.Relative
}

// FamilyRow is the retrieval of sparse found children of one completeness:
// how often the true missing report ranks first and in the first ten.
type FamilyRow struct {
	Completeness  synth.Completeness
	Queries       int
	Rank1, Rank10 int
}

// FamilyCompleteness are the found-record contents MeasureFamily queries
// with, from least to most.
var FamilyCompleteness = []synth.Completeness{synth.GivenOnly, synth.GivenFather, synth.GivenVillage, synth.GivenFatherVillage}

// MeasureFamily builds a gallery of missing reports (package synth, with
// families, homes and clothing) and searches it, through
// engine.Service.Search without photos, with found children who give only
// what each completeness keeps: a given name, the father's given name, a
// village. The same missing reports are the truth for every completeness,
// so the rows differ only in what the found child says.
func MeasureFamily(ctx context.Context, cfg FamilyConfig) ([]FamilyRow, error) {
	if cfg.Queries > cfg.Gallery {
		return nil, fmt.Errorf("family: %d queries need a gallery at least as large", cfg.Queries)
	}
	g := &Gallery{Config: GalleryConfig{Dir: cfg.Dir}, Truth: map[string]string{}}
	if err := g.open(ctx, false); err != nil {
		return nil, err
	}
	defer g.Close()
	gp := synth.New(int64(cfg.Seed), synth.Config{Relatives: cfg.Relatives})
	gm := synth.New(int64(cfg.Seed)+1, synth.Config{MissingShare: 1, Relatives: cfg.Relatives})
	rng := rand.New(rand.NewPCG(cfg.Seed, 5))
	type query struct {
		found   models.Child // the found child's full sparse record (GivenFatherVillage)
		truthAt int
	}
	recs := make([]models.Child, 0, cfg.Gallery)
	queries := make([]query, 0, cfg.Queries)
	for left := cfg.Gallery; left > 0; left-- {
		if rng.IntN(left) < cfg.Queries-len(queries) {
			m, f := gp.SparsePair(synth.GivenFatherVillage)
			queries = append(queries, query{found: f, truthAt: len(recs)})
			recs = append(recs, m)
			continue
		}
		recs = append(recs, gm.Next())
	}
	for lo := 0; lo < len(recs); lo += galleryChunk {
		if err := g.Service.Import(ctx, recs[lo:min(lo+galleryChunk, len(recs))]); err != nil {
			return nil, fmt.Errorf("family gallery: %w", err)
		}
	}
	var rows []FamilyRow
	for _, comp := range FamilyCompleteness {
		row := FamilyRow{Completeness: comp}
		for _, q := range queries {
			f := keepOnly(q.found, comp)
			cands, err := g.Service.Search(ctx, &f, nil, 10)
			if err != nil {
				return nil, fmt.Errorf("family search: %w", err)
			}
			row.Queries++
			for i, c := range cands {
				if c.ID == recs[q.truthAt].ID {
					if i == 0 {
						row.Rank1++
					}
					row.Rank10++
					break
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// keepOnly strips a GivenFatherVillage found record down to comp.
func keepOnly(f models.Child, comp synth.Completeness) models.Child {
	f.ID = ""
	if comp != synth.GivenFather && comp != synth.GivenFatherVillage {
		f.Guardians = nil
	}
	if comp != synth.GivenVillage && comp != synth.GivenFatherVillage {
		f.Home = models.Home{}
	}
	return f
}

// FamilyTable writes rows as a markdown table.
func FamilyTable(rows []FamilyRow) string {
	var b strings.Builder
	b.WriteString("| the found child gives | queries | rank 1 | in top 10 |\n|---|---:|---:|---:|\n")
	for _, r := range rows {
		fmt.Fprintf(&b, "| %s | %d | %.1f%% | %.1f%% |\n", r.Completeness, r.Queries,
			100*float64(r.Rank1)/float64(max(1, r.Queries)), 100*float64(r.Rank10)/float64(max(1, r.Queries)))
	}
	return b.String()
}
