package main

// The figures `trackmatch eval` reports, and how it prints them.

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/models"
)

// evalReport is the whole result of an evaluation.
type evalReport struct {
	Photos        string   `json:"photos"`
	Attributes    string   `json:"attributes"`
	Seed          uint64   `json:"seed"`
	ParamsVersion int      `json:"params_version"`
	People        int      `json:"people"`
	PhotosUsed    int      `json:"photos_used"`
	PhotosNoFace  int      `json:"photos_no_face"`
	NoFacePaths   []string `json:"no_face_paths,omitempty"`
	PhotosOverAge int      `json:"photos_over_age"`
	Background    int      `json:"background_records"`
	Holdout       float64  `json:"holdout"`
	Rounds        int      `json:"rounds"`
	GallerySizes  []int    `json:"gallery_sizes"`
	Queries       int      `json:"queries"`
	Mated         int      `json:"mated_queries"`
	Impostor      int      `json:"impostor_queries"`
	// MatchRate is the share of queries whose child is in the gallery: the
	// evaluation's prior, on which reliability and thresholds are based.
	MatchRate float64       `json:"match_rate"`
	Modes     []modeReport  `json:"modes"`
	Distances []distanceRow `json:"face_distances"`
	// DistancesMFN are MobileFaceNet's cosine distances grouped the same
	// way (their band counts use dlib's band edges, so read the mean and
	// sd); empty when the photos have no MobileFaceNet descriptors.
	DistancesMFN []distanceRow `json:"face_distances_mobilefacenet,omitempty"`
	// DistancesDlib are dlib's distances alone when Distances are both
	// models' read together; empty without MobileFaceNet.
	DistancesDlib []distanceRow  `json:"face_distances_dlib,omitempty"`
	FaceModel     []faceModelRow `json:"face_model"`
	Recovery      []recoveryRow  `json:"recovery,omitempty"`
	// Raw is dlib's nearest neighbour alone (rank by distance, no model):
	// the baseline face-only ranking must match, by age and years apart.
	Raw rawReport `json:"raw_nearest_neighbour"`
}

// rawReport is the nearest-neighbour baseline's ranks.
type rawReport struct {
	Rank1  rate       `json:"rank1"`
	Rank10 rate       `json:"rank10"`
	ByAge  []groupRow `json:"by_age_at_first_photo"`
	ByGap  []groupRow `json:"by_years_apart"`
}

// rate is k of n.
type rate struct {
	K    int     `json:"k"`
	N    int     `json:"n"`
	Rate float64 `json:"rate"`
}

// newRate returns k of n; its Rate is 0 when n is 0 (JSON has no NaN).
func newRate(k, n int) rate {
	r := rate{K: k, N: n}
	if n > 0 {
		r.Rate = float64(k) / float64(n)
	}
	return r
}

func (r rate) String() string {
	if r.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f", r.Rate)
}

// modeReport is one scoring mode's figures.
type modeReport struct {
	Mode   string `json:"mode"`
	Rank1  rate   `json:"rank1"`
	Rank10 rate   `json:"rank10"`
	// NotReturned counts mated queries whose match was not a candidate at
	// all: blocked by a hard conflict (a sex recorded wrongly).
	NotReturned int        `json:"match_not_returned"`
	FAR         []farRow   `json:"far"`
	ByAge       []groupRow `json:"by_age_at_first_photo"`
	ByGap       []groupRow `json:"by_years_apart"`
	Pairs       int        `json:"impostor_pairs"`
	// Calibration is the reliability of every scored pair's probability,
	// re-based on MatchRate; Top only of each query's best candidate, the
	// one an investigator looks at first.
	Calibration engine.Calibration `json:"calibration"`
	Top         engine.Calibration `json:"calibration_top"`
	// ServedECE is the ECE of the probabilities as the engine served them
	// (prior from engine.DefaultMatchRate, not MatchRate).
	ServedECE float64 `json:"served_ece"`
	// Refit is a calibration fitted on the identities the face model was
	// measured on and checked on the held-out third; nil when the run has
	// only one of them.
	Refit *refitReport `json:"refit,omitempty"`
}

