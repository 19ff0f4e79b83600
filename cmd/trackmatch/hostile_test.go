package main

// Hostile input: a table of several hundred bad requests, most generated,
// against the real server. The rule: never a 5xx, never a crash; a clear
// 4xx with a JSON error body wherever the input is invalid (a few inputs,
// such as emoji names or a corrupted JPEG that still decodes, may rightly
// succeed). Afterwards the server still answers and every record created
// before the barrage is intact.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	encbin "encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/api"
	"github.com/trackmatch/trackmatch/models"
)

// hostileWant says what a hostile case may get back.
type hostileWant int

const (
	want4xx   hostileWant = iota // invalid input: a 4xx with a JSON error body
	wantNo5xx                    // may rightly succeed (2xx) or be refused (4xx)
)

// hostileCase is one bad request.
type hostileCase struct {
	group  string // for the tally
	name   string
	method string
	path   string
	ctype  string
	body   func() io.Reader // nil: no body
	length int64            // declared Content-Length for streamed bodies; 0 = as given
	key    string           // "" = a portal key; "-" = none; "reader", "admin": a key of that role
	auth   string           // a raw Authorization header, sent instead of a key
	want   hostileWant
	status int // if non-zero, the exact status wanted
}

// TestHostileInput sends the barrage and tallies the answers.
func TestHostileInput(t *testing.T) {
	faces := sharedDir(t, "faces")
	portal, reader, admin := newKeyRing("portal", 20), newKeyRing("investigator", 20), newKeyRing("admin", 5)
	s := startServer(t, serverOptions{Env: []string{keysEnv(portal, reader, admin)}})

	jpg := readFile(t, filepath.Join(faces, "obama", "obama_small.jpg"))
	png := readFile(t, filepath.Join(faces, "amy", "amy1.png"))

	// Records created before the barrage, with photos: checked afterwards.
	type before struct {
		id, name string
		photo    string
		sum      [32]byte
	}
	var kept []before
	for i, p := range []string{"amy", "penny", "raj"} {
		name := []string{"Ishaani Barrage", "Meher Unharmed", "Tanmay Survivor"}[i]
		r := s.JSON(t, "POST", "/v1/children", portalKey, map[string]any{"kind": "found", "names": []string{name}})
		if r.Status != http.StatusCreated {
			t.Fatalf("create: %d %s", r.Status, r.Body)
		}
		var c struct{ ID string }
		r.JSON(t, &c)
		img := readFile(t, filepath.Join(faces, p, p+"1.png"))
		r = s.Multipart(t, "POST", "/v1/children/"+c.ID+"/photos", portalKey, part{Name: "photo", Filename: p + ".png", Data: img})
		if r.Status != http.StatusCreated {
			t.Fatalf("photo: %d %s", r.Status, r.Body)
		}
		var ph struct {
			PhotoID string `json:"photo_id"`
		}
		r.JSON(t, &ph)
		kept = append(kept, before{id: c.ID, name: name, photo: ph.PhotoID, sum: sha256.Sum256(img)})
	}
	// The barrage's photo uploads and updates go to a record of its own:
	// a damaged JPEG that still shows a face is rightly stored.
	r := s.JSON(t, "POST", "/v1/children", portalKey, map[string]any{"kind": "found", "names": []string{"Target Practice"}})
	var victim struct{ ID string }
	r.JSON(t, &victim)

	cases := hostileCases(t, victim.ID, jpg, png)
	t.Logf("%d hostile requests", len(cases))
	if len(cases) < 300 {
		t.Fatalf("only %d cases; the suite promises at least 300", len(cases))
	}

	type tally struct{ c2xx, c4xx, c5xx, other, crash int }
	groups := map[string]*tally{}
	var total tally
	statuses := map[int]int{}
	var accepted []string
	for _, tc := range cases {
		g := groups[tc.group]
		if g == nil {
			g = &tally{}
			groups[tc.group] = g
		}
		key := tc.key
		switch key {
		case "":
			key = portal.Next()
		case "-":
			key = ""
		case "reader":
			key = reader.Next()
		case "admin":
			key = admin.Next()
		}
		resp, err := sendHostile(s, tc, key)
		if err != nil {
			if s.exited() {
				g.crash++
				total.crash++
				t.Errorf("%s/%s: the server died: %v\n%s", tc.group, tc.name, err, lastBytes(s.Logs(), 3000))
				s.start(modelsDir(t))
				continue
			}
			g.other++
			total.other++
			t.Errorf("%s/%s: no HTTP answer: %v", tc.group, tc.name, err)
			continue
		}
		statuses[resp.Status]++
		switch {
		case resp.Status >= 500:
			g.c5xx++
			total.c5xx++
			t.Errorf("%s/%s: %d %.300s", tc.group, tc.name, resp.Status, resp.Body)
		case resp.Status >= 400:
			g.c4xx++
			total.c4xx++
			var e struct {
				Error *struct{ Code, Message string } `json:"error"`
			}
			if json.Unmarshal(resp.Body, &e) != nil || e.Error == nil || e.Error.Code == "" || e.Error.Message == "" {
				t.Errorf("%s/%s: %d without a JSON error body: %.200q", tc.group, tc.name, resp.Status, resp.Body)
			}
		case resp.Status >= 200 && resp.Status < 300:
			g.c2xx++
			total.c2xx++
			if tc.want == want4xx {
				t.Errorf("%s/%s: invalid input accepted: %d %.200s", tc.group, tc.name, resp.Status, resp.Body)
			}
			accepted = append(accepted, tc.group+"/"+tc.name)
		default:
			g.other++
			total.other++
			t.Errorf("%s/%s: unexpected %d", tc.group, tc.name, resp.Status)
		}
		if tc.status != 0 && resp.Status != tc.status {
			t.Errorf("%s/%s: status %d, want %d: %.200s", tc.group, tc.name, resp.Status, tc.status, resp.Body)
		}
	}
	names := make([]string, 0, len(groups))
	for n := range groups {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		g := groups[n]
		t.Logf("%-10s 2xx %3d  4xx %3d  5xx %d  crash %d  other %d", n, g.c2xx, g.c4xx, g.c5xx, g.crash, g.other)
	}
	t.Logf("accepted (2xx), all where that is right: %q", accepted)
	t.Logf("TOTAL %d requests: 2xx %d, 4xx %d, 5xx %d, crash %d, no answer %d; statuses %v",
		len(cases), total.c2xx, total.c4xx, total.c5xx, total.crash, total.other, statuses)

	// The server is still up and holds everything it held before.
	if r := s.Do(t, "GET", "/healthz", "", "", nil); r.Status != http.StatusOK {
		t.Fatalf("healthz after the barrage: %d", r.Status)
	}
	for _, k := range kept {
		r := s.Do(t, "GET", "/v1/children/"+k.id, investigatorKey, "", nil)
		var c struct {
			Names  []string
			Photos []struct{ ID string }
		}
		r.JSON(t, &c)
		if r.Status != http.StatusOK || !slices.Equal(c.Names, []string{k.name}) || len(c.Photos) != 1 || c.Photos[0].ID != k.photo {
			t.Errorf("record %s changed by the barrage: %d %s", k.id, r.Status, r.Body)
		}
		r = s.Do(t, "GET", "/v1/photos/"+k.photo, investigatorKey, "", nil)
		if r.Status != http.StatusOK || sha256.Sum256(r.Body) != k.sum {
			t.Errorf("photo %s changed by the barrage: %d", k.photo, r.Status)
		}
	}
	if strings.Contains(s.Logs(), "panic") {
		t.Errorf("the server logged a panic:\n%s", lastBytes(s.Logs(), 5000))
	}
	checkLiteralNames(t, s)
}

