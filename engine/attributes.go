package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// NameFrequency says how common a folded name token is among records
// (0..1), so that agreement on a rare name can weigh more than agreement on
// "Pooja". names.Frequencies satisfies it; a nil NameFrequency is unknown.
type NameFrequency interface {
	Of(token string) float64
}

// Levels of the attribute fields, shared with the scorer's models.Params.
// An empty level means the field is unknown on either side: no evidence.
const (
	// FieldName takes the names.Level values (exact, folded, phonetic,
	// fuzzy, initial, none) and NamePartial.

	// NamePartial: the given names agree but each name keeps a word the
	// other does not share (names.Comparison.Partial, "Priya Sharma" /
	// "Priya Verma"): weaker than any agreement on the whole name.
	NamePartial = "partial"

	AgeOverlap = "overlap" // age ranges overlap once moved to one date
	AgeNear    = "near"    // apart by no more than models.AgeTolerance
	AgeFar     = "far"     // apart by more

	SexSame     = "same"
	SexConflict = "conflict" // female against male; Conflict is set

	MarksMatch    = "match"    // a mark agrees in type, part and side
	MarksPartial  = "partial"  // a mark agrees in type and region, one record less precise
	MarksConflict = "conflict" // a mark of one type and place, but on opposite sides
	MarksNone     = "none"     // both describe marks; none agree

	HeightFits = "fits" // within expected growth and measurement error
	HeightNear = "near" // within twice that
	HeightFar  = "far"

	LanguageShared = "shared"
	LanguageNone   = "none"

	PlaceDistrict = "district" // same state and district
	PlaceState    = "state"    // same state
	PlaceOther    = "other"    // different states

	DatesConsistent = "consistent"   // found on or after the date last seen
	DatesFoundFirst = "found_before" // found well before the child went missing
)

// DateSlackDays is how many days before the date last seen a found date may
// fall and still count as consistent: dates in records are often a few days
// off (the date of the report rather than of the disappearance).
const DateSlackDays = 7

// CompareAttributes compares every attribute of a missing-child record with
// a found-child record, one FieldComparison per field in a fixed order:
// name, age, sex, marks, height, language, place, dates. A field unknown on
// either side has Level "" and a Detail saying so. The arguments are the
// missing and the found record; if their kinds say they were passed the
// other way round, they are swapped, since dates mean different things on
// each side. freq may be nil.
//
// Details are sentences for an investigator and go to the API; they name
// the children and must never be logged.
func CompareAttributes(missing, found *models.Child, freq NameFrequency) []FieldComparison {
	if missing == nil {
		missing = &models.Child{Kind: models.KindMissing}
	}
	if found == nil {
		found = &models.Child{Kind: models.KindFound}
	}
	if missing.Kind == models.KindFound && found.Kind == models.KindMissing {
		missing, found = found, missing
	}
	cmps := []FieldComparison{
		compareNames(missing.Names, found.Names, freq),
		compareAge(missing, found),
		compareSex(missing.Sex, found.Sex),
		compareMarks(missing.Marks, found.Marks),
		compareHeight(missing, found),
		compareLanguages(missing.Languages, found.Languages),
		comparePlaces(missing.Place, found.Place),
		compareDates(missing.ObservedOn, found.ObservedOn),
	}
	cmps = append(cmps, compareFamily(missing, found, freq)...)
	discountImplied(cmps)
	return cmps
}

