package engine

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/clothing"
	"github.com/trackmatch/trackmatch/models/names"
	"github.com/trackmatch/trackmatch/models/places"
)

// localityLevel says how two village, locality or police-station names
// agree: the place rule of models/places (Key: scripts, case, the words
// around a place dropped), then the name engine's spelling levels for a
// name a child said and a clerk wrote ("Raampur" / "Rampur").
func localityLevel(a, b string) string {
	ka, kb := places.Key(a), places.Key(b)
	if ka == "" || kb == "" {
		return ""
	}
	if ka == kb {
		return HomeVillage
	}
	switch names.Compare([]string{a}, []string{b}).Level {
	case names.LevelExact, names.LevelFolded, names.LevelPhonetic:
		return HomeVillage
	case names.LevelFuzzy:
		return HomeAlike
	}
	return HomeOther
}

// compareHome compares the home villages (or localities) and police
// stations. Villages repeat across India, so two homes in different
// states (both known) do not agree, whatever the village.
func compareHome(a, b models.Home) FieldComparison {
	fc := FieldComparison{Field: FieldHome}
	va, vb := strings.TrimSpace(a.Village), strings.TrimSpace(b.Village)
	pa, pb := strings.TrimSpace(a.PoliceStation), strings.TrimSpace(b.PoliceStation)
	if (va == "" || vb == "") && (pa == "" || pb == "") {
		fc.Detail = unknownDetail("home village or police station", va != "" || pa != "", vb != "" || pb != "")
		return fc
	}
	sa := places.Resolve(models.Place{State: a.State, District: a.District}).State
	sb := places.Resolve(models.Place{State: b.State, District: b.District}).State
	if sa != "" && sb != "" && places.Key(sa) != places.Key(sb) {
		fc.Level = HomeOther
		fc.Detail = fmt.Sprintf("home: in different states (%s on the missing record, %s on the found record)", sa, sb)
		return fc
	}
	village := ""
	if va != "" && vb != "" {
		village = localityLevel(va, vb)
	}
	switch village {
	case HomeVillage:
		fc.Level, fc.Detail = HomeVillage, fmt.Sprintf("home: same village or locality ('%s' ~ '%s')", va, vb)
		return fc
	case HomeAlike:
		fc.Level, fc.Detail = HomeAlike, fmt.Sprintf("home: village or locality spelled alike ('%s' ~ '%s')", va, vb)
		return fc
	}
	if pa != "" && pb != "" && localityLevel(pa, pb) == HomeVillage {
		fc.Level, fc.Detail = HomeStation, fmt.Sprintf("home: same police station ('%s' ~ '%s')", pa, pb)
		if village == HomeOther {
			fc.Detail += fmt.Sprintf(", different villages ('%s' vs '%s')", va, vb)
		}
		return fc
	}
	fc.Level = HomeOther
	if village == HomeOther {
		fc.Detail = fmt.Sprintf("home: different villages ('%s' vs '%s')", va, vb)
	} else {
		fc.Detail = fmt.Sprintf("home: different police stations ('%s' vs '%s')", pa, pb)
	}
	return fc
}

// landmarkShare is how often each common landmark word appears among
// records' landmarks (an estimate: temples, schools and stations are
// near most homes); a word not listed counts as rare (rareLandmarkShare).
// Words that say where, not what ("near", "behind") carry nothing.
var landmarkShare = map[string]float64{
	"temple": 0.2, "mandir": 0.2, "school": 0.15, "station": 0.1, "railway": 0.08, "market": 0.08, "bazaar": 0.05,
	"masjid": 0.08, "mosque": 0.05, "bus": 0.06, "stand": 0.06, "pond": 0.05, "talab": 0.04, "well": 0.04,
	"tree": 0.05, "peepal": 0.03, "road": 0.1, "hospital": 0.04, "church": 0.03, "water": 0.04, "tank": 0.04,
	"big": 0.1, "old": 0.08, "new": 0.08, "government": 0.05, "river": 0.03, "bridge": 0.03, "canal": 0.02,
}

