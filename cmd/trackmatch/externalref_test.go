package main

import (
	"net/http"
	"strings"
	"testing"
)

// TestAPIExternalRefInCharacters runs the real server and store: an
// external_ref of 200 Devanagari characters (600 bytes) makes a record that
// reads back whole and keeps creation idempotent; 201 characters, or a
// reference that differs from a stored one only by a zero-width space, is
// 422 naming external_ref.
func TestAPIExternalRefInCharacters(t *testing.T) {
	s := startServer(t, serverOptions{Args: apiRoomyRate})
	ref := strings.Repeat("क", 200)
	body := map[string]any{"kind": "found", "external_ref": ref, "names": []string{"पूजा"}}
	r := s.JSON(t, "POST", "/v1/children", portalKey, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("200 Devanagari characters: %d %s", r.Status, r.Body)
	}
	var c apiChild
	r.JSON(t, &c)
	var got apiChild
	s.Do(t, "GET", "/v1/children/"+c.ID, investigatorKey, "", nil).JSON(t, &got)
	if got.ExternalRef != ref {
		t.Errorf("read back external_ref of %d characters, want the 200 sent", len([]rune(got.ExternalRef)))
	}
	r = s.JSON(t, "POST", "/v1/children", portalKey, body)
	var again apiChild
	r.JSON(t, &again)
	if r.Status != http.StatusOK || again.ID != c.ID {
		t.Errorf("retry with the same reference: %d id %q, want 200 and %q", r.Status, again.ID, c.ID)
	}
	if r := s.JSON(t, "POST", "/v1/children", portalKey, map[string]any{"kind": "found", "external_ref": "CCI-88"}); r.Status != http.StatusCreated {
		t.Fatalf("CCI-88: %d %s", r.Status, r.Body)
	}
	for name, bad := range map[string]string{"201 characters": ref + "क", "zero-width space": "CCI-88\u200b", "trailing space": "CCI-88 "} {
		r := s.JSON(t, "POST", "/v1/children", portalKey, map[string]any{"kind": "found", "external_ref": bad})
		e := wantError(t, name, r, http.StatusUnprocessableEntity, "invalid")
		if len(e.Error.Fields) != 1 || e.Error.Fields[0].Field != "external_ref" {
			t.Errorf("%s: fields %+v, want one on external_ref", name, e.Error.Fields)
		}
	}
}
