package main

import (
	"context"

	"github.com/trackmatch/trackmatch/models"
)

// noJobs answers job requests until batch re-scoring is wired in.
type noJobs struct{}

func (noJobs) StartRescore(context.Context, bool) (*models.Job, error) {
	return nil, models.Errorf(models.EUNAVAILABLE, "batch re-scoring is not available in this build")
}
func (noJobs) GetJob(context.Context, string) (*models.Job, error) {
	return nil, models.Errorf(models.ENOTFOUND, "no such job")
}
func (noJobs) CancelJob(context.Context, string) (*models.Job, error) {
	return nil, models.Errorf(models.ENOTFOUND, "no such job")
}
