package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func missingChild() map[string]any {
	return map[string]any{
		"kind": "missing", "external_ref": "FIR-2026-0042", "names": []string{"Asha Kumari"},
		"sex": "female", "age": map[string]int{"min": 7, "max": 8}, "observed_on": "2025-11-02",
		"place": map[string]string{"state": "Bihar", "district": "Patna"},
	}
}

func TestCreateChildThenRetryReturnsSameRecord(t *testing.T) {
	h := newHarness(t)
	r := h.do(jsonReq("POST", "/v1/children", portalKey, missingChild()))
	if r.status != http.StatusCreated {
		t.Fatalf("create: %d %s", r.status, r.body)
	}
	var first childView
	r.decode(t, &first)
	if first.ID == "" || first.Kind != models.KindMissing || first.Sex != models.SexFemale {
		t.Fatalf("created record = %+v", first.Child)
	}
	if got := r.header.Get("Location"); got != "/v1/children/"+first.ID {
		t.Errorf("Location = %q", got)
	}
	if first.Photos == nil || !bytes.Contains(r.body, []byte(`"photos":[]`)) {
		t.Errorf("photos must be an empty list, body %s", r.body)
	}

	r = h.do(jsonReq("POST", "/v1/children", portalKey, missingChild()))
	if r.status != http.StatusOK {
		t.Fatalf("retry: %d %s, want 200", r.status, r.body)
	}
	var again childView
	r.decode(t, &again)
	if again.ID != first.ID {
		t.Errorf("retry gave id %q, first %q: a duplicate was created", again.ID, first.ID)
	}
	if n := len(h.children.children); n != 1 {
		t.Errorf("%d records stored, want 1", n)
	}
}

func TestGetChildShowsPhotosWithoutDescriptors(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	up := h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(jpegish("x"))))
	if up.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", up.status, up.body)
	}
	r := h.do(request{method: "GET", path: "/v1/children/" + c.ID, key: investigatorKey})
	if r.status != http.StatusOK {
		t.Fatalf("get: %d %s", r.status, r.body)
	}
	var got struct {
		ID     string `json:"id"`
		Photos []struct {
			ID    string           `json:"id"`
			Faces []map[string]any `json:"faces"`
		} `json:"photos"`
	}
	r.decode(t, &got)
	if got.ID != c.ID || len(got.Photos) != 1 || len(got.Photos[0].Faces) != 1 || got.Photos[0].ID == "" {
		t.Fatalf("record = %s", r.body)
	}
	face := got.Photos[0].Faces[0]
	for _, k := range []string{"box", "quality", "landmarks"} {
		if _, ok := face[k]; !ok {
			t.Errorf("face lacks %q: %v", k, face)
		}
	}
	if bytes.Contains(r.body, []byte("descriptor")) || bytes.Contains(r.body, []byte("0.123456")) {
		t.Errorf("face descriptor leaked into the API: %s", r.body)
	}
}

func TestUpdateChild(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	upd := missingChild()
	upd["names"] = []string{"Asha"}
	upd["status"] = "closed"
	r := h.do(jsonReq("PUT", "/v1/children/"+c.ID, portalKey, upd))
	if r.status != http.StatusOK {
		t.Fatalf("update: %d %s", r.status, r.body)
	}
	var got childView
	r.decode(t, &got)
	if got.ID != c.ID || got.Status != models.StatusClosed || len(got.Names) != 1 || got.Names[0] != "Asha" {
		t.Errorf("updated = %+v", got.Child)
	}

	upd["kind"] = "found"
	r = h.do(jsonReq("PUT", "/v1/children/"+c.ID, portalKey, upd))
	wantError(t, r, http.StatusConflict, models.ECONFLICT)

	r = h.do(jsonReq("PUT", "/v1/children/nope", portalKey, missingChild()))
	wantError(t, r, http.StatusNotFound, models.ENOTFOUND)
}

func TestDeleteChild(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	r := h.do(request{method: "DELETE", path: "/v1/children/" + c.ID, key: portalKey})
	if r.status != http.StatusNoContent || len(r.body) != 0 {
		t.Fatalf("delete: %d %q", r.status, r.body)
	}
	r = h.do(request{method: "GET", path: "/v1/children/" + c.ID, key: adminKey})
	wantError(t, r, http.StatusNotFound, models.ENOTFOUND)
	r = h.do(request{method: "DELETE", path: "/v1/children/" + c.ID, key: portalKey})
	wantError(t, r, http.StatusNotFound, models.ENOTFOUND)
}

