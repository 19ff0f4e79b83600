package api

import (
	"bytes"
	"net/http"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// TestExplanationsByRole: every role may search and list candidates, but
// only a role that may read records sees the details that quote the other
// child's names and marks. The others see the same candidates, scores,
// probabilities, levels, weights and summaries.
func TestExplanationsByRole(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	routes := []struct {
		name string
		req  func(key string) request
	}{
		{"candidates", func(key string) request {
			return request{method: "GET", path: "/v1/children/" + c.ID + "/candidates", key: key}
		}},
		{"search", func(key string) request {
			return multipartReq("POST", "/v1/search", key, queryPart(map[string]any{"kind": "missing", "names": []string{"Sunita"}}))
		}},
	}
	want := fakeCandidates(models.KindFound, 10)
	for _, rt := range routes {
		for _, role := range allRoles() {
			t.Run(rt.name+"/"+string(role), func(t *testing.T) {
				r := h.do(rt.req(keyFor(role)))
				if r.status != http.StatusOK {
					t.Fatalf("%d %s", r.status, r.body)
				}
				var got candidatesView
				r.decode(t, &got)
				if len(got.Candidates) != len(want) {
					t.Fatalf("got %d candidates, want %d: %s", len(got.Candidates), len(want), r.body)
				}
				for i, g := range got.Candidates {
					w := want[i]
					if g.ID != w.ID || g.Probability != w.Probability || g.Score != w.Score || len(g.Explanation) != len(w.Explanation) {
						t.Fatalf("candidate %d = %+v, want %+v", i, g, w)
					}
					for j, e := range g.Explanation {
						we := w.Explanation[j]
						if e.Field != we.Field || e.Level != we.Level || e.Weight != we.Weight || e.Summary != we.Summary {
							t.Errorf("candidate %d field %d = %+v, want %+v", i, j, e, we)
						}
						wantDetail := we.Detail
						if role == RolePortal {
							wantDetail = ""
						}
						if e.Detail != wantDetail {
							t.Errorf("%s: candidate %d %s detail = %q, want %q", role, i, e.Field, e.Detail, wantDetail)
						}
					}
				}
				quotes := bytes.Contains(r.body, []byte(fakeName)) || bytes.Contains(r.body, []byte(fakeMark))
				if mayRead := role != RolePortal; quotes != mayRead {
					t.Errorf("%s: body quotes the other record: %v, want %v: %s", role, quotes, mayRead, r.body)
				}
			})
		}
	}
}

// TestMatchesKeepDetailsForReaders: the review queue is for roles that read
// records; they get the full explanation and the portal gets 403.
func TestMatchesKeepDetailsForReaders(t *testing.T) {
	h := newHarness(t)
	for _, role := range allRoles() {
		r := h.do(request{method: "GET", path: "/v1/matches", key: keyFor(role)})
		if role == RolePortal {
			wantError(t, r, http.StatusForbidden, models.EFORBIDDEN)
			continue
		}
		var got matchesView
		r.decode(t, &got)
		if len(got.Matches) == 0 || len(got.Matches[0].Explanation) == 0 || got.Matches[0].Explanation[0].Detail == "" {
			t.Errorf("%s: matches lost their details: %s", role, r.body)
		}
	}
}

// TestExplanationForCopies: hiding details for one caller must not change
// the candidates the service returned, which another caller may share.
func TestExplanationForCopies(t *testing.T) {
	es := fakeCandidates(models.KindFound, 1)[0].Explanation
	hidden := explanationFor(es, RolePortal)
	for i := range es {
		if es[i].Detail == "" || hidden[i].Detail != "" || hidden[i].Summary != es[i].Summary {
			t.Errorf("field %s: original detail %q, shown detail %q", es[i].Field, es[i].Detail, hidden[i].Detail)
		}
	}
}

// TestReadsRecordsIsGetChild: the roles that see details are exactly the
// roles that may read a record, so a change to one cannot leave the other
// behind.
func TestReadsRecordsIsGetChild(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	for _, role := range allRoles() {
		r := h.do(request{method: "GET", path: "/v1/children/" + c.ID, key: keyFor(role)})
		if (r.status == http.StatusOK) != role.readsRecords() {
			t.Errorf("%s: GET a record answered %d, but readsRecords is %v", role, r.status, role.readsRecords())
		}
	}
}
