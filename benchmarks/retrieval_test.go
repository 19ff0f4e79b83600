package benchmarks

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/benchmarks/synth"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// Retrieval benchmarks: the Bleve attribute index on synthetic records with
// realistic names (package synth), queried with the missing side of known
// true pairs.
//
//	go test ./benchmarks -run '^$' -bench 'Retrieval100k' -benchtime 1x -timeout 30m
//	TRACKMATCH_BENCH_1M=1 go test ./benchmarks -run '^$' -bench 'Retrieval1M' -benchtime 1x -timeout 3h
//
// Sub-benchmarks:
//
//	rebuild     one op = Rebuild of every record (batched, then merged to one
//	            segment); reports docs/s and docs per CPU-second
//	index-one   one op = Index of one record (a safe, persisted batch);
//	            reports the index size on disk
//	candidates  one op = Candidates for one missing child, limit 100; reports
//	            p50/p95/p99 over at least 200 queries, recall of the true
//	            found record, and a naive baseline: a linear scan with
//	            names.Compare (plus sex and age checks) over a subset,
//	            extrapolated to all records of the other kind, as a ratio
//	nameless    one op = Candidates for a name-less query (sex and age only,
//	            as a photo search), limit 100
const (
	benchSeed      = 2026
	benchPairs     = 300
	benchLimit     = 100
	benchScanSlice = 10000 // records of the other kind the baseline scans per query
	benchMinQ      = 200
)

func BenchmarkRetrieval100k(b *testing.B) { benchRetrieval(b, 100_000) }

func BenchmarkRetrieval1M(b *testing.B) {
	if os.Getenv("TRACKMATCH_BENCH_1M") != "1" {
		b.Skip("set TRACKMATCH_BENCH_1M=1 to build and query a 1M-record index (tens of minutes)")
	}
	benchRetrieval(b, 1_000_000)
}

// retrievalFixture is one generated population and its index.
type retrievalFixture struct {
	records []models.Child
	queries []*models.Child // the missing side of each true pair
	truth   []string        // the found id for each query
	path    string
	idx     *index.AttributeIndex
	built   bool
}

func newRetrievalFixture(b *testing.B, n int) *retrievalFixture {
	recs, pairs := synth.New(benchSeed, synth.Config{}).Population(n, benchPairs)
	fx := &retrievalFixture{records: recs, path: filepath.Join(b.TempDir(), "bleve")}
	for _, p := range pairs {
		fx.queries = append(fx.queries, &fx.records[p.Missing])
		fx.truth = append(fx.truth, fx.records[p.Found].ID)
	}
	idx, err := index.OpenAttributeIndex(fx.path)
	if err != nil {
		b.Fatal(err)
	}
	fx.idx = idx
	b.Cleanup(func() { _ = idx.Close() })
	return fx
}

