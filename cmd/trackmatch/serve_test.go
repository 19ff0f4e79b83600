package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestServeRegisterAndFindByPhoto is the slice a portal relies on: register
// found children with photos over HTTP, then find one of them from a
// different photo of the same person through /v1/search, ranked first.
func TestServeRegisterAndFindByPhoto(t *testing.T) {
	faces := sharedDir(t, "faces")
	s := startServer(t, serverOptions{})
	people := []string{"amy", "bernadette", "howard", "leonard", "penny", "raj", "sheldon", "stuart"}
	ids := map[string]string{}
	for _, p := range people {
		r := s.JSON(t, "POST", "/v1/children", portalKey, map[string]any{
			"kind": "found", "external_ref": "CCI-" + p, "sex": "unknown"})
		if r.Status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", p, r.Status, r.Body)
		}
		var c struct{ ID string }
		r.JSON(t, &c)
		ids[p] = c.ID
		r = s.Multipart(t, "POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(t, faces+"/"+p+"/"+p+"1.png"))
		if r.Status != http.StatusCreated {
			t.Fatalf("photo %s: %d %s", p, r.Status, r.Body)
		}
	}
	r := s.Multipart(t, "POST", "/v1/search", investigatorKey,
		queryPart(t, map[string]any{"kind": "missing"}), photoPart(t, faces+"/penny/penny3.png"))
	if r.Status != http.StatusOK {
		t.Fatalf("search: %d %s", r.Status, r.Body)
	}
	var res struct {
		Candidates []struct {
			ID          string
			Probability float64
			Explanation []struct{ Field, Detail string }
		}
	}
	r.JSON(t, &res)
	if len(res.Candidates) == 0 || res.Candidates[0].ID != ids["penny"] {
		t.Fatalf("penny not ranked first: %s", r.Body)
	}
	var sawFace bool
	for _, e := range res.Candidates[0].Explanation {
		sawFace = sawFace || (e.Field == "face" && strings.Contains(e.Detail, "distance"))
	}
	if !sawFace {
		t.Errorf("top candidate's explanation has no face distance: %s", r.Body)
	}
	// The same holds after a restart: the vector index is rebuilt from Badger.
	s.Restart()
	r = s.Multipart(t, "POST", "/v1/search", investigatorKey,
		queryPart(t, map[string]any{"kind": "missing"}), photoPart(t, faces+"/penny/penny3.png"))
	r.JSON(t, &res)
	if len(res.Candidates) == 0 || res.Candidates[0].ID != ids["penny"] {
		t.Fatalf("after restart penny not ranked first: %s", r.Body)
	}
}
