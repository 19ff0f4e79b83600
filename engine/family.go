package engine

import (
	"fmt"
	"strings"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// Fields of what a child tells of family and home (issue 21): each one
// term of the match weight, estimated like every other field.
const (
	// FieldFather compares the fathers' names, FieldMother the mothers';
	// FieldGuardian a guardian of unknown relation on either side with
	// every guardian of the other, with less weight (two chances to agree).
	FieldFather   = "father"
	FieldMother   = "mother"
	FieldGuardian = "guardian"
	// FieldFatherInitial compares a child's South Indian initial ("K.
	// Velan") with the father's given name on the other record.
	FieldFatherInitial = "father_initial"
	FieldHome          = "home"
	FieldLandmarks     = "landmarks"
	FieldClothing      = "clothing"
	FieldDescriptors   = "descriptors"
)

// Levels of the family and home fields; the name-like fields (father,
// mother, guardian) take the name levels.
const (
	InitialAgrees  = "agrees"  // the initial is the father's given name's first letter
	InitialDiffers = "differs" // it is not

	HomeVillage = "village"        // village or locality agrees
	HomeAlike   = "village_alike"  // spelled alike, a letter or two apart
	HomeStation = "police_station" // the police station agrees, the village does not or is unknown
	HomeOther   = "other"          // both give a village; neither it nor the station agrees

	LandmarksRare   = "shared_rare" // landmark words shared, rare ones among them
	LandmarksShared = "shared"      // only common landmark words shared
	LandmarksNone   = "none"        // both describe landmarks; no word in common

	ClothingMatch   = "match"   // garment and colour agree
	ClothingPartial = "partial" // garment or colour agrees
	ClothingDiffers = "differs" // both described; nothing agrees

	DescriptorsAgree  = "agree"  // complexion or build agree, nothing contradicts
	DescriptorsDiffer = "differ" // one is far apart (fair against dark, thin against heavy)
)

// familyDefaults are version 1's m and u for the family and home fields,
// judgement to be replaced by estimates (EstimateEM, decisions) like the
// rest of DefaultParams.
func familyDefaults() []struct {
	field  string
	levels []paramRow
} {
	// The father is named on nearly every missing report (the complainant
	// is usually a parent) and a found child who names him gives his given
	// name: agreement is less often exact than for the child's own name
	// (a given name against a full name is one level weaker).
	parent := []paramRow{
		{"exact", 0.30, 0.003},
		{"folded", 0.25, 0.003},
		{"phonetic", 0.14, 0.01},
		{"fuzzy", 0.08, 0.02},
		{"partial", 0.04, 0.015},
		{"initial", 0.04, 0.02},
		{"none", 0.15, 0.929},
	}
	// A guardian of unknown relation is compared with both parents: two
	// chances for strangers to agree, and a true match's guardian may be
	// an uncle or a neighbour.
	guardian := []paramRow{
		{"exact", 0.20, 0.006},
		{"folded", 0.15, 0.006},
		{"phonetic", 0.10, 0.02},
		{"fuzzy", 0.07, 0.04},
		{"partial", 0.04, 0.03},
		{"initial", 0.04, 0.04},
		{"none", 0.40, 0.858},
	}
	return []struct {
		field  string
		levels []paramRow
	}{
		{FieldFather, parent},
		{FieldMother, parent},
		{FieldGuardian, guardian},
		// An initial is the father's first letter in most Tamil and
		// Telugu names (sometimes the village's); strangers agree about
		// one time in twelve (initial letters are unevenly used).
		{FieldFatherInitial, []paramRow{{InitialAgrees, 0.85, 0.08}, {InitialDiffers, 0.15, 0.92}}},
		// Village names repeat across India (a Rampur in most states), so
		// strangers agree more often than on a district; a child says the
		// village, a clerk writes it one letter off now and then.
		{FieldHome, []paramRow{{HomeVillage, 0.65, 0.004}, {HomeAlike, 0.12, 0.01}, {HomeStation, 0.05, 0.004}, {HomeOther, 0.18, 0.982}}},
		{FieldLandmarks, []paramRow{{LandmarksRare, 0.35, 0.01}, {LandmarksShared, 0.35, 0.15}, {LandmarksNone, 0.30, 0.84}}},
		// Clothing is compared only within ClothingMaxDays: a child found
		// in the clothes it went missing in.
		{FieldClothing, []paramRow{{ClothingMatch, 0.45, 0.02}, {ClothingPartial, 0.35, 0.25}, {ClothingDiffers, 0.20, 0.73}}},
		// Descriptors are rough and describer-dependent: weak either way.
		{FieldDescriptors, []paramRow{{DescriptorsAgree, 0.70, 0.45}, {DescriptorsDiffer, 0.30, 0.55}}},
	}
}

// tfField reports whether a field's name agreement is weighed by the
// agreeing name's frequency (the child's name and the parents').
func tfField(field string) bool {
	return field == FieldName || field == FieldFather || field == FieldMother || field == FieldGuardian
}

// compareFamily compares the family, home, clothing and descriptors of a
// missing and a found record, one FieldComparison per field.
func compareFamily(missing, found *models.Child, freq NameFrequency) []FieldComparison {
	father := compareParent(FieldFather, "father's name", missing.GuardiansOf(models.RelationFather), found.GuardiansOf(models.RelationFather), freq)
	out := []FieldComparison{
		father,
		compareParent(FieldMother, "mother's name", missing.GuardiansOf(models.RelationMother), found.GuardiansOf(models.RelationMother), freq),
		compareUnknownGuardians(missing, found, freq),
		compareFatherInitial(missing, found, father),
		compareHome(missing.Home, found.Home),
		compareLandmarks(missing.Home.Landmarks, found.Home.Landmarks),
		compareClothing(missing, found),
		compareDescriptors(missing.Descriptors, found.Descriptors),
	}
	return out
}

// compareParent compares one parent's names with the child's name engine
// (compareNames: scripts, initials, titles, frequencies).
func compareParent(field, label string, a, b []string, freq NameFrequency) FieldComparison {
	if len(identifyingNames(a)) == 0 || len(identifyingNames(b)) == 0 {
		return FieldComparison{Field: field, Detail: unknownDetail(label, len(identifyingNames(a)) > 0, len(identifyingNames(b)) > 0)}
	}
	fc := compareNames(a, b, freq)
	fc.Field = field
	fc.Detail = label + ":" + strings.TrimPrefix(fc.Detail, "names:")
	return fc
}

// compareUnknownGuardians compares each guardian of unknown relation on
// one record with every guardian of the other (and so with both parents),
// keeping the strongest agreement. Pairs of known parents are left to the
// father and mother fields.
func compareUnknownGuardians(missing, found *models.Child, freq NameFrequency) FieldComparison {
	const label = "guardian of unknown relation"
	mu, fu := missing.GuardiansOf(models.RelationUnknown), found.GuardiansOf(models.RelationUnknown)
	if len(identifyingNames(mu)) == 0 && len(identifyingNames(fu)) == 0 {
		return FieldComparison{Field: FieldGuardian, Detail: label + ": none on either record"}
	}
	var best FieldComparison
	try := func(a, b []string) {
		if len(identifyingNames(a)) == 0 || len(identifyingNames(b)) == 0 {
			return
		}
		fc := compareParent(FieldGuardian, "guardian (relation unknown on one record)", a, b, freq)
		if best.Level == "" || nameStrength(fc.Level) > nameStrength(best.Level) {
			best = fc
		}
	}
	all := func(c *models.Child) []string {
		var out []string
		for _, g := range c.Guardians {
			out = append(out, g.Name)
		}
		return out
	}
	try(mu, all(found))
	try(all(missing), fu)
	if best.Level == "" {
		best = FieldComparison{Field: FieldGuardian, Detail: label + ": no guardian on the other record to compare with"}
	}
	return best
}

// nameStrength orders name levels from none (0) to exact.
func nameStrength(level string) int {
	switch level {
	case string(names.LevelExact):
		return 7
	case string(names.LevelFolded):
		return 6
	case string(names.LevelPhonetic):
		return 5
	case string(names.LevelFuzzy):
		return 4
	case NamePartial:
		return 3
	case string(names.LevelInitial):
		return 2
	case string(names.LevelNone):
		return 1
	}
	return 0
}

// compareFatherInitial reads a child's initials ("K. Velan", "Velan K")
// as the father's given name's first letter, compared with the father
// named on the other record. It counts only when the fathers' names were
// not compared themselves (father has no level), which would say more.
func compareFatherInitial(missing, found *models.Child, father FieldComparison) FieldComparison {
	fc := FieldComparison{Field: FieldFatherInitial}
	if father.Level != "" {
		fc.Detail = "child's initial: not counted, the fathers' names are compared"
		return fc
	}
	try := func(child, other *models.Child, side string) bool {
		inits := childInitials(child.Names)
		given := fatherGivenLetter(other.GuardiansOf(models.RelationFather))
		if len(inits) == 0 || given == "" {
			return false
		}
		for _, i := range inits {
			if i == given {
				fc.Level = InitialAgrees
				fc.Detail = fmt.Sprintf("child's initial: %s on the %s record, the first letter of the father's given name on the other", strings.ToUpper(i), side)
				return true
			}
		}
		fc.Level = InitialDiffers
		fc.Detail = fmt.Sprintf("child's initial: %s on the %s record, but the father on the other record is named with %s", strings.ToUpper(strings.Join(inits, ", ")), side, strings.ToUpper(given))
		return true
	}
	if !try(found, missing, "found") && !try(missing, found, "missing") {
		fc.Detail = "child's initial: no initial on one record with a father named on the other"
	}
	return fc
}

// childInitials are the initial letters (folded) of a child's names that
// also have a whole word.
func childInitials(ns []string) []string {
	var out []string
	for _, n := range ns {
		toks := names.Tokens(n)
		whole := false
		for _, t := range toks {
			whole = whole || len(t) > 1
		}
		if !whole {
			continue
		}
		for _, t := range toks {
			if len(t) == 1 {
				out = append(out, t)
			}
		}
	}
	return out
}

// fatherGivenLetter is the folded first letter of the father's given name:
// his first whole word (his own initials skipped).
func fatherGivenLetter(fathers []string) string {
	for _, f := range fathers {
		for _, t := range names.Tokens(f) {
			if len(t) > 1 {
				return t[:1]
			}
		}
	}
	return ""
}
