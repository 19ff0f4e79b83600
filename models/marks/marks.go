// Package marks reads identifying marks written as free text ("black mole on
// left cheek", "til on left side of face", "jalne ka nishan daayan haath")
// into structured marks that can be compared.
//
// The words it knows (English, Hindi in Latin letters, Devanagari) are data,
// in data/*.txt; the code only knows how a description is put together:
// phrases separated by commas or "and", each naming a type of mark, a side and
// a body part in either order ("mole on left cheek", "baayen gaal par til").
// Colour and size words are not needed for comparison and are skipped, but a
// mark's Text keeps the phrase as written.
package marks

import (
	"fmt"
	"strings"
	"unicode"
)

// Mark is one identifying mark: what it is, on which side, on which part of
// the body. An empty field was not stated.
type Mark struct {
	Type string `json:"type"` // canonical: mole, scar, burn, birthmark, tattoo, cut, wart, ...
	Side string `json:"side"` // left, right or ""
	Part string `json:"part"` // canonical body part: face, cheek, hand, arm, leg, ...
	Text string `json:"text"` // the phrase it was read from
}

// Canonical values that callers may test for.
const (
	SideLeft  = "left"
	SideRight = "right"
	// TypeMark is the generic type: a mark whose kind is not stated
	// ("nishan", "daag", "spot").
	TypeMark = "mark"
)

// MaxMarks is the most marks Parse returns for one description, so that a
// hostile description cannot make comparisons quadratic in its length.
const MaxMarks = 32

// String describes m in words, e.g. "mole on the left cheek", "mole on
// the left side of the face".
func (m Mark) String() string {
	var b strings.Builder
	b.WriteString(m.Type)
	switch {
	case m.Part != "" && m.Side != "" && lex().midline[m.Part]:
		fmt.Fprintf(&b, " on the %s side of the %s", m.Side, m.Part)
	case m.Part != "" && m.Side != "":
		fmt.Fprintf(&b, " on the %s %s", m.Side, m.Part)
	case m.Part != "":
		fmt.Fprintf(&b, " on the %s", m.Part)
	case m.Side != "":
		fmt.Fprintf(&b, " on the %s side", m.Side)
	default:
		b.WriteString(" (place not stated)")
	}
	return b.String()
}

// Parse reads every mark in a free-text description, with synonyms and
// common Hindi words in Latin letters (til = mole, nishan = mark). It
// returns nil for a description that names no mark ("no marks", "nil").
func Parse(text string) []Mark {
	lx := lex()
	its := mergeTypes(readItems(lx, tokenize(text)))
	p := parser{text: text, prev: -1}
	start := 0
	for len(its) > 0 {
		n := 0
		for n < len(its) && its[n].kind != kindAnd {
			n++
		}
		stop := len(text)
		if n < len(its) {
			stop = its[n].start
		}
		p.clause(its[:n], start, stop)
		if n == len(its) {
			break
		}
		start = its[n].stop
		its = its[n+1:]
	}
	return p.result()
}

// Region returns the coarse body region of a part ("cheek" → "face"), so
// that marks described at different precision can still agree. It returns
// "" for a part it does not know.
func Region(part string) string { return lex().region[part] }

// item is one meaningful phrase of a description: a type, side, part, near
// word or negation, or (kindAnd) the end of a clause.
type item struct {
	kind        kind
	value       string
	first, end  int // token span
	start, stop int // byte span in the text
}

// readItems turns tokens into items, longest phrase first; words the
// lexicon does not know (colours, sizes, postpositions) are dropped.
func readItems(lx *lexicon, toks []token) []item {
	its := make([]item, 0, len(toks))
	words := make([]string, 0, len(toks))
	idx := make([]int, 0, len(toks)) // token index of each word
	emit := func() {
		for i := 0; i < len(words); {
			p, n := lx.lookup(words, i)
			if n == 0 {
				var ok bool
				if p, ok = lx.lookupWord(words[i]); ok {
					n = 1
				}
			}
			if n == 0 {
				i++
				continue
			}
			if p.kind != kindIgnore {
				a, b := toks[idx[i]], toks[idx[i+n-1]]
				its = append(its, item{kind: p.kind, value: p.value, first: idx[i], end: idx[i+n-1] + 1, start: a.start, stop: b.end})
			}
			i += n
		}
		words, idx = words[:0], idx[:0]
	}
	for i, t := range toks {
		if t.sep {
			emit()
			its = append(its, item{kind: kindAnd, first: i, end: i + 1, start: t.start, stop: t.end})
			continue
		}
		words = append(words, t.word)
		idx = append(idx, i)
	}
	emit()
	return its
}

