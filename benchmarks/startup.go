package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/trackmatch/trackmatch/engine/face"
	"github.com/trackmatch/trackmatch/models"
)

// Start-up and memory of the real server: `trackmatch serve` runs as a
// child process on a filled data folder and on an empty one (the baseline),
// timed from exec to /readyz 200, its memory read from /proc/PID/status.

// StartupConfig says which binary to start on which data folder.
type StartupConfig struct {
	// Binary is a built trackmatch binary (go build -o X ./cmd/trackmatch).
	Binary string
	// DataDir is a filled data folder (DataDir/badger, DataDir/bleve). It is
	// left as usable as it was: the server is stopped with SIGTERM.
	DataDir string
	// ModelsDir holds the dlib face models; "" = $TRACKMATCH_MODELS, else
	// face.DefaultModelsDir().
	ModelsDir string
	// Records and Photos are the children and face descriptors in DataDir,
	// for the per-record figure; 0 = as the server reports at start.
	Records, Photos int
	// Scale is the number of found records, for Figure.Scale.
	Scale int
	// RebuildAttributes also times a start that must rebuild the Bleve
	// index from Badger: DataDir/bleve is moved aside for it and put back.
	RebuildAttributes bool
	// Runs is how many timed starts of each folder, alternating, whose
	// medians are reported; 0 = 1.
	Runs int
	// Workers is serve's --workers (face recognizers); 0 = its default,
	// one per core.
	Workers int
	// Settle is how long the server idles after readiness before its
	// memory is read again; 0 = 3 s.
	Settle time.Duration
	Logger *slog.Logger
}

const (
	// rssPerRecordGoal is the goal for resident memory per record beyond
	// the face descriptors themselves, in bytes.
	rssPerRecordGoal = 2048
	// descriptorBytes is what one face descriptor takes in memory.
	descriptorBytes = 4 * models.DescriptorSize
	// startTimeout bounds one start-up, stopTimeout one SIGTERM.
	startTimeout = 30 * time.Minute
	stopTimeout  = 60 * time.Second
	// asideSuffix names the Bleve index moved aside for a rebuild; the
	// index's own ".rebuild" and ".old" leftovers are deleted at open.
	asideSuffix = ".startup-aside"
	// Messages of serve's JSON log that the measurement reads.
	logIndexesLoaded = "indexes loaded"
	logRebuilding    = "rebuilding attribute index from the store"
)

// memStatus is the resident memory of a process, in bytes.
type memStatus struct {
	RSS, Anon, File, HWM float64
}

// startup is what one start of the server measured.
type startup struct {
	Ready           time.Duration // exec to /readyz 200
	AtReady, Settle memStatus     // memory at readiness and after the settle
	Children, Faces int           // as the server logged them; -1 if absent
	Rebuilt         string        // why it rebuilt the attribute index; "" if it did not
}

// MeasureStartup starts the server on cfg.DataDir and on a new empty data
// folder, each once untimed (the page cache warm, the empty store created)
// and then cfg.Runs times alternating, and returns the start-up time and
// resident memory of the filled folder against the empty one (section
// "memory").
func MeasureStartup(ctx context.Context, cfg StartupConfig) ([]Figure, error) {
	cfg, err := startupDefaults(cfg)
	if err != nil {
		return nil, err
	}
	empty, err := os.MkdirTemp("", "trackmatch-startup-empty-")
	if err != nil {
		return nil, fmt.Errorf("empty data folder: %w", err)
	}
	defer os.RemoveAll(empty)

	for _, dir := range []string{empty, cfg.DataDir} {
		cfg.Logger.Info("warm-up start", "data", dir)
		if _, err := startServe(ctx, cfg, dir); err != nil {
			return nil, fmt.Errorf("warm-up start: %w", err)
		}
	}
	var emptyRuns, filledRuns []startup
	for i := range cfg.Runs {
		e, err := startServe(ctx, cfg, empty)
		if err != nil {
			return nil, fmt.Errorf("start on the empty data folder: %w", err)
		}
		f, err := startServe(ctx, cfg, cfg.DataDir)
		if err != nil {
			return nil, fmt.Errorf("start on %s: %w", cfg.DataDir, err)
		}
		if f.Rebuilt != "" {
			return nil, fmt.Errorf("start on %s rebuilt the attribute index after the warm-up (%s): not a normal start", cfg.DataDir, f.Rebuilt)
		}
		cfg.Logger.Info("start-up measured", "run", i+1, "empty_s", e.Ready.Seconds(), "filled_s", f.Ready.Seconds(),
			"empty_rss_mib", e.Settle.RSS/(1<<20), "filled_rss_mib", f.Settle.RSS/(1<<20))
		emptyRuns, filledRuns = append(emptyRuns, e), append(filledRuns, f)
	}
	e, f := medianStartup(emptyRuns), medianStartup(filledRuns)
	if cfg.Records == 0 {
		cfg.Records = f.Children
	}
	if cfg.Photos == 0 {
		cfg.Photos = f.Faces
	}
	if cfg.Records <= 0 {
		return nil, fmt.Errorf("%s holds no children (or the server did not say how many)", cfg.DataDir)
	}
	if f.Children != cfg.Records || f.Faces != cfg.Photos {
		cfg.Logger.Warn("the server loaded other counts than configured", "children", f.Children,
			"faces", f.Faces, "records", cfg.Records, "photos", cfg.Photos)
	}
	figs := startupFigures(cfg, e, f)
	if cfg.RebuildAttributes {
		r, err := startRebuilding(ctx, cfg)
		if err != nil {
			return nil, err
		}
		figs = append(figs, Figure{Section: "memory", Scale: cfg.Scale, Name: "start-up rebuilding the attribute index",
			Value: r.Ready.Seconds(), Unit: "s", Baseline: "normal start-up", BaselineValue: f.Ready.Seconds(),
			Note: fmt.Sprintf("Bleve index moved aside, rebuilt from Badger by the server (%s), then put back; one start", r.Rebuilt)})
	}
	return figs, nil
}

