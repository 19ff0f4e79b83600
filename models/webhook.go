package models

import "time"

// Webhook notifications: when a new match reaches the configured
// probability, the store queues a MatchEvent in its outbox in the same
// transaction as the match, and the notifier POSTs it to the portal's URL
// until the portal acknowledges it. The body carries ids, references and
// the probability only: never names, photos or free text.

// EventMatchCreated is the type of the event sent for a new match.
const EventMatchCreated = "match.created"

// MatchEvent is the body of a webhook delivery.
type MatchEvent struct {
	// ID identifies the delivery; a receiver that sees it twice (a retry
	// after a lost acknowledgement) should ignore the second.
	ID          string      `json:"id"`
	Type        string      `json:"type"`
	MatchID     string      `json:"match_id"`
	Probability float64     `json:"probability"`
	Missing     EventRecord `json:"missing"`
	Found       EventRecord `json:"found"`
	CreatedAt   time.Time   `json:"created_at"`
}

// EventRecord names one side of a match by id and the portal's reference.
type EventRecord struct {
	ID          string `json:"id"`
	ExternalRef string `json:"external_ref,omitempty"`
}

// Delivery is a MatchEvent waiting in the outbox, with its attempts so far.
type Delivery struct {
	Event     MatchEvent `json:"event"`
	Attempts  int        `json:"attempts"`
	NextAt    time.Time  `json:"next_at"`              // not before this time
	LastError string     `json:"last_error,omitempty"` // e.g. "status 500", never a body
}