// sendHostile sends one case with a 2-minute limit.
func sendHostile(s *server, tc hostileCase, key string) (response, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var body io.Reader
	if tc.body != nil {
		body = tc.body()
	}
	req, err := http.NewRequestWithContext(ctx, tc.method, s.URL+tc.path, body)
	if err != nil {
		return response{}, err
	}
	if tc.length > 0 {
		req.ContentLength = tc.length
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if tc.auth != "" {
		req.Header.Set("Authorization", tc.auth)
	}
	if tc.ctype != "" {
		req.Header.Set("Content-Type", tc.ctype)
	}
	resp, err := (&http.Client{Transport: loadTransport}).Do(req)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return response{Status: resp.StatusCode, Body: b}, err
}

// hostileCases builds the table. target is an existing record (for photo
// uploads and updates); jpg and png are small real photos to damage.
func hostileCases(t *testing.T, target string, jpg, png []byte) []hostileCase {
	t.Helper()
	rng := rand.New(rand.NewPCG(8, 8))
	var cs []hostileCase
	add := func(c hostileCase) {
		if c.method == "" {
			c.method = "POST"
		}
		cs = append(cs, c)
	}
	photoPath := "/v1/children/" + target + "/photos"
	photo := func(group, name string, data []byte, want hostileWant) {
		body, ct := multipartBody(t, part{Name: "photo", Filename: "photo.jpg", ContentType: "image/jpeg", Data: data})
		add(hostileCase{group: group, name: name, path: photoPath, ctype: ct, body: bytesBody(body), want: want})
	}

	// Images: empty, random, magic numbers followed by garbage.
	photo("image", "zero-byte", nil, want4xx)
	for _, n := range []int{1, 2, 3, 4, 8, 16, 64, 512, 4096, 65536} {
		for seed := range 3 {
			photo("image", fmt.Sprintf("random-%dB-%d", n, seed), randBytes(rng, n), want4xx)
		}
	}
	for i := range 8 {
		n := 1 << (3 + i)
		photo("image", fmt.Sprintf("jpeg-magic-garbage-%d", n), append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, randBytes(rng, n)...), want4xx)
		photo("image", fmt.Sprintf("png-magic-garbage-%d", n), append([]byte("\x89PNG\r\n\x1a\n"), randBytes(rng, n)...), want4xx)
		photo("image", fmt.Sprintf("webp-magic-garbage-%d", n), append([]byte("RIFF\x00\x10\x00\x00WEBPVP8 "), randBytes(rng, n)...), want4xx)
	}
	// Truncated real photos.
	for _, f := range []float64{0.001, 0.01, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 0.99} {
		photo("truncated", fmt.Sprintf("jpeg-%.3f", f), jpg[:max(1, int(float64(len(jpg))*f))], want4xx)
		photo("truncated", fmt.Sprintf("png-%.3f", f), png[:max(1, int(float64(len(png))*f))], want4xx)
	}
	for _, cut := range []int{1, 2, 3, 12} {
		photo("truncated", fmt.Sprintf("jpeg-minus-%d", cut), jpg[:len(jpg)-cut], wantNo5xx) // a missing EOI may still decode
		photo("truncated", fmt.Sprintf("png-minus-%d", cut), png[:len(png)-cut], want4xx)
	}
	// Corrupted real photos: bytes overwritten in the header, or anywhere
	// (a JPEG with damaged entropy data still decodes: either answer).
	for i := range 8 {
		photo("corrupt", fmt.Sprintf("jpeg-header-%d", i), corrupt(rng, jpg, 2, 200, 8), wantNo5xx)
		photo("corrupt", fmt.Sprintf("png-header-%d", i), corrupt(rng, png, 8, 40, 4), want4xx)
		photo("corrupt", fmt.Sprintf("jpeg-body-%d", i), corrupt(rng, jpg, 600, len(jpg)-2, 16), wantNo5xx)
		photo("corrupt", fmt.Sprintf("png-body-%d", i), corrupt(rng, png, 60, len(png)-12, 16), wantNo5xx)
	}
	// Headers that declare enormous (or no) pixels.
	for _, d := range [][2]uint32{{50000, 50000}, {32769, 1}, {1, 32769}, {40000, 1000}, {6325, 6325}, {0, 0}, {0, 100}, {1 << 31, 1 << 31}, {65535, 65535}} {
		photo("dims", fmt.Sprintf("png-%dx%d", d[0], d[1]), pngWithSize(d[0], d[1]), want4xx)
	}
	for _, d := range [][2]uint16{{50000, 50000}, {65535, 65535}, {40000, 1001}, {0, 0}, {0, 240}} {
		photo("dims", fmt.Sprintf("jpeg-%dx%d", d[0], d[1]), jpegWithSize(t, jpg, d[0], d[1]), want4xx)
	}
	photo("dims", "webp-vp8x-16384x16384", webpVP8X(16384, 16384), want4xx)
	photo("dims", "webp-vp8x-animated", webpVP8XAnimated(), want4xx)
	// Other formats, named .jpg.
	for name, data := range map[string][]byte{
		"gif":     append([]byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"), 0),
		"pdf":     []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
		"bmp":     append([]byte("BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\x01\x00\x00\x00\x01\x00\x00\x00\x01\x00\x18\x00"), make([]byte, 28)...),
		"tiff":    []byte("II*\x00\x08\x00\x00\x00\x00\x00"),
		"tiff-be": []byte("MM\x00*\x00\x00\x00\x08\x00\x00"),
		"heic":    []byte("\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic"),
		"avif":    []byte("\x00\x00\x00\x1cftypavif\x00\x00\x00\x00avifmif1miaf"),
		"svg":     []byte(`<svg xmlns="http://www.w3.org/2000/svg" width="100000" height="100000"><script>alert(1)</script></svg>`),
		"html":    []byte("<!doctype html><html><body><img src=x onerror=alert(1)></body></html>"),
		"zip":     []byte("PK\x03\x04\x14\x00\x00\x00\x00\x00"),
		"gzip":    []byte("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"),
		"elf":     []byte("\x7fELF\x02\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00"),
		"jp2":     []byte("\x00\x00\x00\x0cjP  \r\n\x87\n"),
		"ico":     []byte("\x00\x00\x01\x00\x01\x00\x10\x10\x00\x00"),
		"psd":     []byte("8BPS\x00\x01\x00\x00\x00\x00\x00\x00"),
		"text":    []byte("this is not a photo"),
		"json":    []byte(`{"kind":"found"}`),
	} {
		photo("format", name+"-as-jpg", data, want4xx)
	}

	// Multipart structure.
	good, goodCT := multipartBody(t, part{Name: "photo", Filename: "a.jpg", Data: jpg})
	_, boundary, _ := strings.Cut(goodCT, "boundary=")
	for _, m := range []struct {
		name, ct string
		body     []byte
	}{
		{"no-boundary", "multipart/form-data", good},
		{"empty-boundary", "multipart/form-data; boundary=", good},
		{"wrong-boundary", "multipart/form-data; boundary=nope", good},
		{"json-type", "application/json", good},
		{"text-type", "text/plain", good},
		{"no-type", "", good},
		{"mixed-type", "multipart/mixed; boundary=" + boundary, good},
		{"garbage-body", goodCT, []byte("not multipart at all")},
		{"empty-body", goodCT, nil},
		{"only-close", goodCT, []byte("--" + boundary + "--\r\n")},
		{"unclosed", goodCT, good[:len(good)-len(boundary)-6]},
		{"bad-type-param", "multipart/form-data; boundary=\"unterminated", good},
		{"header-flood", goodCT, []byte("--" + boundary + "\r\nContent-Disposition: form-data; name=\"photo\"\r\nX-Pad: " + strings.Repeat("a", 200<<10) + "\r\n\r\nx\r\n--" + boundary + "--\r\n")},
	} {
		add(hostileCase{group: "multipart", name: m.name, path: photoPath, ctype: m.ct, body: bytesBody(m.body), want: want4xx})
	}
	for _, ps := range []struct {
		name  string
		parts []part
	}{
		{"wrong-part-name", []part{{Name: "file", Data: jpg}}},
		{"two-photos", []part{{Name: "photo", Data: jpg}, {Name: "photo", Data: jpg}}},
		{"empty-photo", []part{{Name: "photo"}}},
		{"nameless-part", []part{{Data: jpg}}},
		{"control-char-name", []part{{Name: "ph\x01oto", Data: jpg}}},
	} {
		body, ct := multipartBody(t, ps.parts...)
		add(hostileCase{group: "multipart", name: ps.name, path: photoPath, ctype: ct, body: bytesBody(body), want: want4xx})
	}

	// Bodies over the limits, streamed: nothing here holds 100 MB.
	huge := int64(100 << 20)
	add(hostileCase{group: "size", name: "photo-100MB-declared", path: photoPath, ctype: goodCT, length: huge,
		body: func() io.Reader { return io.LimitReader(zeroReader{}, huge) }, want: want4xx, status: http.StatusRequestEntityTooLarge})
	add(hostileCase{group: "size", name: "photo-100MB-chunked", path: photoPath, ctype: goodCT,
		body: func() io.Reader { return multipartStream(boundary, "photo", jpg[:4], huge) }, want: want4xx, status: http.StatusRequestEntityTooLarge})
	add(hostileCase{group: "size", name: "photo-20MB+1", path: photoPath, ctype: goodCT,
		body: func() io.Reader { return multipartStream(boundary, "photo", jpg[:4], 20<<20+1) }, want: want4xx, status: http.StatusRequestEntityTooLarge})
	add(hostileCase{group: "size", name: "json-100MB-declared", path: "/v1/children", ctype: "application/json", length: huge,
		body: func() io.Reader { return io.LimitReader(zeroReader{}, huge) }, want: want4xx, status: http.StatusRequestEntityTooLarge})
	add(hostileCase{group: "size", name: "json-100MB-chunked", path: "/v1/children", ctype: "application/json",
		body: func() io.Reader {
			return io.MultiReader(strings.NewReader(`{"kind":"found","notes":"`), io.LimitReader(letterReader{}, huge), strings.NewReader(`"}`))
		}, want: want4xx, status: http.StatusRequestEntityTooLarge})
	add(hostileCase{group: "size", name: "search-100MB-chunked", path: "/v1/search", ctype: goodCT, key: "reader",
		body: func() io.Reader { return multipartStream(boundary, "photo", jpg[:4], huge) }, want: want4xx, status: http.StatusRequestEntityTooLarge})

	// JSON records: shapes, wrong types, nesting, text, dates, numbers.
	create := func(group, name string, body []byte, want hostileWant) {
		add(hostileCase{group: group, name: name, path: "/v1/children", ctype: "application/json", body: bytesBody(body), want: want})
	}
	for name, b := range map[string]string{
		"empty": "", "space": " \n", "null": "null", "true": "true", "number": "1", "string": `"found"`,
		"array": "[]", "array-of-object": `[{"kind":"found"}]`, "open": "{", "unclosed": `{"kind":"found"`,
		"two-objects": `{"kind":"found"}{"kind":"found"}`, "trailing": `{"kind":"found"} x`, "empty-object": "{}",
		"bom": "\ufeff{\"kind\":\"found\"}", "nul": "{\"kind\":\"found\"}\x00", "single-quotes": `{'kind':'found'}`,
		"comment": `{"kind":"found" /* hi */}`, "trailing-comma": `{"kind":"found",}`, "nan": `{"kind":"found","height_cm":NaN}`,
		"invalid-utf8-key": "{\"ki\xffnd\":\"found\"}", "invalid-utf8-value": "{\"kind\":\"found\",\"names\":[\"Ra\xc3\x28hul\"]}",
		"overlong-utf8": "{\"kind\":\"found\",\"names\":[\"\xc0\xafetc\"]}", "surrogate-bytes": "{\"kind\":\"found\",\"names\":[\"\xed\xa0\x80\"]}",
		"unknown-field": `{"kind":"found","nickname":"x"}`, "server-id": `{"kind":"found","id":"abc"}`,
		"server-photos": `{"kind":"found","photos":[]}`, "server-created": `{"kind":"found","created_at":"2024-01-01T00:00:00Z"}`,
		"proto": `{"kind":"found","__proto__":{"admin":true}}`, "nested-unknown": `{"kind":"found","place":{"planet":"Mars"}}`,
	} {
		create("json-shape", name, []byte(b), want4xx)
	}
	for _, ct := range []string{"", "text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x", "application/json-patch+json", "application/jsonx"} {
		add(hostileCase{group: "json-shape", name: "content-type:" + ct, path: "/v1/children", ctype: ct, body: bytesBody([]byte(`{"kind":"found"}`)), want: want4xx, status: http.StatusUnsupportedMediaType})
	}
	add(hostileCase{group: "json-shape", name: "over-1MB", path: "/v1/children", ctype: "application/json",
		body: bytesBody([]byte(`{"kind":"found","notes":"` + strings.Repeat("a", 1<<20) + `"}`)), want: want4xx, status: http.StatusRequestEntityTooLarge})
	wrong := map[string]string{"number": "12345", "float": "1.5", "negative": "-7", "bool": "true", "string": `"x"`, "array": "[1,2]",
		"object": `{"a":1}`, "array-of-arrays": "[[1]]", "huge-number": "1e400"}
	fields := map[string]string{ // field -> JSON type it takes
		"kind": "string", "external_ref": "string", "names": "array", "sex": "string", "age": "object",
		"observed_on": "string", "height_cm": "number", "marks": "string", "languages": "array", "place": "object",
		"guardians": "array", "notes": "string", "status": "string",
	}
	for f, typ := range fields {
		for wn, wv := range wrong {
			if typeOf(wn) == typ {
				continue
			}
			body := fmt.Sprintf(`{"kind":"found",%q:%s}`, f, wv)
			if f == "kind" {
				body = fmt.Sprintf(`{"kind":%s}`, wv)
			}
			create("json-type", f+"="+wn, []byte(body), want4xx)
		}
	}
	for _, sub := range []string{`"names":[1]`, `"names":[null,"a"]`, `"names":[["a"]]`, `"age":{"min":"1","max":2}`, `"age":{"min":1.5,"max":2}`,
		`"age":{"min":1,"max":1e20}`, `"age":[1,2]`, `"place":{"state":1}`, `"place":{"district":["a"]}`, `"languages":[{}]`, `"guardians":"mother"`} {
		create("json-type", sub, []byte(`{"kind":"found",`+sub+`}`), want4xx)
	}
	for _, depth := range []int{64, 1000, 10001, 100000} {
		create("json-nest", fmt.Sprintf("array-depth-%d", depth), []byte(`{"kind":"found","notes":`+strings.Repeat("[", depth)+strings.Repeat("]", depth)+`}`), want4xx)
		create("json-nest", fmt.Sprintf("object-depth-%d", depth), []byte(`{"kind":"found","place":`+strings.Repeat(`{"state":`, depth)+`"x"`+strings.Repeat("}", depth)+`}`), want4xx)
		create("json-nest", fmt.Sprintf("unclosed-depth-%d", depth), []byte(`{"kind":"found","names":`+strings.Repeat("[", depth)), want4xx)
	}
	record := func(group, name string, fields map[string]any, want hostileWant) {
		v := map[string]any{"kind": "found"}
		for k, x := range fields {
			v[k] = x
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		create(group, name, b, want)
	}
	for name, n := range map[string]string{
		"rtl-override": "Ra\u202ehul", "ltr-override": "\u202dRahul", "rtl-embedding": "\u202bRahul", "pop-directional": "Rahul\u202c",
		"isolate-lri": "\u2066Rahul", "isolate-rli": "\u2067Rahul", "isolate-fsi": "\u2068Rahul", "isolate-pdi": "Rahul\u2069",
		"nul": "Ra\u0000hul", "bell": "Ra\u0007hul", "escape": "\u001b[31mRahul", "del": "Rahul\u007f", "c1-nel": "Ra\u0085hul", "c1-csi": "\u009bRahul",
		"blank": "   ", "empty": "", "10000-chars": strings.Repeat("a", 10000), "201-chars": strings.Repeat("क", 201),
	} {
		record("name", name, map[string]any{"names": []string{n}}, want4xx)
	}
	for name, n := range map[string]string{
		"emoji": "Ravi 😀", "zwj-family": "👨‍👩‍👧 Devi", "flag": "🇮🇳 Asha", "combining": "Zalgo z̴̢̛a̶l̷g̸o̵", "zwnj-bengali": "শ্রাবন্তী\u200c",
		"zero-width-space": "Ra\u200bhul", "arabic": "محمد", "200-chars": strings.Repeat("a", 200), "html": "<script>alert(1)</script>",
		"lone-surrogate-escape": "\xed\xa0\x80", "private-use": "\ue000Raj", "noncharacter": "\uffffRaj",
	} {
		record("name-ok", name, map[string]any{"names": []string{n}}, wantNo5xx)
	}
	record("name", "21-names", map[string]any{"names": slices.Repeat([]string{"Asha"}, 21)}, want4xx)
	record("name", "marks-4001", map[string]any{"marks": strings.Repeat("m", 4001)}, want4xx)
	record("name", "notes-100k", map[string]any{"notes": strings.Repeat("n", 100000)}, want4xx)
	record("name", "external-ref-201", map[string]any{"external_ref": strings.Repeat("r", 201)}, want4xx)
	record("name", "21-languages", map[string]any{"languages": slices.Repeat([]string{"hi"}, 21)}, want4xx)
	record("name", "guardian-rtl", map[string]any{"guardians": []string{"Sunita\u202e"}}, want4xx)
	record("name", "district-10000", map[string]any{"place": map[string]string{"district": strings.Repeat("d", 10000)}}, want4xx)
	for _, d := range []string{"0000-00-00", "9999-12-31", "2024-02-30", "2024-13-01", "2023-02-29", "1949-12-31", "1900-01-01",
		"yesterday", "2024-1-1", "2024-01-01T00:00:00Z", "20240101", " 2024-01-01", "-001-01-01", "+2024-01-01", "２０２４-01-01", "2024/01/01", "01-01-2024"} {
		record("date", d, map[string]any{"observed_on": d}, want4xx)
	}
	for name, age := range map[string]map[string]any{
		"min-negative": {"min": -1, "max": 5}, "max-negative": {"min": 0, "max": -1}, "both-negative": {"min": -5, "max": -1},
		"min-over-max": {"min": 10, "max": 5}, "max-26": {"min": 0, "max": 26}, "max-1e9": {"min": 0, "max": 1000000000},
		"min-int-min": {"min": -9223372036854775808, "max": 0},
	} {
		record("age", name, map[string]any{"age": age}, want4xx)
	}
	for _, h := range []float64{-1, 29.9, 200.1, 1e308, -1e308} {
		record("height", fmt.Sprint(h), map[string]any{"height_cm": h}, want4xx)
	}
	for f, vals := range map[string][]string{"kind": {"", "lost", "FOUND", " found", "found\u0000"}, "sex": {"boy", "F", "MALE", "other"}, "status": {"deleted", "Open", "matched "}} {
		for _, v := range vals {
			record("enum", f+"="+v, map[string]any{f: v}, want4xx)
		}
	}
	// Update of an existing record with the same bad bodies (a sample).
	for _, b := range []string{`{"kind":"missing"}`, `{"kind":"found","names":["Ra` + "\u202e" + `hul"]}`, `[]`, `{"kind":"found","id":"x"}`, `{"kind":"found","observed_on":"9999-12-31"}`} {
		add(hostileCase{group: "update", name: b, method: "PUT", path: "/v1/children/" + target, ctype: "application/json", body: bytesBody([]byte(b)), want: want4xx})
	}

	// Ids that cannot exist, on every route that takes one.
	ids := []string{"00000000000000000000000000000000", "0191f6d5c0d84e7b9c1a2b3c4d5e6f70", "..", "..%2F..%2Fetc%2Fpasswd",
		"%2e%2e%2f%2e%2e%2fetc%2fpasswd", "%2e%2e", "%00", "%ff%fe", "a%0Ab", "c%2F" + target, "x~y", "%F0%9F%99%82",
		"'%20OR%20'1'%3D'1", "*", strings.Repeat("a", 65), strings.Repeat("a", 300), strings.Repeat("b", 10000), strings.Repeat("c", 50000)}
	decision := []byte(`{"decision":"confirmed"}`)
	update := []byte(`{"kind":"found"}`)
	photoBody, photoCT := multipartBody(t, part{Name: "photo", Data: jpg})
	for _, id := range ids {
		short := id
		if len(short) > 24 {
			short = fmt.Sprintf("%s…(%d)", id[:8], len(id))
		}
		for _, r := range []hostileCase{
			{method: "GET", path: "/v1/children/" + id, key: "reader"},
			{method: "PUT", path: "/v1/children/" + id, ctype: "application/json", body: bytesBody(update)},
			{method: "DELETE", path: "/v1/children/" + id},
			{method: "POST", path: "/v1/children/" + id + "/photos", ctype: photoCT, body: bytesBody(photoBody)},
			{method: "GET", path: "/v1/children/" + id + "/candidates"},
			{method: "GET", path: "/v1/photos/" + id, key: "reader"},
			{method: "POST", path: "/v1/matches/" + id + "/decision", ctype: "application/json", body: bytesBody(decision), key: "reader"},
			{method: "GET", path: "/v1/jobs/" + id, key: "admin"},
			{method: "POST", path: "/v1/jobs/" + id + "/cancel", key: "admin"},
		} {
			r.group, r.name, r.want = "id", r.method+" "+strings.Replace(r.path, id, short, 1), want4xx
			add(r)
		}
	}
	add(hostileCase{group: "id", name: "traversal-raw", method: "GET", path: "/v1/children/../../etc/passwd", key: "reader", want: want4xx})
	add(hostileCase{group: "id", name: "traversal-photos", method: "GET", path: "/v1/photos/../../../../etc/passwd", key: "reader", want: want4xx})
	add(hostileCase{group: "id", name: "double-slash", method: "GET", path: "/v1/children//" + target, key: "reader", want: want4xx})

	// Query parameters.
	for _, q := range []string{"limit=0", "limit=-1", "limit=101", "limit=abc", "limit=1e2", "limit=%00", "limit=99999999999999999999", "limit=", "limit=1.5"} {
		add(hostileCase{group: "query", name: "candidates?" + q, method: "GET", path: "/v1/children/" + target + "/candidates?" + q, want: want4xx})
	}
	for _, q := range []string{"status=bogus", "min_probability=2", "min_probability=-0.1", "min_probability=NaN", "min_probability=abc",
		"min_probability=Inf", "limit=501", "limit=0", "cursor=" + strings.Repeat("z", 2000), "cursor=%ff", "cursor=garbage"} {
		add(hostileCase{group: "query", name: "matches?" + q, method: "GET", path: "/v1/matches?" + q, key: "reader", want: want4xx})
	}
	for _, q := range []string{"limit=1001", "limit=-5", "cursor=garbage", "cursor=%ff%fe", "since=yesterday", "since=2024-13-01T00:00:00Z"} {
		add(hostileCase{group: "query", name: "audit?" + q, method: "GET", path: "/v1/audit?" + q, key: "admin", want: want4xx})
	}

	// Searches.
	qpart := func(v string) part { return part{Name: "query", ContentType: "application/json", Data: []byte(v)} }
	ph := part{Name: "photo", Data: jpg}
	for _, sc := range []struct {
		name  string
		parts []part
	}{
		{"no-query", []part{ph}},
		{"query-not-json", []part{qpart("kind=found")}},
		{"query-array", []part{qpart("[]")}},
		{"query-no-kind", []part{qpart("{}")}},
		{"query-bad-name", []part{qpart(`{"kind":"missing","names":["\u202e"]}`)}},
		{"query-unknown-field", []part{qpart(`{"kind":"missing","id":"x"}`)}},
		{"two-queries", []part{qpart(`{"kind":"missing"}`), qpart(`{"kind":"missing"}`)}},
		{"eleven-photos", append([]part{qpart(`{"kind":"missing"}`)}, slices.Repeat([]part{ph}, 11)...)},
		{"random-photo", []part{qpart(`{"kind":"missing"}`), {Name: "photo", Data: randBytes(rng, 1000)}}},
		{"truncated-photo", []part{qpart(`{"kind":"missing"}`), {Name: "photo", Data: jpg[:len(jpg)/3]}}},
		{"empty-photo", []part{qpart(`{"kind":"missing"}`), {Name: "photo"}}},
		{"bomb-photo", []part{qpart(`{"kind":"missing"}`), {Name: "photo", Data: pngWithSize(50000, 50000)}}},
		{"unknown-part", []part{qpart(`{"kind":"missing"}`), {Name: "extra", Data: []byte("x")}}},
		{"deep-query", []part{qpart(`{"kind":"missing","notes":` + strings.Repeat("[", 20000) + strings.Repeat("]", 20000) + `}`)}},
	} {
		body, ct := multipartBody(t, sc.parts...)
		add(hostileCase{group: "search", name: sc.name, path: "/v1/search", ctype: ct, body: bytesBody(body), key: "reader", want: want4xx})
	}
	add(hostileCase{group: "search", name: "limit=1000", path: "/v1/search?limit=1000", ctype: goodCT, body: bytesBody(good), key: "reader", want: want4xx})

	// Methods, routes and keys.
	for _, r := range [][2]string{{"PATCH", "/v1/children/" + target}, {"POST", "/v1/photos/x"}, {"DELETE", "/v1/audit"}, {"PUT", "/v1/search"},
		{"GET", "/v1/nope"}, {"GET", "/v1/children/"}, {"GET", "/v1"}, {"TRACE", "/v1/children"}, {"BREW", "/v1/children"}, {"GET", "/v2/children"}} {
		add(hostileCase{group: "route", name: r[0] + " " + r[1], method: r[0], path: r[1], want: want4xx})
	}
	for name, key := range map[string]string{"none": "-", "wrong": "not-a-key-but-long-enough", "long": strings.Repeat("k", 10000),
		"high-bytes": "key\xff\xfe-0123456789abcdef", "portal-key-prefix": portalKey[:len(portalKey)-1]} {
		add(hostileCase{group: "auth", name: name, method: "GET", path: "/v1/children/" + target, key: key, want: want4xx, status: http.StatusUnauthorized})
	}
	for _, h := range []string{"Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer ", "Token " + portalKey, "Bearer " + portalKey + " extra"} {
		add(hostileCase{group: "auth", name: "header:" + h[:min(len(h), 12)], method: "GET", path: "/v1/children/" + target, key: "-",
			auth: h, want: want4xx, status: http.StatusUnauthorized})
	}
	// Literal query syntax in names: accepted, stored and searched as text.
	for _, n := range literalNames {
		record("literal", n, map[string]any{"names": []string{n}}, wantNo5xx)
	}
	return cs
}

// literalNames carry SQL and Bleve query syntax. Each has one word of its
// own so that a search can be expected to find exactly it.
var literalNames = []string{
	"Robert'); DROP TABLE children;-- Quillon",
	"Asha' OR '1'='1 Verenthi",
	"name:* Zorbuvan",
	"+kind:found -sex:male Pelmarind",
	"/.*/ Tovaquin",
	"Ravi~2 Ushvendra",
	`title:"x"^5 Kelmaroth`,
	"* ? Brisolvane",
	`\ Nendrivash`,
	"{} [] () Ombrelith",
	"AND OR NOT Xalvoreen",
	"_all:* Drevanoth",
}

// checkLiteralNames reads back the literal-syntax records and searches for
// each by its exact name: stored as sent, and found.
func checkLiteralNames(t *testing.T, s *server) {
	t.Helper()
	for _, n := range literalNames {
		r := s.Multipart(t, "POST", "/v1/search?limit=20", investigatorKey, queryPart(t, map[string]any{"kind": "missing", "names": []string{n}}))
		if r.Status != http.StatusOK {
			t.Errorf("search for %q: %d %s", n, r.Status, r.Body)
			continue
		}
		var res struct{ Candidates []struct{ ID string } }
		r.JSON(t, &res)
		found := false
		for _, c := range res.Candidates {
			g := s.Do(t, "GET", "/v1/children/"+c.ID, investigatorKey, "", nil)
			var child struct{ Names []string }
			g.JSON(t, &child)
			if slices.Contains(child.Names, n) {
				found = true
				break
			}
		}
		if !found {
			t.Errorf("the record named %q, searched by that exact name, is not among %d candidates (or its name was not stored literally)", n, len(res.Candidates))
		}
	}
}

// typeOf is the JSON type of a wrong-value name in hostileCases.
func typeOf(wrongName string) string {
	switch wrongName {
	case "number", "float", "negative", "huge-number":
		return "number"
	case "bool":
		return "bool"
	case "string":
		return "string"
	case "array", "array-of-arrays":
		return "array"
	}
	return "object"
}

func bytesBody(b []byte) func() io.Reader { return func() io.Reader { return bytes.NewReader(b) } }

func randBytes(rng *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(rng.UintN(256))
	}
	return b
}

// corrupt returns a copy of b with n random bytes in [from, to) overwritten.
func corrupt(rng *rand.Rand, b []byte, from, to, n int) []byte {
	c := slices.Clone(b)
	for range n {
		c[from+rng.IntN(to-from)] = byte(rng.UintN(256))
	}
	return c
}

// pngWithSize is a PNG whose header declares w×h (with a valid CRC) and
// whose one IDAT chunk holds a few bytes.
func pngWithSize(w, h uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		encbin.Write(&b, encbin.BigEndian, uint32(len(data)))
		b.WriteString(typ)
		b.Write(data)
		encbin.Write(&b, encbin.BigEndian, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := make([]byte, 13)
	encbin.BigEndian.PutUint32(ihdr[0:], w)
	encbin.BigEndian.PutUint32(ihdr[4:], h)
	ihdr[8], ihdr[9] = 8, 2 // 8-bit RGB
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// jpegWithSize is jpg with its SOF0 frame header patched to declare w×h.
func jpegWithSize(t *testing.T, jpg []byte, w, h uint16) []byte {
	t.Helper()
	c := slices.Clone(jpg)
	for i := 2; i+9 < len(c); {
		if c[i] != 0xFF {
			t.Fatal("jpegWithSize: lost the marker chain")
		}
		m := c[i+1]
		n := int(encbin.BigEndian.Uint16(c[i+2:]))
		if m == 0xC0 || m == 0xC2 {
			encbin.BigEndian.PutUint16(c[i+5:], h)
			encbin.BigEndian.PutUint16(c[i+7:], w)
			return c
		}
		i += 2 + n
	}
	t.Fatal("jpegWithSize: no SOF0 marker")
	return nil
}

// webpVP8X is an extended WebP header declaring a w×h canvas.
func webpVP8X(w, h uint32) []byte {
	body := []byte("WEBPVP8X\x0a\x00\x00\x00\x00\x00\x00\x00")
	for _, v := range []uint32{w - 1, h - 1} {
		body = append(body, byte(v), byte(v>>8), byte(v>>16))
	}
	out := []byte("RIFF")
	out = encbin.LittleEndian.AppendUint32(out, uint32(len(body)))
	return append(out, body...)
}

// webpVP8XAnimated is a small WebP header with the animation flag set.
func webpVP8XAnimated() []byte {
	b := webpVP8X(16, 16)
	b[20] |= 0x02
	return b
}

// multipartStream is a multipart body with one part name whose content is
// prefix then zeros up to n bytes, generated as it is read.
func multipartStream(boundary, name string, prefix []byte, n int64) io.Reader {
	head := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"; filename=\"big.jpg\"\r\n\r\n"
	return io.MultiReader(strings.NewReader(head), bytes.NewReader(prefix), io.LimitReader(zeroReader{}, n-int64(len(prefix))),
		strings.NewReader("\r\n--"+boundary+"--\r\n"))
}

// zeroReader and letterReader are endless streams of one byte.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type letterReader struct{}

func (letterReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// lastBytes returns the last n bytes of s.
func lastBytes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}

// TestAccessControlAuditAndLogs checks, over the real server: every /v1
// operation in /openapi.json answers 401 without a key and 403 to each role
// its x-roles leave out (and neither to one it lists); a read and a search
// each leave an audit entry; and the server's log holds no name, photo
// bytes or key secret.
func TestAccessControlAuditAndLogs(t *testing.T) {
	faces := sharedDir(t, "faces")
	s := startServer(t, serverOptions{Args: []string{"--rate-limit", "1000", "--rate-burst", "1000"}})
	const name = "Saanvika Lognotwell"
	photo := readFile(t, filepath.Join(faces, "leonard", "leonard1.png"))
	id, photoID := createWithPhoto(t, s, name, photo)

	// Authorization over the route list the server itself publishes.
	var doc struct {
		Paths map[string]map[string]struct {
			Roles []string `json:"x-roles"`
		}
	}
	s.Do(t, "GET", "/openapi.json", "", "", nil).JSON(t, &doc)
	keys := map[string]string{"admin": adminKey, "portal": portalKey, "investigator": investigatorKey}
	ops := 0
	for path, methods := range doc.Paths {
		if !strings.HasPrefix(path, "/v1/") {
			continue
		}
		concrete := strings.ReplaceAll(path, "{id}", "00000000000000000000000000000000")
		for method, op := range methods {
			method = strings.ToUpper(method)
			ops++
			if len(op.Roles) == 0 {
				t.Errorf("%s %s: no x-roles in the document", method, path)
			}
			if r := s.Do(t, method, concrete, "", "", nil); r.Status != http.StatusUnauthorized || r.ErrorCode() != "unauthorized" {
				t.Errorf("%s %s without a key: %d %s", method, path, r.Status, r.Body)
			}
			for role, key := range keys {
				r := s.Do(t, method, concrete, key, "", nil)
				allowed := slices.Contains(op.Roles, role)
				switch {
				case !allowed && (r.Status != http.StatusForbidden || r.ErrorCode() != "forbidden"):
					t.Errorf("%s %s as %s (not in x-roles %v): %d %s", method, path, role, op.Roles, r.Status, r.Body)
				case allowed && (r.Status == http.StatusForbidden || r.Status == http.StatusUnauthorized):
					t.Errorf("%s %s as %s (in x-roles): %d %s", method, path, role, r.Status, r.Body)
				}
			}
		}
	}
	if ops < 10 {
		t.Fatalf("only %d /v1 operations in /openapi.json", ops)
	}
	t.Logf("checked 401 and 403 on %d /v1 operations", ops)

	// The audit trail records a read and a search.
	since := time.Now().UTC().Add(-time.Second).Format(time.RFC3339Nano)
	if r := s.Do(t, "GET", "/v1/children/"+id, investigatorKey, "", nil); r.Status != http.StatusOK {
		t.Fatalf("read: %d", r.Status)
	}
	if r := s.Multipart(t, "POST", "/v1/search", investigatorKey, queryPart(t, map[string]any{"kind": "missing", "names": []string{name}}),
		part{Name: "photo", Filename: "l.png", Data: photo}); r.Status != http.StatusOK {
		t.Fatalf("search: %d %s", r.Status, r.Body)
	}
	if r := s.Do(t, "GET", "/v1/photos/"+photoID, investigatorKey, "", nil); r.Status != http.StatusOK {
		t.Fatalf("photo: %d", r.Status)
	}
	var entries []models.AuditEntry
	for cursor := ""; ; {
		r := s.Do(t, "GET", "/v1/audit?limit=1000&since="+url.QueryEscape(since)+"&cursor="+url.QueryEscape(cursor), adminKey, "", nil)
		var page struct {
			Entries    []models.AuditEntry
			NextCursor string `json:"next_cursor"`
		}
		r.JSON(t, &page)
		entries = append(entries, page.Entries...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	want := map[string]bool{"read /v1/children/:id " + id: false, "search /v1/search ": false, "read /v1/photos/:id " + photoID: false}
	invID := (api.Key{Role: api.RoleInvestigator, Secret: investigatorKey}).ID()
	for _, e := range entries {
		k := e.Action + " " + e.Route + " " + e.Target
		if _, ok := want[k]; ok && e.KeyID == invID && e.Status == http.StatusOK {
			want[k] = true
		}
	}
	for k, seen := range want {
		if !seen {
			t.Errorf("no audit entry %q by the investigator key among %d entries", k, len(entries))
		}
	}

	// The log: no name, photo bytes or key secrets.
	logs := s.Logs()
	needles := append(nameNeedles(name), photoNeedles(photo)...)
	for _, n := range photoNeedles(photo) {
		needles = append(needles, []byte(base64.StdEncoding.EncodeToString(n)[:32]), []byte(hex.EncodeToString(n)))
	}
	for _, k := range keys {
		needles = append(needles, []byte(k))
	}
	for _, n := range needles {
		if strings.Contains(strings.ToLower(logs), strings.ToLower(string(n))) {
			t.Errorf("the server log contains %.32q", n)
		}
	}
	t.Logf("server log: %d lines, none with the name, photo bytes or a key", strings.Count(logs, "\n"))
}
