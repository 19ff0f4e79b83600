package engine_test

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// receiver is a webhook endpoint on loopback that checks signatures and
// can be down (503) or up.
type receiver struct {
	mu     sync.Mutex
	down   bool
	events []models.MatchEvent
	bodies []string
	bad    int // requests with a wrong signature
}

func (r *receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	body, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	defer r.mu.Unlock()
	if !hmac.Equal([]byte(req.Header.Get(engine.HeaderSignature)), []byte(engine.Sign([]byte(testSecret), body))) {
		r.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	var ev models.MatchEvent
	if err := json.Unmarshal(body, &ev); err != nil || req.Header.Get(engine.HeaderDelivery) != ev.ID || req.Header.Get(engine.HeaderEvent) != models.EventMatchCreated {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	r.events = append(r.events, ev)
	r.bodies = append(r.bodies, string(body))
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) got() ([]models.MatchEvent, []string, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]models.MatchEvent(nil), r.events...), append([]string(nil), r.bodies...), r.bad
}

const testSecret = "webhook-secret-0123456789"

// A new match at or above the threshold is queued with the match and
// delivered signed; one under it, or the same match again, is not. A
// receiver that is down (503, then gone altogether) gets the delivery
// once it is back, after backoff; a restart of the store loses nothing.
func TestWebhookOutboxDelivery(t *testing.T) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "badger")
	st, err := index.Open(dir, index.StoreOptions{MatchEventThreshold: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { st.Close() }()
	put := func(kind models.Kind, ref, name string) string {
		c := models.Child{ID: index.NewID(), Kind: kind, ExternalRef: ref, Names: []string{name}, Status: models.StatusOpen}
		if err := st.PutChild(ctx, c); err != nil {
			t.Fatal(err)
		}
		return c.ID
	}
	m1, f1 := put(models.KindMissing, "FIR-W-1", "Sunita Kumari"), put(models.KindFound, "CCI-W-1", "Sunita")
	m2, f2 := put(models.KindMissing, "FIR-W-2", "Rekha"), put(models.KindFound, "CCI-W-2", "Rekha Devi")
	for _, m := range []models.Match{
		{MissingID: m1, FoundID: f1, Probability: 0.9, Status: models.MatchNew},
		{MissingID: m1, FoundID: f1, Probability: 0.95, Status: models.MatchNew}, // the same match again
		{MissingID: m2, FoundID: f2, Probability: 0.3, Status: models.MatchNew},  // under the threshold
	} {
		if err := st.PutMatch(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := st.PendingDeliveries(ctx); err != nil || n != 1 {
		t.Fatalf("outbox holds %d deliveries (%v), want 1", n, err)
	}

	rcv := &receiver{down: true}
	srv := httptest.NewServer(rcv)
	cfg := engine.WebhookConfig{URL: srv.URL, Secret: []byte(testSecret), Backoff: 20 * time.Millisecond, MaxBackoff: 50 * time.Millisecond}
	n := engine.NewNotifier(st, cfg)
	if sent, err := n.DeliverDue(ctx); err != nil || sent != 0 {
		t.Fatalf("receiver down: sent %d, %v", sent, err)
	}
	due, err := st.DueDeliveries(ctx, time.Now().Add(time.Hour), 10)
	if err != nil || len(due) != 1 || due[0].Attempts != 1 || due[0].LastError != "status 503" || !due[0].NextAt.After(time.Now().Add(-time.Second)) {
		t.Fatalf("after a failed attempt: %+v %v", due, err)
	}
	if sent, _ := n.DeliverDue(ctx); sent != 0 {
		t.Fatalf("a delivery was retried before its backoff")
	}
	// The receiver goes away altogether: connection refused, kept.
	url := srv.URL
	srv.Close()
	time.Sleep(30 * time.Millisecond)
	if sent, err := n.DeliverDue(ctx); err != nil || sent != 0 {
		t.Fatalf("receiver gone: sent %d, %v", sent, err)
	}
	// Restart the store: the delivery is still there.
	st.Close()
	if st, err = index.Open(dir, index.StoreOptions{MatchEventThreshold: 0.5}); err != nil {
		t.Fatal(err)
	}
	if k, _ := st.PendingDeliveries(ctx); k != 1 {
		t.Fatalf("after a restart the outbox holds %d, want 1", k)
	}
	// The receiver is back (same address), and up.
	rcv.mu.Lock()
	rcv.down = false
	rcv.mu.Unlock()
	srv = httptest.NewUnstartedServer(rcv)
	srv.Listener.Close()
	srv.Listener = mustListen(t, strings.TrimPrefix(url, "http://"))
	srv.Start()
	defer srv.Close()
	n = engine.NewNotifier(st, cfg)
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { n.Run(runCtx); close(done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if evs, _, _ := rcv.got(); len(evs) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	evs, bodies, bad := rcv.got()
	if len(evs) != 1 || bad != 0 {
		t.Fatalf("received %d events (%d badly signed), want 1", len(evs), bad)
	}
	ev := evs[0]
	if ev.MatchID != models.MatchID(m1, f1) || ev.Probability != 0.9 || ev.Missing != (models.EventRecord{ID: m1, ExternalRef: "FIR-W-1"}) ||
		ev.Found != (models.EventRecord{ID: f1, ExternalRef: "CCI-W-1"}) || ev.Type != models.EventMatchCreated {
		t.Fatalf("event %+v", ev)
	}
	if strings.Contains(bodies[0], "Sunita") {
		t.Fatalf("the body carries a name: %s", bodies[0])
	}
	if k, _ := st.PendingDeliveries(ctx); k != 0 {
		t.Fatalf("the outbox still holds %d after delivery", k)
	}
}

// mustListen listens on addr again, retrying while the old listener's port
// is being released.
func mustListen(t *testing.T, addr string) net.Listener {
	t.Helper()
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", addr); err == nil {
			return ln
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listen on %s again: %v", addr, err)
	return nil
}