// mergeTypes joins a type with the next one when at most two unknown words
// lie between them and one is generic or both are the same: "chot ka
// nishan" is one scar, "burn mark" one burn.
func mergeTypes(its []item) []item {
	out := its[:0] // in place: out never overtakes the reading position
	for _, it := range its {
		if n := len(out); n > 0 && it.kind == kindType && out[n-1].kind == kindType && it.first-out[n-1].end <= 2 {
			last := &out[n-1]
			if last.value == it.value || last.value == TypeMark || it.value == TypeMark {
				if last.value == TypeMark {
					last.value = it.value
				}
				last.end, last.stop = it.end, it.stop
				continue
			}
		}
		out = append(out, it)
	}
	return out
}

// location is a side and part read together ("left cheek"); landmark says
// the part came after a near word ("below the left eye").
type location struct {
	side, part  string
	landmark    bool
	start, stop int
}

// parser builds marks clause by clause. A clause without a type continues
// the previous mark ("mole on lt. cheek" is read as "mole on lt" and
// "cheek"), or, when none came before, waits for the next one.
type parser struct {
	text    string
	marks   []Mark
	spans   [][2]int   // byte span of each mark's text
	prev    int        // index of the last mark made, -1 after a negated clause
	pending []location // places read before any type, for the next mark
	// pendingStart is where the text of the pending places begins.
	pendingStart int
}

// clause reads the items of one clause, which spans text[start:stop].
func (p *parser) clause(its []item, start, stop int) {
	if len(its) == 0 {
		return
	}
	for _, it := range its {
		if it.kind == kindNegation {
			p.prev, p.pending = -1, nil
			return
		}
	}
	var types []int
	for i, it := range its {
		if it.kind == kindType {
			types = append(types, i)
		}
	}
	if len(types) == 0 {
		p.continueMark(locations(its), start, stop)
		return
	}
	segs := segments(its, types)
	for k, seg := range segs {
		// Each segment's text runs from where the previous one ended, so
		// that words between (colours, sizes) stay with a mark.
		from, to := start, stop
		if k > 0 {
			last := segs[k-1].items
			from = last[len(last)-1].stop
		}
		if k+1 < len(segs) {
			to = seg.items[len(seg.items)-1].stop
		}
		locs := locations(seg.items)
		if len(p.pending) > 0 {
			from = min(from, p.pendingStart)
			locs = append(p.pending, locs...)
			p.pending = nil
		}
		for _, m := range placeAll(seg.items[seg.typ].value, locs) {
			p.add(m, from, to)
		}
	}
}

// continueMark applies a clause without a type, spanning text[start:stop],
// to the previous mark: it fills the part (and side) the mark lacks, or
// else makes new marks of the same type ("scar on left hand and right knee").
func (p *parser) continueMark(locs []location, start, stop int) {
	if len(locs) == 0 {
		return
	}
	if p.prev < 0 {
		if len(p.pending) == 0 {
			p.pendingStart = start
		}
		p.pending = append(p.pending, locs...)
		return
	}
	prev := p.marks[p.prev]
	first := locs[0]
	fillsPart := prev.Part == "" && (first.side == "" || prev.Side == "" || first.side == prev.Side)
	fillsSide := first.part == "" && prev.Side == "" // "mole on face (left side)"
	if fillsPart || fillsSide {
		m := &p.marks[p.prev]
		if fillsPart {
			m.Part = first.part
		}
		if m.Side == "" {
			m.Side = first.side
		}
		p.spans[p.prev][1] = stop
		if locs = locs[1:]; len(locs) == 0 {
			return
		}
	}
	from := p.spans[p.prev][0]
	for _, m := range placeAll(prev.Type, locs) {
		p.add(m, from, stop)
	}
}

func (p *parser) add(m Mark, start, stop int) {
	p.marks = append(p.marks, m)
	p.spans = append(p.spans, [2]int{start, stop})
	p.prev = len(p.marks) - 1
}

// result drops marks that say nothing (a generic mark with no place, a
// type with no place when a placed mark of that type exists), duplicates
// and marks beyond MaxMarks, and fills in each mark's text.
func (p *parser) result() []Mark {
	var out []Mark
	seen := map[Mark]bool{}
	placed := map[string]bool{}
	for _, m := range p.marks {
		if m.Part != "" || m.Side != "" {
			placed[m.Type] = true
		}
	}
	for i, m := range p.marks {
		if m.Part == "" && m.Side == "" && (m.Type == TypeMark || placed[m.Type]) {
			continue
		}
		key := m
		if seen[key] {
			continue
		}
		seen[key] = true
		m.Text = p.phrase(p.spans[i])
		out = append(out, m)
		if len(out) == MaxMarks {
			break
		}
	}
	return out
}

// segment is the part of a clause that belongs to one type.
type segment struct {
	typ   int // index of the type item in the clause
	items []item
}

