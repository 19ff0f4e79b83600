// Package models holds trackmatch's domain: the plain types every layer
// shares (children, photos, faces, matches, jobs, audit entries, scoring
// parameters), their validation, and the error codes. It does no I/O.
package models

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Kind says which side of the search a child record is on.
type Kind string

// The two sides: a child reported missing (usually by police), and a child
// found and in care (registered by a CWC, JJB or child care institution).
const (
	KindMissing Kind = "missing"
	KindFound   Kind = "found"
)

// Other returns the kind a record of kind k is matched against.
func (k Kind) Other() Kind {
	if k == KindMissing {
		return KindFound
	}
	return KindMissing
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindMissing || k == KindFound }

// Sex is the child's recorded sex; SexUnknown is no evidence either way.
type Sex string

// Recorded sexes.
const (
	SexFemale  Sex = "female"
	SexMale    Sex = "male"
	SexUnknown Sex = "unknown"
)

// Valid reports whether s is a known value ("" counts as unknown).
func (s Sex) Valid() bool {
	return s == "" || s == SexFemale || s == SexMale || s == SexUnknown
}

// Status is where a record stands in its case.
type Status string

// Record statuses: open until a confirmed match, or closed by the portal.
const (
	StatusOpen    Status = "open"
	StatusMatched Status = "matched"
	StatusClosed  Status = "closed"
)

// Valid reports whether s is a known status ("" counts as open).
func (s Status) Valid() bool {
	return s == "" || s == StatusOpen || s == StatusMatched || s == StatusClosed
}

// AgeRange is the child's age in whole years on the date observed; Min ==
// Max when the age is known. Caregivers' estimates are often ranges.
type AgeRange struct {
	Min int `json:"min"`
	Max int `json:"max"`
}

// DateLayout is the one date format trackmatch reads and writes.
const DateLayout = "2006-01-02"

// Date is a calendar date in DateLayout form, kept as text so that a
// malformed date is a validation error on its field, not a JSON error.
type Date string

// Time parses d; the zero Date gives the zero time and ok=false.
func (d Date) Time() (t time.Time, ok bool) {
	if d == "" {
		return time.Time{}, false
	}
	t, err := time.Parse(DateLayout, string(d))
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}

// DateOf formats t as a Date.
func DateOf(t time.Time) Date { return Date(t.UTC().Format(DateLayout)) }

// Place is where the child went missing or was found.
type Place struct {
	State    string `json:"state,omitempty"`
	District string `json:"district,omitempty"`
	Text     string `json:"text,omitempty"`
}

// Child is one record: a missing-child report or a found-child registration.
// Every field but Kind may be unknown; an unknown field is no evidence.
type Child struct {
	ID          string      `json:"id"`
	Kind        Kind        `json:"kind"`
	ExternalRef string      `json:"external_ref,omitempty"`
	Names       []string    `json:"names,omitempty"`
	Sex         Sex         `json:"sex,omitempty"`
	Age         *AgeRange   `json:"age,omitempty"`
	ObservedOn  Date        `json:"observed_on,omitempty"`
	HeightCM    float64     `json:"height_cm,omitempty"`
	Marks       string      `json:"marks,omitempty"`
	Languages   []string    `json:"languages,omitempty"`
	Place       Place       `json:"place"`
	Guardians   []Guardian  `json:"guardians,omitempty"`
	Home        Home        `json:"home,omitzero"`
	Clothing    Clothing    `json:"clothing,omitzero"`
	Descriptors Descriptors `json:"descriptors,omitzero"`
	Notes       string      `json:"notes,omitempty"`
	Status      Status      `json:"status"`
	CreatedAt   time.Time   `json:"created_at"`
	UpdatedAt   time.Time   `json:"updated_at"`
	Photos      []Photo     `json:"photos"`
}

// Limits on record fields, generous for real records and tight enough that a
// hostile client cannot make the index or the scorer do unbounded work.
const (
	MaxNames       = 20
	MaxNameRunes   = 200
	MaxTextRunes   = 4000
	MaxListItems   = 20
	MaxAgeYears    = 25
	MinHeightCM    = 30
	MaxHeightCM    = 200
	MaxExternalRef = 200 // characters (runes), not bytes; see ValidateExternalRef
)

