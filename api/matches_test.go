package api

import (
	"bytes"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func TestListMatches(t *testing.T) {
	h := newHarness(t)
	r := h.do(request{method: "GET", path: "/v1/matches?status=new&min_probability=0.5&limit=20&cursor=", key: investigatorKey})
	if r.status != http.StatusOK {
		t.Fatalf("matches: %d %s", r.status, r.body)
	}
	var got matchesView
	r.decode(t, &got)
	if len(got.Matches) != 1 || got.Matches[0].MissingID != "child-1" || got.Matches[0].FoundID != "found-7" ||
		got.Matches[0].Status != models.MatchNew || len(got.Matches[0].Explanation) != 1 || got.NextCursor != "page-2" {
		t.Fatalf("matches = %s", r.body)
	}
	f := h.matches.lastFilter
	if f.Status != models.MatchNew || f.MinProbability != 0.5 || f.Limit != 20 || f.Cursor != "" {
		t.Errorf("service saw filter %+v", f)
	}

	r = h.do(request{method: "GET", path: "/v1/matches?cursor=page-2&min_probability=0.99", key: adminKey})
	r.decode(t, &got)
	if !bytes.Contains(r.body, []byte(`"matches":[]`)) || !bytes.Contains(r.body, []byte(`"next_cursor":""`)) {
		t.Errorf("empty page must be matches [] and next_cursor \"\": %s", r.body)
	}
	if f := h.matches.lastFilter; f.Status != "" || f.Limit != 50 || f.Cursor != "page-2" {
		t.Errorf("defaults: service saw %+v", f)
	}

	for _, q := range []string{"status=maybe", "min_probability=1.5", "min_probability=-0.1", "min_probability=NaN", "min_probability=x", "limit=0", "limit=501", "cursor=" + strings.Repeat("c", 2000)} {
		wantError(t, h.do(request{method: "GET", path: "/v1/matches?" + q, key: investigatorKey}), http.StatusBadRequest, models.EBADREQUEST)
	}
}

func TestDecideMatch(t *testing.T) {
	h := newHarness(t)
	id := url.PathEscape(models.MatchID("child-1", "found-7"))
	path := "/v1/matches/" + id + "/decision"
	r := h.do(jsonReq("POST", path, investigatorKey, map[string]string{"decision": "confirmed", "note": "same birthmark on the left wrist"}))
	if r.status != http.StatusOK {
		t.Fatalf("decide: %d %s", r.status, r.body)
	}
	var m models.Match
	r.decode(t, &m)
	if m.Status != models.MatchConfirmed || m.Decision == nil || m.Decision.By != (Key{Secret: investigatorKey}).ID() ||
		m.Decision.Note != "same birthmark on the left wrist" || !m.Decision.At.Equal(fakeTime) {
		t.Fatalf("match = %s", r.body)
	}
	if strings.Contains(string(r.body), investigatorKey) {
		t.Errorf("the key itself is in the answer")
	}
	wantError(t, h.do(jsonReq("POST", path, investigatorKey, map[string]string{"decision": "rejected"})), http.StatusConflict, models.ECONFLICT)
	wantError(t, h.do(jsonReq("POST", "/v1/matches/a~b/decision", investigatorKey, map[string]string{"decision": "rejected"})), http.StatusNotFound, models.ENOTFOUND)

	for _, body := range []map[string]string{
		{"decision": "maybe"},
		{"decision": "new"},
		{"decision": ""},
		{"decision": "confirmed", "note": "ok\u202e"},
	} {
		e := wantError(t, h.do(jsonReq("POST", path, investigatorKey, body)), http.StatusUnprocessableEntity, models.EINVALID)
		if len(e.Fields) != 1 {
			t.Errorf("%v: fields = %v", body, e.Fields)
		}
	}
	wantError(t, h.do(jsonReq("POST", path, investigatorKey, `{"decision":"confirmed","by":"someone-else"}`)), http.StatusBadRequest, models.EBADREQUEST)
}

func TestJobs(t *testing.T) {
	h := newHarness(t)
	r := h.do(request{method: "POST", path: "/v1/jobs/rescore", key: adminKey})
	if r.status != http.StatusAccepted {
		t.Fatalf("rescore without body: %d %s", r.status, r.body)
	}
	var started jobStartedView
	r.decode(t, &started)
	if started.JobID == "" || r.header.Get("Location") != "/v1/jobs/"+started.JobID {
		t.Fatalf("started = %s, Location %q", r.body, r.header.Get("Location"))
	}
	if j := h.jobs.jobs[started.JobID]; j.Full {
		t.Errorf("a rescore without body must not be full")
	}
	wantError(t, h.do(jsonReq("POST", "/v1/jobs/rescore", adminKey, map[string]bool{"full": true})), http.StatusConflict, models.ECONFLICT)

	r = h.do(request{method: "GET", path: "/v1/jobs/" + started.JobID, key: adminKey})
	if r.status != http.StatusOK {
		t.Fatalf("job: %d %s", r.status, r.body)
	}
	var job models.Job
	r.decode(t, &job)
	if job.ID != started.JobID || job.State != models.JobRunning || job.Processed != 3 || job.Total != 10 {
		t.Errorf("job = %s", r.body)
	}

	r = h.do(request{method: "POST", path: "/v1/jobs/" + started.JobID + "/cancel", key: adminKey})
	if r.status != http.StatusOK {
		t.Fatalf("cancel: %d %s", r.status, r.body)
	}
	r.decode(t, &job)
	if job.State != models.JobCanceled || job.Summary == nil {
		t.Errorf("canceled job = %s", r.body)
	}
	wantError(t, h.do(request{method: "POST", path: "/v1/jobs/" + started.JobID + "/cancel", key: adminKey}), http.StatusConflict, models.ECONFLICT)
	wantError(t, h.do(request{method: "GET", path: "/v1/jobs/job-77", key: adminKey}), http.StatusNotFound, models.ENOTFOUND)

	r = h.do(jsonReq("POST", "/v1/jobs/rescore", adminKey, map[string]bool{"full": true}))
	if r.status != http.StatusAccepted {
		t.Fatalf("full rescore: %d %s", r.status, r.body)
	}
	r.decode(t, &started)
	if !h.jobs.jobs[started.JobID].Full {
		t.Errorf("full=true did not reach the service")
	}
	wantError(t, h.do(jsonReq("POST", "/v1/jobs/rescore", adminKey, `{"full":"yes"}`)), http.StatusBadRequest, models.EBADREQUEST)
}

func TestAuditTrail(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	h.do(request{method: "GET", path: "/v1/children/" + c.ID, key: investigatorKey})
	h.do(request{method: "GET", path: "/v1/children/nope", key: investigatorKey})
	h.do(multipartReq("POST", "/v1/search", portalKey, queryPart(map[string]any{"kind": "missing", "names": []string{"Secretname"}})))
	h.do(request{method: "GET", path: "/healthz"})

	entries := h.audit.all()
	if len(entries) != 4 {
		t.Fatalf("%d audit entries, want 4 (healthz is not audited): %+v", len(entries), entries)
	}
	want := []models.AuditEntry{
		{KeyID: Key{Secret: portalKey}.ID(), Role: "portal", Action: "create", Target: c.ID, Route: "/v1/children", Status: 201},
		{KeyID: Key{Secret: investigatorKey}.ID(), Role: "investigator", Action: "read", Target: c.ID, Route: "/v1/children/:id", Status: 200},
		{KeyID: Key{Secret: investigatorKey}.ID(), Role: "investigator", Action: "read", Target: "nope", Route: "/v1/children/:id", Status: 404},
		{KeyID: Key{Secret: portalKey}.ID(), Role: "portal", Action: "search", Route: "/v1/search", Status: 200},
	}
	for i, w := range want {
		g := entries[i]
		g.ID, w.ID = "", ""
		if !g.At.Equal(fakeTime) {
			t.Errorf("entry %d at %v", i, g.At)
		}
		g.At = w.At
		if g != w {
			t.Errorf("entry %d = %+v\n        want %+v", i, g, w)
		}
	}

	r := h.do(request{method: "GET", path: "/v1/audit?limit=2", key: adminKey})
	if r.status != http.StatusOK {
		t.Fatalf("audit: %d %s", r.status, r.body)
	}
	var page auditView
	r.decode(t, &page)
	if len(page.Entries) != 2 || page.Entries[0].Action != "create" {
		t.Errorf("audit page = %s", r.body)
	}
	for _, e := range h.audit.all() {
		if strings.Contains(e.Target+e.Route+e.Action, "Secretname") {
			t.Errorf("a name reached the audit log: %+v", e)
		}
	}
	wantError(t, h.do(request{method: "GET", path: "/v1/audit?limit=5000", key: adminKey}), 400, models.EBADREQUEST)
}