var landmarkStop = map[string]bool{
	"near": true, "the": true, "a": true, "an": true, "of": true, "behind": true, "next": true, "to": true,
	"opposite": true, "in": true, "on": true, "at": true, "by": true, "and": true, "paas": true, "ke": true,
	"ka": true, "ki": true, "pas": true, "samne": true, "peeche": true, "piche": true, "wala": true, "wali": true,
	"gali": true, "house": true, "ghar": true, "home": true, "side": true, "main": true,
}

// rareLandmarkShare is the share given a landmark word not in
// landmarkShare: a named shrine, a shop, a factory.
const rareLandmarkShare = 0.005

// landmarkRareBits is how many bits of rarity shared landmark words must
// add up to for LandmarksRare: one word at rareLandmarkShare is 7.6.
const landmarkRareBits = 7

// landmarkTokens folds a landmark text into its set of words.
func landmarkTokens(s string) []string {
	var out []string
	for _, w := range strings.Fields(names.Fold(s)) {
		if len(w) > 1 && !landmarkStop[w] {
			out = append(out, w)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// compareLandmarks compares free-text landmarks as sets of words, each
// shared word worth -log2 of its share among records.
func compareLandmarks(a, b string) FieldComparison {
	fc := FieldComparison{Field: FieldLandmarks}
	ta, tb := landmarkTokens(a), landmarkTokens(b)
	if len(ta) == 0 || len(tb) == 0 {
		fc.Detail = unknownDetail("landmarks", len(ta) > 0, len(tb) > 0)
		return fc
	}
	shared := clothing.Shared(ta, tb)
	bits := 0.0
	for _, w := range shared {
		share, ok := landmarkShare[w]
		if !ok {
			share = rareLandmarkShare
		}
		bits += -math.Log2(share)
	}
	switch {
	case len(shared) == 0:
		fc.Level, fc.Detail = LandmarksNone, "landmarks: no word in common"
	case bits >= landmarkRareBits:
		fc.Level, fc.Detail = LandmarksRare, fmt.Sprintf("landmarks: share %s, rare words (%.0f bits of rarity)", strings.Join(shared, ", "), bits)
	default:
		fc.Level, fc.Detail = LandmarksShared, fmt.Sprintf("landmarks: share only common words (%s)", strings.Join(shared, ", "))
	}
	return fc
}

// ClothingMaxDays is how far apart the dates last seen and found may be
// for clothing to count: a child found within weeks may still wear the
// clothes it went missing in; years later it cannot.
const ClothingMaxDays = 30

// compareClothing compares what the child wore when last seen and when
// found, read with the models/clothing vocabulary, when the dates are
// days apart.
func compareClothing(missing, found *models.Child) FieldComparison {
	fc := FieldComparison{Field: FieldClothing}
	ca := clothing.Read(missing.Clothing.Garment, missing.Clothing.Colour, missing.Clothing.Pattern, missing.Clothing.Text)
	cb := clothing.Read(found.Clothing.Garment, found.Clothing.Colour, found.Clothing.Pattern, found.Clothing.Text)
	if ca.Empty() || cb.Empty() {
		fc.Detail = unknownDetail("clothing", !ca.Empty(), !cb.Empty())
		return fc
	}
	tm, okM := missing.ObservedOn.Time()
	tf, okF := found.ObservedOn.Time()
	if !okM || !okF {
		fc.Detail = "clothing: not counted, a date is unknown (clothing counts only when found within days)"
		return fc
	}
	days := int(math.Abs(math.Round(tf.Sub(tm).Hours() / 24)))
	if days > ClothingMaxDays {
		fc.Detail = fmt.Sprintf("clothing: not counted, the records are %s apart (it counts within %d days)", formatSpan(days), ClothingMaxDays)
		return fc
	}
	g := clothing.Shared(ca.Garments, cb.Garments)
	c := clothing.Shared(ca.Colours, cb.Colours)
	what := strings.Join(append(slices.Clone(c), g...), " ")
	switch {
	case len(g) > 0 && len(c) > 0:
		fc.Level, fc.Detail = ClothingMatch, fmt.Sprintf("clothing: both %s, %s apart", what, formatSpan(days))
	case len(g) > 0 || len(c) > 0:
		fc.Level, fc.Detail = ClothingPartial, fmt.Sprintf("clothing: both %s, the rest differs or is unknown", what)
	default:
		fc.Level, fc.Detail = ClothingDiffers, fmt.Sprintf("clothing: %s on the missing record, %s on the found record",
			strings.Join(append(slices.Clone(ca.Colours), ca.Garments...), " "), strings.Join(append(slices.Clone(cb.Colours), cb.Garments...), " "))
	}
	return fc
}

// descriptorOrder places complexions and builds on a scale, so that
// neighbours (fair, wheatish) neither agree nor differ.
var descriptorOrder = map[string]int{
	"fair": 0, "wheatish": 1, "dusky": 2, "dark": 3,
	"thin": 0, "medium": 1, "heavy": 2,
}

// compareDescriptors compares complexion and build: the same value
// agrees, two steps apart differ, neighbours say nothing.
func compareDescriptors(a, b models.Descriptors) FieldComparison {
	fc := FieldComparison{Field: FieldDescriptors}
	var agree, differ []string
	for _, d := range []struct{ label, x, y string }{{"complexion", a.Complexion, b.Complexion}, {"build", a.Build, b.Build}} {
		x, okx := descriptorOrder[strings.ToLower(d.x)]
		y, oky := descriptorOrder[strings.ToLower(d.y)]
		if !okx || !oky {
			continue
		}
		switch {
		case x == y:
			agree = append(agree, fmt.Sprintf("%s %s", d.label, strings.ToLower(d.x)))
		case x-y >= 2 || y-x >= 2:
			differ = append(differ, fmt.Sprintf("%s %s vs %s", d.label, strings.ToLower(d.x), strings.ToLower(d.y)))
		}
	}
	switch {
	case len(differ) > 0:
		fc.Level, fc.Detail = DescriptorsDiffer, "descriptors: "+strings.Join(differ, "; ")
	case len(agree) > 0:
		fc.Level, fc.Detail = DescriptorsAgree, "descriptors: both "+strings.Join(agree, ", ")
	default:
		fc.Detail = "descriptors: complexion and build not both recorded, or only neighbouring values"
	}
	return fc
}

// familyLevelWords says in words what a level of a family or home field
// means, for the explanation's summary.
func familyLevelWords(field, level string) (string, bool) {
	switch field {
	case FieldFather, FieldMother, FieldGuardian:
		if level == NamePartial {
			return "the given names agree, other words differ", true
		}
		return nameWords(names.Level(level), nil), true
	}
	w, ok := map[[2]string]string{
		{FieldFatherInitial, InitialAgrees}:   "the child's initial is the father's given name's first letter",
		{FieldFatherInitial, InitialDiffers}:  "the child's initial is not the father's given name's first letter",
		{FieldHome, HomeVillage}:              "same home village or locality",
		{FieldHome, HomeAlike}:                "home village spelled alike",
		{FieldHome, HomeStation}:              "same police station, not the same village",
		{FieldHome, HomeOther}:                "different home villages",
		{FieldLandmarks, LandmarksRare}:       "landmarks share rare words",
		{FieldLandmarks, LandmarksShared}:     "landmarks share only common words",
		{FieldLandmarks, LandmarksNone}:       "landmarks share no word",
		{FieldClothing, ClothingMatch}:        "same garment and colour within days",
		{FieldClothing, ClothingPartial}:      "garment or colour agrees within days",
		{FieldClothing, ClothingDiffers}:      "different clothing within days",
		{FieldDescriptors, DescriptorsAgree}:  "complexion or build agree",
		{FieldDescriptors, DescriptorsDiffer}: "complexion or build far apart",
	}[[2]string{field, level}]
	return w, ok
}