// refitReport is engine.FitCalibration fitted on one part of the queries
// and checked, top candidate only, on the other (held apart by identity).
type refitReport struct {
	Calibration models.Calibration `json:"calibration"`
	FitQueries  int                `json:"fit_queries"`
	// Before and After are the held-out queries' top-candidate
	// reliability without and with the fitted calibration.
	Before engine.Calibration `json:"before"`
	After  engine.Calibration `json:"after"`
}

// farRow is the operating point at a false-accept rate: accept a pair when
// its probability is above Threshold.
type farRow struct {
	Target    float64 `json:"target_far"`
	Threshold float64 `json:"threshold"`
	FAR       float64 `json:"far"`  // achieved, over impostor pairs
	TAR       rate    `json:"tar"`  // mated queries whose match is above the threshold
	TPIR      rate    `json:"tpir"` // mated queries whose match is first and above it
	FPIR      rate    `json:"fpir"` // held-out queries whose best candidate is above it
}

// groupRow is one row of a table by age or by years apart.
type groupRow struct {
	Group  string `json:"group"`
	Rank1  rate   `json:"rank1"`
	Rank10 rate   `json:"rank10"`
	TAR1   rate   `json:"tar_far1"` // at the 1% FAR threshold of the whole run
	// MeanP is the mean (re-based) probability of the true match.
	MeanP float64 `json:"mean_p"`
}

// recoveryRow compares face-only and fused for one group of years apart.
type recoveryRow struct {
	Group    string `json:"group"`
	N        int    `json:"n"`
	FaceOnly rate   `json:"face_only_rank1"`
	Fused    rate   `json:"fused_rank1"`
	// Recovered are matches fused finds first that face-only does not;
	// Lost the other way round.
	Recovered int `json:"recovered"`
	Lost      int `json:"lost"`
}

// distanceRow is the measured distance distribution of one face group,
// beside the default model's.
type distanceRow struct {
	Group string `json:"group"`
	engine.FaceSamples
	// ModelGenuine and ModelImpostor are the default model's samples.
	ModelGenuine  string `json:"model_genuine"`
	ModelImpostor string `json:"model_impostor"`
}

// faceModelRow is one group's face weights, in bits, nearest band first.
type faceModelRow struct {
	Group   string    `json:"group"`
	Bands   []string  `json:"bands"`
	Weights []float64 `json:"weights"`
}

// Far-accept targets reported.
var farTargets = []float64{0.01, 0.001}

// Bands of the age and gap tables (whole years, as FG-NET labels are).
var (
	evalAgeBands = []evalBand{{"0-3", 0, 3}, {"4-7", 4, 7}, {"8-12", 8, 12}, {"13-17", 13, 17}, {"18+", 18, 1 << 30}}
	evalGapBands = []evalBand{{"0-2", 0, 2}, {"3-5", 3, 5}, {"6-10", 6, 10}, {"11+", 11, 1 << 30}}
)

type evalBand struct {
	name   string
	lo, hi int
}

func bandName(bands []evalBand, v int) string {
	if v < 0 {
		return "unknown"
	}
	for _, b := range bands {
		if v >= b.lo && v <= b.hi {
			return b.name
		}
	}
	return "unknown"
}

// scoredQuery is one query's outcome in one mode.
type scoredQuery struct {
	q        *evalQuery
	mateRank int                 // 1-based; 0 when the match was not returned (or held out)
	mateP    float64             // re-based probability of the match; 0 when not returned
	topP     float64             // re-based probability of the best candidate; 0 when none
	imp      []float64           // re-based probabilities of the impostor pairs
	served   []engine.Prediction // every pair, as the engine served it
	preds    []engine.Prediction // every pair, re-based
	top      engine.Prediction
	hasTop   bool
}