func TestAddPhotoAndReadItBack(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	img := jpegish("readback")
	r := h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(img)))
	if r.status != http.StatusCreated {
		t.Fatalf("upload: %d %s", r.status, r.body)
	}
	var up photoUploadView
	r.decode(t, &up)
	if up.PhotoID == "" || up.ChildID != c.ID || len(up.Faces) != 1 || up.Faces[0].Box != [4]int{10, 20, 100, 120} || up.Faces[0].Quality.SizePx != 100 {
		t.Fatalf("upload answer = %s", r.body)
	}
	if bytes.Contains(r.body, []byte("descriptor")) {
		t.Errorf("descriptor in upload answer: %s", r.body)
	}

	r = h.do(request{method: "GET", path: "/v1/photos/" + up.PhotoID, key: investigatorKey})
	if r.status != http.StatusOK || !bytes.Equal(r.body, img) {
		t.Fatalf("photo: %d, %d bytes, want the %d uploaded", r.status, len(r.body), len(img))
	}
	if ct := r.header.Get("Content-Type"); ct != "image/jpeg" {
		t.Errorf("photo Content-Type = %q", ct)
	}
	if r.header.Get("X-Content-Type-Options") != "nosniff" || r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("photo lacks nosniff/no-store headers: %v", r.header)
	}
	r = h.do(request{method: "GET", path: "/v1/photos/photo-999", key: investigatorKey})
	wantError(t, r, http.StatusNotFound, models.ENOTFOUND)
}

func TestAddPhotoErrors(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxPhotoBytes = 4096 })
	c := h.createChild(missingChild())
	path := "/v1/children/" + c.ID + "/photos"
	tests := []struct {
		name   string
		req    request
		status int
		code   string
	}{
		{"no face", multipartReq("POST", path, portalKey, photoPart([]byte("NOFACE..."))), 422, models.ENOFACE},
		{"corrupt", multipartReq("POST", path, portalKey, photoPart([]byte("CORRUPT..."))), 422, models.ECORRUPT},
		{"not an image", multipartReq("POST", path, portalKey, photoPart([]byte("NOTIMAGE"))), 415, models.EUNSUPPORTED},
		{"too many pixels", multipartReq("POST", path, portalKey, photoPart([]byte("HUGE"))), 413, models.ETOOLARGE},
		{"photo over the byte limit", multipartReq("POST", path, portalKey, photoPart(bytes.Repeat([]byte("a"), 4097))), 413, models.ETOOLARGE},
		{"missing photo part", multipartReq("POST", path, portalKey, part{name: "picture", data: []byte("x")}), 400, models.EBADREQUEST},
		{"no parts at all", multipartReq("POST", path, portalKey), 400, models.EBADREQUEST},
		{"two photo parts", multipartReq("POST", path, portalKey, photoPart(jpegish("a")), photoPart(jpegish("b"))), 400, models.EBADREQUEST},
		{"empty photo", multipartReq("POST", path, portalKey, photoPart(nil)), 400, models.EBADREQUEST},
		{"multipart without boundary", request{method: "POST", path: path, key: portalKey, body: []byte("--x\r\n"), ctype: "multipart/form-data"}, 400, models.EBADREQUEST},
		{"not multipart", request{method: "POST", path: path, key: portalKey, body: jpegish("raw"), ctype: "image/jpeg"}, 415, models.EUNSUPPORTED},
		{"no content type", request{method: "POST", path: path, key: portalKey, body: jpegish("raw")}, 415, models.EUNSUPPORTED},
		{"broken multipart", request{method: "POST", path: path, key: portalKey, body: []byte("garbage"), ctype: "multipart/form-data; boundary=zzz"}, 400, models.EBADREQUEST},
		{"unknown child", multipartReq("POST", "/v1/children/child-999/photos", portalKey, photoPart(jpegish("x"))), 404, models.ENOTFOUND},
		{"body over the declared limit", multipartReq("POST", path, portalKey, photoPart(bytes.Repeat([]byte("a"), 80<<10))), 413, models.ETOOLARGE},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, h.do(tt.req), tt.status, tt.code)
		})
	}
}

