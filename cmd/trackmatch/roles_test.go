package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestAPIExplanationsByRole runs the real server: every role may list a
// record's candidates and search, but only roles that may read records
// (investigator, admin) get explanations that quote the other child's
// names, marks, places and languages. A portal key gets the same
// candidates with their scores, probabilities, levels, weights and
// summaries, and none of that text.
func TestAPIExplanationsByRole(t *testing.T) {
	s := startServer(t, serverOptions{Args: apiRoomyRate})
	found := map[string]any{"kind": "found", "external_ref": "CCI-ROLES-1", "names": []string{"Sunita Kumari"}, "sex": "female",
		"age": map[string]int{"min": 9, "max": 11}, "observed_on": "2024-03-01", "marks": "mole on left cheek",
		"languages": []string{"Bhojpuri"}, "place": map[string]string{"state": "Bihar", "district": "Patna"}}
	missing := map[string]any{"kind": "missing", "names": []string{"Suneeta"}, "sex": "female",
		"age": map[string]int{"min": 8, "max": 9}, "observed_on": "2022-01-10", "marks": "til baayen gaal par",
		"languages": []string{"Maithili"}, "place": map[string]string{"state": "Bihar", "district": "Gaya"}}
	ids := map[string]string{}
	for label, body := range map[string]map[string]any{"found": found, "missing": missing} {
		r := s.JSON(t, "POST", "/v1/children", portalKey, body)
		if r.Status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", label, r.Status, r.Body)
		}
		var c apiChild
		r.JSON(t, &c)
		ids[label] = c.ID
	}
	// Text of either record that an explanation could quote.
	personal := []string{"Sunita", "Kumari", "Suneeta", "mole", "cheek", "gaal", "Bhojpuri", "Maithili", "Bihar", "Patna", "Gaya", "CCI-ROLES"}

	type contribution struct {
		Field   string   `json:"field"`
		Level   string   `json:"level"`
		Weight  *float64 `json:"weight"`
		Summary string   `json:"summary"`
		Detail  *string  `json:"detail"`
	}
	type answer struct {
		Candidates []struct {
			ID          string         `json:"id"`
			Probability *float64       `json:"probability"`
			Score       *float64       `json:"score"`
			Explanation []contribution `json:"explanation"`
		} `json:"candidates"`
	}
	keys := map[string]string{"portal": portalKey, "investigator": investigatorKey, "admin": adminKey}
	routes := map[string]func(key string) response{
		"candidates": func(key string) response {
			return s.Do(t, "GET", "/v1/children/"+ids["missing"]+"/candidates", key, "", nil)
		},
		"search": func(key string) response {
			return s.Multipart(t, "POST", "/v1/search", key, queryPart(t, missing))
		},
	}
	for route, do := range routes {
		for role, key := range keys {
			t.Run(route+"/"+role, func(t *testing.T) {
				r := do(key)
				if r.Status != http.StatusOK {
					t.Fatalf("%d %s", r.Status, r.Body)
				}
				var a answer
				if err := json.Unmarshal(r.Body, &a); err != nil {
					t.Fatalf("decode %s: %v", r.Body, err)
				}
				if len(a.Candidates) != 1 || a.Candidates[0].ID != ids["found"] {
					t.Fatalf("want the found record as the one candidate: %s", r.Body)
				}
				c := a.Candidates[0]
				if c.Probability == nil || c.Score == nil || len(c.Explanation) == 0 {
					t.Fatalf("candidate lacks probability, score or explanation: %s", r.Body)
				}
				levels := map[string]string{}
				for _, e := range c.Explanation {
					levels[e.Field] = e.Level
					if e.Weight == nil || !strings.HasPrefix(e.Summary, e.Field+": ") {
						t.Errorf("%s: lacks a weight or a summary: %+v", e.Field, e)
					}
					if shown := e.Detail != nil; shown != (role != "portal") {
						t.Errorf("%s: detail shown %v to the %s role", e.Field, shown, role)
					}
				}
				if levels["name"] == "" || levels["marks"] != "match" || levels["place"] != "state" {
					t.Errorf("the pair was meant to agree on names, marks and state: levels %v", levels)
				}
				body := string(r.Body)
				for _, w := range personal {
					if quoted := strings.Contains(body, w); quoted && role == "portal" {
						t.Errorf("the portal's answer quotes %q: %s", w, body)
					}
				}
				if role != "portal" && (!strings.Contains(body, "Sunita") || !strings.Contains(body, "mole")) {
					t.Errorf("the %s role's answer does not quote the records' names and marks: %s", role, body)
				}
			})
		}
	}
}