func (fx *retrievalFixture) source() index.ChildSource {
	return func(yield func(*models.Child) error) error {
		for i := range fx.records {
			if err := yield(&fx.records[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// rebuild builds the index from every record and returns how long it took.
func (fx *retrievalFixture) rebuild(b *testing.B) time.Duration {
	start := time.Now()
	if err := fx.idx.Rebuild(context.Background(), fx.source()); err != nil {
		b.Fatal(err)
	}
	fx.built = true
	return time.Since(start)
}

func (fx *retrievalFixture) ensureBuilt(b *testing.B) {
	if !fx.built {
		d := fx.rebuild(b)
		b.Logf("built %d records in %s (%.0f docs/s)", len(fx.records), d.Round(time.Millisecond), float64(len(fx.records))/d.Seconds())
	}
}

func benchRetrieval(b *testing.B, n int) {
	fx := newRetrievalFixture(b, n)
	b.Run("rebuild", func(b *testing.B) {
		var total time.Duration
		cpu0 := cpuTime()
		for i := 0; i < b.N; i++ {
			total += fx.rebuild(b)
		}
		b.ReportMetric(float64(n*b.N)/total.Seconds(), "docs/s")
		b.ReportMetric(float64(n*b.N)/(cpuTime()-cpu0).Seconds(), "docs/cpu-s")
	})
	b.Run("index-one", func(b *testing.B) {
		fx.ensureBuilt(b)
		ctx := context.Background()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			c := fx.records[i%len(fx.records)] // re-index: the count stays
			if err := fx.idx.Index(ctx, &c); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		// On disk once scorch has dropped the segments a rebuild replaced
		// (it does so after its next persist, which these writes cause).
		b.ReportMetric(dirMB(fx.path), "index-MB")
	})
	b.Run("candidates", func(b *testing.B) {
		fx.ensureBuilt(b)
		benchCandidates(b, fx)
	})
	b.Run("nameless", func(b *testing.B) {
		fx.ensureBuilt(b)
		qs := make([]*models.Child, len(fx.queries))
		for i, q := range fx.queries {
			c := *q
			c.Names, c.Marks = nil, ""
			qs[i] = &c
		}
		lat := runQueries(b, fx.idx, qs, nil)
		reportPercentiles(b, lat)
	})
}

// runQueries times b.N queries (cycling through qs), then, with the timer
// stopped, enough more to have at least benchMinQ and every query at least
// once. It returns the latencies; hits, when non-nil, gets each query's
// candidate ids (from its last run).
func runQueries(b *testing.B, idx *index.AttributeIndex, qs []*models.Child, hits [][]string) []time.Duration {
	ctx := context.Background()
	var lat []time.Duration
	one := func(i int) {
		start := time.Now()
		hs, err := idx.Candidates(ctx, qs[i%len(qs)], benchLimit)
		lat = append(lat, time.Since(start))
		if err != nil {
			b.Fatal(err)
		}
		if hits != nil {
			ids := make([]string, len(hs))
			for j, h := range hs {
				ids[j] = h.ID
			}
			hits[i%len(qs)] = ids
		}
	}
	b.ResetTimer()
	cpu0 := cpuTime()
	for i := 0; i < b.N; i++ {
		one(i)
	}
	b.StopTimer()
	// The machine may be shared: CPU time per query is steadier than wall time.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	for i := b.N; i < max(benchMinQ, len(qs)); i++ {
		one(i)
	}
	return lat
}

func benchCandidates(b *testing.B, fx *retrievalFixture) {
	hits := make([][]string, len(fx.queries))
	lat := runQueries(b, fx.idx, fx.queries, hits)
	p50 := reportPercentiles(b, lat)

	found, found10, total := 0, 0, 0
	for i, ids := range hits {
		total += len(ids)
		for rank, id := range ids {
			if id == fx.truth[i] {
				found++
				if rank < 10 {
					found10++
				}
				break
			}
		}
	}
	b.ReportMetric(float64(found)/float64(len(hits)), "recall@100")
	b.ReportMetric(float64(found10)/float64(len(hits)), "recall@10")
	b.ReportMetric(float64(total)/float64(len(hits)), "hits/query")

	// Baseline: scan benchScanSlice found records per query with
	// names.Compare, extrapolated to every found record.
	var slice []*models.Child
	others := 0
	for i := range fx.records {
		if fx.records[i].Kind == models.KindFound {
			others++
			if len(slice) < benchScanSlice {
				slice = append(slice, &fx.records[i])
			}
		}
	}
	var scan []time.Duration
	for i := 0; i < benchMinQ; i++ {
		q := fx.queries[i%len(fx.queries)]
		start := time.Now()
		naiveScan(q, slice, benchLimit)
		scan = append(scan, time.Since(start)*time.Duration(others)/time.Duration(len(slice)))
	}
	sp50 := percentile(scan, 0.50)
	b.ReportMetric(float64(sp50.Microseconds())/1000, "scan-p50-ms")
	b.ReportMetric(float64(sp50)/float64(p50), "scan/index")
}

// reportPercentiles reports p50/p95/p99 in microseconds and returns p50.
func reportPercentiles(b *testing.B, lat []time.Duration) time.Duration {
	p50, p95, p99 := percentile(lat, 0.50), percentile(lat, 0.95), percentile(lat, 0.99)
	b.ReportMetric(float64(p50.Microseconds()), "p50-µs")
	b.ReportMetric(float64(p95.Microseconds()), "p95-µs")
	b.ReportMetric(float64(p99.Microseconds()), "p99-µs")
	b.ReportMetric(float64(len(lat)), "queries")
	return p50
}
