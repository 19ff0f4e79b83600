package benchmarks

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// LookupConfig shapes MeasureLookup.
type LookupConfig struct {
	// Queries is how many lookups of each kind to time (at least 200 for
	// a p99 worth the name); they cycle through the gallery's true pairs.
	Queries int
	// Limit is the candidates each lookup returns (a portal's page: 10).
	Limit int
	// ScanQueries is how many queries the naive attribute scan times (it
	// is slow: a names.Compare of every found record per query); 0 = 20.
	ScanQueries int
}

// lookupKind is one kind of query a portal or investigator sends.
type lookupKind struct {
	name  string
	query func(m *models.Child) (*models.Child, [][]byte)
}

// lookupKinds are the three kinds of lookup: a record's attributes, one
// photo (timed after the embedding: the query is its descriptor), both.
var lookupKinds = []lookupKind{
	{"attributes only", func(m *models.Child) (*models.Child, [][]byte) {
		q := queryRecord(m)
		return q, nil
	}},
	{"photo only", func(m *models.Child) (*models.Child, [][]byte) {
		return &models.Child{Kind: m.Kind, Sex: models.SexUnknown}, [][]byte{subjectBytes(m)}
	}},
	{"photo and attributes", func(m *models.Child) (*models.Child, [][]byte) {
		return queryRecord(m), [][]byte{subjectBytes(m)}
	}},
}

// queryRecord is m's attributes as a lookup sends them: no id, no photos.
func queryRecord(m *models.Child) *models.Child {
	q := *m
	q.ID, q.Photos, q.ExternalRef = "", nil, ""
	return &q
}

func subjectBytes(m *models.Child) []byte {
	for i := range m.Photos {
		if f := m.Photos[i].SubjectFace(); f != nil && f.Descriptor != nil {
			return descriptorPhoto(*f.Descriptor)
		}
	}
	return nil
}

// lookupRun is what one kind of lookup returned: latencies, and for
// accuracy the rank of the true found record (-1 when not returned) and
// the returned candidates' probabilities and truth.
type lookupRun struct {
	latency []time.Duration
	ranks   []int
	scored  []scoredCandidate
}

type scoredCandidate struct {
	probability float64
	true        bool
}

