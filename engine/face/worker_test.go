package face

import (
	"bufio"
	"context"
	"fmt"
	"image"
	"image/color"
	"os"
	"os/exec"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models"
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