// startupDefaults fills cfg's defaults and checks the binary, the data
// folder and the face models.
func startupDefaults(cfg StartupConfig) (StartupConfig, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Runs = max(cfg.Runs, 1)
	if cfg.Settle == 0 {
		cfg.Settle = 3 * time.Second
	}
	cfg.ModelsDir = modelsDirOr(cfg.ModelsDir)
	if st, err := os.Stat(cfg.Binary); err != nil || st.IsDir() || st.Mode()&0o111 == 0 {
		return cfg, fmt.Errorf("trackmatch binary %q is not an executable file (build it with go build -o X ./cmd/trackmatch)", cfg.Binary)
	}
	if st, err := os.Stat(filepath.Join(cfg.DataDir, "badger")); err != nil || !st.IsDir() {
		return cfg, fmt.Errorf("%q is not a filled trackmatch data folder: no badger folder in it", cfg.DataDir)
	}
	if _, err := os.Stat(filepath.Join(cfg.DataDir, "bleve"+asideSuffix)); err == nil {
		return cfg, fmt.Errorf("%s is left from an interrupted start-up benchmark: the data folder works without it; delete it", filepath.Join(cfg.DataDir, "bleve"+asideSuffix))
	}
	if err := face.VerifyModels(cfg.ModelsDir); err != nil {
		return cfg, fmt.Errorf("the server needs the face models to start: %w", err)
	}
	return cfg, nil
}

// startRebuilding starts the server on cfg.DataDir with its Bleve index
// moved aside, so that it rebuilds it from the store, and puts the
// original back afterwards (the store's children have not changed, so it
// is still up to date).
func startRebuilding(ctx context.Context, cfg StartupConfig) (_ startup, err error) {
	live := filepath.Join(cfg.DataDir, "bleve")
	aside := live + asideSuffix
	if err := os.Rename(live, aside); err != nil {
		return startup{}, fmt.Errorf("move the attribute index aside: %w", err)
	}
	defer func() {
		rerr := os.RemoveAll(live)
		if rerr == nil {
			rerr = os.Rename(aside, live)
		}
		if rerr != nil {
			err = errors.Join(err, fmt.Errorf("put the attribute index back from %s: %w", aside, rerr))
		}
	}()
	r, err := startServe(ctx, cfg, cfg.DataDir)
	if err != nil {
		return r, fmt.Errorf("start rebuilding the attribute index: %w", err)
	}
	if r.Rebuilt == "" {
		return r, fmt.Errorf("the server started without its attribute index but did not log a rebuild")
	}
	return r, nil
}

