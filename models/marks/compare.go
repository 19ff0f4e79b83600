package marks

// Degree is how far two marks agree in one respect (type, place or side),
// from Differ to Same.
type Degree int

// Degrees of agreement, weakest first.
const (
	// Differ: stated on both and different (mole against scar, cheek
	// against knee, left against right).
	Differ Degree = iota
	// Unstated: not stated on one of the two, so neither agrees nor differs.
	Unstated
	// Akin: close but not the same. Types: akin types (data/akin.txt) or one
	// of them the generic "mark". Places: one states only the region of the
	// other's part (face and cheek), or the parts are adjacent (eye and
	// cheek, data/adjacent.txt).
	Akin
	// Same: the same type, part or side. Two unstated sides are the same.
	Same
)

// String names the degree.
func (d Degree) String() string {
	switch d {
	case Differ:
		return "differ"
	case Unstated:
		return "unstated"
	case Akin:
		return "akin"
	case Same:
		return "same"
	}
	return "unknown"
}

// Agreement is how two marks agree, respect by respect.
type Agreement struct {
	Type, Place, Side Degree
}

// Compare says how marks a and b agree in type, place and side. It knows
// which types are akin and which parts adjoin; what the agreement means for
// a match is the caller's decision.
func Compare(a, b Mark) Agreement {
	lx := lex()
	var ag Agreement
	switch {
	case a.Type == b.Type:
		ag.Type = Same
	case a.Type == "" || b.Type == "":
		ag.Type = Unstated
	case a.Type == TypeMark || b.Type == TypeMark || lx.akin[[2]string{a.Type, b.Type}]:
		ag.Type = Akin
	}
	switch {
	case a.Part == "" || b.Part == "":
		ag.Place = Unstated
	case a.Part == b.Part:
		ag.Place = Same
	case lx.adjacent[[2]string{a.Part, b.Part}]:
		ag.Place = Akin
	default:
		if r := lx.region[a.Part]; r != "" && r == lx.region[b.Part] && (a.Part == r || b.Part == r) {
			ag.Place = Akin
		}
	}
	switch {
	case a.Side == b.Side:
		ag.Side = Same
	case a.Side == "" || b.Side == "":
		ag.Side = Unstated
	}
	return ag
}
