package api

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// stallUpload opens a connection, sends the headers and the first sent
// bytes of req's body, and leaves it hanging. It returns the connection.
func stallUpload(t *testing.T, h *harness, req request, sent int) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", h.ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: %s\r\nContent-Length: %d\r\n\r\n",
		req.method, req.path, req.key, req.ctype, len(req.body))
	conn.Write(req.body[:sent])
	return conn
}

// Clients trickling their photo bodies hold no embedding slot: with more of
// them than slots, a normal upload and a photo search still succeed.
func TestTricklingUploadsDoNotTakeSlots(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxConcurrentEmbeds = 1; c.EmbedWait = 20 * time.Millisecond })
	c := h.createChild(missingChild())
	for i := range 3 {
		req := multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(jpegish(fmt.Sprint("slow", i))))
		stallUpload(t, h, req, len(req.body)/2)
	}
	time.Sleep(50 * time.Millisecond) // let the server read what they sent
	if r := h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(jpegish("normal")))); r.status != http.StatusCreated {
		t.Errorf("upload while 3 clients trickle theirs: %d %s", r.status, r.body)
	}
	r := h.do(multipartReq("POST", "/v1/search", portalKey, queryPart(map[string]any{"kind": "found"}), photoPart(jpegish("q"))))
	if r.status != http.StatusOK {
		t.Errorf("photo search while 3 clients trickle uploads: %d %s", r.status, r.body)
	}
}

// Photo bytes in flight are bounded: a request that would take them over
// MaxPhotoBytesInFlight gets 503 at once, and the budget is whole again
// when the request holding it fails (here, at PhotoReadTimeout).
func TestPhotoBytesInFlightAreBounded(t *testing.T) {
	const limit = 4 * budgetChunk
	h := newHarness(t, func(c *Config) {
		// MaxPhotoBytesInFlight is at least one search of the largest size.
		c.MaxSearchBytes, c.MaxJSONBytes = budgetChunk, budgetChunk
		c.MaxPhotoBytesInFlight = limit
		c.PhotoReadTimeout = 300 * time.Millisecond
	})
	h.skipDocCheck = true
	c := h.createChild(missingChild())
	big := append(jpegish("big"), bytes.Repeat([]byte{0xCD}, limit)...)
	hog := multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(big))
	conn := stallUpload(t, h, hog, limit-budgetChunk/2) // holds all but half a chunk's worth of budget
	time.Sleep(100 * time.Millisecond)

	r := h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(append(jpegish("second"), bytes.Repeat([]byte{1}, budgetChunk)...))))
	wantError(t, r, http.StatusServiceUnavailable, models.EUNAVAILABLE)
	if !strings.Contains(h.scrape(), "trackmatch_http_photo_bytes_rejected_total 1") {
		t.Errorf("refusal for the photo-bytes budget not counted")
	}

	conn.SetReadDeadline(time.Now().Add(30 * time.Second)) // a safety net, not an assertion
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer to the stalled upload: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest {
		t.Errorf("stalled upload: %d, want 400", resp.StatusCode)
	}
	if r := h.do(multipartReq("POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(append(jpegish("third"), bytes.Repeat([]byte{1}, budgetChunk)...)))); r.status != http.StatusCreated {
		t.Errorf("upload once the budget is free: %d %s", r.status, r.body)
	}
}
