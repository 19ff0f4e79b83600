package names

// Transliteration of the nine Brahmic scripts of India to the Latin
// spelling Indians use for names.
//
// The scripts share one layout: each Unicode block is 128 code points, and
// the same offset is the same letter in every block (क U+0915, ক U+0995,
// ਕ U+0A15, ક U+0A95, କ U+0B15, க U+0B95, క U+0C15, ಕ U+0C95, ക U+0D15 are
// all offset 0x15, "ka"). So there is one table by offset, plus a short list
// of per-script exceptions (indicTables), plus per-script spelling habits
// (scriptProps):
//
//   - The inherent vowel. A consonant without a vowel sign carries "a".
//     North Indian scripts drop it at the end of a word (राम → ram) unless
//     the word ends in a conjunct that needs it (कृष्ण → krishna, सूर्य →
//     surya, मिश्र → mishra); Hindi-like scripts (Devanagari, Gurmukhi,
//     Gujarati) also drop it after a nasal or r cluster (अनंत → anant, पार्थ
//     → parth) where Bengali and Odia keep it (প্রশান্ত → prasanta, পার্থ →
//     partha). Devanagari, Gurmukhi and Gujarati also drop it inside a word
//     in the VC_CV position, right to left (कमला → kamla, जगदीश → jagdish,
//     हरप्रीत → harpreet). Tamil and Malayalam mark a bare consonant
//     explicitly (pulli, chillu), and Telugu and Kannada spell the final
//     vowel that is spoken (ಮಂಜುನಾಥ → manjunatha), so nothing is dropped.
//   - Signs: virama joins consonants; nukta makes क़ q, ज़ z, फ़ f, ड़ r;
//     anusvara is m before p, ph, b, bh, m, n elsewhere (ng in Bengali
//     except before k, g), "ng" before a final h (सिंह → singh), and m at the
//     end of a Dravidian word; chandrabindu is n inside a word and silent at
//     the end (चाँदनी → chandni); visarga is h.
//   - Per-script letters: Bengali and Odia ব/ବ is b (and w after a
//     consonant: স্বপন → swapan), য/ଯ is j (but y after a consonant: শ্যামল
//     → shyamal); ৎ is t; vocalic r is "ri" in Devanagari, Bengali,
//     Gurmukhi, Malayalam and "ru" in Gujarati, Odia, Telugu, Kannada
//     (કૃણાલ → krunal); औ is "ou" in Bengali and Odia (সৌরভ → sourav);
//     ज्ञ is gy in the north and gn in Gujarati and the south; Dravidian
//     dental t is written "th" (கீதா → kitha, హరిత → haritha); Malayalam
//     ന്റ is nt (ആന്റണി → antony).
//   - Tamil has one letter for k/g, c/s/j, t/d, p/b: the voiced sound is
//     written where Tamil speaks it (முருகன் → murugan: intervocalic; அன்பு
//     → anbu: after a nasal), ச is s at the start (சரவணன் → saravanan), ட்ச
//     is ksh (லட்சுமி → lakshumi), ற்ற is tr (வெற்றி → vetri), ன்ற is ndr,
//     and an initial பி before ர is p (பிரியா → priya). Because the script
//     cannot say whether Geetha starts with k or g, Compare also uses a
//     voicing-blind key for tokens written in Tamil letters.

const (
	indicFirst = 0x0900
	indicLast  = 0x0D7F
	zwj        = 0x200D
	zwnj       = 0x200C
)

// script is one of the nine Brahmic blocks, in Unicode order.
type script uint8

const (
	deva script = iota
	beng
	guru
	gujr
	orya
	taml
	telu
	knda
	mlym
	numScripts
)

// scriptOf returns the Brahmic script of r, if any.
func scriptOf(r rune) (script, bool) {
	if r < indicFirst || r > indicLast || r == 0x0964 || r == 0x0965 {
		return 0, false
	}
	return script((r - indicFirst) >> 7), true
}

