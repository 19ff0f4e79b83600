package names

import (
	"slices"
	"strings"
)

// Comparison is the outcome of comparing two records' names.
type Comparison struct {
	Level   Level        // the strongest level reached
	A, B    string       // the pair of full names that reached it
	Matched []TokenMatch // token pairs that agreed, strongest first
	// Partial is set when both names kept a word the other does not share
	// ("Priya Sharma" and "Priya Verma"): the given names agree but a family
	// or middle name disagrees. It is weaker evidence than the same level
	// without it; the scorer should weigh it as its own band.
	Partial bool
	// WordsPartial is Partial with whole words (not initials) left on both
	// sides: the initials alone do not make it (they are Initials' evidence).
	WordsPartial bool
	// Subset is set when only one name keeps whole words (not initials)
	// the other lacks ("Balu" / "Balu Raman"): agreement on part of the
	// longer name, more often by chance than on all of it.
	Subset bool
	// LeftInitials counts the initials of both names that found no
	// partner ("Balu" / "Balu M G": 2).
	LeftInitials int
	// Coverage is the share of both names' tokens that matched, 2·matched
	// / (tokens of A + tokens of B): 1 when every word has a partner.
	Coverage float64
	// Initials is how the initials of the two names agree, evidence of its
	// own beside the words (Splink's practice): the father's initial of a
	// South Indian name tells two namesakes apart.
	Initials InitialsLevel
}

// InitialsLevel is how the initials of two compared names agree.
type InitialsLevel string

// Initials levels. Initials written on one side only, or on neither, are
// no evidence (""): officials drop them as often as they write them.
const (
	// InitialsAgree: every initial left without a partner is on one side
	// only, and at least one initial agrees with an initial or with a
	// word's first letter ("S. Velan" / "Velan S", "R Sharma" / "Rahul
	// Sharma").
	InitialsAgree InitialsLevel = "agree"
	// InitialsMixed: some initials agree, and both names keep one without
	// a partner ("K.P. Arul" / "K.R. Arul").
	InitialsMixed InitialsLevel = "mixed"
	// InitialsConflict: both names have initials and none agrees
	// ("Rahul S" / "Rahul K"): two namesakes more often than one child.
	InitialsConflict InitialsLevel = "conflict"
)

// TokenMatch is one pair of agreeing tokens.
type TokenMatch struct {
	A, B     string
	Level    Level
	Distance int // spelling distance (see spellingDistance), for LevelFuzzy
}

// maxTokens bounds the words of one name that are compared, and maxNames
// the names (aliases included) of one record.
const (
	maxTokens = 8
	maxNames  = 8
)

// Compare compares every name of one record with every name of the other,
// in any token order, and reports the strongest agreement.
//
// Each written name is first split into its aliases (Aliases), and every
// alias of A is compared with every alias of B. For one pair of names:
//
//  1. Each token of one is paired with at most one token of the other,
//     strongest pairs first (exact, folded, phonetic, fuzzy with the
//     smaller distance, then initial), so word order does not matter
//     ("Shaikh Salim" / "Salim Sheikh").
//  2. At least one pair must agree on a whole word (not just an initial),
//     else the level is none.
//  3. If no given name agrees (as a word or an initial) and a given name is
//     left over on either side, the level is none: "Rahul Sharma" / "Sunil
//     Sharma", and "Sharma" / "Rahul Sharma". A family name is one listed in
//     family.txt or, when whole words (not initials) are left over on both sides, the last word
//     of both names ("Rahul Jaiswal" / "Sunil Jaiswal").
//  4. Otherwise the level is the weakest level among the paired tokens: all
//     words of the shorter name must agree at least that well. An initial
//     paired with a word makes the pair "initial" ("R. Sharma" / "Rahul
//     Sharma"). Words left over on one side only (a missing family or
//     middle name, "Rahul" / "Rahul Sharma") do not lower the level, they
//     lower Coverage; words left over on both sides set Partial.
//  5. When that gives none or Partial, the names are also compared with two
//     neighbouring words written together, dropped words included ("Raj
//     Kumar" / "Rajkumar", "Sri Devi" / "Sridevi"), and the better result
//     is kept.
//
// Between name pairs the best result wins: higher level, then not Partial,
// then higher Coverage. Names with no identifying word ("Unknown") match
// nothing. At most maxNames names per record and maxTokens words per name
// are compared.
func Compare(a, b []string) Comparison {
	// One token buffer for both records (its strings flow into the result,
	// so it lives on the heap); the names' views stay on this frame.
	toks := make([]tok, 0, 16)
	var spanA, spanB [4]nameSpan
	var nameA, nameB [maxNames]parsedName
	toks, sa := parseRecord(a, toks, spanA[:0])
	toks, sb := parseRecord(b, toks, spanB[:0])
	na, nb := min(len(sa), maxNames), min(len(sb), maxNames)
	for i := 0; i < na; i++ {
		nameA[i] = sa[i].view(toks) // into the array itself: stays on the stack
	}
	for i := 0; i < nb; i++ {
		nameB[i] = sb[i].view(toks)
	}
	pa, pb := nameA[:na], nameB[:nb]
	best := Comparison{Level: LevelNone}
	found := false
	for i := range pa {
		for j := range pb {
			c := compareNames(&pa[i], &pb[j])
			if !found || better(c, best) {
				best, found = c, true
			}
		}
	}
	if !found {
		return Comparison{Level: LevelNone}
	}
	return best
}

