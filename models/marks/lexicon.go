package marks

import (
	"bufio"
	"embed"
	"fmt"
	"sort"
	"strings"
	"sync"
)

// data holds the word lists; see data/README.txt for their format.
//
//go:embed data/*.txt
var data embed.FS

// kind is what a phrase of the lexicon stands for.
type kind uint8

const (
	kindType     kind = iota + 1 // a mark type: mole, scar, ...
	kindSide                     // left or right
	kindPart                     // a body part
	kindNear                     // "near", "below": the next part is a landmark
	kindNegation                 // "no", "nil": the phrase describes no mark
	kindAnd                      // "and", "aur": joins phrases like a comma
	kindIgnore                   // consumed and ignored ("identification mark")
)

// phrase is one entry of the lexicon: its words, normalised, and meaning.
type phrase struct {
	words []string
	kind  kind
	value string // canonical type, side or part; "" for the other kinds
}

// lexicon is the parsed word lists. It is built once from the embedded data
// and never changed afterwards.
type lexicon struct {
	byFirst  map[string][]phrase // phrases by first word, longest first
	fuzzy    []phrase            // one-word types and parts long enough to match with a typo
	region   map[string]string   // canonical part -> region
	adjacent map[[2]string]bool  // pairs of adjacent parts, both orders
	akin     map[[2]string]bool  // pairs of akin types, both orders
	types    map[string]bool     // canonical types
	midline  map[string]bool     // parts on the body's midline
}

// fuzzyMinLen is the shortest word matched with one typo: shorter words have
// too many neighbours ("cheak" could be many things; "forhead" is one).
const fuzzyMinLen = 6

// lex returns the lexicon, loading it on first use. The data is compiled in
// and checked by the tests, so a load error is a build defect: it panics.
var lex = sync.OnceValue(func() *lexicon {
	lx, err := loadLexicon()
	if err != nil {
		panic("marks: " + err.Error())
	}
	return lx
})