// discountImplied stops two agreements that say the same thing from both
// counting. The match weight adds fields as if they were independent given
// the pair's status, and two are not: a given name that agrees all but
// says the sex (Indian given names are gendered), and a shared home state
// all but says the language. Among strangers who agree on the first, the
// second agrees about as often as among true matches, so its likelihood
// ratio given the first is about 1: the second agreement is kept in the
// explanation with no weight. Measured on synthetic records (`trackmatch
// eval --synthetic-attributes --pairs` on FG-NET, a logistic regression of
// the match on each field's weight, where a coefficient of 1 means rightly
// weighed): with both counted, sex agreement's coefficient was -0.3 and
// language's 0.76, and pairs scored 0.5–0.9 were matches only 0.29–0.70 of
// the time; with them discounted (and names weighed by the given name's
// frequency alone, see nameTermFrequency) no reliability bin is
// overconfident beyond its noise. A conflict on sex still blocks, and
// disagreement still counts.
func discountImplied(cmps []FieldComparison) {
	byField := map[string]*FieldComparison{}
	for i := range cmps {
		byField[cmps[i].Field] = &cmps[i]
	}
	implied := func(f *FieldComparison, agree string, by *FieldComparison, byLevels []string, why string) {
		if f == nil || by == nil || f.Level != agree || !slices.Contains(byLevels, by.Level) {
			return
		}
		f.Level = ""
		f.Detail += "; not counted again: " + why
	}
	implied(byField[FieldSex], SexSame, byField[FieldName],
		[]string{string(names.LevelExact), string(names.LevelFolded), string(names.LevelPhonetic), string(names.LevelFuzzy), NamePartial},
		"the agreeing given name already says the sex")
	implied(byField[FieldLanguage], LanguageShared, byField[FieldPlace], []string{PlaceDistrict, PlaceState},
		"the shared state already says the language")
}

// yearsFrom returns the years from a to b, in 365.25-day years.
func yearsFrom(a, b time.Time) float64 { return b.Sub(a).Hours() / 24 / 365.25 }

// recordSide names a record in a detail: "missing" or "found".
func recordSide(missingSide bool) string {
	if missingSide {
		return "missing"
	}
	return "found"
}

// unknownDetail says which record lacks a field: "age: not recorded on the
// found record".
func unknownDetail(label string, missingKnown, foundKnown bool) string {
	switch {
	case !missingKnown && !foundKnown:
		return label + ": not recorded on either record"
	case !missingKnown:
		return label + ": not recorded on the missing record"
	default:
		return label + ": not recorded on the found record"
	}
}

// --- names ---

// nameWords says in words what a names.Level means.
func nameWords(l names.Level, tm []names.TokenMatch) string {
	switch l {
	case names.LevelExact:
		return "identical, ignoring case"
	case names.LevelFolded:
		return "same after script folding"
	case names.LevelPhonetic:
		return "same sound, different spelling"
	case names.LevelFuzzy:
		for _, m := range tm {
			if m.Level == names.LevelFuzzy && m.Distance > 0 {
				return fmt.Sprintf("spelled alike, %d %s apart", m.Distance, plural(m.Distance, "letter", "letters"))
			}
		}
		return "spelled alike"
	case names.LevelInitial:
		return "only an initial agrees"
	case names.LevelNone:
		return "no name agrees"
	}
	return string(l)
}