// MeasureLookup times the three kinds of lookup through engine.Service.Search
// on the gallery, then the same with a naive Go scan in place of the SIMD
// face index (the baseline for the photo lookups) and a names.Compare scan
// of every found record in place of Bleve (the baseline for attributes).
// It returns the latency figures and the runs, for MeasureAccuracy.
func MeasureLookup(ctx context.Context, g *Gallery, cfg LookupConfig) ([]Figure, map[string]*lookupRun, error) {
	if cfg.Queries <= 0 {
		cfg.Queries = 200
	}
	if cfg.Limit <= 0 {
		cfg.Limit = 10
	}
	if cfg.ScanQueries <= 0 {
		cfg.ScanQueries = 20
	}
	if len(g.Queries) == 0 {
		return nil, nil, fmt.Errorf("lookup: the gallery has no true pairs to query with")
	}
	queries := make([]*models.Child, len(g.Queries))
	for i, id := range g.Queries {
		c, err := g.Store.GetChild(ctx, id)
		if err != nil {
			return nil, nil, fmt.Errorf("lookup: %w", err)
		}
		queries[i] = &c
	}
	scale := g.Config.Found
	runs := map[string]*lookupRun{}
	var figs []Figure
	for _, k := range lookupKinds {
		r, err := runLookups(ctx, g.Service, k, queries, g.Truth, cfg.Queries, cfg.Limit)
		if err != nil {
			return nil, nil, err
		}
		runs[k.name] = r
	}

	// Baseline for the photo lookups: the same service with a naive scan
	// for a face index, loaded from the store as the real one is.
	naive := &naiveFaces{}
	base := engine.NewService(engine.ServiceDeps{Store: g.Store, Matches: g.Store, Attrs: g.Attrs,
		Faces: naive, Photos: descriptorAnalyzer{}, Names: names.NewFrequencies(), Scorer: g.Service.Scorer(),
		NewID: func() string { return "" }, Logger: g.Config.Logger})
	if _, _, err := base.LoadIndexes(ctx, g.Store); err != nil {
		return nil, nil, fmt.Errorf("lookup baseline: %w", err)
	}
	for _, k := range lookupKinds[1:] {
		r, err := runLookups(ctx, base, k, queries, g.Truth, cfg.Queries, cfg.Limit)
		if err != nil {
			return nil, nil, err
		}
		figs = append(figs, latencyFigures(scale, k.name, runs[k.name].latency, "naive Go scan for faces", r.latency)...)
	}

	// Baseline for attributes: a names.Compare scan of every found record.
	var found []*models.Child
	err := g.Store.ForEachChild(ctx, models.KindFound, func(c models.Child) error {
		c.Photos = nil
		found = append(found, &c)
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("lookup baseline: %w", err)
	}
	scan := make([]time.Duration, 0, cfg.ScanQueries)
	for i := range cfg.ScanQueries {
		if err := ctx.Err(); err != nil {
			return nil, nil, err
		}
		start := time.Now()
		naiveScan(queries[i%len(queries)], found, cfg.Limit)
		scan = append(scan, time.Since(start))
	}
	found = nil
	figs = append(latencyFigures(scale, "attributes only", runs["attributes only"].latency,
		fmt.Sprintf("names.Compare scan (%d queries)", len(scan)), scan), figs...)

	// The face index alone, SIMD against the naive scan, on the same queries.
	vi, vn, err := faceSearchLatencies(ctx, g.Faces, naive, queries, cfg.Queries, cfg.Limit)
	if err != nil {
		return nil, nil, err
	}
	figs = append(figs, latencyFigures(scale, "face index search", vi, "naive Go scan", vn)...)
	return figs, runs, nil
}

// runLookups times n lookups of kind k, cycling through queries, after a
// short warm-up.
func runLookups(ctx context.Context, svc *engine.Service, k lookupKind, queries []*models.Child, truth map[string]string, n, limit int) (*lookupRun, error) {
	r := &lookupRun{}
	for i := range min(5, n) { // warm-up: caches, first allocation of pools
		q, photos := k.query(queries[i%len(queries)])
		if _, err := svc.Search(ctx, q, photos, limit); err != nil {
			return nil, fmt.Errorf("lookup %s: %w", k.name, err)
		}
	}
	for i := range n {
		m := queries[i%len(queries)]
		q, photos := k.query(m)
		start := time.Now()
		cands, err := svc.Search(ctx, q, photos, limit)
		r.latency = append(r.latency, time.Since(start))
		if err != nil {
			return nil, fmt.Errorf("lookup %s: %w", k.name, err)
		}
		if i >= len(queries) {
			continue // accuracy counts each query once
		}
		rank := -1
		for j, c := range cands {
			t := c.ID == truth[m.ID]
			if t && rank < 0 {
				rank = j
			}
			r.scored = append(r.scored, scoredCandidate{c.Probability, t})
		}
		r.ranks = append(r.ranks, rank)
	}
	return r, nil
}

// faceSearchLatencies times the vector index and the naive scan alone on
// the queries' descriptors.
func faceSearchLatencies(ctx context.Context, simd engine.FaceIndex, naive *naiveFaces, queries []*models.Child, n, limit int) (vi, vn []time.Duration, err error) {
	pool := max(limit*5, 50) // as Service.rank asks for
	for _, ix := range []struct {
		fi  engine.FaceIndex
		out *[]time.Duration
	}{{simd, &vi}, {naive, &vn}} {
		for i := range n + 5 {
			m := queries[i%len(queries)]
			d := *m.Photos[0].SubjectFace().Descriptor
			start := time.Now()
			if _, err := ix.fi.Search(ctx, models.FaceQuery{Descriptors: []models.Descriptor{d}, Sex: m.Sex}, m.Kind.Other(), pool); err != nil {
				return nil, nil, fmt.Errorf("face search: %w", err)
			}
			if i >= 5 {
				*ix.out = append(*ix.out, time.Since(start))
			}
		}
	}
	return vi, vn, nil
}

// latencyFigures is p50, p95 and p99 of lat against base, in ms.
func latencyFigures(scale int, name string, lat []time.Duration, baseline string, base []time.Duration) []Figure {
	var out []Figure
	for _, p := range []struct {
		label string
		q     float64
	}{{"p50", 0.50}, {"p95", 0.95}, {"p99", 0.99}} {
		f := Figure{Section: "lookup", Scale: scale, Name: fmt.Sprintf("%s %s (%d queries)", name, p.label, len(lat)),
			Value: ms(percentile(lat, p.q)), Unit: "ms", Baseline: baseline, BaselineValue: ms(percentile(base, p.q))}
		if p.label == "p99" && name != "face index search" && name != "attributes only" && scale >= 1_000_000 {
			f.Note = goal(f.Value < 50, "p99 < 50 ms at 1M")
		}
		out = append(out, f)
	}
	return out
}

// goal writes whether a goal was met.
func goal(met bool, what string) string {
	if met {
		return "goal " + what + ": met"
	}
	return "goal " + what + ": missed"
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

// naiveFaces is the baseline face index: every descriptor in a slice,
// scanned with Descriptor.Distance for each query, keeping each child's
// nearest photo.
type naiveFaces struct {
	mu      sync.RWMutex
	entries []models.FaceEntry
}

// Add appends e.
func (n *naiveFaces) Add(e models.FaceEntry) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.entries = append(n.entries, e)
	return nil
}

// ReplaceChild drops every entry of childID and appends entries.
func (n *naiveFaces) ReplaceChild(childID string, entries []models.FaceEntry) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.removeLocked(childID)
	n.entries = append(n.entries, entries...)
	return nil
}

