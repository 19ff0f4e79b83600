package main

// The end-to-end harness: tests in this package build the real trackmatch
// binary once and run it as a child process on loopback, with the real dlib
// model and a real Badger and Bleve in a temporary data folder, so that
// they see exactly what a portal would (and can kill it with SIGKILL).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/engine/face"
)

// Keys the harness configures, one per role.
const (
	adminKey        = "admin-key-0123456789abcdef"
	portalKey       = "portal-key-0123456789abcdef"
	investigatorKey = "investigator-key-0123456789abcdef"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// sharedDir returns ../shared/NAME beside the checkout, or skips the test.
func sharedDir(t testing.TB, name string) string {
	t.Helper()
	dir, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", name))
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("shared test data %s is absent, skipping (%v)", dir, err)
	}
	return dir
}

// modelsDir returns the verified face model folder, or skips the test.
func modelsDir(t testing.TB) string {
	t.Helper()
	dir := envOr("TRACKMATCH_MODELS", face.DefaultModelsDir())
	if err := face.VerifyModels(dir); err != nil {
		t.Skipf("the dlib face models are not usable, skipping (%v); run `make models`", err)
	}
	return dir
}

// binary builds the trackmatch binary once per test run.
func binary(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "trackmatch-bin-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "trackmatch")
		out, err := exec.Command("go", "build", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// serverOptions adjust how startServer runs the binary.
type serverOptions struct {
	Data  string   // data folder; "" = a new temporary one
	Env   []string // extra environment, KEY=VALUE
	Args  []string // extra flags for serve
	Quiet bool     // do not copy the server's log into the test log on failure
}

// server is a running trackmatch binary.
type server struct {
	t      testing.TB
	opts   serverOptions
	URL    string
	Addr   string
	cmd    *exec.Cmd
	logs   *syncBuffer
	stdout *syncBuffer
	done   chan struct{}
}

// startServer starts `trackmatch serve` on a free loopback port and waits
// until /readyz answers 200.
func startServer(t testing.TB, opts serverOptions) *server {
	t.Helper()
	models := modelsDir(t)
	if opts.Data == "" {
		opts.Data = t.TempDir()
	}
	s := &server{t: t, opts: opts}
	s.start(models)
	t.Cleanup(func() { s.Kill() })
	return s
}

func (s *server) start(models string) {
	t := s.t
	t.Helper()
	cmd := s.launch(models)
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			t.Fatalf("server exited during start-up: %v\n%s", cmd.ProcessState, s.logs.String())
		default:
		}
		resp, err := http.Get(s.URL + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("server not ready after 3 minutes\n%s", s.logs.String())
}

// launch starts `trackmatch serve` on a free loopback port without waiting
// for it to be ready.
func (s *server) launch(models string) *exec.Cmd {
	t := s.t
	t.Helper()
	addr := freeAddr(t)
	s.Addr, s.URL = addr, "http://"+addr
	args := append([]string{"serve", "--addr", addr, "--data", s.opts.Data, "--models", models, "--workers", "1"}, s.opts.Args...)
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(os.Environ(),
		"TRACKMATCH_API_KEYS=admin:"+adminKey+",portal:"+portalKey+",investigator:"+investigatorKey,
		"OPENBLAS_NUM_THREADS=1")
	cmd.Env = append(cmd.Env, s.opts.Env...)
	s.logs, s.stdout = &syncBuffer{}, &syncBuffer{}
	cmd.Stderr, cmd.Stdout = s.logs, s.stdout
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server: %v", err)
	}
	s.cmd, s.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(s.done) }()
	return cmd
}

// Restart stops the server if it runs (SIGTERM) and starts it again on the
// same data folder.
func (s *server) Restart() {
	s.t.Helper()
	s.Stop()
	s.start(modelsDir(s.t))
}

// Stop sends SIGTERM and waits for a clean exit.
func (s *server) Stop() {
	s.t.Helper()
	if s.exited() {
		return
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		s.t.Fatalf("server did not stop within 60 s of SIGTERM")
	}
	if code := s.cmd.ProcessState.ExitCode(); code != 0 {
		s.t.Errorf("server exited %d after SIGTERM\n%s", code, s.logs.String())
	}
}

// Kill sends SIGKILL, as a crash would, and waits for the process to go.
func (s *server) Kill() {
	if s.cmd == nil || s.exited() {
		return
	}
	s.cmd.Process.Kill()
	<-s.done
}