func compareNames(a, b []string, freq NameFrequency) FieldComparison {
	fc := FieldComparison{Field: FieldName}
	ia, ib := identifyingNames(a), identifyingNames(b)
	if len(ia) == 0 || len(ib) == 0 {
		fc.Detail = unknownDetail("names", len(nonBlank(a)) > 0, len(nonBlank(b)) > 0)
		if len(nonBlank(a)) > 0 && len(nonBlank(b)) > 0 {
			fc.Detail = "names: only titles, relations or punctuation on " + map[bool]string{true: "the missing record", false: "the found record"}[len(ia) == 0]
			if len(ia) == 0 && len(ib) == 0 {
				fc.Detail = "names: only titles, relations or punctuation on either record"
			}
		}
		return fc
	}
	a, b = ia, ib
	c := names.Compare(a, b)
	if c.Level == "" {
		c.Level = names.LevelNone
	}
	fc.Level = string(c.Level)
	nameA, nameB := c.A, c.B
	if nameA == "" || nameB == "" {
		nameA, nameB = a[0], b[0]
	}
	sep := "~"
	if c.Level == names.LevelNone {
		sep = "vs"
	}
	words := nameWords(c.Level, c.Matched)
	switch {
	case c.Partial && c.Level != names.LevelNone && wholeWordsAgreeing(c) >= 2:
		// Two words agree and another differs ("Badal Chandra Paul" /
		// "Badal Chandra Pal"): strangers rarely share two words, so it
		// weighs as a spelling difference, not as a shared given name.
		fc.Level = string(names.LevelFuzzy)
		words += "; another word differs"
	case c.Partial && c.Level != names.LevelNone:
		// A family name on each side disagrees: its own, weaker level.
		fc.Level = NamePartial
		words += "; other words of the names differ"
	case c.Level == names.LevelFolded && indicWritten(c.A) != indicWritten(c.B):
		// Written in two scripts, a name cannot agree more than folded:
		// that is the same name, as exact is within one script.
		fc.Level = string(names.LevelExact)
	case c.Subset && c.Level != names.LevelNone:
		// One name has words the other lacks: strangers agree on part of
		// a name more often than on all of it, so one level weaker.
		fc.Level = string(subsetLevel(c.Level))
		words += "; one name has words the other lacks"
	}
	fc.Detail = fmt.Sprintf("names: '%s' %s '%s' (%s)", nameA, sep, nameB, words)
	switch fc.Level {
	case string(names.LevelExact), string(names.LevelFolded), string(names.LevelPhonetic):
		fc.TermFrequency = nameTermFrequency(c, freq)
	}
	return fc
}

// subsetLevel is the level a name agreement weighs at when one name has
// words the other lacks: one level weaker, down to fuzzy.
func subsetLevel(l names.Level) names.Level {
	switch l {
	case names.LevelExact:
		return names.LevelFolded
	case names.LevelFolded:
		return names.LevelPhonetic
	case names.LevelPhonetic:
		return names.LevelFuzzy
	}
	return l
}

// furtherWordFactor is how much each agreeing whole word beyond the given
// name cuts the chance that strangers agree (nameTermFrequency): a
// quarter, two bits. Measured frequencies of every word multiplied
// together overcount (see below); a fixed factor only orders full
// agreement above agreement on part of a name.
const furtherWordFactor = 0.25

// wholeWordsAgreeing counts the agreeing pairs of whole words (not
// initials) of a comparison.
func wholeWordsAgreeing(c names.Comparison) int {
	n := 0
	for _, m := range c.Matched {
		if m.Level != names.LevelInitial && len(names.Fold(m.A)) > 1 && len(names.Fold(m.B)) > 1 {
			n++
		}
	}
	return n
}

// leftInitialFactor is how much each initial without a partner ("Balu" /
// "Balu M G") raises the chance that strangers agree: half as much again,
// so that the name written alike without it ranks first.
const leftInitialFactor = 1.5

// indicWritten reports whether s has a letter of an Indic script.
func indicWritten(s string) bool {
	for _, r := range s {
		if r >= 0x0900 && r <= 0x0D7F {
			return true
		}
	}
	return false
}

