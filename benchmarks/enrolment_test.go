package benchmarks

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/engine/face"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// enrolmentInputs returns the shared photo folder and the models folder,
// skipping the test when either is absent.
func enrolmentInputs(t *testing.T) (photos, modelsDir string) {
	t.Helper()
	photos = filepath.Join("..", "..", "shared", "faces")
	if _, err := os.Stat(filepath.Join(photos, "MANIFEST.csv")); err != nil {
		t.Skipf("shared photos are absent (%v): this test needs ../shared/faces beside the repository", err)
	}
	modelsDir = os.Getenv("TRACKMATCH_MODELS")
	if modelsDir == "" {
		modelsDir = face.DefaultModelsDir()
	}
	if err := face.VerifyModels(modelsDir); err != nil {
		t.Skipf("no face models (%v)", err)
	}
	return photos, modelsDir
}

// storedPhotos counts the photos in the store at dir.
func storedPhotos(t *testing.T, dir string) int {
	t.Helper()
	st, err := index.Open(dir, index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 0
	if err := st.ForEachChild(context.Background(), "", func(c models.Child) error {
		n += len(c.Photos)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

func checkFigures(t *testing.T, figs []Figure) {
	t.Helper()
	if len(figs) == 0 {
		t.Fatal("no figures")
	}
	for _, f := range figs {
		t.Logf("%-40s %10.3f %-8s | %-50s %10.3f | %.2f× | %s", f.Name, f.Value, f.Unit, f.Baseline, f.BaselineValue, f.Ratio(), f.Note)
		if f.Section != "enrolment" || f.Scale != 0 || f.Baseline == "" {
			t.Errorf("%s: section %q scale %d baseline %q", f.Name, f.Section, f.Scale, f.Baseline)
		}
		for _, v := range []float64{f.Value, f.BaselineValue} {
			if !(v > 0) || math.IsInf(v, 0) {
				t.Errorf("%s: value %g, baseline %g: want positive and finite", f.Name, f.Value, f.BaselineValue)
			}
		}
	}
}

func TestMeasureEnrolmentSmoke(t *testing.T) {
	photos, modelsDir := enrolmentInputs(t)
	dir := t.TempDir()
	r, err := runEnrolment(context.Background(), EnrolmentConfig{PhotosDir: photos, ModelsDir: modelsDir, Dir: dir, Photos: 8})
	if err != nil {
		t.Fatal(err)
	}
	if r.attempted != 8 || r.accepted+r.noFace != r.attempted || r.accepted == 0 {
		t.Errorf("attempted %d, accepted %d, no face %d: want 8 = accepted + no face, some accepted", r.attempted, r.accepted, r.noFace)
	}
	if r.accepted != r.ceilAccepted {
		t.Errorf("end to end accepted %d photos, the recorded pipeline %d", r.accepted, r.ceilAccepted)
	}
	checkFigures(t, r.figures())
	if got := storedPhotos(t, filepath.Join(dir, "badger")); got != r.stored || got < r.accepted {
		t.Errorf("the store holds %d photos, want %d (%d timed, the rest warm-up)", got, r.stored, r.accepted)
	}
}

// TestMeasureEnrolmentSet measures the whole shared set once (a minute or
// two on two cores):
//
//	TRACKMATCH_BENCH_ENROLMENT=1 OPENBLAS_NUM_THREADS=1 go test ./benchmarks -run TestMeasureEnrolmentSet -v -timeout 30m
func TestMeasureEnrolmentSet(t *testing.T) {
	if os.Getenv("TRACKMATCH_BENCH_ENROLMENT") != "1" {
		t.Skip("set TRACKMATCH_BENCH_ENROLMENT=1 to measure enrolment on the whole shared photo set")
	}
	photos, modelsDir := enrolmentInputs(t)
	figs, err := MeasureEnrolment(context.Background(), EnrolmentConfig{PhotosDir: photos, ModelsDir: modelsDir, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	checkFigures(t, figs)
}

func TestEnrolmentFigures(t *testing.T) {
	r := &enrolmentRun{workers: 2, attempted: 10, accepted: 9, noFace: 1, ceilAccepted: 9,
		endToEnd:   timing{wall: 10 * time.Second, cpu: 19 * time.Second, model: 18 * time.Second},
		ceilBefore: timing{wall: 8 * time.Second, cpu: 16 * time.Second, model: 16 * time.Second},
		ceilAfter:  timing{wall: 10 * time.Second, cpu: 20 * time.Second, model: 20 * time.Second},
		ceil1:      timing{wall: 18 * time.Second, cpu: 18 * time.Second, model: 18 * time.Second},
		e2eAnalyze: 30 * time.Second, e2eStore: time.Second, e2eAttrs: time.Second, e2eUpload: 40 * time.Second}
	figs := r.figures()
	byName := map[string]Figure{}
	for _, f := range figs {
		byName[f.Name] = f
	}
	acc := byName["end to end, accepted photos/s"]
	if math.Abs(acc.Ratio()-0.9) > 1e-9 || !strings.Contains(acc.Note, "goal ≥90% met") {
		t.Errorf("accepted: ratio %g, note %q: want 0.9, goal met", acc.Ratio(), acc.Note)
	}
	if f := byName["model alone, 2 recognizers photos/s"]; math.Abs(f.Ratio()-2) > 1e-9 {
		t.Errorf("scaling ratio %g, want 2", f.Ratio())
	}
	if f := byName["recognizer busy share, end to end"]; math.Abs(f.Value-0.9) > 1e-9 || math.Abs(f.BaselineValue-1) > 1e-9 {
		t.Errorf("busy share %g of %g, want 0.9 of 1", f.Value, f.BaselineValue)
	}
	if f := byName["CPU used, end to end"]; math.Abs(f.Value-1.9) > 1e-9 || math.Abs(f.BaselineValue-2) > 1e-9 {
		t.Errorf("CPU used %g cores of %g, want 1.9 of 2", f.Value, f.BaselineValue)
	}
	if f := byName["upload latency in face analysis"]; f.Value != 3000 || f.BaselineValue != 4000 {
		t.Errorf("analysis latency %g ms of %g, want 3000 of 4000", f.Value, f.BaselineValue)
	}
	r.endToEnd.wall = 11 * time.Second
	if f := r.figures()[0]; !strings.Contains(f.Note, "goal ≥90% missed") {
		t.Errorf("at %.2f of the ceiling the note says %q", f.Ratio(), f.Note)
	}
}

func TestReadEnrolPhotosSkipsSpecialCases(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"MANIFEST.csv": "path,identity,expected_faces\na/1.jpg,a,1\n_group/g.jpg,_group,3\nb/2.jpg,b,1\n",
		"a/1.jpg":      "one", "b/2.jpg": "two", "_group/g.jpg": "group",
	} {
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	set, err := readEnrolPhotos(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(set) != 2 || string(set[0].data) != "one" || string(set[1].data) != "two" {
		t.Errorf("read %d photos, want a/1.jpg and b/2.jpg", len(set))
	}
}
