package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackmatch/trackmatch/models"
)

func TestMain(m *testing.M) {
	gin.SetMode(gin.ReleaseMode)
	// Photos are served as image/*; let the response validator read them.
	openapi3filter.RegisterBodyDecoder("image/jpeg", openapi3filter.FileBodyDecoder)
	os.Exit(m.Run())
}

// Test keys, one per role.
const (
	portalKey       = "portal-key-0123456789"
	investigatorKey = "investigator-key-0123456789"
	adminKey        = "admin-key-0123456789"
)

func keyFor(r Role) string {
	switch r {
	case RolePortal:
		return portalKey
	case RoleInvestigator:
		return investigatorKey
	}
	return adminKey
}

// syncBuffer collects log output from concurrent handlers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// harness is a Server on a real loopback listener with fake services. Every
// response it sees is checked against the server's own OpenAPI document.
type harness struct {
	t        *testing.T
	srv      *Server
	ts       *httptest.Server
	children *fakeChildren
	matches  *fakeMatches
	jobs     *fakeJobs
	audit    *fakeAudit
	importer *fakeImporter
	registry *prometheus.Registry
	logs     *syncBuffer
	notReady atomic.Pointer[error]
	doc      *openapi3.T
	router   routers.Router
	// skipDocCheck turns off checking responses against the document, for
	// tests that make the fakes answer what no real service would.
	skipDocCheck bool
}

func newHarness(t *testing.T, configure ...func(*Config)) *harness {
	t.Helper()
	h := &harness{
		t: t, children: newFakeChildren(), matches: newFakeMatches(), jobs: newFakeJobs(),
		audit: &fakeAudit{}, importer: &fakeImporter{}, registry: prometheus.NewRegistry(), logs: &syncBuffer{},
	}
	keys, err := ParseKeys("portal:" + portalKey + ",investigator:" + investigatorKey + ",admin:" + adminKey)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Keys: keys}
	for _, f := range configure {
		f(&cfg)
	}
	h.srv = New(cfg, Deps{
		Children: h.children, Matches: h.matches, Jobs: h.jobs, Audit: h.audit,
		Ready: func() error {
			if e := h.notReady.Load(); e != nil {
				return *e
			}
			return nil
		},
		Logger:   slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Registry: h.registry,
		Now:      func() time.Time { return fakeTime },
		Import:   h.importer,
	})
	h.ts = httptest.NewServer(h.srv.Handler())
	t.Cleanup(h.ts.Close)
	loader := openapi3.NewLoader()
	if h.doc, err = loader.LoadFromData(h.srv.openapi); err != nil {
		t.Fatalf("load own OpenAPI document: %v", err)
	}
	if err := h.doc.Validate(context.Background()); err != nil {
		t.Fatalf("own OpenAPI document does not validate: %v", err)
	}
	// The document's server is wherever it is served from; the harness's
	// loopback port is not its default, so route on paths alone.
	routed := *h.doc
	routed.Servers = nil
	if h.router, err = gorillamux.NewRouter(&routed); err != nil {
		t.Fatalf("OpenAPI router: %v", err)
	}
	return h
}

// response is what a request got back.
type response struct {
	status int
	header http.Header
	body   []byte
}

// errorBody decodes an error response.
func (r response) errorBody(t *testing.T) *models.Error {
	t.Helper()
	var e errorResponse
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error == nil {
		t.Fatalf("status %d: body is not an error object: %v: %s", r.status, err, r.body)
	}
	return e.Error
}

// decode decodes a JSON response into v.
func (r response) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// request is one request to send; ctype "" sends no Content-Type.
type request struct {
	method, path, key string
	body              []byte
	ctype             string
	header            map[string]string
}

