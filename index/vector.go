package index

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"

	"github.com/viterin/vek/vek32"

	"github.com/trackmatch/trackmatch/models"
)

// dim is the length of a dlib descriptor, as an int for slice arithmetic.
const dim = models.DescriptorSize

// mfnDim is the length of a MobileFaceNet descriptor.
const mfnDim = models.MFNDescriptorSize

// VectorIndex holds every face descriptor in memory and finds the children
// nearest to a set of query descriptors exactly, by scanning. Descriptors
// sit in one contiguous slab per kind and sex (female, male, unknown), so
// that a scan reads memory in order and reads only the children the query
// could be (models.FaceQuery.Admits): a female query scans the female and
// unknown slabs, a male one the male and unknown slabs, a query of unknown
// sex all three. The scan is SIMD (vek32) and split across cores. It is
// safe for concurrent use.
//
// Exactness: the scan ranks by a fast expansion |g|²+|q|²−2g·q, keeps a few
// more children than asked, recomputes their distances with
// (*models.Descriptor).Distance, and proves from a floating-point error bound
// that no child outside the kept set could rank in the top k. When the proof
// fails (many children tied within ~1e-4) it falls back to an exact scan, so
// results always equal a brute-force search with Descriptor.Distance over
// the admitted children, ties broken by child id. The scan of a search
// feeds one set of kept children from all its slabs, so the proof and the
// fallback cover the union of the slabs searched.
//
// Each face model has a partition of its own, with the same slabs: dlib's
// descriptors (the embedded partition) and MobileFaceNet's (mfn), which a
// face has when the model was on. MobileFaceNet's descriptors are unit
// vectors, so ranking them by Euclidean distance ranks them by cosine
// distance. A search that carries both kinds of query descriptor returns
// the union of each partition's exact top k (see Search).
type VectorIndex struct {
	mu sync.RWMutex
	*partition
	mfn     *partition
	workers int
}

// partition holds one face model's descriptors, dim floats each.
type partition struct {
	dim      int
	slabs    map[slabKey]*slab
	children map[string]*childRec
	photos   map[string]*childRec
}

// slabKey names a slab: a kind and a sex (SexFemale, SexMale or SexUnknown).
type slabKey struct {
	kind models.Kind
	sex  models.Sex
}

// slabSexes returns the sexes that have a slab of their own, in the order
// searches visit them.
func slabSexes() [3]models.Sex {
	return [3]models.Sex{models.SexFemale, models.SexMale, models.SexUnknown}
}

// slabSex is the slab sex of a valid recorded sex: "" is unknown.
func slabSex(s models.Sex) models.Sex {
	if s == "" {
		return models.SexUnknown
	}
	return s
}

// childRec is one child's faces, all in the slab of its kind and sex.
type childRec struct {
	id    string
	slab  *slab
	slots []int32
}

// entryMeta is what a search reports about a slot, kept apart from the
// vectors so that the scan's hot loop touches only vecs and norms.
type entryMeta struct {
	photoID string
	takenOn models.Date
	face    int32
}

// slab holds the descriptors of one kind and sex: slot i is
// vecs[i*dim:(i+1)*dim]. Removal swaps the last slot into the hole, so
// slots stay dense.
type slab struct {
	key     slabKey
	dim     int
	vecs    []float32
	norms   []float32 // |v|² per slot, for the dot-product expansion
	child   []*childRec
	meta    []entryMeta
	maxNorm float32 // an upper bound on norms (never lowered on removal)
}

func (s *slab) len() int { return len(s.norms) }

func (s *slab) vec(i int) []float32 { return s.vecs[i*s.dim : (i+1)*s.dim : (i+1)*s.dim] }

// NewVectorIndex returns an empty index using one scan goroutine per CPU.
func NewVectorIndex() *VectorIndex {
	return &VectorIndex{partition: newPartition(dim), mfn: newPartition(mfnDim), workers: runtime.NumCPU()}
}

func newPartition(d int) *partition {
	slabs := map[slabKey]*slab{}
	for _, kind := range []models.Kind{models.KindMissing, models.KindFound} {
		for _, sex := range slabSexes() {
			key := slabKey{kind, sex}
			slabs[key] = &slab{key: key, dim: d}
		}
	}
	return &partition{dim: d, slabs: slabs, children: map[string]*childRec{}, photos: map[string]*childRec{}}
}

