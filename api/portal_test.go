package api

import (
	"bytes"
	"encoding/csv"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// newPortalRoutes are the routes issue 17 added, with a request that
// succeeds for the role given.
var newPortalRoutes = []struct {
	method, path string
	okKey        string
}{
	{"GET", "/v1/children?kind=missing&external_ref=FIR-2026-0042", portalKey},
	{"DELETE", "/v1/photos/photo-2", portalKey},
	{"GET", "/v1/jobs", adminKey},
	{"GET", "/v1/matches.csv", investigatorKey},
	{"GET", "/v1/decisions", investigatorKey},
	{"GET", "/v1/decisions.csv", investigatorKey},
}

func TestListChildren(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	found := missingChild()
	found["kind"], found["external_ref"] = "found", "CCI-9"
	h.createChild(found)

	r := h.do(request{method: "GET", path: "/v1/children?kind=missing&status=open&state=bihar&district=Patna" +
		"&created_since=2026-01-01T00:00:00Z&updated_since=2026-01-01T00:00:00Z&limit=10&cursor=", key: investigatorKey})
	if r.status != http.StatusOK {
		t.Fatalf("list: %d %s", r.status, r.body)
	}
	var v childrenView
	r.decode(t, &v)
	if len(v.Children) != 1 || v.Children[0].ID != c.ID || v.Children[0].Names[0] != "Asha Kumari" || v.Refs != nil {
		t.Fatalf("list = %s", r.body)
	}
	f := h.children.lastListFilter
	want := models.ChildFilter{Kind: models.KindMissing, Status: models.StatusOpen, State: "bihar", District: "Patna",
		CreatedSince: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), UpdatedSince: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), Limit: 10}
	if !f.CreatedSince.Equal(want.CreatedSince) || !f.UpdatedSince.Equal(want.UpdatedSince) {
		t.Errorf("times: service saw %+v", f)
	}
	f.CreatedSince, f.UpdatedSince, want.CreatedSince, want.UpdatedSince = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if f != want {
		t.Errorf("service saw %+v, want %+v", f, want)
	}
	r = h.do(request{method: "GET", path: "/v1/children", key: adminKey})
	r.decode(t, &v)
	if len(v.Children) != 2 || h.children.lastListFilter.Limit != 50 {
		t.Errorf("no filters: %d children, limit %d", len(v.Children), h.children.lastListFilter.Limit)
	}

	// A portal looks up its own reference and learns ids and status only.
	r = h.do(request{method: "GET", path: "/v1/children?kind=missing&external_ref=FIR-2026-0042", key: portalKey})
	if r.status != http.StatusOK {
		t.Fatalf("portal lookup: %d %s", r.status, r.body)
	}
	v = childrenView{}
	r.decode(t, &v)
	if len(v.Refs) != 1 || v.Refs[0].ID != c.ID || v.Refs[0].Status != models.StatusOpen || v.Children != nil {
		t.Fatalf("portal lookup = %s", r.body)
	}
	if bytes.Contains(r.body, []byte("Asha")) || bytes.Contains(r.body, []byte("Patna")) {
		t.Errorf("a portal lookup carries personal data: %s", r.body)
	}
	for _, q := range []string{"", "?external_ref=FIR-2026-0042", "?kind=missing", "?kind=missing&state=Bihar"} {
		wantError(t, h.do(request{method: "GET", path: "/v1/children" + q, key: portalKey}), http.StatusUnprocessableEntity, models.EINVALID)
	}
	for _, q := range []string{"kind=both", "status=lost", "state=" + strings.Repeat("s", 201), "external_ref=" + strings.Repeat("r", 201),
		"created_since=yesterday", "updated_since=2026-13-01", "limit=0", "limit=501", "cursor=bogus"} {
		wantError(t, h.do(request{method: "GET", path: "/v1/children?" + q, key: investigatorKey}), http.StatusBadRequest, models.EBADREQUEST)
	}
	h.skipDocCheck = true // the fake answers what no service would
	h.children.fail = errors.New("disk on fire")
	wantError(t, h.do(request{method: "GET", path: "/v1/children", key: adminKey}), http.StatusInternalServerError, models.EINTERNAL)
}

func TestSamePhotoTwiceAnswers200(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	img := jpegish("twice")
	r := h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(img)))
	if r.status != http.StatusCreated {
		t.Fatalf("first upload: %d %s", r.status, r.body)
	}
	var first, second photoUploadView
	r.decode(t, &first)
	r = h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(img)))
	if r.status != http.StatusOK {
		t.Fatalf("second upload: %d %s, want 200", r.status, r.body)
	}
	r.decode(t, &second)
	if second.PhotoID != first.PhotoID {
		t.Errorf("second upload gave photo %s, want the stored %s", second.PhotoID, first.PhotoID)
	}
	r = h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(jpegish("other"))))
	if r.status != http.StatusCreated {
		t.Errorf("other bytes: %d, want 201", r.status)
	}
}

