package synth

import (
	"embed"
	"fmt"
	"strconv"
	"strings"
)

// The name, place and mark lists (see data/README.txt for their format).
//
//go:embed data/*.txt
var dataFS embed.FS

// name is one given name, surname or pet name with its spellings.
type name struct {
	sex    string            // m, f, u (either) or - (surnames: either)
	weight float64           // relative frequency within its pool
	latin  []string          // spellings, usual first
	native map[string]string // script code → written form
}

// community is a naming pool of a state: where its given names and
// surnames come from.
type community struct {
	given, surname string // pool names; surname "initial" for an initial letter
	weight         float64
}

// district is a district with its alternative names.
type district struct {
	names []string // official first
	hub   bool     // children from elsewhere are often found here
}

// state is one state with its districts and communities.
type state struct {
	name        string
	weight      float64
	script      string
	languages   []string
	communities []community
	districts   []district
}

// markPart is a body part with its coarse region and words for it.
type markPart struct {
	key, region string
	sided       bool // marks here are usually given a side
	words       []string
}

// markTemplate is a pattern for writing a mark.
type markTemplate struct {
	pattern string
	noSide  bool
	hindi   bool
}

// corpus is the parsed data.
type corpus struct {
	given    map[string][]name // pool → names
	surnames map[string][]name
	pets     []name
	states   []state
	hubs     []hubRef // every hub district

	markTypes     []string            // canonical types, in file order
	markTypeWords map[string][]string // type → phrases
	markParts     []markPart
	sides         map[string][]string // left/right → phrases
	templates     []markTemplate
	noMarks       []string
}

// hubRef points at a hub district.
type hubRef struct{ state, district int }