// searched returns the slabs of kind whose children q admits.
func (p *partition) searched(kind models.Kind, q *models.FaceQuery) []*slab {
	var out []*slab
	for _, sex := range slabSexes() {
		if q.Admits(sex) {
			out = append(out, p.slabs[slabKey{kind, sex}])
		}
	}
	return out
}

// parts returns the partitions.
func (ix *VectorIndex) parts() [2]*partition { return [2]*partition{ix.partition, ix.mfn} }

// queryVecs are q's descriptors in partition p.
func (ix *VectorIndex) queryVecs(p *partition, q *models.FaceQuery) [][]float32 {
	var out [][]float32
	if p == ix.mfn {
		for i := range q.MFN {
			out = append(out, q.MFN[i][:])
		}
		return out
	}
	for i := range q.Descriptors {
		out = append(out, q.Descriptors[i][:])
	}
	return out
}

// LenMFN returns the number of indexed MobileFaceNet descriptors.
func (ix *VectorIndex) LenMFN() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := 0
	for _, s := range ix.mfn.slabs {
		n += s.len()
	}
	return n
}

// Len returns the number of indexed faces (dlib descriptors) of both kinds.
func (ix *VectorIndex) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	n := 0
	for _, s := range ix.slabs {
		n += s.len()
	}
	return n
}

// Add indexes one face. Adding the same (photo, face index) again replaces
// its descriptor. A child keeps the kind and sex of its first entry: an
// entry of another kind or sex is refused (ReplaceChild moves a child).
func (ix *VectorIndex) Add(e models.FaceEntry) error {
	if err := validEntry(&e); err != nil {
		return err
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	return ix.addBoth(&e)
}

// addBoth adds e to dlib's partition and, when it has a MobileFaceNet
// descriptor, to MobileFaceNet's; without one, a stale one of the same face
// is dropped.
func (ix *VectorIndex) addBoth(e *models.FaceEntry) error {
	if err := ix.partition.addLocked(e, e.Descriptor[:]); err != nil {
		return err
	}
	if e.MFN != nil {
		return ix.mfn.addLocked(e, e.MFN[:])
	}
	ix.mfn.removeFace(e.PhotoID, e.FaceIndex)
	return nil
}

// ReplaceChild atomically swaps all of a child's faces for entries (which
// may be empty), so that a concurrent search sees either the old faces or
// the new ones, never none. Every entry must carry childID, and all one
// kind and one sex, which may differ from the child's old ones: this is how
// a child whose recorded sex changed moves to its new slab.
func (ix *VectorIndex) ReplaceChild(childID string, entries []models.FaceEntry) error {
	for i := range entries {
		if entries[i].ChildID != childID {
			return models.Errorf(models.EINVALID, "entry %d is for another child", i)
		}
		if err := validEntry(&entries[i]); err != nil {
			return fmt.Errorf("entry %d: %w", i, err)
		}
		if entries[i].Kind != entries[0].Kind || slabSex(entries[i].Sex) != slabSex(entries[0].Sex) {
			return models.Errorf(models.EINVALID, "entries of one child must have one kind and one sex")
		}
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	for i := range entries {
		if c := ix.photos[entries[i].PhotoID]; c != nil && c.id != childID {
			return models.Errorf(models.EINVALID, "photo %s belongs to another child", entries[i].PhotoID)
		}
	}
	ix.removeChildLocked(childID)
	ix.mfn.removeChildLocked(childID)
	for i := range entries {
		if err := ix.addBoth(&entries[i]); err != nil {
			return err // cannot happen: entries were checked above
		}
	}
	return nil
}

// RemoveChild drops every face of a child and returns how many there were.
func (ix *VectorIndex) RemoveChild(childID string) int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.mfn.removeChildLocked(childID)
	return ix.removeChildLocked(childID)
}

// RemovePhoto drops every face of one photo and returns how many there were.
func (ix *VectorIndex) RemovePhoto(photoID string) int {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.mfn.removePhoto(photoID)
	return ix.removePhoto(photoID)
}

// removeFace drops one face of a photo, if it is indexed.
func (p *partition) removeFace(photoID string, face int) {
	c := p.photos[photoID]
	if c == nil {
		return
	}
	s := c.slab
	for _, slot := range c.slots {
		if m := &s.meta[slot]; m.photoID == photoID && int(m.face) == face {
			p.removeSlot(s, int(slot))
			break
		}
	}
	still := false
	for _, slot := range c.slots {
		still = still || s.meta[slot].photoID == photoID
	}
	if !still {
		delete(p.photos, photoID)
	}
	if len(c.slots) == 0 {
		delete(p.children, c.id)
	}
}

// removePhoto drops every face of one photo and returns how many there were.
func (p *partition) removePhoto(photoID string) int {
	c := p.photos[photoID]
	if c == nil {
		return 0
	}
	s := c.slab
	n := 0
	for i := 0; i < len(c.slots); {
		if slot := int(c.slots[i]); s.meta[slot].photoID == photoID {
			p.removeSlot(s, slot) // removes c.slots[i] from c.slots
			n++
			continue
		}
		i++
	}
	delete(p.photos, photoID)
	if len(c.slots) == 0 {
		delete(p.children, c.id)
	}
	return n
}

func validEntry(e *models.FaceEntry) error {
	switch {
	case e.ChildID == "":
		return models.Errorf(models.EINVALID, "vector entry has no child id")
	case e.PhotoID == "":
		return models.Errorf(models.EINVALID, "vector entry has no photo id")
	case !e.Kind.Valid():
		return models.Errorf(models.EINVALID, "vector entry has kind %q", e.Kind)
	case !e.Sex.Valid():
		return models.Errorf(models.EINVALID, "vector entry has sex %q", e.Sex)
	case e.FaceIndex < 0 || e.FaceIndex > math.MaxInt32:
		return models.Errorf(models.EINVALID, "vector entry has face index %d", e.FaceIndex)
	case !finite(e.Descriptor[:]):
		return models.Errorf(models.EINVALID, "descriptor has a NaN or infinite component")
	case e.MFN != nil && !finite(e.MFN[:]):
		return models.Errorf(models.EINVALID, "MobileFaceNet descriptor has a NaN or infinite component")
	}
	return nil
}

func finite(d []float32) bool {
	for _, x := range d {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return false
		}
	}
	return true
}

