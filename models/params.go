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
	// Calibration, when set, maps a pair's match weight w to the weight its
	// probability uses, Slope·w + Intercept: fitted on labelled searches
	// (engine.FitCalibration) where the summed field weights prove over-
	// or under-confident. Weights and rankings do not change.
	Calibration *Calibration `json:"calibration,omitempty"`
}

// Calibration is a linear map of match weights; see Params.Calibration.
type Calibration struct {
	Slope     float64 `json:"slope"`
	Intercept float64 `json:"intercept"`
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
