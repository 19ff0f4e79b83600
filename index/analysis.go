package index

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/single"
	"github.com/blevesearch/bleve/v2/registry"

	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/marks"
	"github.com/trackmatch/trackmatch/models/names"
	"github.com/trackmatch/trackmatch/models/places"
)

// Bleve looks analyzers up by name in its process-wide registry, both when
// the mapping is built and every time a stored index is opened (the mapping
// is persisted with the names only). The init below registers trackmatch's
// tokenizers, token filters and analyzers; importing package index is
// therefore what makes an attribute index openable, and any other program
// that opens one (a debugging tool, bleve's CLI) must import this package.
//
// Each analyzer is a thin wrapper around a function also used to build
// queries (nameTerms, phoneticTerms, placeTerm, markTerms), so that indexed
// terms and queried terms cannot drift apart.
const (
	analyzerNameFolded   = "trackmatch_name_folded"   // names.Tokens: one folded token per name word
	analyzerNamePhonetic = "trackmatch_name_phonetic" // phoneticTerms: names.Key and a tagged names.LooseKey of each token, and names.SearchKeys
	analyzerPlace        = "trackmatch_place"         // a whole state or district as one folded term
	analyzerMarks        = "trackmatch_marks"         // marks.Parse: type, type/region, type/region/side

	tokenizerName         = "trackmatch_name"
	tokenizerNamePhonetic = "trackmatch_name_phonetic"
	tokenizerMarks        = "trackmatch_marks"
	tokenFilterPlace      = "trackmatch_place_fold"
)

// analysisVersion is bumped whenever the mapping or the meaning of an
// analyzer changes in this package (4: place fields hold places.Resolve's
// names; 5: guardians' names and home villages). Changes in models/names, models/marks or models/places are caught
// without a bump by analysisFingerprint.
const analysisVersion = 5

func init() {
	must := func(err error) {
		if err != nil {
			panic(fmt.Sprintf("index: register bleve analysis: %v", err))
		}
	}
	must(registry.RegisterTokenizer(tokenizerName, func(map[string]interface{}, *registry.Cache) (analysis.Tokenizer, error) {
		return nameTokenizer{}, nil
	}))
	must(registry.RegisterTokenizer(tokenizerMarks, func(map[string]interface{}, *registry.Cache) (analysis.Tokenizer, error) {
		return termsTokenizer(markTerms), nil
	}))
	must(registry.RegisterTokenizer(tokenizerNamePhonetic, func(map[string]interface{}, *registry.Cache) (analysis.Tokenizer, error) {
		return termsTokenizer(phoneticTerms), nil
	}))
	must(registry.RegisterTokenFilter(tokenFilterPlace, func(map[string]interface{}, *registry.Cache) (analysis.TokenFilter, error) {
		return mapFilter(placeTerm), nil
	}))
	must(registry.RegisterAnalyzer(analyzerNameFolded, analyzerOf(tokenizerName)))
	must(registry.RegisterAnalyzer(analyzerNamePhonetic, analyzerOf(tokenizerNamePhonetic)))
	must(registry.RegisterAnalyzer(analyzerPlace, analyzerOf(single.Name, tokenFilterPlace)))
	must(registry.RegisterAnalyzer(analyzerMarks, analyzerOf(tokenizerMarks)))
}

// analyzerOf builds an analyzer constructor from registered components.
func analyzerOf(tokenizer string, filters ...string) registry.AnalyzerConstructor {
	return func(_ map[string]interface{}, cache *registry.Cache) (analysis.Analyzer, error) {
		tok, err := cache.TokenizerNamed(tokenizer)
		if err != nil {
			return nil, err
		}
		a := &analysis.DefaultAnalyzer{Tokenizer: tok}
		for _, name := range filters {
			f, err := cache.TokenFilterNamed(name)
			if err != nil {
				return nil, err
			}
			a.TokenFilters = append(a.TokenFilters, f)
		}
		return a, nil
	}
}

// termsTokenizer turns a function from text to terms into a Bleve tokenizer.
// The terms are not substrings of the input (they are folded or parsed), so
// every token spans the whole input; nothing highlights these fields.
type termsTokenizer func(string) []string

// Tokenize implements analysis.Tokenizer.
func (f termsTokenizer) Tokenize(input []byte) analysis.TokenStream {
	terms := f(string(input))
	ts := make(analysis.TokenStream, 0, len(terms))
	for i, t := range terms {
		ts = append(ts, &analysis.Token{
			Start:    0,
			End:      len(input),
			Term:     []byte(t),
			Position: i + 1,
			Type:     analysis.AlphaNumeric,
		})
	}
	return ts
}

// nameTokenizer is the folded-name analysis: nameTerms.
type nameTokenizer struct{}

// Tokenize implements analysis.Tokenizer.
func (nameTokenizer) Tokenize(input []byte) analysis.TokenStream {
	return termsTokenizer(nameTerms).Tokenize(input)
}

// mapFilter rewrites each token's term; tokens that map to "" are dropped.
type mapFilter func(string) string

// Filter implements analysis.TokenFilter.
func (f mapFilter) Filter(in analysis.TokenStream) analysis.TokenStream {
	out := in[:0]
	for _, t := range in {
		term := f(string(t.Term))
		if term == "" {
			continue
		}
		t.Term = []byte(term)
		out = append(out, t)
	}
	return out
}