// addLocked adds e's face with vector v (p.dim floats).
func (p *partition) addLocked(e *models.FaceEntry, v []float32) error {
	key := slabKey{e.Kind, slabSex(e.Sex)}
	c := p.children[e.ChildID]
	if c == nil {
		c = &childRec{id: e.ChildID, slab: p.slabs[key]}
		p.children[e.ChildID] = c
	} else if c.slab.key != key {
		return models.Errorf(models.EINVALID, "child %s is indexed as %s and %s, not %s and %s",
			e.ChildID, c.slab.key.kind, c.slab.key.sex, key.kind, key.sex)
	}
	if pc := p.photos[e.PhotoID]; pc != nil && pc != c {
		if len(c.slots) == 0 {
			delete(p.children, c.id)
		}
		return models.Errorf(models.EINVALID, "photo %s belongs to another child", e.PhotoID)
	}
	p.photos[e.PhotoID] = c
	s := c.slab
	norm := vek32.Dot(v, v)
	s.maxNorm = max(s.maxNorm, norm)
	for _, slot := range c.slots {
		if m := &s.meta[slot]; m.photoID == e.PhotoID && int(m.face) == e.FaceIndex {
			copy(s.vec(int(slot)), v)
			s.norms[slot] = norm
			m.takenOn = e.TakenOn
			return nil
		}
	}
	slot := int32(s.len())
	s.vecs = append(s.vecs, v...)
	s.norms = append(s.norms, norm)
	s.child = append(s.child, c)
	s.meta = append(s.meta, entryMeta{photoID: e.PhotoID, takenOn: e.TakenOn, face: int32(e.FaceIndex)})
	c.slots = append(c.slots, slot)
	return nil
}

func (p *partition) removeChildLocked(childID string) int {
	c := p.children[childID]
	if c == nil {
		return 0
	}
	s := c.slab
	n := len(c.slots)
	for len(c.slots) > 0 {
		slot := int(c.slots[len(c.slots)-1])
		delete(p.photos, s.meta[slot].photoID)
		p.removeSlot(s, slot)
	}
	delete(p.children, childID)
	return n
}

