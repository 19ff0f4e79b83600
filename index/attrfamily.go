package index

import (
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"

	"github.com/trackmatch/trackmatch/models"
)

// Family and home fields of the attribute index (issue 21): what a found
// child can still tell when it cannot give its own full name. Each is
// partitioned like the names (kind and sex), so that a query reaches only
// records of the other kind and a compatible sex.
const (
	attrPrefixGuardians = "guardians_" // + partition: source property of the two below
	attrPrefixGuardName = "guard_"     // + partition: folded tokens of every guardian's name
	attrPrefixGuardPhon = "gphon_"     // + partition: their phonetic keys
	attrPrefixHome      = "home_"      // + partition: source property of the two below
	attrPrefixVillage   = "village_"   // + partition: folded tokens of the village and police station
	attrPrefixVillPhon  = "vphon_"     // + partition: their phonetic keys
)

// Boosts of the family clauses. As for the child's names, the folded
// clause only breaks ties and the phonetic one ranks; a parent's name or
// a village is weaker evidence than the child's own name, and Bleve's
// inverse document frequency lets a rare one weigh more.
const (
	boostGuardFolded   = 0.1
	boostGuardPhonetic = 1.5
	boostVillFolded    = 0.1
	boostVillPhonetic  = 1.5
)

// addFamilyMappings adds the family and home fields to the document
// mapping; text makes a text field mapping with an analyzer.
func addFamilyMappings(dm *mapping.DocumentMapping, text func(name, analyzer string) *mapping.FieldMapping) {
	for _, p := range attrPartitions() {
		dm.AddFieldMappingsAt(attrPrefixGuardians+p,
			text(attrPrefixGuardName+p, analyzerNameFolded),
			text(attrPrefixGuardPhon+p, analyzerNamePhonetic))
		dm.AddFieldMappingsAt(attrPrefixHome+p,
			text(attrPrefixVillage+p, analyzerNameFolded),
			text(attrPrefixVillPhon+p, analyzerNamePhonetic))
	}
}

// addFamilyFields puts c's guardians' names and home village and police
// station in its document d, in partition p. Village names are analysed
// as names are (folded across scripts, phonetic keys for spellings).
func addFamilyFields(d map[string]interface{}, c *models.Child, p string) {
	var gs []string
	for _, g := range c.Guardians {
		if g.Name != "" {
			gs = append(gs, g.Name)
		}
	}
	if len(gs) > 0 {
		d[attrPrefixGuardians+p] = gs
	}
	var home []string
	for _, h := range []string{c.Home.Village, c.Home.PoliceStation} {
		if h != "" {
			home = append(home, h)
		}
	}
	if len(home) > 0 {
		d[attrPrefixHome+p] = home
	}
}

// familyGate returns the clauses of q's guardians' names and home village
// and police station in parts: they join the name gate, so that a parent's rare name or the
// village brings a candidate in even when the child's own name is missing
// or common. Their terms are bounded like the name terms.
func familyGate(q *models.Child, parts []string) []query.Query {
	var gs []string
	for _, g := range q.Guardians {
		gs = append(gs, g.Name)
	}
	var out []query.Query
	add := func(ns []string, folded, phonetic string, bf, bp float64, fuzzy bool) {
		tokens, keys := queryNameTerms(ns)
		for _, p := range parts {
			for _, t := range tokens {
				if len(t) > 1 {
					out = append(out, termQuery(folded+p, t, bf))
				}
				// A village a child says and a clerk writes ("Kishangadh"
				// for Kishangarh): one edit, as for the child's names.
				if n := utf8.RuneCountInString(t); fuzzy && n >= 5 && n <= attrMaxFuzzyRunes {
					fz := query.NewFuzzyQuery(t)
					fz.SetField(folded + p)
					fz.SetFuzziness(1)
					fz.SetBoost(boostFuzzy)
					out = append(out, fz)
				}
			}
			for _, k := range keys {
				if len(k) > 1 {
					out = append(out, termQuery(phonetic+p, k, bp))
				}
			}
		}
	}
	add(gs, attrPrefixGuardName, attrPrefixGuardPhon, boostGuardFolded, boostGuardPhonetic, false)
	var home []string
	for _, h := range []string{q.Home.Village, q.Home.PoliceStation} {
		if h != "" {
			home = append(home, h)
		}
	}
	add(home, attrPrefixVillage, attrPrefixVillPhon, boostVillFolded, boostVillPhonetic, true)
	return out
}
