package face

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"os"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models"
	"gocv.io/x/gocv"
)

// testWorkerModeEnv makes the test binary a face worker (TestMain): "serve"
// runs ServeWorker with the real models; "abort", "hang" and "fatal" say
// ready, read one photo, then abort, hang, or report a dlib failure and
// exit, as a worker that dlib or OpenCV broke would.
const testWorkerModeEnv = "TRACKMATCH_TEST_FACE_WORKER"

func testWorkerMain(mode string) int {
	if mode == "serve" {
		if err := ServeWorker(context.Background(), os.Stdin, os.Stdout, WorkerConfig{ModelsDir: testModelsDir(), MemoryLimit: DefaultWorkerMemoryLimit}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	}
	w := bufio.NewWriter(os.Stdout)
	_ = writeFrame(w, workerResponse{Ready: true})
	_ = w.Flush()
	var req workerRequest
	if err := readFrame(bufio.NewReader(os.Stdin), &req); err != nil {
		return 1
	}
	switch mode {
	case "abort":
		_ = syscall.Kill(os.Getpid(), syscall.SIGABRT)
		time.Sleep(time.Minute)
	case "hang":
		time.Sleep(time.Hour)
	case "fatal":
		_ = writeFrame(w, workerResponse{Code: models.EUNREADABLE, Message: "dlib failed", Fatal: true})
		_ = w.Flush()
	}
	return 3
}

// testWorkerPool starts a pool of n test-binary workers; modes[i] is the
// mode of the i-th worker started (replacements included), "serve" after.
func testWorkerPool(t *testing.T, n int, timeout time.Duration, modes ...string) *WorkerPool {
	t.Helper()
	loadFixture(t) // skips when the models are absent
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	var started atomic.Int64
	p, err := NewWorkerPool(context.Background(), WorkerPoolConfig{
		Workers: n, Timeout: timeout,
		Command: func() *exec.Cmd {
			mode := "serve"
			if i := int(started.Add(1)) - 1; i < len(modes) {
				mode = modes[i]
			}
			cmd := exec.Command(exe, "-test.run=^$")
			cmd.Env = append(os.Environ(), testWorkerModeEnv+"="+mode)
			return cmd
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { p.Close() })
	return p
}

func TestWorkerPoolMatchesInProcess(t *testing.T) {
	f := loadFixture(t)
	data := readShared(t, "faces/amy/amy1.png")
	want, err := f.other.Analyze(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	p := testWorkerPool(t, 1, 0)
	got, err := p.Analyze(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Faces) != len(want.Faces) || got.Subject != want.Subject || got.Width != want.Width || got.Model != want.Model {
		t.Fatalf("worker: %d faces, subject %d, %d px wide, model %q; in process: %d, %d, %d, %q",
			len(got.Faces), got.Subject, got.Width, got.Model, len(want.Faces), want.Subject, want.Width, want.Model)
	}
	if d := got.SubjectFace().Descriptor.Distance(want.SubjectFace().Descriptor); d > 1e-5 {
		t.Errorf("descriptor from the worker is %g from the in-process one", d)
	}
	st := p.Stats()
	if st.Analyzed != 1 || st.Faces != int64(len(got.Faces)) || st.DetectorRuns[models.DetectorHOG] != 1 || st.CPUSeconds <= 0 {
		t.Errorf("stats %+v, want one photo analysed by one HOG run, with its CPU", st)
	}
}

// A worker that dies, hangs or reports a dlib failure fails only its own
// request, with the documented code, and is replaced.
func TestWorkerPoolReplacesBrokenWorkers(t *testing.T) {
	data := readShared(t, "faces/amy/amy1.png")
	cases := []struct {
		mode string
		want string
	}{
		{"abort", models.EUNREADABLE},
		{"fatal", models.EUNREADABLE},
		{"hang", models.EUNAVAILABLE},
	}
	for _, c := range cases {
		t.Run(c.mode, func(t *testing.T) {
			p := testWorkerPool(t, 1, 2*time.Second, c.mode)
			_, err := p.Analyze(context.Background(), data)
			wantCode(t, err, c.want)
			a, err := p.Analyze(context.Background(), data) // waits for the replacement
			if err != nil || !a.HasFace() {
				t.Fatalf("after the replacement: %v, %+v", err, a)
			}
			if n := p.Stats().WorkerRestarts; n != 1 {
				t.Errorf("%d restarts, want 1", n)
			}
		})
	}
}

func TestWorkerPoolCancelReplacesBusyWorker(t *testing.T) {
	p := testWorkerPool(t, 1, time.Minute, "hang")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := p.Analyze(ctx, readShared(t, "faces/amy/amy1.png"))
	wantCode(t, err, models.ECANCELED)
	if n := p.Stats().WorkerRestarts; n != 1 {
		t.Errorf("%d restarts, want 1", n)
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = p.Analyze(context.Background(), readShared(t, "faces/amy/amy1.png"))
	wantCode(t, err, models.EUNAVAILABLE)
}

// hostileImage is a blank w×h image with some texture, so that encoders do
// not collapse it.
func hostileImage(w, h int) image.Image {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x * 7), uint8(y * 3), uint8(x ^ y), 255})
		}
	}
	return img
}

