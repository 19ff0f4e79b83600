package main

// `trackmatch eval`: how well the real system finds a child, measured on a
// labelled photo set through the real engine end to end (a temporary data
// folder with the real Badger store, Bleve index, vector index and face
// pipeline, built by openApp), face alone and fused with attributes.
//
// Protocol. Each identity's photos are sorted by age. The evaluation runs
// in rounds: in round r each identity in the gallery is enrolled as a found
// child holding its r-th latest photo, and each of its earlier photos is a
// query, a missing child searched for (Service.Candidates). So every pair
// of one identity's photos, earlier against later, is queried once, at
// every gap the set has. In each round a rotating third of the identities
// (--holdout) is left out of the gallery: their queries have no match to
// find, which is what false-accept rates are measured on. Every photo is
// also stored once as a missing record, which is how the pipeline's
// descriptors and any photo without a face are found out.
//
// Scores. Face-only uses the same records and engine with a scorer that
// counts only the face field (missing records then hold only the photo's
// date and the child's age, which the face model needs); fused counts
// every field (each query's record gets its attributes for its own
// search). Probabilities are the engine's, except that for reliability and
// thresholds they are re-based on the evaluation's own share of queries
// with a match (the engine assumes engine.DefaultMatchRate): the
// likelihood ratio is what is being tested, and the prior is a fact about
// the deployment, not about the scorer.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/engine/face"
	"github.com/trackmatch/trackmatch/models"
)

// evalOptions are the flags of `trackmatch eval`.
type evalOptions struct {
	Photos, Labels, Attributes string
	Synthetic                  bool
	Models                     string
	Workers                    int
	JSON                       string
	Holdout                    float64
	Seed                       uint64
	MaxAge                     int
	Background                 int
	Pairs                      string
	DescriptorCache            string
	People                     string
}