// startupFigures compares the filled folder's start f with the empty
// folder's e.
func startupFigures(cfg StartupConfig, e, f startup) []Figure {
	const mib = 1 << 20
	workers := "one per core"
	if cfg.Workers > 0 {
		workers = strconv.Itoa(cfg.Workers)
	}
	base := "empty data folder"
	fig := func(name string, value, baseline float64, unit, note string) Figure {
		return Figure{Section: "memory", Scale: cfg.Scale, Name: name, Value: value, Unit: unit,
			Baseline: base, BaselineValue: baseline, Note: note}
	}
	settled := fmt.Sprintf("%s after /readyz 200", cfg.Settle)
	descMiB := float64(descriptorBytes*cfg.Photos) / mib
	perRecord := (f.Settle.RSS - e.Settle.RSS - float64(descriptorBytes*cfg.Photos)) / float64(cfg.Records)
	anonPerRecord := (f.Settle.Anon - e.Settle.Anon - float64(descriptorBytes*cfg.Photos)) / float64(cfg.Records)
	goal := "goal met"
	if perRecord > rssPerRecordGoal {
		goal = "goal missed"
	}
	figs := []Figure{
		fig("start-up to ready", f.Ready.Seconds(), e.Ready.Seconds(), "s",
			fmt.Sprintf("exec to /readyz 200 with %d records and %d face descriptors; page cache warm; %s; face recognizers: %s",
				cfg.Records, cfg.Photos, runsLabel(cfg.Runs), workers)),
		fig("resident memory (RSS)", f.Settle.RSS/mib, e.Settle.RSS/mib, "MiB",
			fmt.Sprintf("%s; at readiness %.0f MiB (empty %.0f MiB); the descriptors themselves are %.1f MiB",
				settled, f.AtReady.RSS/mib, e.AtReady.RSS/mib, descMiB)),
		fig("anonymous resident memory (RssAnon)", f.Settle.Anon/mib, e.Settle.Anon/mib, "MiB",
			settled+"; the Go heap, the dlib models and the in-memory indexes: what the process really holds"),
		fig("file-backed resident memory (RssFile)", f.Settle.File/mib, e.Settle.File/mib, "MiB",
			settled+"; mmapped files (the binary and its libraries, Bleve's scorch segments, Badger's tables and value log): counted in RSS, but clean pages the kernel reclaims under memory pressure"),
		fig("peak resident memory (VmHWM)", f.Settle.HWM/mib, e.Settle.HWM/mib, "MiB", "highest RSS from exec to the end of the settle"),
	}
	figs = append(figs, Figure{Section: "memory", Scale: cfg.Scale, Name: "RSS per record beyond descriptors",
		Value: perRecord, Unit: "B/record", Baseline: fmt.Sprintf("goal %d B/record", rssPerRecordGoal), BaselineValue: rssPerRecordGoal,
		Note: fmt.Sprintf("%s; (RSS − empty folder's RSS − %d B × %d descriptors) ÷ %d records; anonymous memory alone: %.0f B/record",
			goal, descriptorBytes, cfg.Photos, cfg.Records, anonPerRecord)})
	return figs
}

// runsLabel says how many starts a figure is the median of.
func runsLabel(n int) string {
	if n == 1 {
		return "one start"
	}
	return fmt.Sprintf("median of %d starts", n)
}

// startServe starts `trackmatch serve` on dataDir and a free loopback
// port, waits for /readyz 200, reads its memory at once and after
// cfg.Settle (having served one cheap request), and stops it with SIGTERM.
func startServe(ctx context.Context, cfg StartupConfig, dataDir string) (startup, error) {
	addr, err := freeLoopback()
	if err != nil {
		return startup{}, err
	}
	args := []string{"serve", "--addr", addr, "--data", dataDir, "--models", cfg.ModelsDir}
	if cfg.Workers > 0 {
		args = append(args, "--workers", strconv.Itoa(cfg.Workers))
	}
	key := make([]byte, 16)
	if _, err := rand.Read(key); err != nil {
		return startup{}, err
	}
	cmd := exec.CommandContext(ctx, cfg.Binary, args...)
	// An API key in the environment: serve neither generates one nor
	// writes it into the data folder.
	cmd.Env = append(os.Environ(), "TRACKMATCH_API_KEYS=admin:"+hex.EncodeToString(key))
	if os.Getenv("OPENBLAS_NUM_THREADS") == "" {
		cmd.Env = append(cmd.Env, "OPENBLAS_NUM_THREADS=1")
	}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) } // a clean stop keeps the data folder in date
	cmd.WaitDelay = stopTimeout
	var logs bytes.Buffer // written by exec's copying goroutine; read only after Wait
	cmd.Stderr = &logs

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return startup{}, fmt.Errorf("start %s: %w", cfg.Binary, err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	exited := false
	// stop sends SIGTERM and waits for the server to exit, killing it
	// after stopTimeout (which leaves its attribute index to be rebuilt at
	// the next start).
	stop := func() error {
		if exited {
			return nil
		}
		exited = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("server did not stop cleanly on SIGTERM: %w", err)
			}
			return nil
		case <-time.After(stopTimeout):
			_ = cmd.Process.Kill()
			<-done
			return fmt.Errorf("server did not stop within %s of SIGTERM and was killed", stopTimeout)
		}
	}
	fail := func(err error) (startup, error) {
		err = errors.Join(err, stop())
		return startup{}, fmt.Errorf("%w\nserver log:\n%s", err, tail(logs.Bytes(), 4000))
	}

	url := "http://" + addr
	client := &http.Client{Timeout: 5 * time.Second}
	var s startup
	if err := waitReady(ctx, client, url, done); err != nil {
		exited = errors.Is(err, errExited)
		return fail(err)
	}
	s.Ready = time.Since(start)
	pid := cmd.Process.Pid
	if s.AtReady, err = readMem(pid); err != nil {
		return fail(err)
	}
	if err := get(ctx, client, url+"/metrics"); err != nil {
		return fail(err)
	}
	select {
	case <-ctx.Done():
		return fail(ctx.Err())
	case err := <-done:
		exited = true
		return fail(fmt.Errorf("server exited after readiness: %v", err))
	case <-time.After(cfg.Settle):
	}
	if s.Settle, err = readMem(pid); err != nil {
		return fail(err)
	}
	if err := stop(); err != nil {
		return fail(err)
	}
	s.Children, s.Faces, s.Rebuilt = parseServeLog(logs.Bytes())
	return s, nil
}

