package engine

import (
	"context"
	"sync/atomic"
	"time"
)

// Priority gives interactive calls precedence over the re-scoring job. The
// Service counts its searches, candidate lists and photo uploads in flight
// (Interactive), and a running job pauses between two steps while any is
// (Yield), for at most MaxYield at a time. On two cores a job's worker and
// a search would otherwise share the CPU and the garbage collector's
// pauses; see the batch benchmark's latency figures. One Priority is given
// to both the Service (ServiceDeps.Priority) and the Rescorer
// (RescoreOptions.Priority). A nil *Priority never pauses. Safe for
// concurrent use.
type Priority struct {
	maxYield      time.Duration
	inflight      atomic.Int64 // interactive calls in flight
	unpausedUntil atomic.Int64 // unix ns before which Yield does not pause
}

// NewPriority returns a Priority whose pauses last at most maxYield
// (DefaultMaxYield when 0; negative for no pausing).
func NewPriority(maxYield time.Duration) *Priority {
	if maxYield == 0 {
		maxYield = DefaultMaxYield
	}
	return &Priority{maxYield: max(maxYield, 0)}
}

// MaxYield is the longest a Yield pauses; 0 for none.
func (p *Priority) MaxYield() time.Duration {
	if p == nil {
		return 0
	}
	return p.maxYield
}

// Interactive counts an interactive call in flight until the returned func
// runs: `defer p.Interactive()()`.
func (p *Priority) Interactive() func() {
	if p == nil {
		return func() {}
	}
	p.inflight.Add(1)
	return func() { p.inflight.Add(-1) }
}

// Yield waits while interactive calls are in flight, for up to MaxYield.
// A pause that runs out leaves the job a quarter of MaxYield unpaused
// after it, so that under a steady stream of calls the job keeps about a
// fifth of its pace.
func (p *Priority) Yield(ctx context.Context) {
	if p == nil || p.maxYield <= 0 || p.inflight.Load() == 0 {
		return
	}
	now := time.Now()
	if now.UnixNano() < p.unpausedUntil.Load() {
		return
	}
	deadline := now.Add(p.maxYield)
	for p.inflight.Load() > 0 && ctx.Err() == nil {
		if time.Now().After(deadline) {
			p.unpausedUntil.Store(time.Now().Add(p.maxYield / 4).UnixNano())
			return
		}
		time.Sleep(time.Millisecond)
	}
}