// build fills the report from the queries' candidates.
// aloneModes name the searches of q.alone, reported after the others.
func (r *evalReport) build(queries []*evalQuery, fused bool, aloneModes []string) {
	r.Queries = len(queries)
	for _, q := range queries {
		if q.mateID != "" {
			r.Mated++
		} else {
			r.Impostor++
		}
	}
	r.MatchRate = float64(r.Mated) / float64(r.Queries)
	modes := []struct {
		name string
		get  func(*evalQuery) []models.Candidate
	}{{faceOnlyMode, func(q *evalQuery) []models.Candidate { return q.faceOnly }}}
	if fused {
		modes = append(modes, struct {
			name string
			get  func(*evalQuery) []models.Candidate
		}{fusedMode, func(q *evalQuery) []models.Candidate { return q.fused }})
	}
	for _, m := range aloneModes {
		modes = append(modes, struct {
			name string
			get  func(*evalQuery) []models.Candidate
		}{m, func(q *evalQuery) []models.Candidate { return q.alone[m] }})
	}
	var perMode [][]scoredQuery
	for _, m := range modes {
		sqs := make([]scoredQuery, len(queries))
		for i, q := range queries {
			sqs[i] = r.score(q, m.get(q))
		}
		perMode = append(perMode, sqs)
		mr := summarize(m.name, sqs)
		mr.Refit = r.refit(queries, m.get)
		r.Modes = append(r.Modes, mr)
	}
	if fused {
		r.Recovery = recovery(perMode[0], perMode[1])
	}
	raw := make([]scoredQuery, len(queries))
	r1, r10, n := 0, 0, 0
	for i, q := range queries {
		raw[i] = scoredQuery{q: q, mateRank: q.rawRank}
		if q.mateID != "" {
			n++
			if q.rawRank == 1 {
				r1++
			}
			if q.rawRank >= 1 && q.rawRank <= 10 {
				r10++
			}
		}
	}
	r.Raw = rawReport{Rank1: newRate(r1, n), Rank10: newRate(r10, n),
		ByAge: groupTable(raw, evalAgeBands, func(q *evalQuery) int { return q.ageFirst }, math.Inf(1)),
		ByGap: groupTable(raw, evalGapBands, func(q *evalQuery) int { return q.gap }, math.Inf(1))}
}

// refit fits engine.FitCalibration on the queries of identities not held
// out (heldOutPerson) and reports the top candidate's reliability on the
// held-out ones, without and with it.
func (r *evalReport) refit(queries []*evalQuery, get func(*evalQuery) []models.Candidate) *refitReport {
	var fit, check []engine.QueryOutcome
	fitMated := 0
	for _, q := range queries {
		o := engine.QueryOutcome{Match: -1, Gallery: max(q.gallery, 1)}
		for _, c := range get(q) {
			if _, ok := q.galleryOf[c.ID]; !ok {
				continue
			}
			if c.ID == q.mateID {
				o.Match = len(o.Weights)
			}
			o.Weights = append(o.Weights, c.Score)
		}
		if heldOutPerson(q.person) {
			check = append(check, o)
		} else {
			fit = append(fit, o)
			if q.mateID != "" {
				fitMated++
			}
		}
	}
	if len(fit) == 0 || len(check) == 0 {
		return nil
	}
	rep := &refitReport{FitQueries: len(fit)}
	rep.Calibration = engine.FitCalibration(fit, float64(fitMated)/float64(len(fit)))
	var before, after []engine.Prediction
	for _, o := range check {
		if len(o.Weights) == 0 {
			continue
		}
		best := 0
		for j, w := range o.Weights {
			if w > o.Weights[best] {
				best = j
			}
		}
		match := best == o.Match
		before = append(before, engine.Prediction{Probability: o.Apply(models.Calibration{Slope: 1}, r.MatchRate)[best], Match: match})
		after = append(after, engine.Prediction{Probability: o.Apply(rep.Calibration, r.MatchRate)[best], Match: match})
	}
	rep.Before, rep.After = engine.Calibrate(before, 10), engine.Calibrate(after, 10)
	return rep
}

