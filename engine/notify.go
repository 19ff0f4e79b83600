package engine

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// Webhook headers. The signature is "sha256=" and the hex HMAC-SHA256 of
// the raw body under the configured secret; a receiver recomputes it and
// compares in constant time before trusting the body.
const (
	HeaderSignature = "X-Trackmatch-Signature"
	HeaderEvent     = "X-Trackmatch-Event"
	HeaderDelivery  = "X-Trackmatch-Delivery"
)

// Sign returns the signature header value of body under secret.
func Sign(secret, body []byte) string {
	m := hmac.New(sha256.New, secret)
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Outbox is where webhook deliveries wait (index.Store): the store queues
// one with each new match at or above the threshold, in the match's own
// transaction.
type Outbox interface {
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]models.Delivery, error)
	PutDelivery(ctx context.Context, d models.Delivery) error
	DeleteDelivery(ctx context.Context, id string) error
}

// WebhookConfig configures a Notifier. Zero durations take the defaults
// in their comments.
type WebhookConfig struct {
	URL    string
	Secret []byte
	Client *http.Client // nil: one with a 10 s timeout
	// Poll is how often the outbox is read for due deliveries (1s).
	Poll time.Duration
	// Backoff is the pause after a first failed attempt (2s); it doubles
	// with each further failure up to MaxBackoff (1h). Deliveries are
	// never dropped: a receiver down for a day gets them when it is back.
	Backoff, MaxBackoff time.Duration
	Logger              *slog.Logger
}

// Notifier sends the outbox's deliveries to the webhook URL, oldest first,
// until each is acknowledged with a 2xx; a failed one is retried with
// exponential backoff. The outbox is durable, so a restart resumes them.
type Notifier struct {
	out Outbox
	cfg WebhookConfig
	now func() time.Time
}

// NewNotifier returns a Notifier draining out to cfg.URL.
func NewNotifier(out Outbox, cfg WebhookConfig) *Notifier {
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 10 * time.Second}
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = 2 * time.Second
	}
	if cfg.MaxBackoff <= 0 {
		cfg.MaxBackoff = time.Hour
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Notifier{out: out, cfg: cfg, now: time.Now}
}

// Run delivers until ctx ends.
func (n *Notifier) Run(ctx context.Context) {
	t := time.NewTicker(n.cfg.Poll)
	defer t.Stop()
	for {
		if _, err := n.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			n.cfg.Logger.Warn("webhook outbox", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// DeliverDue attempts the deliveries that are due, oldest first, and
// returns how many were acknowledged. It stops at the first failure: the
// receiver is likely down, and the next pass (after Poll) tries the next
// one, so a receiver that is down gets one attempt a poll, not a flood.
func (n *Notifier) DeliverDue(ctx context.Context) (int, error) {
	due, err := n.out.DueDeliveries(ctx, n.now(), 100)
	if err != nil {
		return 0, fmt.Errorf("read outbox: %w", err)
	}
	sent := 0
	for _, d := range due {
		if ctx.Err() != nil {
			return sent, nil
		}
		problem := n.post(ctx, d.Event)
		if problem == "" {
			if err := n.out.DeleteDelivery(ctx, d.Event.ID); err != nil {
				return sent, fmt.Errorf("delivery %s sent, but not removed from the outbox: %w", d.Event.ID, err)
			}
			sent++
			n.cfg.Logger.Info("webhook delivered", "delivery", d.Event.ID, "match_id", d.Event.MatchID, "attempts", d.Attempts+1)
			continue
		}
		d.LastError = problem
		d.Attempts++
		d.NextAt = n.now().Add(n.backoff(d.Attempts))
		n.cfg.Logger.Warn("webhook delivery failed; will retry", "delivery", d.Event.ID, "match_id", d.Event.MatchID,
			"attempts", d.Attempts, "problem", d.LastError, "next_at", d.NextAt)
		if err := n.out.PutDelivery(ctx, d); err != nil {
			return sent, fmt.Errorf("reschedule delivery %s: %w", d.Event.ID, err)
		}
		return sent, nil
	}
	return sent, nil
}

// backoff is the pause after the given number of failed attempts.
func (n *Notifier) backoff(attempts int) time.Duration {
	d := n.cfg.Backoff
	for i := 1; i < attempts && d < n.cfg.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, n.cfg.MaxBackoff)
}

// post sends one event and returns "" when the receiver acknowledged it,
// else what went wrong (a status or a connection error, never a body).
func (n *Notifier) post(ctx context.Context, ev models.MatchEvent) string {
	body, err := json.Marshal(ev)
	if err != nil {
		return "encode: " + err.Error()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, n.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return "request: " + err.Error()
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "trackmatch-webhook")
	req.Header.Set(HeaderEvent, ev.Type)
	req.Header.Set(HeaderDelivery, ev.ID)
	req.Header.Set(HeaderSignature, Sign(n.cfg.Secret, body))
	resp, err := n.cfg.Client.Do(req)
	if err != nil {
		return "connection failed"
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return fmt.Sprintf("status %d", resp.StatusCode)
	}
	return ""
}
