package names

// MaxEdits is how much spelling difference Compare's fuzzy level allows
// between two words whose shorter folded form has n letters (maxEdits),
// for a search that must find what Compare would accept.
func MaxEdits(n int) int { return maxEdits(n) }

// maxEdits is how much spelling difference the fuzzy level allows between
// two tokens whose shorter folded form has n letters: none up to 3 letters
// (Ram/Ravi, Raj/Ravi are different names), 1 for 4-6, 2 from 7.
func maxEdits(n int) int {
	switch {
	case n <= 3:
		return 0
	case n <= 6:
		return 1
	}
	return 2
}

// spellingDistance is an edit distance (insert, delete, substitute, swap
// two neighbours) weighted by how Indian names vary when they are written
// down, so that the fuzzy level keeps spelling variants and rejects other
// names:
//
//   - cost 1, the variation seen between spellings of one name: a vowel for
//     a near one (a/o, a/e, a/u, e/i, o/u; y and i are one letter), a
//     vowel, h, y or w added or dropped, a doubled letter, two neighbours
//     swapped (Jospeh), a consonant for its twin in writing — t/d, d/r (ड़),
//     s/z, j/z, b/v/w, p/f (Senthil/Sendhil, Gudiya/Guriya,
//     Elizabeth/Elisabeth);
//   - cost 2, rare in one name: a vowel for a far one (Karan/Kiran,
//     Soma/Sima), a different first vowel (Emmanuel/Immanuel), a twin
//     consonant first, a final vowel for another (Reshma/Reshmi, Ritu/Rita:
//     often the other sex);
//   - cost 3, what makes another name: any other consonant added, dropped
//     or changed (Ravi/Rani, Amit/Amrit, Ravinder/Rajinder), any other
//     change to the first letter (Mohan/Sohan, Neha/Sneha);
//   - a vowel added at the end of a consonant-final name costs 1 from six
//     letters (Ramesh/Ramesha, Subrat/Subrata: southern and eastern
//     spelling) and 2 below (Ankit/Ankita, Suman/Sumana).
//
// With maxEdits this allows, from 4 letters, one near change, and from 7
// two near changes or one rare one; never a consonant. On bytes: folded
// tokens and keys are ASCII. Tokens up to 31 bytes use no heap.
func spellingDistance(a, b string) int { return spellingWithin(a, b, 3*max(len(a), len(b))) }