// score reads one query's candidates: the match's rank and every pair's
// re-based probability.
func (r *evalReport) score(q *evalQuery, cands []models.Candidate) scoredQuery {
	sq := scoredQuery{q: q}
	// Re-based: each candidate's probability against the query's others
	// (engine.QueryPosterior) at the evaluation's own match rate.
	var weights []float64
	for _, c := range cands {
		if _, ok := q.galleryOf[c.ID]; ok {
			weights = append(weights, c.Score)
		}
	}
	post := engine.QueryPosterior(weights, max(q.gallery, 1), r.MatchRate)
	returned := 0
	for i, c := range cands {
		if _, ok := q.galleryOf[c.ID]; !ok {
			continue // not this round's gallery (cannot happen: earlier rounds are deleted)
		}
		p := post[returned]
		returned++
		mate := c.ID == q.mateID
		sq.preds = append(sq.preds, engine.Prediction{Probability: p, Match: mate})
		sq.served = append(sq.served, engine.Prediction{Probability: c.Probability, Match: mate})
		if i == 0 {
			sq.topP, sq.top, sq.hasTop = p, engine.Prediction{Probability: p, Match: mate}, true
		}
		if mate {
			sq.mateRank, sq.mateP = i+1, p
		} else {
			sq.imp = append(sq.imp, p)
		}
	}
	// Gallery records not returned (blocked by a hard conflict) are a
	// match missed, or impostor pairs at probability 0.
	missing := q.gallery - returned
	if q.mateID != "" && sq.mateRank == 0 && missing > 0 {
		missing--
		sq.preds = append(sq.preds, engine.Prediction{Probability: 0, Match: true})
		sq.served = append(sq.served, engine.Prediction{Probability: 0, Match: true})
	}
	for range missing {
		sq.imp = append(sq.imp, 0)
		sq.preds = append(sq.preds, engine.Prediction{Probability: 0})
		sq.served = append(sq.served, engine.Prediction{Probability: 0})
	}
	return sq
}

// summarize computes one mode's figures.
func summarize(mode string, sqs []scoredQuery) modeReport {
	mr := modeReport{Mode: mode}
	var imp []float64
	var preds, served, top []engine.Prediction
	r1, r10, mated := 0, 0, 0
	for _, s := range sqs {
		imp = append(imp, s.imp...)
		preds = append(preds, s.preds...)
		served = append(served, s.served...)
		if s.hasTop {
			top = append(top, s.top)
		}
		if s.q.mateID == "" {
			continue
		}
		mated++
		if s.mateRank == 0 {
			mr.NotReturned++
		}
		if s.mateRank == 1 {
			r1++
		}
		if s.mateRank >= 1 && s.mateRank <= 10 {
			r10++
		}
	}
	mr.Pairs = len(imp)
	mr.Rank1, mr.Rank10 = newRate(r1, mated), newRate(r10, mated)
	sort.Sort(sort.Reverse(sort.Float64Slice(imp)))
	thresholds := map[float64]float64{}
	for _, f := range farTargets {
		row := farRow{Target: f, Threshold: thresholdAt(imp, f)}
		t := row.Threshold
		fa := 0
		for _, p := range imp {
			if p > t {
				fa++
			}
		}
		row.FAR = float64(fa) / float64(max(len(imp), 1))
		var tar, tpir, fpir, nm, ni int
		for _, s := range sqs {
			if s.q.mateID == "" {
				ni++
				if s.hasTop && s.topP > t {
					fpir++
				}
				continue
			}
			nm++
			if s.mateRank > 0 && s.mateP > t {
				tar++
				if s.mateRank == 1 {
					tpir++
				}
			}
		}
		row.TAR, row.TPIR, row.FPIR = newRate(tar, nm), newRate(tpir, nm), newRate(fpir, ni)
		thresholds[f] = t
		mr.FAR = append(mr.FAR, row)
	}
	t1 := thresholds[0.01]
	mr.ByAge = groupTable(sqs, evalAgeBands, func(q *evalQuery) int { return q.ageFirst }, t1)
	mr.ByGap = groupTable(sqs, evalGapBands, func(q *evalQuery) int { return q.gap }, t1)
	mr.Calibration = engine.Calibrate(preds, 10)
	mr.Top = engine.Calibrate(top, 10)
	mr.ServedECE = engine.Calibrate(served, 10).ECE
	return mr
}

// thresholdAt returns the probability t such that at most a share far of
// the impostor pairs (sorted high to low) are above it: accepting p > t.
func thresholdAt(imp []float64, far float64) float64 {
	if len(imp) == 0 {
		return 0
	}
	k := int(math.Floor(far * float64(len(imp))))
	if k >= len(imp) {
		return -1
	}
	return imp[k]
}