// runEval implements `trackmatch eval`.
func runEval(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "names" {
		return runEvalNames(ctx, args[1:], stdout, stderr)
	}
	fs := flag.NewFlagSet("eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o evalOptions
	fs.StringVar(&o.Photos, "photos", "", "labelled photo folder: one sub-folder per identity, or with MANIFEST.csv or labels.csv")
	fs.StringVar(&o.Labels, "labels", "", "labels CSV (path,person[,age]); paths relative to its folder")
	fs.StringVar(&o.Attributes, "attributes", "", "attribute records: JSON lines of {\"person\": ..., \"kind\": \"missing\"|\"found\"|\"\", record fields}")
	fs.BoolVar(&o.Synthetic, "synthetic-attributes", false, "make up plausible noisy attributes per identity (seeded)")
	fs.StringVar(&o.Models, "models", envOr("TRACKMATCH_MODELS", face.DefaultModelsDir()), "face model folder; env TRACKMATCH_MODELS")
	fs.IntVar(&o.Workers, "workers", 0, "face recognizers, photos analysed at once (0 = one per core)")
	fs.StringVar(&o.JSON, "json", "", "also write the report as JSON to this file (- for stdout, instead of the tables)")
	fs.Float64Var(&o.Holdout, "holdout", 1.0/3, "share of identities left out of each round's gallery, for false accepts (0 = none)")
	fs.Uint64Var(&o.Seed, "seed", 1, "seed for synthetic attributes, dates and orders")
	fs.IntVar(&o.MaxAge, "max-age", models.MaxAgeYears, "skip photos of people older than this (records hold children)")
	fs.IntVar(&o.Background, "background", 500, "with synthetic attributes: photo-less records whose names populate the name counter")
	fs.StringVar(&o.Pairs, "pairs", "", "also write every scored pair (mode, match or not, gallery size, score, weight per field) as JSON lines to this file, for analysis")
	fs.StringVar(&o.DescriptorCache, "descriptor-cache", "", "keep what the face pipeline found in each photo in this file (read, then extended), so repeated runs skip dlib; keep it in a temporary folder")
	fs.StringVar(&o.People, "people", "all", "which identities to use: all, fit (those the default face model was measured on) or held-out (the third it never saw, by a hash of the identity)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || (o.Photos == "" && o.Labels == "") {
		fmt.Fprintln(stderr, "usage: trackmatch eval --photos DIR [--labels labels.csv] [--attributes FILE] [--synthetic-attributes] [--models DIR] [--workers N] [--json FILE]")
		return 2
	}
	if o.Holdout < 0 || o.Holdout >= 1 {
		fmt.Fprintln(stderr, "trackmatch: --holdout must be in [0, 1)")
		return 2
	}
	if o.People != "all" && o.People != "fit" && o.People != "held-out" {
		fmt.Fprintln(stderr, "trackmatch: --people must be all, fit or held-out")
		return 2
	}
	if o.Synthetic && o.Attributes != "" {
		fmt.Fprintln(stderr, "trackmatch: give --attributes or --synthetic-attributes, not both")
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rep, err := evaluate(ctx, o, log)
	if err != nil {
		fmt.Fprintln(stderr, "trackmatch eval:", err)
		return 1
	}
	if o.JSON != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			fmt.Fprintln(stderr, "trackmatch eval:", err)
			return 1
		}
		b = append(b, '\n')
		if o.JSON == "-" {
			_, err = stdout.Write(b)
		} else {
			err = os.WriteFile(o.JSON, b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(stderr, "trackmatch eval: write JSON:", err)
			return 1
		}
		if o.JSON == "-" {
			return 0
		}
	}
	rep.writeText(stdout)
	return 0
}

// evalQuery is one search: a query photo's missing record against one
// round's gallery.
type evalQuery struct {
	round    int
	person   string
	photo    *evalEnrolled
	mateID   string // the gallery record of the same person; "" when held out
	ageFirst int    // age at the query photo; -1 unknown
	gap      int    // years to the mate's photo (for a held-out person, to the photo it would have had); -1 unknown
	gallery  int    // gallery size of the round
	faceOnly []models.Candidate
	rawRank  int // rank of the mate by raw dlib distance alone (nearest neighbour); 0 when held out
	fused    []models.Candidate
	// alone holds the searches that read one face model by itself
	// (engine.FaceFusion.Only), by mode name ("face-only, dlib alone",
	// ...), when the photos carry both models' descriptors.
	alone     map[string][]models.Candidate
	galleryOf map[string]string // found id → person
}

// evalEnrolled is a usable photo: stored as a missing record, with its
// subject's descriptor.
type evalEnrolled struct {
	evalPhoto
	date      models.Date // "" when the age is unknown
	missingID string
	desc      *models.Descriptor
	mfn       *models.MFNDescriptor // nil when MobileFaceNet is off
	key       string                // stable name for seeding
}

// evaluate runs the protocol and builds the report.
func evaluate(ctx context.Context, o evalOptions, log *slog.Logger) (*evalReport, error) {
	people, err := loadLabelled(o.Photos, o.Labels)
	if err != nil {
		return nil, err
	}
	if o.People != "" && o.People != "all" {
		people = slices.DeleteFunc(people, func(p evalPerson) bool { return heldOutPerson(p.ID) != (o.People == "held-out") })
		if len(people) == 0 {
			return nil, fmt.Errorf("no identities in the %s split", o.People)
		}
	}
	var attrs map[string]recordAttrs
	if o.Attributes != "" {
		if attrs, err = readAttributes(o.Attributes); err != nil {
			return nil, err
		}
	}
	syn := attrSynth{seed: o.Seed}
	withAttributes := o.Synthetic || attrs != nil

	tmp, err := os.MkdirTemp("", "trackmatch-eval-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	a, err := openApp(ctx, config{Data: tmp, Models: o.Models, Workers: o.Workers}, log)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	params, err := a.store.LatestParams(ctx)
	if err != nil {
		return nil, fmt.Errorf("scoring parameters: %w", err)
	}
	fusedScorer := a.service.Scorer()
	faceOnly := params
	faceOnly.Fields = map[string]models.FieldParams{engine.FieldFace: params.Fields[engine.FieldFace]}
	faceScorer, err := engine.NewScorer(faceOnly)
	if err != nil {
		return nil, fmt.Errorf("face-only scorer: %w", err)
	}
	svc := a.service
	workers := a.photos.Workers()

	rep := &evalReport{Photos: firstNonEmpty(o.Photos, o.Labels), Seed: o.Seed, Holdout: o.Holdout,
		ParamsVersion: params.Version, Attributes: attrSource(o)}
	// Dates: each person gets a birth date; a photo at age a is dated a
	// years and a few weeks after it (photos at one age a month apart).
	var all []*evalEnrolled
	for _, p := range people {
		r := syn.rng(p.ID, "birth")
		birth := time.Date(1985, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, r.IntN(13*365))
		sameAge := map[int]int{}
		for i, ph := range p.Photos {
			if ph.Age > o.MaxAge {
				rep.PhotosOverAge++
				continue
			}
			e := &evalEnrolled{evalPhoto: ph, key: fmt.Sprintf("%d", i)}
			if ph.Age >= 0 {
				e.date = models.DateOf(birth.AddDate(ph.Age, 0, 15+35*sameAge[ph.Age]))
				sameAge[ph.Age]++
			}
			all = append(all, e)
		}
	}
	rep.People = len(people)

	if o.Synthetic && o.Background > 0 {
		for i, ns := range syn.background(o.Background) {
			if len(ns) == 0 {
				continue
			}
			if _, _, err := svc.CreateChild(ctx, &models.Child{Kind: models.KindMissing, Names: ns}); err != nil {
				return nil, fmt.Errorf("background record %d: %w", i, err)
			}
		}
		rep.Background = o.Background
	}

	cache, err := openDescriptorCache(o.DescriptorCache)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err := cache.save(); err != nil {
			log.Warn("descriptor cache not saved", "err", err)
		}
	}()
	// Store every photo as a missing record in its face-only form.
	if err := parallel(ctx, workers, len(all), func(i int) error {
		e := all[i]
		id, ph, err := cache.createWithPhoto(ctx, svc, missingFaceForm(e), e.Path)
		switch code := models.ErrorCode(err); {
		case err == nil:
			e.missingID, e.desc, e.mfn = id, ph.SubjectFace().Descriptor, ph.SubjectFace().MFN
			return nil
		case refusedPhoto(code):
			return nil // no usable face: dropped, and counted
		default:
			return fmt.Errorf("photo %s: %w", e.Path, err)
		}
	}); err != nil {
		return nil, err
	}
	usable := map[string][]*evalEnrolled{}
	for _, e := range all {
		if e.desc == nil {
			rep.PhotosNoFace++
			rep.NoFacePaths = append(rep.NoFacePaths, e.Path)
			continue
		}
		usable[e.Person] = append(usable[e.Person], e)
		rep.PhotosUsed++
	}
	// Each face model alone, beside both, when every usable photo has
	// both descriptors: the same searches with the face read by one model.
	bothModels := rep.PhotosUsed > 0
	for _, ps := range usable {
		for _, e := range ps {
			bothModels = bothModels && e.mfn != nil
		}
	}
	var alone []aloneScorer
	if bothModels {
		for _, m := range []string{engine.FaceModelsDlib, engine.FaceModelsMobileFaceNet} {
			f := engine.DefaultFaceFusion().Only(m)
			alone = append(alone, aloneScorer{mode: faceOnlyMode + ", " + aloneName(m), scorer: faceScorer.WithFaceFusion(f)})
			if withAttributes {
				alone = append(alone, aloneScorer{mode: fusedMode + ", " + aloneName(m), scorer: fusedScorer.WithFaceFusion(f), fused: true})
			}
		}
	}
	ids := make([]string, 0, len(usable))
	maxPhotos := 0
	for id, ps := range usable {
		ids = append(ids, id)
		maxPhotos = max(maxPhotos, len(ps))
	}
	slices.Sort(ids)
	// A seeded order decides who is held out when, so that the held-out
	// third is not always the same alphabetical run.
	order := slices.Clone(ids)
	rand.New(rand.NewPCG(o.Seed, 7)).Shuffle(len(order), func(i, j int) { order[i], order[j] = order[j], order[i] })
	k := 0
	if o.Holdout > 0 {
		k = max(2, int(math.Round(1/o.Holdout)))
	}
	foundAttrs := func(person, key string) *models.Child {
		switch {
		case o.Synthetic:
			return syn.foundRecord(person, key)
		case attrs != nil:
			return attrs[person].Found
		}
		return nil
	}
	missingAttrs := func(e *evalEnrolled) *models.Child {
		switch {
		case o.Synthetic:
			return syn.missingRecord(e.Person, e.key)
		case attrs != nil:
			return attrs[e.Person].Missing
		}
		return nil
	}

	var queries []*evalQuery
	for round := 1; round < maxPhotos; round++ {
		rep.Rounds++
		heldOut := map[string]bool{}
		for i, id := range order {
			if k > 0 && (i+round)%k == 0 {
				heldOut[id] = true
			}
		}
		// Enrol the gallery, in a seeded order (ties in score are broken by
		// id, and ids grow with time).
		type enrol struct {
			person string
			photo  *evalEnrolled
			id     string
		}
		var gal []*enrol
		for _, id := range order {
			if heldOut[id] {
				continue
			}
			ps := usable[id]
			gal = append(gal, &enrol{person: id, photo: ps[max(len(ps)-round, 0)]})
		}
		rand.New(rand.NewPCG(o.Seed, uint64(round))).Shuffle(len(gal), func(i, j int) { gal[i], gal[j] = gal[j], gal[i] })
		if err := parallel(ctx, workers, len(gal), func(i int) error {
			g := gal[i]
			c := &models.Child{Kind: models.KindFound, ObservedOn: g.photo.date}
			key := fmt.Sprintf("%d", round)
			withAttrs(c, foundAttrs(g.person, key))
			if g.photo.Age >= 0 {
				if withAttributes {
					c.Age = syn.foundAge(g.person, key, g.photo.Age)
				} else {
					c.Age = &models.AgeRange{Min: g.photo.Age, Max: g.photo.Age}
				}
			}
			id, _, err := cache.createWithPhoto(ctx, svc, c, g.photo.Path)
			if err != nil {
				return fmt.Errorf("enrol %s: %w", g.person, err)
			}
			g.id = id
			return nil
		}); err != nil {
			return nil, fmt.Errorf("round %d: gallery: %w", round, err)
		}
		galleryOf := map[string]string{}
		mateOf := map[string]string{}
		for _, g := range gal {
			galleryOf[g.id] = g.person
			mateOf[g.person] = g.id
		}
		rep.GallerySizes = append(rep.GallerySizes, len(gal))

		descOf := map[string]*models.Descriptor{}
		for _, g := range gal {
			descOf[g.id] = g.photo.desc
		}
		var roundQueries []*evalQuery
		for _, id := range order {
			ps := usable[id]
			gi := len(ps) - round
			if gi < 1 {
				continue
			}
			for _, e := range ps[:gi] {
				q := &evalQuery{round: round, person: id, photo: e, mateID: mateOf[id], ageFirst: e.Age, gap: -1,
					gallery: len(gal), galleryOf: galleryOf}
				if e.Age >= 0 && ps[gi].Age >= 0 {
					q.gap = ps[gi].Age - e.Age
				}
				q.rawRank = rawRank(e.desc, q.mateID, descOf)
				roundQueries = append(roundQueries, q)
			}
		}
		svc.SetScorer(faceScorer)
		for _, q := range roundQueries {
			cands, err := svc.Candidates(ctx, q.photo.missingID, engine.MaxLimit)
			if err != nil {
				return nil, fmt.Errorf("round %d: face-only search: %w", round, err)
			}
			q.faceOnly = cands
		}
		for _, al := range alone {
			if al.fused {
				continue
			}
			svc.SetScorer(al.scorer)
			for _, q := range roundQueries {
				cands, err := svc.Candidates(ctx, q.photo.missingID, engine.MaxLimit)
				if err != nil {
					return nil, fmt.Errorf("round %d: %s search: %w", round, al.mode, err)
				}
				if q.alone == nil {
					q.alone = map[string][]models.Candidate{}
				}
				q.alone[al.mode] = cands
			}
		}
		if withAttributes {
			svc.SetScorer(fusedScorer)
			for _, q := range roundQueries {
				c := missingFaceForm(q.photo)
				withAttrs(c, missingAttrs(q.photo))
				if o.Synthetic && q.photo.Age >= 0 {
					c.Age = syn.missingAge(q.person, q.photo.key, q.photo.Age)
				}
				if _, err := svc.UpdateChild(ctx, q.photo.missingID, c); err != nil {
					return nil, fmt.Errorf("round %d: query record: %w", round, err)
				}
				cands, err := svc.Candidates(ctx, q.photo.missingID, engine.MaxLimit)
				if err != nil {
					return nil, fmt.Errorf("round %d: fused search: %w", round, err)
				}
				q.fused = cands
				for _, al := range alone {
					if !al.fused {
						continue
					}
					svc.SetScorer(al.scorer)
					cands, err := svc.Candidates(ctx, q.photo.missingID, engine.MaxLimit)
					if err != nil {
						return nil, fmt.Errorf("round %d: %s search: %w", round, al.mode, err)
					}
					q.alone[al.mode] = cands
				}
				svc.SetScorer(fusedScorer)
				if _, err := svc.UpdateChild(ctx, q.photo.missingID, missingFaceForm(q.photo)); err != nil {
					return nil, fmt.Errorf("round %d: query record: %w", round, err)
				}
			}
		}
		for _, g := range gal {
			if err := svc.DeleteChild(ctx, g.id); err != nil {
				return nil, fmt.Errorf("round %d: remove gallery: %w", round, err)
			}
		}
		queries = append(queries, roundQueries...)
	}
	svc.SetScorer(fusedScorer)
	if len(queries) == 0 {
		return nil, errors.New("no queries: every identity needs at least two photos with a face")
	}
	if o.Pairs != "" {
		if err := writePairs(o.Pairs, queries); err != nil {
			return nil, err
		}
	}
	var aloneModes []string
	for _, al := range alone {
		aloneModes = append(aloneModes, al.mode)
	}
	rep.build(queries, withAttributes, aloneModes)
	// Distances as scored, beside the default model's (measured the same
	// way: engine.MeasuredFaceSamples), and each model's alone.
	if bothModels {
		rep.Distances = faceDistanceTable(usable, fusedDistance(engine.DefaultFaceFusion()), engine.MeasuredFaceSamples())
		rep.DistancesDlib = faceDistanceTable(usable, dlibDistance, engine.MeasuredDlibFaceSamples())
		rep.DistancesMFN = faceDistanceTable(usable, mfnDistance, nil)
	} else {
		rep.Distances = faceDistanceTable(usable, dlibDistance, engine.MeasuredDlibFaceSamples()) // dlib alone: read on dlib's bands
	}
	rep.FaceModel = faceModelTable(params)
	return rep, nil
}

// aloneScorer is a search that reads one face model alone.
type aloneScorer struct {
	mode   string
	scorer *engine.Scorer
	fused  bool // with the attributes, after the fused search
}

// The modes of the report: the face alone and with attributes, both face
// models fused unless a mode's name says which one alone.
const (
	faceOnlyMode = "face-only"
	fusedMode    = "fused"
)

// aloneName is how a mode names one face model read alone.
func aloneName(model string) string {
	if model == engine.FaceModelsMobileFaceNet {
		return "MobileFaceNet alone"
	}
	return model + " alone"
}

// evalPair is one line of --pairs: a scored query–candidate pair.
type evalPair struct {
	Mode     string             `json:"mode"`
	Match    bool               `json:"match"`
	Mated    bool               `json:"mated"` // the query's child is in the gallery
	Rank     int                `json:"rank"`
	Gallery  int                `json:"gallery"`
	AgeFirst int                `json:"age_first"`
	Gap      int                `json:"gap"`
	Score    float64            `json:"score"`
	Weights  map[string]float64 `json:"weights"`
}

// writePairs writes every scored pair of every query, face-only then fused.
func writePairs(path string, queries []*evalQuery) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("pairs file: %w", err)
	}
	enc := json.NewEncoder(f)
	for _, q := range queries {
		for _, m := range []struct {
			mode  string
			cands []models.Candidate
		}{{"face-only", q.faceOnly}, {"fused", q.fused}} {
			for i, c := range m.cands {
				p := evalPair{Mode: m.mode, Match: c.ID == q.mateID, Mated: q.mateID != "", Rank: i + 1, Gallery: q.gallery,
					AgeFirst: q.ageFirst, Gap: q.gap, Score: c.Score, Weights: map[string]float64{}}
				for _, e := range c.Explanation {
					p.Weights[e.Field] = e.Weight
				}
				if err := enc.Encode(p); err != nil {
					f.Close()
					return fmt.Errorf("pairs file: %w", err)
				}
			}
		}
	}
	return f.Close()
}

