package face

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gocv.io/x/gocv"

	"github.com/trackmatch/trackmatch/models"
)

func TestSimilarityRecoversATransform(t *testing.T) {
	// Rotate by 30°, scale by 1.7, shift: the fit must recover it exactly.
	const a0, b0, tx0, ty0 = 1.7 * 0.8660254, 1.7 * 0.5, 12.5, -3.25
	var dst [5][2]float64
	for i, p := range mfnTemplate {
		dst[i] = [2]float64{a0*p[0] - b0*p[1] + tx0, b0*p[0] + a0*p[1] + ty0}
	}
	a, b, tx, ty, ok := similarity(mfnTemplate, dst)
	if !ok {
		t.Fatal("fit failed")
	}
	for _, c := range [][2]float64{{a, a0}, {b, b0}, {tx, tx0}, {ty, ty0}} {
		if math.Abs(c[0]-c[1]) > 1e-9 {
			t.Fatalf("fit (%g %g %g %g), want (%g %g %g %g)", a, b, tx, ty, a0, b0, tx0, ty0)
		}
	}
	if _, _, _, _, ok := similarity([5][2]float64{}, mfnTemplate); ok {
		t.Error("coincident landmarks accepted")
	}
}

func TestMobileFaceNetRefusesMissingModel(t *testing.T) {
	if _, err := NewMobileFaceNet(t.TempDir()); err == nil {
		t.Fatal("loaded from an empty folder")
	}
}

// TestMobileFaceNetSamePersonCloser checks, on the shared adults' photos,
// that the pipeline gives every face a unit MobileFaceNet descriptor and
// that two photos of one person are closer than photos of two people.
func TestMobileFaceNetSamePersonCloser(t *testing.T) {
	f := loadFixture(t)
	dir := sharedDir(t, "faces")
	people := [][2]string{
		{"obama/obama.jpg", "obama/obama2.jpg"},
		{"biden/biden.jpg", "biden/biden2.jpg"},
		{"tzuyu/tzuyu.jpg", "tzuyu/tzuyu2.jpg"},
		{"chaeyoung/chaeyoung.jpg", "chaeyoung/chaeyoung2.jpg"},
	}
	var paths []string
	for _, p := range people {
		paths = append(paths, filepath.Join(dir, p[0]), filepath.Join(dir, p[1]))
	}
	as := f.analyzeAll(t, paths)
	desc := make([]*models.MFNDescriptor, len(as))
	for i, a := range as {
		face := a.SubjectFace()
		if face == nil || face.MFN == nil {
			t.Fatalf("%s: no face or no MobileFaceNet descriptor", paths[i])
		}
		var n float64
		for _, v := range face.MFN {
			n += float64(v) * float64(v)
		}
		if math.Abs(n-1) > 1e-4 {
			t.Fatalf("%s: descriptor norm² %g, want 1", paths[i], n)
		}
		desc[i] = face.MFN
	}
	for i := range people {
		same := desc[2*i].CosineDistance(desc[2*i+1])
		for j := range people {
			if j == i {
				continue
			}
			for _, k := range []int{2 * j, 2*j + 1} {
				if diff := desc[2*i].CosineDistance(desc[k]); diff <= same {
					t.Errorf("%s: same person at %.3f, %s at %.3f", people[i][0], same, paths[k], diff)
				}
			}
		}
		t.Logf("%s: same person %.3f", people[i][0], same)
	}
}