// groupTable tabulates mated queries by a band of key.
func groupTable(sqs []scoredQuery, bands []evalBand, key func(*evalQuery) int, t float64) []groupRow {
	type acc struct {
		r1, r10, tar, n int
		p               float64
	}
	accs := map[string]*acc{}
	for _, s := range sqs {
		if s.q.mateID == "" {
			continue
		}
		name := bandName(bands, key(s.q))
		a := accs[name]
		if a == nil {
			a = &acc{}
			accs[name] = a
		}
		a.n++
		a.p += s.mateP
		if s.mateRank == 1 {
			a.r1++
		}
		if s.mateRank >= 1 && s.mateRank <= 10 {
			a.r10++
		}
		if s.mateRank > 0 && s.mateP > t {
			a.tar++
		}
	}
	var rows []groupRow
	names := make([]string, 0, len(bands)+1)
	for _, b := range bands {
		names = append(names, b.name)
	}
	for _, name := range append(names, "unknown") {
		a := accs[name]
		if a == nil {
			continue
		}
		rows = append(rows, groupRow{Group: name, Rank1: newRate(a.r1, a.n), Rank10: newRate(a.r10, a.n),
			TAR1: newRate(a.tar, a.n), MeanP: a.p / float64(a.n)})
	}
	return rows
}

// recovery counts, by years apart, the matches fused ranks first where
// face-only does not, and the other way round.
func recovery(face, fused []scoredQuery) []recoveryRow {
	type acc struct{ n, f, u, rec, lost int }
	accs := map[string]*acc{}
	for i := range face {
		q := face[i].q
		if q.mateID == "" {
			continue
		}
		name := bandName(evalGapBands, q.gap)
		a := accs[name]
		if a == nil {
			a = &acc{}
			accs[name] = a
		}
		a.n++
		f1, u1 := face[i].mateRank == 1, fused[i].mateRank == 1
		if f1 {
			a.f++
		}
		if u1 {
			a.u++
		}
		if u1 && !f1 {
			a.rec++
		}
		if f1 && !u1 {
			a.lost++
		}
	}
	var rows []recoveryRow
	for _, name := range []string{"0-2", "3-5", "6-10", "11+", "unknown"} {
		if a := accs[name]; a != nil {
			rows = append(rows, recoveryRow{Group: name, N: a.n, FaceOnly: newRate(a.f, a.n), Fused: newRate(a.u, a.n),
				Recovered: a.rec, Lost: a.lost})
		}
	}
	return rows
}

// faceDistanceTable measures the pipeline's distances per face group over
// every pair of usable photos, the way engine.MeasuredFaceSamples was
// measured (beside it, the default model's figures). Genuine: one person,
// earlier against later photo, in the group of their years apart and the
// age at the earlier. Impostor: two people, the younger photo taken as the
// missing child's; its group is every group of that child's age class
// (under-fives or older), because a stranger does not age toward the child:
// whatever the years between the photos, the gallery's strangers are the
// same mix of ages. The unknown-dates group pools every pair, dated or
// not: it is what a pair without dates could be.
//
// dist measures a pair (dlibDistance, mfnDistance, fusedDistance) as it
// is scored when its dates are known (dated) or not, and model, when not
// nil, gives the default model's samples to set beside the measured ones.
func faceDistanceTable(usable map[string][]*evalEnrolled, dist func(x, y *evalEnrolled, dated bool) float64, model map[string]engine.FaceSamples) []distanceRow {
	b := engine.DefaultFaceBands()
	gen, imp := map[string][]float64{}, map[string][]float64{}
	var young, old []string
	for _, g := range b.Groups() {
		switch {
		case g == engine.FaceGroupUnknown:
		case b.Young(g):
			young = append(young, g)
		default:
			old = append(old, g)
		}
	}
	var ps []*evalEnrolled
	for _, id := range slices.Sorted(mapsKeys(usable)) {
		ps = append(ps, usable[id]...)
	}
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			x, y := ps[i], ps[j]
			if x.Age > y.Age {
				x, y = y, x
			}
			// The unknown-dates group pools every pair, read as if undated.
			dated := x.Age >= 0 && y.Age >= 0
			d, undated := dist(x, y, true), dist(x, y, false)
			if x.Person == y.Person {
				gen[engine.FaceGroupUnknown] = append(gen[engine.FaceGroupUnknown], undated)
				if dated {
					g := b.Group(float64(y.Age-x.Age), float64(x.Age))
					gen[g] = append(gen[g], d)
				}
				continue
			}
			imp[engine.FaceGroupUnknown] = append(imp[engine.FaceGroupUnknown], undated)
			if dated {
				class := old
				if float64(x.Age) < b.YoungAge {
					class = young
				}
				for _, g := range class {
					imp[g] = append(imp[g], d)
				}
			}
		}
	}
	var rows []distanceRow
	for _, g := range b.Groups() {
		if len(gen[g]) == 0 && len(imp[g]) == 0 {
			continue
		}
		row := distanceRow{Group: g, FaceSamples: engine.FaceSamples{Genuine: b.NewDistanceSample(gen[g]), Impostor: b.NewDistanceSample(imp[g])}}
		if s, ok := model[g]; ok {
			row.ModelGenuine, row.ModelImpostor = sampleString(s.Genuine), sampleString(s.Impostor)
		}
		rows = append(rows, row)
	}
	return rows
}

