package names

import "strings"

// Tokens returns the folded tokens of one name, without honorifics and words
// that do not identify a person (Kumar, Kumari, Sri, Smt, Baby, ...).
//
// The rules, all driven by the lists in data/:
//   - titles.txt (Sri, Smt, Mr, Km, Md is not one: it is Mohammad) and
//     words like "unknown" are always dropped;
//   - soft.txt (Kumar, Kumari, Devi, Bibi, Begum, Khatun, Baby, ...) are
//     dropped when the name has another identifying word, and kept when they
//     are the whole name ("Devi", "Baby");
//   - a relation marker (relations.txt: s/o, d/o, "son of", putra) ends the
//     child's name: "Rahul s/o Ramesh" is "rahul"; at the very start ("B/o
//     Rekha") the marker is dropped and the parent's name kept;
//   - courtesy suffixes (suffixes.txt) are cut from a word when three
//     letters remain: "Hetalben" is "hetal";
//   - a two- or three-letter word without a vowel that is not a known
//     abbreviation ("RK") is read as initials: "r", "k";
//   - alias words (aliases.txt: urf, alias, "@") separate names; Tokens
//     returns the tokens of all of them, in order (see Aliases).
func Tokens(s string) []string {
	var tokArr [24]tok
	var nameArr [4]nameSpan
	toks, names := parse(s, false, tokArr[:0], nameArr[:0])
	n := 0
	for _, ns := range names {
		n += ns.kb - ns.ka
	}
	if n == 0 {
		return nil
	}
	out := make([]string, 0, n)
	for _, ns := range names {
		for _, t := range ns.kepts(toks) {
			out = append(out, t.fold)
		}
	}
	return out
}

// Aliases splits one written name at alias words ("Raju urf Rajkumar",
// "Pappu @ Vikas") and returns each name as written, trimmed. A name
// without an alias word is returned alone; an empty name gives nil.
func Aliases(s string) []string {
	var tokArr [24]tok
	var nameArr [4]nameSpan
	_, names := parse(s, false, tokArr[:0], nameArr[:0])
	if len(names) == 0 {
		return nil
	}
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, n.text)
	}
	return out
}

// tok is one word of a parsed name.
type tok struct {
	raw     string // as written, for the exact level; "" when derived
	fold    string // folded form
	key     string // phonetic key (filled by Compare)
	loose   string // voicing-blind key, for Tamil tokens
	tamil   bool   // written in Tamil letters: voicing is not written
	initial bool   // a single letter
	family  bool   // a family, clan or caste name (family.txt)
	drop    bool   // a title or soft word that does not count
	indic   bool   // written in Indic letters
	// full is the folded form with every inherent vowel kept, when it
	// differs from fold (जवहर: fold javhar, full javahar); fullKey its key,
	// filled when first needed.
	full, fullKey string
}

// text is how the token is shown: as written when it was.
func (t *tok) text() string {
	if t.raw != "" {
		return t.raw
	}
	return t.fold
}

// parsedName is one alias of a written name, as Compare uses it.
type parsedName struct {
	text string // the alias as written
	all  []tok  // every word kept after relation markers, dropped ones flagged
	toks []tok  // the identifying words
}

// word is one written word of the input and its folded form.
type word struct {
	raw        string
	fold       string
	start, end int // byte offsets of raw in the input
	tamil      bool
	// indic: written in Indic letters only; oneLetter: and one letter
	// (a consonant or a vowel) with at most a vowel sign ("क", "दु").
	indic, oneLetter bool
	full             string // the fold with every inherent vowel kept, if different
}

// nameSpan is one alias found by parse: its text, and where its tokens
// are in the token slice: all of them, and the kept ones (the same range
// when nothing was dropped, else copies appended after).
type nameSpan struct {
	text   string
	a, b   int // all tokens: toks[a:b]
	ka, kb int // kept tokens: toks[ka:kb]
}

// alls returns the name's tokens.
func (n nameSpan) alls(toks []tok) []tok { return toks[n.a:n.b:n.b] }

