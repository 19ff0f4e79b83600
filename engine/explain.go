package engine

import (
	"fmt"
	"strings"

	"github.com/trackmatch/trackmatch/models/names"
)

// An explanation has two sentences per field (models.Contribution). The
// Detail quotes both records (names, marks, places, languages, heights,
// dates) for those who may read them. The Summary is built here from the
// field and its comparison level alone, which are values of this package
// and never text from a record, so it holds nothing personal: it can go to
// a caller who may not read the other child's record.

// levelWords says what level means for field, for every field but the
// name (nameWords) and the face (faceLevelWords); ok is false for a level
// it does not know.
func levelWords(field, level string) (string, bool) {
	type fl struct{ field, level string }
	switch (fl{field, level}) {
	case fl{FieldName, NamePartial}:
		return "given names agree, other words of the names differ", true
	case fl{FieldName, NameSimilar}:
		return "no word agrees, but the names are written alike", true
	case fl{FieldAge, AgeOverlap}:
		return "age ranges overlap once moved to one date", true
	case fl{FieldAge, AgeNear}:
		return "ages close, within the tolerance for guessed ages", true
	case fl{FieldAge, AgeFar}:
		return "ages far apart", true
	case fl{FieldSex, SexSame}:
		return "same on both records", true
	case fl{FieldSex, SexConflict}:
		return "female on one record, male on the other", true
	case fl{FieldMarks, MarksMatch}:
		return "a mark agrees in type, body part and side", true
	case fl{FieldMarks, MarksPartial}:
		return "a mark agrees in type and region, one record less precise", true
	case fl{FieldMarks, MarksConflict}:
		return "a mark agrees in type and place, on opposite sides", true
	case fl{FieldMarks, MarksNone}:
		return "both records describe marks, none agree", true
	case fl{FieldHeight, HeightFits}:
		return "fits the growth expected between the records", true
	case fl{FieldHeight, HeightNear}:
		return "near the growth expected between the records", true
	case fl{FieldHeight, HeightFar}:
		return "far from the growth expected between the records", true
	case fl{FieldLanguage, LanguageShared}:
		return "a language in common", true
	case fl{FieldLanguage, LanguageNone}:
		return "no language in common", true
	case fl{FieldPlace, PlaceDistrict}:
		return "same district", true
	case fl{FieldPlace, PlaceState}:
		return "same state, not the same district", true
	case fl{FieldPlace, PlaceOther}:
		return "different states", true
	case fl{FieldDates, DatesConsistent}:
		return "found on or after the date last seen", true
	case fl{FieldDates, DatesFoundFirst}:
		return "found well before the date last seen", true
	}
	return "", false
}

// summary is the non-personal sentence for c: its field and what its level
// means, "names: same sound, different spelling". It reads only c.Field and
// c.Level, never c.Detail.
func (s *Scorer) summary(c FieldComparison) string {
	if c.Level == "" {
		return c.Field + ": not counted (not known on both records, already implied by another field, or no evidence for this pair)"
	}
	if _, ok := s.fields[c.Field][c.Level]; !ok {
		return fmt.Sprintf("%s: level %q has no parameters in v%d; not counted", c.Field, c.Level, s.version)
	}
	return c.Field + ": " + levelMeaning(c.Field, c.Level)
}

// levelMeaning says in words what level means for field.
func levelMeaning(field, level string) string {
	if w, ok := levelWords(field, level); ok {
		return w
	}
	if w, ok := familyLevelWords(field, level); ok {
		return w
	}
	switch field {
	case FieldName:
		return nameWords(names.Level(level), nil)
	case FieldInitials:
		return levelMeaningInitials(level)
	case FieldFace:
		return faceLevelWords(level)
	}
	return level
}

// faceLevelWords reads a "group/band" face level (see FaceBands):
// "1-3y/0.40-0.48" is "distance 0.40-0.48, photos 1-3 years apart".
func faceLevelWords(level string) string {
	group, band, ok := strings.Cut(level, "/")
	if !ok {
		return level
	}
	out := "distance " + band
	if scale, g := faceScaleOf(group); scale == FaceScaleDlib {
		group, out = g, "dlib distance "+band
	}
	switch {
	case group == FaceGroupUnknown:
		return out + ", photo dates unknown"
	case strings.HasPrefix(group, youngPrefix):
		under, gap, _ := strings.Cut(strings.TrimPrefix(group, youngPrefix), ":")
		return fmt.Sprintf("%s, photos %s apart, the earlier of a child under %s", out, yearsWords(gap), under)
	}
	return fmt.Sprintf("%s, photos %s apart", out, yearsWords(group))
}

// yearsWords turns a gap group name ("1-3y", "10y+") into words.
func yearsWords(g string) string {
	if lo, ok := strings.CutSuffix(g, "y+"); ok {
		return lo + " years or more"
	}
	return strings.TrimSuffix(g, "y") + " years"
}