// dlibDistance is the Euclidean distance of two photos' dlib descriptors.
func dlibDistance(x, y *evalEnrolled, _ bool) float64 { return x.desc.Distance(y.desc) }

// fusedDistance reads two photos' distances together as the engine does
// (engine.FaceFusion.Distance, on dlib's scale), at their years apart.
func fusedDistance(f engine.FaceFusion) func(x, y *evalEnrolled, dated bool) float64 {
	return func(x, y *evalEnrolled, dated bool) float64 {
		years := -1.0
		if dated && x.Age >= 0 && y.Age >= 0 {
			years = math.Abs(float64(y.Age - x.Age))
		}
		return f.Distance(dlibDistance(x, y, dated), mfnDistance(x, y, dated), years)
	}
}

// mfnDistance is the cosine distance of two photos' MobileFaceNet
// descriptors (both must have one).
func mfnDistance(x, y *evalEnrolled, _ bool) float64 { return x.mfn.CosineDistance(y.mfn) }

// sampleString is "mean±sd (n)".
func sampleString(s engine.DistanceSample) string {
	if s.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.3f±%.3f (%d)", s.Mean, s.SD, s.N)
}

func mapsKeys[V any](m map[string]V) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// faceModelTable is the face field's weights in params p.
func faceModelTable(p models.Params) []faceModelRow {
	b := engine.DefaultFaceBands()
	var rows []faceModelRow
	for _, g := range b.ScaledGroups() { // fused groups, then dlib's own ("dlib:")
		row := faceModelRow{Group: g, Bands: b.BandNames()}
		for _, band := range row.Bands {
			lp := p.Fields[engine.FieldFace].Levels[g+"/"+band]
			row.Weights = append(row.Weights, math.Log2(lp.M/lp.U))
		}
		rows = append(rows, row)
	}
	return rows
}