// parseRecord parses every name of a record, with phonetic keys, into the
// given slices.
func parseRecord(names []string, toks []tok, spans []nameSpan) ([]tok, []nameSpan) {
	for _, s := range names {
		toks, spans = parse(s, true, toks, spans)
	}
	return toks, spans
}

// view is the name as Compare reads it; at most maxTokens words count.
func (n nameSpan) view(toks []tok) parsedName {
	pn := parsedName{text: n.text, all: n.alls(toks), toks: n.kepts(toks)}
	if len(pn.toks) > maxTokens {
		pn.toks = pn.toks[:maxTokens]
	}
	return pn
}

// withKeys fills the phonetic keys (one shared string), family flags and,
// for Tamil tokens, voicing-blind keys of ts.
func withKeys(ts []tok) {
	var buf [96]byte
	b := buf[:0]
	var spans [2 * maxTokens]int
	for i := range ts {
		if i >= maxTokens {
			break
		}
		a := len(b)
		if !ts[i].initial {
			b = lists.appendKey(b, ts[i].fold)
			if c, ok := lists.classes[string(b[a:])]; ok {
				ts[i].key = c
				b = b[:a]
			}
		}
		spans[2*i], spans[2*i+1] = a, len(b)
	}
	keys := string(b)
	for i := range ts {
		t := &ts[i]
		switch {
		case i >= maxTokens:
			t.key = lists.key(t.fold)
		case t.initial:
			t.key = t.fold
		case t.key == "":
			t.key = keys[spans[2*i]:spans[2*i+1]]
		}
		if !t.initial {
			t.family = lists.family[t.key]
		}
		if t.tamil {
			t.loose = looseKey(t.key)
		}
	}
}

// better reports whether c is a stronger result than d.
func better(c, d Comparison) bool {
	if c.Level.Rank() != d.Level.Rank() {
		return c.Level.Rank() > d.Level.Rank()
	}
	if c.Partial != d.Partial {
		return !c.Partial
	}
	if c.Subset != d.Subset {
		return !c.Subset
	}
	if c.LeftInitials != d.LeftInitials {
		return c.LeftInitials < d.LeftInitials
	}
	if c.Coverage != d.Coverage {
		return c.Coverage > d.Coverage
	}
	return len(c.Matched) > len(d.Matched)
}

// compareNames compares two parsed names, trying joined neighbouring words
// when the plain comparison leaves words over on both sides.
func compareNames(x, y *parsedName) Comparison {
	best := compareTokens(x.toks, y.toks)
	best.A, best.B = x.text, y.text
	if best.Level != LevelNone && !best.Partial {
		return best
	}
	try := func(xs, ys []tok) {
		c := compareTokens(xs, ys)
		if better(c, best) {
			c.A, c.B = x.text, y.text
			best = c
		}
	}
	for p := 0; p+1 < len(x.all); p++ {
		if joinable(x.all, p, y.toks) {
			try(joined(x.all, p), y.toks)
		}
	}
	for p := 0; p+1 < len(y.all); p++ {
		if joinable(y.all, p, x.toks) {
			try(x.toks, joined(y.all, p))
		}
	}
	return best
}

