package models

import "time"

// AuditEntry records who read, searched for or changed what, and when.
// It names the API key by its id, never the secret, and holds no child data.
type AuditEntry struct {
	ID     string    `json:"id"`
	At     time.Time `json:"at"`
	KeyID  string    `json:"key_id"`
	Role   string    `json:"role"`
	Action string    `json:"action"`           // read, search, create, update, delete, upload, decide, rescore, audit
	Target string    `json:"target,omitempty"` // record, match or job id
	Route  string    `json:"route"`
	Status int       `json:"status"`
}