// writeText prints the report as tables.
func (r *evalReport) writeText(w io.Writer) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	p("trackmatch eval: %s (attributes: %s, params v%d)\n", r.Photos, r.Attributes, r.ParamsVersion)
	p("  %d people, %d photos used (%d without a usable face, %d over the age limit)", r.People, r.PhotosUsed, r.PhotosNoFace, r.PhotosOverAge)
	if r.Background > 0 {
		p(", %d photo-less background records for name frequencies", r.Background)
	}
	p("\n  %d rounds, gallery %s per round, %.0f%% of identities held out per round\n", r.Rounds, sizeRange(r.GallerySizes), 100*r.Holdout)
	p("  %d queries: %d with their child in the gallery, %d without (match rate %.2f)\n\n", r.Queries, r.Mated, r.Impostor, r.MatchRate)

	names := make([]string, len(r.Modes))
	for i, m := range r.Modes {
		names[i] = m.Mode
	}
	row := func(label string, cells ...string) {
		p("  %-34s", label)
		for _, c := range cells {
			p(" %22s", c)
		}
		p("\n")
	}
	row("", names...)
	cell := func(f func(m modeReport) string) []string {
		out := make([]string, len(r.Modes))
		for i, m := range r.Modes {
			out[i] = f(m)
		}
		return out
	}
	row("rank-1", cell(func(m modeReport) string { return fmt.Sprintf("%s (%d/%d)", m.Rank1, m.Rank1.K, m.Rank1.N) })...)
	row("rank-10", cell(func(m modeReport) string { return fmt.Sprintf("%s (%d/%d)", m.Rank10, m.Rank10.K, m.Rank10.N) })...)
	p("  %-34s %22s %22s\n", "raw dlib nearest neighbour: rank-1/10", fmt.Sprintf("%s (%d/%d)", r.Raw.Rank1, r.Raw.Rank1.K, r.Raw.Rank1.N),
		fmt.Sprintf("%s (%d/%d)", r.Raw.Rank10, r.Raw.Rank10.K, r.Raw.Rank10.N))
	for i, f := range farTargets {
		row(fmt.Sprintf("TAR at FAR %g%%", 100*f), cell(func(m modeReport) string {
			x := m.FAR[i]
			return fmt.Sprintf("%s (p>%.3g)", x.TAR, x.Threshold)
		})...)
		row("   achieved FAR / TPIR / FPIR", cell(func(m modeReport) string {
			x := m.FAR[i]
			return fmt.Sprintf("%.4f/%s/%s", x.FAR, x.TPIR, x.FPIR)
		})...)
	}
	row("match not a candidate (blocked)", cell(func(m modeReport) string { return fmt.Sprint(m.NotReturned) })...)
	row("impostor pairs", cell(func(m modeReport) string { return fmt.Sprint(m.Pairs) })...)
	row("ECE all pairs / top candidate", cell(func(m modeReport) string {
		return fmt.Sprintf("%.4f / %.4f", m.Calibration.ECE, m.Top.ECE)
	})...)
	row("Brier all pairs / top candidate", cell(func(m modeReport) string {
		return fmt.Sprintf("%.4f / %.4f", m.Calibration.Brier, m.Top.Brier)
	})...)
	row("ECE as served (prior 1/3)", cell(func(m modeReport) string { return fmt.Sprintf("%.4f", m.ServedECE) })...)
	row("refit on 2/3: slope, intercept", cell(func(m modeReport) string {
		if m.Refit == nil {
			return "-"
		}
		return fmt.Sprintf("%.2f, %+.2f bits", m.Refit.Calibration.Slope, m.Refit.Calibration.Intercept)
	})...)
	row("held-out 1/3 top ECE raw / refit", cell(func(m modeReport) string {
		if m.Refit == nil {
			return "-"
		}
		return fmt.Sprintf("%.4f / %.4f (n=%d)", m.Refit.Before.ECE, m.Refit.After.ECE, m.Refit.After.N)
	})...)

	group := func(title string, get func(m modeReport) []groupRow) {
		p("\n  %s (queries with their child in the gallery)\n", title)
		p("  %-8s %5s", "", "n")
		for _, n := range names {
			p("  %-30s", n+": rank-1 rank-10 TAR@1% mean p")
		}
		p("\n")
		keys := map[string]bool{}
		var order []string
		for _, m := range r.Modes {
			for _, g := range get(m) {
				if !keys[g.Group] {
					keys[g.Group] = true
					order = append(order, g.Group)
				}
			}
		}
		for _, k := range order {
			n := 0
			var cells []string
			for _, m := range r.Modes {
				for _, g := range get(m) {
					if g.Group == k {
						n = g.Rank1.N
						cells = append(cells, fmt.Sprintf("%6s %7s %6s %6.2f", g.Rank1, g.Rank10, g.TAR1, g.MeanP))
					}
				}
			}
			p("  %-8s %5d", k, n)
			for _, c := range cells {
				p("  %-30s", c)
			}
			p("\n")
		}
	}
	group("By age at the earlier photo", func(m modeReport) []groupRow { return m.ByAge })
	group("By years between the photos", func(m modeReport) []groupRow { return m.ByGap })
	for _, t := range []struct {
		title string
		rows  []groupRow
	}{{"by age at the earlier photo", r.Raw.ByAge}, {"by years between the photos", r.Raw.ByGap}} {
		p("\n  Raw dlib nearest neighbour (rank by distance alone) %s: rank-1 rank-10\n", t.title)
		for _, g := range t.rows {
			p("  %-8s %5d  %6s %7s\n", g.Group, g.Rank1.N, g.Rank1, g.Rank10)
		}
	}

	if len(r.Recovery) > 0 {
		p("\n  What the attributes recover, by years apart (rank-1)\n")
		p("  %-8s %5s %10s %8s %10s %6s\n", "", "n", "face-only", "fused", "recovered", "lost")
		for _, x := range r.Recovery {
			p("  %-8s %5d %10s %8s %10d %6d\n", x.Group, x.N, x.FaceOnly, x.Fused, x.Recovered, x.Lost)
		}
	}

	for _, m := range r.Modes {
		cals := []struct {
			what string
			cal  engine.Calibration
		}{{"every scored pair", m.Calibration}, {"each query's top candidate", m.Top}}
		if m.Refit != nil {
			cals = append(cals, struct {
				what string
				cal  engine.Calibration
			}{"held-out identities' top candidate, refit calibration", m.Refit.After})
		}
		for _, c := range cals {
			p("\n  Reliability, %s, %s: n=%d Brier %.4f ECE %.4f log loss %.3f bits\n", m.Mode, c.what, c.cal.N, c.cal.Brier, c.cal.ECE, c.cal.LogLoss)
			p("  %-11s %7s %10s %10s\n", "predicted", "n", "mean p", "observed")
			for _, b := range c.cal.Bins {
				if b.Count == 0 {
					continue
				}
				p("  %.1f-%.1f     %7d %10.3f %10.3f\n", b.Lo, b.Hi, b.Count, b.MeanPredicted, b.ObservedRate)
			}
		}
	}

	p("\n  Face distances measured here, as scored (both models read together on dlib's scale when both ran; genuine: one person, earlier against later photo; impostor: two people)\n")
	p("  %-10s %6s %13s %7s %13s   %-20s %s\n", "group", "n", "genuine", "n", "impostor", "model genuine", "model impostor")
	ms := func(s engine.DistanceSample) string {
		if s.N == 0 {
			return "-"
		}
		return fmt.Sprintf("%.3f±%.3f", s.Mean, s.SD)
	}
	for _, d := range r.Distances {
		p("  %-10s %6d %13s %7d %13s   %-20s %s\n", d.Group, d.Genuine.N, ms(d.Genuine), d.Impostor.N, ms(d.Impostor),
			d.ModelGenuine, d.ModelImpostor)
	}
	if len(r.DistancesDlib) > 0 {
		p("\n  dlib's distances alone, grouped the same way\n")
		p("  %-10s %6s %13s %7s %13s\n", "group", "n", "genuine", "n", "impostor")
		for _, d := range r.DistancesDlib {
			p("  %-10s %6d %13s %7d %13s\n", d.Group, d.Genuine.N, ms(d.Genuine), d.Impostor.N, ms(d.Impostor))
		}
	}
	if len(r.DistancesMFN) > 0 {
		p("\n  MobileFaceNet cosine distances measured here, grouped the same way\n")
		p("  %-10s %6s %13s %7s %13s\n", "group", "n", "genuine", "n", "impostor")
		for _, d := range r.DistancesMFN {
			p("  %-10s %6d %13s %7d %13s\n", d.Group, d.Genuine.N, ms(d.Genuine), d.Impostor.N, ms(d.Impostor))
		}
	}
	if len(r.FaceModel) > 0 {
		p("\n  Face weights of params v%d, bits (log2 m/u) by group and distance band\n  %-13s", r.ParamsVersion, "")
		for _, b := range r.FaceModel[0].Bands {
			p("%10s", b)
		}
		p("\n")
		for _, fr := range r.FaceModel {
			p("  %-13s", fr.Group)
			for _, x := range fr.Weights {
				p("%10.2f", x)
			}
			p("\n")
		}
	}
}

func sizeRange(s []int) string {
	if len(s) == 0 {
		return "-"
	}
	lo, hi := slices.Min(s), slices.Max(s)
	if lo == hi {
		return fmt.Sprint(lo)
	}
	return fmt.Sprintf("%d-%d", lo, hi)
}
