package models

import "time"

// JobState is where a background job stands.
type JobState string

// Job states.
const (
	JobQueued   JobState = "queued"
	JobRunning  JobState = "running"
	JobDone     JobState = "done"
	JobFailed   JobState = "failed"
	JobCanceled JobState = "canceled"
)

// Finished reports whether a job in state s will not run again.
func (s JobState) Finished() bool {
	return s == JobDone || s == JobFailed || s == JobCanceled
}

// Job is a re-scoring run, checkpointed so that it survives a restart.
type Job struct {
	ID         string      `json:"id"`
	Type       string      `json:"type"` // "rescore"
	Full       bool        `json:"full"` // re-score every pair, not only changed ones
	State      JobState    `json:"state"`
	Processed  int         `json:"processed"`
	Total      int         `json:"total"`
	Checkpoint string      `json:"checkpoint,omitempty"` // last missing-child id fully processed
	Error      string      `json:"error,omitempty"`
	Summary    *JobSummary `json:"summary,omitempty"`
	CreatedAt  time.Time   `json:"created_at"`
	StartedAt  *time.Time  `json:"started_at,omitempty"`
	FinishedAt *time.Time  `json:"finished_at,omitempty"`
}

// JobSummary is what a finished re-score did.
type JobSummary struct {
	DurationSeconds float64 `json:"duration_seconds"`
	PairsScored     int     `json:"pairs_scored"`
	PairsSkipped    int     `json:"pairs_skipped"` // unchanged since the last run
	MatchesNew      int     `json:"matches_new"`
	MatchesUp       int     `json:"matches_up"`
	MatchesDown     int     `json:"matches_down"`
}
