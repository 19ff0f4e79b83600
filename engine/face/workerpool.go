package face

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// WorkerPoolConfig configures a WorkerPool; zero fields take defaults.
type WorkerPoolConfig struct {
	// Command returns an unstarted command that runs one face worker
	// (ServeWorker on its stdin and stdout). Required.
	Command func() *exec.Cmd
	Workers int         // worker processes, the most photos analysed at once; runtime.NumCPU()
	Limits  PhotoLimits // checked in the server before a worker sees the photo
	// Timeout bounds one photo's analysis in a worker, in wall time
	// (DefaultWorkerTimeout); a worker past it is killed and replaced.
	Timeout time.Duration
	// StartTimeout bounds a worker's start, models loaded (2 minutes).
	StartTimeout time.Duration
	Logger       *slog.Logger
}

// DefaultWorkerTimeout is how long a worker may spend on one photo. The CPU
// budget stops the cascade after about 3 s of CPU plus one step; this
// leaves room for a loaded machine before a worker is judged stuck.
const DefaultWorkerTimeout = 60 * time.Second

// WorkerPool analyses photos in worker processes, so that dlib or OpenCV
// failing on a photo fails only that photo's request: the worker dies or
// exits, the request gets EUNREADABLE (or EUNAVAILABLE when the worker ran
// past its time), and a replacement starts. It implements what the engine
// calls a PhotoAnalyzer; safe for concurrent use.
type WorkerPool struct {
	cfg    WorkerPoolConfig
	log    *slog.Logger
	idle   chan *worker // workers ready for a photo
	stats  statsCounter
	steps  []DetectStep
	mu     sync.Mutex
	all    map[*worker]bool // every live worker, for Close
	closed chan struct{}
	once   sync.Once
	wg     sync.WaitGroup // replacements being started
}

// worker is one running worker process.
type worker struct {
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Reader
	done  chan struct{} // closed when the process has exited
	state string        // how it exited, once done
}

// NewWorkerPool starts cfg.Workers workers and waits until each has loaded
// its models; it fails when one cannot start.
func NewWorkerPool(ctx context.Context, cfg WorkerPoolConfig) (*WorkerPool, error) {
	if cfg.Command == nil {
		return nil, errors.New("face worker pool: no worker command")
	}
	if cfg.Workers <= 0 {
		cfg.Workers = runtime.NumCPU()
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultWorkerTimeout
	}
	if cfg.StartTimeout <= 0 {
		cfg.StartTimeout = 2 * time.Minute
	}
	cfg.Limits = cfg.Limits.withDefaults()
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &WorkerPool{
		cfg: cfg, log: cfg.Logger, idle: make(chan *worker, cfg.Workers),
		steps: DefaultDetectSteps(), all: map[*worker]bool{}, closed: make(chan struct{}),
	}
	errs := make([]error, cfg.Workers)
	var wg sync.WaitGroup
	for i := range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w, err := p.start(ctx)
			if err != nil {
				errs[i] = err
				return
			}
			p.idle <- w
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// start runs one worker and waits for its ready frame.
func (p *WorkerPool) start(ctx context.Context) (*worker, error) {
	cmd := p.cfg.Command()
	// A worker must not outlive the server, and BLAS threads would only
	// contend with the other workers.
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	cmd.Env = append(cmd.Environ(), "OPENBLAS_NUM_THREADS=1", "OMP_NUM_THREADS=1")
	stderr := &tailWriter{max: 1024}
	cmd.Stderr = stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("face worker: %w", err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("face worker: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start face worker: %w", err)
	}
	w := &worker{cmd: cmd, in: in, out: bufio.NewReaderSize(outPipe, 64<<10), done: make(chan struct{})}
	go func() {
		err := cmd.Wait()
		w.state = exitState(err, stderr.String())
		close(w.done)
	}()
	p.mu.Lock()
	p.all[w] = true
	p.mu.Unlock()

	ready := make(chan error, 1)
	go func() {
		var resp workerResponse
		if err := readFrame(w.out, &resp); err != nil {
			ready <- fmt.Errorf("face worker did not start: %w", err)
			return
		}
		if !resp.Ready {
			ready <- fmt.Errorf("face worker did not start: %s", resp.Message)
			return
		}
		ready <- nil
	}()
	timer := time.NewTimer(p.cfg.StartTimeout)
	defer timer.Stop()
	select {
	case err = <-ready:
	case <-timer.C:
		err = fmt.Errorf("face worker did not start within %s", p.cfg.StartTimeout)
	case <-ctx.Done():
		err = fmt.Errorf("face worker start: %w", context.Cause(ctx))
	}
	if err != nil {
		p.kill(w)
		<-w.done
		return nil, fmt.Errorf("%w (%s)", err, w.state)
	}
	return w, nil
}

// kill ends w's process and forgets it.
func (p *WorkerPool) kill(w *worker) {
	_ = w.cmd.Process.Kill()
	_ = w.in.Close()
	p.mu.Lock()
	delete(p.all, w)
	p.mu.Unlock()
}

// replace kills w and starts a worker in its place in the background; the
// pool runs one short until it is ready.
func (p *WorkerPool) replace(w *worker, why string) {
	p.kill(w)
	p.stats.restarted()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		<-w.done
		p.log.Warn("face worker replaced", "reason", why, "exit", w.state)
		for attempt := 0; ; attempt++ {
			select {
			case <-p.closed:
				return
			default:
			}
			nw, err := p.start(context.Background())
			if err == nil {
				select {
				case <-p.closed:
					p.kill(nw)
				default:
					p.idle <- nw
				}
				return
			}
			p.log.Error("face worker failed to start; retrying", "err", err, "attempt", attempt+1)
			select {
			case <-p.closed:
				return
			case <-time.After(min(time.Duration(attempt+1)*time.Second, 30*time.Second)):
			}
		}
	}()
}