func TestDeletePhoto(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	r := h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(jpegish("gone"))))
	var up photoUploadView
	r.decode(t, &up)
	wantError(t, h.do(request{method: "DELETE", path: "/v1/photos/" + up.PhotoID, key: investigatorKey}), http.StatusForbidden, models.EFORBIDDEN)
	r = h.do(request{method: "DELETE", path: "/v1/photos/" + up.PhotoID, key: portalKey})
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	wantError(t, h.do(request{method: "GET", path: "/v1/photos/" + up.PhotoID, key: adminKey}), http.StatusNotFound, models.ENOTFOUND)
	r = h.do(request{method: "GET", path: "/v1/children/" + c.ID, key: adminKey})
	var v childView
	r.decode(t, &v)
	if len(v.Photos) != 0 {
		t.Errorf("record still lists %d photos", len(v.Photos))
	}
	wantError(t, h.do(request{method: "DELETE", path: "/v1/photos/" + up.PhotoID, key: adminKey}), http.StatusNotFound, models.ENOTFOUND)
	entries := h.audit.all()
	last := entries[len(entries)-1]
	if last.Action != "delete" || last.Target != up.PhotoID || last.Route != "/v1/photos/:id" {
		t.Errorf("audit entry = %+v", last)
	}
}

func TestListJobs(t *testing.T) {
	h := newHarness(t)
	r := h.do(request{method: "GET", path: "/v1/jobs", key: adminKey})
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"jobs":[]`)) {
		t.Fatalf("no jobs: %d %s", r.status, r.body)
	}
	h.do(jsonReq("POST", "/v1/jobs/rescore", adminKey, map[string]any{"full": true}))
	r = h.do(request{method: "GET", path: "/v1/jobs?limit=5", key: adminKey})
	var v jobsView
	r.decode(t, &v)
	if len(v.Jobs) != 1 || v.Jobs[0].State != models.JobRunning || !v.Jobs[0].Full {
		t.Fatalf("jobs = %s", r.body)
	}
	wantError(t, h.do(request{method: "GET", path: "/v1/jobs", key: investigatorKey}), http.StatusForbidden, models.EFORBIDDEN)
	wantError(t, h.do(request{method: "GET", path: "/v1/jobs?limit=501", key: adminKey}), http.StatusBadRequest, models.EBADREQUEST)
}

// decideWithNote makes the fake's one match decided, with note.
func decideWithNote(t *testing.T, h *harness, note string) {
	t.Helper()
	r := h.do(jsonReq("POST", "/v1/matches/"+models.MatchID("child-1", "found-7")+"/decision", investigatorKey,
		map[string]any{"decision": "confirmed", "note": note}))
	if r.status != http.StatusOK {
		t.Fatalf("decide: %d %s", r.status, r.body)
	}
}

func readCSV(t *testing.T, r response) [][]string {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("export: %d %s", r.status, r.body)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("Content-Type = %q", ct)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatalf("export is not CSV: %v\n%s", err, r.body)
	}
	return rows
}

func TestExportMatchesCSV(t *testing.T) {
	h := newHarness(t)
	decideWithNote(t, h, "=HYPERLINK(\"http://evil\")")
	for _, req := range []request{
		{method: "GET", path: "/v1/matches.csv?status=confirmed&min_probability=0.5", key: investigatorKey},
		{method: "GET", path: "/v1/matches?status=confirmed", key: adminKey, header: map[string]string{"Accept": "text/csv"}},
	} {
		h.skipDocCheck = req.header != nil // the document lists JSON for /v1/matches; CSV is described in its summary
		rows := readCSV(t, h.do(req))
		// The fake answers a next page for the first one: the export
		// follows it, so the match comes twice.
		if len(rows) != 3 || rows[2][0] != rows[1][0] || rows[0][0] != "id" || rows[1][0] != models.MatchID("child-1", "found-7") ||
			rows[1][3] != "0.93" || rows[1][6] != "confirmed" {
			t.Fatalf("%s: rows = %q", req.path, rows)
		}
		if note := rows[1][9]; note != "'=HYPERLINK(\"http://evil\")" {
			t.Errorf("note cell = %q, want it defused with a leading apostrophe", note)
		}
		if f := h.matches.lastFilter; f.Status != models.MatchConfirmed {
			t.Errorf("service saw %+v", f)
		}
	}
	h.skipDocCheck = false
	wantError(t, h.do(request{method: "GET", path: "/v1/matches.csv", key: portalKey}), http.StatusForbidden, models.EFORBIDDEN)
	wantError(t, h.do(request{method: "GET", path: "/v1/matches.csv?status=maybe", key: adminKey}), http.StatusBadRequest, models.EBADREQUEST)
	wantError(t, h.do(request{method: "GET", path: "/v1/matches.csv?min_probability=2", key: adminKey}), http.StatusBadRequest, models.EBADREQUEST)
	entries := h.audit.all()
	if e := entries[1]; e.Action != "export" || e.Route != "/v1/matches.csv" || e.Status != 200 || e.Role != "investigator" {
		t.Errorf("export audit entry = %+v", e)
	}
	if e := entries[2]; e.Action != "read" || e.Route != "/v1/matches" || e.Status != 200 {
		t.Errorf("CSV by Accept audit entry = %+v", e)
	}
}

func TestDecisionsJSONAndCSV(t *testing.T) {
	h := newHarness(t)
	r := h.do(request{method: "GET", path: "/v1/decisions", key: investigatorKey})
	if r.status != http.StatusOK || !bytes.Contains(r.body, []byte(`"decisions":[]`)) {
		t.Fatalf("empty history: %d %s", r.status, r.body)
	}
	decideWithNote(t, h, "+91 phoned; @mother confirmed")
	r = h.do(request{method: "GET", path: "/v1/decisions?since=2026-01-01T00:00:00Z&limit=10", key: investigatorKey})
	var v decisionsView
	r.decode(t, &v)
	if len(v.Decisions) != 1 || v.Decisions[0].MatchID != models.MatchID("child-1", "found-7") || v.Decisions[0].Decision.Decision != models.MatchConfirmed {
		t.Fatalf("history = %s", r.body)
	}
	if f := h.matches.lastDecisionFilter; f.Limit != 10 || !f.Since.Equal(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("service saw %+v", f)
	}
	rows := readCSV(t, h.do(request{method: "GET", path: "/v1/decisions.csv", key: adminKey}))
	if len(rows) != 2 || !slices.Equal(rows[0], []string{"match_id", "missing_id", "found_id", "decision", "by", "at", "note"}) ||
		rows[1][3] != "confirmed" || rows[1][6] != "'+91 phoned; @mother confirmed" {
		t.Fatalf("rows = %q", rows)
	}
	for _, q := range []string{"/v1/decisions?since=x", "/v1/decisions?limit=1001", "/v1/decisions?cursor=bogus", "/v1/decisions.csv?since=x"} {
		wantError(t, h.do(request{method: "GET", path: q, key: adminKey}), http.StatusBadRequest, models.EBADREQUEST)
	}
	wantError(t, h.do(request{method: "GET", path: "/v1/decisions", key: portalKey}), http.StatusForbidden, models.EFORBIDDEN)
	wantError(t, h.do(request{method: "GET", path: "/v1/decisions.csv", key: portalKey}), http.StatusForbidden, models.EFORBIDDEN)
}

func TestSafeCell(t *testing.T) {
	for in, want := range map[string]string{
		"=1+2": "'=1+2", "+1": "+1", "-2.5": "-2.5", "@SUM(A1)": "'@SUM(A1)", "-cmd": "'-cmd", "\tx": "'\tx", "\rx": "'\rx",
		"+91 phone": "'+91 phone", "NaN": "NaN", "-Inf": "'-Inf", "plain": "plain", "": "",
	} {
		if got := safeCell(in); got != want {
			t.Errorf("safeCell(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestNewRoutesRefuseWithoutKeyWhenBusyOrOverRate checks the middleware
// error codes of every new route: 401, 503 while loading, 429 over rate.
func TestNewRoutesRefuseWithoutKeyWhenBusyOrOverRate(t *testing.T) {
	h := newHarness(t)
	for _, rt := range newPortalRoutes {
		wantError(t, h.do(request{method: rt.method, path: rt.path}), http.StatusUnauthorized, models.EUNAUTHORIZED)
	}
	notReady := errors.New("loading")
	h.notReady.Store(&notReady)
	for _, rt := range newPortalRoutes {
		wantError(t, h.do(request{method: rt.method, path: rt.path, key: adminKey}), http.StatusServiceUnavailable, models.EUNAVAILABLE)
	}
	h = newHarness(t, func(c *Config) { c.RatePerSecond = 0.0001; c.RateBurst = 1 })
	h.do(request{method: "GET", path: "/v1/jobs", key: investigatorKey}) // spends the burst
	for _, rt := range newPortalRoutes {
		wantError(t, h.do(request{method: rt.method, path: rt.path, key: investigatorKey}), http.StatusTooManyRequests, models.ERATELIMIT)
	}
}
