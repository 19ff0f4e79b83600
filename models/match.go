package models

import "time"

// MatchStatus is where a candidate pair stands in human review.
type MatchStatus string

// Match statuses: new pairs await review; decided pairs keep their decision.
const (
	MatchNew       MatchStatus = "new"
	MatchConfirmed MatchStatus = "confirmed"
	MatchRejected  MatchStatus = "rejected"
)

// Valid reports whether s is a known match status.
func (s MatchStatus) Valid() bool {
	return s == MatchNew || s == MatchConfirmed || s == MatchRejected
}

// Contribution is one field's part in a score: its comparison level, its
// log-likelihood weight and two sentences. Summary says what the level
// means and quotes neither record; Detail is a sentence a person can check
// against the two records, quoting their names, marks, places and other
// personal text, so it goes only to those who may read both records.
type Contribution struct {
	Field   string  `json:"field"`
	Level   string  `json:"level,omitempty"` // "" when the field was not counted
	Weight  float64 `json:"weight"`
	Summary string  `json:"summary"`
	Detail  string  `json:"detail,omitempty"` // left out for callers who may not read the records
}

// Candidate is a child of the other kind who could be the queried child,
// with a calibrated probability and the reasons for it.
type Candidate struct {
	ID          string         `json:"id"`
	Kind        Kind           `json:"kind"`
	Probability float64        `json:"probability"`
	Score       float64        `json:"score"` // match weight: sum of the contributions, in log2 units
	Explanation []Contribution `json:"explanation"`
}

// Match is a scored missing-found pair kept for review by the batch job.
type Match struct {
	ID            string         `json:"id"`
	MissingID     string         `json:"missing_id"`
	FoundID       string         `json:"found_id"`
	Probability   float64        `json:"probability"`
	Score         float64        `json:"score"`
	Status        MatchStatus    `json:"status"`
	Explanation   []Contribution `json:"explanation,omitempty"`
	ParamsVersion int            `json:"params_version"`
	InputsHash    string         `json:"inputs_hash,omitempty"` // hash of both records, photos and params version
	// Queue says why the pair is in the review queue (QueueProbability,
	// QueueClearBest), or "" when it no longer qualifies; QueueDetail
	// says it in a sentence an investigator reads.
	Queue       string    `json:"queue,omitempty"`
	QueueDetail string    `json:"queue_detail,omitempty"`
	Decision    *Decision `json:"decision,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Reasons a pair is in the review queue.
const (
	// QueueProbability: its probability is at or above the queue's threshold.
	QueueProbability = "probability"
	// QueueClearBest: it is its missing child's best candidate and stands
	// clearly above that child's other candidates, whatever its probability.
	QueueClearBest = "clear_best"
)

// MatchID is the stable id of the pair (missing, found).
func MatchID(missingID, foundID string) string { return missingID + "~" + foundID }

// Decision is an investigator's verdict on a match.
type Decision struct {
	Decision MatchStatus `json:"decision"` // confirmed or rejected
	Note     string      `json:"note,omitempty"`
	By       string      `json:"by"` // id of the API key that decided
	At       time.Time   `json:"at"`
}

// MatchFilter selects matches for the review queue, best first.
type MatchFilter struct {
	Status         MatchStatus // "" for any
	MinProbability float64
	Limit          int
	Cursor         string // opaque; from a previous page's next cursor
}
