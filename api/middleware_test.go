package api

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/trackmatch/trackmatch/models"
)

func TestRateLimitPerKey(t *testing.T) {
	// A rate this low refills no token during the test, however slow the
	// machine: the third request is over the burst of two.
	h := newHarness(t, func(c *Config) { c.RatePerSecond = 0.0001; c.RateBurst = 2 })
	get := func(key string) response {
		return h.do(request{method: "GET", path: "/v1/children/x", key: key})
	}
	for i := 0; i < 2; i++ {
		if r := get(investigatorKey); r.status != http.StatusNotFound {
			t.Fatalf("request %d: %d", i, r.status)
		}
	}
	r := get(investigatorKey)
	wantError(t, r, http.StatusTooManyRequests, models.ERATELIMIT)
	if r.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	// Another key has its own budget.
	if r := get(adminKey); r.status != http.StatusNotFound {
		t.Errorf("admin key limited by the investigator's use: %d", r.status)
	}
	// Unauthenticated requests do not spend a key's budget.
	wantError(t, h.do(request{method: "GET", path: "/v1/children/x"}), 401, models.EUNAUTHORIZED)
	if !strings.Contains(h.scrape(), `trackmatch_http_rate_limited_total{role="investigator"} 1`) {
		t.Errorf("rate-limited request not counted")
	}
}

func TestPhotoRequestsBeyondCapacityGet503(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxConcurrentEmbeds = 1; c.EmbedWait = 20 * time.Millisecond })
	h.children.entered = make(chan struct{})
	h.children.release = make(chan struct{})
	c := h.createChild(missingChild())

	var wg sync.WaitGroup
	var first response
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(jpegish("first"))))
	}()
	<-h.children.entered // the first upload holds the only slot

	r := h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(jpegish("second"))))
	wantError(t, r, http.StatusServiceUnavailable, models.EUNAVAILABLE)
	if r.header.Get("Retry-After") == "" {
		t.Errorf("503 without Retry-After")
	}
	r = h.do(multipartReq("POST", "/v1/search", portalKey, queryPart(map[string]any{"kind": "missing"}), photoPart(jpegish("s"))))
	wantError(t, r, http.StatusServiceUnavailable, models.EUNAVAILABLE)
	// A search without photos needs no slot.
	if r := h.do(multipartReq("POST", "/v1/search", portalKey, queryPart(map[string]any{"kind": "missing", "names": []string{"A"}}))); r.status != http.StatusOK {
		t.Errorf("name-only search while photos are busy: %d %s", r.status, r.body)
	}
	if !strings.Contains(h.scrape(), "trackmatch_http_embed_slots_in_use 1") {
		t.Errorf("slot in use not reported")
	}

	close(h.children.release)
	wg.Wait()
	if first.status != http.StatusCreated {
		t.Fatalf("first upload: %d %s", first.status, first.body)
	}
	// The slot is free again.
	h.children.entered = nil
	if r := h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(jpegish("third")))); r.status != http.StatusCreated {
		t.Errorf("upload after release: %d %s", r.status, r.body)
	}
	if !strings.Contains(h.scrape(), "trackmatch_http_embed_slot_rejected_total 2") {
		t.Errorf("rejections not counted")
	}
}

