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
	"time"

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

// sexes are the recorded sexes a child or query may have, "" included.
func sexes() []models.Sex {
	return []models.Sex{models.SexFemale, models.SexMale, models.SexUnknown, ""}
}

// randomSex is mostly female or male, sometimes unknown or empty.
func randomSex(r *rand.Rand) models.Sex {
	return [...]models.Sex{models.SexFemale, models.SexFemale, models.SexFemale,
		models.SexMale, models.SexMale, models.SexMale, models.SexUnknown, ""}[r.IntN(8)]
}

// gallery makes nChildren children alternating kinds, of random sexes, each
// with 1–3 photos of 1–2 faces near a per-child centre; it returns the
// entries and centres.
func gallery(r *rand.Rand, nChildren int) ([]models.FaceEntry, []models.Descriptor) {
	var es []models.FaceEntry
	centres := make([]models.Descriptor, nChildren)
	for c := range nChildren {
		centres[c] = randomDescriptor(r)
		kind := models.KindFound
		if c%2 == 1 {
			kind = models.KindMissing
		}
		sex := randomSex(r)
		for p := range 1 + r.IntN(3) {
			for f := range 1 + r.IntN(2) {
				es = append(es, models.FaceEntry{
					ChildID: fmt.Sprintf("c%06d", c), Kind: kind, Sex: sex,
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

// bruteForce is the reference: every pair of the children of kind that q
// admits by Descriptor.Distance, the best pair per child, children by
// distance then id.
func bruteForce(es []models.FaceEntry, q models.FaceQuery, kind models.Kind, k int) []models.FaceHit {
	queries := q.Descriptors
	best := map[string]models.FaceHit{}
	for _, e := range es {
		if e.Kind != kind || !q.Admits(e.Sex) {
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

// fq is a query of unknown sex excluding no one.
func fq(qs ...models.Descriptor) models.FaceQuery { return models.FaceQuery{Descriptors: qs} }

func mustSearch(t testing.TB, ix *VectorIndex, q models.FaceQuery, kind models.Kind, k int) []models.FaceHit {
	t.Helper()
	got, err := ix.Search(context.Background(), q, kind, k)
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
		queryRuns int
	}{
		{"tiny", 7, 1, 10, 20},
		{"one-shard", 500, 1, 10, 30},
		{"sharded", 12000, 4, 10, 20},
		{"sharded-k50", 12000, 3, 50, 10},
		{"k-over-linear-heap", 3000, 2, 200, 5}, // the heap indexes children by map
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(1, uint64(tc.children)))
			es, centres := gallery(r, tc.children)
			ix := build(t, es)
			ix.workers = tc.workers
			hits, total := 0, 0
			for range tc.queryRuns {
				q := fq(queriesFor(r, centres)...)
				for _, kind := range []models.Kind{models.KindFound, models.KindMissing} {
					for _, q.Sex = range sexes() {
						want := bruteForce(es, q, kind, tc.k)
						got := mustSearch(t, ix, q, kind, tc.k)
						if !reflect.DeepEqual(got, want) {
							t.Fatalf("kind %s, sex %q:\n got %+v\nwant %+v", kind, q.Sex, got, want)
						}
						if len(want) < tc.k && len(want) < tc.children/8 {
							t.Fatalf("kind %s, sex %q: only %d results", kind, q.Sex, len(want))
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
	got := mustSearch(t, ix, fq(q), models.KindFound, 10)
	if len(got) != 2 || got[0].ChildID != "f1" || got[1].ChildID != "f2" {
		t.Fatalf("found search returned %+v", got)
	}
	got = mustSearch(t, ix, fq(q), models.KindMissing, 10)
	if len(got) != 1 || got[0].ChildID != "m1" || got[0].Distance != 0 {
		t.Fatalf("missing search returned %+v", got)
	}
	if _, err := ix.Search(context.Background(), fq(q), "lost", 10); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("bad kind: err %v", err)
	}
}

// A query searches only the children its sex admits: female and male
// exclude each other, unknown (or empty) admits and is admitted by all.
func TestSearchSexFilter(t *testing.T) {
	r := rand.New(rand.NewPCG(2, 3))
	q := randomDescriptor(r)
	ix := build(t, []models.FaceEntry{
		{ChildID: "male", Kind: models.KindFound, Sex: models.SexMale, PhotoID: "p1", Descriptor: q}, // identical to the query
		{ChildID: "unknown", Kind: models.KindFound, Sex: models.SexUnknown, PhotoID: "p2", Descriptor: near(r, q, 0.3)},
		{ChildID: "empty", Kind: models.KindFound, PhotoID: "p3", Descriptor: near(r, q, 0.4)},
		{ChildID: "female", Kind: models.KindFound, Sex: models.SexFemale, PhotoID: "p4", Descriptor: near(r, q, 0.5)},
	})
	for sex, want := range map[models.Sex][]string{
		models.SexFemale:  {"unknown", "empty", "female"},
		models.SexMale:    {"male", "unknown", "empty"},
		models.SexUnknown: {"male", "unknown", "empty", "female"},
		"":                {"male", "unknown", "empty", "female"},
	} {
		var ids []string
		for _, h := range mustSearch(t, ix, models.FaceQuery{Descriptors: []models.Descriptor{q}, Sex: sex}, models.KindFound, 10) {
			ids = append(ids, h.ChildID)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("%q query found %v, want %v", sex, ids, want)
		}
	}
	if _, err := ix.Search(context.Background(), models.FaceQuery{Descriptors: []models.Descriptor{q}, Sex: "girl"}, models.KindFound, 10); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("bad sex: err %v", err)
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
	got := mustSearch(t, ix, fq(a, b), models.KindFound, 10)
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
	if got := mustSearch(t, ix, fq(a, b), models.KindFound, 1); len(got) != 1 || got[0].ChildID != "x" {
		t.Fatalf("k=1: %+v", got)
	}
}

// checkInvariants verifies the slabs and slot lists agree.
func checkInvariants(t *testing.T, ix *VectorIndex) {
	t.Helper()
	n := 0
	if len(ix.slabs) != 6 {
		t.Fatalf("%d slabs, want one per kind and sex", len(ix.slabs))
	}
	for key, s := range ix.slabs {
		if s.key != key {
			t.Fatalf("slab %v filed under %v", s.key, key)
		}
		if len(s.vecs) != s.len()*dim || len(s.child) != s.len() || len(s.meta) != s.len() {
			t.Fatalf("%v slab lengths disagree", key)
		}
		n += s.len()
		for slot, c := range s.child {
			if ix.children[c.id] != c || c.slab != s || !slices.Contains(c.slots, int32(slot)) {
				t.Fatalf("%v slot %d not in its child's slot list", key, slot)
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
		q := models.FaceQuery{Descriptors: queriesFor(r, centres), Sex: randomSex(r)}
		for _, kind := range []models.Kind{models.KindFound, models.KindMissing} {
			if got, want := mustSearch(t, ix, q, kind, 10), bruteForce(live, q, kind, 10); !reflect.DeepEqual(got, want) {
				t.Fatalf("after removals, sex %q:\n got %+v\nwant %+v", q.Sex, got, want)
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
	if got := mustSearch(t, ix, fq(b), models.KindFound, 1); got[0].Distance != 0 {
		t.Fatalf("replaced descriptor not used: %+v", got)
	}
	nan := a
	nan[3] = float32(math.NaN())
	for name, bad := range map[string]models.FaceEntry{
		"no child":      {Kind: models.KindFound, PhotoID: "q", Descriptor: a},
		"no photo":      {ChildID: "y", Kind: models.KindFound, Descriptor: a},
		"bad kind":      {ChildID: "y", Kind: "lost", PhotoID: "q", Descriptor: a},
		"NaN":           {ChildID: "y", Kind: models.KindFound, PhotoID: "q", Descriptor: nan},
		"bad sex":       {ChildID: "y", Kind: models.KindFound, Sex: "girl", PhotoID: "q", Descriptor: a},
		"kind changes":  {ChildID: "x", Kind: models.KindMissing, PhotoID: "q", Descriptor: a},
		"sex changes":   {ChildID: "x", Kind: models.KindFound, Sex: models.SexMale, PhotoID: "q", Descriptor: a},
		"another child": {ChildID: "y", Kind: models.KindFound, PhotoID: "p", Descriptor: a},
	} {
		if err := ix.Add(bad); models.ErrorCode(err) != models.EINVALID {
			t.Errorf("%s: err %v, want %s", name, err, models.EINVALID)
		}
	}
	checkInvariants(t, ix)
	if _, err := ix.Search(context.Background(), fq(nan), models.KindFound, 1); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("NaN query: err %v", err)
	}
	// An empty sex is unknown: a photo recorded as unknown joins x.
	if err := ix.Add(models.FaceEntry{ChildID: "x", Kind: models.KindFound, Sex: models.SexUnknown, PhotoID: "q", Descriptor: a}); err != nil {
		t.Fatalf("unknown sex for a child added with none: %v", err)
	}
	checkInvariants(t, ix)
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
	got := mustSearch(t, ix, fq(b), models.KindFound, 5)
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

// A child whose recorded sex changes is moved with ReplaceChild: a search
// as female no longer finds a child changed to male, a search as male does.
func TestReplaceChildMovesSex(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	a := randomDescriptor(r)
	entries := func(sex models.Sex) []models.FaceEntry {
		return []models.FaceEntry{
			{ChildID: "x", Kind: models.KindFound, Sex: sex, PhotoID: "p1", Descriptor: a},
			{ChildID: "x", Kind: models.KindFound, Sex: sex, PhotoID: "p2", FaceIndex: 1, Descriptor: near(r, a, 0.2)},
		}
	}
	ix := build(t, append(entries(models.SexFemale),
		models.FaceEntry{ChildID: "y", Kind: models.KindFound, Sex: models.SexFemale, PhotoID: "p3", Descriptor: near(r, a, 0.6)}))
	ids := func(sex models.Sex) []string {
		var out []string
		for _, h := range mustSearch(t, ix, models.FaceQuery{Descriptors: []models.Descriptor{a}, Sex: sex}, models.KindFound, 10) {
			out = append(out, h.ChildID)
		}
		return out
	}
	if got := ids(models.SexFemale); !slices.Equal(got, []string{"x", "y"}) {
		t.Fatalf("before the change, female search found %v", got)
	}
	if err := ix.ReplaceChild("x", entries(models.SexMale)); err != nil {
		t.Fatal(err)
	}
	checkInvariants(t, ix)
	if got := ids(models.SexFemale); !slices.Equal(got, []string{"y"}) {
		t.Errorf("after the change to male, female search found %v", got)
	}
	if got := ids(models.SexMale); !slices.Equal(got, []string{"x"}) {
		t.Errorf("after the change to male, male search found %v", got)
	}
	if got := ids(models.SexUnknown); !slices.Equal(got, []string{"x", "y"}) {
		t.Errorf("after the change to male, unknown search found %v", got)
	}
	if s := ix.slabs[slabKey{models.KindFound, models.SexMale}]; s.len() != 2 {
		t.Errorf("male slab holds %d faces, want x's 2", s.len())
	}
	if err := ix.Add(models.FaceEntry{ChildID: "x", Kind: models.KindFound, Sex: models.SexFemale, PhotoID: "p4", Descriptor: a}); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("adding a female face to x, now male: err %v", err)
	}
	mixed := entries(models.SexFemale)
	mixed[1].Sex = models.SexMale
	if err := ix.ReplaceChild("x", mixed); models.ErrorCode(err) != models.EINVALID {
		t.Errorf("entries of two sexes: err %v", err)
	}
	if got := ids(models.SexMale); !slices.Equal(got, []string{"x"}) {
		t.Errorf("a refused replace changed the index: male search found %v", got)
	}
	checkInvariants(t, ix)
}

// Many children with the same descriptor, spread over the three sex slabs,
// tie within the error bound, so the fast path cannot prove its top k and
// must fall back to the exact scan of the admitted slabs; ties go to the
// smaller child id.
func TestSearchTiesExact(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	d := randomDescriptor(r)
	tiedSex := func(i int) models.Sex { return slabSexes()[i%3] }
	var es []models.FaceEntry
	for i := range 60 {
		es = append(es, models.FaceEntry{ChildID: fmt.Sprintf("t%02d", i), Kind: models.KindFound, Sex: tiedSex(i),
			PhotoID: fmt.Sprintf("p%02d", 59-i), Descriptor: d})
	}
	for i := range 5000 {
		es = append(es, models.FaceEntry{ChildID: fmt.Sprintf("z%04d", i), Kind: models.KindFound, Sex: randomSex(r),
			PhotoID: fmt.Sprintf("zp%04d", i), Descriptor: randomDescriptor(r)})
	}
	ix := build(t, es)
	for _, sex := range sexes() {
		q := models.FaceQuery{Descriptors: []models.Descriptor{near(r, d, 0.2)}, Sex: sex}
		got := mustSearch(t, ix, q, models.KindFound, 10)
		if want := bruteForce(es, q, models.KindFound, 10); !reflect.DeepEqual(got, want) {
			t.Fatalf("ties, sex %q:\n got %+v\nwant %+v", sex, got, want)
		}
		var want []string // the first ten admitted tied ids
		for i := 0; len(want) < 10; i++ {
			if q.Admits(tiedSex(i)) {
				want = append(want, fmt.Sprintf("t%02d", i))
			}
		}
		for i, n := range got {
			if n.ChildID != want[i] {
				t.Fatalf("sex %q: rank %d is %s, want %s", sex, i, n.ChildID, want[i])
			}
		}
	}
}

func TestSearchBatchEqualsSearch(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 9))
	es, centres := gallery(r, 3000)
	ix := build(t, es)
	batch := make([]models.FaceQuery, 700) // several chunks of batchRows rows, of mixed sexes
	for i := range batch {
		batch[i] = models.FaceQuery{Descriptors: queriesFor(r, centres), Sex: randomSex(r)}
	}
	batch[5].Descriptors = nil // a child with no usable face
	for _, k := range []int{1, 10} {
		got, err := ix.SearchBatch(context.Background(), batch, models.KindFound, k)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(batch) {
			t.Fatalf("%d results for %d searches", len(got), len(batch))
		}
		for i := range batch {
			want := mustSearch(t, ix, batch[i], models.KindFound, k)
			if !reflect.DeepEqual(got[i], want) {
				t.Fatalf("k=%d search %d (sex %q):\nbatch  %+v\nsearch %+v", k, i, batch[i].Sex, got[i], want)
			}
		}
	}
	batch[7].Sex = "girl"
	if _, err := ix.SearchBatch(context.Background(), batch, models.KindFound, 10); models.ErrorCode(err) != models.EINVALID {
		t.Fatalf("bad sex: err %v", err)
	}
}

func TestSearchCanceled(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 10))
	es, centres := gallery(r, 12000)
	ix := build(t, es)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	q := models.FaceQuery{Descriptors: []models.Descriptor{centres[0]}, Sex: models.SexFemale}
	if _, err := ix.Search(ctx, q, models.KindFound, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("Search: err %v", err)
	}
	if _, err := ix.SearchBatch(ctx, []models.FaceQuery{q}, models.KindFound, 10); !errors.Is(err, context.Canceled) {
		t.Fatalf("SearchBatch: err %v", err)
	}
}

// Run with -race: writers add, replace and remove while readers search.
func TestConcurrentUse(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	es, centres := gallery(r, 400)
	ix := build(t, es)
	sexOf := map[string]models.Sex{} // of the gallery's children, which the writers leave alone
	for _, e := range es {
		sexOf[e.ChildID] = e.Sex
	}
	var wg sync.WaitGroup
	for w := range 3 {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(12, uint64(w)))
			for i := range 200 {
				id := fmt.Sprintf("w%d-%d", w, i)
				e := models.FaceEntry{ChildID: id, Kind: models.KindFound, Sex: randomSex(r), PhotoID: id, Descriptor: randomDescriptor(r)}
				if err := ix.Add(e); err != nil {
					t.Error(err)
					return
				}
				if i%3 == 0 {
					ix.RemoveChild(id)
				} else if i%3 == 1 {
					e.PhotoID += "b"
					e.Sex = randomSex(r)
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
				q := models.FaceQuery{Descriptors: queriesFor(r, centres), Sex: randomSex(r)}
				got, err := ix.Search(context.Background(), q, models.KindFound, 10)
				if err != nil {
					t.Error(err)
					return
				}
				seen := map[string]bool{}
				for i, n := range got {
					sex, inGallery := sexOf[n.ChildID]
					if seen[n.ChildID] || (i > 0 && n.Distance < got[i-1].Distance) || inGallery && !q.Admits(sex) {
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

// naiveSearch is the benchmark baseline: one plain Go loop over the slabs
// computing Σ(g−q)², with the same per-child top-k heap.
func naiveSearch(ss []*slab, q []models.Descriptor, k int) []candidate {
	h := newChildHeap(k)
	for _, s := range ss {
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
	}
	return h.items
}

// benchSex is the sex of benchmark child c: 45% female, 45% male, 10%
// unknown.
func benchSex(c int) models.Sex {
	switch {
	case c%20 < 9:
		return models.SexFemale
	case c%20 < 18:
		return models.SexMale
	}
	return models.SexUnknown
}

// benchGallery builds an index of n found-child faces (3 per child, of the
// sexes benchSex gives) and reports its heap bytes per entry.
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
		err := ix.Add(models.FaceEntry{ChildID: fmt.Sprintf("c%07d", c), Kind: models.KindFound, Sex: benchSex(c),
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
// the same index, for a query of unknown sex (which scans every slab) and
// a female one (the female and unknown slabs: 55% of the gallery); ns/vector
// is per gallery vector, scanned or not. simd-sharded-female reports its
// speed-up over simd-sharded when both run:
// go test ./index -run '^$' -bench BenchmarkSearch$ -benchtime 20x
func BenchmarkSearch(b *testing.B) {
	for _, n := range []int{10_000, 100_000, 1_000_000} {
		ix, centres := benchGallery(b, n)
		unknown := fq(near(rand.New(rand.NewPCG(1, 1)), centres[7], 0.4))
		female := unknown
		female.Sex = models.SexFemale
		ctx := context.Background()
		perVector := func(b *testing.B) {
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n), "ns/vector")
		}
		search := func(b *testing.B, q models.FaceQuery) time.Duration {
			for b.Loop() {
				if _, err := ix.Search(ctx, q, models.KindFound, 10); err != nil {
					b.Fatal(err)
				}
			}
			perVector(b)
			return b.Elapsed() / time.Duration(b.N)
		}
		var unknownTime time.Duration
		b.Run(fmt.Sprintf("n=%d/simd-sharded", n), func(b *testing.B) {
			unknownTime = search(b, unknown)
		})
		b.Run(fmt.Sprintf("n=%d/simd-sharded-female", n), func(b *testing.B) {
			if t := search(b, female); unknownTime > 0 {
				b.ReportMetric(float64(unknownTime)/float64(t), "speedup-vs-unknown")
			}
		})
		b.Run(fmt.Sprintf("n=%d/simd-1core", n), func(b *testing.B) {
			ix.workers = 1
			defer func() { ix.workers = runtime.NumCPU() }()
			search(b, unknown)
		})
		b.Run(fmt.Sprintf("n=%d/naive-go", n), func(b *testing.B) {
			for b.Loop() {
				naiveSearch(ix.searched(models.KindFound, &unknown), unknown.Descriptors, 10)
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
	batch := make([]models.FaceQuery, nq)
	for i := range batch {
		c := r.IntN(len(centres))
		batch[i] = models.FaceQuery{Descriptors: []models.Descriptor{near(r, centres[c], 0.4)}, Sex: benchSex(c)}
	}
	ctx := context.Background()
	perPair := func(b *testing.B) {
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n*nq), "ns/pair")
	}
	b.Run("batch-sgemm", func(b *testing.B) {
		for b.Loop() {
			if _, err := ix.SearchBatch(ctx, batch, models.KindFound, 10); err != nil {
				b.Fatal(err)
			}
		}
		perPair(b)
	})
	b.Run("search-loop", func(b *testing.B) {
		for b.Loop() {
			for _, q := range batch {
				if _, err := ix.Search(ctx, q, models.KindFound, 10); err != nil {
					b.Fatal(err)
				}
			}
		}
		perPair(b)
	})
}