// nameTermFrequency is the frequency of the agreeing given-name token: the
// first token of the missing child's agreeing name when it is among the
// agreeing tokens, else the strongest agreeing token, looked up folded
// (names.Fold). Of the two spellings the commoner counts, so that a rare
// spelling of a common name does not weigh as a rare name.
//
// It is not names.Frequencies.OfComparison, the product over every
// agreeing word: measured with `trackmatch eval --synthetic-attributes` on
// ../shared/faces, the product gave a full name agreeing by chance 10–11
// bits, and 8 of the 71 top candidates at a probability above 0.9 were
// strangers sharing a name. Token frequencies are shares of all name words
// (two or three per record), so each underestimates how often two records
// agree on that word, and a product compounds it; the given name alone
// errs by one factor.
func nameTermFrequency(c names.Comparison, freq NameFrequency) float64 {
	if freq == nil || len(c.Matched) == 0 {
		return 0
	}
	strong := func(l names.Level) bool {
		return l == names.LevelExact || l == names.LevelFolded || l == names.LevelPhonetic
	}
	var pick *names.TokenMatch
	if toks := names.Tokens(c.A); len(toks) > 0 {
		for i := range c.Matched {
			if m := &c.Matched[i]; strong(m.Level) && names.Fold(m.A) == toks[0] {
				pick = m
				break
			}
		}
	}
	if pick == nil {
		for i := range c.Matched {
			if strong(c.Matched[i].Level) {
				pick = &c.Matched[i]
				break
			}
		}
	}
	if pick == nil {
		return 0
	}
	f := max(freq.Of(names.Fold(pick.A)), freq.Of(names.Fold(pick.B)))
	if math.IsNaN(f) || f < 0 {
		return 0
	}
	for i := range c.Matched {
		if m := &c.Matched[i]; m != pick && m.Level != names.LevelInitial && len(names.Fold(m.A)) > 1 && len(names.Fold(m.B)) > 1 {
			f *= furtherWordFactor
		}
	}
	for range c.LeftInitials {
		f *= leftInitialFactor
	}
	return min(f, 1)
}

// identifyingNames are the names with a word that identifies a child:
// a name that is only a title, a relation or punctuation ("Shri", "S/O",
// "।") is no evidence, as if not recorded.
func identifyingNames(ss []string) []string {
	var out []string
	for _, s := range nonBlank(ss) {
		if len(names.Tokens(s)) > 0 {
			out = append(out, s)
		}
	}
	return out
}

func nonBlank(ss []string) []string {
	var out []string
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out
}

// --- age ---

// compareAge moves both age ranges to the later of the two observation
// dates (models.Child.AgeOn; it counts whole years, which the tolerance
// absorbs) and compares them. When neither record has a date, the ranges
// are compared as given, with the tolerance for no gap: they are most often
// records made close together (a fresh report and a fresh registration).
// When only one has a date the gap is unknown and the field is no evidence.
func compareAge(missing, found *models.Child) FieldComparison {
	fc := FieldComparison{Field: FieldAge}
	if missing.Age == nil || found.Age == nil {
		fc.Detail = unknownDetail("age", missing.Age != nil, found.Age != nil)
		return fc
	}
	tm, okM := missing.ObservedOn.Time()
	tf, okF := found.ObservedOn.Time()
	if okM != okF {
		fc.Detail = fmt.Sprintf("age: cannot be compared, the %s record has no observation date to move its age to the other's", recordSide(!okM))
		return fc
	}
	a, b := *missing.Age, *found.Age
	gap := 0.0
	// ma and fa describe each record's age, moved to the later date.
	ma := "missing child reported " + formatAgeRange(a)
	fa := "found child estimated " + formatAgeRange(b)
	if !okM {
		ma += " (neither record has a date, so compared as recorded)"
	} else {
		gap = math.Abs(yearsFrom(tm, tf))
		if tf.After(tm) {
			a, _ = missing.AgeOn(tf)
			ma = fmt.Sprintf("%s on %s, so expected %s at the found date %s", ma, missing.ObservedOn, formatAgeRange(a), found.ObservedOn)
		} else if tm.After(tf) {
			b, _ = found.AgeOn(tm)
			fa = fmt.Sprintf("%s on %s, so expected %s at the date last seen %s", fa, found.ObservedOn, formatAgeRange(b), missing.ObservedOn)
		}
	}
	d := max(0, a.Min-b.Max, b.Min-a.Max)
	tol := models.AgeTolerance(gap, float64(a.Min+a.Max+b.Min+b.Max)/4)
	var verdict string
	switch {
	case d == 0:
		fc.Level, verdict = AgeOverlap, "the ranges overlap"
	case float64(d) <= tol:
		fc.Level, verdict = AgeNear, fmt.Sprintf("%d %s apart, within the tolerance of %.1f years", d, plural(d, "year", "years"), tol)
	default:
		fc.Level, verdict = AgeFar, fmt.Sprintf("%d years apart, beyond the tolerance of %.1f years", d, tol)
	}
	if gap > 0 {
		verdict += fmt.Sprintf(" for a %.1f-year gap", gap)
	}
	fc.Detail = fmt.Sprintf("age: %s; %s; %s", ma, fa, verdict)
	return fc
}

