package engine

import (
	"math"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

func ageRange(min, max int) *models.AgeRange { return &models.AgeRange{Min: min, Max: max} }

// field returns the comparison of one field, failing if it is not there.
func attributeField(t *testing.T, cmps []FieldComparison, name string) FieldComparison {
	t.Helper()
	for _, c := range cmps {
		if c.Field == name {
			return c
		}
	}
	t.Fatalf("no %s comparison in %+v", name, cmps)
	return FieldComparison{}
}

func TestCompareAttributesFields(t *testing.T) {
	want := []string{FieldName, FieldAge, FieldSex, FieldMarks, FieldHeight, FieldLanguage, FieldPlace, FieldDates,
		FieldFather, FieldMother, FieldGuardian, FieldFatherInitial, FieldHome, FieldLandmarks, FieldClothing, FieldDescriptors}
	got := CompareAttributes(&models.Child{Kind: models.KindMissing}, &models.Child{Kind: models.KindFound}, nil)
	if len(got) != len(want) {
		t.Fatalf("got %d comparisons, want %d", len(got), len(want))
	}
	for i, c := range got {
		if c.Field != want[i] {
			t.Errorf("comparison %d is %q, want %q", i, c.Field, want[i])
		}
		// Empty records: every field is no evidence, and says why.
		if c.Level != "" || c.Conflict || c.TermFrequency != 0 {
			t.Errorf("%s on empty records: %+v, want no evidence", c.Field, c)
		}
		if !strings.Contains(c.Detail, "record") {
			t.Errorf("%s on empty records: detail %q does not say what is missing", c.Field, c.Detail)
		}
	}
	if got := CompareAttributes(nil, nil, nil); len(got) != len(want) {
		t.Errorf("nil records: %d comparisons", len(got))
	}
}

func TestCompareAttributesFullRecords(t *testing.T) {
	missing := &models.Child{
		Kind: models.KindMissing, Names: []string{"Puja Kumari"}, Sex: models.SexFemale, Age: ageRange(8, 10),
		ObservedOn: "2019-05-01", HeightCM: 125, Marks: "black mole on left cheek",
		Languages: []string{"Hindi", "Bhojpuri"}, Place: models.Place{State: "U.P.", District: "Allahabad"},
	}
	found := &models.Child{
		Kind: models.KindFound, Names: []string{"पूजा"}, Sex: models.SexFemale, Age: ageRange(13, 14),
		ObservedOn: "2024-05-01", HeightCM: 150, Marks: "til baayen gaal par",
		Languages: []string{"हिंदी"}, Place: models.Place{State: "Uttar Pradesh", District: "Prayagraj"},
	}
	// Sex and language agree but are implied by the agreeing name and the
	// shared state: no level, and the detail says so.
	want := map[string]string{
		FieldAge: AgeOverlap, FieldSex: "", FieldMarks: MarksMatch, FieldHeight: HeightFits,
		FieldLanguage: "", FieldPlace: PlaceDistrict, FieldDates: DatesConsistent,
	}
	for _, order := range [][2]*models.Child{{missing, found}, {found, missing}} { // kinds reversed: swapped back
		cmps := CompareAttributes(order[0], order[1], nil)
		for f, level := range want {
			if c := attributeField(t, cmps, f); c.Level != level {
				t.Errorf("%s: level %q, want %q (%s)", f, c.Level, level, c.Detail)
			}
		}
		for _, f := range []string{FieldSex, FieldLanguage} {
			if c := attributeField(t, cmps, f); !strings.Contains(c.Detail, "not counted again") {
				t.Errorf("%s detail %q does not say why it is not counted", f, c.Detail)
			}
		}
	}
}

// TestCompareAttributesImpliedOnlyWhenImplied: sex counts when the names
// do not agree, a conflict on sex still blocks, and a language counts when
// the states differ or are unknown.
func TestCompareAttributesImpliedOnlyWhenImplied(t *testing.T) {
	missing := &models.Child{Kind: models.KindMissing, Names: []string{"Puja"}, Sex: models.SexFemale,
		Languages: []string{"Hindi"}, Place: models.Place{State: "Bihar"}}
	found := &models.Child{Kind: models.KindFound, Names: []string{"Rekha"}, Sex: models.SexFemale,
		Languages: []string{"Hindi"}, Place: models.Place{State: "Delhi"}}
	cmps := CompareAttributes(missing, found, nil)
	if c := attributeField(t, cmps, FieldSex); c.Level != SexSame {
		t.Errorf("names differ: sex %+v, want counted", c)
	}
	if c := attributeField(t, cmps, FieldLanguage); c.Level != LanguageShared {
		t.Errorf("states differ: language %+v, want counted", c)
	}
	found.Names, found.Sex = []string{"Puja"}, models.SexMale
	if c := attributeField(t, CompareAttributes(missing, found, nil), FieldSex); c.Level != SexConflict || !c.Conflict {
		t.Errorf("same name, other sex: %+v, want a conflict", c)
	}
}

func TestCompareAge(t *testing.T) {
	tests := []struct {
		name             string
		mAge, fAge       *models.AgeRange
		lastSeen, foundD models.Date
		level            string
		detail           []string
	}{
		{"brief example: 8–10 five years on, estimated 12", ageRange(8, 10), ageRange(12, 12), "2019-05-01", "2024-05-01", AgeNear,
			[]string{"expected 13–15 at the found date", "estimated 12", "1 year apart", "tolerance of 3.1 years for a 5.0-year gap"}},
		{"projected range overlaps", ageRange(8, 10), ageRange(14, 14), "2019-05-01", "2024-05-01", AgeOverlap, []string{"overlap"}},
		{"not projected would be wrong", ageRange(8, 10), ageRange(9, 9), "2019-05-01", "2024-05-01", AgeFar, []string{"4 years apart", "beyond"}},
		{"young child, same day, one year apart", ageRange(4, 4), ageRange(5, 5), "2024-01-01", "2024-01-01", AgeNear, nil},
		{"young child, same day, two years apart", ageRange(6, 6), ageRange(8, 8), "2024-01-01", "2024-01-01", AgeFar, []string{"tolerance of 1.7"}},
		{"young child, two years apart after four years", ageRange(2, 2), ageRange(8, 8), "2020-01-02", "2024-01-03", AgeNear, []string{"expected 6", "tolerance of 2.3"}},
		{"teenager, same day, two years apart", ageRange(15, 15), ageRange(17, 17), "2024-01-01", "2024-01-01", AgeNear, nil},
		{"teenager, same day, three years apart", ageRange(15, 15), ageRange(18, 18), "2024-01-01", "2024-01-01", AgeFar, nil},
		{"found before last seen: moved to the later date", ageRange(10, 10), ageRange(8, 8), "2020-01-01", "2017-12-01", AgeOverlap,
			[]string{"at the date last seen"}},
		{"no dates: compared as given", ageRange(10, 11), ageRange(11, 13), "", "", AgeOverlap, []string{"as recorded"}},
		{"no dates: near", ageRange(10, 10), ageRange(11, 11), "", "", AgeNear, nil},
		{"no dates: far", ageRange(6, 6), ageRange(8, 8), "", "", AgeFar, nil},
		{"one date unknown", ageRange(10, 10), ageRange(10, 10), "2020-01-01", "", "", []string{"found record has no observation date"}},
		{"age unknown on missing", nil, ageRange(10, 10), "2020-01-01", "2020-01-01", "", []string{"not recorded on the missing record"}},
		{"age unknown on found", ageRange(10, 10), nil, "2020-01-01", "2020-01-01", "", []string{"not recorded on the found record"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := compareAge(&models.Child{Age: tt.mAge, ObservedOn: tt.lastSeen}, &models.Child{Age: tt.fAge, ObservedOn: tt.foundD})
			if c.Level != tt.level {
				t.Errorf("level %q, want %q (%s)", c.Level, tt.level, c.Detail)
			}
			for _, d := range tt.detail {
				if !strings.Contains(c.Detail, d) {
					t.Errorf("detail %q lacks %q", c.Detail, d)
				}
			}
		})
	}
}

func TestCompareSex(t *testing.T) {
	tests := []struct {
		a, b     models.Sex
		level    string
		conflict bool
	}{
		{models.SexFemale, models.SexFemale, SexSame, false},
		{models.SexMale, models.SexMale, SexSame, false},
		{models.SexFemale, models.SexMale, SexConflict, true},
		{models.SexMale, models.SexFemale, SexConflict, true},
		{models.SexUnknown, models.SexMale, "", false},
		{models.SexFemale, "", "", false},
		{"", "", "", false},
	}
	for _, tt := range tests {
		c := compareSex(tt.a, tt.b)
		if c.Level != tt.level || c.Conflict != tt.conflict || c.Detail == "" {
			t.Errorf("compareSex(%q, %q) = %+v, want level %q conflict %v", tt.a, tt.b, c, tt.level, tt.conflict)
		}
	}
}

func TestCompareDates(t *testing.T) {
	tests := []struct {
		lastSeen, found models.Date
		level           string
		detail          string
	}{
		{"2019-05-01", "2024-05-01", DatesConsistent, "5.0 years after"},
		{"2019-05-01", "2019-05-01", DatesConsistent, "0 days after"},
		{"2019-05-01", "2019-06-15", DatesConsistent, "45 days after"},
		{"2019-05-01", "2019-04-26", DatesConsistent, "5 days before"},    // within the slack
		{"2019-05-01", "2019-04-24", DatesConsistent, "7 days before"},    // at the slack
		{"2019-05-01", "2019-04-23", DatesFoundFirst, "8 days before"},    // beyond it
		{"2019-05-01", "2018-01-01", DatesFoundFirst, "16 months before"}, // suspicious
		{"", "2018-01-01", "", "date last seen is not recorded"},
		{"2019-05-01", "", "", "date found is not recorded"},
		{"", "", "", "neither"},
		{"01/05/2019", "2020-01-01", "", "date last seen is not recorded"}, // unreadable counts as unknown
	}
	for _, tt := range tests {
		c := compareDates(tt.lastSeen, tt.found)
		if c.Level != tt.level || !strings.Contains(c.Detail, tt.detail) || c.Conflict {
			t.Errorf("compareDates(%s, %s) = %+v, want level %q, detail with %q", tt.lastSeen, tt.found, c, tt.level, tt.detail)
		}
	}
}

// tableFrequency is a NameFrequency from a table.
type tableFrequency map[string]float64

func (f tableFrequency) Of(token string) float64 { return f[token] }

func TestAttributeNameTermFrequency(t *testing.T) {
	freq := tableFrequency{"puja": 0.02, "pooja": 0.03, "rani": 0.001, "sharma": 0.05}
	tests := []struct {
		name string
		c    names.Comparison
		freq NameFrequency
		want float64
	}{
		{"given name agrees", names.Comparison{Level: names.LevelExact, A: "puja", B: "puja",
			Matched: []names.TokenMatch{{A: "puja", B: "puja", Level: names.LevelExact}}}, freq, 0.02},
		{"phonetic: the commoner spelling counts", names.Comparison{Level: names.LevelPhonetic, A: "puja", B: "pooja",
			Matched: []names.TokenMatch{{A: "puja", B: "pooja", Level: names.LevelPhonetic}}}, freq, 0.03},
		{"unknown frequencies", names.Comparison{Level: names.LevelExact, A: "puja", B: "puja",
			Matched: []names.TokenMatch{{A: "puja", B: "puja", Level: names.LevelExact}}}, nil, 0},
		{"fuzzy tokens are not picked, but agree as a further word", names.Comparison{Level: names.LevelExact, A: "rani", B: "rani",
			Matched: []names.TokenMatch{{A: "rnii", B: "rani", Level: names.LevelFuzzy}, {A: "rani", B: "rani", Level: names.LevelExact}}}, freq, 0.001 * furtherWordFactor},
		{"a further agreeing word", names.Comparison{Level: names.LevelExact, A: "puja sharma", B: "puja sharma",
			Matched: []names.TokenMatch{{A: "puja", B: "puja", Level: names.LevelExact}, {A: "sharma", B: "sharma", Level: names.LevelExact}}}, freq, 0.02 * furtherWordFactor},
		{"an initial is not a further word", names.Comparison{Level: names.LevelExact, A: "puja s", B: "puja s",
			Matched: []names.TokenMatch{{A: "puja", B: "puja", Level: names.LevelExact}, {A: "s", B: "s", Level: names.LevelExact}}}, freq, 0.02},
		{"out-of-range frequency clamped", names.Comparison{Level: names.LevelExact, A: "x", B: "x",
			Matched: []names.TokenMatch{{A: "x", B: "x", Level: names.LevelExact}}}, tableFrequency{"x": 7}, 1},
	}
	for _, tt := range tests {
		if got := nameTermFrequency(tt.c, tt.freq); math.Abs(got-tt.want) > 1e-12 {
			t.Errorf("%s: term frequency %g, want %g", tt.name, got, tt.want)
		}
	}
}

func TestCompareNamesUnknown(t *testing.T) {
	tests := []struct {
		a, b   []string
		detail string
	}{
		{nil, []string{"Puja"}, "not recorded on the missing record"},
		{[]string{"Puja"}, nil, "not recorded on the found record"},
		{[]string{"  "}, []string{""}, "not recorded on either record"},
	}
	for _, tt := range tests {
		c := compareNames(tt.a, tt.b, nil)
		if c.Level != "" || !strings.Contains(c.Detail, tt.detail) {
			t.Errorf("compareNames(%q, %q) = %+v, want no evidence with %q", tt.a, tt.b, c, tt.detail)
		}
	}
}

func TestCompareNames(t *testing.T) {
	freq := tableFrequency{"puja": 0.02}
	tests := []struct {
		a, b   string
		level  names.Level
		detail string
		tf     bool
	}{
		{"Puja", "Puja", names.LevelExact, "names: 'Puja' ~ 'Puja' (identical, ignoring case)", true},
		// In two scripts, the same name after folding is as exact as it gets.
		{"Puja", "पूजा", names.LevelExact, "names: 'Puja' ~ 'पूजा' (same after script folding)", true},
		{"Puja Kumari", "पूजा", names.LevelExact, "names: 'Puja Kumari' ~ 'पूजा' (same after script folding)", true},
		{"पूजा", "पुजा", names.LevelFolded, "names: 'पूजा' ~ 'पुजा' (same after script folding)", true},
		{"Puja", "Rekha", names.LevelNone, "names: 'Puja' vs 'Rekha' (no name agrees)", false},
		// Family names differ: the partial level, weighed without term frequency.
		{"PUJA Sharma", "Puja Verma", NamePartial, "names: 'PUJA Sharma' ~ 'Puja Verma' (identical, ignoring case; other words of the names differ)", false},
		// Two words agree and a third differs: a spelling difference.
		{"Badal Chandra Ghosh", "Badal Chandra Bose", names.LevelFuzzy, "names: 'Badal Chandra Ghosh' ~ 'Badal Chandra Bose' (identical, ignoring case; another word differs)", false},
		// One name has a word the other lacks: one level weaker.
		{"Puja", "Puja Sharma", names.LevelFolded, "names: 'Puja' ~ 'Puja Sharma' (identical, ignoring case; one name has words the other lacks)", true},
		{"Puja S", "S. Puja", names.LevelExact, "names: 'Puja S' ~ 'S. Puja' (identical, ignoring case)", true},
	}
	for _, tt := range tests {
		c := compareNames([]string{tt.a}, []string{tt.b}, freq)
		if c.Level != string(tt.level) || c.Detail != tt.detail || (c.TermFrequency > 0) != tt.tf {
			t.Errorf("compareNames(%q, %q) = %+v, want %s, %q, term frequency %v", tt.a, tt.b, c, tt.level, tt.detail, tt.tf)
		}
	}
}

func TestNameWords(t *testing.T) {
	for _, l := range []names.Level{names.LevelExact, names.LevelFolded, names.LevelPhonetic, names.LevelFuzzy, names.LevelInitial, names.LevelNone} {
		if w := nameWords(l, nil); w == "" || w == string(l) {
			t.Errorf("level %s has no words: %q", l, w)
		}
	}
	if w := nameWords(names.LevelFuzzy, []names.TokenMatch{{Level: names.LevelFuzzy, Distance: 1}}); !strings.Contains(w, "1 letter apart") {
		t.Errorf("fuzzy words %q do not give the distance", w)
	}
}

func TestFoldLabel(t *testing.T) {
	tests := map[string]string{
		"U.P.": "up", " Uttar  Pradesh ": "uttar pradesh", "J&K": "j and k", "Jammu & Kashmir": "jammu and kashmir",
		"ＨＩＮＤＩ": "hindi", "Bengalí": "bengali", "Tamil-Nadu": "tamil nadu", "हिंदी": "हिंदी", "": "",
		"Distt.\u00a0Gaya": "distt gaya",
	}
	for in, want := range tests {
		if got := foldLabel(in); got != want {
			t.Errorf("foldLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// A name that is only a title, a relation or punctuation is no evidence:
// no level, not "none" (which would count against the pair).
func TestNamesWithoutIdentifyingWordsAreNoEvidence(t *testing.T) {
	for _, tt := range []struct{ a, b []string }{
		{[]string{"Shri"}, []string{"Rahul"}},
		{[]string{"Rahul"}, []string{"S/O"}},
		{[]string{"।"}, []string{"."}},
		{[]string{"(दिवंगत)"}, []string{"Late"}},
		{[]string{"श्रीमती", "पुत्री"}, []string{"Pooja"}},
	} {
		c := compareNames(tt.a, tt.b, nil)
		if c.Level != "" || !strings.Contains(c.Detail, "only titles, relations or punctuation") {
			t.Errorf("compareNames(%q, %q) = %+v; want no evidence, saying why", tt.a, tt.b, c)
		}
	}
	// With an identifying name beside it, the title-only name is left out.
	if c := compareNames([]string{"Shri", "Rahul"}, []string{"राहुल"}, nil); c.Level != string(names.LevelExact) {
		t.Errorf("Shri + Rahul against राहुल: level %q, want exact (one name in two scripts)", c.Level)
	}
}
