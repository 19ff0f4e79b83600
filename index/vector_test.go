package index

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// randomDescriptor is dlib-like: components around N(0, 0.09²), so norms are
// near 1 and unrelated faces sit about 1.3 apart.
func randomDescriptor(r *rand.Rand) models.Descriptor {
	var d models.Descriptor
	for i := range d {
		d[i] = float32(r.NormFloat64() * 0.09)
	}
	return d
}

// near returns a descriptor about dist away from d.
func near(r *rand.Rand, d models.Descriptor, dist float64) models.Descriptor {
	sd := dist / math.Sqrt(dim)
	for i := range d {
		d[i] += float32(r.NormFloat64() * sd)
	}
	return d
}

// gallery makes nChildren children alternating kinds, each with 1–3 photos
// of 1–2 faces near a per-child centre; it returns the entries and centres.
func gallery(r *rand.Rand, nChildren int) ([]models.FaceEntry, []models.Descriptor) {
	var es []models.FaceEntry
	centres := make([]models.Descriptor, nChildren)
	for c := range nChildren {
		centres[c] = randomDescriptor(r)
		kind := models.KindFound
		if c%2 == 1 {
			kind = models.KindMissing
		}
		for p := range 1 + r.IntN(3) {
			for f := range 1 + r.IntN(2) {
				es = append(es, models.FaceEntry{
					ChildID: fmt.Sprintf("c%06d", c), Kind: kind,
					PhotoID: fmt.Sprintf("c%06d-p%d", c, p), FaceIndex: f,
					TakenOn:    models.Date(fmt.Sprintf("20%02d-01-01", 10+p)),
					Descriptor: near(r, centres[c], 0.3),
				})
			}
		}
	}
	return es, centres
}

func build(t testing.TB, es []models.FaceEntry) *VectorIndex {
	t.Helper()
	ix := NewVectorIndex()
	for _, e := range es {
		if err := ix.Add(e); err != nil {
			t.Fatal(err)
		}
	}
	return ix
}

// bruteForce is the reference: every pair by Descriptor.Distance, the best
// pair per child, children by distance then id.
func bruteForce(es []models.FaceEntry, queries []models.Descriptor, kind models.Kind, k int, exclude map[string]bool) []models.FaceHit {
	best := map[string]models.FaceHit{}
	for _, e := range es {
		if e.Kind != kind || exclude[e.ChildID] {
			continue
		}
		for qi := range queries {
			n := models.FaceHit{ChildID: e.ChildID, PhotoID: e.PhotoID, FaceIndex: e.FaceIndex,
				QueryIndex: qi, Distance: e.Descriptor.Distance(&queries[qi]), TakenOn: e.TakenOn}
			if b, ok := best[e.ChildID]; !ok || pairLess(&n, &b) {
				best[e.ChildID] = n
			}
		}
	}
	var res []models.FaceHit
	for _, n := range best {
		res = append(res, n)
	}
	sortNeighbours(res)
	if len(res) > k {
		res = res[:k]
	}
	return res
}

// queriesFor makes a query of 1–3 descriptors: near a gallery child's centre
// (a true neighbour) or random.
func queriesFor(r *rand.Rand, centres []models.Descriptor) []models.Descriptor {
	qs := make([]models.Descriptor, 1+r.IntN(3))
	for i := range qs {
		if r.IntN(2) == 0 {
			qs[i] = near(r, centres[r.IntN(len(centres))], 0.35)
		} else {
			qs[i] = randomDescriptor(r)
		}
	}
	return qs
}

