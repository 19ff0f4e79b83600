package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/trackmatch/trackmatch/models"
)

// fakeImporter creates every record it is given (engine.Importer's own
// rules are tested in engine), remembering the batches, and can be held.
type fakeImporter struct {
	mu      sync.Mutex
	batches [][]models.ImportRecord
	hold    chan struct{} // when set, ImportRecords waits for it to close
}

func (f *fakeImporter) ImportRecords(ctx context.Context, recs []models.ImportRecord) ([]models.ImportResult, error) {
	f.mu.Lock()
	f.batches = append(f.batches, recs)
	hold := f.hold
	f.mu.Unlock()
	if hold != nil {
		<-hold
	}
	out := make([]models.ImportResult, len(recs))
	for i, r := range recs {
		out[i] = models.ImportResult{Index: i, Kind: r.Kind, ExternalRef: r.ExternalRef, Status: models.ImportCreated, ID: fmt.Sprintf("id-%d", i)}
		for j := range r.Photos {
			out[i].Photos = append(out[i].Photos, models.ImportPhotoResult{Index: j, Status: models.ImportCreated, PhotoID: fmt.Sprintf("p-%d-%d", i, j), Faces: 1})
		}
	}
	return out, nil
}

// The document's NDJSON body is a string of lines: the request validator
// reads it as such.
func init() {
	openapi3filter.RegisterBodyDecoder(mediaNDJSON, func(r io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(r)
		return string(b), err
	})
}

func importLine(ref string) string {
	return fmt.Sprintf(`{"kind":"found","external_ref":%q,"names":["Pooja"],"photos":[{"data":"aGVsbG8=","name":"a.jpg"}]}`, ref)
}

func TestImportBatch(t *testing.T) {
	h := newHarness(t)
	// NDJSON with a malformed line and an unknown field in the middle:
	// those two are refused alone, the others imported.
	long := fmt.Sprintf(`{"kind":"found","external_ref":"CCI-1","notes":%q,"photos":[{"data":"aGVsbG8=","name":"a.jpg"}]}`, strings.Repeat("n", 20000))
	long3 := strings.Replace(strings.Replace(long, "CCI-1", "CCI-3", 1), `"notes"`, `"marks":"x","notes"`, 1)
	body := long + "\n{not json\n\n" + `{"kind":"found","external_ref":"CCI-2","nickname":"x"}` + "\n" + long3 + "\n"
	r := h.do(request{method: "POST", path: "/v1/import", key: portalKey, body: []byte(body), ctype: "application/x-ndjson"})
	if r.status != http.StatusOK {
		t.Fatalf("ndjson: %d %s", r.status, r.body)
	}
	var v importView
	r.decode(t, &v)
	if len(v.Results) != 4 || v.Summary.Created != 2 || v.Summary.Refused != 2 {
		t.Fatalf("ndjson results: %s", r.body)
	}
	for i, want := range []models.ImportStatus{models.ImportCreated, models.ImportRefused, models.ImportRefused, models.ImportCreated} {
		if v.Results[i].Status != want || v.Results[i].Index != i {
			t.Errorf("result %d: %+v, want %s", i, v.Results[i], want)
		}
	}
	if e := v.Results[1].Error; e == nil || e.Code != models.EBADREQUEST {
		t.Errorf("malformed line: %+v", e)
	}
	if e := v.Results[2].Error; e == nil || e.Code != models.EBADREQUEST || !strings.Contains(e.Message, "nickname") {
		t.Errorf("unknown field: %+v", e)
	}
	if v.Results[3].ID != "id-1" || v.Results[3].ExternalRef != "CCI-3" {
		t.Errorf("the record after the bad ones: %+v", v.Results[3])
	}
	b := h.importer.batches[0]
	if len(b) != 2 || string(b[0].Photos[0].Data) != "hello" || b[0].Photos[0].Name != "a.jpg" {
		t.Fatalf("importer saw %+v", b)
	}

	// A JSON array, as an admin.
	r = h.do(request{method: "POST", path: "/v1/import", key: adminKey, body: []byte("[" + importLine("CCI-4") + "," + importLine("CCI-5") + "]"), ctype: "application/json"})
	if r.status != http.StatusOK {
		t.Fatalf("array: %d %s", r.status, r.body)
	}
	if len(h.audit.all()) == 0 || h.audit.all()[len(h.audit.all())-1].Action != "import" {
		t.Errorf("import not audited: %+v", h.audit.all())
	}
}