// kepts returns the name's identifying tokens.
func (n nameSpan) kepts(toks []tok) []tok { return toks[n.ka:n.kb:n.kb] }

// parse splits s into aliases and tokens, appending to toks and names
// (callers pass slices of arrays on their stack) and returning them.
// Folded forms share one string. With keys, phonetic keys and family flags
// are filled in too.
func parse(s string, keys bool, toks []tok, names []nameSpan) ([]tok, []nameSpan) {
	var wordBuf [16]word
	words := wordBuf[:0]
	var foldBuf [96]byte
	buf := foldBuf[:0]
	type span struct{ a, b int }
	var spanBuf [16]span
	spans := spanBuf[:0]
	for i := 0; i < len(s); {
		ws, we, next := nextWord(s, i)
		i = next
		if ws == we {
			continue
		}
		raw := s[ws:we]
		a := len(buf)
		if raw != "@" {
			buf = appendFoldWord(buf, raw)
		} else {
			buf = append(buf, '@')
		}
		if len(buf) == a {
			continue
		}
		indic, one := indicShape(raw)
		words = append(words, word{raw: raw, start: ws, end: we, tamil: isTamil(raw), indic: indic, oneLetter: one})
		spans = append(spans, span{a, len(buf)})
	}
	if len(words) == 0 {
		return toks, names
	}
	folded := string(buf)
	for i := range words {
		w := &words[i]
		w.fold = folded[spans[i].a:spans[i].b]
		if w.indic {
			var fb [64]byte
			if full := appendFoldWordSchwa(fb[:0], w.raw, true); string(full) != w.fold {
				w.full = string(full)
			}
		}
	}
	for len(words) > 0 {
		j := 0
		for j < len(words) && !isAliasWord(words[j]) {
			j++
		}
		seg := words[:j]
		if j < len(words) {
			words = words[j+1:]
		} else {
			words = nil
		}
		if len(seg) == 0 {
			continue
		}
		first := len(toks)
		toks = appendNameTokens(toks, seg)
		if len(toks) == first {
			continue
		}
		if keys {
			withKeys(toks[first:])
		}
		ns := nameSpan{text: s[seg[0].start:seg[len(seg)-1].end], a: first, b: len(toks), ka: first, kb: len(toks)}
		dropped := false
		for i := first; i < ns.b; i++ {
			dropped = dropped || toks[i].drop
		}
		if dropped {
			ns.ka = len(toks)
			for i := first; i < ns.b; i++ {
				if !toks[i].drop {
					toks = append(toks, toks[i])
				}
			}
			ns.kb = len(toks)
		}
		names = append(names, ns)
	}
	return toks, names
}

// isTamil reports whether raw has a letter of the Tamil block
// (U+0B80-U+0BFF is UTF-8 E0 AE 80 - E0 AF BF).
func isTamil(raw string) bool {
	return strings.Contains(raw, "\xe0\xae") || strings.Contains(raw, "\xe0\xaf")
}

func isAliasWord(w word) bool { return w.raw == "@" || lists.aliases[w.fold] }

// relationAt returns how many words of seg, from i, form a relation marker
// (0 if none).
func relationAt(seg []word, i int) int {
	if i+1 < len(seg) {
		if lists.relations[seg[i].fold+" "+seg[i+1].fold] {
			return 2
		}
	}
	if lists.relations[seg[i].fold] {
		return 1
	}
	return 0
}

