// Command facemodels measures face-only rank-1 of dlib's ResNet alone,
// MobileFaceNet alone and their combinations on the shared photo sets,
// using the same dlib detections and landmarks for both models:
//
//   - ../shared/faces-children: each person's oldest photo under 18 is
//     enrolled, their younger photos are searched among every enrolled
//     photo, by whole years apart (0-2, 3-5, 6-10, 11+);
//   - ../shared/faces: leave-one-out over the go-face East Asian subset,
//     then over every adult.
//
// Combination settings are chosen on the children whose name hashes to the
// "tune" half and reported on the untouched "test" half separately; the
// adults are never used to choose them. Descriptors are cached (-cache) so
// that a second run takes seconds.
//
//	OPENBLAS_NUM_THREADS=1 nice go run ./benchmarks/cmd/facemodels
package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/engine/face"
	"github.com/trackmatch/trackmatch/models"
)

// desc is one photo's subject face in both spaces; OK false when none.
type desc struct {
	OK        bool                  `json:"ok"`
	Dlib      *models.Descriptor    `json:"dlib,omitempty"`
	MFN       *models.MFNDescriptor `json:"mfn,omitempty"`
	Landmarks []models.Point        `json:"landmarks,omitempty"`
}

type photo struct {
	path, person string
	age          int
	d            desc
}

func main() {
	shared := flag.String("shared", "../shared", "folder holding faces/ and faces-children/")
	modelsDir := flag.String("models", envOr("TRACKMATCH_MODELS", face.DefaultModelsDir()), "face model folder")
	cache := flag.String("cache", filepath.Join(os.TempDir(), "trackmatch-facemodels-cache.json"), "descriptor cache")
	workers := flag.Int("workers", 2, "photos analysed at once")
	flip := flag.Bool("flip", false, "MobileFaceNet descriptors averaged with the mirrored crop's (recomputed from the cached landmarks)")
	flag.Parse()
	if err := run(*shared, *modelsDir, *cache, *workers, face.MobileFaceNetOptions{FlipAverage: *flip}); err != nil {
		fmt.Fprintln(os.Stderr, "facemodels:", err)
		os.Exit(1)
	}
}

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