// BenchmarkMobileFaceNetDescribe times one face's MobileFaceNet descriptor
// (alignment and network) against dlib's whole HOG pass with its
// descriptor on the same 1000 px photo, in the same run, in wall and CPU
// time: go test ./engine/face -run '^$' -bench MobileFaceNet -benchtime 50x
func BenchmarkMobileFaceNetDescribe(b *testing.B) {
	f := loadFixture(b)
	data, err := os.ReadFile(filepath.Join(sharedDir(b, "faces"), "obama", "obama.jpg"))
	if err != nil {
		b.Fatal(err)
	}
	a, err := f.analyze(filepath.Join(sharedDir(b, "faces"), "obama", "obama.jpg"))
	if err != nil || !a.HasFace() {
		b.Fatalf("no face: %v", err)
	}
	mat, err := gocv.IMDecode(data, gocv.IMReadColor)
	if err != nil {
		b.Fatal(err)
	}
	defer mat.Close()
	lm := [5][2]float64{}
	for i, p := range a.SubjectFace().Landmarks {
		lm[i] = [2]float64{float64(p.X), float64(p.Y)}
	}
	b.Run("mobilefacenet", func(b *testing.B) {
		cpu := ProcessCPU()
		for b.Loop() {
			if _, err := f.mfn.Describe(mat, lm); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(ProcessCPU()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	})
	b.Run("dlib-hog-and-descriptor", func(b *testing.B) {
		jpg, err := encodeScaled(mat, stepSize(DefaultDetectSteps()[0], mat.Cols(), mat.Rows()))
		if err != nil {
			b.Fatal(err)
		}
		cpu := ProcessCPU()
		for b.Loop() {
			if _, err := f.emb.Embed(context.Background(), jpg, models.DetectorHOG); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(ProcessCPU()-cpu)/1e6/float64(b.N), "cpu-ms/op")
	})
}

// TestDescribeFacesMatchesAnalysis checks, through a real worker, that the
// MobileFaceNet descriptors computed later from stored landmarks (as
// reembed does) equal those the analysis computed, and that a pipeline
// without MobileFaceNet says so.
func TestDescribeFacesMatchesAnalysis(t *testing.T) {
	f := loadFixture(t)
	data := readShared(t, "faces/_group/"+firstFile(t, "faces/_group"))
	p := testWorkerPool(t, 1, 0)
	a, err := p.Analyze(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if len(a.Faces) < 2 {
		t.Fatalf("%d faces in a group photo", len(a.Faces))
	}
	var lms [][]models.Point
	for _, face := range a.Faces {
		if face.MFN == nil {
			t.Fatal("a face without a MobileFaceNet descriptor")
		}
		lms = append(lms, face.Landmarks)
	}
	lms = append(lms, lms[0][:3]) // too few landmarks: nil
	got, err := p.DescribeFaces(context.Background(), data, lms)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(lms) || got[len(got)-1] != nil {
		t.Fatalf("%d descriptors for %d faces, last %v", len(got), len(lms), got[len(got)-1] != nil)
	}
	for i, face := range a.Faces {
		if d := face.MFN.CosineDistance(got[i]); math.Abs(d) > 1e-5 {
			t.Errorf("face %d: described later at cosine distance %g from the analysis", i, d)
		}
	}
	_, err = f.other.DescribeFaces(context.Background(), data, lms)
	wantCode(t, err, models.EUNAVAILABLE)
}

func firstFile(t *testing.T, sub string) string {
	t.Helper()
	es, err := os.ReadDir(sharedDir(t, sub))
	if err != nil || len(es) == 0 {
		t.Fatalf("read %s: %v", sub, err)
	}
	return es[0].Name()
}

func TestParseFaceModels(t *testing.T) {
	for in, want := range map[string]string{
		"dlib":                 "dlib",
		"dlib,mobilefacenet":   "dlib,mobilefacenet",
		" mobilefacenet,dlib ": "mobilefacenet,dlib",
		"dlib,dlib":            "dlib",
	} {
		got, err := ParseFaceModels(in)
		if err != nil || strings.Join(got, ",") != want {
			t.Errorf("ParseFaceModels(%q) = %v, %v; want %s", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "mobilefacenet", "dlib,arcface"} {
		if _, err := ParseFaceModels(bad); err == nil {
			t.Errorf("ParseFaceModels(%q) accepted", bad)
		}
	}
	// dlib alone needs no ONNX file; both need it.
	dir := t.TempDir()
	if err := VerifyModelsFor(dir, []string{FaceModelDlib}); err == nil || strings.Contains(err.Error(), mfnFile) {
		t.Errorf("dlib alone: %v, want dlib's files missing, not %s", err, mfnFile)
	}
	for _, m := range ModelFiles {
		if m.Model != FaceModelDlib && m.Model != MobileFaceNetModel {
			t.Errorf("%s belongs to unknown model %q", m.Name, m.Model)
		}
	}
}

// TestMobileFaceNetConcurrent describes two faces from several goroutines
// at once: each call must give what a call alone gives (the network's
// output memory is shared between calls).
func TestMobileFaceNetConcurrent(t *testing.T) {
	f := loadFixture(t)
	dir := sharedDir(t, "faces")
	type input struct {
		mat  gocv.Mat
		lm   [5][2]float64
		want *models.MFNDescriptor
	}
	var ins []input
	for _, p := range []string{"obama/obama.jpg", "biden/biden.jpg"} {
		path := filepath.Join(dir, p)
		a, err := f.analyze(path)
		if err != nil || !a.HasFace() {
			t.Fatalf("%s: no face (%v)", p, err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		mat, err := gocv.IMDecode(data, gocv.IMReadColor)
		if err != nil {
			t.Fatal(err)
		}
		defer mat.Close()
		var lm [5][2]float64
		for i, pt := range a.SubjectFace().Landmarks {
			lm[i] = [2]float64{float64(pt.X), float64(pt.Y)}
		}
		want, err := f.mfn.Describe(mat, lm)
		if err != nil {
			t.Fatal(err)
		}
		ins = append(ins, input{mat, lm, want})
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := range 4 {
		wg.Go(func() {
			for i := range 10 {
				in := ins[(g+i)%len(ins)]
				got, err := f.mfn.Describe(in.mat, in.lm)
				if err != nil {
					errs <- err.Error()
					return
				}
				if *got != *in.want {
					errs <- "a concurrent call gave another descriptor"
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
}
