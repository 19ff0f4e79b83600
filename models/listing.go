package models

import "time"

// ChildFilter selects records for a listing, in id order (creation order).
// Every set field must hold; the zero filter selects every record.
type ChildFilter struct {
	Kind         Kind      // "" for both
	Status       Status    // "" for any
	State        string    // place.state, compared case-insensitively; "" for any
	District     string    // place.district, compared case-insensitively; "" for any
	ExternalRef  string    // exact; "" for any
	CreatedSince time.Time // zero for any: created at or after
	UpdatedSince time.Time // zero for any: updated at or after
	Limit        int
	Cursor       string // opaque; from a previous page's next cursor
}

// DecisionRecord is one decision in the history of decisions: which match
// it was made on and the decision as it was made. A later decision on the
// same match does not replace an earlier record here.
type DecisionRecord struct {
	MatchID   string `json:"match_id"`
	MissingID string `json:"missing_id"`
	FoundID   string `json:"found_id"`
	Decision
}

// DecisionFilter selects a page of the history of decisions, oldest first.
type DecisionFilter struct {
	Since  time.Time // zero: from the beginning
	Limit  int
	Cursor string // opaque; from a previous page's next cursor
}