// errExited is waitReady's error when the server exits before it is ready.
var errExited = errors.New("server exited during start-up")

// waitReady polls url/readyz until it answers 200, the server exits (done)
// or startTimeout passes.
func waitReady(ctx context.Context, client *http.Client, url string, done <-chan error) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		if get(ctx, client, url+"/readyz") == nil {
			return nil
		}
		select {
		case err := <-done:
			return fmt.Errorf("%w: %v", errExited, err)
		case <-ctx.Done():
			return fmt.Errorf("server not ready: %w", ctx.Err())
		case <-tick.C:
		}
	}
}

// get sends a GET and wants 200.
func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return nil
}

// freeLoopback returns a loopback address with a port nobody listens on now.
func freeLoopback() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// readMem reads the resident memory of process pid from /proc.
func readMem(pid int) (memStatus, error) {
	file := fmt.Sprintf("/proc/%d/status", pid)
	m := memStatus{RSS: kiB(file, "VmRSS"), Anon: kiB(file, "RssAnon"), File: kiB(file, "RssFile"), HWM: kiB(file, "VmHWM")}
	if m.RSS == 0 {
		return m, fmt.Errorf("no VmRSS in %s: the server is gone, or this is not Linux", file)
	}
	return m, nil
}

// kiB is a kB field of a /proc status file, in bytes.
func kiB(file, name string) float64 { return float64(procField(file, name)) * 1024 }

// parseServeLog reads serve's JSON log for the children and faces it
// loaded (-1 when absent) and why it rebuilt the attribute index.
func parseServeLog(b []byte) (children, faces int, rebuilt string) {
	children, faces = -1, -1
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var line struct {
			Msg      string `json:"msg"`
			Reason   string `json:"reason"`
			Children *int   `json:"children"`
			Faces    *int   `json:"faces"`
		}
		if json.Unmarshal(sc.Bytes(), &line) != nil {
			continue
		}
		switch line.Msg {
		case logIndexesLoaded:
			if line.Children != nil && line.Faces != nil {
				children, faces = *line.Children, *line.Faces
			}
		case logRebuilding:
			rebuilt = line.Reason
			if rebuilt == "" {
				rebuilt = "no reason logged"
			}
		}
	}
	return children, faces, rebuilt
}

// medianStartup is the median of each measured quantity over runs (which
// is not empty); counts and the rebuild reason come from the first run.
func medianStartup(runs []startup) startup {
	s := runs[0]
	s.Ready = time.Duration(median(runs, func(r startup) float64 { return float64(r.Ready) }))
	s.AtReady = medianMem(runs, func(r startup) memStatus { return r.AtReady })
	s.Settle = medianMem(runs, func(r startup) memStatus { return r.Settle })
	return s
}

// medianMem is the median of each field of m over runs.
func medianMem(runs []startup, m func(startup) memStatus) memStatus {
	return memStatus{
		RSS:  median(runs, func(r startup) float64 { return m(r).RSS }),
		Anon: median(runs, func(r startup) float64 { return m(r).Anon }),
		File: median(runs, func(r startup) float64 { return m(r).File }),
		HWM:  median(runs, func(r startup) float64 { return m(r).HWM }),
	}
}

// median is the median of f over xs (which is not empty).
func median[T any](xs []T, f func(T) float64) float64 {
	vs := make([]float64, len(xs))
	for i, x := range xs {
		vs[i] = f(x)
	}
	slices.Sort(vs)
	n := len(vs)
	if n%2 == 0 {
		return (vs[n/2-1] + vs[n/2]) / 2
	}
	return vs[n/2]
}

// tail is the last n bytes of b.
func tail(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}
