package models

import "time"

// Params are the scoring parameters: for each compared field, the
// probability of each comparison level among true matches (M) and among
// non-matches (U). A score records the Version that produced it.
type Params struct {
	Version   int                    `json:"version"`
	Source    string                 `json:"source"` // defaults, em, decisions
	CreatedAt time.Time              `json:"created_at"`
	Prior     float64                `json:"prior"` // prior probability that a candidate pair is a match
	Fields    map[string]FieldParams `json:"fields"`
}

// FieldParams holds the m and u probabilities of one field's levels.
type FieldParams struct {
	Levels map[string]LevelParams `json:"levels"`
}

// LevelParams are the m and u probabilities of one comparison level.
type LevelParams struct {
	M float64 `json:"m"`
	U float64 `json:"u"`
}