// do sends req and checks the response against the OpenAPI document.
func (h *harness) do(req request) response {
	h.t.Helper()
	hr, err := http.NewRequest(req.method, h.ts.URL+req.path, bytes.NewReader(req.body))
	if err != nil {
		h.t.Fatal(err)
	}
	if req.body == nil {
		hr.Body = http.NoBody
	}
	if req.key != "" {
		hr.Header.Set("Authorization", "Bearer "+req.key)
	}
	if req.ctype != "" {
		hr.Header.Set("Content-Type", req.ctype)
	}
	for k, v := range req.header {
		hr.Header.Set(k, v)
	}
	resp, err := h.ts.Client().Do(hr)
	if err != nil {
		h.t.Fatalf("%s %s: %v", req.method, req.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	h.checkAgainstDoc(hr, req.body, resp, body)
	return response{status: resp.StatusCode, header: resp.Header, body: body}
}

// checkAgainstDoc validates a response against the document: its status
// must be listed for the operation and its body must match the schema.
// A request the server accepted (2xx) must match the document too.
// Requests the document has no operation for (404, 405) are skipped.
func (h *harness) checkAgainstDoc(req *http.Request, reqBody []byte, resp *http.Response, body []byte) {
	h.t.Helper()
	if h.skipDocCheck {
		return
	}
	rt, params, err := h.router.FindRoute(req)
	if err != nil {
		if resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusMethodNotAllowed {
			h.t.Errorf("%s %s answered %d but the document has no such operation: %v", req.Method, req.URL.Path, resp.StatusCode, err)
		}
		return
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: rt},
		Status:                 resp.StatusCode,
		Header:                 resp.Header,
		Options:                &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	in.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		h.t.Errorf("%s %s: response %d does not match the OpenAPI document: %v\nbody: %.500s", req.Method, req.URL.Path, resp.StatusCode, err, body)
	}
	if resp.StatusCode >= 300 {
		return
	}
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	rin := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: rt,
		Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc, MultiError: true}}
	if err := openapi3filter.ValidateRequest(context.Background(), rin); err != nil {
		h.t.Errorf("%s %s: the server accepted a request the OpenAPI document refuses: %v", req.Method, req.URL.Path, err)
	}
}

// jsonReq is a JSON request.
func jsonReq(method, path, key string, v any) request {
	var b []byte
	switch x := v.(type) {
	case string:
		b = []byte(x)
	case []byte:
		b = x
	default:
		var err error
		if b, err = json.Marshal(v); err != nil {
			panic(err)
		}
	}
	return request{method: method, path: path, key: key, body: b, ctype: "application/json"}
}

// part is one multipart part.
type part struct {
	name, filename, ctype string
	data                  []byte
}

// multipartReq is a multipart/form-data request.
func multipartReq(method, path, key string, parts ...part) request {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, p := range parts {
		hdr := textproto.MIMEHeader{}
		cd := `form-data; name="` + p.name + `"`
		if p.filename != "" {
			cd += `; filename="` + p.filename + `"`
		}
		hdr.Set("Content-Disposition", cd)
		if p.ctype != "" {
			hdr.Set("Content-Type", p.ctype)
		}
		pw, err := w.CreatePart(hdr)
		if err != nil {
			panic(err)
		}
		pw.Write(p.data)
	}
	w.Close()
	return request{method: method, path: path, key: key, body: buf.Bytes(), ctype: w.FormDataContentType()}
}

func photoPart(data []byte) part {
	return part{name: "photo", filename: "face.jpg", ctype: "image/jpeg", data: data}
}

func queryPart(v any) part {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return part{name: "query", ctype: "application/json", data: b}
}

// jpegish is photo bytes the fake accepts, with a marker to look for in logs.
func jpegish(marker string) []byte {
	return append([]byte("\xff\xd8\xff\xe0JFIF-"+marker+"-"), bytes.Repeat([]byte{0xAB}, 512)...)
}

// createChild stores a record through the API and returns it.
func (h *harness) createChild(c map[string]any) childView {
	h.t.Helper()
	r := h.do(jsonReq("POST", "/v1/children", portalKey, c))
	if r.status != http.StatusCreated {
		h.t.Fatalf("create: %d %s", r.status, r.body)
	}
	var v childView
	r.decode(h.t, &v)
	return v
}

// wantError checks an error response's status and code.
func wantError(t *testing.T, r response, status int, code string) *models.Error {
	t.Helper()
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	e := r.errorBody(t)
	if e.Code != code {
		t.Fatalf("code = %q, want %q; message %q", e.Code, code, e.Message)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("error Content-Type = %q, want JSON", ct)
	}
	return e
}