func TestCandidates(t *testing.T) {
	h := newHarness(t)
	c := h.createChild(missingChild())
	for _, key := range []string{portalKey, investigatorKey, adminKey} {
		r := h.do(request{method: "GET", path: "/v1/children/" + c.ID + "/candidates", key: key})
		if r.status != http.StatusOK {
			t.Fatalf("candidates: %d %s", r.status, r.body)
		}
		var got candidatesView
		r.decode(t, &got)
		if len(got.Candidates) != 2 || got.Candidates[0].ID != "found-7" || got.Candidates[0].Kind != models.KindFound ||
			len(got.Candidates[0].Explanation) != 3 || got.Candidates[0].Explanation[0].Field != "face" {
			t.Fatalf("candidates = %s", r.body)
		}
		if !bytes.Contains(r.body, []byte(`"explanation":[]`)) {
			t.Errorf("a candidate without explanation must have explanation [], body %s", r.body)
		}
	}
	if h.children.lastLimit != 10 {
		t.Errorf("default limit = %d, want 10", h.children.lastLimit)
	}
	r := h.do(request{method: "GET", path: "/v1/children/" + c.ID + "/candidates?limit=1", key: portalKey})
	var got candidatesView
	r.decode(t, &got)
	if len(got.Candidates) != 1 || h.children.lastLimit != 1 {
		t.Errorf("limit=1 gave %d candidates, service saw limit %d", len(got.Candidates), h.children.lastLimit)
	}
	for _, bad := range []string{"0", "101", "-3", "ten", "1.5", ""} {
		r := h.do(request{method: "GET", path: "/v1/children/" + c.ID + "/candidates?limit=" + bad, key: portalKey})
		wantError(t, r, http.StatusBadRequest, models.EBADREQUEST)
	}
	r = h.do(request{method: "GET", path: "/v1/children/child-404/candidates", key: portalKey})
	wantError(t, r, http.StatusNotFound, models.ENOTFOUND)
}

func TestSearchWithNamesAndPhotos(t *testing.T) {
	h := newHarness(t)
	q := map[string]any{"kind": "found", "names": []string{"Asha"}, "sex": "female"}
	r := h.do(multipartReq("POST", "/v1/search?limit=5", investigatorKey,
		queryPart(q), photoPart(jpegish("one")), photoPart(jpegish("two"))))
	if r.status != http.StatusOK {
		t.Fatalf("search: %d %s", r.status, r.body)
	}
	var got candidatesView
	r.decode(t, &got)
	if len(got.Candidates) != 2 || got.Candidates[0].Kind != models.KindMissing {
		t.Fatalf("search answer = %s", r.body)
	}
	s := h.children.lastSearch
	if s.query == nil || s.query.Kind != models.KindFound || len(s.query.Names) != 1 || len(s.photos) != 2 ||
		!bytes.Equal(s.photos[1], jpegish("two")) || s.limit != 5 {
		t.Errorf("service saw query %+v, %d photos, limit %d", s.query, len(s.photos), s.limit)
	}
	if len(h.children.children) != 0 {
		t.Errorf("search stored %d records", len(h.children.children))
	}
}

func TestSearchPhotoOnlyWithFilters(t *testing.T) {
	h := newHarness(t)
	q := map[string]any{"kind": "missing", "sex": "male", "age": map[string]int{"min": 5, "max": 9}, "place": map[string]string{"state": "Delhi"}}
	r := h.do(multipartReq("POST", "/v1/search", portalKey, queryPart(q), photoPart(jpegish("p"))))
	if r.status != http.StatusOK {
		t.Fatalf("search: %d %s", r.status, r.body)
	}
	if s := h.children.lastSearch; s.query.Place.State != "Delhi" || len(s.query.Names) != 0 || s.limit != 10 {
		t.Errorf("service saw %+v limit %d", s.query, s.limit)
	}
}

