// Package marks reads identifying marks written as free text ("black mole on
// left cheek", "til on left side of face", "jalne ka nishan daayan haath")
// into structured marks that can be compared.
package marks

// Mark is one identifying mark: what it is, on which side, on which part of
// the body. An empty field was not stated.
type Mark struct {
	Type string `json:"type"` // canonical: mole, scar, burn, birthmark, tattoo, cut, wart, ...
	Side string `json:"side"` // left, right or ""
	Part string `json:"part"` // canonical body part: face, cheek, hand, arm, leg, ...
	Text string `json:"text"` // the phrase it was read from
}

// The functions below are the package's contract with the Bleve index and the
// scorer. Their bodies are placeholders until the marks work lands; the
// signatures are fixed.

// Parse reads every mark in a free-text description, with synonyms and
// common Hindi words in Latin letters (til = mole, nishan = mark).
func Parse(text string) []Mark { return nil }

// Region returns the coarse body region of a part ("cheek" → "face"), so
// that marks described at different precision can still agree.
func Region(part string) string { return part }
