// Package names decides when two written names could be one child's name:
// it folds Indic scripts to one Latin form, computes a phonetic key built for
// Indian names, and compares lists of names level by level.
//
// The pieces, in the order a name goes through them:
//
//   - Fold (fold.go, indic.go): any of nine Indic scripts to one Latin
//     spelling, the way Indians write names in Latin letters (राम → ram,
//     রাহুল → rahul), Latin diacritics stripped, lowercase, no punctuation.
//   - Tokens (tokens.go): the identifying words of a name, without
//     honorifics, Kumar/Kumari/Devi and relation tails ("s/o Ramesh").
//   - Key (key.go): one phonetic key per spelling family (Shaikh/Sheikh,
//     Pooja/Puja, Mohammad/Md).
//   - Compare (compare.go): every name of one record against every name of
//     the other, token order free, strongest level reported with the tokens
//     that agreed.
//   - Frequencies (frequency.go): how common a name is, for term-frequency
//     adjustment of the match weight.
//
// Word lists and equivalence classes are data (data/*.txt, embedded).
//
// Decisions worth knowing:
//   - Devi, Kumari, Kumar, Begum, Khatun, Bibi, Baby are dropped from a name
//     that has another word and kept when they are the whole name (Devi is a
//     southern given name; Baby a Kerala one).
//   - Suman and Sumana, Ankit and Ankita, Manish and Manisha are different
//     names (often of the other sex): their keys differ, and a final vowel
//     added to a short name is not a fuzzy match. From six letters a final
//     vowel is a spelling habit (Ramesh/Ramesha, Subrat/Subrata) and is; so
//     Manish/Manisha is a known false fuzzy match.
//   - Relation tails ("s/o Ramesh") are cut off, so two children with one
//     name and different fathers compare as the same name.
//   - Tamil script has one letter each for k/g, t/d, p/b, c/s/j: tokens
//     written in Tamil are also compared voicing-blind (LooseKey).
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

// Levels lists the levels strongest first, for scorers and reports that
// walk them in order.
func Levels() []Level {
	return []Level{LevelExact, LevelFolded, LevelPhonetic, LevelFuzzy, LevelInitial, LevelNone}
}

// Rank orders levels: 5 for exact down to 0 for none (and for an unknown
// level), so that "at least phonetic" is l.Rank() >= LevelPhonetic.Rank().
func (l Level) Rank() int {
	switch l {
	case LevelExact:
		return 5
	case LevelFolded:
		return 4
	case LevelPhonetic:
		return 3
	case LevelFuzzy:
		return 2
	case LevelInitial:
		return 1
	}
	return 0
}