func TestSearchErrors(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxPhotosPerSearch = 2; c.MaxPhotoBytes = 2048; c.MaxSearchBytes = 3000 })
	q := queryPart(map[string]any{"kind": "missing"})
	tests := []struct {
		name   string
		req    request
		status int
		code   string
	}{
		{"missing kind", multipartReq("POST", "/v1/search", portalKey, queryPart(map[string]any{"names": []string{"A"}})), 422, models.EINVALID},
		{"bad name", multipartReq("POST", "/v1/search", portalKey, queryPart(map[string]any{"kind": "found", "names": []string{"A\u202eB"}})), 422, models.EINVALID},
		{"no query part", multipartReq("POST", "/v1/search", portalKey, photoPart(jpegish("x"))), 400, models.EBADREQUEST},
		{"query not JSON", multipartReq("POST", "/v1/search", portalKey, part{name: "query", data: []byte("kind=missing")}), 400, models.EBADREQUEST},
		{"query with unknown field", multipartReq("POST", "/v1/search", portalKey, part{name: "query", data: []byte(`{"kind":"missing","nmae":"x"}`)}), 400, models.EBADREQUEST},
		{"unknown part", multipartReq("POST", "/v1/search", portalKey, q, part{name: "extra", data: []byte("x")}), 400, models.EBADREQUEST},
		{"too many photos", multipartReq("POST", "/v1/search", portalKey, q, photoPart(jpegish("1")), photoPart(jpegish("2")), photoPart(jpegish("3"))), 413, models.ETOOLARGE},
		{"photo too big", multipartReq("POST", "/v1/search", portalKey, q, photoPart(bytes.Repeat([]byte("a"), 2049))), 413, models.ETOOLARGE},
		{"photos too big together", multipartReq("POST", "/v1/search", portalKey, q, photoPart(bytes.Repeat([]byte("a"), 2000)), photoPart(bytes.Repeat([]byte("b"), 2000))), 413, models.ETOOLARGE},
		{"bad limit", multipartReq("POST", "/v1/search?limit=1000", portalKey, q), 400, models.EBADREQUEST},
		{"JSON instead of multipart", jsonReq("POST", "/v1/search", portalKey, map[string]any{"kind": "missing"}), 415, models.EUNSUPPORTED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantError(t, h.do(tt.req), tt.status, tt.code)
		})
	}
}

func TestJSONBodyErrors(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxJSONBytes = 4096 })
	post := func(body string) response { return h.do(jsonReq("POST", "/v1/children", portalKey, body)) }
	tests := []struct {
		name    string
		body    string
		status  int
		code    string
		message string // a substring the message must hold
	}{
		{"malformed", `{"kind": "missing",`, 400, models.EBADREQUEST, ""},
		{"not an object", `["missing"]`, 400, models.EBADREQUEST, "object"},
		{"null", `null`, 400, models.EBADREQUEST, "object"},
		{"empty", ``, 400, models.EBADREQUEST, "empty"},
		{"unknown field", `{"kind":"missing","nmes":["A"]}`, 400, models.EBADREQUEST, `"nmes"`},
		{"server-set field", `{"kind":"missing","id":"mine"}`, 400, models.EBADREQUEST, `"id"`},
		{"wrong type", `{"kind":"missing","age":{"min":"seven","max":8}}`, 400, models.EBADREQUEST, "age.min"},
		{"wrong type list", `{"kind":"missing","names":"Asha"}`, 400, models.EBADREQUEST, "names"},
		{"trailing garbage", `{"kind":"missing"} xyz`, 400, models.EBADREQUEST, "after"},
		{"two objects", `{"kind":"missing"}{"kind":"found"}`, 400, models.EBADREQUEST, "after"},
		{"deeply nested", `{"kind":"missing","names":` + strings.Repeat("[", 2000) + strings.Repeat("]", 2000) + `}`, 400, models.EBADREQUEST, ""},
		{"raw control character", "{\"kind\":\"missing\",\"names\":[\"A\x01\"]}", 400, models.EBADREQUEST, ""},
		{"invalid UTF-8", "{\"kind\":\"missing\",\"names\":[\"A\xff\xfeB\"]}", 400, models.EBADREQUEST, "UTF-8"},
		{"too large", `{"kind":"missing","notes":"` + strings.Repeat("x", 5000) + `"}`, 413, models.ETOOLARGE, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := wantError(t, post(tt.body), tt.status, tt.code)
			if !strings.Contains(e.Message, tt.message) {
				t.Errorf("message %q lacks %q", e.Message, tt.message)
			}
			if len(e.Fields) != 0 {
				t.Errorf("fields on a %d: %v", tt.status, e.Fields)
			}
		})
	}
	t.Run("wrong content type", func(t *testing.T) {
		r := h.do(request{method: "POST", path: "/v1/children", key: portalKey, body: []byte(`{"kind":"missing"}`), ctype: "text/plain"})
		wantError(t, r, http.StatusUnsupportedMediaType, models.EUNSUPPORTED)
	})
	t.Run("deeply nested past the decoder's limit", func(t *testing.T) {
		h := newHarness(t)
		body := `{"kind":"missing","names":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`
		wantError(t, h.do(jsonReq("POST", "/v1/children", portalKey, body)), 400, models.EBADREQUEST)
	})
	t.Run("chunked body over the limit", func(t *testing.T) {
		// No Content-Length: the limit must hold while reading.
		req, _ := http.NewRequest("POST", h.ts.URL+"/v1/children", struct{ *strings.Reader }{strings.NewReader(`{"kind":"missing","notes":"` + strings.Repeat("y", 8000) + `"}`)})
		req.Header.Set("Authorization", "Bearer "+portalKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := h.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || req.ContentLength != 0 {
			t.Errorf("chunked over-limit body: %d (ContentLength %d), want 413", resp.StatusCode, req.ContentLength)
		}
	})
}

