package names

// Key returns the Indian-name phonetic key of one folded token, so that
// spelling variants of a name ("Shaikh", "Sheikh") share one key.
//
// First an ending from data/endings.txt is rewritten (-esh/-ish,
// -inder/-endra/-ender). Then, left to right:
//   - aspirates fold into their plain stop: bh→b, dh→d, gh→g, jh→j, kh→k,
//     th→t, rh→r, chh/ch→c; any other h after a consonant is dropped, and a
//     final h after a vowel (Shah, Farah);
//   - ph and f are f; v, w and b are one letter (Vijay/Wijay/Bijoy, Vikas/
//     Bikash: the Bengali and Odia b for v); z and j are one (Zainab/Jainab);
//     q is k, and a final que too (Rafique/Rafiq); sh, shh and s are s; ksh
//     and x are x (Lakshmi/Laxmi); zh is l (Tamil Pazhani/Palani); c is k,
//     or s before e, i, y;
//   - vowel length folds: aa→a, ee/ii→i, oo/uu→u; ou, ow, au are au; ei, ai
//     and ayi are ai (Sai/Sayi); a final ay, oy are ai (Sanjay/Sanjoy), a
//     final ey is e (Pandey/Pande); a final y after a consonant is i
//     (Bunty/Banti); iy before a vowel is i (Pandiyan/Pandian); a first y
//     before a vowel is j (Yogesh/Jogesh: one letter in eastern scripts);
//   - ru between consonants is ri (Trupti/Tripti, Amrut/Amrit);
//   - doubled letters collapse (Mohammad/Mohamad);
//   - finally the key of a spelling listed in data/equivalents.txt is
//     replaced by its class's key (Md, Mohd, Muhammad → Mohammad).
//
// A token that is not folded yet is folded first. Key("") is "".
func Key(token string) string {
	if !isFoldedToken(token) {
		token = Fold(token)
	}
	return lists.key(token)
}

// key is Key on a folded token.
func (l *wordLists) key(token string) string {
	if token == "" {
		return ""
	}
	var buf [48]byte
	k := l.appendKey(buf[:0], token)
	if c, ok := l.classes[string(k)]; ok {
		return c
	}
	return string(k)
}

// isFoldedToken reports whether s is already one folded token: lowercase
// ASCII letters and digits only.
func isFoldedToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