// rawRank is the rank of mate among the gallery by dlib distance to q
// alone, ties counted against the mate: the nearest-neighbour baseline.
// It is 0 when mate is "" (held out).
func rawRank(q *models.Descriptor, mate string, gallery map[string]*models.Descriptor) int {
	if mate == "" {
		return 0
	}
	d := q.Distance(gallery[mate])
	rank := 1
	for id, g := range gallery {
		if id != mate && q.Distance(g) <= d {
			rank++
		}
	}
	return rank
}

// heldOutPerson reports whether an identity belongs to the held-out third
// (FNV-1a of its label, mod 3, is 0): engine.MeasuredFaceSamples was
// measured on the other two thirds only, so figures on this third are on
// photos the face model never saw.
func heldOutPerson(id string) bool {
	h := fnv.New32a()
	h.Write([]byte(id))
	return h.Sum32()%3 == 0
}

// missingFaceForm is a query photo's missing record with only what comes
// with a photo: its date and the child's age then.
func missingFaceForm(e *evalEnrolled) *models.Child {
	c := &models.Child{Kind: models.KindMissing, ObservedOn: e.date}
	if e.Age >= 0 && e.date != "" {
		c.Age = &models.AgeRange{Min: e.Age, Max: e.Age}
	}
	return c
}

func attrSource(o evalOptions) string {
	switch {
	case o.Synthetic:
		return fmt.Sprintf("synthetic (seed %d)", o.Seed)
	case o.Attributes != "":
		return o.Attributes
	}
	return "none"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// parallel runs fn(0..n-1) on up to workers goroutines and returns the
// first error; the others stop taking work once one fails.
func parallel(ctx context.Context, workers, n int, fn func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	var wg sync.WaitGroup
	var once sync.Once
	var first error
	for range max(workers, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					once.Do(func() { first = err; cancel(err) })
				}
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if first != nil {
		return first
	}
	return context.Cause(ctx)
}