// joinable reports whether words p and p+1 of all, written as one, could
// agree with a token of other: same first letter, length within 2.
func joinable(all []tok, p int, other []tok) bool {
	a, b := &all[p], &all[p+1]
	if a.initial || b.initial {
		return false
	}
	n := len(a.fold) + len(b.fold)
	for i := range other {
		if t := &other[i]; !t.initial && t.fold[0] == a.fold[0] && abs(len(t.fold)-n) <= 2 {
			return true
		}
	}
	return false
}

// joined returns the tokens of all with words p and p+1 written as one.
func joined(all []tok, p int) []tok {
	a, b := &all[p], &all[p+1]
	m := tok{fold: a.fold + b.fold, tamil: a.tamil || b.tamil, indic: a.indic && b.indic}
	if a.full != "" || b.full != "" {
		m.full = a.fullOr() + b.fullOr()
	}
	m.key = lists.key(m.fold)
	m.family = lists.family[m.key]
	if m.tamil {
		m.loose = looseKey(m.key)
	}
	out := make([]tok, 0, len(all)-1)
	for k := range all {
		switch {
		case k == p:
			out = append(out, m)
		case k == p+1 || all[k].drop:
		default:
			out = append(out, all[k])
		}
	}
	if len(out) > maxTokens {
		out = out[:maxTokens]
	}
	return out
}

// pairing is one candidate pair of tokens.
type pairing struct {
	i, j  int
	level Level
	dist  int
	// initialOnly marks two equal initials: the same letter, but not a
	// word that agrees.
	initialOnly bool
}

// compareTokens aligns two token lists and applies the level rule.
func compareTokens(xs, ys []tok) Comparison {
	if len(xs) == 0 || len(ys) == 0 {
		return Comparison{Level: LevelNone}
	}
	var candBuf [maxTokens * maxTokens]pairing
	cands := candBuf[:0]
	for i := range xs {
		for j := range ys {
			l, d := tokenLevel(&xs[i], &ys[j])
			if l != LevelNone {
				cands = append(cands, pairing{i: i, j: j, level: l, dist: d, initialOnly: xs[i].initial && ys[j].initial})
			}
		}
	}
	// Insertion sort: a handful of candidates, and no closure to escape.
	for a := 1; a < len(cands); a++ {
		for b := a; b > 0 && before(&cands[b], &cands[b-1]); b-- {
			cands[b], cands[b-1] = cands[b-1], cands[b]
		}
	}
	var usedX, usedY [maxTokens]bool
	var chosenBuf [maxTokens]pairing
	chosen := chosenBuf[:0]
	for _, c := range cands {
		if usedX[c.i] || usedY[c.j] {
			continue
		}
		usedX[c.i], usedY[c.j] = true, true
		chosen = append(chosen, c)
	}
	return judge(xs, ys, chosen, usedX[:len(xs)], usedY[:len(ys)])
}

// before orders candidate pairs: whole words before equal initials, then
// stronger levels, smaller distances, words in the same place, earlier
// words.
func before(ca, cb *pairing) bool {
	if ca.initialOnly != cb.initialOnly {
		return !ca.initialOnly
	}
	if ra, rb := ca.level.Rank(), cb.level.Rank(); ra != rb {
		return ra > rb
	}
	if ca.dist != cb.dist {
		return ca.dist < cb.dist
	}
	if da, db := abs(ca.i-ca.j), abs(cb.i-cb.j); da != db {
		return da < db
	}
	return ca.i+ca.j < cb.i+cb.j
}