// scriptProps are a script's spelling habits in Latin letters.
type scriptProps struct {
	finalSchwa   bool   // drop the inherent vowel at the end of a word
	nasalCluster bool   // ... also after a nasal, r or geminate cluster
	medialSchwa  bool   // drop it inside a word too (VC_CV)
	dravidian    bool   // final anusvara is m
	bnLetters    bool   // Bengali/Odia: b-phala is w, initial ya is j
	vocalicR     string // ऋ, ृ
	au           string // औ, ौ
	jnya1, jnya2 string // ज्ञ
}

var props = [numScripts]scriptProps{
	deva: {finalSchwa: true, nasalCluster: true, medialSchwa: true, vocalicR: "ri", au: "au", jnya1: "g", jnya2: "y"},
	beng: {finalSchwa: true, bnLetters: true, vocalicR: "ri", au: "ou", jnya1: "g", jnya2: "y"},
	guru: {finalSchwa: true, nasalCluster: true, medialSchwa: true, vocalicR: "ri", au: "au", jnya1: "g", jnya2: "y"},
	gujr: {finalSchwa: true, nasalCluster: true, medialSchwa: true, vocalicR: "ru", au: "au", jnya1: "g", jnya2: "n"},
	orya: {finalSchwa: true, bnLetters: true, vocalicR: "ru", au: "ou", jnya1: "g", jnya2: "y"},
	taml: {dravidian: true, vocalicR: "ri", au: "au", jnya1: "g", jnya2: "n"},
	telu: {dravidian: true, vocalicR: "ru", au: "au", jnya1: "g", jnya2: "n"},
	knda: {dravidian: true, vocalicR: "ru", au: "au", jnya1: "g", jnya2: "n"},
	mlym: {dravidian: true, vocalicR: "ri", au: "au", jnya1: "g", jnya2: "n"},
}

// Character kinds.
const (
	kIgnore uint8 = iota
	kCons         // consonant; val is its code (an offset)
	kDead         // consonant that never takes a vowel (chillu, ৎ); val is its code
	kVowel        // independent vowel; val is a vowel code
	kSign         // vowel sign; val is a vowel code
	kVirama
	kNukta
	kAnusvara
	kChandra
	kVisarga
	kLength // length mark; val is its offset (0x55, 0x56, 0x57)
	kDigit  // val is the digit
	kOm
	kReph   // Malayalam dot reph: r joined to the next consonant
	kYakash // Gurmukhi subjoined y
)

// Vowel codes. vInherent is the consonant's own a; vNone is no vowel.
const (
	vInherent uint8 = iota
	vNone
	vA
	vAA
	vI
	vII
	vU
	vUU
	vR
	vL
	vE
	vEE
	vAI
	vO
	vOO
	vAU
	vCE // candra e (ॅ): English "a" as in "bat"
	vCO // candra o (ॉ): English "o"
)

// Coda flags.
const (
	codaAnusvara uint8 = 1 << iota
	codaChandra
	codaVisarga
)

type charInfo struct{ kind, val uint8 }

// indicTables holds, per script and offset, what a character is and how a
// consonant is written. Built once; read-only.
type indicTables struct {
	info [numScripts][128]charInfo
	cons [numScripts][128]string
}

var tables = buildIndicTables()

// baseConsonants is the shared consonant row, offsets 0x15-0x39, and the
// precomposed nukta letters 0x58-0x5F as Devanagari has them (Bengali,
// Gurmukhi and Odia put theirs at the same offsets).
var baseConsonants = map[uint8]string{
	0x15: "k", 0x16: "kh", 0x17: "g", 0x18: "gh", 0x19: "n",
	0x1A: "ch", 0x1B: "chh", 0x1C: "j", 0x1D: "jh", 0x1E: "n",
	0x1F: "t", 0x20: "th", 0x21: "d", 0x22: "dh", 0x23: "n",
	0x24: "t", 0x25: "th", 0x26: "d", 0x27: "dh", 0x28: "n", 0x29: "n",
	0x2A: "p", 0x2B: "ph", 0x2C: "b", 0x2D: "bh", 0x2E: "m",
	0x2F: "y", 0x30: "r", 0x31: "r", 0x32: "l", 0x33: "l", 0x34: "zh", 0x35: "v",
	0x36: "sh", 0x37: "sh", 0x38: "s", 0x39: "h",
	0x58: "q", 0x59: "kh", 0x5A: "gh", 0x5B: "z", 0x5C: "r", 0x5D: "rh", 0x5E: "f", 0x5F: "y",
}