func run(shared, modelsDir, cachePath string, workers int, mfnOpts face.MobileFaceNetOptions) error {
	children, err := readCSV(filepath.Join(shared, "faces-children", "labels.csv"), "path", "person", "age")
	if err != nil {
		return err
	}
	adultsRows, err := readCSV(filepath.Join(shared, "faces", "MANIFEST.csv"), "path", "identity", "source_repository")
	if err != nil {
		return err
	}
	var kids, adults, gofaceSet []*photo
	for _, r := range children {
		age, err := strconv.Atoi(r[2])
		if err != nil {
			return fmt.Errorf("labels.csv: %w", err)
		}
		kids = append(kids, &photo{path: filepath.Join(shared, "faces-children", r[0]), person: r[1], age: age})
	}
	for _, r := range adultsRows {
		if strings.HasPrefix(r[1], "_") {
			continue
		}
		p := &photo{path: filepath.Join(shared, "faces", r[0]), person: r[1]}
		adults = append(adults, p)
		if strings.HasPrefix(r[2], "Kagami/go-face") {
			gofaceSet = append(gofaceSet, p)
		}
	}
	all := append(append([]*photo(nil), kids...), adults...)
	if err := describe(all, modelsDir, cachePath, workers); err != nil {
		return err
	}
	if mfnOpts != (face.MobileFaceNetOptions{}) {
		if err := redescribe(all, modelsDir, mfnOpts); err != nil {
			return err
		}
	}

	// Enrolment: oldest photo under 18 per child; queries: their other
	// photos no older than it.
	enrolled := map[string]*photo{}
	for _, p := range kids {
		if !p.d.OK || p.age >= 18 {
			continue
		}
		if e := enrolled[p.person]; e == nil || p.age > e.age {
			enrolled[p.person] = p
		}
	}
	var gallery []*photo
	for _, e := range enrolled {
		gallery = append(gallery, e)
	}
	sort.Slice(gallery, func(i, j int) bool { return gallery[i].path < gallery[j].path })
	var queries []*photo
	for _, p := range kids {
		if e := enrolled[p.person]; e != nil && p != e && p.d.OK && p.age <= e.age {
			queries = append(queries, p)
		}
	}
	tune := func(person string) bool {
		h := fnv.New32a()
		h.Write([]byte(person))
		return h.Sum32()%2 == 0
	}

	// Fit the fusion and choose the linear weight on the tune half only.
	var pairs []engine.FacePair
	for i, a := range kids {
		if !a.d.OK || !tune(a.person) {
			continue
		}
		for _, b := range kids[i+1:] {
			if !b.d.OK || !tune(b.person) {
				continue
			}
			pairs = append(pairs, engine.FacePair{
				Dlib: dlibDist(a, b), MFN: mfnDist(a, b),
				YearsApart: math.Abs(float64(a.age - b.age)), Same: a.person == b.person,
			})
		}
	}
	fusion, err := engine.FitFaceFusion(pairs, nil)
	if err != nil {
		return err
	}
	var tuneQ, testQ []*photo
	for _, q := range queries {
		if tune(q.person) {
			tuneQ = append(tuneQ, q)
		} else {
			testQ = append(testQ, q)
		}
	}
	bestW, bestHits := 0.0, -1
	for w := 0.0; w <= 4.0001; w += 0.05 {
		h, _ := rank1(tuneQ, gallery, sumScore(w), childGap)
		if h > bestHits {
			bestW, bestHits = w, h
		}
	}

	methods := []struct {
		name  string
		score scoreFunc
	}{
		{"dlib", func(q, c *photo, _ float64) float64 { return dlibDist(q, c) }},
		{"mobilefacenet", func(q, c *photo, _ float64) float64 { return mfnDist(q, c) }},
		{fmt.Sprintf("dlib+%.2f·mfn", bestW), sumScore(bestW)},
		{"fusion (LogLR)", func(q, c *photo, gap float64) float64 {
			return -fusion.LogLR(dlibDist(q, c), mfnDist(q, c), gap)
		}},
	}
	fmt.Printf("children: %d enrolled, %d queries (%d tune, %d test); adults: %d photos, go-face set %d\n\n",
		len(gallery), len(queries), len(tuneQ), len(testQ), len(adults), len(gofaceSet))
	fmt.Println("| method | split | rank-1 | 0-2y | 3-5y | 6-10y | 11+y | go-face LOO | adults LOO |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, m := range methods {
		gh, gn := loo(gofaceSet, m.score)
		ah, an := loo(adults, m.score)
		for _, s := range []struct {
			name string
			q    []*photo
		}{{"all", queries}, {"tune", tuneQ}, {"test", testQ}} {
			h, byGap := rank1(s.q, gallery, m.score, childGap)
			row := fmt.Sprintf("| %s | %s | %s |", m.name, s.name, frac(h, len(s.q)))
			for _, g := range byGap {
				row += " " + frac(g[0], g[1]) + " |"
			}
			if s.name == "all" {
				row += fmt.Sprintf(" %d/%d | %d/%d |", gh, gn, ah, an)
			} else {
				row += " | |"
			}
			fmt.Println(row)
		}
	}
	fmt.Println("\nfusion fitted on the tune half (engine.FitFaceFusion):")
	b, _ := json.MarshalIndent(fusion, "", "  ")
	fmt.Println(string(b))
	return nil
}

func frac(h, n int) string {
	if n == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f (%d/%d)", float64(h)/float64(n), h, n)
}

type scoreFunc func(q, c *photo, gap float64) float64 // lower is better

func sumScore(w float64) scoreFunc {
	return func(q, c *photo, _ float64) float64 { return dlibDist(q, c) + w*mfnDist(q, c) }
}

func dlibDist(a, b *photo) float64 { return a.d.Dlib.Distance(b.d.Dlib) }
func mfnDist(a, b *photo) float64  { return a.d.MFN.CosineDistance(b.d.MFN) }

// childGap is the years between a query and a candidate's enrolled photo.
func childGap(q, c *photo) float64 { return math.Abs(float64(c.age - q.age)) }

// gapBucket is the index of 0-2, 3-5, 6-10, 11+ whole years.
func gapBucket(y float64) int {
	switch {
	case y < 3:
		return 0
	case y < 6:
		return 1
	case y < 11:
		return 2
	}
	return 3
}

// rank1 counts queries whose best-scoring gallery photo is their person's,
// overall and by the years apart of the true pair.
func rank1(queries, gallery []*photo, score scoreFunc, gap func(q, c *photo) float64) (int, [4][2]int) {
	var hits int
	var byGap [4][2]int
	for _, q := range queries {
		var best *photo
		bestS := math.Inf(1)
		var truth *photo
		for _, c := range gallery {
			if c.person == q.person {
				truth = c
			}
			if s := score(q, c, gap(q, c)); s < bestS {
				best, bestS = c, s
			}
		}
		b := gapBucket(gap(q, truth))
		byGap[b][1]++
		if best != nil && best.person == q.person {
			hits++
			byGap[b][0]++
		}
	}
	return hits, byGap
}