// Every size that killed the server in process (1×1, 9×9, strips a detector
// step shrank under 10 px) is refused in Go or analysed safely by a worker,
// three times each, with no worker lost; a real photo still works after.
func TestWorkerPoolSurvivesTinyAndStripImages(t *testing.T) {
	p := testWorkerPool(t, 2, 0)
	type input struct {
		name string
		data []byte
	}
	var inputs []input
	add := func(w, h int) {
		img := hostileImage(w, h)
		inputs = append(inputs, input{fmt.Sprintf("%dx%d.jpg", w, h), encodeJPEG(t, img)}, input{fmt.Sprintf("%dx%d.png", w, h), encodePNG(t, img)})
	}
	for s := 1; s <= 64; s += 3 {
		add(s, s)
	}
	for _, w := range []int{1, 9, 10, 19, 20, 21, 40, 60, 90, 120} {
		add(w, 5000)
		add(5000, w)
	}
	add(90, 4270)
	for _, in := range inputs {
		for range 3 {
			a, err := p.Analyze(context.Background(), in.data)
			switch code := models.ErrorCode(err); {
			case err == nil:
				if a.HasFace() {
					t.Errorf("%s: a face in a blank image", in.name)
				}
			case code == models.ETOOSMALL:
			default:
				t.Fatalf("%s: %v (%s), want an analysis with no face or too_small", in.name, err, code)
			}
		}
	}
	if n := p.Stats().WorkerRestarts; n != 0 {
		t.Errorf("%d worker restarts, want none", n)
	}
	a, err := p.Analyze(context.Background(), readShared(t, "faces/amy/amy1.png"))
	if err != nil || !a.HasFace() {
		t.Fatalf("a real photo after the hostile ones: %v", err)
	}
}

// fuzzPool is one worker pool per fuzzing process.
var fuzzPool struct {
	once sync.Once
	p    *WorkerPool
	err  error
}