// nuktaLatin is a consonant followed by a combining nukta.
var nuktaLatin = [128]string{
	0x15: "q", 0x16: "kh", 0x17: "gh", 0x1C: "z", 0x1D: "z", 0x21: "r", 0x22: "rh",
	0x2B: "f", 0x2F: "y", 0x38: "sh", 0x32: "l",
}

func buildIndicTables() *indicTables {
	t := &indicTables{}
	indep := map[uint8]uint8{
		0x04: vA, 0x05: vA, 0x06: vAA, 0x07: vI, 0x08: vII, 0x09: vU, 0x0A: vUU,
		0x0B: vR, 0x0C: vL, 0x0D: vCE, 0x0E: vE, 0x0F: vEE, 0x10: vAI, 0x11: vCO,
		0x12: vO, 0x13: vOO, 0x14: vAU, 0x60: vR, 0x61: vL,
	}
	signs := map[uint8]uint8{
		0x3E: vAA, 0x3F: vI, 0x40: vII, 0x41: vU, 0x42: vUU, 0x43: vR, 0x44: vR,
		0x45: vCE, 0x46: vE, 0x47: vEE, 0x48: vAI, 0x49: vCO, 0x4A: vO, 0x4B: vOO,
		0x4C: vAU, 0x62: vL, 0x63: vL,
	}
	for sc := script(0); sc < numScripts; sc++ {
		info, lat := &t.info[sc], &t.cons[sc]
		for off, s := range baseConsonants {
			info[off] = charInfo{kCons, off}
			lat[off] = s
		}
		for off, v := range indep {
			info[off] = charInfo{kVowel, v}
		}
		for off, v := range signs {
			info[off] = charInfo{kSign, v}
		}
		info[0x01] = charInfo{kind: kChandra}
		info[0x02] = charInfo{kind: kAnusvara}
		info[0x03] = charInfo{kind: kVisarga}
		info[0x3C] = charInfo{kind: kNukta}
		info[0x4D] = charInfo{kind: kVirama}
		info[0x50] = charInfo{kind: kOm}
		for off := uint8(0x55); off <= 0x57; off++ {
			info[off] = charInfo{kLength, off}
		}
		for d := uint8(0); d < 10; d++ {
			info[0x66+d] = charInfo{kDigit, d}
		}
		if props[sc].dravidian {
			lat[0x24] = "th" // southern Latin habit: Geetha, Haritha, Swathi
		}
	}
	d := &t.info[deva]
	d[0x72] = charInfo{kVowel, vA} // ॲ
	for off, code := range map[uint8]uint8{0x79: 0x5B, 0x7A: 0x2F, 0x7B: 0x17, 0x7C: 0x1C, 0x7E: 0x21, 0x7F: 0x2C} {
		d[off] = charInfo{kCons, code} // ॹ ॺ ॻ ॼ ॾ ॿ
	}
	for _, off := range []uint8{0x3A, 0x3B, 0x4E, 0x4F, 0x55, 0x56, 0x57} {
		d[off] = charInfo{}
	}
	b := &t.info[beng]
	b[0x4E] = charInfo{kDead, 0x24} // ৎ khanda ta
	b[0x70] = charInfo{kCons, 0x30} // ৰ Assamese ra
	b[0x71] = charInfo{kCons, 0x35} // ৱ Assamese wa
	g := &t.info[guru]
	g[0x70] = charInfo{kind: kAnusvara} // tippi
	g[0x71] = charInfo{}                // addak: gemination, not written in Latin names
	g[0x72] = charInfo{kVowel, vI}      // ੲ vowel carrier
	g[0x73] = charInfo{kVowel, vU}      // ੳ vowel carrier
	g[0x75] = charInfo{kind: kYakash}
	g[0x51] = charInfo{}
	t.info[orya][0x71] = charInfo{kCons, 0x35} // ୱ wa
	te := &t.info[telu]
	te[0x00] = charInfo{kind: kChandra}
	te[0x04] = charInfo{kind: kAnusvara}
	te[0x58] = charInfo{kCons, 0x58}
	t.cons[telu][0x58] = "ts"
	te[0x59] = charInfo{kCons, 0x5B} // ౙ dza
	te[0x5A] = charInfo{kCons, 0x31} // ౚ rrra
	kn := &t.info[knda]
	kn[0x00] = charInfo{kind: kChandra}
	kn[0x5E] = charInfo{kCons, 0x33} // ೞ
	kn[0x5D] = charInfo{kDead, 0x28} // ೝ
	ml := &t.info[mlym]
	ml[0x00] = charInfo{kind: kAnusvara}
	ml[0x3B] = charInfo{kind: kVirama}
	ml[0x3C] = charInfo{kind: kVirama}
	ml[0x4E] = charInfo{kind: kReph}
	ml[0x3A] = charInfo{kCons, 0x1F} // ഺ ttta
	ml[0x5F] = charInfo{kVowel, vII}
	for off, code := range map[uint8]uint8{0x54: 0x2E, 0x55: 0x2F, 0x56: 0x34, 0x7A: 0x23, 0x7B: 0x28, 0x7C: 0x30, 0x7D: 0x32, 0x7E: 0x33, 0x7F: 0x15} {
		ml[off] = charInfo{kDead, code} // chillu letters
	}
	return t
}