func TestImportBatchErrors(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.EmbedWait = 50 * time.Millisecond })
	post := func(key, ctype, body string) response {
		return h.do(request{method: "POST", path: "/v1/import", key: key, body: []byte(body), ctype: ctype})
	}
	wantError(t, post(portalKey, "application/json", `{"kind":"found"}`), http.StatusBadRequest, models.EBADREQUEST)
	wantError(t, post(portalKey, "application/json", `[`+importLine("A")+`,{`), http.StatusBadRequest, models.EBADREQUEST)
	wantError(t, post(portalKey, "application/json", `[]`), http.StatusBadRequest, models.EBADREQUEST)
	wantError(t, post(portalKey, "application/json", `[]x`), http.StatusBadRequest, models.EBADREQUEST)
	wantError(t, post(portalKey, "text/csv", "kind\nfound\n"), http.StatusUnsupportedMediaType, models.EUNSUPPORTED)
	wantError(t, post(investigatorKey, "application/json", `[`+importLine("A")+`]`), http.StatusForbidden, models.EFORBIDDEN)
	wantError(t, post("", "application/json", `[`+importLine("A")+`]`), http.StatusUnauthorized, models.EUNAUTHORIZED)

	// Over the record limit: 413, nothing imported.
	lines := make([]string, models.MaxImportBatch+1)
	for i := range lines {
		lines[i] = fmt.Sprintf(`{"kind":"found","external_ref":"R-%d"}`, i)
	}
	n := len(h.importer.batches)
	wantError(t, post(portalKey, "application/x-ndjson", strings.Join(lines, "\n")), http.StatusRequestEntityTooLarge, models.ETOOLARGE)
	wantError(t, post(portalKey, "application/json", "["+strings.Join(lines, ",")+"]"), http.StatusRequestEntityTooLarge, models.ETOOLARGE)
	// Over the byte limit.
	h.skipDocCheck = true // the body is refused before the route's schema applies
	big := `[{"kind":"found","external_ref":"B","notes":"` + strings.Repeat("x", models.MaxImportBatchBytes) + `"}]`
	wantError(t, post(portalKey, "application/json", big), http.StatusRequestEntityTooLarge, models.ETOOLARGE)
	h.skipDocCheck = false
	if len(h.importer.batches) != n {
		t.Fatalf("an oversized batch reached the importer")
	}

	// A second batch while one runs waits EmbedWait, then 503 with Retry-After.
	hold := make(chan struct{})
	h.importer.mu.Lock()
	h.importer.hold = hold
	h.importer.mu.Unlock()
	done := make(chan response)
	go func() { done <- post(adminKey, "application/json", `[`+importLine("H")+`]`) }()
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		h.importer.mu.Lock()
		k := len(h.importer.batches)
		h.importer.mu.Unlock()
		if k > n || time.Now().After(deadline) {
			break
		}
	}
	wantError(t, post(portalKey, "application/json", `[`+importLine("I")+`]`), http.StatusServiceUnavailable, models.EUNAVAILABLE)
	close(hold)
	if got := <-done; got.status != http.StatusOK {
		t.Fatalf("held batch: %d %s", got.status, got.body)
	}
	h.importer.mu.Lock()
	h.importer.hold = nil
	h.importer.mu.Unlock()
}

// A batch costs one rate-limit token per ImportRecordsPerToken records.
func TestImportBatchRateLimit(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.RatePerSecond = 0.001; c.RateBurst = 10 })
	var lines []string
	for i := range 5*ImportRecordsPerToken + 1 { // 1 token + 5 more
		lines = append(lines, fmt.Sprintf(`{"kind":"found","external_ref":"R-%d"}`, i))
	}
	body := []byte(strings.Join(lines, "\n"))
	r := h.do(request{method: "POST", path: "/v1/import", key: portalKey, body: body, ctype: "application/x-ndjson"})
	if r.status != http.StatusOK {
		t.Fatalf("first batch: %d %s", r.status, r.body)
	}
	// 6 of 10 tokens spent: the same batch again needs 6 and there are 4.
	r = h.do(request{method: "POST", path: "/v1/import", key: portalKey, body: body, ctype: "application/x-ndjson"})
	wantError(t, r, http.StatusTooManyRequests, models.ERATELIMIT)
	if r.header.Get("Retry-After") == "" {
		t.Errorf("429 without Retry-After")
	}
	var v importView
	if err := json.Unmarshal(r.body, &v); err == nil && len(v.Results) > 0 {
		t.Errorf("a refused batch has results")
	}
}