func mustSearch(t testing.TB, ix *VectorIndex, qs []models.Descriptor, kind models.Kind, k int, ex map[string]bool) []models.FaceHit {
	t.Helper()
	got, err := ix.Search(context.Background(), qs, kind, k, ex)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestSearchEqualsBruteForce(t *testing.T) {
	for _, tc := range []struct {
		name      string
		children  int
		workers   int
		k         int
		withExcl  bool
		queryRuns int
	}{
		{"tiny", 7, 1, 10, false, 20},
		{"one-shard", 500, 1, 10, true, 30},
		{"sharded", 12000, 4, 10, true, 20},
		{"sharded-k50", 12000, 3, 50, false, 10},
		{"k-over-linear-heap", 3000, 2, 200, true, 5}, // the heap indexes children by map
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tc.children)))
			es, centres := gallery(r, tc.children)
			ix := build(t, es)
			ix.workers = tc.workers
			hits, total := 0, 0
			for range tc.queryRuns {
				qs := queriesFor(r, centres)
				var ex map[string]bool
				if tc.withExcl {
					ex = map[string]bool{fmt.Sprintf("c%06d", r.IntN(tc.children)): true}
				}
				for _, kind := range []models.Kind{models.KindFound, models.KindMissing} {
					want := bruteForce(es, qs, kind, tc.k, ex)
					got := mustSearch(t, ix, qs, kind, tc.k, ex)
					if !reflect.DeepEqual(got, want) {
						t.Fatalf("kind %s:\n got %+v\nwant %+v", kind, got, want)
					}
					ids := map[string]bool{}
					for _, n := range got {
						ids[n.ChildID] = true
					}
					for _, n := range want {
						total++
						if ids[n.ChildID] {
							hits++
						}
					}
				}
			}
			if hits != total {
				t.Fatalf("recall@%d = %d/%d", tc.k, hits, total)
			}
		})
	}
}

func TestSearchKindFilter(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 2))
	q := randomDescriptor(r)
	ix := build(t, []models.FaceEntry{
		{ChildID: "m1", Kind: models.KindMissing, PhotoID: "pm1", Descriptor: q}, // identical to the query
		{ChildID: "f1", Kind: models.KindFound, PhotoID: "pf1", Descriptor: near(r, q, 0.5)},
		{ChildID: "f2", Kind: models.KindFound, PhotoID: "pf2", Descriptor: randomDescriptor(r)},
	})
	got := mustSearch(t, ix, []models.Descriptor{q}, models.KindFound, 10, nil)
	if len(got) != 2 || got[0].ChildID != "f1" || got[1].ChildID != "f2" {
		t.Fatalf("found search returned %+v", got)
	}
	got = mustSearch(t, ix, []models.Descriptor{q}, models.KindMissing, 10, nil)
	if len(got) != 1 || got[0].ChildID != "m1" || got[0].Distance != 0 {
		t.Fatalf("missing search returned %+v", got)
	}
	if _, err := ix.Search(context.Background(), []models.Descriptor{q}, "lost", 10, nil); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("bad kind: err %v", err)
	}
}

func TestSearchBestPairPerChild(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	a, b := randomDescriptor(r), randomDescriptor(r)
	// Child x has three photos; its photo p2 face 1 is nearest to query b.
	es := []models.FaceEntry{
		{ChildID: "x", Kind: models.KindFound, PhotoID: "p1", Descriptor: near(r, a, 0.45), TakenOn: "2015-01-01"},
		{ChildID: "x", Kind: models.KindFound, PhotoID: "p2", FaceIndex: 0, Descriptor: near(r, a, 0.5)},
		{ChildID: "x", Kind: models.KindFound, PhotoID: "p2", FaceIndex: 1, Descriptor: near(r, b, 0.1), TakenOn: "2019-06-01"},
		{ChildID: "x", Kind: models.KindFound, PhotoID: "p3", Descriptor: near(r, b, 0.4)},
		{ChildID: "y", Kind: models.KindFound, PhotoID: "p4", Descriptor: near(r, a, 0.3)},
	}
	ix := build(t, es)
	got := mustSearch(t, ix, []models.Descriptor{a, b}, models.KindFound, 10, nil)
	if len(got) != 2 {
		t.Fatalf("want one neighbour per child, got %+v", got)
	}
	x := got[0]
	if x.ChildID != "x" || x.PhotoID != "p2" || x.FaceIndex != 1 || x.QueryIndex != 1 || x.TakenOn != "2019-06-01" {
		t.Fatalf("best pair of x: %+v", x)
	}
	if want := es[2].Descriptor.Distance(&b); x.Distance != want {
		t.Fatalf("distance %v, want %v", x.Distance, want)
	}
	// k counts children, not faces.
	if got := mustSearch(t, ix, []models.Descriptor{a, b}, models.KindFound, 1, nil); len(got) != 1 || got[0].ChildID != "x" {
		t.Fatalf("k=1: %+v", got)
	}
}