// loadCorpus parses the embedded data. The data ships with the code, so an
// error here is a bug in a data file; the tests parse it.
func loadCorpus() (*corpus, error) {
	c := &corpus{
		given:         map[string][]name{},
		surnames:      map[string][]name{},
		markTypeWords: map[string][]string{},
		sides:         map[string][]string{},
	}
	for _, f := range []struct {
		file string
		into map[string][]name
	}{{"given.txt", c.given}, {"surnames.txt", c.surnames}, {"pets.txt", nil}} {
		err := eachLine(f.file, 5, func(cols []string) error {
			n, pools, err := parseName(cols)
			if err != nil {
				return err
			}
			for _, p := range pools {
				if f.into == nil {
					c.pets = append(c.pets, n)
				} else {
					f.into[p] = append(f.into[p], n)
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	if err := eachLine("places.txt", 6, func(cols []string) error {
		s, err := parseState(cols)
		if err != nil {
			return err
		}
		for _, cm := range s.communities {
			if len(c.given[cm.given]) == 0 {
				return fmt.Errorf("state %s: no given names in pool %q", s.name, cm.given)
			}
			if cm.surname != "initial" && len(c.surnames[cm.surname]) == 0 {
				return fmt.Errorf("state %s: no surnames in pool %q", s.name, cm.surname)
			}
		}
		for i, d := range s.districts {
			if d.hub {
				c.hubs = append(c.hubs, hubRef{state: len(c.states), district: i})
			}
		}
		c.states = append(c.states, s)
		return nil
	}); err != nil {
		return nil, err
	}
	if err := eachLine("marks.txt", 4, c.addMarkLine); err != nil {
		return nil, err
	}
	switch {
	case len(c.states) == 0 || len(c.hubs) == 0:
		return nil, fmt.Errorf("places.txt: no states or no hub districts")
	case len(c.markTypes) == 0 || len(c.markParts) == 0 || len(c.sides) != 2 || len(c.templates) == 0:
		return nil, fmt.Errorf("marks.txt: types, parts, both sides and templates are all needed")
	case len(c.pets) == 0:
		return nil, fmt.Errorf("pets.txt: no pet names")
	}
	return c, nil
}

// eachLine calls fn with the TAB-separated columns of every line of a data
// file that is neither blank nor a comment.
func eachLine(file string, ncols int, fn func([]string) error) error {
	b, err := dataFS.ReadFile("data/" + file)
	if err != nil {
		return fmt.Errorf("read %s: %w", file, err)
	}
	for i, line := range strings.Split(string(b), "\n") {
		if strings.TrimSpace(line) == "" || strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		cols := strings.Split(line, "\t")
		if len(cols) != ncols {
			return fmt.Errorf("%s:%d: %d columns, want %d", file, i+1, len(cols), ncols)
		}
		for j := range cols {
			cols[j] = strings.TrimSpace(cols[j])
		}
		if err := fn(cols); err != nil {
			return fmt.Errorf("%s:%d: %w", file, i+1, err)
		}
	}
	return nil
}

// splitList splits a comma-separated list, trimming and dropping empties
// and repeats.
func splitList(s string) []string {
	var out []string
	seen := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p != "" && !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

func parseWeight(s string) (float64, error) {
	w, err := strconv.ParseFloat(s, 64)
	if err != nil || w <= 0 {
		return 0, fmt.Errorf("weight %q: want a positive number", s)
	}
	return w, nil
}

func knownScript(s string) bool {
	switch s {
	case "deva", "beng", "guru", "gujr", "orya", "taml", "telu", "knda", "mlym":
		return true
	}
	return false
}

func parseName(cols []string) (name, []string, error) {
	pools := splitList(cols[0])
	n := name{sex: cols[1], latin: splitList(cols[3]), native: map[string]string{}}
	switch n.sex {
	case "m", "f", "u", "-":
	default:
		return name{}, nil, fmt.Errorf("sex %q: want m, f, u or -", n.sex)
	}
	w, err := parseWeight(cols[2])
	if err != nil {
		return name{}, nil, err
	}
	n.weight = w
	if len(pools) == 0 || len(n.latin) == 0 {
		return name{}, nil, fmt.Errorf("a name needs a pool and a Latin spelling")
	}
	for _, f := range strings.Fields(cols[4]) {
		script, form, ok := strings.Cut(f, ":")
		if !ok || !knownScript(script) || form == "" {
			return name{}, nil, fmt.Errorf("native form %q: want script:form", f)
		}
		n.native[script] = form
	}
	return n, pools, nil
}

func parseState(cols []string) (state, error) {
	s := state{name: cols[0], script: cols[2], languages: splitList(cols[3])}
	w, err := parseWeight(cols[1])
	if err != nil {
		return state{}, err
	}
	s.weight = w
	if !knownScript(s.script) {
		return state{}, fmt.Errorf("script %q unknown", s.script)
	}
	for _, f := range strings.Fields(cols[4]) {
		pools, ws, ok := strings.Cut(f, ":")
		given, surname, ok2 := strings.Cut(pools, "/")
		if !ok || !ok2 {
			return state{}, fmt.Errorf("community %q: want given/surname:weight", f)
		}
		w, err := parseWeight(ws)
		if err != nil {
			return state{}, err
		}
		s.communities = append(s.communities, community{given: given, surname: surname, weight: w})
	}
	for _, d := range splitList(cols[5]) {
		hub := strings.HasSuffix(d, "*")
		var names []string
		for _, n := range strings.Split(strings.TrimSuffix(d, "*"), "|") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
		if len(names) == 0 {
			return state{}, fmt.Errorf("empty district")
		}
		s.districts = append(s.districts, district{names: names, hub: hub})
	}
	if len(s.communities) == 0 || len(s.districts) == 0 {
		return state{}, fmt.Errorf("state %s needs communities and districts", s.name)
	}
	return s, nil
}

func (c *corpus) addMarkLine(cols []string) error {
	kind, key, extra, phrases := cols[0], cols[1], cols[2], splitList(cols[3])
	if len(phrases) == 0 {
		return fmt.Errorf("no phrases")
	}
	switch kind {
	case "type":
		if _, dup := c.markTypeWords[key]; !dup {
			c.markTypes = append(c.markTypes, key)
		}
		c.markTypeWords[key] = append(c.markTypeWords[key], phrases...)
	case "part":
		region, flag, _ := strings.Cut(extra, ",")
		if key == "" || region == "" || (flag != "" && flag != "sided") {
			return fmt.Errorf("a part needs a key and a region, optionally \",sided\"")
		}
		c.markParts = append(c.markParts, markPart{key: key, region: region, sided: flag == "sided", words: phrases})
	case "side":
		if key != "left" && key != "right" {
			return fmt.Errorf("side %q: want left or right", key)
		}
		c.sides[key] = append(c.sides[key], phrases...)
	case "template":
		flags := splitList(key)
		t := markTemplate{}
		for _, f := range flags {
			switch f {
			case "noside":
				t.noSide = true
			case "hi":
				t.hindi = true
			default:
				return fmt.Errorf("template flag %q unknown", f)
			}
		}
		for _, p := range phrases {
			if !strings.Contains(p, "{type}") || !strings.Contains(p, "{part}") || strings.Contains(p, "{side}") == t.noSide {
				return fmt.Errorf("template %q does not fit its flags", p)
			}
			t.pattern = p
			c.templates = append(c.templates, t)
		}
	case "none":
		c.noMarks = append(c.noMarks, phrases...)
	default:
		return fmt.Errorf("kind %q unknown", kind)
	}
	return nil
}