// formatAgeRange writes "12" or "13–15".
func formatAgeRange(r models.AgeRange) string {
	if r.Min == r.Max {
		return fmt.Sprint(r.Min)
	}
	return fmt.Sprintf("%d–%d", r.Min, r.Max)
}

// --- sex ---

func compareSex(a, b models.Sex) FieldComparison {
	fc := FieldComparison{Field: FieldSex}
	known := func(s models.Sex) bool { return s == models.SexFemale || s == models.SexMale }
	switch {
	case !known(a) || !known(b):
		fc.Detail = unknownDetail("sex", known(a), known(b))
	case a == b:
		fc.Level, fc.Detail = SexSame, fmt.Sprintf("sex: both %s", a)
	default:
		fc.Level, fc.Conflict = SexConflict, true
		fc.Detail = fmt.Sprintf("sex: %s on the missing record, %s on the found record", a, b)
	}
	return fc
}

// --- dates ---

func compareDates(lastSeen, foundOn models.Date) FieldComparison {
	fc := FieldComparison{Field: FieldDates}
	m, okM := lastSeen.Time()
	f, okF := foundOn.Time()
	if !okM || !okF {
		switch {
		case !okM && !okF:
			fc.Detail = "dates: neither the date last seen nor the date found is recorded"
		case !okM:
			fc.Detail = "dates: the date last seen is not recorded"
		default:
			fc.Detail = "dates: the date found is not recorded"
		}
		return fc
	}
	days := int(math.Round(f.Sub(m).Hours() / 24))
	switch {
	case days >= 0:
		fc.Level = DatesConsistent
		fc.Detail = fmt.Sprintf("dates: found %s, %s after last seen on %s", foundOn, formatSpan(days), lastSeen)
	case days >= -DateSlackDays:
		fc.Level = DatesConsistent
		fc.Detail = fmt.Sprintf("dates: found %s, %s before the recorded last-seen date %s, within the %d days allowed for recording errors",
			foundOn, formatSpan(-days), lastSeen, DateSlackDays)
	default:
		fc.Level = DatesFoundFirst
		fc.Detail = fmt.Sprintf("dates: found %s, %s before last seen on %s: the found child was in care before this child went missing, unless a date is wrong",
			foundOn, formatSpan(-days), lastSeen)
	}
	return fc
}

// formatSpan writes a number of days as days, months or years.
func formatSpan(days int) string {
	switch {
	case days < 60:
		return fmt.Sprintf("%d %s", days, plural(days, "day", "days"))
	case days < 730:
		return fmt.Sprintf("%d months", int(math.Round(float64(days)/30.44)))
	default:
		return fmt.Sprintf("%.1f years", float64(days)/365.25)
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// foldLabel folds a language name for lookup (places fold through
// models/places): Unicode NFKC, Latin accents dropped, lower case, "&" read as "and", full stops
// dropped ("U.P." is "up"), other punctuation as space, spaces collapsed.
func foldLabel(s string) string {
	s = norm.NFKD.String(s)
	var b strings.Builder
	space := false
	for _, r := range s {
		switch {
		case r >= 0x300 && r <= 0x36f, r == '.', r == '\u200c', r == '\u200d', r == '\u00ad':
			continue
		case r == '&':
			b.WriteString(" and ")
			space = false
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(unicode.ToLower(r))
		default:
			space = true
		}
	}
	return strings.Join(strings.Fields(norm.NFC.String(b.String())), " ")
}
