package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/color/palette"
	"image/jpeg"
	"image/png"
	"net/http"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"
)

// hostileImage is one generated image that is valid but strange in size or
// format.
type hostileImage struct {
	name string
	data []byte
}

// hostileImages builds more than 1,000 valid images of the sizes and kinds
// that have crashed dlib or OpenCV in process: every square from 1×1 to
// 128×128, strips from 1×5000 to 120×5000 in both orientations, and grey,
// 16-bit, palette, grey-with-alpha PNGs, grey JPEGs and WebPs among them.
func hostileImages(t *testing.T) []hostileImage {
	t.Helper()
	var out []hostileImage
	add := func(name string, data []byte) { out = append(out, hostileImage{name, data}) }
	enc := func(name string, f func(*bytes.Buffer) error) {
		var b bytes.Buffer
		if err := f(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		add(name, b.Bytes())
	}
	textured := func(w, h int) *image.RGBA {
		img := image.NewRGBA(image.Rect(0, 0, w, h))
		for y := range h {
			for x := range w {
				img.Set(x, y, color.RGBA{uint8(x * 5), uint8(y * 3), uint8(x ^ y), 255})
			}
		}
		return img
	}
	webp := func(name string, img image.Image) {
		mat, err := gocv.ImageToMatRGB(img)
		if err != nil {
			t.Fatal(err)
		}
		defer mat.Close()
		buf, err := gocv.IMEncode(".webp", mat)
		if err != nil {
			t.Fatal(err)
		}
		defer buf.Close()
		add(name, bytes.Clone(buf.GetBytes()))
	}
	for s := 1; s <= 128; s++ {
		img := textured(s, s)
		enc(fmt.Sprintf("square-%d.jpg", s), func(b *bytes.Buffer) error { return jpeg.Encode(b, img, nil) })
		enc(fmt.Sprintf("square-%d.png", s), func(b *bytes.Buffer) error { return png.Encode(b, img) })
		if s > 64 {
			continue
		}
		grey, grey16 := image.NewGray(img.Rect), image.NewGray16(img.Rect)
		pal := image.NewPaletted(img.Rect, palette.Plan9)
		alpha := image.NewNRGBA(img.Rect)
		for y := range s {
			for x := range s {
				c := img.At(x, y)
				grey.Set(x, y, c)
				grey16.Set(x, y, c)
				pal.Set(x, y, c)
				alpha.Set(x, y, color.NRGBA{uint8(x * 5), uint8(x * 5), uint8(x * 5), uint8(y * 4)})
			}
		}
		enc(fmt.Sprintf("square-%d-grey.jpg", s), func(b *bytes.Buffer) error { return jpeg.Encode(b, grey, nil) })
		enc(fmt.Sprintf("square-%d-16bit.png", s), func(b *bytes.Buffer) error { return png.Encode(b, grey16) })
		enc(fmt.Sprintf("square-%d-palette.png", s), func(b *bytes.Buffer) error { return png.Encode(b, pal) })
		enc(fmt.Sprintf("square-%d-alpha.png", s), func(b *bytes.Buffer) error { return png.Encode(b, alpha) })
		if s%4 == 1 {
			webp(fmt.Sprintf("square-%d.webp", s), img)
		}
	}
	for w := 1; w <= 120; w++ {
		for _, sz := range []image.Point{{w, 5000}, {5000, w}} {
			img := textured(sz.X, sz.Y)
			name := fmt.Sprintf("strip-%dx%d", sz.X, sz.Y)
			enc(name+".jpg", func(b *bytes.Buffer) error { return jpeg.Encode(b, img, nil) })
			enc(name+".png", func(b *bytes.Buffer) error { return png.Encode(b, img) })
			if w%20 == 0 {
				webp(name+".webp", img)
			}
		}
	}
	return out
}

// TestHostileImagesThroughBothPhotoRoutes sends every hostile image three
// times to the upload route and three times to search, against the real
// server with its face workers: never a 5xx, never a crash, a JSON 4xx
// where no face can be found; afterwards a normal upload and search work.
func TestHostileImagesThroughBothPhotoRoutes(t *testing.T) {
	faces := sharedDir(t, "faces")
	images := hostileImages(t)
	if len(images) < 1000 {
		t.Fatalf("only %d hostile images; the test promises 1,000", len(images))
	}
	s := startServer(t, serverOptions{Args: append([]string{"--workers", "2"}, apiRoomyRate...), Quiet: true})
	r := s.JSON(t, "POST", "/v1/children", portalKey, map[string]any{"kind": "found", "names": []string{"Target Practice"}})
	var target struct{ ID string }
	r.JSON(t, &target)
	query := queryPart(t, map[string]any{"kind": "missing"})

	statuses := map[int]int{}
	codes := map[string]int{}
	requests := 0
	for _, img := range images {
		for range 3 {
			for _, route := range []string{"upload", "search"} {
				photo := part{Name: "photo", Filename: img.name, Data: img.data}
				var resp response
				var err error
				if route == "upload" {
					body, ct := multipartBody(t, photo)
					resp, err = s.Try(t.Context(), "POST", "/v1/children/"+target.ID+"/photos", portalKey, ct, bytes.NewReader(body))
				} else {
					body, ct := multipartBody(t, query, photo)
					resp, err = s.Try(t.Context(), "POST", "/v1/search", investigatorKey, ct, bytes.NewReader(body))
				}
				requests++
				if err != nil {
					if s.exited() {
						t.Fatalf("%s via %s: the server died: %v\n%s", img.name, route, err, lastBytes(s.Logs(), 3000))
					}
					t.Fatalf("%s via %s: no answer: %v", img.name, route, err)
				}
				statuses[resp.Status]++
				var e struct {
					Error *struct{ Code, Message string } `json:"error"`
				}
				_ = json.Unmarshal(resp.Body, &e)
				if e.Error != nil {
					codes[e.Error.Code]++
				}
				switch {
				case resp.Status >= 500:
					t.Errorf("%s via %s: %d %.300s", img.name, route, resp.Status, resp.Body)
				case resp.Status >= 400 && (e.Error == nil || e.Error.Message == ""):
					t.Errorf("%s via %s: %d without a JSON error: %.200q", img.name, route, resp.Status, resp.Body)
				case resp.Status < 400 && route == "upload":
					t.Errorf("%s: a blank image was stored as a face photo: %d %.200s", img.name, resp.Status, resp.Body)
				}
			}
		}
	}
	m := s.Do(t, "GET", "/metrics", "", "", nil)
	restarts := metricValue(t, string(m.Body), "trackmatch_face_worker_restarts_total")
	t.Logf("%d images, %d requests: statuses %v, codes %v; face worker restarts %g", len(images), requests, statuses, codes, restarts)

	// A normal upload and search still work.
	photo := readFile(t, filepath.Join(faces, "amy", "amy1.png"))
	if r := s.Multipart(t, "POST", "/v1/children/"+target.ID+"/photos", portalKey, part{Name: "photo", Filename: "amy1.png", Data: photo}); r.Status != http.StatusCreated {
		t.Fatalf("a real photo after the barrage: %d %s", r.Status, r.Body)
	}
	r = s.Multipart(t, "POST", "/v1/search", investigatorKey, query, part{Name: "photo", Filename: "amy2.png", Data: readFile(t, filepath.Join(faces, "amy", "amy2.png"))})
	var found struct {
		Candidates []struct{ ID string } `json:"candidates"`
	}
	r.JSON(t, &found)
	if r.Status != http.StatusOK || len(found.Candidates) == 0 || found.Candidates[0].ID != target.ID {
		t.Fatalf("a real search after the barrage: %d %.300s", r.Status, r.Body)
	}
}
