package index

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"runtime"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// randomMFN is a random unit MobileFaceNet descriptor; nearMFN one about
// dist away from d, renormalised.
func randomMFN(r *rand.Rand) models.MFNDescriptor {
	var d models.MFNDescriptor
	for i := range d {
		d[i] = float32(r.NormFloat64())
	}
	return unit(d)
}

func nearMFN(r *rand.Rand, d models.MFNDescriptor, dist float64) models.MFNDescriptor {
	sd := dist / math.Sqrt(mfnDim)
	for i := range d {
		d[i] += float32(r.NormFloat64() * sd)
	}
	return unit(d)
}

func unit(d models.MFNDescriptor) models.MFNDescriptor {
	var n float64
	for _, x := range d {
		n += float64(x) * float64(x)
	}
	n = math.Sqrt(n)
	for i := range d {
		d[i] = float32(float64(d[i]) / n)
	}
	return d
}

// bruteForceBoth is the reference for a search with both models: the k
// nearest children by dlib united with the k nearest by MobileFaceNet
// (bruteForce on each), each child's best pairs computed over all its
// entries, ordered by dlib distance then id.
func bruteForceBoth(es []models.FaceEntry, q models.FaceQuery, kind models.Kind, k int) []models.FaceHit {
	dl := bruteForce(es, q, kind, k)
	// MobileFaceNet as a dlib-shaped problem per entry: a brute force over
	// the MFN vectors with the same tie rules.
	type best struct {
		hit models.FaceHit
		ok  bool
	}
	mfnBest := map[string]best{}
	for _, e := range es {
		if e.MFN == nil || e.Kind != kind || !q.Admits(e.Sex) {
			continue
		}
		for qi := range q.MFN {
			n := models.FaceHit{ChildID: e.ChildID, PhotoID: e.PhotoID, FaceIndex: e.FaceIndex,
				QueryIndex: qi, Distance: euclid(e.MFN[:], q.MFN[qi][:]), TakenOn: e.TakenOn}
			if b := mfnBest[e.ChildID]; !b.ok || pairLess(&n, &b.hit) {
				mfnBest[e.ChildID] = best{n, true}
			}
		}
	}
	var mf []models.FaceHit
	for _, b := range mfnBest {
		mf = append(mf, b.hit)
	}
	sortNeighbours(mf)
	if len(mf) > k {
		mf = mf[:k]
	}
	all := bruteForce(es, q, kind, math.MaxInt)
	dlibOf := map[string]models.FaceHit{}
	for _, h := range all {
		dlibOf[h.ChildID] = h
	}
	var out []models.FaceHit
	seen := map[string]bool{}
	for _, h := range append(dl, mf...) {
		if seen[h.ChildID] {
			continue
		}
		seen[h.ChildID] = true
		d := dlibOf[h.ChildID]
		if b, ok := mfnBest[h.ChildID]; ok {
			d.HasMFN, d.MFNDistance = true, b.hit.Distance*b.hit.Distance/2
		}
		out = append(out, d)
	}
	sortNeighbours(out)
	return out
}