const (
	maxCluster = 6
	maxAks     = 40
)

// akshara is one written syllable: a consonant cluster (possibly empty for
// an independent vowel), its vowel, and a nasal or visarga coda.
type akshara struct {
	cons  [maxCluster]uint8 // consonant codes; bit 7 marks a nukta
	n     uint8             // consonants in cons
	vowel uint8
	coda  uint8
	dead  bool // a consonant that can take no vowel (chillu)
	del   bool // the inherent vowel is not spoken
}

// live reports whether a has a spoken vowel.
func (a *akshara) live() bool {
	return a.vowel != vNone && !(a.vowel == vInherent && a.del)
}

func isNasalCode(c uint8) bool {
	return c == 0x19 || c == 0x1E || c == 0x23 || c == 0x28 || c == 0x29 || c == 0x2E
}

// appendIndic transliterates run, a word's run of characters of script sc,
// onto dst.
func appendIndic(dst []byte, sc script, run string, keepSchwa bool) []byte {
	var aks [maxAks]akshara
	n := 0
	joining := false // a virama was seen: the next consonant joins the cluster
	base := rune(indicFirst) + rune(sc)<<7
	info := &tables.info[sc]
	start := func() *akshara {
		if n == maxAks {
			dst = renderIndic(dst, sc, aks[:n], keepSchwa)
			n = 0
		}
		aks[n] = akshara{}
		n++
		return &aks[n-1]
	}
	for _, r := range run {
		if r == zwj || r == zwnj {
			continue
		}
		ci := info[r-base]
		switch ci.kind {
		case kCons, kReph:
			code := ci.val
			if ci.kind == kReph {
				code = 0x30
			}
			if joining && n > 0 && aks[n-1].n > 0 && aks[n-1].n < maxCluster && !aks[n-1].dead {
				a := &aks[n-1]
				a.cons[a.n] = code
				a.n++
				a.vowel = vInherent
			} else {
				a := start()
				a.cons[0], a.n, a.vowel = code, 1, vInherent
			}
			joining = false
			if ci.kind == kReph {
				aks[n-1].vowel = vNone
				joining = true
			}
		case kDead:
			a := start()
			a.cons[0], a.n, a.vowel, a.dead = ci.val, 1, vNone, true
			joining = false
		case kYakash:
			if n > 0 && aks[n-1].n > 0 && aks[n-1].n < maxCluster {
				a := &aks[n-1]
				a.cons[a.n] = 0x2F
				a.n++
			}
		case kNukta:
			if n > 0 && aks[n-1].n > 0 {
				aks[n-1].cons[aks[n-1].n-1] |= 0x80
			}
		case kVirama:
			if n > 0 && aks[n-1].n > 0 && aks[n-1].vowel == vInherent {
				aks[n-1].vowel = vNone
				joining = true
			}
		case kSign:
			if n > 0 && twoPartVowel(sc, aks[n-1].vowel, ci.val) {
				aks[n-1].vowel = vO // ে + া typed apart is ো (what NFC would compose)
			} else if n > 0 && (aks[n-1].n > 0 && aks[n-1].vowel == vInherent || aks[n-1].n == 0 && aks[n-1].vowel != vNone) {
				aks[n-1].vowel = ci.val
			} else {
				start().vowel = ci.val
			}
			joining = false
		case kLength:
			if n > 0 {
				a := &aks[n-1]
				switch {
				case ci.val == 0x56 && (a.vowel == vE || a.vowel == vEE):
					a.vowel = vAI
				case ci.val == 0x57 && (a.vowel == vE || a.vowel == vEE || a.vowel == vO || a.vowel == vOO || a.vowel == vInherent):
					a.vowel = vAU
				}
			}
		case kVowel:
			start().vowel = ci.val
			joining = false
		case kAnusvara, kChandra, kVisarga:
			var f uint8
			switch ci.kind {
			case kAnusvara:
				f = codaAnusvara
			case kChandra:
				f = codaChandra
			default:
				f = codaVisarga
			}
			if n == 0 {
				start().vowel = vNone
			}
			aks[n-1].coda |= f
			joining = false
		case kDigit:
			dst = renderIndic(dst, sc, aks[:n], keepSchwa)
			n, joining = 0, false
			dst = append(dst, '0'+ci.val)
		case kOm:
			dst = renderIndic(dst, sc, aks[:n], keepSchwa)
			n, joining = 0, false
			dst = append(dst, 'o', 'm')
		}
	}
	return renderIndic(dst, sc, aks[:n], keepSchwa)
}

