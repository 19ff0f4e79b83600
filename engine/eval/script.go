package eval

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/models"
)

// ScriptGallerySize is how many other people the script protocol puts in
// each query's gallery at most, as the issue's own protocol does.
const ScriptGallerySize = 400

// NamesScript evaluates name matching with the issue's own protocol, on
// people who each have a Latin and a Devanagari name (the split's people,
// deduplicated as MakePairs does):
//
//   - each person is queried once, in the script a bit of their hash
//     chooses (as MakePairs orients a same pair), against a gallery in the
//     other script;
//   - a query's gallery holds up to ScriptGallerySize other people who
//     share an initial (a one-letter Latin word) or a surname (the last
//     Latin word of two letters or more) with the query person, drawn with
//     a generator seeded by seed, plus the person's own record; names only.
//
// trackmatch runs through the real search path: all the people's names in
// each script are imported once into their own store and index, each
// query asks for MaxLimit candidates and its candidates outside its
// gallery are dropped, so ranks are among the gallery only (a gallery
// record behind 100 others from outside the gallery is counted as not
// retrieved, against trackmatch). The baseline scans the gallery.
// FalseMatch is not measured (NaN): every query has its true record.
func NamesScript(ctx context.Context, people []Person, split Split, seed uint64, o NamesOptions) (*NamesReport, error) {
	start := time.Now()
	ps := SplitPeople(people, split)
	rep := &NamesReport{}
	now := time.Now()
	valid := func(name string) bool {
		c := models.Child{Kind: models.KindFound, Names: []string{name}}
		return c.Validate(now) == nil
	}
	// Keep the people whose both names the API accepts.
	kept := ps[:0:0]
	for _, p := range ps {
		if valid(p.Latin[0]) && valid(p.Devanagari[0]) {
			kept = append(kept, p)
		} else {
			rep.Skipped++
		}
	}
	ps = kept

	// Two galleries, one per script, each with every person.
	ids := [2][]string{}
	nameOf := map[string]string{}
	var services [2]*engine.Service
	for s := range 2 {
		dir := filepath.Join(o.Dir, fmt.Sprintf("script%d", s))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("names eval: %w", err)
		}
		svc, closeSvc, err := openNamesService(dir)
		if err != nil {
			return nil, err
		}
		defer closeSvc()
		gallery := make([]models.Child, len(ps))
		for i, p := range ps {
			name := p.Latin[0]
			if s == 1 {
				name = p.Devanagari[0]
			}
			gallery[i] = models.Child{Kind: models.KindFound, Names: []string{name}}
		}
		if err := svc.Import(ctx, gallery); err != nil {
			return nil, fmt.Errorf("names eval: import gallery: %w", err)
		}
		ids[s] = make([]string, len(ps))
		for i := range gallery {
			ids[s][i] = gallery[i].ID
			nameOf[gallery[i].ID] = gallery[i].Names[0]
		}
		services[s] = svc
	}

	// Who shares an initial or a surname with whom.
	byKey := map[string][]int{}
	keysOf := make([][]string, len(ps))
	for i, p := range ps {
		keysOf[i] = scriptKeys(p.Latin[0])
		for _, k := range keysOf[i] {
			byKey[k] = append(byKey[k], i)
		}
	}
	folded := [2][]string{make([]string, len(ps)), make([]string, len(ps))}
	for i, p := range ps {
		folded[0][i], folded[1][i] = BaselineFold(p.Latin[0]), BaselineFold(p.Devanagari[0])
	}
	rng := rand.New(rand.NewPCG(seed, 0x736372697074))
	var tm, bl counts
	for i, p := range ps {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		qs, gs := 0, 1 // query script, gallery script: Latin, Devanagari
		if hashOf(p)&2 != 0 {
			qs, gs = 1, 0
		}
		var others []int
		for _, k := range keysOf[i] {
			others = append(others, byKey[k]...)
		}
		slices.Sort(others)
		others = slices.Compact(others)
		others = slices.DeleteFunc(others, func(j int) bool { return j == i })
		rng.Shuffle(len(others), func(a, b int) { others[a], others[b] = others[b], others[a] })
		if len(others) > ScriptGallerySize {
			others = others[:ScriptGallerySize]
		}
		inGallery := map[string]bool{ids[gs][i]: true}
		for _, j := range others {
			inGallery[ids[gs][j]] = true
		}
		qname := p.Latin[0]
		if qs == 1 {
			qname = p.Devanagari[0]
		}
		q := models.Child{Kind: models.KindMissing, Names: []string{qname}}
		cands, err := services[gs].Search(ctx, &q, nil, engine.MaxLimit)
		if err != nil {
			return nil, fmt.Errorf("names eval: person %d: search: %w", i+1, err)
		}
		rank, r, top := 0, 0, ""
		var topP float64
		for _, c := range cands {
			if !inGallery[c.ID] {
				continue
			}
			r++
			if r == 1 {
				top, topP = nameOf[c.ID], c.Probability
			}
			if c.ID == ids[gs][i] {
				rank = r
				break
			}
		}
		fq := folded[qs][i]
		truth := BaselineSimilarity(fq, folded[gs][i])
		brank := 1
		for _, j := range others {
			if BaselineSimilarity(fq, folded[gs][j]) > truth {
				brank++
			}
		}
		tm.addSame(rank)
		bl.addSame(brank)
		if rank != 1 && len(rep.Failures) < o.Failures {
			b := p.Devanagari[0]
			if gs == 0 {
				b = p.Latin[0]
			}
			rep.Failures = append(rep.Failures, NameFailure{A: qname, B: b, Rank: rank, Top: top, P: topP})
		}
	}
	rep.Trackmatch = tm.metrics()
	rep.Baseline = bl.metrics()
	rep.Trackmatch.FalseMatch = math.NaN()
	rep.Baseline.FalseMatch = math.NaN()
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// scriptKeys are what a person shares with the others of their gallery in
// the script protocol: each initial (a one-letter Latin word) and the
// surname (the last Latin word of two letters or more).
func scriptKeys(latin string) []string {
	var out []string
	ws := latinWords(latin)
	for _, w := range ws {
		if len([]rune(w)) == 1 {
			out = append(out, "i:"+w)
		}
	}
	for k := len(ws) - 1; k >= 0; k-- {
		if len([]rune(ws[k])) >= 2 {
			out = append(out, "s:"+ws[k])
			break
		}
	}
	return uniq(out)
}