func isVowel(c byte) bool { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' }

// isConsonant reports whether c is a Latin consonant letter (y included).
func isConsonant(c byte) bool { return c >= 'a' && c <= 'z' && !isVowel(c) }

// appendKey appends the key of the folded token s to dst, without the
// equivalence-class step.
func (l *wordLists) appendKey(dst []byte, s string) []byte {
	var sb [64]byte
	in := append(sb[:0], s...)
	for _, e := range l.endings {
		if len(in) > len(e.from)+1 && string(in[len(in)-len(e.from):]) == e.from {
			in = append(in[:len(in)-len(e.from)], e.to...)
			break
		}
	}
	return appendKeyLetters(dst, in)
}

// appendKeyLetters applies the letter rules of Key to s.
func appendKeyLetters(dst, s []byte) []byte {
	start := len(dst)
	n := len(s)
	at := func(i int) byte {
		if i < n {
			return s[i]
		}
		return 0
	}
	for i := 0; i < n; {
		c, c1, c2 := s[i], at(i+1), at(i+2)
		// glide: a w or y at i+1 that ends its syllable (word end or a
		// consonant next) is part of a diphthong, not a consonant.
		glide := i+2 >= n || !isVowel(c2)
		switch c {
		case 'a':
			switch {
			case c1 == 'a':
				dst, i = append(dst, 'a'), i+2
			case c1 == 'y' && c2 == 'i':
				dst, i = append(dst, 'a', 'i'), i+3 // Sayi/Sai
			case c1 == 'i' || c1 == 'y' && glide:
				dst, i = append(dst, 'a', 'i'), i+2
			case c1 == 'u':
				dst, i = append(dst, 'a', 'u'), i+2
			default:
				dst, i = append(dst, 'a'), i+1
			}
		case 'e':
			switch {
			case c1 == 'e':
				dst, i = append(dst, 'i'), i+2
			case c1 == 'i':
				dst, i = append(dst, 'a', 'i'), i+2
			case c1 == 'y' && glide:
				dst, i = append(dst, 'e'), i+2
			case c1 == 'w' && glide:
				dst, i = append(dst, 'u'), i+2
			default:
				dst, i = append(dst, 'e'), i+1
			}
		case 'i':
			switch {
			case c1 == 'i':
				dst, i = append(dst, 'i'), i+2
			case c1 == 'e' && i+2 == n:
				dst, i = append(dst, 'i'), i+2
			case c1 == 'y' && i+2 < n && isVowel(c2):
				dst, i = append(dst, 'i'), i+2
			default:
				dst, i = append(dst, 'i'), i+1
			}
		case 'o':
			switch {
			case c1 == 'o':
				dst, i = append(dst, 'u'), i+2
			case c1 == 'u' || c1 == 'w' && glide:
				dst, i = append(dst, 'a', 'u'), i+2
			case c1 == 'y' && glide:
				dst, i = append(dst, 'a', 'i'), i+2
			default:
				dst, i = append(dst, 'o'), i+1
			}
		case 'u':
			dst, i = append(dst, 'u'), i+1
			if c1 == 'u' {
				i++
			}
		case 'y':
			if i == 0 && isVowel(c1) {
				// A first y is j in the east: Bengali, Assamese and Odia
				// write য for both (Jogesh/Yogesh, Jamuna/Yamuna).
				dst, i = append(dst, 'j'), i+1
				continue
			}
			if i == n-1 && i > 0 && !isVowel(s[i-1]) {
				dst = append(dst, 'i')
			} else {
				dst = append(dst, 'y')
			}
			i++
		case 'b', 'v', 'w':
			dst, i = append(dst, 'b'), i+1
			if c1 == 'h' {
				i++
			}
		case 'p':
			if c1 == 'h' {
				dst, i = append(dst, 'f'), i+2
			} else {
				dst, i = append(dst, 'p'), i+1
			}
		case 'c':
			switch {
			case c1 == 'h' && c2 == 'h':
				dst, i = append(dst, 'c'), i+3
			case c1 == 'h' && c2 == 'r':
				dst, i = append(dst, 'k'), i+2
			case c1 == 'h':
				dst, i = append(dst, 'c'), i+2
			case c1 == 'k':
				dst, i = append(dst, 'k'), i+2
			case c1 == 'e' || c1 == 'i' || c1 == 'y':
				dst, i = append(dst, 's'), i+1
			default:
				dst, i = append(dst, 'k'), i+1
			}
		case 'k':
			switch {
			case c1 == 's' && c2 == 'h':
				dst, i = append(dst, 'x'), i+3
			case c1 == 'h':
				dst, i = append(dst, 'k'), i+2
			default:
				dst, i = append(dst, 'k'), i+1
			}
		case 'q':
			dst, i = append(dst, 'k'), i+1
			if i+2 == n && s[i] == 'u' && s[i+1] == 'e' {
				i = n // Rafique, Siddique
			}
		case 'g', 'j', 'd', 't', 'r', 'l':
			dst, i = append(dst, c), i+1
			if c1 == 'h' {
				i++
			}
		case 'z':
			if c1 == 'h' {
				dst, i = append(dst, 'l'), i+2
			} else {
				dst, i = append(dst, 'j'), i+1
			}
		case 's':
			dst, i = append(dst, 's'), i+1
			for i < n && s[i] == 'h' {
				i++
			}
		case 'h':
			prevVowel := i > 0 && isVowel(s[i-1])
			if i > 0 && !prevVowel || i == n-1 && prevVowel {
				i++
				continue
			}
			dst, i = append(dst, 'h'), i+1
		default:
			dst, i = append(dst, c), i+1
		}
	}
	// ru between consonants is the vocalic r written the southern/Marathi way.
	for j := start + 1; j+2 < len(dst); j++ {
		if dst[j] == 'r' && dst[j+1] == 'u' && isConsonant(dst[j-1]) && isConsonant(dst[j+2]) {
			dst[j+1] = 'i'
		}
	}
	return collapseDoubles(dst, start)
}

// collapseDoubles removes repeated letters in dst[start:], in place.
func collapseDoubles(dst []byte, start int) []byte {
	w := start
	for r := start; r < len(dst); r++ {
		if w > start && dst[w-1] == dst[r] {
			continue
		}
		dst[w] = dst[r]
		w++
	}
	return dst[:w]
}

// LooseKey is Key with voicing folded too (k/g, t/d, p/b/f, c/s/j), for
// names that may have been written in Tamil letters, which do not mark
// voicing: கீதா folds to "kitha", and only its loose key meets Geetha's.
// Compare uses it for Tamil tokens; an index can add it as a second
// phonetic term. The token may be written in any script.
func LooseKey(token string) string { return looseKey(Key(token)) }

// looseKey is the key with voicing folded as well (k/g, t/d, p/b/f, and
// c/s/j): Tamil script writes one letter for each pair, so a name that went
// through Tamil letters ("கீதா" → kitha) must be compared with it.
func looseKey(key string) string {
	var buf [48]byte
	b := buf[:0]
	for i := 0; i < len(key); i++ {
		b = append(b, voiceless(key[i]))
	}
	b = collapseDoubles(b, 0)
	return string(b)
}

// voiceless folds a key letter's voicing: k/g, t/d, p/b/f, c/s/j (Tamil
// writes f with ப: ஜோசப் Joseph).
func voiceless(c byte) byte {
	switch c {
	case 'g':
		return 'k'
	case 'd':
		return 't'
	case 'b', 'f':
		return 'p'
	case 'c', 'j':
		return 's'
	}
	return c
}

// Skeleton is the consonant skeleton of a phonetic key (Key's output):
// vowels and the glides y, w, h dropped, voicing folded as LooseKey folds
// it except on the first consonant, doubled letters collapsed
// (Key("rakkiah") "rakia" and Key("rakkaiya") "rakaiya" both give "rk";
// "kandia" and "kantaia" give "knt"; Geeta "gt" stays apart from Kita "kt").
// Spellings that Compare's fuzzy level accepts two edits apart on their
// keys, mostly vowels written differently, share it, so an index can
// search it as a cheap second key where a two-edit fuzzy search would cost
// several times more. It is "" for a key of fewer than two such
// consonants, or anything but a plain key.
func Skeleton(key string) string {
	var buf [48]byte
	b := buf[:0]
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch c {
		case 'a', 'e', 'i', 'o', 'u', 'y', 'w', 'h':
			continue
		}
		if c < 'a' || c > 'z' {
			return "" // a tagged or unfolded key is not a key
		}
		if len(b) > 0 {
			c = voiceless(c)
		}
		if len(b) == 0 || b[len(b)-1] != c {
			b = append(b, c)
		}
		if len(b) == cap(buf) {
			break
		}
	}
	if len(b) < 2 {
		return ""
	}
	return string(b)
}
