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

// The functions below are the package's contract with the Bleve analyzers
// (index) and the scorer (engine). Their bodies are placeholders until the
// names work lands; the signatures are fixed.

// Fold transliterates any supported Indic script to one Latin form,
// lowercases, strips diacritics and punctuation, and folds white space:
// "राहुल" and "Rahul" both give "rahul".
func Fold(s string) string { return s }

// Tokens returns the folded tokens of one name, without honorifics and words
// that do not identify a person (Kumar, Kumari, Sri, Smt, Baby, ...).
func Tokens(s string) []string { return nil }

// Key returns the Indian-name phonetic key of one folded token, so that
// spelling variants of a name ("Shaikh", "Sheikh") share one key.
func Key(token string) string { return token }

// Comparison is the outcome of comparing two records' names.
type Comparison struct {
	Level   Level        // the strongest level reached
	A, B    string       // the pair of full names that reached it
	Matched []TokenMatch // token pairs that agreed, strongest first
}

// TokenMatch is one pair of agreeing tokens.
type TokenMatch struct {
	A, B     string
	Level    Level
	Distance int // edit distance on the folded form, for LevelFuzzy
}

// Compare compares every name of one record with every name of the other,
// in any token order, and reports the strongest agreement.
func Compare(a, b []string) Comparison { return Comparison{Level: LevelNone} }
