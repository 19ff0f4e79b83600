package main

// End to end: the server notifies a webhook receiver on loopback of the
// matches a re-score job finds, signed; the receiver is down at first and
// the server restarts before it is back, and no delivery is lost or sent
// twice.

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/engine"
)

type hookEvent struct {
	ID          string  `json:"id"`
	Type        string  `json:"type"`
	MatchID     string  `json:"match_id"`
	Probability float64 `json:"probability"`
	Missing     struct {
		ID          string `json:"id"`
		ExternalRef string `json:"external_ref"`
	} `json:"missing"`
	Found struct {
		ID          string `json:"id"`
		ExternalRef string `json:"external_ref"`
	} `json:"found"`
}

type hookReceiver struct {
	mu       sync.Mutex
	up       bool
	refused  int // attempts while down
	badSig   int
	events   []hookEvent
	bodies   []string
	deliverd map[string]int // delivery id → times received
}

const hookSecret = "a-webhook-secret-for-tests"

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !hmac.Equal([]byte(r.Header.Get(engine.HeaderSignature)), []byte(engine.Sign([]byte(hookSecret), body))) {
		h.badSig++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if !h.up {
		h.refused++
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var ev hookEvent
	if json.Unmarshal(body, &ev) != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	h.deliverd[ev.ID]++
	if h.deliverd[ev.ID] == 1 {
		h.events, h.bodies = append(h.events, ev), append(h.bodies, string(body))
	}
	w.WriteHeader(http.StatusOK)
}

func (h *hookReceiver) state() (up bool, refused, badSig int, events []hookEvent, bodies []string, dup int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, n := range h.deliverd {
		dup += n - 1
	}
	return h.up, h.refused, h.badSig, append([]hookEvent(nil), h.events...), append([]string(nil), h.bodies...), dup
}

func TestWebhookNotifiesNewMatches(t *testing.T) {
	rcv := &hookReceiver{deliverd: map[string]int{}}
	hook := httptest.NewServer(rcv)
	defer hook.Close()
	a := newAPISession(t, serverOptions{Args: apiRoomyRate, Env: []string{
		"TRACKMATCH_WEBHOOK_URL=" + hook.URL + "/hook", "TRACKMATCH_WEBHOOK_SECRET=" + hookSecret,
		"TRACKMATCH_WEBHOOK_THRESHOLD=0.2", "TRACKMATCH_WEBHOOK_BACKOFF_MS=100"}})
	missing := a.create(t, "missing", map[string]any{"kind": "missing", "external_ref": "FIR-H-1", "names": []string{"Amita Sharma"},
		"sex": "female", "age": map[string]int{"min": 9, "max": 11}, "observed_on": "2024-01-10"})
	found := a.create(t, "found", map[string]any{"kind": "found", "external_ref": "CCI-H-1", "names": []string{"Amita"},
		"sex": "female", "age": map[string]int{"min": 9, "max": 12}, "observed_on": "2024-06-01"})
	a.upload(t, missing, a.photo(t, "amy/amy1.png"))
	a.upload(t, found, a.photo(t, "amy/amy2.png"))
	a.runRescore(t)
	want := map[string]apiMatch{}
	for id, m := range a.matches(t) {
		if m.Probability >= 0.2 {
			want[id] = m
		}
	}
	if len(want) == 0 {
		t.Fatalf("the re-score stored no match at or above 0.2 to notify: %v", a.matches(t))
	}
	// The receiver is down: the server keeps trying.
	deadline := time.Now().Add(30 * time.Second)
	for {
		if _, refused, _, _, _, _ := rcv.state(); refused >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if _, refused, badSig, events, _, _ := rcv.state(); refused < 2 || badSig != 0 || len(events) != 0 {
		t.Fatalf("while down: %d attempts refused, %d badly signed, %d events", refused, badSig, len(events))
	}
	// The server restarts before the receiver is back; nothing is lost.
	a.Stop()
	rcv.mu.Lock()
	rcv.up = true
	rcv.mu.Unlock()
	a.start(modelsDir(t))
	deadline = time.Now().Add(30 * time.Second)
	for {
		if _, _, _, events, _, _ := rcv.state(); len(events) >= len(want) || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(500 * time.Millisecond) // room for a duplicate to show
	_, _, badSig, events, bodies, dup := rcv.state()
	if len(events) != len(want) || badSig != 0 || dup != 0 {
		t.Fatalf("received %d events (%d duplicates, %d badly signed), want %d", len(events), dup, badSig, len(want))
	}
	for i, ev := range events {
		m, ok := want[ev.MatchID]
		if !ok || ev.Type != "match.created" || ev.Missing.ID != m.MissingID || ev.Found.ID != m.FoundID ||
			ev.Probability < 0.2 {
			t.Errorf("event %+v does not describe a match at or above 0.2", ev)
		}
		if ev.Missing.ID == missing && (ev.Missing.ExternalRef != "FIR-H-1" || ev.Found.ExternalRef != "CCI-H-1") {
			t.Errorf("event refs %+v", ev)
		}
		if strings.Contains(bodies[i], "Amita") || strings.Contains(bodies[i], "photo") {
			t.Errorf("the body carries a name or photo: %s", bodies[i])
		}
	}
	if strings.Contains(a.Logs(), "Amita") {
		t.Errorf("a name reached the server's logs")
	}
}