// nameTerms is the folded-name analysis: the identifying tokens of one name.
func nameTerms(name string) []string {
	var out []string
	for _, t := range names.Tokens(name) {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

// phoneticTerms is the phonetic-name analysis of one name: the phonetic
// keys of each of its tokens, then its names.SearchKeys (words joined,
// inherent vowels kept) not already among them.
func phoneticTerms(name string) []string {
	tamil := writtenInTamil(name)
	var out []string
	seen := map[string]bool{}
	for _, t := range nameTerms(name) {
		for _, k := range phoneticKeys(t, tamil) {
			seen[k] = true
			out = append(out, k)
		}
	}
	for _, k := range names.SearchKeys(name) {
		if !seen[k] {
			seen[k] = true
			out = append(out, k)
		}
	}
	return out
}

// Loose-key prefixes. Tamil letters do not mark voicing (கீதா folds to
// "kitha"), so names.LooseKey, which folds voicing, is indexed for every
// token, tagged by whether the name was written in Tamil; a query asks for
// the loose keys of Tamil-written records, and, when it is Tamil-written
// itself, of every record. Loose keys so meet only when one side is Tamil,
// as in names.Compare; elsewhere voicing is evidence (Geeta is not Kita).
const (
	looseTamil = "~t:"
	looseOther = "~:"
)

// phoneticKeys are the phonetic terms of one folded token: names.Key, and
// the tagged loose key.
func phoneticKeys(token string, tamil bool) []string {
	k := names.Key(token)
	if k == "" {
		return nil
	}
	tag := looseOther
	if tamil {
		tag = looseTamil
	}
	return []string{k, tag + names.LooseKey(token)}
}

// queryLooseKeys are the loose-key terms a query token asks for.
func queryLooseKeys(token string, tamil bool) []string {
	l := names.LooseKey(token)
	if l == "" {
		return nil
	}
	if tamil {
		return []string{looseTamil + l, looseOther + l}
	}
	return []string{looseTamil + l}
}

// writtenInTamil reports whether s has letters of the Tamil script.
func writtenInTamil(s string) bool {
	for _, r := range s {
		if r >= 0x0B80 && r <= 0x0BFF {
			return true
		}
	}
	return false
}

// placeTerm is the place analysis: the models/places key of a resolved
// state or district (documents hold places.Resolve's names), "" for none.
func placeTerm(s string) string { return places.Key(s) }

// markTerms turns free-text marks into index terms at three precisions, so
// that "mole on left cheek" meets "til on the face" (mole/face) and a
// description with the side agrees more strongly (mole/face/left). The
// region, not the part, is used: people describe the same mark as on the
// cheek, near the eye or on the face.
func markTerms(text string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, m := range marks.Parse(text) {
		typ := strings.ToLower(strings.TrimSpace(m.Type))
		if typ == "" {
			continue
		}
		add(typ)
		region := strings.ToLower(strings.TrimSpace(marks.Region(m.Part)))
		if region == "" {
			continue
		}
		add(typ + "/" + region)
		if side := strings.ToLower(strings.TrimSpace(m.Side)); side != "" {
			add(typ + "/" + region + "/" + side)
		}
	}
	return out
}

// markPrecision is how many parts a mark term has: 1 type, 2 type/region,
// 3 type/region/side.
func markPrecision(term string) int { return strings.Count(term, "/") + 1 }

// analysisFingerprint identifies what the analyzers make of text today: the
// mapping version plus a hash of the analysis of fixed probes (names in
// several scripts and spellings, places, marks). An index written under
// another fingerprint holds terms that queries would no longer produce, so
// any change in models/names, models/marks or models/places makes existing
// indexes stale.
func analysisFingerprint() string {
	probeNames := []string{
		"Rahul Kumar", "राहुल", "রাহুল", "Shaikh Imran", "Sheikh", "Mohd. Aamir", "मोहम्मद आमिर",
		"Pooja Kumari", "पूजा", "Lakshmi", "லட்சுமி", "Gurpreet Kaur", "ਗੁਰਪ੍ਰੀਤ", "Baby", "Sri Venkatesh",
		"Chhotu", "Md Rafiq", "Srinivas", "శ్రీనివాస్", "Priyanka Das", "প্রিয়াঙ্কা",
	}
	probePlaces := []models.Place{
		{District: "Dist. Pune"}, {State: "PUNE"}, {District: "पुणे"}, {State: "WB", District: "North 24 Parganas"},
		{State: "U.P.", District: "Allahabad"}, {District: "Pune City"}, {District: "जिला Bombay"},
		{Text: "found at Patna junction, Bihar"}, {State: "Orissa"},
	}
	probeMarks := []string{
		"black mole on left cheek", "til on left side of face", "jalne ka nishan daayan haath",
		"scar above right eye, birthmark on back", "tattoo of OM on right forearm",
	}
	h := sha256.New()
	fmt.Fprintf(h, "v%d\n", analysisVersion)
	for _, n := range probeNames {
		fmt.Fprintf(h, "n %q %q %q\n", n, nameTerms(n), phoneticTerms(n))
	}
	for _, p := range probePlaces {
		r := places.Resolve(p)
		fmt.Fprintf(h, "p %q %q %q %q %q\n", p.State, p.District, p.Text, placeTerm(r.State), placeTerm(r.District))
	}
	for _, m := range probeMarks {
		fmt.Fprintf(h, "m %q %q\n", m, markTerms(m))
	}
	return fmt.Sprintf("v%d-%s", analysisVersion, hex.EncodeToString(h.Sum(nil))[:16])
}