// removeSlot deletes slot from s by moving the last slot into it, and keeps
// both children's slot lists right.
func (p *partition) removeSlot(s *slab, slot int) {
	owner := s.child[slot]
	owner.slots = deleteValue(owner.slots, int32(slot))
	last := s.len() - 1
	if slot != last {
		moved := s.child[last]
		for i, v := range moved.slots {
			if int(v) == last {
				moved.slots[i] = int32(slot)
				break
			}
		}
		copy(s.vec(slot), s.vec(last))
		s.norms[slot] = s.norms[last]
		s.child[slot] = moved
		s.meta[slot] = s.meta[last]
	}
	s.vecs = s.vecs[:last*s.dim]
	s.norms = s.norms[:last]
	s.child[last] = nil
	s.child = s.child[:last]
	s.meta[last] = entryMeta{}
	s.meta = s.meta[:last]
}

func deleteValue(xs []int32, v int32) []int32 {
	for i, x := range xs {
		if x == v {
			xs[i] = xs[len(xs)-1]
			return xs[:len(xs)-1]
		}
	}
	return xs
}

// Search returns up to k children of the given kind (the kind to search
// among: pass the query child's kind.Other()) whose sex q admits, nearest
// to any of q's descriptors, best first, each with its best photo pair.
// When q has MobileFaceNet
// descriptors, it returns the union of the k nearest by dlib and the k
// nearest by MobileFaceNet (up to 2k children), each hit with both exact
// best distances, ordered by dlib's distance then child id.
func (ix *VectorIndex) Search(ctx context.Context, q models.FaceQuery, kind models.Kind, k int) ([]models.FaceHit, error) {
	if err := checkQuery(&q, kind); err != nil || k <= 0 || len(q.Descriptors) == 0 {
		return nil, err
	}
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var lists [2][]models.FaceHit
	for i, p := range ix.parts() {
		rows := ix.queryVecs(p, &q)
		if len(rows) == 0 {
			continue
		}
		res, err := ix.searchPart(ctx, p, &q, rows, kind, k)
		if err != nil {
			return nil, fmt.Errorf("face search: %w", err)
		}
		lists[i] = res
	}
	return ix.union(&q, lists), nil
}