// twoPartVowel reports a vowel sign that completes the previous one into
// o: Bengali, Odia, Tamil, Malayalam e + aa, Kannada e + uu. (The other two
// part signs end in a length mark, handled as kLength.) Input need not be
// in NFC.
func twoPartVowel(sc script, prev, sign uint8) bool {
	if prev != vE && prev != vEE {
		return false
	}
	switch sc {
	case beng, orya, taml, mlym:
		return sign == vAA
	case knda:
		return sign == vUU
	}
	return false
}

// renderIndic writes the aksharas of one word (or word part) in Latin;
// with keepSchwa every inherent vowel is written (जवहर → javahar, the
// spelling a southern or eastern writer gives the name).
func renderIndic(dst []byte, sc script, aks []akshara, keepSchwa bool) []byte {
	if len(aks) == 0 {
		return dst
	}
	p := &props[sc]
	if p.finalSchwa && !keepSchwa {
		deleteSchwa(p, aks)
	}
	if sc == taml && len(aks) >= 2 && aks[0].n == 1 && aks[0].cons[0] == 0x2A && aks[0].vowel == vI &&
		aks[1].n > 0 && aks[1].cons[0]&0x7F == 0x30 {
		aks[0].vowel = vNone // பிர → pr: the vowel Tamil inserts into a Sanskrit pr
	}
	for i := range aks {
		a := &aks[i]
		for q := 0; q < int(a.n); q++ {
			dst = append(dst, consLatin(sc, aks, i, q)...)
		}
		switch {
		case a.vowel == vInherent:
			if !a.del {
				dst = append(dst, 'a')
			}
		case a.vowel != vNone:
			dst = append(dst, vowelLatin(p, a.vowel)...)
		}
		if a.coda != 0 {
			dst = appendCoda(dst, sc, aks, i)
		}
	}
	return dst
}