// segments splits a clause with several types into one segment per type.
// If the clause starts with a type, each type takes what follows it
// ("mole left cheek scar right knee"); otherwise each takes what precedes
// it ("left cheek mole right knee scar", "baayen gaal par til").
func segments(its []item, types []int) []segment {
	segs := make([]segment, len(types))
	typeFirst := types[0] == 0
	for k, ti := range types {
		var from, to int
		if typeFirst {
			from, to = ti, len(its)
			if k+1 < len(types) {
				to = types[k+1]
			}
		} else {
			from, to = 0, ti+1
			if k > 0 {
				from = types[k-1] + 1
			}
			if k == len(types)-1 {
				to = len(its) // what trails the last type is still about it
			}
		}
		segs[k] = segment{typ: ti - from, items: its[from:to]}
	}
	return segs
}

// locations reads sides and parts into places: sides before a part go with
// it, a side after the last part goes with that part ("face, left side"),
// and a part inside the region named just before it refines it ("right
// hand finger" is the right finger).
func locations(its []item) []location {
	var locs []location
	side, near := "", false
	sideStart := -1
	for _, it := range its {
		switch it.kind {
		case kindSide:
			side = it.value
			if sideStart < 0 {
				sideStart = it.start
			}
		case kindNear:
			near = true
		case kindPart:
			if n := len(locs); n > 0 && !near && refines(locs[n-1].part, it.value) && (side == "" || locs[n-1].side == "" || side == locs[n-1].side) {
				// "seedhe haath ki kalai": the wrist of the right hand.
				last := &locs[n-1]
				last.part, last.stop = it.value, it.stop
				if last.side == "" {
					last.side = side
				}
				side, sideStart = "", -1
				continue
			}
			start := it.start
			if sideStart >= 0 {
				start = sideStart
			}
			locs = append(locs, location{side: side, part: it.value, landmark: near, start: start, stop: it.stop})
			side, near, sideStart = "", false, -1
		}
	}
	if side != "" {
		if n := len(locs); n > 0 && locs[n-1].side == "" {
			locs[n-1].side = side
		} else {
			locs = append(locs, location{side: side, start: sideStart, stop: sideStart})
		}
	}
	return locs
}

// refines reports whether part is a more precise place inside region, a
// part that names a whole region ("hand" and "wrist").
func refines(region, part string) bool {
	return region != "" && region != part && Region(region) == region && Region(part) == region
}

// placeAll makes the marks of type t at the given locations. A landmark after
// a part only adds its side ("mole on cheek below left eye" is on the left
// cheek); a landmark alone is the place ("mole near left eye"), until a real
// part follows it.
func placeAll(t string, locs []location) []Mark {
	var ms []Mark
	fromLandmark := false
	for _, l := range locs {
		n := len(ms)
		switch {
		case n > 0 && l.part == "" && ms[n-1].Side == "":
			ms[n-1].Side = l.side
		case n > 0 && l.landmark && ms[n-1].Part != "":
			if ms[n-1].Side == "" {
				ms[n-1].Side = l.side
			}
		case n > 0 && ms[n-1].Part == "" && l.part != "" && (l.side == "" || ms[n-1].Side == "" || l.side == ms[n-1].Side):
			// "Lt. eye brow mole": a side, then its part.
			ms[n-1].Part = l.part
			if ms[n-1].Side == "" {
				ms[n-1].Side = l.side
			}
			fromLandmark = l.landmark
		case n > 0 && fromLandmark && !l.landmark:
			ms[n-1].Part = l.part
			if l.side != "" {
				ms[n-1].Side = l.side
			}
			fromLandmark = false
		default:
			ms = append(ms, Mark{Type: t, Side: l.side, Part: l.part})
			fromLandmark = l.landmark
		}
	}
	if len(ms) == 0 {
		ms = append(ms, Mark{Type: t})
	}
	return ms
}

// phrase returns the text of a mark, trimmed of white space and leading
// punctuation (bullets, dashes), and of the number of the next item when
// the description is a numbered list ("1. mole near nose 2. burn ..."),
// with a bracket it opened closed.
func (p *parser) phrase(span [2]int) string {
	if strings.Count(p.text[span[0]:span[1]], "(") > strings.Count(p.text[span[0]:span[1]], ")") {
		if i := strings.IndexByte(p.text[span[1]:], ')'); i >= 0 && strings.TrimSpace(p.text[span[1]:span[1]+i]) == "" {
			span[1] += i + 1 // close the bracket the phrase opened: "mole on face (left side)"
		}
	}
	s := strings.TrimLeftFunc(p.text[span[0]:span[1]], func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	if rest := p.text[span[1]:]; (strings.HasPrefix(rest, ".") || strings.HasPrefix(rest, ")")) && strings.TrimSpace(rest[1:]) != "" {
		if i := strings.LastIndexFunc(s, func(r rune) bool { return !unicode.IsDigit(r) }); i >= 0 && i < len(s)-1 && s[i] == ' ' {
			s = strings.TrimRightFunc(s[:i], unicode.IsSpace)
		}
	}
	return s
}