func TestSearchExclude(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	es, centres := gallery(r, 40)
	ix := build(t, es)
	q := []models.Descriptor{centres[0]}
	ex := map[string]bool{"c000000": true}
	got := mustSearch(t, ix, q, models.KindFound, 5, ex)
	for _, n := range got {
		if n.ChildID == "c000000" {
			t.Fatal("excluded child returned")
		}
	}
	if !reflect.DeepEqual(got, bruteForce(es, q, models.KindFound, 5, ex)) {
		t.Fatal("exclusion changed the other results")
	}
}

// checkInvariants verifies the slabs and slot lists agree.
func checkInvariants(t *testing.T, ix *VectorIndex) {
	t.Helper()
	n := 0
	for kind, s := range ix.slabs {
		if len(s.vecs) != s.len()*dim || len(s.child) != s.len() || len(s.meta) != s.len() {
			t.Fatalf("%s slab lengths disagree", kind)
		}
		n += s.len()
		for slot, c := range s.child {
			if ix.children[c.id] != c || !slices.Contains(c.slots, int32(slot)) {
				t.Fatalf("slot %d not in its child's slot list", slot)
			}
		}
	}
	m := 0
	for id, c := range ix.children {
		if len(c.slots) == 0 {
			t.Fatalf("child %s kept with no faces", id)
		}
		m += len(c.slots)
	}
	if m != n || ix.Len() != n {
		t.Fatalf("%d slots in lists, %d in slabs, Len %d", m, n, ix.Len())
	}
}

func TestRemove(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 5))
	es, centres := gallery(r, 300)
	ix := build(t, es)
	checkInvariants(t, ix)
	live := slices.Clone(es)
	for round := range 60 {
		if round%2 == 0 {
			id := live[r.IntN(len(live))].ChildID
			want := 0
			for _, e := range live {
				if e.ChildID == id {
					want++
				}
			}
			if got := ix.RemoveChild(id); got != want {
				t.Fatalf("RemoveChild removed %d, want %d", got, want)
			}
			live = slices.DeleteFunc(live, func(e models.FaceEntry) bool { return e.ChildID == id })
		} else {
			id := live[r.IntN(len(live))].PhotoID
			n := len(live)
			live = slices.DeleteFunc(live, func(e models.FaceEntry) bool { return e.PhotoID == id })
			if got := ix.RemovePhoto(id); got != n-len(live) {
				t.Fatalf("RemovePhoto removed %d, want %d", got, n-len(live))
			}
		}
		checkInvariants(t, ix)
		if ix.Len() != len(live) {
			t.Fatalf("Len %d, want %d", ix.Len(), len(live))
		}
		qs := queriesFor(r, centres)
		for _, kind := range []models.Kind{models.KindFound, models.KindMissing} {
			if got, want := mustSearch(t, ix, qs, kind, 10, nil), bruteForce(live, qs, kind, 10, nil); !reflect.DeepEqual(got, want) {
				t.Fatalf("after removals:\n got %+v\nwant %+v", got, want)
			}
		}
	}
	if ix.RemoveChild("nobody") != 0 || ix.RemovePhoto("nothing") != 0 {
		t.Fatal("removing unknown ids removed something")
	}
}

