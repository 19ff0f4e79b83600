package benchmarks

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"syscall"
	"time"

	"github.com/trackmatch/trackmatch/engine/face"
	"github.com/trackmatch/trackmatch/models"
)

// BulkImportConfig configures MeasureBulkImport.
type BulkImportConfig struct {
	PhotosDir string // photos and their MANIFEST.csv, e.g. ../shared/faces
	ModelsDir string // face models; "" = $TRACKMATCH_MODELS or the default
	Binary    string // a built trackmatch binary (serve, import and face-worker)
	Workers   int    // face worker processes; runtime.NumCPU()
	Records   int    // records imported, each with one photo (10,000 for the figure)
	Dir       string // scratch folder for the data folder and the import file
	Logger    *slog.Logger
}

// MeasureBulkImport imports Records records, each with one of the shared
// photos (cycled), end to end: `trackmatch import FILE.jsonl --photos DIR
// --url` against `trackmatch serve` on loopback, a fresh data folder, the
// server's face workers doing the analysis. The ceiling is the face
// workers alone (face.WorkerPool over the same binary, two photos in flight
// per worker) on the same photos, measured before and after the import in
// the same run. CPU is the processes' own (getrusage of the waited-for
// children: server, its workers, the import command; and of this process),
// so that another load on the machine changes rates but not photos per
// CPU-second.
func MeasureBulkImport(ctx context.Context, cfg BulkImportConfig) ([]Figure, error) {
	cfg.ModelsDir = modelsDirOr(cfg.ModelsDir)
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	set, err := readEnrolPhotos(cfg.PhotosDir)
	if err != nil {
		return nil, err
	}
	var paths []string
	var photos [][]byte
	for _, p := range set {
		if _, err := face.CheckPhoto(p.data, face.PhotoLimits{}); err == nil {
			rel, _ := filepath.Rel(cfg.PhotosDir, p.path)
			paths, photos = append(paths, rel), append(photos, p.data)
		}
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("bulk import: no photos in %s", cfg.PhotosDir)
	}
	cycled := make([][]byte, cfg.Records)
	for i := range cycled {
		cycled[i] = photos[i%len(photos)]
	}
	file := filepath.Join(cfg.Dir, "import.jsonl")
	if err := writeImportFile(file, paths, cfg.Records); err != nil {
		return nil, err
	}

	before, err := measureCeiling(ctx, cfg, cycled)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("bulk import: face workers alone", "photos", len(cycled), "seconds", before.wall.Seconds())
	e2e, sum, err := measureImportRun(ctx, cfg, file)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("bulk import: end to end", "records", cfg.Records, "seconds", e2e.wall.Seconds())
	after, err := measureCeiling(ctx, cfg, cycled)
	if err != nil {
		return nil, err
	}
	cfg.Logger.Info("bulk import: face workers alone", "photos", len(cycled), "seconds", after.wall.Seconds())

	n := float64(cfg.Records)
	ceilWall := (before.wall + after.wall).Seconds() / 2
	ceilCPU := (before.cpu + after.cpu).Seconds() / 2
	note := fmt.Sprintf("%d records, one photo each (%d shared photos cycled), %d face workers; %d created, %d photos stored, %d refused for no face; ceiling %.2f photos/s before, %.2f after",
		cfg.Records, len(paths), cfg.Workers, sum.Created, sum.PhotosCreated, sum.PhotosRefused,
		n/before.wall.Seconds(), n/after.wall.Seconds())
	return []Figure{
		{Section: "enrolment", Name: "bulk import end to end, records/s", Value: n / e2e.wall.Seconds(), Unit: "records/s",
			Baseline: "face workers alone, photos/s", BaselineValue: n / ceilWall, Note: note},
		{Section: "enrolment", Name: "bulk import end to end, photos/s", Value: n / e2e.wall.Seconds(), Unit: "photos/s",
			Baseline: "face workers alone, photos/s", BaselineValue: n / ceilWall, Note: "goal ≥90%"},
		{Section: "enrolment", Name: "bulk import end to end, photos per CPU-second", Value: n / e2e.cpu.Seconds(), Unit: "photos/CPU-s",
			Baseline: "face workers alone, photos per CPU-second", BaselineValue: n / ceilCPU,
			Note: fmt.Sprintf("goal ≥90%%; CPU: server, its workers and the import command %.0f s; workers alone %.0f s", e2e.cpu.Seconds(), ceilCPU)},
	}, nil
}

// runCost is a measured run's wall time and CPU time.
type runCost struct{ wall, cpu time.Duration }