// Analyze checks data in Go, then has a worker analyse it. Errors are
// *models.Error: CheckPhoto's, the worker's (ECORRUPT, ...), EUNREADABLE
// when the photo broke the worker, EUNAVAILABLE when the worker ran past
// its time or the pool is closed, ECANCELED when ctx ends first.
func (p *WorkerPool) Analyze(ctx context.Context, data []byte) (*models.PhotoAnalysis, error) {
	if _, err := CheckPhoto(data, p.cfg.Limits); err != nil {
		return nil, err
	}
	resp, err := p.roundTrip(ctx, workerRequest{Photo: data}, true)
	if err != nil {
		return nil, err
	}
	a := resp.Analysis
	if a == nil {
		return nil, fmt.Errorf("face worker answered without an analysis")
	}
	if a.Faces == nil { // gob does not keep an empty slice
		a.Faces = []models.Face{}
	}
	return a, nil
}

// DescribeFaces has a worker compute the MobileFaceNet descriptors of
// faces already found in a stored photo, from their landmarks (in pixels of
// the oriented photo), without detecting again: one descriptor per face,
// nil for a face without 5 landmarks. Errors are Analyze's; EUNAVAILABLE
// when the workers run without MobileFaceNet.
func (p *WorkerPool) DescribeFaces(ctx context.Context, data []byte, landmarks [][]models.Point) ([]*models.MFNDescriptor, error) {
	if _, err := CheckPhoto(data, p.cfg.Limits); err != nil {
		return nil, err
	}
	if landmarks == nil {
		landmarks = [][]models.Point{}
	}
	resp, err := p.roundTrip(ctx, workerRequest{Photo: data, Landmarks: landmarks, Describe: true}, false)
	if err != nil {
		return nil, err
	}
	if len(resp.MFN) != len(landmarks) {
		return nil, fmt.Errorf("face worker answered %d descriptors for %d faces", len(resp.MFN), len(landmarks))
	}
	out := make([]*models.MFNDescriptor, len(landmarks))
	for i, d := range resp.MFN {
		if d.OK {
			out[i] = &d.D
		}
	}
	return out, nil
}