// deleteSchwa marks the inherent vowels a north Indian reader does not
// speak: the final one (unless a conjunct needs it) and, where the script
// does it, medial ones in VC_CV position, right to left.
func deleteSchwa(p *scriptProps, aks []akshara) {
	last := len(aks) - 1
	if l := &aks[last]; l.n > 0 && l.vowel == vInherent && l.coda == 0 && !keepFinal(p, aks) {
		l.del = true
	}
	if !p.medialSchwa {
		return
	}
	for i := last - 1; i >= 1; i-- {
		a := &aks[i]
		if a.n != 1 || a.vowel != vInherent || a.coda != 0 || a.dead {
			continue
		}
		pr, nx := &aks[i-1], &aks[i+1]
		if !pr.live() || pr.coda&(codaAnusvara|codaVisarga) != 0 {
			continue
		}
		if nx.n == 0 || !nx.live() {
			continue
		}
		if nx.n >= 2 && !(nx.n == 2 && nx.cons[1]&0x7F == 0x30) {
			continue
		}
		a.del = true
	}
}

// keepFinal reports whether the final inherent vowel is spoken: after a
// conjunct ending in y, r, l, v (सूर्य, चन्द्र, शुक्ल) or any other
// conjunct (कृष्ण, गुप्त), except, in Hindi-like scripts, a nasal, r or
// geminate conjunct (अनन्त, पार्थ, भट्ट), and the same after an anusvara
// (अनंत).
func keepFinal(p *scriptProps, aks []akshara) bool {
	l := &aks[len(aks)-1]
	if l.n >= 2 {
		lastC, first := l.cons[l.n-1]&0x7F, l.cons[0]&0x7F
		switch lastC {
		case 0x2F, 0x30, 0x32, 0x35:
			return true
		case 0x2C:
			if p.bnLetters {
				return true // ব-phala: বিশ্ব
			}
		}
		if isNasalCode(first) || first == 0x30 || l.n == 2 && first == lastC {
			return !p.nasalCluster
		}
		return true
	}
	if len(aks) >= 2 && aks[len(aks)-2].coda&codaAnusvara != 0 {
		return !p.nasalCluster
	}
	return false
}

// vowelLatin writes vowel code v.
func vowelLatin(p *scriptProps, v uint8) string {
	switch v {
	case vA, vAA:
		return "a"
	case vI, vII:
		return "i"
	case vU, vUU:
		return "u"
	case vR:
		return p.vocalicR
	case vL:
		return "li"
	case vE, vEE, vCE:
		return "e"
	case vAI:
		return "ai"
	case vO, vOO, vCO:
		return "o"
	case vAU:
		return p.au
	}
	return ""
}

// consLatin writes consonant q of akshara i, in its context.
func consLatin(sc script, aks []akshara, i, q int) string {
	a := &aks[i]
	c := a.cons[q]
	off := c & 0x7F
	var prev, next uint8
	prevVowel, prevVisarga := false, false
	if q > 0 {
		prev = a.cons[q-1] & 0x7F
	} else if i > 0 {
		pa := &aks[i-1]
		switch {
		case pa.dead:
			prev = pa.cons[pa.n-1] & 0x7F
		default:
			prevVowel = pa.vowel != vNone
			prevVisarga = pa.coda&codaVisarga != 0
		}
	}
	if q+1 < int(a.n) {
		next = a.cons[q+1] & 0x7F
	}
	if sc == taml {
		vowelAfter := q == int(a.n)-1 && a.vowel != vNone
		if s, ok := tamilConsonant(off, prev, next, i == 0 && q == 0, prevVowel, vowelAfter, prevVisarga); ok {
			return s
		}
	}
	if c&0x80 != 0 {
		if s := nuktaLatin[off]; s != "" {
			return s
		}
	}
	p := &props[sc]
	switch {
	case off == 0x1C && next == 0x1E:
		return p.jnya1
	case off == 0x1E && prev == 0x1C && q > 0:
		return p.jnya2
	case off == 0x35 && q > 0 && sc != taml && prev != 0x30 && prev != 0x32 && prev != 0x33:
		return "w" // स्वाति swati, विश्व vishwa; but पार्वती parvati, செல்வி selvi
	}
	if p.bnLetters {
		if off == 0x2C && q > 0 && prev != 0x2E && prev != 0x2C {
			return "w"
		}
		if off == 0x2F && q == 0 {
			return "j"
		}
	}
	if sc == mlym {
		switch {
		case off == 0x31 && (q > 0 && (prev == 0x28 || prev == 0x31) || next == 0x31):
			return "t" // ന്റ nt, റ്റ tt
		case off == 0x31 && q == 0 && i > 0 && aks[i-1].dead && aks[i-1].cons[0]&0x7F == 0x28:
			return "t" // ൻറ
		case off == 0x24 && next == 0x24:
			return "" // ത്ത is written th
		}
	}
	return tables.cons[sc][off]
}