func (s *server) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Logs returns everything the server wrote to stderr so far.
func (s *server) Logs() string { return s.logs.String() }

// response is a finished HTTP exchange.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test when it is not JSON.
func (r response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response %d is not JSON (%v): %.300s", r.Status, err, r.Body)
	}
}

// ErrorCode returns the error code of a JSON error body, or "".
func (r response) ErrorCode() string {
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.Body, &e)
	return e.Error.Code
}

// Do sends a request with key as Bearer token ("" = none).
func (s *server) Do(t testing.TB, method, path, key, contentType string, body io.Reader) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// JSON sends v as a JSON body (a string or []byte is sent as it is).
func (s *server) JSON(t testing.TB, method, path, key string, v any) response {
	t.Helper()
	var b []byte
	switch x := v.(type) {
	case nil:
		return s.Do(t, method, path, key, "", nil)
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			t.Fatal(err)
		}
	}
	return s.Do(t, method, path, key, "application/json", bytes.NewReader(b))
}

// part is one part of a multipart body.
type part struct {
	Name, Filename, ContentType string
	Data                        []byte
}

// Multipart sends parts as multipart/form-data.
func (s *server) Multipart(t testing.TB, method, path, key string, parts ...part) response {
	t.Helper()
	body, ct := multipartBody(t, parts...)
	return s.Do(t, method, path, key, ct, bytes.NewReader(body))
}

func multipartBody(t testing.TB, parts ...part) ([]byte, string) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		h := textproto.MIMEHeader{}
		disp := fmt.Sprintf(`form-data; name=%q`, p.Name)
		if p.Filename != "" {
			disp += fmt.Sprintf(`; filename=%q`, p.Filename)
		}
		h.Set("Content-Disposition", disp)
		if p.ContentType != "" {
			h.Set("Content-Type", p.ContentType)
		}
		pw, err := w.CreatePart(h)
		if err != nil {
			t.Fatal(err)
		}
		pw.Write(p.Data)
	}
	w.Close()
	return buf.Bytes(), w.FormDataContentType()
}

// photoPart reads a photo from disk as a `photo` part.
func photoPart(t testing.TB, path string) part {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return part{Name: "photo", Filename: filepath.Base(path), ContentType: "application/octet-stream", Data: b}
}

// queryPart is the `query` part of a search.
func queryPart(t testing.TB, v any) part {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return part{Name: "query", ContentType: "application/json", Data: b}
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for a process writing while a test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// loadTransport keeps enough idle connections for the load and crash
// tests' concurrent clients (http.DefaultTransport keeps two per host).
var loadTransport = &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: 30 * time.Second}

// Try sends a request like Do but returns transport errors instead of
// failing the test: crash and load tests expect requests to fail while the
// server is killed under them or refuses them.
func (s *server) Try(ctx context.Context, method, path, key, contentType string, body io.Reader) (response, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.URL+path, body)
	if err != nil {
		return response{}, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := (&http.Client{Transport: loadTransport}).Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// PID is the running server's process id.
func (s *server) PID() int { return s.cmd.Process.Pid }

// keyRing is a set of API keys of one role handed out in turn, so that a
// load test's clients are not throttled by the per-key rate limit.
type keyRing struct {
	role string
	keys []string
	next atomic.Uint64
}

// newKeyRing makes n keys of role.
func newKeyRing(role string, n int) *keyRing {
	k := &keyRing{role: role}
	for i := range n {
		k.keys = append(k.keys, fmt.Sprintf("%s-load-key-%04d-0123456789", role, i))
	}
	return k
}

// Next returns the next key in turn.
func (k *keyRing) Next() string { return k.keys[int(k.next.Add(1)-1)%len(k.keys)] }

// keysEnv is the TRACKMATCH_API_KEYS setting for the harness's three keys
// plus every key of rings.
func keysEnv(rings ...*keyRing) string {
	pairs := []string{"admin:" + adminKey, "portal:" + portalKey, "investigator:" + investigatorKey}
	for _, r := range rings {
		for _, k := range r.keys {
			pairs = append(pairs, r.role+":"+k)
		}
	}
	return "TRACKMATCH_API_KEYS=" + strings.Join(pairs, ",")
}

// TestMain lets the test binary stand in for trackmatch as a face worker:
// tests that open the app in process (eval) start workers with
// os.Executable(), which is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 1 && os.Args[1] == "face-worker" {
		os.Exit(dispatch(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
