package index

import (
	"context"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

func TestJobs(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = s.GetJob(ctx, NewID())
	wantCode(t, err, models.ENOTFOUND)
	wantCode(t, s.PutJob(ctx, models.Job{ID: "no/slash"}), models.EINVALID)
	var ids []string
	for i := range 3 {
		j := models.Job{ID: NewID(), Type: "rescore", State: models.JobQueued, CreatedAt: testTime.Add(time.Duration(i) * time.Minute)}
		if err := s.PutJob(ctx, j); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, j.ID)
	}
	// Checkpoint the oldest job, then restart.
	j, err := s.GetJob(ctx, ids[0])
	if err != nil {
		t.Fatal(err)
	}
	j.State, j.Processed, j.Checkpoint = models.JobRunning, 40, "abc"
	if err := s.PutJob(ctx, j); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = openTestStore(t, dir, StoreOptions{})
	jobs, err := s.ListJobs(ctx, 0)
	if err != nil || len(jobs) != 3 {
		t.Fatalf("ListJobs = %d jobs, %v", len(jobs), err)
	}
	if jobs[0].ID != ids[2] || jobs[2].ID != ids[0] {
		t.Fatalf("ListJobs order: %s %s %s; want newest first", jobs[0].ID, jobs[1].ID, jobs[2].ID)
	}
	if jobs[2].Checkpoint != "abc" || jobs[2].Processed != 40 || jobs[2].State != models.JobRunning {
		t.Fatalf("checkpoint lost: %+v", jobs[2])
	}
	if jobs, _ := s.ListJobs(ctx, 2); len(jobs) != 2 || jobs[0].ID != ids[2] {
		t.Fatalf("ListJobs(2) = %+v", jobs)
	}
}
