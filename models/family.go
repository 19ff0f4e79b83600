package models

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/trackmatch/trackmatch/models/names"
)

// Relation is how a guardian is related to the child.
type Relation string

// Known relations. RelationUnknown ("") is read as RelationOther: records
// made before relations were kept, and guardians whose relation nobody
// wrote down.
const (
	RelationFather   Relation = "father"
	RelationMother   Relation = "mother"
	RelationGuardian Relation = "guardian"
	RelationOther    Relation = "other"
	RelationUnknown  Relation = ""
)

// Valid reports whether r is a known relation ("" counts as other).
func (r Relation) Valid() bool {
	switch r {
	case RelationFather, RelationMother, RelationGuardian, RelationOther, RelationUnknown:
		return true
	}
	return false
}

// Parent reports whether r says which parent the guardian is.
func (r Relation) Parent() bool { return r == RelationFather || r == RelationMother }

// Guardian is a parent or other guardian of the child, by name.
type Guardian struct {
	Name     string   `json:"name"`
	Relation Relation `json:"relation,omitempty"`
}

// errGuardianShape is the error of a guardian that is neither a name nor
// an object with a name and a relation.
var errGuardianShape = errors.New("a guardian must be a name or an object with name and relation")

// UnmarshalJSON reads a guardian as an object or, as records written
// before relations were kept, as a plain name (relation unknown).
func (g *Guardian) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return errGuardianShape
		}
		*g = Guardian{Name: s}
		return nil
	}
	type plain Guardian
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return errGuardianShape
	}
	*g = Guardian(p)
	return nil
}

// Home is the child's home address as a family or the child gives it.
type Home struct {
	// Village is the village, town locality or mohalla.
	Village       string `json:"village,omitempty"`
	PoliceStation string `json:"police_station,omitempty"`
	District      string `json:"district,omitempty"`
	State         string `json:"state,omitempty"`
	// Landmarks is free text: "near the big temple, behind the school".
	Landmarks string `json:"landmarks,omitempty"`
}

// IsZero reports whether nothing of the home is known.
func (h Home) IsZero() bool { return h == Home{} }

// Clothing is what the child wore when last seen (missing) or when found:
// each field free text in English or Hindi in Latin or Devanagari letters
// ("lal kameez", "blue frock"); see models/clothing for the vocabulary.
type Clothing struct {
	Garment string `json:"garment,omitempty"`
	Colour  string `json:"colour,omitempty"`
	Pattern string `json:"pattern,omitempty"`
	Text    string `json:"text,omitempty"`
}

// IsZero reports whether nothing of the clothing is known.
func (c Clothing) IsZero() bool { return c == Clothing{} }

// Descriptors are optional general descriptions, weak evidence.
type Descriptors struct {
	Complexion string `json:"complexion,omitempty"` // fair, wheatish, dusky, dark
	Build      string `json:"build,omitempty"`      // thin, medium, heavy
	Hair       string `json:"hair,omitempty"`       // free text: "short curly", "long black"
}

// Descriptor values validated on records.
var (
	Complexions = []string{"fair", "wheatish", "dusky", "dark"}
	Builds      = []string{"thin", "medium", "heavy"}
)

// Limits of the family, home and clothing fields.
const (
	MaxGuardians = 10
)

// validateFamily adds the problems of c's guardians, home, clothing and
// descriptors.
func (c *Child) validateFamily(add func(string, string, ...any)) {
	if len(c.Guardians) > MaxGuardians {
		add("guardians", "at most %d guardians, got %d", MaxGuardians, len(c.Guardians))
	}
	for i, g := range c.Guardians {
		if i >= MaxGuardians {
			break
		}
		f := fmt.Sprintf("guardians[%d]", i)
		if strings.TrimSpace(g.Name) == "" {
			add(f+".name", "must not be empty")
		}
		checkText(f+".name", g.Name, MaxNameRunes, add)
		if !g.Relation.Valid() {
			add(f+".relation", "must be %q, %q, %q or %q, got %q", RelationFather, RelationMother, RelationGuardian, RelationOther, clip(string(g.Relation)))
		}
	}
	checkText("home.village", c.Home.Village, MaxNameRunes, add)
	checkText("home.police_station", c.Home.PoliceStation, MaxNameRunes, add)
	checkText("home.district", c.Home.District, MaxNameRunes, add)
	checkText("home.state", c.Home.State, MaxNameRunes, add)
	checkText("home.landmarks", c.Home.Landmarks, MaxTextRunes, add)
	checkText("clothing.garment", c.Clothing.Garment, MaxNameRunes, add)
	checkText("clothing.colour", c.Clothing.Colour, MaxNameRunes, add)
	checkText("clothing.pattern", c.Clothing.Pattern, MaxNameRunes, add)
	checkText("clothing.text", c.Clothing.Text, MaxTextRunes, add)
	checkChoice("descriptors.complexion", c.Descriptors.Complexion, Complexions, add)
	checkChoice("descriptors.build", c.Descriptors.Build, Builds, add)
	checkText("descriptors.hair", c.Descriptors.Hair, MaxNameRunes, add)
}

