package names

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Fold transliterates any supported Indic script to one Latin form,
// lowercases, strips diacritics and punctuation, and folds white space:
// "राहुल" and "Rahul" both give "rahul".
//
// Words are split at white space and punctuation (apostrophes inside a word
// are dropped: D'Souza → dsouza) and joined with single spaces. Devanagari,
// Bengali, Gurmukhi, Gujarati, Odia, Tamil, Telugu, Kannada and Malayalam
// are transliterated (see indic.go); other letters are decomposed (NFKD)
// and lose their marks (ā → a, ＲＡＨＵＬ → rahul; ß → ss); letters of
// other scripts are kept, lowercased. Input need not be normalised: Indic
// vowel signs typed in two parts and nukta letters typed with the combining
// nukta fold like their composed forms, without a normalisation pass.
// Already folded input is returned as is, without allocating.
func Fold(s string) string {
	if out, ok := foldASCII(s); ok {
		return out
	}
	var buf [96]byte
	return string(appendFold(buf[:0], s))
}

// foldASCII folds s when it is all ASCII: s itself when already folded (no
// allocation), ok=false when s has other characters.
func foldASCII(s string) (string, bool) {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= utf8.RuneSelf:
			return "", false
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
		case c == ' ' && i > 0 && i < len(s)-1 && s[i-1] != ' ':
		default:
			clean = false
		}
	}
	if clean {
		return s, true
	}
	var buf [96]byte
	return string(appendFold(buf[:0], s)), true
}

// appendFold appends Fold(s) to dst.
func appendFold(dst []byte, s string) []byte {
	start := len(dst)
	for i := 0; i < len(s); {
		ws, we, next := nextWord(s, i)
		i = next
		if ws == we || s[ws:we] == "@" {
			continue
		}
		mark := len(dst)
		if mark > start {
			dst = append(dst, ' ')
		}
		before := len(dst)
		dst = appendFoldWord(dst, s[ws:we])
		if len(dst) == before {
			dst = dst[:mark]
		}
	}
	return dst
}

// isApostrophe reports runes that join a word without being part of it.
func isApostrophe(r rune) bool {
	return r == '\'' || r == '\u2019' || r == '\u2018' || r == '\u02bc' || r == '`'
}

// isWordRune reports whether r belongs inside a word.
func isWordRune(r rune) bool {
	if r < utf8.RuneSelf {
		return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || isApostrophe(r)
	}
	if r == 0x0964 || r == 0x0965 { // danda, double danda: punctuation
		return false
	}
	if r >= indicFirst && r <= indicLast || r == zwj || r == zwnj || isApostrophe(r) || isInvisible(r) {
		return true
	}
	return unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r)
}

// nextWord finds the word starting at or after i: s[start:end], and where
// to continue. "@" is a word of its own (an alias mark).
func nextWord(s string, i int) (start, end, next int) {
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if r == '@' {
			return i, i + 1, i + 1
		}
		if isWordRune(r) && !isApostrophe(r) {
			break
		}
		i += n
	}
	start = i
	for i < len(s) {
		r, n := utf8.DecodeRuneInString(s[i:])
		if !isWordRune(r) {
			break
		}
		i += n
	}
	return start, i, i
}

// appendFoldWord folds one word (no separators inside) onto dst.
func appendFoldWord(dst []byte, w string) []byte { return appendFoldWordSchwa(dst, w, false) }

// appendFoldWordSchwa is appendFoldWord, keeping every inherent vowel of
// Indic letters when keepSchwa is set.
func appendFoldWordSchwa(dst []byte, w string, keepSchwa bool) []byte {
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			switch {
			case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
				dst = append(dst, c)
			case c >= 'A' && c <= 'Z':
				dst = append(dst, c+'a'-'A')
			}
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(w[i:])
		if sc, ok := scriptOf(r); ok {
			j := i + n
			for j < len(w) {
				r2, n2 := utf8.DecodeRuneInString(w[j:])
				if s2, ok := scriptOf(r2); !(ok && s2 == sc || r2 == zwj || r2 == zwnj) {
					break
				}
				j += n2
			}
			dst = appendIndic(dst, sc, w[i:j], keepSchwa)
			i = j
			continue
		}
		dst = appendFoldRune(dst, r, w[i:])
		i += n
	}
	return dst
}

// latinSpecial folds lowercase letters that have no decomposition; look
// them up lowercased.
var latinSpecial = map[rune]string{
	'ß': "ss", 'æ': "ae", 'œ': "oe", 'ø': "o", 'ł': "l", 'đ': "d", 'ð': "d",
	'þ': "th", 'ı': "i", 'ħ': "h", 'ŧ': "t", 'ŀ': "l", 'ĸ': "k", 'ŉ': "n", 'ſ': "s",
}

// appendFoldRune folds one non-ASCII, non-Indic rune r (rest is the text
// from r on, for the decomposition lookup).
func appendFoldRune(dst []byte, r rune, rest string) []byte {
	if unicode.IsMark(r) || r == zwj || r == zwnj || isApostrophe(r) {
		return dst
	}
	if s, ok := latinSpecial[unicode.ToLower(r)]; ok {
		return append(dst, s...)
	}
	if d := norm.NFKD.PropertiesString(rest).Decomposition(); len(d) > 0 {
		for len(d) > 0 {
			r2, n := utf8.DecodeRune(d)
			d = d[n:]
			switch {
			case r2 < utf8.RuneSelf:
				c := byte(r2)
				if c >= 'A' && c <= 'Z' {
					c += 'a' - 'A'
				}
				if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
					dst = append(dst, c)
				}
			case unicode.IsMark(r2):
			case latinSpecial[unicode.ToLower(r2)] != "":
				dst = append(dst, latinSpecial[unicode.ToLower(r2)]...) // Ǽ → Æ + ◌́ → ae
			case unicode.IsLetter(r2) || unicode.IsDigit(r2):
				dst = utf8.AppendRune(dst, unicode.ToLower(r2))
			}
		}
		return dst
	}
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return utf8.AppendRune(dst, unicode.ToLower(r))
	}
	return dst
}

// isInvisible reports characters that are part of no letter and no gap: a
// zero-width space, word joiner, soft hyphen or byte-order mark pasted
// inside a name. They stay inside the word and fold to nothing, so
// "Ra\u200bhul" is "rahul".
func isInvisible(r rune) bool {
	return r == 0x200B || r == 0x2060 || r == 0xFEFF || r == 0x00AD
}
