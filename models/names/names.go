// Package names decides when two written names could be one child's name:
// it folds Indic scripts to one Latin form, computes a phonetic key built for
// Indian names, and compares lists of names level by level.
package names

// Level is how closely two names agree, from strongest to weakest.
type Level string

// Comparison levels, strongest first.
const (
	LevelExact    Level = "exact"    // same text after trimming and case
	LevelFolded   Level = "folded"   // same after script folding and normalisation
	LevelPhonetic Level = "phonetic" // same phonetic key
	LevelFuzzy    Level = "fuzzy"    // within a small edit distance on the folded form
	LevelInitial  Level = "initial"  // only an initial agrees with a name
	LevelNone     Level = "none"     // nothing agrees
)
