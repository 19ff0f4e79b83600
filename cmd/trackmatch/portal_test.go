package main

// End-to-end tests of the portal routes of issue 17 against the real
// binary: listing records (and a portal's lookup by its own reference),
// the same photo uploaded twice, deleting a photo with its descriptors and
// the matches only it supported, the job list, and the CSV and JSON
// exports of matches and decisions, each audited.

import (
	"bytes"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

type apiChildren struct {
	Children []apiChild `json:"children"`
	Refs     []struct {
		ID, Kind, ExternalRef, Status string
	} `json:"refs"`
	NextCursor *string `json:"next_cursor"`
}

type apiMatch struct {
	ID          string  `json:"id"`
	MissingID   string  `json:"missing_id"`
	FoundID     string  `json:"found_id"`
	Probability float64 `json:"probability"`
	Status      string  `json:"status"`
}

func (a *apiSession) list(t *testing.T, key, query string) (apiChildren, response) {
	t.Helper()
	r := a.Do(t, "GET", "/v1/children?"+query, key, "", nil)
	var v apiChildren
	if r.Status == http.StatusOK {
		r.JSON(t, &v)
	}
	return v, r
}

func childIDs(v apiChildren) []string {
	var ids []string
	for _, c := range v.Children {
		ids = append(ids, c.ID)
	}
	slices.Sort(ids)
	return ids
}

// runRescore starts a full re-score and waits for it to finish.
func (a *apiSession) runRescore(t *testing.T) string {
	t.Helper()
	r := a.JSON(t, "POST", "/v1/jobs/rescore", adminKey, map[string]bool{"full": true})
	if r.Status != http.StatusAccepted {
		t.Fatalf("rescore: %d %s", r.Status, r.Body)
	}
	var started struct {
		JobID string `json:"job_id"`
	}
	r.JSON(t, &started)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		var job struct{ State string }
		a.Do(t, "GET", "/v1/jobs/"+started.JobID, adminKey, "", nil).JSON(t, &job)
		if job.State == "done" {
			return started.JobID
		}
		if job.State == "failed" || job.State == "canceled" {
			t.Fatalf("rescore ended %s", job.State)
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Fatal("rescore did not finish in 2 minutes")
	return ""
}

func (a *apiSession) matches(t *testing.T) map[string]apiMatch {
	t.Helper()
	r := a.Do(t, "GET", "/v1/matches?limit=500", investigatorKey, "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("matches: %d %s", r.Status, r.Body)
	}
	var v struct {
		Matches []apiMatch `json:"matches"`
	}
	r.JSON(t, &v)
	out := map[string]apiMatch{}
	for _, m := range v.Matches {
		out[m.ID] = m
	}
	return out
}

func csvRows(t *testing.T, what string, r response) [][]string {
	t.Helper()
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("%s: %d %s %.300s", what, r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatalf("%s is not CSV: %v", what, err)
	}
	return rows
}

func TestAPIPortalRoutes(t *testing.T) {
	a := newAPISession(t, serverOptions{Args: apiRoomyRate})
	amy := map[string]any{"kind": "missing", "external_ref": "FIR-P-1", "names": []string{"Amita Sharma"}, "sex": "female",
		"age": map[string]int{"min": 9, "max": 11}, "observed_on": "2024-01-10",
		"place": map[string]string{"state": "Bihar", "district": "Patna"}}
	missing := a.create(t, "amy-missing", amy)
	amyFound := map[string]any{"kind": "found", "external_ref": "CCI-P-1", "names": []string{"Amita"}, "sex": "female",
		"age": map[string]int{"min": 9, "max": 12}, "observed_on": "2024-06-01",
		"place": map[string]string{"state": "Kerala", "district": "Kochi"}}
	found := a.create(t, "amy-found", amyFound)
	// A missing child with nothing but a photo: only the face links it.
	faceOnly := a.create(t, "face-only", map[string]any{"kind": "missing", "external_ref": "FIR-P-2", "sex": "female", "observed_on": "2024-02-01"})

	t.Run("same photo twice", func(t *testing.T) {
		p := a.photo(t, "amy/amy1.png")
		first := a.upload(t, missing, p)
		r := a.Multipart(t, "POST", "/v1/children/"+missing+"/photos", portalKey, p)
		if r.Status != http.StatusOK {
			t.Fatalf("second upload of the same bytes: %d %s, want 200", r.Status, r.Body)
		}
		var again apiUpload
		r.JSON(t, &again)
		if again.PhotoID != first.PhotoID || len(again.Faces) != len(first.Faces) {
			t.Errorf("second upload: %s, want photo %s", r.Body, first.PhotoID)
		}
		if c, _ := a.get(t, missing); len(c.Photos) != 1 {
			t.Errorf("the record holds %d photos after the same bytes twice, want 1", len(c.Photos))
		}
	})
	foundPhoto := a.upload(t, found, a.photo(t, "amy/amy2.png"))
	a.upload(t, faceOnly, a.photo(t, "amy/amy3.png"))

	t.Run("list children", func(t *testing.T) {
		v, r := a.list(t, investigatorKey, "")
		if r.Status != http.StatusOK || len(v.Children) != 3 || v.NextCursor == nil || *v.NextCursor != "" {
			t.Fatalf("all: %d %.500s", r.Status, r.Body)
		}
		if len(v.Children[0].Photos) == 0 && len(v.Children[1].Photos) == 0 {
			t.Errorf("listed records come without their photos: %.300s", r.Body)
		}
		for _, c := range []struct {
			q    string
			want []string
		}{
			{"kind=missing", []string{missing, faceOnly}},
			{"kind=found", []string{found}},
			{"state=BIHAR", []string{missing}},
			{"district=kochi&kind=found", []string{found}},
			{"external_ref=CCI-P-1", []string{found}},
			{"external_ref=CCI-P-1&kind=missing", nil},
			{"status=open&kind=found", []string{found}},
			{"status=matched", nil},
			{"created_since=2000-01-01T00:00:00Z&kind=found", []string{found}},
			{"updated_since=" + url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339)), nil},
		} {
			want := slices.Clone(c.want)
			slices.Sort(want)
			v, r := a.list(t, adminKey, c.q)
			if r.Status != http.StatusOK || !slices.Equal(childIDs(v), want) {
				t.Errorf("%s: %d %v, want %v", c.q, r.Status, childIDs(v), want)
			}
		}
		// Pages of one, in id order, until next_cursor is "".
		var seen []string
		cursor := ""
		for range 5 {
			v, r := a.list(t, investigatorKey, "limit=1&cursor="+url.QueryEscape(cursor))
			if r.Status != http.StatusOK || len(v.Children) > 1 {
				t.Fatalf("page: %d %.300s", r.Status, r.Body)
			}
			for _, c := range v.Children {
				seen = append(seen, c.ID)
			}
			if cursor = *v.NextCursor; cursor == "" {
				break
			}
		}
		want := []string{missing, found, faceOnly}
		slices.Sort(want) // id order: creation order to the millisecond
		if !slices.Equal(seen, want) {
			t.Errorf("pages gave %v, want %v", seen, want)
		}

		// A portal finds its own reference, and learns only ids and status.
		v, r = a.list(t, portalKey, "kind=found&external_ref=CCI-P-1")
		if r.Status != http.StatusOK || len(v.Refs) != 1 || v.Refs[0].ID != found || v.Refs[0].Status != "open" || v.Children != nil {
			t.Errorf("portal lookup: %d %s", r.Status, r.Body)
		}
		if bytes.Contains(r.Body, []byte("Amita")) || bytes.Contains(r.Body, []byte("Kochi")) {
			t.Errorf("portal lookup carries personal data: %s", r.Body)
		}
		for _, q := range []string{"", "kind=found", "external_ref=CCI-P-1", "state=Kerala&kind=found"} {
			_, r := a.list(t, portalKey, q)
			wantError(t, "portal listing "+q, r, http.StatusUnprocessableEntity, "invalid")
		}
		for _, q := range []string{"kind=all", "status=lost", "created_since=monday", "limit=0", "limit=501", "cursor=!!!", "cursor=" + strings.Repeat("A", 40),
			"district=" + strings.Repeat("d", 201)} {
			_, r := a.list(t, investigatorKey, q)
			wantError(t, "listing "+q, r, http.StatusBadRequest, "bad_request")
		}
		wantError(t, "listing without a key", a.Do(t, "GET", "/v1/children", "", "", nil), http.StatusUnauthorized, "unauthorized")
	})

	// A gallery of one found child makes any pair likely (the prior is one
	// in the gallery's size): boys who match no one make it a real one.
	for i := range 30 {
		a.create(t, "boy", map[string]any{"kind": "found", "external_ref": "CCI-BOY-" + strconv.Itoa(i), "sex": "male",
			"names": []string{"Ravi Kumar"}, "age": map[string]int{"min": 3, "max": 4}, "observed_on": "2024-05-01"})
	}

	var jobID string
	t.Run("jobs", func(t *testing.T) {
		r := a.Do(t, "GET", "/v1/jobs", adminKey, "", nil)
		if r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte(`"jobs":[]`)) {
			t.Errorf("no jobs yet: %d %s", r.Status, r.Body)
		}
		jobID = a.runRescore(t)
		r = a.Do(t, "GET", "/v1/jobs?limit=10", adminKey, "", nil)
		var v struct {
			Jobs []struct{ ID, State string } `json:"jobs"`
		}
		r.JSON(t, &v)
		if r.Status != http.StatusOK || len(v.Jobs) != 1 || v.Jobs[0].ID != jobID || v.Jobs[0].State != "done" {
			t.Errorf("jobs: %d %s", r.Status, r.Body)
		}
		wantError(t, "jobs as investigator", a.Do(t, "GET", "/v1/jobs", investigatorKey, "", nil), http.StatusForbidden, "forbidden")
		wantError(t, "jobs limit", a.Do(t, "GET", "/v1/jobs?limit=x", adminKey, "", nil), http.StatusBadRequest, "bad_request")
		wantError(t, "jobs without a key", a.Do(t, "GET", "/v1/jobs", "", "", nil), http.StatusUnauthorized, "unauthorized")
	})
	if jobID == "" {
		t.Fatal("no re-score ran; the rest needs its matches")
	}

	named := missing + "~" + found
	faceMatch := faceOnly + "~" + found
	ms := a.matches(t)
	if _, ok := ms[named]; !ok {
		t.Fatalf("the re-score found no match %s: %v", named, ms)
	}
	if _, ok := ms[faceMatch]; !ok {
		t.Fatalf("the re-score found no face-only match %s: %v", faceMatch, ms)
	}

	t.Run("decisions and exports", func(t *testing.T) {
		evil := "=HYPERLINK(\"http://x\",\"y\")"
		for _, d := range []map[string]string{{"decision": "rejected", "note": "first look"}, {"decision": "confirmed", "note": evil}} {
			if r := a.JSON(t, "POST", "/v1/matches/"+named+"/decision", investigatorKey, d); r.Status != http.StatusOK {
				t.Fatalf("decide: %d %s", r.Status, r.Body)
			}
		}
		r := a.Do(t, "GET", "/v1/decisions", investigatorKey, "", nil)
		var h struct {
			Decisions []struct {
				MatchID  string `json:"match_id"`
				Decision string `json:"decision"`
				Note     string `json:"note"`
			} `json:"decisions"`
			NextCursor string `json:"next_cursor"`
		}
		r.JSON(t, &h)
		if r.Status != http.StatusOK || len(h.Decisions) != 2 || h.Decisions[0].Decision != "rejected" || h.Decisions[1].Decision != "confirmed" ||
			h.Decisions[1].MatchID != named {
			t.Fatalf("history: %d %s", r.Status, r.Body)
		}
		r = a.Do(t, "GET", "/v1/decisions?limit=1", investigatorKey, "", nil)
		r.JSON(t, &h)
		if len(h.Decisions) != 1 || h.NextCursor == "" {
			t.Fatalf("first page: %s", r.Body)
		}
		r = a.Do(t, "GET", "/v1/decisions?limit=1&cursor="+url.QueryEscape(h.NextCursor), investigatorKey, "", nil)
		r.JSON(t, &h)
		if len(h.Decisions) != 1 || h.Decisions[0].Decision != "confirmed" || h.NextCursor != "" {
			t.Errorf("second page: %s", r.Body)
		}
		rows := csvRows(t, "decisions.csv", a.Do(t, "GET", "/v1/decisions.csv", adminKey, "", nil))
		if len(rows) != 3 || rows[0][0] != "match_id" || rows[2][3] != "confirmed" || rows[2][6] != "'"+evil {
			t.Errorf("decisions.csv rows %q", rows)
		}
		for _, path := range []string{"/v1/matches.csv?status=confirmed", "/v1/matches?status=confirmed"} {
			req, _ := http.NewRequest("GET", a.URL+path, nil)
			req.Header.Set("Authorization", "Bearer "+investigatorKey)
			req.Header.Set("Accept", "text/csv")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
			rows := csvRows(t, path, response{Status: resp.StatusCode, Header: resp.Header, Body: body.Bytes()})
			if len(rows) != 2 || rows[1][0] != named || rows[1][5] != "confirmed" || rows[1][9] != "'"+evil {
				t.Errorf("%s rows %q", path, rows)
			}
		}
		wantError(t, "decisions as portal", a.Do(t, "GET", "/v1/decisions", portalKey, "", nil), http.StatusForbidden, "forbidden")
		wantError(t, "decisions.csv as portal", a.Do(t, "GET", "/v1/decisions.csv", portalKey, "", nil), http.StatusForbidden, "forbidden")
		wantError(t, "matches.csv as portal", a.Do(t, "GET", "/v1/matches.csv", portalKey, "", nil), http.StatusForbidden, "forbidden")
		wantError(t, "decisions since", a.Do(t, "GET", "/v1/decisions?since=x", adminKey, "", nil), http.StatusBadRequest, "bad_request")
		wantError(t, "decisions cursor", a.Do(t, "GET", "/v1/decisions?cursor=AAAA", adminKey, "", nil), http.StatusBadRequest, "bad_request")
		wantError(t, "decisions.csv since", a.Do(t, "GET", "/v1/decisions.csv?since=x", adminKey, "", nil), http.StatusBadRequest, "bad_request")
		wantError(t, "matches.csv status", a.Do(t, "GET", "/v1/matches.csv?status=x", adminKey, "", nil), http.StatusBadRequest, "bad_request")
		wantError(t, "exports without a key", a.Do(t, "GET", "/v1/matches.csv", "", "", nil), http.StatusUnauthorized, "unauthorized")
	})

	t.Run("delete photo", func(t *testing.T) {
		before := a.matches(t)
		t.Logf("before: named %.4f, face only %.4f", before[named].Probability, before[faceMatch].Probability)
		wantError(t, "delete photo as investigator", a.Do(t, "DELETE", "/v1/photos/"+foundPhoto.PhotoID, investigatorKey, "", nil), http.StatusForbidden, "forbidden")
		wantError(t, "delete photo without a key", a.Do(t, "DELETE", "/v1/photos/"+foundPhoto.PhotoID, "", "", nil), http.StatusUnauthorized, "unauthorized")
		r := a.Do(t, "DELETE", "/v1/photos/"+foundPhoto.PhotoID, portalKey, "", nil)
		if r.Status != http.StatusNoContent {
			t.Fatalf("delete photo: %d %s", r.Status, r.Body)
		}
		a.held[found]--
		wantError(t, "photo after delete", a.Do(t, "GET", "/v1/photos/"+foundPhoto.PhotoID, investigatorKey, "", nil), http.StatusNotFound, "not_found")
		wantError(t, "delete photo again", a.Do(t, "DELETE", "/v1/photos/"+foundPhoto.PhotoID, portalKey, "", nil), http.StatusNotFound, "not_found")
		if c, _ := a.get(t, found); len(c.Photos) != 0 {
			t.Errorf("the record still lists %d photos", len(c.Photos))
		}
		// The descriptor left the vector index: a photo search no longer finds the record by face.
		res := a.search(t, map[string]any{"kind": "missing", "sex": "female"}, a.photo(t, "amy/amy4.png"))
		if slices.Contains(candidateIDs(res), found) {
			t.Errorf("a photo search still finds %s by a deleted photo's face", found)
		}
		after := a.matches(t)
		t.Logf("after: named %.4f", after[named].Probability)
		if _, ok := after[faceMatch]; ok {
			t.Errorf("the undecided match %s that only the photo supported is still queued: %+v", faceMatch, after[faceMatch])
		}
		got, ok := after[named]
		if !ok || got.Status != "confirmed" {
			t.Fatalf("the decided match %s is gone or lost its decision: %+v", named, got)
		}
		if got.Probability >= before[named].Probability {
			t.Errorf("the decided match was not re-scored without the face: %.4f, before %.4f", got.Probability, before[named].Probability)
		}
	})

	t.Run("audited", func(t *testing.T) {
		r := a.Do(t, "GET", "/v1/audit?limit=1000", adminKey, "", nil)
		var au apiAudit
		r.JSON(t, &au)
		want := map[string]bool{
			"read /v1/children 200": false, "read /v1/children 422": false, "export /v1/decisions 200": false,
			"export /v1/decisions.csv 200": false, "export /v1/matches.csv 200": false, "read /v1/matches 200": false,
			"delete /v1/photos/:id 204": false, "read /v1/jobs 200": false,
		}
		for _, e := range au.Entries {
			k := e.Action + " " + e.Route + " " + strconv.Itoa(e.Status)
			if _, ok := want[k]; ok {
				want[k] = true
			}
			if k == "delete /v1/photos/:id 204" && e.Target != foundPhoto.PhotoID {
				t.Errorf("photo delete audited with target %q", e.Target)
			}
		}
		for k, seen := range want {
			if !seen {
				t.Errorf("no audit entry %q", k)
			}
		}
	})
	a.checkStillHeld(t)
	a.checkLogsPrivate(t)
}
