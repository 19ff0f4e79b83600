package face

import (
	"context"
	"image"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/trackmatch/trackmatch/models"
)

func TestNewDlibEmbedderRefusesMissingModels(t *testing.T) {
	_, err := NewDlibEmbedder(t.TempDir(), 1)
	if err == nil || !strings.Contains(err.Error(), ModelFixHint) {
		t.Fatalf("err = %v, want one naming the fix", err)
	}
}

func TestDlibEmbedderWaitsAndCloses(t *testing.T) {
	loadFixture(t) // skips when the models are absent
	e, err := NewDlibEmbedder(testModelsDir(), 1)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	blank, err := encodeScaled(mustMat(t, encodeJPEG(t, image.NewGray(image.Rect(0, 0, 64, 64)))), image.Pt(64, 64))
	if err != nil {
		t.Fatal(err)
	}
	if faces, err := e.Embed(context.Background(), blank, models.DetectorHOG); err != nil || len(faces) != 0 {
		t.Fatalf("blank image: %d faces, %v", len(faces), err)
	}
	if _, err := e.Embed(context.Background(), blank, "sift"); err == nil {
		t.Error("unknown detector accepted")
	}

	// With the only recognizer taken, Embed waits until its context ends.
	rec := <-e.pool
	ctx, cancel := context.WithCancel(context.Background())
	waiting := make(chan error, 1)
	go func() {
		_, err := e.Embed(ctx, blank, models.DetectorHOG)
		waiting <- err
	}()
	cancel()
	wantCode(t, <-waiting, models.ECANCELED)
	e.pool <- rec

	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = e.Embed(context.Background(), blank, models.DetectorHOG)
	wantCode(t, err, models.EUNAVAILABLE)
	if err := e.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

// mustMat decodes data, closing the Mat when the test ends.
func mustMat(t *testing.T, data []byte) gocv.Mat {
	t.Helper()
	p, err := decodePhoto(data, PhotoLimits{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p.mat
}

// BenchmarkEmbedderPool compares pipelines over a dlib pool of one
// recognizer and of one per core, on the same real photos in the same run,
// and reports both throughputs and their ratio:
//
//	OPENBLAS_NUM_THREADS=1 go test ./engine -run '^$' -bench EmbedderPool -benchtime 2x
func BenchmarkEmbedderPool(b *testing.B) {
	loadFixture(b) // skips when the models are absent
	_, rows := readManifest(b)
	var photos [][]byte
	for _, r := range rows {
		if r.source == "ageitgey/face_recognition" && !strings.HasPrefix(r.identity, "_") {
			data, err := os.ReadFile(r.path)
			if err != nil {
				b.Fatal(err)
			}
			photos = append(photos, data)
		}
	}
	n := runtime.NumCPU()
	run := func(size int) float64 {
		e, err := NewDlibEmbedder(testModelsDir(), size)
		if err != nil {
			b.Fatal(err)
		}
		defer e.Close()
		p, err := NewPipeline(e, PipelineConfig{Concurrency: size})
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		var next atomic.Int64
		var wg sync.WaitGroup
		for range n { // as many callers as cores, whatever the pool
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)) - 1; i < len(photos); i = int(next.Add(1)) - 1 {
					if _, err := p.Analyze(context.Background(), photos[i]); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		return float64(len(photos)) / time.Since(start).Seconds()
	}
	var one, all float64
	b.ResetTimer()
	for range b.N {
		one += run(1)
		all += run(n)
	}
	b.ReportMetric(one/float64(b.N), "photos/s-pool1")
	b.ReportMetric(all/float64(b.N), "photos/s-poolNumCPU")
	b.ReportMetric(all/one, "speedup")
	b.ReportMetric(float64(n), "NumCPU")
}