// RemoveChild drops every entry of childID.
func (n *naiveFaces) RemoveChild(childID string) int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.removeLocked(childID)
}

func (n *naiveFaces) removeLocked(childID string) int {
	kept, removed := n.entries[:0], 0
	for _, e := range n.entries {
		if e.ChildID == childID {
			removed++
			continue
		}
		kept = append(kept, e)
	}
	n.entries = kept
	return removed
}

// Search scans every entry of kind whose sex q admits, keeping the k
// nearest children in a sorted slice.
func (n *naiveFaces) Search(ctx context.Context, q models.FaceQuery, kind models.Kind, k int) ([]models.FaceHit, error) {
	n.mu.RLock()
	defer n.mu.RUnlock()
	queries := q.Descriptors
	hits := make([]models.FaceHit, 0, k+1)
	for i := range n.entries {
		e := &n.entries[i]
		if e.Kind != kind || !q.Admits(e.Sex) {
			continue
		}
		for qi := range queries {
			d := queries[qi].Distance(&e.Descriptor)
			if len(hits) == k && d >= hits[k-1].Distance {
				continue
			}
			h := models.FaceHit{ChildID: e.ChildID, PhotoID: e.PhotoID, FaceIndex: e.FaceIndex,
				QueryIndex: qi, Distance: d, TakenOn: e.TakenOn}
			if j := slices.IndexFunc(hits, func(x models.FaceHit) bool { return x.ChildID == e.ChildID }); j >= 0 {
				if d >= hits[j].Distance {
					continue
				}
				hits = slices.Delete(hits, j, j+1)
			}
			at, _ := slices.BinarySearchFunc(hits, d, func(x models.FaceHit, d float64) int { return cmp.Compare(x.Distance, d) })
			hits = slices.Insert(hits, at, h)
			if len(hits) > k {
				hits = hits[:k]
			}
		}
	}
	return hits, ctx.Err()
}
