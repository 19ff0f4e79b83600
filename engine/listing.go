package engine

import (
	"context"
	"fmt"

	"github.com/trackmatch/trackmatch/models"
)

// ListDecisions is Service.ListDecisions, for the API's match routes.
func (r *Rescorer) ListDecisions(ctx context.Context, f models.DecisionFilter) ([]models.DecisionRecord, string, error) {
	return r.svc.ListDecisions(ctx, f)
}

// ListJobs returns up to limit jobs, newest first, the running one with
// its live progress (as GetJob gives it).
func (r *Rescorer) ListJobs(ctx context.Context, limit int) ([]models.Job, error) {
	jobs, err := r.store.ListJobs(ctx, limit)
	if err != nil {
		return nil, fmt.Errorf("list jobs: %w", err)
	}
	if cur := r.Current(); cur != nil {
		for i := range jobs {
			if jobs[i].ID == cur.ID {
				jobs[i] = *cur
			}
		}
	}
	return jobs, nil
}
