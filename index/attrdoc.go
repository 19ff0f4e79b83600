package index

import (
	"fmt"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/places"
)

// Index fields. Names and marks are indexed in one field per partition
// (kind and sex, e.g. "name_found_female"), so that a query searches only
// records of the other kind and a compatible sex: the name clauses, the
// costly part of a search, never visit the others. The source text is also
// stored once, unpartitioned, to explain hits.
const (
	attrFieldPart      = "part"   // the partition, e.g. "found_female"
	attrFieldStatus    = "status" // open, matched, closed
	attrFieldNames     = "names"  // stored only: the names as written
	attrFieldMarks     = "marks"  // stored only: the marks as written
	attrFieldSex       = "sex"    // stored only
	attrPrefixNames    = "names_" // + partition: source property of the two below
	attrPrefixName     = "name_"  // + partition: folded tokens
	attrPrefixPhonetic = "phon_"  // + partition: phonetic keys
	attrPrefixMarks    = "mark_"  // + partition: mark terms
	attrFieldState     = "state"
	attrFieldDistrict  = "district"
	attrFieldPartYear  = "part_year" // partition/birth year, widened by the widest tolerance; partition/? when unknown
	attrFieldBirth     = "birth"     // stored only: "lo hi ref", for the exact test
	attrFieldObserved  = "observed_on"
	attrRebuildSuffix  = ".rebuild"
	attrOldSuffix      = ".old"
	attrRebuildBatch   = 5000
	attrMaxQueryTokens = 32 // distinct name tokens, and mark terms, a query uses
	attrMaxFuzzyRunes  = 24 // longer tokens are not names: no fuzzy automaton for them
)

// attrPartition names the partition of a kind and sex.
func attrPartition(k models.Kind, s models.Sex) string {
	if s == "" {
		s = models.SexUnknown
	}
	return string(k) + "_" + string(s)
}

// attrPartitions lists every partition, for the mapping.
func attrPartitions() []string {
	var ps []string
	for _, k := range []models.Kind{models.KindMissing, models.KindFound} {
		for _, s := range []models.Sex{models.SexFemale, models.SexMale, models.SexUnknown} {
			ps = append(ps, attrPartition(k, s))
		}
	}
	return ps
}

// queryPartitions are the partitions q's candidates are in: the other kind,
// and every sex that does not conflict with q's (unknown conflicts with none).
func queryPartitions(q *models.Child) []string {
	k := q.Kind.Other()
	switch q.Sex {
	case models.SexFemale, models.SexMale:
		return []string{attrPartition(k, q.Sex), attrPartition(k, models.SexUnknown)}
	}
	return []string{attrPartition(k, models.SexFemale), attrPartition(k, models.SexMale), attrPartition(k, models.SexUnknown)}
}

