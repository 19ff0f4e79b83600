package benchmarks

import (
	"context"
	"math"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// A small gallery holds what it was asked to, and the lookups over it
// find true pairs: the machinery the harness's figures rest on.
func TestGalleryLookupAccuracy(t *testing.T) {
	ctx := context.Background()
	g, err := BuildGallery(ctx, GalleryConfig{Dir: t.TempDir(), Found: 3000, Missing: 300, Pairs: 150, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	for kind, want := range map[models.Kind]int{models.KindFound: 3000, models.KindMissing: 300} {
		if n, err := g.Store.CountChildren(ctx, kind); err != nil || n != want {
			t.Fatalf("%s records: %d (%v), want %d", kind, n, err, want)
		}
	}
	if len(g.Truth) != 150 || len(g.Queries) != 150 || g.Faces.Len() != 3300 {
		t.Fatalf("truth %d, queries %d, faces %d; want 150, 150, 3300", len(g.Truth), len(g.Queries), g.Faces.Len())
	}
	figs, runs, err := MeasureLookup(ctx, g, LookupConfig{Queries: 150, ScanQueries: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(figs) != 12 {
		t.Fatalf("%d lookup figures, want 12 (4 kinds × p50/p95/p99)", len(figs))
	}
	for _, f := range figs {
		if !(f.Value > 0) || !(f.BaselineValue > 0) || math.IsInf(f.Value, 0) {
			t.Errorf("figure %+v: want positive, finite value and baseline", f)
		}
	}
	acc := AccuracyFigures(3000, runs)
	byName := map[string]Figure{}
	for _, f := range acc {
		byName[f.Name] = f
	}
	r10 := byName["recall@10, photo and attributes (150 queries)"]
	if r10.Value < 0.8 || r10.Value < r10.BaselineValue {
		t.Errorf("recall@10 fused %.2f (photo only %.2f): want ≥ 0.8 and no worse than the photo alone", r10.Value, r10.BaselineValue)
	}
	t.Logf("accuracy: %+v", acc)
}
