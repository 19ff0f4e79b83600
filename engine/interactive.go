package engine

import (
	"context"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// Interactive is the Service as the API should call it while jobs may run:
// its searches and photo uploads count as interactive work, and a running
// re-scoring job pauses between two steps while any is in flight (for at
// most RescoreOptions.MaxYield at a time; see yield). On two cores a job's worker and
// a search would otherwise share the CPU and the garbage collector's
// pauses; see the batch benchmark's latency figures.
type Interactive struct {
	*Service
	r *Rescorer
}

// Interactive returns the Service wrapped so that the job makes way for it.
func (r *Rescorer) Interactive() Interactive { return Interactive{Service: r.svc, r: r} }

// Search is Service.Search, counted as interactive.
func (i Interactive) Search(ctx context.Context, q *models.Child, photos [][]byte, limit int) ([]models.Candidate, error) {
	defer i.r.busy()()
	return i.Service.Search(ctx, q, photos, limit)
}

// Candidates is Service.Candidates, counted as interactive.
func (i Interactive) Candidates(ctx context.Context, id string, limit int) ([]models.Candidate, error) {
	defer i.r.busy()()
	return i.Service.Candidates(ctx, id, limit)
}

// AddPhoto is Service.AddPhoto, counted as interactive.
func (i Interactive) AddPhoto(ctx context.Context, childID string, data []byte) (*models.Photo, error) {
	defer i.r.busy()()
	return i.Service.AddPhoto(ctx, childID, data)
}

// busy counts an interactive call in flight until the returned func runs.
func (r *Rescorer) busy() func() {
	r.interactive.Add(1)
	return func() { r.interactive.Add(-1) }
}

// yield waits while interactive calls are in flight, for up to MaxYield.
// A pause that runs out leaves the job a quarter of MaxYield unpaused
// after it, so that under a steady stream of calls the job keeps about a
// fifth of its pace.
func (r *Rescorer) yield(ctx context.Context) {
	if r.opt.MaxYield <= 0 || r.interactive.Load() == 0 {
		return
	}
	now := time.Now()
	if now.UnixNano() < r.unpausedUntil.Load() {
		return
	}
	deadline := now.Add(r.opt.MaxYield)
	for r.interactive.Load() > 0 && ctx.Err() == nil {
		if time.Now().After(deadline) {
			r.unpausedUntil.Store(time.Now().Add(r.opt.MaxYield / 4).UnixNano())
			return
		}
		time.Sleep(time.Millisecond)
	}
}