// searchPart is the exact top-k search of one partition for query rows.
func (ix *VectorIndex) searchPart(ctx context.Context, p *partition, q *models.FaceQuery, rows [][]float32, kind models.Kind, k int) ([]models.FaceHit, error) {
	ss := p.searched(kind, q)
	qs := newQuerySet(rows, p.dim)
	capacity := keepFor(k)

	n := 0
	for _, s := range ss {
		n += s.len()
	}
	// Each worker scans its share of every slab into one heap, so that the
	// kept children, and the bound on the others, cover all the slabs.
	workers := min(ix.workers, max(1, n/minShard))
	heaps := make([]childHeap, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			heaps[w] = newChildHeap(capacity)
			for _, s := range ss {
				lo, hi := s.len()*w/workers, s.len()*(w+1)/workers
				if errs[w] = scanDots(ctx, s, qs, lo, hi, &heaps[w]); errs[w] != nil {
					return
				}
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	cands, bound := mergeHeaps(heaps, capacity)
	return finish(ctx, ss, q, qs, cands, bound, k)
}

// union merges the dlib partition's hits (lists[0]) with MobileFaceNet's
// (lists[1]): every child of either, with its exact best pair in each
// partition it is in (HasMFN, MFNDistance). Without MobileFaceNet hits it
// returns dlib's unchanged. The caller holds the read lock.
func (ix *VectorIndex) union(q *models.FaceQuery, lists [2][]models.FaceHit) []models.FaceHit {
	if len(q.MFN) == 0 {
		return lists[0]
	}
	dlibRows, mfnRows := ix.queryVecs(ix.partition, q), ix.queryVecs(ix.mfn, q)
	out := make([]models.FaceHit, 0, len(lists[0])+len(lists[1]))
	seen := map[string]bool{}
	add := func(id string, h models.FaceHit, ok bool) {
		if !ok {
			c := ix.children[id]
			if c == nil {
				return // cannot happen: every indexed face has a dlib descriptor
			}
			h = c.bestPair(dlibRows)
		}
		if c := ix.mfn.children[id]; c != nil {
			m := c.bestPair(mfnRows)
			h.HasMFN, h.MFNDistance = true, mfnCosine(m.Distance)
		}
		seen[id] = true
		out = append(out, h)
	}
	for _, h := range lists[0] {
		add(h.ChildID, h, true)
	}
	for _, h := range lists[1] {
		if !seen[h.ChildID] {
			add(h.ChildID, models.FaceHit{}, false)
		}
	}
	sortNeighbours(out)
	return out
}

// mfnCosine is the cosine distance of two unit vectors d apart: d²/2.
func mfnCosine(d float64) float64 { return d * d / 2 }

// SearchBatch answers many searches among children of one kind at once, as
// the overnight re-score does, and returns exactly what Search would for
// each; each query has its own sex and exclusions. For each slab it
// computes the dot products of a block of the queries that admit the
// slab's sex with a block of the slab as one matrix product. It locks the
// index per chunk of about batchRows query rows, not for the whole batch:
// each search sees one state of the index, but writes may land between
// chunks.
func (ix *VectorIndex) SearchBatch(ctx context.Context, batch []models.FaceQuery, kind models.Kind, k int) ([][]models.FaceHit, error) {
	for i := range batch {
		if err := checkQuery(&batch[i], kind); err != nil {
			return nil, err
		}
	}
	out := make([][]models.FaceHit, len(batch))
	if k <= 0 {
		return out, nil
	}

	// Cut the batch into chunks of about batchRows query rows; workers take
	// chunks from a channel, and each scans the admitted slabs for its chunk.
	type chunk struct{ lo, hi int }
	var chunks []chunk
	for lo := 0; lo < len(batch); {
		hi, rows := lo, 0
		for hi < len(batch) && (rows == 0 || rows+len(batch[hi].Descriptors) <= batchRows) {
			rows += len(batch[hi].Descriptors)
			hi++
		}
		chunks = append(chunks, chunk{lo, hi})
		lo = hi
	}
	work := make(chan chunk, len(chunks))
	for _, c := range chunks {
		work <- c
	}
	close(work)
	errs := make([]error, ix.workers)
	var wg sync.WaitGroup
	for w := range ix.workers {
		wg.Go(func() {
			for c := range work {
				if errs[w] != nil {
					continue
				}
				errs[w] = ix.batchChunk(ctx, kind, batch[c.lo:c.hi], k, out[c.lo:c.hi])
			}
		})
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, fmt.Errorf("face batch search: %w", err)
		}
	}
	return out, nil
}

// Tuning of the scan. minShard keeps goroutine start-up small against the
// work it does; batchRows × batchBlock floats is the product block of
// SearchBatch (256×512×4 B = 512 KiB, with a 256 KiB slab block).
const (
	minShard    = 4096
	batchRows   = 256
	batchBlock  = 512
	cancelEvery = 8192
)

// keepFor is how many children the fast scan keeps for a top-k search: the
// extra ones are the margin that lets finish prove the top k exact.
func keepFor(k int) int { return k + max(8, k/4) }

func checkQuery(q *models.FaceQuery, kind models.Kind) error {
	if !kind.Valid() {
		return models.Errorf(models.EINVALID, "search kind %q", kind)
	}
	if !q.Sex.Valid() {
		return models.Errorf(models.EINVALID, "query sex %q", q.Sex)
	}
	for i := range q.Descriptors {
		if !finite(q.Descriptors[i][:]) {
			return models.Errorf(models.EINVALID, "query descriptor %d has a NaN or infinite component", i)
		}
	}
	for i := range q.MFN {
		if !finite(q.MFN[i][:]) {
			return models.Errorf(models.EINVALID, "query MobileFaceNet descriptor %d has a NaN or infinite component", i)
		}
	}
	if len(q.MFN) > 0 && len(q.Descriptors) == 0 {
		return models.Errorf(models.EINVALID, "a query with MobileFaceNet descriptors needs dlib's too")
	}
	return nil
}

// querySet is a search's query descriptors as one row-major matrix of
// dim columns, with their squared norms.
type querySet struct {
	dim     int
	rows    []float32
	norms   []float32
	maxNorm float32
}

func newQuerySet(queries [][]float32, dim int) querySet {
	q := querySet{dim: dim, rows: make([]float32, 0, len(queries)*dim), norms: make([]float32, len(queries))}
	for i, v := range queries {
		q.rows = append(q.rows, v...)
		q.norms[i] = vek32.Dot(v, v)
		q.maxNorm = max(q.maxNorm, q.norms[i])
	}
	return q
}

func (q *querySet) row(i int) []float32 { return q.rows[i*q.dim : (i+1)*q.dim : (i+1)*q.dim] }

// scanDots offers every slot in [lo, hi) to h, ranked by the smallest
// squared distance to any query as |g|²+|q|²−2g·q. It checks ctx first and
// then every cancelEvery slots.
func scanDots(ctx context.Context, s *slab, q querySet, lo, hi int, h *childHeap) error {
	nq := len(q.norms)
	for i := lo; i < hi; i++ {
		if (i-lo)%cancelEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		g := s.vec(i)
		best := float32(math.Inf(1))
		for j := range nq {
			if d := s.norms[i] + q.norms[j] - 2*vek32.Dot(g, q.row(j)); d < best {
				best = d
			}
		}
		if h.accepts(best) {
			h.offer(s.child[i], best)
		}
	}
	return nil
}

// batchChunk answers a few searches together, in each partition their
// queries have rows for (batchPart), then unites each search's hits as
// Search does. It holds the read lock for its chunk only, so that a long
// batch does not hold up writers.
func (ix *VectorIndex) batchChunk(ctx context.Context, kind models.Kind, batch []models.FaceQuery, k int, out [][]models.FaceHit) error {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var lists [2][][]models.FaceHit
	for i, p := range ix.parts() {
		res, err := ix.batchPart(ctx, p, kind, batch, k)
		if err != nil {
			return err
		}
		lists[i] = res
	}
	for i := range batch {
		if len(batch[i].Descriptors) == 0 {
			continue
		}
		out[i] = ix.union(&batch[i], [2][]models.FaceHit{lists[0][i], lists[1][i]})
	}
	return nil
}

// batchPart runs the fast scan of partition p for a few searches together,
// one slab block at a time: for each slab, the block's dot products with
// the rows of the searches that admit the slab come from one matrix
// product. Each search keeps one heap across its slabs, as Search does.
func (ix *VectorIndex) batchPart(ctx context.Context, p *partition, kind models.Kind, batch []models.FaceQuery, k int) ([][]models.FaceHit, error) {
	out := make([][]models.FaceHit, len(batch))
	capacity := keepFor(k)
	heaps := make([]childHeap, len(batch))
	rowsOf := make([][][]float32, len(batch))
	rows := 0
	for i := range batch {
		heaps[i] = newChildHeap(capacity)
		if len(batch[i].Descriptors) > 0 {
			rowsOf[i] = ix.queryVecs(p, &batch[i])
		}
		rows += len(rowsOf[i])
	}
	if rows == 0 {
		return out, nil
	}
	prod := make([]float32, rows*batchBlock)
	for _, sex := range slabSexes() {
		s := p.slabs[slabKey{kind, sex}]
		// The searches that admit this slab, and their rows start[m]:start[m+1].
		var members []int
		var all [][]float32
		start := []int{0}
		for i := range batch {
			if len(rowsOf[i]) > 0 && batch[i].Admits(sex) {
				members = append(members, i)
				all = append(all, rowsOf[i]...)
				start = append(start, len(all))
			}
		}
		if len(all) == 0 {
			continue
		}
		q := newQuerySet(all, p.dim)
		n := s.len()
		for lo := 0; lo < n; lo += batchBlock {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			b := min(batchBlock, n-lo)
			gemmNT(q.rows, len(all), s.vecs[lo*p.dim:(lo+b)*p.dim], b, prod)
			norms := s.norms[lo : lo+b]
			for m, i := range members {
				h := &heaps[i]
				for j := range b {
					best := float32(math.Inf(1))
					for r := start[m]; r < start[m+1]; r++ {
						if d := norms[j] + q.norms[r] - 2*prod[r*b+j]; d < best {
							best = d
						}
					}
					if h.accepts(best) {
						h.offer(s.child[lo+j], best)
					}
				}
			}
		}
	}
	for i := range batch {
		if len(rowsOf[i]) == 0 {
			continue
		}
		cands, bound := mergeHeaps(heaps[i:i+1], capacity)
		res, err := finish(ctx, p.searched(kind, &batch[i]), &batch[i], newQuerySet(rowsOf[i], p.dim), cands, bound, k)
		if err != nil {
			return nil, err
		}
		out[i] = res
	}
	return out, nil
}

// candidate is a child kept by the fast scan, with its approximate
// smallest squared distance.
type candidate struct {
	child *childRec
	d     float32
}

// childHeap keeps the cap children with the smallest approximate distance,
// one entry per child, as a max-heap on d. Finding a child already in the
// heap is a linear scan for small heaps and a map for large ones; it is
// done only for slots that would enter the heap, which after the first few
// thousand slots is rare.
type childHeap struct {
	cap   int
	items []candidate
	full  bool                // the heap has been at capacity: some child may be evicted
	pos   map[*childRec]int32 // child → index in items, when cap > linearHeapMax
}

// linearHeapMax is the largest heap searched linearly for a child.
const linearHeapMax = 64

func newChildHeap(capacity int) childHeap {
	h := childHeap{cap: capacity}
	if capacity > linearHeapMax {
		h.pos = map[*childRec]int32{}
	}
	return h
}

func (h *childHeap) find(c *childRec) int {
	if h.pos != nil {
		if i, ok := h.pos[c]; ok {
			return int(i)
		}
		return -1
	}
	for i := range h.items {
		if h.items[i].child == c {
			return i
		}
	}
	return -1
}

func (h *childHeap) swap(i, j int) {
	h.items[i], h.items[j] = h.items[j], h.items[i]
	if h.pos != nil {
		h.pos[h.items[i].child] = int32(i)
		h.pos[h.items[j].child] = int32(j)
	}
}

func (h *childHeap) accepts(d float32) bool {
	return len(h.items) < h.cap || d < h.items[0].d
}

func (h *childHeap) offer(c *childRec, d float32) {
	if i := h.find(c); i >= 0 {
		if d < h.items[i].d {
			h.items[i].d = d
			h.down(i) // smaller key in a max-heap moves down
		}
		return
	}
	if len(h.items) < h.cap {
		h.items = append(h.items, candidate{c, d})
		if h.pos != nil {
			h.pos[c] = int32(len(h.items) - 1)
		}
		h.up(len(h.items) - 1)
		h.full = h.full || len(h.items) == h.cap
		return
	}
	if h.pos != nil {
		delete(h.pos, h.items[0].child)
		h.pos[c] = 0
	}
	h.items[0] = candidate{c, d}
	h.down(0)
}

func (h *childHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if h.items[p].d >= h.items[i].d {
			return
		}
		h.swap(p, i)
		i = p
	}
}

