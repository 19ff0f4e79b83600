package main

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/trackmatch/trackmatch/engine"
)

// webhookConfig is the optional webhook, from the environment:
// TRACKMATCH_WEBHOOK_URL (http or https), its HMAC secret in
// TRACKMATCH_WEBHOOK_SECRET or a file named by TRACKMATCH_WEBHOOK_SECRET_FILE
// (at least 16 bytes), and TRACKMATCH_WEBHOOK_THRESHOLD, the least
// probability of a match worth a notification (default 0.5).
type webhookConfig struct {
	URL       string
	Secret    []byte
	Threshold float64 // 0 when no webhook is configured
}

// defaultWebhookThreshold is the least probability notified by default.
const defaultWebhookThreshold = 0.5

// readWebhookConfig reads the webhook settings; none set is no webhook.
func readWebhookConfig() (webhookConfig, error) {
	var c webhookConfig
	raw := os.Getenv("TRACKMATCH_WEBHOOK_URL")
	if raw == "" {
		return c, nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return c, fmt.Errorf("TRACKMATCH_WEBHOOK_URL must be an http or https URL")
	}
	c.URL = raw
	secret := os.Getenv("TRACKMATCH_WEBHOOK_SECRET")
	if f := os.Getenv("TRACKMATCH_WEBHOOK_SECRET_FILE"); f != "" {
		b, err := os.ReadFile(f)
		if err != nil {
			return c, fmt.Errorf("read TRACKMATCH_WEBHOOK_SECRET_FILE: %w", err)
		}
		secret = strings.TrimSpace(string(b))
	}
	if len(secret) < 16 {
		return c, fmt.Errorf("a webhook needs a secret of at least 16 bytes in TRACKMATCH_WEBHOOK_SECRET or TRACKMATCH_WEBHOOK_SECRET_FILE")
	}
	c.Secret = []byte(secret)
	c.Threshold = defaultWebhookThreshold
	if v := os.Getenv("TRACKMATCH_WEBHOOK_THRESHOLD"); v != "" {
		if c.Threshold, err = parseThreshold(v); err != nil {
			return c, fmt.Errorf("TRACKMATCH_WEBHOOK_THRESHOLD: %w", err)
		}
	}
	return c, nil
}

// webhookBackoff reads TRACKMATCH_WEBHOOK_BACKOFF_MS (tests shorten the
// pause after a failed delivery); 0 takes the notifier's default.
func webhookBackoff() engine.WebhookConfig {
	var c engine.WebhookConfig
	if ms, err := strconv.Atoi(os.Getenv("TRACKMATCH_WEBHOOK_BACKOFF_MS")); err == nil && ms > 0 {
		c.Backoff = msDuration(ms)
		c.MaxBackoff = 8 * c.Backoff
		c.Poll = c.Backoff
	}
	return c
}

// startWebhooks runs the notifier over the store's outbox when a webhook is
// configured; the returned func stops it and waits (call it before Close).
func (a *app) startWebhooks(ctx context.Context, c webhookConfig) (stop func()) {
	if c.URL == "" {
		return func() {}
	}
	wc := webhookBackoff()
	wc.URL, wc.Secret, wc.Logger = c.URL, c.Secret, a.log
	n := engine.NewNotifier(a.store, wc)
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { n.Run(ctx) })
	a.log.Info("webhook notifications on", "threshold", c.Threshold)
	return func() { cancel(); wg.Wait() }
}

func msDuration(ms int) time.Duration { return time.Duration(ms) * time.Millisecond }