// Validate reports every problem with c at once, as an *Error with code
// EINVALID and one FieldError per problem; nil when c is valid. now is the
// clock used to refuse dates in the future.
func (c *Child) Validate(now time.Time) error {
	var fe []FieldError
	add := func(field, format string, args ...any) {
		fe = append(fe, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !c.Kind.Valid() {
		add("kind", "must be %q or %q", KindMissing, KindFound)
	}
	if !c.Sex.Valid() {
		add("sex", "must be %q, %q or %q", SexFemale, SexMale, SexUnknown)
	}
	if !c.Status.Valid() {
		add("status", "must be %q, %q or %q", StatusOpen, StatusMatched, StatusClosed)
	}
	if msg := externalRefProblem(c.ExternalRef); msg != "" {
		add("external_ref", "%s", msg)
	}
	if len(c.Names) > MaxNames {
		add("names", "at most %d names", MaxNames)
	}
	for i, n := range c.Names {
		field := fmt.Sprintf("names[%d]", i)
		if strings.TrimSpace(n) == "" {
			add(field, "must not be empty")
		}
		checkText(field, n, MaxNameRunes, add)
	}
	if c.Age != nil {
		if c.Age.Min < 0 {
			add("age.min", "must not be negative")
		}
		if c.Age.Max < 0 {
			add("age.max", "must not be negative")
		}
		if c.Age.Min > c.Age.Max {
			add("age.min", "must not be greater than age.max")
		}
		if c.Age.Max > MaxAgeYears {
			add("age.max", "must be at most %d years", MaxAgeYears)
		}
	}
	if c.ObservedOn != "" {
		t, ok := c.ObservedOn.Time()
		switch {
		case !ok:
			add("observed_on", "must be a date in the form YYYY-MM-DD")
		case t.After(now):
			add("observed_on", "must not be in the future")
		case t.Year() < 1950:
			add("observed_on", "must be after 1950")
		}
	}
	if c.HeightCM != 0 && (c.HeightCM < MinHeightCM || c.HeightCM > MaxHeightCM) {
		add("height_cm", "must be between %d and %d cm", MinHeightCM, MaxHeightCM)
	}
	checkText("marks", c.Marks, MaxTextRunes, add)
	checkText("notes", c.Notes, MaxTextRunes, add)
	checkText("place.state", c.Place.State, MaxNameRunes, add)
	checkText("place.district", c.Place.District, MaxNameRunes, add)
	checkText("place.text", c.Place.Text, MaxTextRunes, add)
	checkList("languages", c.Languages, add)
	c.validateFamily(add)
	if len(fe) == 0 {
		return nil
	}
	return &Error{Code: EINVALID, Message: "the record has invalid fields", Fields: fe}
}

// ValidateExternalRef is the one rule for a portal's reference, which
// Validate and the store both apply: nil when ref is valid, else an *Error
// with code EINVALID naming the field external_ref. A reference is a key
// ((kind, external_ref) makes creation idempotent), so two references that
// look the same must be the same string: it must be valid UTF-8 of at most
// MaxExternalRef characters (runes, so a Devanagari reference gets as many
// characters as a Latin one), with no control or format characters
// (Unicode Cc and Cf: zero-width spaces and joiners, text-direction marks,
// the byte-order mark, soft hyphens), no white space but U+0020, and none
// at either end. The empty reference is valid: the record has none.
func ValidateExternalRef(ref string) error {
	msg := externalRefProblem(ref)
	if msg == "" {
		return nil
	}
	return &Error{Code: EINVALID, Message: "external_ref " + msg, Fields: []FieldError{{Field: "external_ref", Message: msg}}}
}

// externalRefProblem says what is wrong with ref (see ValidateExternalRef),
// "" when nothing is.
func externalRefProblem(ref string) string {
	if ref == "" {
		return ""
	}
	if !utf8.ValidString(ref) {
		return "must be valid UTF-8"
	}
	if n := utf8.RuneCountInString(ref); n > MaxExternalRef {
		return fmt.Sprintf("must be at most %d characters, got %d", MaxExternalRef, n)
	}
	for _, r := range ref {
		switch {
		case unicode.IsControl(r):
			return fmt.Sprintf("must not contain control characters (U+%04X)", r)
		case unicode.Is(unicode.Cf, r):
			return fmt.Sprintf("must not contain invisible format characters such as zero-width spaces or direction marks (U+%04X)", r)
		case unicode.IsSpace(r) && r != ' ':
			return fmt.Sprintf("must not contain white space other than plain spaces (U+%04X)", r)
		}
	}
	first, _ := utf8.DecodeRuneInString(ref)
	last, _ := utf8.DecodeLastRuneInString(ref)
	if unicode.IsSpace(first) || unicode.IsSpace(last) {
		return "must not start or end with white space"
	}
	return ""
}

func checkList(field string, items []string, add func(string, string, ...any)) {
	if len(items) > MaxListItems {
		add(field, "at most %d items", MaxListItems)
	}
	for i, s := range items {
		checkText(fmt.Sprintf("%s[%d]", field, i), s, MaxNameRunes, add)
	}
}

// checkText refuses invalid UTF-8, control and bidi-override characters, and
// over-long text: each would corrupt indexes or mislead a reader of the UI.
func checkText(field, s string, maxRunes int, add func(string, string, ...any)) {
	if s == "" {
		return
	}
	if !utf8.ValidString(s) {
		add(field, "must be valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s); n > maxRunes {
		add(field, "must be at most %d characters, got %d", maxRunes, n)
	}
	for _, r := range s {
		if isForbiddenRune(r) {
			add(field, "must not contain control or text-direction override characters (U+%04X)", r)
			return
		}
	}
}

func isForbiddenRune(r rune) bool {
	switch {
	case r == '\n' || r == '\t' || r == '\r':
		return false
	case r < 0x20 || (r >= 0x7f && r < 0xa0):
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069: // bidi embeddings, overrides, isolates
		return true
	}
	return false
}

// Normalize fills defaults that Validate allows to be empty, so that stored
// records always carry an explicit sex and status.
func (c *Child) Normalize() {
	if c.Sex == "" {
		c.Sex = SexUnknown
	}
	if c.Status == "" {
		c.Status = StatusOpen
	}
	for i, n := range c.Names {
		c.Names[i] = strings.TrimSpace(n)
	}
	c.normalizeFamily()
}

// AgeOn returns the child's expected age range on date t, assuming the record's
// range held on ObservedOn; ok is false when age or date is unknown.
func (c *Child) AgeOn(t time.Time) (r AgeRange, ok bool) {
	obs, okObs := c.ObservedOn.Time()
	if c.Age == nil || !okObs {
		return AgeRange{}, false
	}
	years := wholeYears(obs, t)
	return AgeRange{Min: c.Age.Min + years, Max: c.Age.Max + years}, true
}

// wholeYears counts the calendar years from a to b (negative when b is
// earlier), so that 2018-01-01 to 2020-01-01 is two years.
func wholeYears(a, b time.Time) int {
	if b.Before(a) {
		return -wholeYears(b, a)
	}
	n := b.Year() - a.Year()
	if a.AddDate(n, 0, 0).After(b) {
		n--
	}
	return n
}