// judge applies the level rule (see Compare) to an alignment.
func judge(xs, ys []tok, chosen []pairing, usedX, usedY []bool) Comparison {
	none := Comparison{Level: LevelNone}
	if len(chosen) == 0 {
		return none
	}
	leftX, leftY := 0, 0
	wordsX, wordsY := 0, 0 // whole words (not initials) left over
	leftGiven := false
	for i, u := range usedX {
		if !u {
			leftX++
			leftGiven = leftGiven || !xs[i].family
			if !xs[i].initial {
				wordsX++
			}
		}
	}
	for j, u := range usedY {
		if !u {
			leftY++
			leftGiven = leftGiven || !ys[j].family
			if !ys[j].initial {
				wordsY++
			}
		}
	}
	whole, given := false, false
	weakest := LevelExact
	for _, c := range chosen {
		if c.level.Rank() < weakest.Rank() {
			weakest = c.level
		}
		if c.initialOnly {
			continue
		}
		if c.level == LevelInitial {
			// A given name's initial: "R. Sharma" / "Rahul Sharma".
			given = given || !xs[c.i].family && !ys[c.j].family
			continue
		}
		whole = true
		lastBoth := c.i == len(xs)-1 && c.j == len(ys)-1 && len(xs) > 1 && len(ys) > 1
		if !xs[c.i].family && !ys[c.j].family && !(lastBoth && wordsX > 0 && wordsY > 0) {
			given = true
		}
	}
	if !whole || !given && leftGiven {
		return none
	}
	agreed := 0
	for _, c := range chosen {
		if c.initialOnly || c.level == LevelInitial {
			agreed++
		}
	}
	initLeftX, initLeftY := leftX-wordsX, leftY-wordsY
	var initials InitialsLevel
	switch both := initLeftX > 0 && initLeftY > 0; {
	case agreed > 0 && both:
		initials = InitialsMixed
	case agreed > 0:
		initials = InitialsAgree
	case both:
		initials = InitialsConflict
	}
	out := Comparison{
		Initials:     initials,
		Level:        weakest,
		Partial:      leftX > 0 && leftY > 0,
		WordsPartial: wordsX > 0 && wordsY > 0,
		Subset:       (wordsX > 0) != (wordsY > 0) && !(leftX > 0 && leftY > 0),
		LeftInitials: leftX - wordsX + leftY - wordsY,
		Coverage:     float64(2*len(chosen)) / float64(len(xs)+len(ys)),
		Matched:      make([]TokenMatch, 0, len(chosen)),
	}
	for _, c := range chosen {
		out.Matched = append(out.Matched, TokenMatch{A: xs[c.i].text(), B: ys[c.j].text(), Level: c.level, Distance: c.dist})
	}
	return out
}

// tokenLevel is how well two tokens agree, and their edit distance for
// the fuzzy level.
func tokenLevel(a, b *tok) (Level, int) {
	if a.initial || b.initial {
		if a.initial && b.initial {
			switch {
			case a.fold == b.fold:
				return LevelExact, 0
			case sameInitial(a.fold[0], b.fold[0]):
				return LevelPhonetic, 0
			}
			return LevelNone, 0
		}
		full, ini := a, b
		if a.initial {
			full, ini = b, a
		}
		if sameInitial(full.fold[0], ini.fold[0]) {
			return LevelInitial, 0
		}
		return LevelNone, 0
	}
	if a.raw != "" && b.raw != "" && strings.EqualFold(a.raw, b.raw) {
		return LevelExact, 0
	}
	if a.fold == b.fold {
		return LevelFolded, 0
	}
	if a.key == b.key {
		return LevelPhonetic, 0
	}
	tamil := a.tamil || b.tamil
	if tamil {
		// The Latin side needs its voicing-blind key too; cache it.
		if a.loose == "" {
			a.loose = looseKey(a.key)
		}
		if b.loose == "" {
			b.loose = looseKey(b.key)
		}
		if a.loose == b.loose {
			return LevelPhonetic, 0
		}
	}
	// A word in a script that drops the inherent vowel against one that
	// does not: the vowel may be written on the other side (जवहर, Jawahar;
	// नब, Naba), so the form that keeps it is compared too, at most at the
	// phonetic level.
	x, y := a, b
	if y.full != "" && !x.indic {
		x, y = y, x
	}
	alt := x.full != "" && !y.indic
	if alt {
		if x.fullKey == "" {
			x.fullKey = lists.key(x.full)
		}
		if x.full == y.fold || x.fullKey == y.key {
			return LevelPhonetic, 0
		}
		// Medial vowels written, the final one not (अरविंद, Aravind).
		if n := len(x.full); n > 2 && x.full[n-1] == 'a' && !isVowel(x.full[n-2]) && !isVowel(y.fold[len(y.fold)-1]) {
			if x.full[:n-1] == y.fold || lists.key(x.full[:n-1]) == y.key {
				return LevelPhonetic, 0
			}
		}
	}
	k := maxEdits(min(len(a.fold), len(b.fold)))
	d := k + 1
	if k > 0 {
		d = spellingWithin(a.fold, b.fold, k)
		if d > k {
			d = spellingWithin(a.key, b.key, k)
		}
		if d > k && tamil {
			d = spellingWithin(a.loose, b.loose, k)
		}
	}
	if d <= k {
		return LevelFuzzy, d
	}
	if alt {
		if ka := maxEdits(min(len(x.full), len(y.fold))); ka > 0 {
			if d = min(spellingWithin(x.full, y.fold, ka), spellingWithin(x.fullKey, y.key, ka)); d <= ka {
				return LevelFuzzy, d
			}
		}
	}
	return LevelNone, 0
}