func TestAddReplaceAndReject(t *testing.T) {
	r := rand.New(rand.NewPCG(6, 6))
	a, b := randomDescriptor(r), randomDescriptor(r)
	ix := NewVectorIndex()
	e := models.FaceEntry{ChildID: "x", Kind: models.KindFound, PhotoID: "p", Descriptor: a}
	if err := ix.Add(e); err != nil {
		t.Fatal(err)
	}
	e.Descriptor = b
	if err := ix.Add(e); err != nil { // same photo and face: replaces
		t.Fatal(err)
	}
	if ix.Len() != 1 {
		t.Fatalf("Len %d after re-adding one face", ix.Len())
	}
	if got := mustSearch(t, ix, []models.Descriptor{b}, models.KindFound, 1, nil); got[0].Distance != 0 {
		t.Fatalf("replaced descriptor not used: %+v", got)
	}
	nan := a
	nan[3] = float32(math.NaN())
	for name, bad := range map[string]models.FaceEntry{
		"no child":      {Kind: models.KindFound, PhotoID: "q", Descriptor: a},
		"no photo":      {ChildID: "y", Kind: models.KindFound, Descriptor: a},
		"bad kind":      {ChildID: "y", Kind: "lost", PhotoID: "q", Descriptor: a},
		"NaN":           {ChildID: "y", Kind: models.KindFound, PhotoID: "q", Descriptor: nan},
		"kind changes":  {ChildID: "x", Kind: models.KindMissing, PhotoID: "q", Descriptor: a},
		"another child": {ChildID: "y", Kind: models.KindFound, PhotoID: "p", Descriptor: a},
	} {
		if err := ix.Add(bad); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("%s: err %v, want %s", name, err, models.EINVALID)
		}
	}
	checkInvariants(t, ix)
	if _, err := ix.Search(context.Background(), []models.Descriptor{nan}, models.KindFound, 1, nil); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("NaN query: err %v", err)
	}
}

func TestReplaceChild(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	a, b := randomDescriptor(r), randomDescriptor(r)
	ix := build(t, []models.FaceEntry{
		{ChildID: "x", Kind: models.KindFound, PhotoID: "p1", Descriptor: a},
		{ChildID: "x", Kind: models.KindFound, PhotoID: "p2", Descriptor: a},
		{ChildID: "y", Kind: models.KindFound, PhotoID: "p3", Descriptor: b},
	})
	err := ix.ReplaceChild("x", []models.FaceEntry{{ChildID: "x", Kind: models.KindFound, PhotoID: "p9", Descriptor: b}})
	if err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, ix)
	got := mustSearch(t, ix, []models.Descriptor{b}, models.KindFound, 5, nil)
	if len(got) != 2 || got[0].ChildID != "x" || got[0].PhotoID != "p9" || ix.Len() != 2 {
		t.Fatalf("after replace: %+v (Len %d)", got, ix.Len())
	}
	if err := ix.ReplaceChild("x", []models.FaceEntry{{ChildID: "x", Kind: models.KindFound, PhotoID: "p3", Descriptor: b}}); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("taking another child's photo: err %v", err)
	}
	if err := ix.ReplaceChild("x", nil); err != nil || ix.Len() != 1 {
		t.Fatalf("replace with nothing: err %v, Len %d", err, ix.Len())
	}
	checkInvariants(t, ix)
}

