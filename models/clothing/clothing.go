// Package clothing reads what a child wore from free text in English and
// common Hindi words, in Latin or Devanagari letters ("lal kameez", "नीली
// फ्रॉक", "blue checked shirt"), into canonical garments, colours and
// patterns. It is the one vocabulary of clothing: scoring and the
// synthetic generator both use it.
package clothing

import (
	"slices"
	"strings"
	"unicode"
)

// Garment groups: garments that a describer may name one for the other
// ("kurta" and "kameez", "pant" and "jeans") share a group, so that the two
// records agree on the group.
var garments = map[string]string{
	"shirt": "shirt", "kameez": "kurta", "kamiz": "kurta", "qameez": "kurta", "kurta": "kurta", "kurti": "kurta",
	"tshirt": "tshirt", "t-shirt": "tshirt", "tee": "tshirt", "banian": "vest", "baniyan": "vest", "vest": "vest", "ganji": "vest",
	"pant": "trousers", "pants": "trousers", "trouser": "trousers", "trousers": "trousers", "paint": "trousers", "jeans": "trousers",
	"pajama": "trousers", "pyjama": "trousers", "payjama": "trousers", "salwar": "salwar", "shalwar": "salwar", "leggings": "salwar",
	"shorts": "shorts", "nikker": "shorts", "half-pant": "shorts", "halfpant": "shorts", "chaddi": "shorts",
	"frock": "frock", "dress": "frock", "gown": "frock", "skirt": "skirt", "lehenga": "skirt", "ghagra": "skirt",
	"saree": "saree", "sari": "saree", "dupatta": "dupatta", "chunni": "dupatta", "chunri": "dupatta", "odhni": "dupatta",
	"sweater": "sweater", "swetar": "sweater", "jersey": "sweater", "jacket": "jacket", "coat": "jacket", "hoodie": "jacket",
	"uniform": "uniform", "lungi": "lungi", "dhoti": "lungi", "burqa": "burqa", "burkha": "burqa",
	"chappal": "sandals", "chappals": "sandals", "slippers": "sandals", "sandal": "sandals", "sandals": "sandals",
	"shoes": "shoes", "shoe": "shoes", "joota": "shoes", "juta": "shoes", "cap": "cap", "topi": "cap",
	// Devanagari
	"कमीज": "kurta", "कमीज़": "kurta", "कुर्ता": "kurta", "शर्ट": "shirt", "पैंट": "trousers", "पेंट": "trousers", "पजामा": "trousers",
	"फ्रॉक": "frock", "फ्राक": "frock", "सलवार": "salwar", "साड़ी": "saree", "दुपट्टा": "dupatta", "स्वेटर": "sweater",
	"चप्पल": "sandals", "जूते": "shoes", "टोपी": "cap", "निकर": "shorts", "बनियान": "vest", "लहंगा": "skirt",
}

var colours = map[string]string{
	"red": "red", "lal": "red", "laal": "red", "maroon": "red", "pink": "pink", "gulabi": "pink",
	"blue": "blue", "neela": "blue", "nila": "blue", "neeli": "blue", "nili": "blue", "navy": "blue", "aasmani": "blue", "asmani": "blue",
	"green": "green", "hara": "green", "hari": "green", "hare": "green", "yellow": "yellow", "peela": "yellow", "pila": "yellow", "peeli": "yellow", "pili": "yellow",
	"black": "black", "kala": "black", "kaala": "black", "kali": "black", "kaali": "black",
	"white": "white", "safed": "white", "sufed": "white", "saphed": "white",
	"orange": "orange", "narangi": "orange", "kesari": "orange", "bhagwa": "orange",
	"brown": "brown", "bhura": "brown", "grey": "grey", "gray": "grey", "slaty": "grey",
	"purple": "purple", "baingani": "purple", "jamuni": "purple", "violet": "purple", "cream": "white",
	"लाल": "red", "नीला": "blue", "नीली": "blue", "हरा": "green", "हरी": "green", "पीला": "yellow", "पीली": "yellow",
	"काला": "black", "काली": "black", "सफेद": "white", "सफ़ेद": "white", "गुलाबी": "pink", "भूरा": "brown", "नारंगी": "orange",
}

var patterns = map[string]string{
	"checked": "checked", "check": "checked", "checks": "checked", "chequered": "checked", "khaane": "checked", "चेक": "checked",
	"striped": "striped", "stripes": "striped", "stripe": "striped", "lining": "striped", "dhaari": "striped", "dhari": "striped", "धारी": "striped",
	"printed": "printed", "print": "printed", "floral": "printed", "flowers": "printed", "phool": "printed", "phoolon": "printed", "फूल": "printed",
	"plain": "plain", "sada": "plain", "saada": "plain", "सादा": "plain",
	"dotted": "dotted", "dots": "dotted", "polka": "dotted", "bindi": "dotted",
}

// Description is what one record says the child wore, in canonical words,
// each list sorted and without repeats.
type Description struct {
	Garments, Colours, Patterns []string
}

// Empty reports whether nothing was read.
func (d Description) Empty() bool {
	return len(d.Garments) == 0 && len(d.Colours) == 0 && len(d.Patterns) == 0
}

// Read reads every text given (garment, colour, pattern and free text
// fields alike: a word is what it is wherever it was written).
func Read(texts ...string) Description {
	var d Description
	for _, t := range texts {
		for _, w := range words(t) {
			if g, ok := garments[w]; ok {
				d.Garments = append(d.Garments, g)
			}
			if c, ok := colours[w]; ok {
				d.Colours = append(d.Colours, c)
			}
			if p, ok := patterns[w]; ok {
				d.Patterns = append(d.Patterns, p)
			}
		}
	}
	for _, s := range []*[]string{&d.Garments, &d.Colours, &d.Patterns} {
		slices.Sort(*s)
		*s = slices.Compact(*s)
	}
	return d
}

// words lower-cases t and splits it at anything but letters, marks,
// digits and hyphens; a trailing "s" is kept (the maps hold plurals).
func words(t string) []string {
	return strings.FieldsFunc(strings.ToLower(t), func(r rune) bool {
		return !(unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r) || r == '-')
	})
}

// Shared returns the words in both a and b (each sorted).
func Shared(a, b []string) []string {
	var out []string
	for _, x := range a {
		if _, ok := slices.BinarySearch(b, x); ok {
			out = append(out, x)
		}
	}
	return out
}