func TestReadiness(t *testing.T) {
	h := newHarness(t)
	notReady := errors.New("face models loading")
	h.notReady.Store(&notReady)
	r := h.do(request{method: "GET", path: "/readyz"})
	e := wantError(t, r, http.StatusServiceUnavailable, models.EUNAVAILABLE)
	if !strings.Contains(e.Message, "face models loading") {
		t.Errorf("readyz message %q lacks the reason", e.Message)
	}
	if r := h.do(request{method: "GET", path: "/healthz"}); r.status != http.StatusOK {
		t.Errorf("healthz while not ready: %d", r.status)
	}
	wantError(t, h.do(request{method: "GET", path: "/v1/children/x", key: adminKey}), http.StatusServiceUnavailable, models.EUNAVAILABLE)
	wantError(t, h.do(request{method: "GET", path: "/v1/children/x"}), http.StatusUnauthorized, models.EUNAUTHORIZED)

	h.notReady.Store(nil)
	r = h.do(request{method: "GET", path: "/readyz"})
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"ready"`)) {
		t.Errorf("readyz when ready: %d %s", r.status, r.body)
	}
}

func TestPanicIsRecoveredAsLogged500(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	r := h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart([]byte("PANIC"))))
	e := wantError(t, r, http.StatusInternalServerError, models.EINTERNAL)
	if strings.Contains(e.Message, "exploded") {
		t.Errorf("panic value in the answer: %q", e.Message)
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "fake engine exploded") || !strings.Contains(logs, "panic serving request") {
		t.Errorf("panic not logged:\n%s", logs)
	}
	entries := h.audit.all()
	if last := entries[len(entries)-1]; last.Action != "upload" || last.Status != 500 {
		t.Errorf("panicking request audited as %+v", last)
	}
	// The server still serves.
	if r := h.do(request{method: "GET", path: "/healthz"}); r.status != 200 {
		t.Errorf("after panic: %d", r.status)
	}
}

func TestAuditFailureIsLoggedAndCounted(t *testing.T) {
	h := newHarness(t)
	h.audit.fail = errors.New("audit store full")
	if r := h.do(request{method: "GET", path: "/v1/children/x", key: adminKey}); r.status != 404 {
		t.Fatalf("status %d", r.status)
	}
	if !strings.Contains(h.logs.String(), "audit store full") {
		t.Errorf("audit failure not logged")
	}
	if !strings.Contains(h.scrape(), "trackmatch_audit_write_failures_total 1") {
		t.Errorf("audit failure not counted")
	}
}

// scrape returns /metrics.
func (h *harness) scrape() string {
	h.t.Helper()
	r := h.do(request{method: "GET", path: "/metrics"})
	if r.status != 200 {
		h.t.Fatalf("metrics: %d", r.status)
	}
	return string(r.body)
}

func TestMetricsUseRouteTemplates(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	h.do(request{method: "GET", path: "/v1/children/" + c.ID, key: adminKey})
	h.do(request{method: "GET", path: "/v1/children/secret-id-123", key: adminKey})
	h.do(request{method: "GET", path: "/no/such/path/abc"})
	h.do(request{method: "BREW", path: "/v1/children/x"})
	m := h.scrape()
	for _, want := range []string{
		`trackmatch_http_requests_total{method="GET",route="/v1/children/:id",status="200"} 1`,
		`trackmatch_http_requests_total{method="GET",route="/v1/children/:id",status="404"} 1`,
		`trackmatch_http_requests_total{method="POST",route="/v1/children",status="201"} 1`,
		`trackmatch_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`trackmatch_http_requests_total{method="OTHER",route="unmatched",status="405"} 1`,
		`trackmatch_http_request_duration_seconds_bucket{method="GET",route="/v1/children/:id",status="200",le="+Inf"} 1`,
		`trackmatch_http_requests_in_flight 1`, // the scrape itself
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, leak := range []string{c.ID, "secret-id-123", "/no/such", "BREW"} {
		if strings.Contains(m, leak) {
			t.Errorf("raw path or method %q became a label", leak)
		}
	}
}

