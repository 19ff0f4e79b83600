package main

// The generated Go client (api/apiclient, oapi-codegen from the server's
// own /openapi.json) runs the whole portal flow against the real binary on
// loopback: create, photo, search, candidates, import, re-score job, match,
// decision. And the committed client is what the served document generates.

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/trackmatch/trackmatch/api/apiclient"
)

func ptr[T any](v T) *T { return &v }

func TestGeneratedClientFlow(t *testing.T) {
	s := startServer(t, serverOptions{Args: apiRoomyRate})
	faces := sharedDir(t, "faces")
	ctx := context.Background()

	// The committed client is up to date with the document served.
	r := s.Do(t, "GET", "/openapi.json", "", "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("openapi.json: %d", r.Status)
	}
	dir := t.TempDir()
	docPath := filepath.Join(dir, "openapi.json")
	if err := os.WriteFile(docPath, r.Body, 0o600); err != nil {
		t.Fatal(err)
	}
	gen := exec.Command("go", "tool", "oapi-codegen", "-config", "oapi-codegen.yaml", docPath)
	gen.Dir = filepath.Join("..", "..", "api", "apiclient")
	var stderr bytes.Buffer
	gen.Stderr = &stderr
	fresh, err := gen.Output()
	if err != nil {
		t.Fatalf("oapi-codegen: %v\n%s", err, stderr.String())
	}
	committed, err := os.ReadFile(filepath.Join("..", "..", "api", "apiclient", "client.gen.go"))
	if err != nil || !bytes.Equal(fresh, committed) {
		t.Errorf("api/apiclient/client.gen.go is not what /openapi.json generates (%v); regenerate: "+
			"bin/trackmatch openapi > bin/openapi.json && (cd api/apiclient && go tool oapi-codegen -config oapi-codegen.yaml ../../bin/openapi.json > client.gen.go)", err)
	}

	auth := func(key string) apiclient.RequestEditorFn {
		return func(_ context.Context, req *http.Request) error {
			req.Header.Set("Authorization", "Bearer "+key)
			return nil
		}
	}
	c, err := apiclient.NewClientWithResponses(s.URL)
	if err != nil {
		t.Fatal(err)
	}
	day := func(s string) *openapi_types.Date {
		d, _ := time.Parse("2006-01-02", s)
		return &openapi_types.Date{Time: d}
	}
	// Create.
	created, err := c.CreateChildWithResponse(ctx, apiclient.ChildInput{Kind: "missing", ExternalRef: ptr("FIR-C-1"),
		Names: &[]string{"Amita Sharma"}, Sex: ptr(apiclient.ChildInputSex("female")), Age: &apiclient.AgeRangeInput{Min: 9, Max: 11},
		ObservedOn: day("2024-01-10"), Place: &apiclient.PlaceInput{State: ptr("Bihar")}}, auth(portalKey))
	if err != nil || created.JSON201 == nil {
		t.Fatalf("create: %v %s", err, created.Body)
	}
	missing := created.JSON201.Id
	// Photo.
	body, ct := multipartBody(t, photoPart(t, filepath.Join(faces, "amy", "amy1.png")))
	up, err := c.AddPhotoWithBodyWithResponse(ctx, missing, ct, bytes.NewReader(body), auth(portalKey))
	if err != nil || up.JSON201 == nil || len(up.JSON201.Faces) == 0 {
		t.Fatalf("photo: %v %s", err, up.Body)
	}
	// Import: the found child, with another photo of her, by base64.
	photo2, err := os.ReadFile(filepath.Join(faces, "amy", "amy2.png"))
	if err != nil {
		t.Fatal(err)
	}
	imp, err := c.ImportRecordsWithResponse(ctx, []apiclient.ImportRecord{{Kind: "found", ExternalRef: "CCI-C-1",
		Names: &[]string{"Amita"}, Sex: ptr(apiclient.ImportRecordSex("female")), Age: &apiclient.AgeRangeInput{Min: 9, Max: 12},
		ObservedOn: day("2024-06-01"), Photos: &[]apiclient.ImportPhoto{{Data: photo2, Name: ptr("amy2.png")}}}}, auth(portalKey))
	if err != nil || imp.JSON200 == nil || imp.JSON200.Summary.Created != 1 || imp.JSON200.Summary.PhotosCreated != 1 {
		t.Fatalf("import: %v %s", err, imp.Body)
	}
	found := *imp.JSON200.Results[0].Id
	// Search (stores nothing) and candidates.
	sbody, sct := multipartBody(t, queryPart(t, map[string]any{"kind": "missing", "names": []string{"Amita"}, "sex": "female"}),
		photoPart(t, filepath.Join(faces, "amy", "amy3.png")))
	sr, err := c.SearchWithBodyWithResponse(ctx, nil, sct, bytes.NewReader(sbody), auth(investigatorKey))
	if err != nil || sr.JSON200 == nil || len(sr.JSON200.Candidates) == 0 || sr.JSON200.Candidates[0].Id != found {
		t.Fatalf("search: %v %.300s", err, sr.Body)
	}
	cands, err := c.CandidatesWithResponse(ctx, missing, &apiclient.CandidatesParams{Limit: ptr(5)}, auth(investigatorKey))
	if err != nil || cands.JSON200 == nil || len(cands.JSON200.Candidates) == 0 || cands.JSON200.Candidates[0].Id != found {
		t.Fatalf("candidates: %v %.300s", err, cands.Body)
	}
	// Job.
	job, err := c.StartRescoreWithResponse(ctx, apiclient.RescoreInput{Full: ptr(true)}, auth(adminKey))
	if err != nil || job.JSON202 == nil {
		t.Fatalf("rescore: %v %s", err, job.Body)
	}
	for deadline := time.Now().Add(2 * time.Minute); ; time.Sleep(200 * time.Millisecond) {
		j, err := c.GetJobWithResponse(ctx, job.JSON202.JobId, auth(adminKey))
		if err != nil || j.JSON200 == nil {
			t.Fatalf("job: %v %s", err, j.Body)
		}
		if j.JSON200.State == "done" {
			break
		}
		if j.JSON200.State == "failed" || j.JSON200.State == "canceled" || time.Now().After(deadline) {
			t.Fatalf("job ended %s", j.JSON200.State)
		}
	}
	// Match and decision.
	ms, err := c.ListMatchesWithResponse(ctx, &apiclient.ListMatchesParams{}, auth(investigatorKey))
	if err != nil || ms.JSON200 == nil || len(ms.JSON200.Matches) == 0 {
		t.Fatalf("matches: %v %s", err, ms.Body)
	}
	m := ms.JSON200.Matches[0]
	if m.MissingId != missing || m.FoundId != found {
		t.Fatalf("best match %s~%s, want %s~%s", m.MissingId, m.FoundId, missing, found)
	}
	d, err := c.DecideMatchWithResponse(ctx, m.Id, apiclient.DecisionInput{Decision: "confirmed", Note: ptr("same child")}, auth(investigatorKey))
	if err != nil || d.JSON200 == nil || d.JSON200.Status != "confirmed" {
		t.Fatalf("decision: %v %s", err, d.Body)
	}
	// An error comes back typed.
	bad, err := c.GetChildWithResponse(ctx, "no-such-record", auth(investigatorKey))
	if err != nil || bad.JSON404 == nil || bad.JSON404.Error.Code != "not_found" {
		t.Fatalf("unknown record: %v %s", err, bad.Body)
	}
}
