package names

import (
	"embed"
	"fmt"
	"sort"
	"strings"
)

// The word lists are data, not code: data/*.txt, one entry per line, "#"
// comments. They are parsed once into read-only tables.
//
//go:embed data/*.txt
var dataFS embed.FS

// wordLists is every list the package uses, parsed and keyed. It is built
// once (lists) and never written afterwards.
type wordLists struct {
	titles    map[string]bool   // folded words always dropped
	soft      map[string]bool   // folded words dropped unless alone
	aliases   map[string]bool   // folded words that split a name into aliases
	relations map[string]bool   // folded one- or two-word relation markers ("s o")
	family    map[string]bool   // phonetic keys of family names
	suffixes  []string          // folded courtesy suffixes, longest first
	classes   map[string]string // phonetic key of a variant → key of its class
	endings   []ending          // key endings, longest first
	letters   map[string]byte   // folded Indic spellings of Latin letter names → letter
}

// ending rewrites the end of a key: from → to.
type ending struct{ from, to string }

// lists holds the parsed data. Read-only after package initialisation.
var lists = mustLoadLists()

func mustLoadLists() *wordLists {
	l, err := loadLists()
	if err != nil {
		panic(fmt.Sprintf("names: embedded word lists: %v", err))
	}
	return l
}

// loadLists parses the embedded files. Endings are loaded first because the
// keys of family names and equivalence classes are computed with them.
func loadLists() (*wordLists, error) {
	l := &wordLists{}
	read := func(name string) ([]string, error) {
		b, err := dataFS.ReadFile("data/" + name)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		var out []string
		for _, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			out = append(out, line)
		}
		return out, nil
	}
	set := func(name string) (map[string]bool, error) {
		lines, err := read(name)
		if err != nil {
			return nil, err
		}
		m := make(map[string]bool, len(lines))
		for _, w := range lines {
			m[strings.Join(strings.Fields(w), " ")] = true
		}
		return m, nil
	}
	var err error
	lines, err := read("endings.txt")
	if err != nil {
		return nil, err
	}
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("endings.txt: want \"from to\", got %q", line)
		}
		l.endings = append(l.endings, ending{f[0], f[1]})
	}
	sort.SliceStable(l.endings, func(i, j int) bool { return len(l.endings[i].from) > len(l.endings[j].from) })
	if l.titles, err = set("titles.txt"); err != nil {
		return nil, err
	}
	if l.soft, err = set("soft.txt"); err != nil {
		return nil, err
	}
	if l.aliases, err = set("aliases.txt"); err != nil {
		return nil, err
	}
	if l.relations, err = set("relations.txt"); err != nil {
		return nil, err
	}
	if lines, err = read("suffixes.txt"); err != nil {
		return nil, err
	}
	l.suffixes = lines
	sort.SliceStable(l.suffixes, func(i, j int) bool { return len(l.suffixes[i]) > len(l.suffixes[j]) })

	if lines, err = read("equivalents.txt"); err != nil {
		return nil, err
	}
	l.classes = make(map[string]string)
	for _, line := range lines {
		f := strings.Fields(line)
		canon := string(l.appendKey(nil, f[0]))
		for _, v := range f {
			k := string(l.appendKey(nil, v))
			if prev, ok := l.classes[k]; ok && prev != canon {
				return nil, fmt.Errorf("equivalents.txt: %q (key %q) is in two classes", v, k)
			}
			l.classes[k] = canon
		}
	}
	if lines, err = read("letternames.txt"); err != nil {
		return nil, err
	}
	l.letters = make(map[string]byte)
	for _, line := range lines {
		f := strings.Fields(line)
		if len(f) < 2 || len(f[0]) != 1 || f[0][0] < 'a' || f[0][0] > 'z' {
			return nil, fmt.Errorf("letternames.txt: want \"letter spelling...\", got %q", line)
		}
		for _, v := range f[1:] {
			if prev, ok := l.letters[v]; ok && prev != f[0][0] {
				return nil, fmt.Errorf("letternames.txt: %q is the name of two letters", v)
			}
			l.letters[v] = f[0][0]
		}
	}
	if lines, err = read("family.txt"); err != nil {
		return nil, err
	}
	l.family = make(map[string]bool, len(lines))
	for _, w := range lines {
		l.family[l.key(w)] = true
	}
	return l, nil
}
