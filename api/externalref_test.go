package api

import (
	"net/http"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// TestExternalRefRefusals: a reference of 200 Devanagari characters is a
// record; 201, a zero-width space or white space at an end is 422 naming
// external_ref, on create, on update and in a search's query.
func TestExternalRefRefusals(t *testing.T) {
	h := newHarness(t)
	ref := strings.Repeat("क", models.MaxExternalRef)
	body := missingChild()
	body["external_ref"] = ref
	if v := h.createChild(body); v.ExternalRef != ref {
		t.Fatalf("created with external_ref %q, want the 200 characters sent", v.ExternalRef)
	}
	for name, bad := range map[string]string{
		"201 characters": ref + "क", "zero-width space": "CCI-88\u200b", "zero-width joiner": "CCI\u200d88",
		"trailing space": "CCI-88 ", "tab": "CCI\t88",
	} {
		t.Run(name, func(t *testing.T) {
			c := missingChild()
			c["external_ref"] = bad
			for _, req := range []request{
				jsonReq("POST", "/v1/children", portalKey, c),
				jsonReq("PUT", "/v1/children/child-1", portalKey, c),
				multipartReq("POST", "/v1/search", portalKey, queryPart(c)),
			} {
				e := wantError(t, h.do(req), http.StatusUnprocessableEntity, models.EINVALID)
				if len(e.Fields) != 1 || e.Fields[0].Field != "external_ref" {
					t.Errorf("%s %s: fields %v, want one on external_ref", req.method, req.path, e.Fields)
				}
			}
		})
	}
}
