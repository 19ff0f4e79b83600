package eval

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/adrg/strutil/metrics"
	"golang.org/x/text/unicode/norm"
)

// The baseline is what a newcomer would build from off-the-shelf parts:
// every Indic script transliterated to IAST as Sanscript does it (each
// consonant carries its "a" unless a virama or vowel sign says otherwise:
// राम → rāma), diacritics stripped, lower-cased, and the whole name ranked
// by Jaro–Winkler (github.com/adrg/strutil) against every name in the
// gallery. No Go library keeps Sanscript's tables for the nine scripts, so
// iastTable below is a compact copy of them: the nine Brahmic blocks share
// one layout (the same offset is the same letter), which one table by
// offset covers, plus the few letters of single scripts (Tamil ழ ற ன,
// Malayalam chillus, Bengali ৎ).

// iastKind is what a code point of a Brahmic block is to the baseline.
type iastKind uint8

const (
	iastSkip iastKind = iota
	iastCons
	iastVowel
	iastSign
	iastVirama
	iastMark // anusvara, chandrabindu, visarga: a letter without vowel logic
)

// iastLetter is one offset of the shared layout: its kind and its IAST
// spelling without diacritics.
type iastLetter struct {
	kind iastKind
	lat  string
}

// iastTable is indexed by offset in a 128-code-point Brahmic block.
var iastTable = func() [128]iastLetter {
	var t [128]iastLetter
	set := func(from int, kind iastKind, lats ...string) {
		for i, l := range lats {
			if l != "" {
				t[from+i] = iastLetter{kind, l}
			}
		}
	}
	set(0x01, iastMark, "m", "m", "h")
	set(0x05, iastVowel, "a", "a", "i", "i", "u", "u", "r", "l", "e", "e", "e", "ai", "o", "o", "o", "au")
	set(0x15, iastCons, "k", "kh", "g", "gh", "n", "c", "ch", "j", "jh", "n", "t", "th", "d", "dh", "n",
		"t", "th", "d", "dh", "n", "n", "p", "ph", "b", "bh", "m", "y", "r", "r", "l", "l", "l", "v", "s", "s", "s", "h")
	set(0x3e, iastSign, "a", "i", "i", "u", "u", "r", "r", "e", "e", "e", "ai", "o", "o", "o", "au")
	set(0x4d, iastVirama, "-")
	set(0x4e, iastMark, "t") // Bengali khanda ta: a t without vowel
	set(0x50, iastMark, "om")
	set(0x57, iastSign, "au")
	set(0x58, iastCons, "q", "kh", "g", "z", "r", "rh", "f", "y")
	set(0x60, iastVowel, "r", "l")
	set(0x62, iastSign, "l", "l")
	set(0x7a, iastMark, "n", "n", "r", "l", "l", "k") // Malayalam chillus
	return t
}()

// BaselineFold is the baseline's form of a name: Indic letters to IAST
// without diacritics, other letters stripped of marks, lower-cased, every
// run of other characters one space.
func BaselineFold(s string) string {
	var b strings.Builder
	space := false
	put := func(str string) {
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteString(str)
	}
	rs := []rune(s)
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		if r >= 0x0900 && r <= 0x0D7F && r != 0x0964 && r != 0x0965 {
			l := iastTable[(r-0x0900)&0x7f]
			switch l.kind {
			case iastCons:
				put(l.lat)
				// The inherent a, unless a virama or vowel sign follows
				// (a nukta in between changes nothing).
				j := i + 1
				for j < len(rs) && rs[j] >= 0x0900 && rs[j] <= 0x0D7F && (rs[j]-0x0900)&0x7f == 0x3c {
					j++
				}
				if j < len(rs) && rs[j] >= 0x0900 && rs[j] <= 0x0D7F {
					if k := iastTable[(rs[j]-0x0900)&0x7f].kind; k == iastSign || k == iastVirama {
						continue
					}
				}
				b.WriteByte('a')
			case iastVowel, iastSign, iastMark:
				put(l.lat)
			}
			continue
		}
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			for _, d := range norm.NFD.String(string(r)) {
				if !unicode.IsMark(d) {
					var buf [utf8.UTFMax]byte
					n := utf8.EncodeRune(buf[:], unicode.ToLower(d))
					put(string(buf[:n]))
				}
			}
		case unicode.IsMark(r) || r == 0x200c || r == 0x200d:
		default:
			space = true
		}
	}
	return b.String()
}

// BaselineSimilarity is the Jaro–Winkler similarity of two baseline-folded
// names.
func BaselineSimilarity(a, b string) float64 {
	jw := metrics.JaroWinkler{CaseSensitive: true}
	return jw.Compare(a, b)
}