func (h *childHeap) down(i int) {
	n := len(h.items)
	for {
		l, big := 2*i+1, i
		if l < n && h.items[l].d > h.items[big].d {
			big = l
		}
		if r := l + 1; r < n && h.items[r].d > h.items[big].d {
			big = r
		}
		if big == i {
			return
		}
		h.swap(i, big)
		i = big
	}
}

// mergeHeaps unions the shards' kept children, keeping each child's
// smallest distance, and returns the capacity best with a bound: every
// child not returned has approximate distance ≥ bound (+Inf when every
// child was seen).
func mergeHeaps(heaps []childHeap, capacity int) ([]candidate, float32) {
	best := map[*childRec]float32{}
	full := false
	for i := range heaps {
		full = full || heaps[i].full
		for _, it := range heaps[i].items {
			if d, ok := best[it.child]; !ok || it.d < d {
				best[it.child] = it.d
			}
		}
	}
	cands := make([]candidate, 0, len(best))
	for c, d := range best {
		cands = append(cands, candidate{c, d})
	}
	slices.SortFunc(cands, func(a, b candidate) int {
		return cmp.Or(cmp.Compare(a.d, b.d), cmp.Compare(a.child.id, b.child.id))
	})
	bound := float32(math.Inf(1))
	if full && len(cands) >= capacity {
		bound = cands[capacity-1].d
		cands = cands[:capacity]
	}
	return cands, bound
}