// loo is leave-one-out rank-1 over set: every photo of a person with two or
// more found faces is a query against all the others.
func loo(set []*photo, score scoreFunc) (hits, n int) {
	count := map[string]int{}
	for _, p := range set {
		if p.d.OK {
			count[p.person]++
		}
	}
	for _, q := range set {
		if !q.d.OK || count[q.person] < 2 {
			continue
		}
		n++
		var best *photo
		bestS := math.Inf(1)
		for _, c := range set {
			if c == q || !c.d.OK {
				continue
			}
			if s := score(q, c, 0); s < bestS {
				best, bestS = c, s
			}
		}
		if best.person == q.person {
			hits++
		}
	}
	return hits, n
}

// describe fills each photo's descriptors from the cache, analysing the
// photos it lacks with dlib and MobileFaceNet in process.
func describe(photos []*photo, modelsDir, cachePath string, workers int) error {
	cache := map[string]desc{}
	if b, err := os.ReadFile(cachePath); err == nil {
		if err := json.Unmarshal(b, &cache); err != nil {
			return fmt.Errorf("read cache %s: %w", cachePath, err)
		}
	}
	var todo []*photo
	for _, p := range photos {
		if d, ok := cache[p.path]; ok && (!d.OK || d.Landmarks != nil) {
			p.d = d
		} else {
			todo = append(todo, p)
		}
	}
	if len(todo) > 0 {
		emb, err := face.NewDlibEmbedder(modelsDir, workers)
		if err != nil {
			return err
		}
		defer emb.Close()
		mfn, err := face.NewMobileFaceNet(modelsDir)
		if err != nil {
			return err
		}
		defer mfn.Close()
		// No CPU budget: in one process analysing several photos at once the
		// budget, charged to the whole process, would stop detection at
		// random, and the figures would change from run to run.
		pipe, err := face.NewPipeline(emb, face.PipelineConfig{Concurrency: workers, MobileFaceNet: mfn, CPUBudget: -1})
		if err != nil {
			return err
		}
		var mu sync.Mutex
		var wg sync.WaitGroup
		next := make(chan *photo)
		done := 0
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for p := range next {
					var d desc
					if data, err := os.ReadFile(p.path); err == nil {
						if a, err := pipe.Analyze(context.Background(), data); err == nil && a.HasFace() {
							f := a.SubjectFace()
							d = desc{OK: f.Descriptor != nil && f.MFN != nil, Dlib: f.Descriptor, MFN: f.MFN, Landmarks: f.Landmarks}
						}
					}
					mu.Lock()
					p.d = d
					cache[p.path] = d
					done++
					fmt.Fprintf(os.Stderr, "\ranalysed %d/%d", done, len(todo))
					mu.Unlock()
				}
			}()
		}
		for _, p := range todo {
			next <- p
		}
		close(next)
		wg.Wait()
		fmt.Fprintln(os.Stderr)
		b, err := json.Marshal(cache)
		if err != nil {
			return err
		}
		if err := os.WriteFile(cachePath, b, 0o600); err != nil {
			return fmt.Errorf("write cache: %w", err)
		}
	}
	return nil
}

// redescribe recomputes the MobileFaceNet descriptors of photos from
// their cached landmarks with opts.
func redescribe(photos []*photo, modelsDir string, opts face.MobileFaceNetOptions) error {
	emb, err := face.NewDlibEmbedder(modelsDir, 1)
	if err != nil {
		return err
	}
	defer emb.Close()
	mfn, err := face.NewMobileFaceNetWith(modelsDir, opts)
	if err != nil {
		return err
	}
	defer mfn.Close()
	pipe, err := face.NewPipeline(emb, face.PipelineConfig{MobileFaceNet: mfn})
	if err != nil {
		return err
	}
	for _, p := range photos {
		if !p.d.OK {
			continue
		}
		data, err := os.ReadFile(p.path)
		if err != nil {
			return err
		}
		ds, err := pipe.DescribeFaces(context.Background(), data, [][]models.Point{p.d.Landmarks})
		if err != nil || ds[0] == nil {
			return fmt.Errorf("redescribe %s: %v", p.path, err)
		}
		p.d.MFN = ds[0]
	}
	return nil
}

func readCSV(path string, cols ...string) ([][]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil || len(recs) < 2 {
		return nil, fmt.Errorf("read %s: %v", path, err)
	}
	idx := make([]int, len(cols))
	for i, c := range cols {
		idx[i] = -1
		for j, h := range recs[0] {
			if h == c {
				idx[i] = j
			}
		}
		if idx[i] < 0 {
			return nil, fmt.Errorf("%s: no column %s", path, c)
		}
	}
	var out [][]string
	for _, r := range recs[1:] {
		row := make([]string, len(cols))
		for i, j := range idx {
			row[i] = r[j]
		}
		out = append(out, row)
	}
	return out, nil
}