// Many children with the same descriptor tie within the error bound, so the
// fast path cannot prove its top k and must fall back to the exact scan;
// ties go to the smaller child id.
func TestSearchTiesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	d := randomDescriptor(r)
	var es []models.FaceEntry
	for i := range 60 {
		es = append(es, models.FaceEntry{ChildID: fmt.Sprintf("t%02d", 59-i), Kind: models.KindFound,
			PhotoID: fmt.Sprintf("p%02d", i), Descriptor: d})
	}
	for i := range 5000 {
		es = append(es, models.FaceEntry{ChildID: fmt.Sprintf("z%04d", i), Kind: models.KindFound,
			PhotoID: fmt.Sprintf("zp%04d", i), Descriptor: randomDescriptor(r)})
	}
	ix := build(t, es)
	q := []models.Descriptor{near(r, d, 0.2)}
	got := mustSearch(t, ix, q, models.KindFound, 10, nil)
	if want := bruteForce(es, q, models.KindFound, 10, nil); !reflect.DeepEqual(got, want) {
		t.Fatalf("ties:\n got %+v\nwant %+v", got, want)
	}
	for i, n := range got {
		if n.ChildID != fmt.Sprintf("t%02d", i) {
			t.Fatalf("rank %d is %s", i, n.ChildID)
		}
	}
}

func TestSearchBatchEqualsSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	es, centres := gallery(r, 3000)
	ix := build(t, es)
	batch := make([][]models.Descriptor, 700) // several chunks of batchRows rows
	exclude := make([]map[string]bool, len(batch))
	for i := range batch {
		batch[i] = queriesFor(r, centres)
		if i%3 == 0 {
			exclude[i] = map[string]bool{fmt.Sprintf("c%06d", r.IntN(3000)): true}
		}
	}
	batch[5] = nil // a child with no usable face
	for _, k := range []int{1, 10} {
		got, err := ix.SearchBatch(context.Background(), batch, models.KindFound, k, exclude)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(batch) {
			t.Fatalf("%d results for %d searches", len(got), len(batch))
		}
		for i := range batch {
			want := mustSearch(t, ix, batch[i], models.KindFound, k, exclude[i])
			if !reflect.DeepEqual(got[i], want) {
				t.Fatalf("k=%d search %d:\nbatch  %+v\nsearch %+v", k, i, got[i], want)
			}
		}
	}
	if _, err := ix.SearchBatch(context.Background(), batch, models.KindFound, 10, exclude[:3]); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("mismatched exclude: err %v", err)
	}
}

func TestSearchCanceled(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	es, centres := gallery(r, 12000)
	ix := build(t, es)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := []models.Descriptor{centres[0]}
	if _, err := ix.Search(ctx, q, models.KindFound, 10, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("Search: err %v", err)
	}
	if _, err := ix.SearchBatch(ctx, [][]models.Descriptor{q}, models.KindFound, 10, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("SearchBatch: err %v", err)
	}
}

// Run with -race: writers add, replace and remove while readers search.
func TestConcurrentUse(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	es, centres := gallery(r, 400)
	ix := build(t, es)
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(12, uint64(w)))
			for i := range 200 {
				id := fmt.Sprintf("w%d-%d", w, i)
				e := models.FaceEntry{ChildID: id, Kind: models.KindFound, PhotoID: id, Descriptor: randomDescriptor(r)}
				if err := ix.Add(e); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 {
					ix.RemoveChild(id)
				} else if i%3 == 1 {
					e.PhotoID += "b"
					if err := ix.ReplaceChild(id, []models.FaceEntry{e}); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	for w := range 3 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(13, uint64(w)))
			for range 100 {
				got, err := ix.Search(context.Background(), queriesFor(r, centres), models.KindFound, 10, nil)
				if err != nil {
					t.Error(err)
					return
				}
				seen := map[string]bool{}
				for i, n := range got {
					if seen[n.ChildID] || (i > 0 && n.Distance < got[i-1].Distance) {
						t.Errorf("bad result %+v", got)
						return
					}
					seen[n.ChildID] = true
				}
			}
		})
	}
	wg.Wait()
	checkInvariants(t, ix)
}