// errorBound is a bound on |fast − exact| for squared distances: float32
// dot products of length n err by at most γn·|x||y| (γn = nu/(1−nu), u =
// 2⁻²⁴) in any summation order, with or without FMA. Summing the bounds on
// |g|², |q|², 2g·q, the exact path's Σ(g−q)², and the few extra roundings
// gives (4γn+6u)·(max|g|²+max|q|²); 6γn covers it.
func errorBound(slabMax, queryMax float32, n int) float64 {
	const u = 1.0 / (1 << 24)
	gamma := float64(n) * u / (1 - float64(n)*u)
	return 6 * gamma * float64(slabMax+queryMax)
}

// finish recomputes the candidates' best pairs exactly, sorts them, and
// checks that no child of the slabs ss outside them could be in the top k;
// when it cannot prove that it answers by an exact scan instead.
func finish(ctx context.Context, ss []*slab, q *models.FaceQuery, qs querySet, cands []candidate, bound float32, k int) ([]models.FaceHit, error) {
	rows := make([][]float32, len(qs.norms))
	for i := range rows {
		rows[i] = qs.row(i)
	}
	res := make([]models.FaceHit, 0, len(cands))
	for _, c := range cands {
		res = append(res, c.child.bestPair(rows))
	}
	sortNeighbours(res)
	if len(res) > k {
		res = res[:k]
	}
	if !math.IsInf(float64(bound), 1) && len(res) == k {
		slabMax := float32(0)
		for _, s := range ss {
			slabMax = max(slabMax, s.maxNorm)
		}
		kth := res[k-1].Distance
		if kth*kth >= float64(bound)-errorBound(slabMax, qs.maxNorm, qs.dim) {
			return exactScan(ctx, ss, q, rows, k)
		}
	}
	return res, nil
}