// attrMapping is the index mapping: explicit fields only, nothing dynamic,
// no _all field, no term vectors. The fields hits are explained from are
// stored (the source text, a few hundred bytes a record).
func attrMapping() *mapping.IndexMappingImpl {
	field := func(fm *mapping.FieldMapping, name, analyzer string) *mapping.FieldMapping {
		fm.Name = name
		if analyzer != "" {
			fm.Analyzer = analyzer
		}
		fm.Store = false
		fm.IncludeInAll = false
		fm.DocValues = false
		fm.IncludeTermVectors = false
		return fm
	}
	text := func(name, analyzer string) *mapping.FieldMapping {
		return field(bleve.NewTextFieldMapping(), name, analyzer)
	}
	kw := func() *mapping.FieldMapping {
		fm := field(bleve.NewKeywordFieldMapping(), "", "")
		fm.SkipFreqNorm = true // filters: presence is all that counts
		return fm
	}
	stored := func() *mapping.FieldMapping {
		fm := field(bleve.NewKeywordFieldMapping(), "", "")
		fm.Index, fm.Store = false, true
		return fm
	}

	dm := bleve.NewDocumentStaticMapping()
	dm.AddFieldMappingsAt(attrFieldPart, kw())
	dm.AddFieldMappingsAt(attrFieldStatus, kw())
	for _, p := range attrPartitions() {
		dm.AddFieldMappingsAt(attrPrefixNames+p,
			text(attrPrefixName+p, analyzerNameFolded),
			text(attrPrefixPhonetic+p, analyzerNamePhonetic))
		dm.AddFieldMappingsAt(attrPrefixMarks+p, text("", analyzerMarks))
	}
	addFamilyMappings(dm, text)
	dm.AddFieldMappingsAt(attrFieldNames, stored())
	dm.AddFieldMappingsAt(attrFieldMarks, stored())
	dm.AddFieldMappingsAt(attrFieldSex, stored())
	state, district := text("", analyzerPlace), text("", analyzerPlace)
	state.Store, district.Store = true, true
	dm.AddFieldMappingsAt(attrFieldState, state)
	dm.AddFieldMappingsAt(attrFieldDistrict, district)
	// Years are keywords, not numbers: each record lists the birth years it
	// can meet at the widest tolerance, prefixed with its partition (a
	// handful of terms), so a query tests partition and overlap at once with
	// one term per partition and year of its own range. Bleve numeric ranges,
	// and an exact per-gap-band filter in Bleve, were several times slower:
	// the exact test runs on the hits, from the stored "birth".
	dm.AddFieldMappingsAt(attrFieldPartYear, kw())
	dm.AddFieldMappingsAt(attrFieldBirth, stored())
	dm.AddFieldMappingsAt(attrFieldObserved, field(bleve.NewDateTimeFieldMapping(), "", ""))

	im := bleve.NewIndexMapping()
	im.DefaultMapping = dm
	im.DefaultAnalyzer = keyword.Name
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im
}

// birthYears moves an age range to a common reference: the calendar years
// the child can have been born in, [year(ref)-max-1, year(ref)-min]. Ages
// recorded years apart then compare without moving ranges. The reference is
// ObservedOn; ok is false when age or date is unknown. (The scorer does not
// move an age without a date, and gives no evidence when one record has a
// date and the other none, so an undated age filters nothing here.)
func birthYears(c *models.Child) (lo, hi, refYear int, ok bool) {
	if a := c.Age; a == nil || a.Min < 0 || a.Max < a.Min || a.Max > models.MaxAgeYears {
		return 0, 0, 0, false // unknown, or not an age Validate allows: no evidence
	}
	ref, okRef := c.ObservedOn.Time()
	if !okRef {
		return 0, 0, 0, false
	}
	y := ref.Year()
	return y - c.Age.Max - 1, y - c.Age.Min, y, true
}

// attrDoc is the document indexed for c. Names, marks and places go in as
// text and are analysed by the registered analyzers.
func attrDoc(c *models.Child) map[string]interface{} {
	sex := c.Sex
	if sex == "" {
		sex = models.SexUnknown
	}
	status := c.Status
	if status == "" {
		status = models.StatusOpen
	}
	p := attrPartition(c.Kind, sex)
	d := map[string]interface{}{
		attrFieldPart:   p,
		attrFieldSex:    string(sex),
		attrFieldStatus: string(status),
	}
	if len(c.Names) > 0 {
		d[attrPrefixNames+p] = c.Names
		d[attrFieldNames] = c.Names
	}
	addFamilyFields(d, c, p)
	if c.Marks != "" {
		d[attrPrefixMarks+p] = c.Marks
		d[attrFieldMarks] = c.Marks
	}
	// The place as models/places resolves it (codes and old names read,
	// a state inferred from the district or text), as queries and the
	// scorer resolve theirs.
	place := places.Resolve(c.Place)
	if place.State != "" {
		d[attrFieldState] = place.State
	}
	if place.District != "" {
		d[attrFieldDistrict] = place.District
	}
	if lo, hi, ref, ok := birthYears(c); ok {
		years := make([]string, 0, hi-lo+1+2*ageIndexMargin)
		for y := lo - ageIndexMargin; y <= hi+ageIndexMargin; y++ {
			years = append(years, partYear(p, y))
		}
		d[attrFieldPartYear] = years
		d[attrFieldBirth] = fmt.Sprintf("%d %d %d", lo, hi, ref)
	} else {
		d[attrFieldPartYear] = p + "/?"
	}
	if t, ok := c.ObservedOn.Time(); ok {
		d[attrFieldObserved] = t
	}
	return d
}
