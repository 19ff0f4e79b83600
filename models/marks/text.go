package marks

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// token is one word of a description, normalised for lookup, with its byte
// span in the original text; a separator token (comma, full stop, danda)
// ends a phrase and has no word.
type token struct {
	word       string
	start, end int
	sep        bool
}

// tokenize splits s into words and phrase separators. Words are runs of
// letters, digits and combining marks (Devanagari vowel signs are marks);
// zero-width joiners and soft hyphens inside a word are dropped.
func tokenize(s string) []token {
	toks := make([]token, 0, len(s)/5+1)
	start := -1
	flush := func(end int) {
		if start >= 0 {
			if w := normalizeWord(s[start:end]); w != "" {
				toks = append(toks, token{word: w, start: start, end: end})
			}
			start = -1
		}
	}
	for i, r := range s {
		switch {
		case r == utf8.RuneError:
			flush(i)
		case unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || isIgnorable(r):
			if start < 0 {
				start = i
			}
		case isSeparator(r):
			flush(i)
			toks = append(toks, token{start: i, end: i + utf8.RuneLen(r), sep: true})
		default:
			flush(i)
		}
	}
	flush(len(s))
	return toks
}

// isSeparator reports whether r ends a phrase: ",", ";", ":", ".", "&",
// "+", brackets, line breaks, the Devanagari danda and their full-width forms.
// "/" is not one: "N/A" must stay one phrase.
func isSeparator(r rune) bool {
	switch r {
	case ',', ';', ':', '.', '&', '+', '!', '?', '(', ')', '[', ']', '{', '}', '\n', '\r', '|',
		'\u0964', '\u0965', // । ॥
		'\uff0c', '\uff1b', '\uff1a', '\uff0e', '\u3001', '\u3002', '\u2022': // full-width , ; : . and bullets
		return true
	}
	return false
}

// isIgnorable reports runes that may sit inside a word without changing it.
func isIgnorable(r rune) bool {
	switch r {
	case '\u200c', '\u200d', '\u00ad', '\u2060', '\ufeff': // ZWNJ, ZWJ, soft hyphen, word joiner, BOM
		return true
	}
	return false
}

// normalizeWord folds one word for lookup: compatibility forms (full-width
// letters) to plain ones, Latin accents dropped, lower case, invisible
// joiners removed, and in Latin words doubled vowels folded ("aa" → "a",
// "ee" → "i", "oo" → "u"), so that "baayan" and "bayan", "peeth" and "pith"
// are one word.
func normalizeWord(w string) string {
	if isASCII(w) {
		return foldVowels(strings.ToLower(w))
	}
	w = norm.NFKD.String(w)
	var b strings.Builder
	ascii := true
	for _, r := range w {
		if (r >= 0x300 && r <= 0x36f) || isIgnorable(r) {
			continue // combining Latin accent, joiner
		}
		r = unicode.ToLower(r)
		if r >= utf8.RuneSelf {
			ascii = false
		}
		b.WriteRune(r)
	}
	w = norm.NFC.String(b.String())
	if !ascii {
		return w
	}
	return foldVowels(w)
}

// foldVowels folds doubled vowels of a Latin word the way Hindi is
// transliterated inconsistently: aa → a, ee/ii → i, oo/uu → u.
func foldVowels(w string) string {
	if !strings.ContainsAny(w, "aeiou") {
		return w
	}
	b := make([]byte, 0, len(w))
	for i := 0; i < len(w); i++ {
		c := w[i]
		if i+1 < len(w) && w[i+1] == c {
			switch c {
			case 'a', 'i', 'u':
				b = append(b, c)
				i++
				continue
			case 'e':
				b = append(b, 'i')
				i++
				continue
			case 'o':
				b = append(b, 'u')
				i++
				continue
			}
		}
		b = append(b, c)
	}
	return string(b)
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