// TestSearchBothEqualsBruteForce checks Search and SearchBatch with both
// models' descriptors against the brute force, on a gallery where most
// faces have a MobileFaceNet descriptor (some, stored before the model,
// have none) whose neighbours differ from dlib's.
func TestSearchBothEqualsBruteForce(t *testing.T) {
	for _, tc := range []struct {
		name     string
		children int
		workers  int
		k        int
	}{
		{"tiny", 9, 1, 5},
		{"sharded", 9000, 3, 10},
		{"k-over-linear-heap", 2000, 2, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(7, uint64(tc.children)))
			es, centres := gallery(r, tc.children)
			mcentres := map[string]models.MFNDescriptor{}
			for i := range es {
				if r.IntN(10) == 0 {
					continue // a face stored before MobileFaceNet
				}
				c, ok := mcentres[es[i].ChildID]
				if !ok {
					c = randomMFN(r)
					mcentres[es[i].ChildID] = c
				}
				m := nearMFN(r, c, 0.5)
				es[i].MFN = &m
			}
			ix := build(t, es)
			ix.workers = tc.workers
			if ix.LenMFN() == 0 || ix.LenMFN() >= ix.Len() {
				t.Fatalf("%d MobileFaceNet of %d faces", ix.LenMFN(), ix.Len())
			}
			var batch []models.FaceQuery
			for range 12 {
				q := fq(queriesFor(r, centres)...)
				for range 1 + r.IntN(2) {
					if r.IntN(2) == 0 {
						id := fmt.Sprintf("c%06d", r.IntN(tc.children))
						if c, ok := mcentres[id]; ok {
							q.MFN = append(q.MFN, nearMFN(r, c, 0.6))
							continue
						}
					}
					q.MFN = append(q.MFN, randomMFN(r))
				}
				q.Sex = randomSex(r)
				batch = append(batch, q)
			}
			union := 0
			for _, q := range batch {
				want := bruteForceBoth(es, q, models.KindFound, tc.k)
				got := mustSearch(t, ix, q, models.KindFound, tc.k)
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("sex %q:\n got %+v\nwant %+v", q.Sex, got, want)
				}
				union += len(got) - min(tc.k, len(got))
			}
			if tc.children > 100 && union == 0 {
				t.Error("MobileFaceNet never added a child to dlib's top k: the test does not exercise the union")
			}
			got, err := ix.SearchBatch(context.Background(), batch, models.KindFound, tc.k)
			if err != nil {
				t.Fatal(err)
			}
			for i, q := range batch {
				if want := bruteForceBoth(es, q, models.KindFound, tc.k); !reflect.DeepEqual(got[i], want) {
					t.Fatalf("batch query %d:\n got %+v\nwant %+v", i, got[i], want)
				}
			}

			// Removing a photo drops its MobileFaceNet descriptors too, and
			// re-adding a face without one drops the stale one.
			e := es[0]
			ix.RemovePhoto(e.PhotoID)
			var kept []models.FaceEntry
			for _, x := range es {
				if x.PhotoID != e.PhotoID {
					kept = append(kept, x)
				}
			}
			e2 := es[len(es)-1]
			e2.MFN = nil
			if err := ix.Add(e2); err != nil {
				t.Fatal(err)
			}
			kept[len(kept)-1] = e2
			for _, q := range batch[:3] {
				if want, got := bruteForceBoth(kept, q, models.KindFound, tc.k), mustSearch(t, ix, q, models.KindFound, tc.k); !reflect.DeepEqual(got, want) {
					t.Fatalf("after removal:\n got %+v\nwant %+v", got, want)
				}
			}
		})
	}
}

func TestSearchRefusesBadMFN(t *testing.T) {
	ix := NewVectorIndex()
	var bad models.MFNDescriptor
	bad[3] = float32(math.NaN())
	if err := ix.Add(models.FaceEntry{ChildID: "c", PhotoID: "p", Kind: models.KindFound, MFN: &bad}); err == nil {
		t.Error("NaN MobileFaceNet descriptor indexed")
	}
	if _, err := ix.Search(context.Background(), models.FaceQuery{Descriptors: []models.Descriptor{{}}, MFN: []models.MFNDescriptor{bad}}, models.KindFound, 3); err == nil {
		t.Error("NaN MobileFaceNet query accepted")
	}
	if _, err := ix.Search(context.Background(), models.FaceQuery{MFN: []models.MFNDescriptor{randomMFN(rand.New(rand.NewPCG(1, 1)))}}, models.KindFound, 3); err == nil {
		t.Error("MobileFaceNet query without dlib descriptors accepted")
	}
}

// BenchmarkIndexMemoryBoth reports the index's heap bytes per face with
// both models' descriptors, beside the bytes of the descriptors alone
// (2,560), for 100k faces of one photo each:
// go test ./index -run '^$' -bench IndexMemoryBoth -benchtime 1x
func BenchmarkIndexMemoryBoth(b *testing.B) {
	const n = 100_000
	r := rand.New(rand.NewPCG(21, 22))
	base := randomDescriptor(r)
	mbase := randomMFN(r)
	for b.Loop() {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		ix := NewVectorIndex()
		for i := range n {
			m := mbase
			m[i%mfnDim] += 0.01
			d := base
			d[i%dim] += 0.01
			err := ix.Add(models.FaceEntry{ChildID: fmt.Sprintf("c%07d", i), Kind: models.KindFound, Sex: benchSex(i),
				PhotoID: fmt.Sprintf("c%07d-p0", i), TakenOn: "2020-01-01", Descriptor: d, MFN: &m})
			if err != nil {
				b.Fatal(err)
			}
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		per := float64(after.HeapAlloc-before.HeapAlloc) / n
		b.ReportMetric(per, "heap-B/face")
		b.ReportMetric(per-4*(dim+mfnDim), "overhead-B/face")
		runtime.KeepAlive(ix)
	}
}