// roundTrip sends req to an idle worker and returns its answer; count says
// whether the answer feeds Stats (an analysis does).
func (p *WorkerPool) roundTrip(ctx context.Context, req workerRequest, count bool) (workerResponse, error) {
	var w *worker
	select {
	case <-p.closed:
		return workerResponse{}, models.Errorf(models.EUNAVAILABLE, "face analysis is shutting down")
	case <-ctx.Done():
		return workerResponse{}, models.Errorf(models.ECANCELED, "canceled while waiting to analyse the photo: %v", context.Cause(ctx))
	case w = <-p.idle:
	}
	type result struct {
		resp workerResponse
		err  error
	}
	answer := make(chan result, 1)
	go func() {
		if err := writeFrame(w.in, req); err != nil {
			answer <- result{err: err}
			return
		}
		var resp workerResponse
		err := readFrame(w.out, &resp)
		answer <- result{resp, err}
	}()
	timer := time.NewTimer(p.cfg.Timeout)
	defer timer.Stop()
	select {
	case r := <-answer:
		if r.err != nil {
			// The worker died on this photo: a crash in dlib or OpenCV, or
			// its memory limit.
			p.replace(w, "died analysing a photo")
			return workerResponse{}, models.Errorf(models.EUNREADABLE, "the photo could not be analysed: the face analysis failed on it; send another photo of the child")
		}
		if count {
			p.stats.add(r.resp.Analysis, r.resp.Cost)
		}
		if r.resp.Fatal {
			p.replace(w, "dlib or OpenCV failed")
		} else {
			p.idle <- w
		}
		if r.resp.Code != "" {
			return workerResponse{}, models.Errorf(r.resp.Code, "%s", r.resp.Message)
		}
		return r.resp, nil
	case <-timer.C:
		p.replace(w, "timed out")
		return workerResponse{}, models.Errorf(models.EUNAVAILABLE, "analysing the photo took longer than %s; try again later", p.cfg.Timeout)
	case <-ctx.Done():
		// dlib cannot be interrupted: give the worker up rather than keep
		// it busy for a caller who has gone.
		p.replace(w, "request canceled")
		return workerResponse{}, models.Errorf(models.ECANCELED, "canceled during face analysis: %v", context.Cause(ctx))
	case <-p.closed:
		return workerResponse{}, models.Errorf(models.EUNAVAILABLE, "face analysis is shutting down")
	}
}

// Stats returns what the workers did, and how often one was replaced.
func (p *WorkerPool) Stats() PipelineStats { return p.stats.snapshot(p.steps) }

// Limits returns the photo limits the pool enforces.
func (p *WorkerPool) Limits() PhotoLimits { return p.cfg.Limits }

// Workers is the number of worker processes, the most photos analysed at once.
func (p *WorkerPool) Workers() int { return p.cfg.Workers }

// Close stops every worker; later calls to Analyze fail with EUNAVAILABLE.
// It is safe to call more than once.
func (p *WorkerPool) Close() error {
	p.once.Do(func() {
		close(p.closed)
		p.mu.Lock()
		ws := make([]*worker, 0, len(p.all))
		for w := range p.all {
			ws = append(ws, w)
		}
		p.mu.Unlock()
		for _, w := range ws {
			_ = w.in.Close() // an idle worker exits at the end of its input
		}
		for _, w := range ws {
			select {
			case <-w.done:
			case <-time.After(5 * time.Second):
				p.kill(w)
				<-w.done
			}
		}
		p.wg.Wait()
	})
	return nil
}

// exitState describes how a worker process ended, for the log.
func exitState(err error, stderr string) string {
	state := "exited"
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			state = "signal: " + ws.Signal().String()
		} else {
			state = fmt.Sprintf("exit status %d", ee.ExitCode())
		}
	} else if err != nil {
		state = err.Error()
	}
	if s := strings.TrimSpace(stderr); s != "" {
		state += ": " + s
	}
	return state
}

// tailWriter keeps the last max bytes written to it: a worker's stderr,
// where dlib and OpenCV say why they failed. Photos and names never reach
// a worker's stderr.
type tailWriter struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (t *tailWriter) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > t.max {
		t.buf = bytes.Clone(t.buf[len(t.buf)-t.max:])
	}
	return len(b), nil
}

func (t *tailWriter) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