func TestSecurityHeadersAndRequestID(t *testing.T) {
	h := newHarness(t)
	r := h.do(request{method: "GET", path: "/v1/children/x", key: adminKey})
	for k, want := range map[string]string{"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY"} {
		if got := r.header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	id := r.header.Get("X-Request-Id")
	if len(id) != 16 || !strings.Contains(h.logs.String(), id) {
		t.Errorf("request id %q not in the access log", id)
	}
}

// Logs must never hold names, notes, photos, descriptors, query strings,
// ids from paths or keys, whatever the request and however it ends.
func TestLogsHoldNoChildData(t *testing.T) {
	h := newHarness(t)
	const name = "Zephyrine Quillfeather"
	const guardian = "Bartholomew Quillfeather"
	const note = "scar above the left eyebrow"
	marker := "IMGMARKER7731"
	img := jpegish(marker)
	child := map[string]any{"kind": "missing", "names": []string{name}, "guardians": []string{guardian}, "notes": note, "external_ref": "REF-77-PRIVATE"}

	c := h.createChild(child)
	h.do(jsonReq("PUT", "/v1/children/"+c.ID, portalKey, child))
	h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(img)))
	h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(append([]byte("NOFACE"), img...))))
	h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(append([]byte("BUG"), img...))))
	h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(append([]byte("PANIC"), img...))))
	h.do(multipartReq("POST", "/v1/search?limit=3", investigatorKey, queryPart(child), photoPart(img)))
	h.do(multipartReq("POST", "/v1/search", investigatorKey, queryPart(map[string]any{"names": []string{name}}))) // 422
	h.do(jsonReq("POST", "/v1/children", portalKey, `{"kind":"missing","names":["`+name+`"],"bogus":1}`))         // 400
	h.do(jsonReq("POST", "/v1/children", portalKey, map[string]any{"kind": "missing", "names": []string{name + "\u202e"}}))
	h.do(request{method: "GET", path: "/v1/children/" + c.ID, key: investigatorKey})
	h.do(request{method: "GET", path: "/v1/matches?cursor=" + strings.ReplaceAll(name, " ", "+"), key: investigatorKey})
	h.do(request{method: "GET", path: "/v1/children/" + c.ID + "/candidates?limit=2&q=" + strings.ReplaceAll(name, " ", "%20"), key: portalKey})
	h.do(request{method: "GET", path: "/v1/children/" + c.ID, key: "wrong-key-Zephyrine-123456"})

	logs := h.logs.String()
	if !strings.Contains(logs, `"route":"/v1/children/:id/photos"`) || !strings.Contains(logs, `"key_id":"`+Key{Secret: portalKey}.ID()+`"`) {
		t.Fatalf("access log lacks route templates or key ids:\n%s", logs)
	}
	forbidden := []string{
		name, "Zephyrine", "Quillfeather", guardian, note, "REF-77-PRIVATE", marker,
		base64.StdEncoding.EncodeToString(img[:30]), hex.EncodeToString(img[:12]), "\xff\xd8\xff",
		"0.123456", "descriptor", c.ID, "limit=", "cursor=",
		portalKey, investigatorKey, adminKey,
	}
	for _, s := range forbidden {
		if strings.Contains(logs, s) {
			t.Errorf("logs contain %q", s)
		}
	}
	if t.Failed() {
		t.Logf("logs:\n%s", logs)
	}
}

func TestHealthz(t *testing.T) {
	h := newHarness(t)
	r := h.do(request{method: "GET", path: "/healthz"})
	if r.status != 200 || !bytes.Contains(r.body, []byte(`"ok"`)) {
		t.Errorf("healthz: %d %s", r.status, r.body)
	}
	if n := len(h.audit.all()); n != 0 {
		t.Errorf("healthz audited")
	}
}

// A client that stops sending its photo must not keep its slot: once
// PhotoReadTimeout passes, the request fails and the slot is free.
func TestStalledPhotoUploadLosesItsSlot(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.MaxConcurrentEmbeds = 1
		c.PhotoReadTimeout = 50 * time.Millisecond
	})
	c := h.createChild(missingChild())
	full := multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(jpegish("stalled")))
	conn, err := net.Dial("tcp", h.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /v1/children/%s/photos HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		c.ID, portalKey, full.ctype, len(full.body))
	conn.Write(full.body[:len(full.body)/2])               // and then nothing more
	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a safety net, not an assertion
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to a stalled upload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("stalled upload: %d, want 400", resp.StatusCode)
	}
	if r := h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(jpegish("next")))); r.status != http.StatusCreated {
		t.Errorf("upload after a stalled one: %d %s", r.status, r.body)
	}
}

// What the lead registers on the registry is served next to the HTTP metrics.
func TestMetricsServeEngineMetrics(t *testing.T) {
	h := newHarness(t)
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "trackmatch_index_faces", Help: "faces in the vector index"})
	h.registry.MustRegister(g)
	g.Set(1234)
	r := h.do(request{method: "GET", path: "/metrics"})
	if !strings.Contains(string(r.body), "trackmatch_index_faces 1234") || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
		t.Errorf("metrics: %s\n%.300s", r.header.Get("Content-Type"), r.body)
	}
}