// naiveSearch is the benchmark baseline: one plain Go loop over the slab
// computing Σ(g−q)², with the same per-child top-k heap.
func naiveSearch(s *slab, q []models.Descriptor, k int) []candidate {
	h := newChildHeap(k)
	for i := range s.len() {
		g := s.vec(i)
		best := float32(math.Inf(1))
		for j := range q {
			var sum float32
			for t, x := range g {
				d := x - q[j][t]
				sum += d * d
			}
			best = min(best, sum)
		}
		if h.accepts(best) {
			h.offer(s.child[i], best)
		}
	}
	return h.items
}

// benchGallery builds an index of n found-child faces (3 per child) and
// reports its heap bytes per entry.
func benchGallery(b *testing.B, n int) (*VectorIndex, []models.Descriptor) {
	r := rand.New(rand.NewPCG(20, uint64(n)))
	centres := make([]models.Descriptor, (n+2)/3)
	for i := range centres {
		centres[i] = randomDescriptor(r)
	}
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	ix := NewVectorIndex()
	for i := range n {
		c := i / 3
		err := ix.Add(models.FaceEntry{ChildID: fmt.Sprintf("c%07d", c), Kind: models.KindFound,
			PhotoID: fmt.Sprintf("c%07d-p%d", c, i%3), TakenOn: "2020-01-01", Descriptor: near(r, centres[c], 0.3)})
		if err != nil {
			b.Fatal(err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	b.Logf("%d entries: %.0f heap bytes per entry (descriptor alone: %d)", n,
		float64(after.HeapAlloc-before.HeapAlloc)/float64(n), dim*4)
	return ix, centres
}

// BenchmarkSearch compares the sharded SIMD scan with a naive Go loop on
// the same index: go test ./index -run '^$' -bench BenchmarkSearch$ -benchtime 20x
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		ix, centres := benchGallery(b, n)
		q := []models.Descriptor{near(rand.New(rand.NewPCG(1, 1)), centres[7], 0.4)}
		ctx := context.Background()
		perVector := func(b *testing.B) {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/vector")
		}
		b.Run(fmt.Sprintf("n=%d/simd-sharded", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := ix.Search(ctx, q, models.KindFound, 10, nil); err != nil {
					b.Fatal(err)
				}
			}
			perVector(b)
		})
		b.Run(fmt.Sprintf("n=%d/simd-1core", n), func(b *testing.B) {
			ix.workers = 1
			defer func() { ix.workers = runtime.NumCPU() }()
			for b.Loop() {
				if _, err := ix.Search(ctx, q, models.KindFound, 10, nil); err != nil {
					b.Fatal(err)
				}
			}
			perVector(b)
		})
		b.Run(fmt.Sprintf("n=%d/naive-go", n), func(b *testing.B) {
			for b.Loop() {
				naiveSearch(ix.slabs[models.KindFound], q, 10)
			}
			perVector(b)
		})
	}
}

// BenchmarkSearchBatch compares SearchBatch (BLAS sgemm blocks) with a loop
// of Search calls, per query descriptor and gallery vector:
// go test ./index -run '^$' -bench BenchmarkSearchBatch -benchtime 3x
func BenchmarkSearchBatch(b *testing.B) {
	const n, nq = 100_000, 512
	ix, centres := benchGallery(b, n)
	r := rand.New(rand.NewPCG(2, 2))
	batch := make([][]models.Descriptor, nq)
	for i := range batch {
		batch[i] = []models.Descriptor{near(r, centres[r.IntN(len(centres))], 0.4)}
	}
	ctx := context.Background()
	perPair := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*nq), "ns/pair")
	}
	b.Run("batch-sgemm", func(b *testing.B) {
		for b.Loop() {
			if _, err := ix.SearchBatch(ctx, batch, models.KindFound, 10, nil); err != nil {
				b.Fatal(err)
			}
		}
		perPair(b)
	})
	b.Run("search-loop", func(b *testing.B) {
		for b.Loop() {
			for _, q := range batch {
				if _, err := ix.Search(ctx, q, models.KindFound, 10, nil); err != nil {
					b.Fatal(err)
				}
			}
		}
		perPair(b)
	})
}
