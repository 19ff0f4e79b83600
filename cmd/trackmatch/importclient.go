package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// importClient sends import batches to a running server's POST /v1/import.
type importClient struct {
	base, key string
	http      *http.Client
	log       io.Writer // where waits are reported
}

// importMaxTries bounds the attempts at one batch: 429 and 503 wait as
// Retry-After says, a failed connection waits a growing pause.
const importMaxTries = 60

// send posts one batch and returns its results. It waits and retries on
// 429 and 503 (as long as Retry-After says) and on a failed connection
// (the server restarting); any other refusal of the whole batch is an
// error that stops the run.
func (c *importClient) send(ctx context.Context, recs []models.ImportRecord) ([]models.ImportResult, error) {
	body, err := json.Marshal(recs)
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	pause := time.Second
	for try := 1; ; try++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+"/v1/import", bytes.NewReader(body))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.key)
		resp, err := c.http.Do(req)
		var wait time.Duration
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			wait, pause = pause, min(2*pause, 30*time.Second)
			fmt.Fprintf(c.log, "\nimport: %v; trying again in %s\n", err, wait)
		} else {
			data, rerr := io.ReadAll(resp.Body)
			resp.Body.Close()
			switch {
			case rerr != nil:
				wait = pause
			case resp.StatusCode == http.StatusOK:
				var v struct {
					Results []models.ImportResult `json:"results"`
				}
				if err := json.Unmarshal(data, &v); err != nil {
					return nil, fmt.Errorf("the server's answer is not an import result: %w", err)
				}
				return v.Results, nil
			case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
				wait = time.Second
				if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
					wait = time.Duration(s) * time.Second
				}
			default:
				var e struct {
					Error *models.Error `json:"error"`
				}
				if json.Unmarshal(data, &e) == nil && e.Error != nil {
					return nil, fmt.Errorf("the server refused the batch (%d): %w", resp.StatusCode, e.Error)
				}
				return nil, fmt.Errorf("the server refused the batch: %s", resp.Status)
			}
		}
		if try >= importMaxTries {
			return nil, fmt.Errorf("gave up after %d tries", try)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}