// exactScan is the slow, obviously correct search: every child of the
// slabs ss by Descriptor.Distance.
func exactScan(ctx context.Context, ss []*slab, q *models.FaceQuery, rows [][]float32, k int) ([]models.FaceHit, error) {
	var res []models.FaceHit
	seen := map[*childRec]bool{}
	for _, s := range ss {
		for i, c := range s.child {
			if i%cancelEvery == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			if seen[c] {
				continue
			}
			seen[c] = true
			res = append(res, c.bestPair(rows))
		}
	}
	sortNeighbours(res)
	if len(res) > k {
		res = res[:k]
	}
	return res, nil
}

// bestPair returns the child's exact best (query, face) pair by Euclidean
// distance (euclid); ties go to the lower query index, then photo id, then
// face index.
func (c *childRec) bestPair(queries [][]float32) models.FaceHit {
	s := c.slab
	var best models.FaceHit
	found := false
	for _, slot := range c.slots {
		g := s.vec(int(slot))
		m := &s.meta[slot]
		for qi := range queries {
			n := models.FaceHit{
				ChildID: c.id, PhotoID: m.photoID, FaceIndex: int(m.face),
				QueryIndex: qi, Distance: euclid(g, queries[qi]), TakenOn: m.takenOn,
			}
			if !found || pairLess(&n, &best) {
				best, found = n, true
			}
		}
	}
	return best
}

// euclid is the Euclidean distance computed as (*models.Descriptor).Distance
// computes it (a float32 sum in order), so that the two agree to the bit.
func euclid(a, b []float32) float64 {
	var s float32
	for i := range a {
		x := a[i] - b[i]
		s += x * x
	}
	return math.Sqrt(float64(s))
}

func pairLess(a, b *models.FaceHit) bool {
	return cmp.Or(
		cmp.Compare(a.Distance, b.Distance),
		cmp.Compare(a.QueryIndex, b.QueryIndex),
		cmp.Compare(a.PhotoID, b.PhotoID),
		cmp.Compare(a.FaceIndex, b.FaceIndex),
	) < 0
}

func sortNeighbours(ns []models.FaceHit) {
	slices.SortFunc(ns, func(a, b models.FaceHit) int {
		return cmp.Or(cmp.Compare(a.Distance, b.Distance), cmp.Compare(a.ChildID, b.ChildID))
	})
}