func checkChoice(field, v string, choices []string, add func(string, string, ...any)) {
	if v == "" {
		return
	}
	for _, c := range choices {
		if strings.EqualFold(strings.TrimSpace(v), c) {
			return
		}
	}
	add(field, "must be one of %s, got %q", strings.Join(choices, ", "), clip(v))
}

// clip shortens a value quoted back in an error message.
func clip(s string) string {
	if r := []rune(s); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return s
}

// relationMarkers are the folded (names.Fold) relation markers written
// inside a name, and the relation of the person named after them. The
// words are those of models/names' relations.txt that say which relative
// follows; "S/O" and "D/O" name the father in Indian records.
var relationMarkers = map[string]Relation{
	"s o": RelationFather, "d o": RelationFather, "so": RelationFather, "do": RelationFather,
	"son of": RelationFather, "daughter of": RelationFather, "f o": RelationFather,
	"putra": RelationFather, "putri": RelationFather, "suputra": RelationFather, "suputri": RelationFather,
	"putr": RelationFather, "suputr": RelationFather, "bin": RelationFather, "binti": RelationFather, "binte": RelationFather,
	"pita": RelationFather, "father": RelationFather, "father name": RelationFather, "fathers name": RelationFather,
	"mata": RelationMother, "mother": RelationMother, "mother name": RelationMother, "mothers name": RelationMother,
	"m o": RelationMother,
	"c o": RelationGuardian, "care of": RelationGuardian, "guardian": RelationGuardian,
	"w o": RelationOther, "wife of": RelationOther, "h o": RelationOther, "husband of": RelationOther,
	"pati": RelationOther, "patni": RelationOther,
}

// SplitRelation finds a relation marker in a written name ("Rahul S/O
// Ramesh", "राहुल पिता रमेश", "son of Ramesh"): before is the text before
// it, relative the name after it and rel the relation it gives; ok is false
// when s has no marker followed by a name.
func SplitRelation(s string) (before, relative string, rel Relation, ok bool) {
	words := strings.Fields(s)
	for i := range words {
		for n := 2; n >= 1; n-- {
			if i+n > len(words) {
				continue
			}
			r, found := relationMarkers[names.Fold(strings.Join(words[i:i+n], " "))]
			if !found || i+n == len(words) {
				continue
			}
			rest := strings.Trim(strings.Join(words[i+n:], " "), " :-,.")
			if len(names.Tokens(rest)) == 0 {
				continue
			}
			return strings.Trim(strings.Join(words[:i], " "), " :-,"), rest, r, true
		}
	}
	return strings.TrimSpace(s), "", "", false
}

// normalizeFamily moves relations written into names to the guardians
// they name ("Rahul S/O Ramesh" becomes the name "Rahul" and a father
// "Ramesh"), reads a relation written before a guardian's name ("पिता
// रमेश"), and folds descriptor values to lower case.
func (c *Child) normalizeFamily() {
	kept := c.Names[:0]
	for _, n := range c.Names {
		before, rel, r, ok := SplitRelation(n)
		if !ok {
			kept = append(kept, n)
			continue
		}
		c.addGuardian(Guardian{Name: rel, Relation: r})
		if before != "" {
			kept = append(kept, before)
		}
	}
	c.Names = kept
	for i := range c.Guardians {
		g := &c.Guardians[i]
		g.Name = strings.TrimSpace(g.Name)
		if before, rel, r, ok := SplitRelation(g.Name); ok && before == "" {
			g.Name = rel
			if g.Relation == RelationUnknown || g.Relation == RelationOther {
				g.Relation = r
			}
		}
	}
	c.Descriptors.Complexion = strings.ToLower(strings.TrimSpace(c.Descriptors.Complexion))
	c.Descriptors.Build = strings.ToLower(strings.TrimSpace(c.Descriptors.Build))
}

// addGuardian adds g unless a guardian of that name is already there, in
// which case an unknown relation takes g's.
func (c *Child) addGuardian(g Guardian) {
	for i := range c.Guardians {
		if names.Fold(c.Guardians[i].Name) == names.Fold(g.Name) {
			if c.Guardians[i].Relation == RelationUnknown {
				c.Guardians[i].Relation = g.Relation
			}
			return
		}
	}
	c.Guardians = append(c.Guardians, g)
}

// GuardiansOf returns the names of the guardians whose relation is r
// (RelationUnknown also gives those marked other or guardian).
func (c *Child) GuardiansOf(r Relation) []string {
	var out []string
	for _, g := range c.Guardians {
		gr := g.Relation
		if !gr.Parent() {
			gr = RelationUnknown
		}
		if gr == r {
			out = append(out, g.Name)
		}
	}
	return out
}