func loadLexicon() (*lexicon, error) {
	lx := &lexicon{
		byFirst:  map[string][]phrase{},
		region:   map[string]string{},
		adjacent: map[[2]string]bool{},
		akin:     map[[2]string]bool{},
		types:    map[string]bool{},
		midline:  map[string]bool{},
	}
	seen := map[string]phrase{} // normalised phrase -> its meaning, to refuse ambiguity
	add := func(file, key string, k kind, words []string) error {
		p := phrase{words: words, kind: k}
		if k == kindType || k == kindSide || k == kindPart {
			p.value = key
		}
		id := strings.Join(words, " ")
		if old, ok := seen[id]; ok {
			if old.kind != p.kind || old.value != p.value {
				return fmt.Errorf("%s: %q means both %s and %s", file, id, describeKind(old), describeKind(p))
			}
			return nil
		}
		seen[id] = p
		lx.byFirst[words[0]] = append(lx.byFirst[words[0]], p)
		if len(words) == 1 && len([]rune(words[0])) >= fuzzyMinLen && (k == kindType || k == kindPart) {
			lx.fuzzy = append(lx.fuzzy, p)
		}
		if k == kindType {
			lx.types[key] = true
		}
		return nil
	}
	kinds := map[string]kind{"near": kindNear, "negation": kindNegation, "and": kindAnd, "ignore": kindIgnore}
	for _, f := range []struct {
		name string
		kind func(key string) (kind, bool)
	}{
		{"types.txt", func(string) (kind, bool) { return kindType, true }},
		{"sides.txt", func(key string) (kind, bool) { return kindSide, key == SideLeft || key == SideRight }},
		{"parts.txt", func(string) (kind, bool) { return kindPart, true }},
		{"words.txt", func(key string) (kind, bool) { k, ok := kinds[key]; return k, ok }},
	} {
		err := readList(f.name, true, func(key string, phrases [][]string) error {
			k, ok := f.kind(key)
			if !ok {
				return fmt.Errorf("%s: unknown key %q", f.name, key)
			}
			for _, words := range phrases {
				if err := add(f.name, key, k, words); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	parts := map[string]bool{}
	for _, ps := range lx.byFirst {
		for _, p := range ps {
			if p.kind == kindPart {
				parts[p.value] = true
			}
		}
	}
	err := readList("regions.txt", false, func(region string, members [][]string) error {
		for _, m := range members {
			part := m[0]
			if !parts[part] {
				return fmt.Errorf("regions.txt: %q is not a part in parts.txt", part)
			}
			if old, ok := lx.region[part]; ok && old != region {
				return fmt.Errorf("regions.txt: %q is in both %s and %s", part, old, region)
			}
			lx.region[part] = region
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for part := range parts {
		if lx.region[part] == "" {
			return nil, fmt.Errorf("regions.txt: part %q has no region", part)
		}
	}
	pairs := func(file string, valid map[string]bool, into map[[2]string]bool) error {
		return readList(file, false, func(key string, others [][]string) error {
			if !valid[key] {
				return fmt.Errorf("%s: %q is not known", file, key)
			}
			for _, o := range others {
				other := o[0]
				if !valid[other] {
					return fmt.Errorf("%s: %q is not known", file, other)
				}
				into[[2]string{key, other}] = true
				into[[2]string{other, key}] = true
			}
			return nil
		})
	}
	if err := pairs("adjacent.txt", parts, lx.adjacent); err != nil {
		return nil, err
	}
	if err := pairs("akin.txt", lx.types, lx.akin); err != nil {
		return nil, err
	}
	err = readList("midline.txt", false, func(key string, ps [][]string) error {
		for _, p := range ps {
			if !parts[p[0]] {
				return fmt.Errorf("midline.txt: %q is not a part in parts.txt", p[0])
			}
			lx.midline[p[0]] = true
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for first, ps := range lx.byFirst {
		sort.SliceStable(ps, func(i, j int) bool { return len(ps[i].words) > len(ps[j].words) })
		lx.byFirst[first] = ps
	}
	sort.Slice(lx.fuzzy, func(i, j int) bool { return lx.fuzzy[i].words[0] < lx.fuzzy[j].words[0] })
	return lx, nil
}

// readList parses one data file, calling fn with each key and its phrases.
// With words, each phrase is normalised into words for matching against text;
// without, each is one canonical name, as written.
func readList(name string, words bool, fn func(key string, phrases [][]string) error) error {
	f, err := data.Open("data/" + name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		if strings.TrimSpace(line) == "" {
			continue
		}
		key, rest, ok := strings.Cut(line, ":")
		key = strings.TrimSpace(key)
		if !ok || key == "" {
			return fmt.Errorf("%s:%d: want \"key: phrase, phrase\"", name, n)
		}
		var phrases [][]string
		for _, raw := range strings.Split(rest, ",") {
			var ws []string
			if words {
				for _, t := range tokenize(raw) {
					ws = append(ws, t.word)
				}
			} else if raw = strings.TrimSpace(raw); raw != "" {
				ws = []string{raw}
			}
			if len(ws) == 0 {
				return fmt.Errorf("%s:%d: empty phrase", name, n)
			}
			phrases = append(phrases, ws)
		}
		if err := fn(key, phrases); err != nil {
			return err
		}
	}
	return sc.Err()
}

func describeKind(p phrase) string {
	names := map[kind]string{kindType: "type", kindSide: "side", kindPart: "part", kindNear: "near",
		kindNegation: "negation", kindAnd: "and", kindIgnore: "ignore"}
	if p.value != "" {
		return names[p.kind] + " " + p.value
	}
	return names[p.kind]
}

// lookup finds the longest phrase that starts at words[i]; n is how many
// words it spans, 0 when none does.
func (lx *lexicon) lookup(words []string, i int) (p phrase, n int) {
	for _, cand := range lx.byFirst[words[i]] {
		if i+len(cand.words) > len(words) {
			continue
		}
		ok := true
		for j, w := range cand.words[1:] {
			if words[i+1+j] != w {
				ok = false
				break
			}
		}
		if ok {
			return cand, len(cand.words)
		}
	}
	return phrase{}, 0
}

// lookupWord finds what one word stands for when no phrase starts with it:
// first without a plural ending, then, for long words, with one typo.
func (lx *lexicon) lookupWord(w string) (phrase, bool) {
	for _, suffix := range []string{"s", "es"} {
		if stem, ok := strings.CutSuffix(w, suffix); ok && len(stem) >= 3 {
			for _, cand := range lx.byFirst[stem] {
				if len(cand.words) == 1 {
					return cand, true
				}
			}
		}
	}
	if len([]rune(w)) < fuzzyMinLen {
		return phrase{}, false
	}
	var found phrase
	hits := 0
	for _, cand := range lx.fuzzy {
		if !withinOneEdit(w, cand.words[0]) {
			continue
		}
		if hits > 0 && (cand.kind != found.kind || cand.value != found.value) {
			return phrase{}, false // ambiguous typo: guess nothing
		}
		found, hits = cand, hits+1
	}
	return found, hits > 0
}

// withinOneEdit reports whether a and b differ by at most one insertion,
// deletion, substitution or swap of adjacent letters.
func withinOneEdit(a, b string) bool {
	x, y := []rune(a), []rune(b)
	if len(x) > len(y) {
		x, y = y, x
	}
	if len(y)-len(x) > 1 {
		return false
	}
	i := 0
	for i < len(x) && x[i] == y[i] {
		i++
	}
	if i == len(x) {
		return true
	}
	if len(x) == len(y) {
		if string(x[i+1:]) == string(y[i+1:]) {
			return true // substitution
		}
		return i+1 < len(x) && x[i] == y[i+1] && x[i+1] == y[i] && string(x[i+2:]) == string(y[i+2:])
	}
	return string(x[i:]) == string(y[i+1:]) // insertion
}