// tamilConsonant writes the Tamil consonants whose sound depends on where
// they stand; ok=false leaves the letter to the shared table.
func tamilConsonant(off, prev, next uint8, initial, prevVowel, vowelAfter, prevVisarga bool) (string, bool) {
	nasal := isNasalCode(prev)
	between := prevVowel && vowelAfter
	switch off {
	case 0x15: // க
		if nasal || between && next == 0 {
			return "g", true
		}
		return "k", true
	case 0x1A: // ச
		switch {
		case next == 0x1A:
			return "", true
		case prev == 0x1A:
			return "ch", true
		case prev == 0x1F:
			return "sh", true // ட்ச: Tamil spelling of क्ष
		case nasal:
			return "j", true
		}
		return "s", true // initial, between vowels, and in compounds (-selvan)
	case 0x1F: // ட
		switch {
		case next == 0x1A:
			return "k", true
		case next == 0x1F || prev == 0x1F:
			return "t", true
		case nasal || between:
			return "d", true
		}
		return "t", true
	case 0x24: // த
		if next == 0x24 {
			return "", true
		}
		return "th", true
	case 0x2A: // ப
		switch {
		case prevVisarga:
			return "f", true // ஃப
		case nasal:
			return "b", true
		}
		return "p", true
	case 0x31: // ற
		switch {
		case next == 0x31:
			return "t", true
		case prev == 0x29:
			return "dr", true
		}
		return "r", true
	case 0x1E: // ஞ
		switch {
		case initial:
			return "gn", true
		case next == 0x1A || next == 0x1C:
			return "n", true
		}
		return "ny", true
	}
	return "", false
}

// appendCoda writes the anusvara, chandrabindu or visarga of akshara i.
func appendCoda(dst []byte, sc script, aks []akshara, i int) []byte {
	a := &aks[i]
	var nx *akshara
	var nc uint8
	if i+1 < len(aks) && aks[i+1].n > 0 {
		nx = &aks[i+1]
		nc = nx.cons[0] & 0x7F
	}
	p := &props[sc]
	if a.coda&codaAnusvara != 0 {
		switch {
		case i+1 == len(aks):
			switch {
			case p.dravidian:
				dst = append(dst, 'm')
			case sc == beng:
				dst = append(dst, 'n', 'g')
			default:
				dst = append(dst, 'n')
			}
		case nx == nil:
			dst = append(dst, 'n')
		case nc >= 0x2A && nc <= 0x2E:
			dst = append(dst, 'm')
		case nc == 0x39 && i+2 == len(aks) && !nx.live():
			dst = append(dst, 'n', 'g') // सिंह → singh
		case sc == beng && !(nc >= 0x15 && nc <= 0x19):
			dst = append(dst, 'n', 'g')
		default:
			dst = append(dst, 'n')
		}
	} else if a.coda&codaChandra != 0 && i+1 < len(aks) {
		dst = append(dst, 'n')
	}
	if a.coda&codaVisarga != 0 && !(sc == taml && nc == 0x2A) {
		dst = append(dst, 'h')
	}
	return dst
}