func TestValidationListsEveryField(t *testing.T) {
	h := newHarness(t)
	body := map[string]any{
		"kind":        "lost",
		"names":       []string{"Asha\u202eKumari", "Ravi\u0007"},
		"age":         map[string]int{"min": 9, "max": 4},
		"observed_on": "2031-01-01",
		"height_cm":   900,
	}
	e := wantError(t, h.do(jsonReq("POST", "/v1/children", portalKey, body)), http.StatusUnprocessableEntity, models.EINVALID)
	got := map[string]bool{}
	for _, f := range e.Fields {
		got[f.Field] = true
		if f.Message == "" {
			t.Errorf("field %s without a message", f.Field)
		}
	}
	for _, want := range []string{"kind", "names[0]", "names[1]", "age.min", "observed_on", "height_cm"} {
		if !got[want] {
			t.Errorf("fields %v lack %q", e.Fields, want)
		}
	}
	if n := len(h.children.children); n != 0 {
		t.Errorf("an invalid record was stored")
	}
	// The same rule holds on PUT.
	c := h.createChild(missingChild())
	e = wantError(t, h.do(jsonReq("PUT", "/v1/children/"+c.ID, portalKey, map[string]any{"kind": "missing", "sex": "x"})), 422, models.EINVALID)
	if len(e.Fields) != 1 || e.Fields[0].Field != "sex" {
		t.Errorf("PUT fields = %v", e.Fields)
	}
}

func TestServiceErrorsMapToStatuses(t *testing.T) {
	for code, status := range statusByCode {
		t.Run(code, func(t *testing.T) {
			h := newHarness(t)
			h.skipDocCheck = true // a service answering GET with no_face is no real service
			h.children.fail = models.Errorf(code, "the fake says %s", code)
			r := h.do(request{method: "GET", path: "/v1/children/child-1", key: investigatorKey})
			if r.status != status {
				t.Fatalf("code %s answered %d, want %d", code, r.status, status)
			}
			e := r.errorBody(t)
			if e.Code != code {
				t.Errorf("code = %q, want %q", e.Code, code)
			}
			if code == models.EINTERNAL && strings.Contains(e.Message, "fake") {
				t.Errorf("internal error message leaked: %q", e.Message)
			}
		})
	}
	t.Run("uncoded error is a logged 500 with a generic message", func(t *testing.T) {
		h := newHarness(t)
		h.children.fail = fmt.Errorf("get child: %w", fmt.Errorf("badger: value log truncated"))
		e := wantError(t, h.do(request{method: "GET", path: "/v1/children/child-1", key: investigatorKey}), 500, models.EINTERNAL)
		if strings.Contains(e.Message, "badger") {
			t.Errorf("internal detail in the message: %q", e.Message)
		}
		if !strings.Contains(h.logs.String(), "badger: value log truncated") {
			t.Errorf("the 500's error was not logged:\n%s", h.logs.String())
		}
	})
}