// appendNameTokens appends the tokens of one alias to toks.
func appendNameTokens(toks []tok, seg []word) []tok {
	start := len(toks)
	for i := 0; i < len(seg); {
		if n := relationAt(seg, i); n > 0 {
			if len(toks) > start {
				break // the child's name ends here
			}
			i += n // "B/o Rekha": keep the parent's name
			continue
		}
		w := seg[i]
		i++
		t := tok{raw: w.raw, fold: w.fold, tamil: w.tamil, indic: w.indic, full: w.full}
		if l, ok := lists.letters[w.fold]; ok && w.indic && i == 1 && len(seg) > 1 && lists.titles[w.fold] {
			// A letter's name that is also a title ("जी": G, or the
			// honorific -ji) is the initial when it opens the name: the
			// honorific follows a name ("Gandhi ji"), "जी. वडिवेल" is G. Vadivel.
			toks = append(toks, tok{raw: w.raw, fold: letterString(l), initial: true})
			continue
		}
		switch {
		case lists.titles[w.fold]:
			t.drop = true
			toks = append(toks, t)
			continue
		case lists.soft[w.fold]:
			t.drop = true
			toks = append(toks, t)
			continue
		}
		if w.indic && len(seg) > 1 {
			// An initial written in an Indic script: a Latin letter's name
			// ("एस" S, "आर" R) or one letter ("क।", "दु.").
			l, ok := lists.letters[w.fold]
			if !ok && w.oneLetter {
				l, ok = w.fold[0], w.fold[0] >= 'a' && w.fold[0] <= 'z'
			}
			if ok {
				toks = append(toks, tok{raw: w.raw, fold: letterString(l), initial: true})
				continue
			}
		}
		t.fold = stripSuffix(t.fold)
		if isInitials(t.fold) {
			for k := 0; k < len(t.fold); k++ {
				toks = append(toks, tok{fold: t.fold[k : k+1], initial: true})
			}
			if len(t.fold) == 1 {
				toks[len(toks)-1].raw = w.raw
			}
			continue
		}
		toks = append(toks, t)
	}
	// Soft words stay when nothing else identifies the child ("Devi",
	// "Baby"); titles never do.
	kept := false
	for k := start; k < len(toks); k++ {
		if !toks[k].drop {
			kept = true
			break
		}
	}
	if !kept {
		for k := start; k < len(toks); k++ {
			if lists.soft[toks[k].fold] {
				toks[k].drop = false
				kept = true
			}
		}
	}
	if !kept {
		return toks[:start]
	}
	return toks
}

// stripSuffix cuts a courtesy suffix ("ben", "bhai") off a folded word
// when at least three letters remain.
func stripSuffix(f string) string {
	for _, suf := range lists.suffixes {
		if len(f) >= len(suf)+3 && strings.HasSuffix(f, suf) {
			return f[:len(f)-len(suf)]
		}
	}
	return f
}

// isInitials reports whether a folded word is one letter, or two or three
// letters without a vowel that are not a known abbreviation ("rk", not
// "md" or "sk").
func isInitials(f string) bool {
	if len(f) == 1 {
		return f[0] >= 'a' && f[0] <= 'z'
	}
	if len(f) > 3 {
		return false
	}
	for i := 0; i < len(f); i++ {
		c := f[i]
		if isVowel(c) || c == 'y' || c < 'a' || c > 'z' {
			return false
		}
	}
	var buf [8]byte
	if _, ok := lists.classes[string(lists.appendKey(buf[:0], f))]; ok {
		return false
	}
	return true
}

// letterStrings holds the one-letter strings "a".."z", so that an initial
// needs no allocation.
const letterStrings = "abcdefghijklmnopqrstuvwxyz"

// letterString is the one-letter string of a lowercase Latin letter.
func letterString(c byte) string { return letterStrings[c-'a' : c-'a'+1] }

// indicShape reports whether raw is written in Indic letters only (signs,
// joiners and nukta included), and whether it is a single letter: one
// consonant or independent vowel, with at most signs.
func indicShape(raw string) (indic, oneLetter bool) {
	letters := 0
	for _, r := range raw {
		if r == zwj || r == zwnj {
			continue
		}
		if r < indicFirst || r > indicLast || r == 0x0964 || r == 0x0965 {
			return false, false
		}
		switch off := (r - indicFirst) & 0x7f; {
		case off >= 0x05 && off <= 0x14, off >= 0x15 && off <= 0x39, off >= 0x58 && off <= 0x61, off >= 0x7a:
			letters++
		}
	}
	return raw != "", letters == 1
}
