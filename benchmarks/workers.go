package benchmarks

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"time"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/engine/face"
	"github.com/trackmatch/trackmatch/models"
)

// FaceWorkersConfig configures MeasureFaceWorkers.
type FaceWorkersConfig struct {
	PhotosDir string // photos and their MANIFEST.csv, e.g. ../shared/faces
	ModelsDir string // dlib's models; "" = $TRACKMATCH_MODELS or the default
	Binary    string // a built trackmatch binary, whose face-worker mode the pool starts
	Workers   int    // recognizers in process and worker processes; runtime.NumCPU()
	Rounds    int    // interleaved rounds of each variant (3)
	Photos    int    // photos per round, cycling through the set; 0 = every photo once
	Logger    *slog.Logger
}

// MeasureFaceWorkers measures what running dlib and OpenCV in worker
// processes costs against running them in the server's process: the same
// photos analysed by face.WorkerPool and by face.Pipeline over a
// DlibEmbedder, with as many workers as recognizers. Rounds alternate
// between the two so that a change in the machine's load falls on both.
// Figures: photos/s with every worker busy (2 photos in flight per
// worker), and the latency of one photo at a time (p50), which is what a
// photo search waits for before its index lookups.
func MeasureFaceWorkers(ctx context.Context, cfg FaceWorkersConfig) ([]Figure, error) {
	cfg.ModelsDir = modelsDirOr(cfg.ModelsDir)
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Rounds <= 0 {
		cfg.Rounds = 3
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	photos, err := readPhotoSet(cfg.PhotosDir, cfg.Photos)
	if err != nil {
		return nil, err
	}
	emb, err := face.NewDlibEmbedder(cfg.ModelsDir, cfg.Workers)
	if err != nil {
		return nil, err
	}
	defer emb.Close()
	inProcess, err := face.NewPipeline(emb, face.PipelineConfig{Concurrency: cfg.Workers})
	if err != nil {
		return nil, err
	}
	pool, err := face.NewWorkerPool(ctx, face.WorkerPoolConfig{
		Workers: cfg.Workers,
		Command: func() *exec.Cmd {
			return exec.Command(cfg.Binary, "face-worker", "--models", cfg.ModelsDir)
		},
		Logger: cfg.Logger,
	})
	if err != nil {
		return nil, fmt.Errorf("start face workers: %w", err)
	}
	defer pool.Close()

	variants := []struct {
		name string
		a    engine.PhotoAnalyzer
	}{{"in process", inProcess}, {"workers", pool}}
	// Warm both (models paged in, caches filled), untimed.
	for _, v := range variants {
		if _, err := analyzeAll(ctx, v.a, photos[:min(len(photos), 2*cfg.Workers)], cfg.Workers); err != nil {
			return nil, err
		}
	}
	var wall [2]time.Duration
	var lat [2][]time.Duration
	for round := range cfg.Rounds {
		for _, i := range [][]int{{0, 1}, {1, 0}}[round%2] { // alternate which goes first
			if err := measureVariant(ctx, variants[i].a, photos, cfg.Workers, &wall[i], &lat[i]); err != nil {
				return nil, err
			}
		}
		cfg.Logger.Info("face workers round", "round", round+1, "of", cfg.Rounds)
	}
	n := float64(len(photos) * cfg.Rounds)
	rate := func(i int) float64 { return n / wall[i].Seconds() }
	p50 := func(i int) float64 {
		slices.Sort(lat[i])
		return float64(lat[i][len(lat[i])/2].Microseconds()) / 1000
	}
	restarts := pool.Stats().WorkerRestarts
	note := fmt.Sprintf("%d photos × %d interleaved rounds, %d workers; %d worker restarts", len(photos), cfg.Rounds, cfg.Workers, restarts)
	return []Figure{
		{Section: "enrolment", Name: "face analysis through workers", Value: rate(1), Unit: "photos/s",
			Baseline: "in process (the pipeline over a dlib recognizer pool)", BaselineValue: rate(0), Note: note + "; goal: cost under 5%"},
		{Section: "enrolment", Name: "one photo's analysis through a worker, p50", Value: p50(1), Unit: "ms",
			Baseline: "in process", BaselineValue: p50(0), Note: "what a photo search waits for before its index lookups"},
	}, nil
}

// measureVariant times one pass over photos with every worker busy, adding
// its wall time to wall, then analyses a slice of them one at a time,
// adding each latency to lat.
func measureVariant(ctx context.Context, a engine.PhotoAnalyzer, photos [][]byte, workers int, wall *time.Duration, lat *[]time.Duration) error {
	d, err := analyzeAll(ctx, a, photos, workers)
	if err != nil {
		return err
	}
	*wall += d
	for _, p := range photos[:min(len(photos), 30)] {
		start := time.Now()
		if _, err := a.Analyze(ctx, p); err != nil && models.ErrorCode(err) != models.ENOFACE {
			return err
		}
		*lat = append(*lat, time.Since(start))
	}
	return nil
}

// analyzeAll analyses photos with 2×workers in flight and returns the wall
// time. A photo refused other than for showing no face is an error.
func analyzeAll(ctx context.Context, a engine.PhotoAnalyzer, photos [][]byte, workers int) (time.Duration, error) {
	start := time.Now()
	err := forEachParallel(ctx, len(photos), 2*workers, func(ctx context.Context, i int) error {
		_, err := a.Analyze(ctx, photos[i])
		return err
	})
	if err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// readPhotoSet reads the people's photos listed in dir/MANIFEST.csv
// (readEnrolPhotos) that the service accepts, n of them cycling through the
// set, or every one once for n = 0.
func readPhotoSet(dir string, n int) ([][]byte, error) {
	set, err := readEnrolPhotos(dir)
	if err != nil {
		return nil, err
	}
	var photos [][]byte
	for _, p := range set {
		if _, err := face.CheckPhoto(p.data, face.PhotoLimits{}); err != nil {
			continue // not a photo the service accepts
		}
		photos = append(photos, p.data)
	}
	if len(photos) == 0 {
		return nil, fmt.Errorf("no photos in %s", dir)
	}
	if n > 0 {
		out := make([][]byte, n)
		for i := range out {
			out[i] = photos[i%len(photos)]
		}
		photos = out
	}
	return photos, nil
}

// modelsDirOr is the face model folder a measurement uses: dir when set,
// else $TRACKMATCH_MODELS, else face.DefaultModelsDir(), as the binary's
// --models flag defaults.
func modelsDirOr(dir string) string {
	if dir != "" {
		return dir
	}
	if env := os.Getenv("TRACKMATCH_MODELS"); env != "" {
		return env
	}
	return face.DefaultModelsDir()
}
