package engine

import (
	"fmt"
	"strings"

	"github.com/trackmatch/trackmatch/models/marks"
)

// markRank orders the outcomes of comparing two marks; the field takes the
// best pair. A match outranks a conflict (one mark agreeing exactly is
// strong evidence even if another was recorded on the wrong side), and a
// conflict outranks a partial agreement (a mark of one type at one place on
// opposite sides says more than a loosely described one).
type markRank int

const (
	markNone     markRank = iota // types or places differ
	markVague                    // same type, but one record does not say where
	markPartial                  // type and region agree; one record less precise
	markConflict                 // same type and place, opposite sides
	markMatch                    // same type, part and side
)

// rankMarks turns the agreement of two marks into a rank.
func rankMarks(ag marks.Agreement) markRank {
	switch {
	case ag.Type < marks.Akin || ag.Place == marks.Differ:
		return markNone
	case ag.Place == marks.Unstated:
		return markVague
	case ag.Side == marks.Differ:
		return markConflict
	case ag.Type == marks.Same && ag.Place == marks.Same && ag.Side == marks.Same:
		return markMatch
	}
	return markPartial
}

// compareMarks parses both descriptions (marks.Parse) and compares every
// mark of one with every mark of the other. Levels: "match" (a mark agrees
// in type, part and side), "partial" (type and region agree, the side or the
// precise part stated on one record only, or akin types such as wart and
// mole), "conflict" (same type and place, opposite sides; not a hard block,
// since sides are often swapped when a child is described facing the
// writer), "none" (both describe marks, none agree). No evidence ("") when
// either record has no marks, none can be read, or the only agreement is a
// type whose place one record does not give.
func compareMarks(a, b string) FieldComparison {
	fc := FieldComparison{Field: FieldMarks}
	if strings.TrimSpace(a) == "" || strings.TrimSpace(b) == "" {
		fc.Detail = unknownDetail("marks", strings.TrimSpace(a) != "", strings.TrimSpace(b) != "")
		return fc
	}
	ma, mb := marks.Parse(a), marks.Parse(b)
	if len(ma) == 0 || len(mb) == 0 {
		switch {
		case len(ma) == 0 && len(mb) == 0:
			fc.Detail = "marks: no mark could be read from either description"
		case len(ma) == 0:
			fc.Detail = fmt.Sprintf("marks: no mark could be read from the missing record's description ('%s')", shorten(a))
		default:
			fc.Detail = fmt.Sprintf("marks: no mark could be read from the found record's description ('%s')", shorten(b))
		}
		return fc
	}
	type pair struct{ x, y marks.Mark }
	best := map[markRank]pair{}
	top := markNone
	for _, x := range ma {
		for _, y := range mb {
			r := rankMarks(marks.Compare(x, y))
			if _, ok := best[r]; !ok {
				best[r] = pair{x, y}
			}
			top = max(top, r)
		}
	}
	p := best[top]
	quoted := fmt.Sprintf("'%s' ~ '%s'", shorten(p.x.Text), shorten(p.y.Text))
	switch top {
	case markMatch:
		fc.Level = MarksMatch
		fc.Detail = fmt.Sprintf("marks: %s (both a %s)", quoted, p.x)
		if c, ok := best[markConflict]; ok {
			fc.Detail += fmt.Sprintf("; but '%s' and '%s' are on opposite sides", shorten(c.x.Text), shorten(c.y.Text))
		}
	case markConflict:
		fc.Level = MarksConflict
		fc.Detail = fmt.Sprintf("marks: '%s' vs '%s' (a %s on the %s, but on opposite sides: %s on the missing record, %s on the found record; records sometimes swap sides)",
			shorten(p.x.Text), shorten(p.y.Text), p.x.Type, placeOf(p.x, p.y), p.x.Side, p.y.Side)
	case markPartial:
		fc.Level = MarksPartial
		fc.Detail = fmt.Sprintf("marks: %s (%s and %s: %s)", quoted, p.x, p.y, partialReasons(p.x, p.y))
	case markVague:
		fc.Detail = fmt.Sprintf("marks: both mention a %s but one record does not say where, which is no evidence either way", p.x.Type)
	default:
		fc.Level = MarksNone
		fc.Detail = fmt.Sprintf("marks: no mark agrees (missing: %s; found: %s)", listMarks(ma), listMarks(mb))
	}
	return fc
}

// partialReasons says how two partly agreeing marks agree and differ.
func partialReasons(x, y marks.Mark) string {
	ag := marks.Compare(x, y)
	var rs []string
	if ag.Type == marks.Same {
		rs = append(rs, "same kind")
	} else {
		rs = append(rs, "kinds often confused")
	}
	switch {
	case ag.Place == marks.Same:
		rs = append(rs, "same part")
	case x.Part == marks.Region(x.Part) || y.Part == marks.Region(y.Part):
		rs = append(rs, "same region, one record gives only the region")
	default:
		rs = append(rs, "adjoining parts")
	}
	switch {
	case ag.Side == marks.Unstated:
		rs = append(rs, "side given on one record only")
	case x.Side != "":
		rs = append(rs, "same side")
	}
	return strings.Join(rs, ", ")
}

// placeOf names the place two marks share, the more precise of the two.
func placeOf(x, y marks.Mark) string {
	if x.Part == marks.Region(x.Part) && y.Part != "" {
		return y.Part
	}
	return x.Part
}

// listMarks describes up to three marks, and how many more there are.
func listMarks(ms []marks.Mark) string {
	var parts []string
	for i, m := range ms {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("%d more", len(ms)-3))
			break
		}
		parts = append(parts, m.String())
	}
	return strings.Join(parts, ", ")
}

// shorten cuts a quoted phrase to a readable length.
func shorten(s string) string {
	const maxRunes = 60
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxRunes {
		return string(r[:maxRunes-1]) + "…"
	}
	return s
}