// spellingWithin is spellingDistance when it is at most k, and some value
// above k otherwise. Every edit costs at least 1, so it only looks at
// alignments within k of the diagonal and gives up early.
func spellingWithin(a, b string, k int) int {
	if a == b {
		return 0
	}
	la, lb := len(a), len(b)
	if la == 0 || lb == 0 {
		return 3 * max(la, lb)
	}
	if abs(la-lb) > k {
		return k + 1 // every letter on one side only costs at least 1
	}
	if k < 2 && a[0] != b[0] {
		return k + 1 // a first letter changes for at least 2
	}
	if bagDistance(a, b) > k {
		return k + 1
	}
	finalVowel := 2
	if min(la, lb) >= 6 {
		finalVowel = 1
	}
	inf := k + 1
	const small = 32
	n := lb + 1
	var s0, s1, s2 [small]int
	var prev2, prev, cur []int
	if n <= small {
		prev2, prev, cur = s0[:n], s1[:n], s2[:n]
	} else {
		prev2, prev, cur = make([]int, n), make([]int, n), make([]int, n)
	}
	prev[0] = 0
	for j := 1; j < n; j++ {
		prev[j] = inf
		if j <= k {
			prev[j] = min(inf, prev[j-1]+indelCost(b, a, j, 0, finalVowel))
		}
	}
	for i := 1; i <= la; i++ {
		lo, hi := max(1, i-k), min(lb, i+k)
		for j := range cur {
			cur[j] = inf
		}
		if i <= k {
			cur[0] = min(inf, prev[0]+indelCost(a, b, i, 0, finalVowel))
		}
		rowMin := cur[0]
		for j := lo; j <= hi; j++ {
			d := min(
				prev[j]+indelCost(a, b, i, j, finalVowel),
				cur[j-1]+indelCost(b, a, j, i, finalVowel),
				prev[j-1]+subCost(a[i-1], b[j-1], i, j, la, lb),
			)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] && a[i-1] != a[i-2] {
				d = min(d, prev2[j-2]+1)
			}
			cur[j] = min(d, inf)
			rowMin = min(rowMin, cur[j])
		}
		if rowMin >= inf && minOf(prev) >= inf {
			return inf // costs only grow; a swap reaches back one row only
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[n-1]
}

// bagDistance is a lower bound on the number of edits between a and b:
// the letters one has more of than the other.
func bagDistance(a, b string) int {
	var cnt [256]int8
	for i := 0; i < len(a); i++ {
		cnt[a[i]]++
	}
	for i := 0; i < len(b); i++ {
		cnt[b[i]]--
	}
	pos, neg := 0, 0
	for i := 0; i < len(a); i++ {
		if c := cnt[a[i]]; c > 0 {
			pos += int(c)
			cnt[a[i]] = 0
		}
	}
	for i := 0; i < len(b); i++ {
		if c := cnt[b[i]]; c < 0 {
			neg -= int(c)
			cnt[b[i]] = 0
		}
	}
	return max(pos, neg)
}

func minOf(xs []int) int {
	m := xs[0]
	for _, x := range xs[1:] {
		m = min(m, x)
	}
	return m
}

// indelCost is the cost of the letter s[i-1] present on one side only,
// with other[:j] on the other side.
func indelCost(s, other string, i, j, finalVowel int) int {
	c := s[i-1]
	weak := c == 'h' || c == 'y' || c == 'w' || i >= 2 && s[i-2] == c || j >= 1 && other[j-1] == c
	switch {
	case i == 1 && j == 0:
		if isVowel(c) {
			return 2
		}
		return 3
	case i == len(s) && j == len(other) && isVowel(c):
		if j > 0 && !isVowel(other[j-1]) {
			return finalVowel
		}
		return 2
	case isVowel(c) || weak:
		return 1
	}
	return 3
}

// subCost is the cost of x (a[i-1]) written for y (b[j-1]).
func subCost(x, y byte, i, j, la, lb int) int {
	if x == y {
		return 0
	}
	vx, vy := isVowel(x) || x == 'y', isVowel(y) || y == 'y'
	switch {
	case i == 1 || j == 1:
		if vx && vy || twins(x, y) {
			return 2
		}
		return 3
	case vx && vy:
		if (x == 'y' || y == 'y') && (x == 'i' || y == 'i') {
			return 1
		}
		if i == la && j == lb {
			return 2
		}
		if nearVowels(x, y) {
			return 1
		}
		return 2
	case twins(x, y):
		return 1
	}
	return 3
}

// twins reports consonants that stand for one sound in different
// spellings of a name.
func twins(x, y byte) bool {
	if x > y {
		x, y = y, x
	}
	switch [2]byte{x, y} {
	case [2]byte{'d', 't'}, [2]byte{'d', 'r'}, [2]byte{'s', 'z'}, [2]byte{'j', 'z'},
		[2]byte{'b', 'v'}, [2]byte{'b', 'w'}, [2]byte{'v', 'w'}, [2]byte{'f', 'p'}:
		return true
	}
	return false
}

// nearVowels reports vowels that stand for one sound in different
// spellings: a/o (Bengali), a/e (Kerala), a/u (English-style Bunty), e/i,
// o/u.
func nearVowels(x, y byte) bool {
	if x > y {
		x, y = y, x
	}
	switch [2]byte{x, y} {
	case [2]byte{'a', 'o'}, [2]byte{'a', 'e'}, [2]byte{'a', 'u'}, [2]byte{'e', 'i'}, [2]byte{'o', 'u'}:
		return true
	}
	return false
}