// fullOr is the token's form with every inherent vowel kept, or its fold.
func (t *tok) fullOr() string {
	if t.full != "" {
		return t.full
	}
	return t.fold
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// sameInitial reports whether two first letters can stand for one name:
// the same letter, or C and S, which Tamil's one letter ச is written as
// ("C. Sundaram", "S. Sundaram", "स. सुंदरम").
func sameInitial(x, y byte) bool {
	return x == y || x == 'c' && y == 's' || x == 's' && y == 'c'
}

// Closeness is how alike two records' names are written, from 0 to 1: the
// best over pairs of their names of one minus the spelling distance
// (spellingDistance) between their folded identifying tokens, initials
// included, sorted and joined, over the longer's length. It is not
// evidence (Compare's levels are): a search orders candidates of equal
// score by it, so that the record written most like the query comes
// first rather than whichever has the smaller id ("K M Chandran" before
// "Chandran K" for "के एम् चन्द्रन").
func Closeness(a, b []string) float64 { return closeness(a, b, 1) }

// closeness is Closeness, exact from floor up; below floor it may be
// anything below floor (the distance is only computed within the bound).
func closeness(a, b []string, floor float64) float64 {
	best := 0.0
	if len(a) > maxNames {
		a = a[:maxNames]
	}
	if len(b) > maxNames {
		b = b[:maxNames]
	}
	for _, x := range a {
		fx := closenessForm(x)
		for _, y := range b {
			fy := closenessForm(y)
			n := max(len(fx), len(fy))
			if n == 0 {
				continue
			}
			k := int((1 - floor) * float64(n))
			if floor >= 1 {
				k = 3 * n
			}
			if c := 1 - float64(min(spellingWithin(fx, fy, k), n))/float64(n); c > best {
				best = c
			}
		}
	}
	return best
}

// closenessForm is a name's folded identifying tokens, at most maxTokens,
// sorted and joined by spaces, cut at maxClosenessBytes so that a hostile
// name costs no more than a long one.
func closenessForm(s string) string {
	ts := Tokens(s)
	if len(ts) > maxTokens {
		ts = ts[:maxTokens]
	}
	slices.Sort(ts)
	f := strings.Join(ts, " ")
	if len(f) > maxClosenessBytes {
		f = f[:maxClosenessBytes]
	}
	return f
}

// SimilarCloseness is the Closeness from which two names that Compare
// finds no agreement in are still written alike enough to be weak
// evidence ("Augustine" / "अगस्टिन", "Arunachalam" / "अरुणसालम"): on
// the dev split of ../shared/names-real, half of such true pairs reach it
// and 1 in 10,000 pairs of different people.
const SimilarCloseness = 0.5

// Similar reports whether two records' names are written alike
// (Closeness at least SimilarCloseness) though no word agrees by Compare's
// levels: weak evidence, weaker than the fuzzy level.
func Similar(a, b []string) bool { return closeness(a, b, SimilarCloseness) >= SimilarCloseness }

// maxClosenessBytes bounds the folded form Closeness compares (folded
// tokens are ASCII).
const maxClosenessBytes = 64