// treeCPUTime is this process's CPU time plus that of its waited-for children.
func treeCPUTime() time.Duration {
	var total time.Duration
	for _, who := range []int{syscall.RUSAGE_SELF, syscall.RUSAGE_CHILDREN} {
		var ru syscall.Rusage
		if syscall.Getrusage(who, &ru) == nil {
			total += time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
		}
	}
	return total
}

// measureCeiling analyses photos with the face workers alone, two in
// flight per worker, and closes the pool so its CPU is counted.
func measureCeiling(ctx context.Context, cfg BulkImportConfig, photos [][]byte) (runCost, error) {
	cpu0, start := treeCPUTime(), time.Now()
	pool, err := face.NewWorkerPool(ctx, face.WorkerPoolConfig{
		Workers: cfg.Workers,
		Command: func() *exec.Cmd {
			return exec.Command(cfg.Binary, "face-worker", "--models", cfg.ModelsDir)
		},
		Logger: cfg.Logger,
	})
	if err != nil {
		return runCost{}, fmt.Errorf("start face workers: %w", err)
	}
	err = forEachParallel(ctx, len(photos), 2*cfg.Workers, func(ctx context.Context, i int) error {
		_, err := pool.Analyze(ctx, photos[i])
		if models.ErrorCode(err) == models.ENOFACE {
			return nil
		}
		return err
	})
	pool.Close()
	if err != nil {
		return runCost{}, err
	}
	return runCost{wall: time.Since(start), cpu: treeCPUTime() - cpu0}, nil
}

// measureImportRun starts the server on a fresh data folder, runs the
// import command against it and stops the server. Its wall time runs from
// the server's start to the import's end (start-up included, as a portal
// would see it).
func measureImportRun(ctx context.Context, cfg BulkImportConfig, file string) (runCost, models.ImportSummary, error) {
	var sum models.ImportSummary
	data := filepath.Join(cfg.Dir, "data")
	if err := os.RemoveAll(data); err != nil {
		return runCost{}, sum, err
	}
	addr, err := freeLoopback()
	if err != nil {
		return runCost{}, sum, err
	}
	const key = "bench-import-key-0123456789"
	cpu0, start := treeCPUTime(), time.Now()
	srv := exec.CommandContext(ctx, cfg.Binary, "serve", "--addr", addr, "--data", data, "--models", cfg.ModelsDir,
		"--workers", fmt.Sprint(cfg.Workers))
	srv.Env = append(os.Environ(), "TRACKMATCH_API_KEYS=portal:"+key)
	if err := srv.Start(); err != nil {
		return runCost{}, sum, err
	}
	stop := func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			stop()
			return runCost{}, sum, fmt.Errorf("bulk import: the server was not ready in 3 minutes")
		}
	}
	imp := exec.CommandContext(ctx, cfg.Binary, "import", file, "--photos", cfg.PhotosDir, "--url", "http://"+addr, "--quiet")
	imp.Env = append(os.Environ(), "TRACKMATCH_API_KEY="+key)
	out, err := imp.Output()
	wall := time.Since(start)
	stop()
	cost := runCost{wall: wall, cpu: treeCPUTime() - cpu0}
	if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
		return cost, sum, fmt.Errorf("bulk import: import command: %v: %s", err, ee.Stderr)
	}
	if _, err := fmt.Sscanf(lastLine(string(out)), "rows: %d; created %d, unchanged %d, updated %d, refused %d; photos: created %d, unchanged %d, refused %d",
		new(int), &sum.Created, &sum.Unchanged, &sum.Updated, &sum.Refused, &sum.PhotosCreated, &sum.PhotosExisting, &sum.PhotosRefused); err != nil {
		return cost, sum, fmt.Errorf("bulk import: the command's summary %q: %w", lastLine(string(out)), err)
	}
	return cost, sum, nil
}

// writeImportFile writes n found records, record i with photo i mod len(paths).
func writeImportFile(path string, photos []string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for i := range n {
		b, err := json.Marshal(map[string]any{"kind": "found", "external_ref": fmt.Sprintf("BENCH-%06d", i),
			"sex": "unknown", "observed_on": "2024-01-01", "photos": []string{photos[i%len(photos)]}})
		if err != nil {
			return err
		}
		w.Write(b)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func lastLine(s string) string {
	for len(s) > 0 && s[len(s)-1] == '\n' {
		s = s[:len(s)-1]
	}
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == '\n' {
			return s[i+1:]
		}
	}
	return s
}