// workerSeeds are valid images of every kind the pipeline accepts: sizes 1
// to 64 px, aspect ratios up to 1:5000, 8- and 16-bit, palette, grey with
// alpha, progressive JPEG, EXIF orientations 1-8 and a malformed EXIF
// segment, lossy and lossless WebP, and an animated WebP header. CMYK
// JPEGs, which no encoder linked here writes, are seed files in
// testdata/fuzz/FuzzWorkerAnalyze (made with ImageMagick's convert
// -colorspace CMYK, plain and progressive).
func workerSeeds(t testing.TB) [][]byte {
	var seeds [][]byte
	for _, sz := range []image.Point{{1, 1}, {9, 9}, {20, 20}, {33, 47}, {64, 64}, {1, 5000}, {5000, 1}, {20, 4000}, {60, 5000}, {120, 5000}} {
		img := hostileImage(sz.X, sz.Y)
		seeds = append(seeds, encodeJPEG(t, img), encodePNG(t, img))
	}
	base := hostileImage(48, 40)
	grey16, pal, alpha := image.NewGray16(base.Bounds()), image.NewPaletted(base.Bounds(), palette.Plan9), image.NewNRGBA(base.Bounds())
	for y := range 40 {
		for x := range 48 {
			grey16.Set(x, y, base.At(x, y))
			pal.Set(x, y, base.At(x, y))
			alpha.Set(x, y, color.NRGBA{uint8(x * 5), uint8(x * 5), uint8(x * 5), uint8(y * 6)})
		}
	}
	seeds = append(seeds, encodePNG(t, grey16), encodePNG(t, pal), encodePNG(t, alpha))
	jpg := encodeJPEG(t, base)
	for o := uint16(1); o <= 8; o++ {
		seeds = append(seeds, withEXIFOrientation(jpg, o))
	}
	bad := withEXIFOrientation(jpg, 6)
	copy(bad[12:20], "II\x2a\x00\xff\xff\xff\x7f") // a TIFF header pointing far past the segment
	seeds = append(seeds, bad)
	mat, err := gocv.ImageToMatRGB(base)
	if err == nil {
		defer mat.Close()
		if buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, mat, []int{gocv.IMWriteJpegProgressive, 1}); err == nil {
			seeds = append(seeds, bytes.Clone(buf.GetBytes()))
			buf.Close()
		}
	}
	seeds = append(seeds, encodeWebP(t, base, 90), encodeWebP(t, base, 101), webpAnimatedSeed())
	return seeds
}

// webpAnimatedSeed is a small VP8X header with the animation flag set.
func webpAnimatedSeed() []byte {
	b := []byte("RIFF\x00\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00\x02\x00\x00\x00\x0f\x00\x00\x0f\x00\x00")
	binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8))
	return b
}

// FuzzWorkerAnalyze feeds arbitrary bytes through the whole analysis in a
// real face worker, dlib included: every input gets an analysis or a typed
// error, and no worker dies or fails in dlib or OpenCV (a restart is a
// finding: add the input to the seeds and fix it). Run it with
//
//	go test ./engine/face -run '^$' -fuzz FuzzWorkerAnalyze -fuzztime 10m -parallel 1
func FuzzWorkerAnalyze(f *testing.F) {
	for _, s := range workerSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fuzzPool.once.Do(func() {
			exe, err := os.Executable()
			if err != nil {
				fuzzPool.err = err
				return
			}
			if err := VerifyModels(testModelsDir()); err != nil {
				fuzzPool.err = err
				return
			}
			fuzzPool.p, fuzzPool.err = NewWorkerPool(context.Background(), WorkerPoolConfig{
				Workers: 1,
				Command: func() *exec.Cmd {
					cmd := exec.Command(exe, "-test.run=^$")
					cmd.Env = append(os.Environ(), testWorkerModeEnv+"=serve")
					return cmd
				},
			})
		})
		if fuzzPool.err != nil {
			t.Skipf("no face worker: %v", fuzzPool.err)
		}
		p := fuzzPool.p
		before := p.Stats().WorkerRestarts
		for _, in := range [][]byte{data, repairContainer(data)} {
			_, err := p.Analyze(context.Background(), in)
			if code := models.ErrorCode(err); err != nil && (code == models.EINTERNAL || code == models.EUNREADABLE || code == models.EUNAVAILABLE) {
				t.Fatalf("%s: %v", code, err)
			}
		}
		if n := p.Stats().WorkerRestarts; n != before {
			t.Fatalf("the face worker was replaced (%d restarts)", n-before)
		}
	})
}
