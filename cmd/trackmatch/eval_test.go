package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// writeLabels writes a labels CSV (path,person,age) of the rows of src
// (a labels.csv or MANIFEST.csv) that keep returns true, with absolute
// paths, and returns its path.
func writeLabels(t *testing.T, src string, keep func(row map[string]string) bool) string {
	t.Helper()
	f, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	w := csv.NewWriter(&b)
	w.Write([]string{"path", "person", "age"})
	for _, r := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			m[h] = r[i]
		}
		if !keep(m) {
			continue
		}
		person := m["person"]
		if person == "" {
			person = m["identity"]
		}
		w.Write([]string{filepath.Join(filepath.Dir(src), m["path"]), person, m["age"]})
	}
	w.Flush()
	out := filepath.Join(t.TempDir(), "labels.csv")
	if err := os.WriteFile(out, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func modeOf(t *testing.T, r *evalReport, name string) modeReport {
	t.Helper()
	for _, m := range r.Modes {
		if m.Mode == name {
			return m
		}
	}
	t.Fatalf("no %s mode in the report", name)
	return modeReport{}
}

// rank1Over sums the rank-1 counts of the named rows.
func rank1Over(rows []groupRow, groups ...string) (k, n int) {
	for _, g := range rows {
		for _, want := range groups {
			if g.Group == want {
				k += g.Rank1.K
				n += g.Rank1.N
			}
		}
	}
	return k, n
}

// TestEvalSubset runs the evaluation end to end (real dlib model, Badger,
// Bleve and vector index in a temporary folder) on a small subset: ten
// FG-NET children (p001–p037) and the face-api.js adults, with synthetic
// attributes (seed 1). Measured when written, with floors below them:
// face-api.js face-only rank-1 55/55 (floor 0.95); FG-NET subset rank-1
// at 6+ years apart face-only 87/153, fused 128/153 (fused must be at
// least face-only, and at least 0.70); fused ECE 0.014 over every pair and
// 0.070 over the top candidates (bounds 0.03 and 0.12).
func TestEvalSubset(t *testing.T) {
	if testing.Short() {
		t.Skip("the evaluation runs the face pipeline on about 150 photos")
	}
	models := modelsDir(t)
	t.Setenv("OPENBLAS_NUM_THREADS", "1")
	children := sharedDir(t, "faces-children")
	faces := sharedDir(t, "faces")
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	opts := func(labels string) evalOptions {
		return evalOptions{Labels: labels, Synthetic: true, Models: models, Holdout: 1.0 / 3, Seed: 1,
			MaxAge: 25, Background: 200}
	}

	people := map[string]bool{}
	for _, p := range []string{"p001", "p005", "p009", "p013", "p017", "p021", "p025", "p029", "p033", "p037"} {
		people[p] = true
	}
	fg, err := evaluate(ctx, opts(writeLabels(t, filepath.Join(children, "labels.csv"),
		func(r map[string]string) bool { return people[r["person"]] })), log)
	if err != nil {
		t.Fatal(err)
	}
	var text bytes.Buffer
	fg.writeText(&text)
	t.Logf("FG-NET subset:\n%s", text.String())
	face, fused := modeOf(t, fg, "face-only"), modeOf(t, fg, "fused")
	fk, fn := rank1Over(face.ByGap, "6-10", "11+")
	uk, un := rank1Over(fused.ByGap, "6-10", "11+")
	if fn == 0 || fn != un {
		t.Fatalf("queries 6+ years apart: %d face-only, %d fused", fn, un)
	}
	if uk < fk || float64(uk) < 0.70*float64(un) {
		t.Errorf("6+ years apart: fused rank-1 %d/%d, face-only %d/%d; want fused at least face-only and 0.70", uk, un, fk, fn)
	}
	if fused.Calibration.ECE > 0.03 || fused.Top.ECE > 0.12 {
		t.Errorf("fused ECE %.4f over every pair, %.4f over top candidates; bounds 0.03 and 0.12", fused.Calibration.ECE, fused.Top.ECE)
	}
	if fg.Impostor == 0 || fused.FAR[0].FPIR.N == 0 || fg.Rounds < 5 {
		t.Errorf("no impostor queries or too few rounds: %+v", fg)
	}
	for _, want := range []string{"rank-1", "TAR at FAR 1%", "By years between the photos", "Reliability, fused", "Face weights"} {
		if !strings.Contains(text.String(), want) {
			t.Errorf("report lacks %q", want)
		}
	}

	adults, err := evaluate(ctx, opts(writeLabels(t, filepath.Join(faces, "MANIFEST.csv"),
		func(r map[string]string) bool { return r["source_repository"] == "justadudewhohacks/face-api.js" })), log)
	if err != nil {
		t.Fatal(err)
	}
	text.Reset()
	adults.writeText(&text)
	t.Logf("face-api.js adults:\n%s", text.String())
	if r := modeOf(t, adults, "face-only").Rank1; r.N < 40 || r.Rate < 0.95 {
		t.Errorf("adults face-only rank-1 %d/%d, floor 0.95", r.K, r.N)
	}
}

func TestThresholdAt(t *testing.T) {
	imp := []float64{0.9, 0.5, 0.5, 0.2, 0.1, 0, 0, 0, 0, 0} // sorted high to low
	for _, tc := range []struct{ far, want float64 }{{0.1, 0.5}, {0.3, 0.2}, {0.05, 0.9}, {1, -1}} {
		if got := thresholdAt(imp, tc.far); got != tc.want {
			t.Errorf("thresholdAt(%v) = %v, want %v", tc.far, got, tc.want)
		}
	}
}

// TestEvalMetrics checks ranks, re-based probabilities, thresholds and the
// counting of a blocked match on hand-made candidate lists.
func TestEvalMetrics(t *testing.T) {
	gallery := map[string]string{"a": "A", "b": "B", "c": "C"}
	q := func(person, mate string, age, gap int, cands ...models.Candidate) *evalQuery {
		return &evalQuery{person: person, mateID: mate, ageFirst: age, gap: gap, gallery: 3, galleryOf: gallery,
			faceOnly: cands, photo: &evalEnrolled{}}
	}
	c := func(id string, score float64) models.Candidate { return models.Candidate{ID: id, Score: score} }
	queries := []*evalQuery{
		q("A", "a", 2, 1, c("a", 8), c("b", -3), c("c", -4)), // found first
		q("B", "b", 9, 12, c("a", 1), c("b", 0), c("c", -5)), // second
		q("C", "c", 14, 4, c("a", -2), c("b", -3)),           // blocked: c not returned
		q("D", "", 5, 3, c("a", 3), c("b", -6), c("c", -6)),  // held out
	}
	var r evalReport
	r.build(queries, false, nil)
	if r.Mated != 3 || r.Impostor != 1 || math.Abs(r.MatchRate-0.75) > 1e-12 {
		t.Fatalf("mated %d impostor %d rate %v", r.Mated, r.Impostor, r.MatchRate)
	}
	m := r.Modes[0]
	if m.Rank1.K != 1 || m.Rank10.K != 2 || m.NotReturned != 1 || m.Pairs != 9 {
		t.Fatalf("rank-1 %+v rank-10 %+v not returned %d impostor pairs %d", m.Rank1, m.Rank10, m.NotReturned, m.Pairs)
	}
	// Re-based at the run's match rate 0.75, a = 0.75/3 per record, and
	// weighed against the query's other candidates (engine.QueryPosterior):
	// a·2^8 / (1 − 3a + a·(2^8 + 2^−3 + 2^−4)).
	a := 0.75 / 3
	wantTop := a * 256 / (1 - 3*a + a*(256+0.125+0.0625))
	if got := m.Top.Bins[9].MeanPredicted; math.Abs(got-wantTop) > 1e-9 {
		t.Fatalf("top probability %v, want %v", got, wantTop)
	}
	if m.Calibration.N != 12 {
		t.Fatalf("%d scored pairs, want 12 (every gallery record of every query)", m.Calibration.N)
	}
	// At FAR 1% none of the 9 impostor pairs may pass: the threshold is the
	// strongest one's probability (D's "a", score 3), which only A's match
	// is above; D's best candidate is at, not above, it.
	far := m.FAR[0]
	if far.FAR != 0 || far.TAR.K != 1 || far.FPIR.K != 0 {
		t.Fatalf("FAR 1%%: %+v", far)
	}
	if rows := m.ByGap; len(rows) != 3 || rows[0].Group != "0-2" || rows[1].Group != "3-5" || rows[2].Group != "11+" {
		t.Fatalf("by gap %+v", rows)
	}
	// The report is valid JSON even with empty figures (JSON has no NaN).
	r.Distances = append(r.Distances, distanceRow{Group: "empty"})
	r.Modes[0].Rank1 = newRate(0, 0)
	if _, err := json.Marshal(&r); err != nil {
		t.Fatalf("report as JSON: %v", err)
	}
	var text bytes.Buffer
	r.writeText(&text)
	if !strings.Contains(text.String(), "rank-1") {
		t.Fatalf("text report:\n%s", text.String())
	}
}

func TestLoadLabelled(t *testing.T) {
	dir := t.TempDir()
	for _, p := range []string{"amy/1.jpg", "amy/2.jpg", "bob/x.png", "_group/g.jpg"} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(p)), 0o755)
		os.WriteFile(filepath.Join(dir, p), []byte("x"), 0o644)
	}
	people, err := loadLabelled(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(people) != 2 || people[0].ID != "amy" || len(people[0].Photos) != 2 || people[0].Photos[0].Age != -1 {
		t.Fatalf("folders: %+v", people)
	}
	os.WriteFile(filepath.Join(dir, "labels.csv"), []byte("path,person,age\namy/2.jpg,amy,9\namy/1.jpg,amy,3\nbob/x.png,bob,\n_group/g.jpg,_group,4\n"), 0o644)
	people, err = loadLabelled(dir, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(people) != 2 || people[0].Photos[0].Age != 3 || !strings.HasSuffix(people[0].Photos[0].Path, "amy/1.jpg") {
		t.Fatalf("labels: %+v", people)
	}
	os.WriteFile(filepath.Join(dir, "labels.csv"), []byte("path,person,age\namy/2.jpg,amy,nine\n"), 0o644)
	if _, err := loadLabelled(dir, ""); err == nil {
		t.Fatal("age 'nine': want an error")
	}
}

func TestParseAttributes(t *testing.T) {
	in := `{"person": "amy", "kind": "missing", "names": ["Pooja Kumari"], "sex": "female"}
{"person": "amy", "kind": "found", "names": ["पूजा"]}
# a comment
{"person": "bob", "names": ["Rahul"], "place": {"state": "Bihar"}}
`
	got, err := parseAttributes(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if got["amy"].Missing.Names[0] != "Pooja Kumari" || got["amy"].Found.Names[0] != "पूजा" || got["amy"].Missing.Sex != models.SexFemale {
		t.Fatalf("amy: %+v %+v", got["amy"].Missing, got["amy"].Found)
	}
	if got["bob"].Missing == got["bob"].Found || got["bob"].Found.Place.State != "Bihar" {
		t.Fatalf("bob: a record without a kind is both sides, as copies")
	}
	for _, bad := range []string{`{"names": ["x"]}`, `{"person": "x", "kind": "lost"}`, `{`} {
		if _, err := parseAttributes(strings.NewReader(bad)); err == nil {
			t.Errorf("%s: want an error", bad)
		}
	}
}

// TestSyntheticAttributes checks the generator is seeded and plausible:
// a child's two records agree on the name (at least phonetically) about
// as often as true matches do in the scorer's defaults (two times in
// three), two children's records rarely do, and every record is valid.
func TestSyntheticAttributes(t *testing.T) {
	s := attrSynth{seed: 3}
	if a, b := s.foundRecord("p1", "1"), s.foundRecord("p1", "1"); strings.Join(a.Names, "|") != strings.Join(b.Names, "|") || a.Place != b.Place {
		t.Fatal("same seed and key, different records")
	}
	strong := func(l names.Level) bool { return l.Rank() >= names.LevelPhonetic.Rank() }
	var mate, imp, n int
	now := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 400 {
		p, o := fmt.Sprintf("p%d", i), fmt.Sprintf("q%d", i)
		m, f, other := s.missingRecord(p, "0"), s.foundRecord(p, "1"), s.foundRecord(o, "1")
		for _, c := range []*models.Child{m, f, other} {
			c.ObservedOn = "2020-01-01"
			if err := c.Validate(now); err != nil {
				t.Fatalf("invalid synthetic record %+v: %v", c, err)
			}
		}
		if len(f.Names) == 0 {
			continue
		}
		n++
		if strong(names.Compare(m.Names, f.Names).Level) {
			mate++
		}
		if strong(names.Compare(m.Names, other.Names).Level) {
			imp++
		}
	}
	if r := float64(mate) / float64(n); r < 0.5 || r > 0.85 {
		t.Errorf("true pairs agree on the name %.2f of the time", r)
	}
	if r := float64(imp) / float64(n); r > 0.1 {
		t.Errorf("different children agree on the name %.2f of the time", r)
	}
	if a := s.foundAge("p", "1", 10); a.Min > a.Max || a.Max > 15 || a.Min < 5 {
		t.Errorf("estimate of a 10-year-old: %+v", a)
	}
}

func TestEvalUsage(t *testing.T) {
	var out, errb bytes.Buffer
	for _, args := range [][]string{{}, {"--photos", "x", "--holdout", "1"}, {"--photos", "x", "--attributes", "a", "--synthetic-attributes"}} {
		errb.Reset()
		if code := runEval(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("eval %q: exit %d, want 2 (%s)", args, code, errb.String())
		}
	}
	if code := runEval(context.Background(), []string{"--photos", t.TempDir(), "--models", t.TempDir()}, &out, &errb); code != 1 {
		t.Errorf("empty photo folder: exit %d, want 1", code)
	}
}
