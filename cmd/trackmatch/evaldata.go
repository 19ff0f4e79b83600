package main

// The labelled photos `trackmatch eval` reads, and the attribute records it
// gives each side of a pair: from a file, or made up per identity.

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/trackmatch/trackmatch/models"
)

// evalPhoto is one labelled photo.
type evalPhoto struct {
	Path   string
	Person string
	Age    int // years at the photo; -1 when unknown
}

// evalPerson is one identity and its photos, earliest first (by age, then
// path; by path alone when ages are unknown).
type evalPerson struct {
	ID     string
	Photos []evalPhoto
}

// loadLabelled reads a labelled photo set: labels (a CSV with columns path,
// person and optionally age, paths relative to the CSV's folder unless
// absolute), else DIR/labels.csv, else DIR/MANIFEST.csv (path, identity;
// identities starting with "_" are special cases, not people), else one
// sub-folder of DIR per identity (folders starting with "_" skipped).
func loadLabelled(dir, labels string) ([]evalPerson, error) {
	var photos []evalPhoto
	var err error
	switch {
	case labels != "":
		photos, err = readLabelCSV(labels, "person")
	case fileExists(filepath.Join(dir, "labels.csv")):
		photos, err = readLabelCSV(filepath.Join(dir, "labels.csv"), "person")
	case fileExists(filepath.Join(dir, "MANIFEST.csv")):
		photos, err = readLabelCSV(filepath.Join(dir, "MANIFEST.csv"), "identity")
	case dir != "":
		photos, err = walkIdentities(dir)
	default:
		return nil, fmt.Errorf("give --photos DIR or --labels FILE")
	}
	if err != nil {
		return nil, err
	}
	byID := map[string]*evalPerson{}
	var ids []string
	for _, p := range photos {
		if strings.HasPrefix(p.Person, "_") {
			continue
		}
		if byID[p.Person] == nil {
			byID[p.Person] = &evalPerson{ID: p.Person}
			ids = append(ids, p.Person)
		}
		byID[p.Person].Photos = append(byID[p.Person].Photos, p)
	}
	slices.Sort(ids)
	out := make([]evalPerson, 0, len(ids))
	for _, id := range ids {
		p := byID[id]
		slices.SortFunc(p.Photos, func(a, b evalPhoto) int {
			if a.Age != b.Age {
				return a.Age - b.Age
			}
			return strings.Compare(a.Path, b.Path)
		})
		out = append(out, *p)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no labelled photos found")
	}
	return out, nil
}

func fileExists(path string) bool {
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

// readLabelCSV reads path,<person column>[,age] rows with a header.
func readLabelCSV(path, personCol string) ([]evalPhoto, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open labels: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	rows, err := r.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("%s: no rows", path)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[strings.TrimSpace(strings.ToLower(h))] = i
	}
	pi, okP := col["path"]
	ci, okC := col[personCol]
	for _, alt := range []string{"person", "identity"} {
		if !okC {
			ci, okC = col[alt]
		}
	}
	if !okP || !okC {
		return nil, fmt.Errorf("%s: want columns path and %s", path, personCol)
	}
	ai, hasAge := col["age"]
	base := filepath.Dir(path)
	var out []evalPhoto
	for n, row := range rows[1:] {
		if len(row) <= max(pi, ci) {
			return nil, fmt.Errorf("%s row %d: too few columns", path, n+2)
		}
		p := evalPhoto{Path: row[pi], Person: strings.TrimSpace(row[ci]), Age: -1}
		if !filepath.IsAbs(p.Path) {
			p.Path = filepath.Join(base, p.Path)
		}
		if hasAge && ai < len(row) && strings.TrimSpace(row[ai]) != "" {
			a, err := strconv.Atoi(strings.TrimSpace(row[ai]))
			if err != nil || a < 0 {
				return nil, fmt.Errorf("%s row %d: age %q is not a whole number of years", path, n+2, row[ai])
			}
			p.Age = a
		}
		out = append(out, p)
	}
	return out, nil
}

// walkIdentities lists DIR/<identity>/<photo> files.
func walkIdentities(dir string) ([]evalPhoto, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("read photo folder: %w", err)
	}
	var out []evalPhoto
	for _, e := range entries {
		if !e.IsDir() || strings.HasPrefix(e.Name(), "_") || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		files, err := os.ReadDir(filepath.Join(dir, e.Name()))
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", e.Name(), err)
		}
		for _, f := range files {
			if f.Type().IsRegular() && !strings.HasPrefix(f.Name(), ".") {
				out = append(out, evalPhoto{Path: filepath.Join(dir, e.Name(), f.Name()), Person: e.Name(), Age: -1})
			}
		}
	}
	return out, nil
}

// attrLine is one line of an --attributes file: a record's attributes for
// a person, on one side (kind "missing" or "found") or, without a kind, on
// both. Dates and ages are the evaluation's own (from the labels) and any
// given here are ignored; photos are ignored.
type attrLine struct {
	Person string `json:"person"`
	models.Child
}

// recordAttrs are the attributes of one person on each side.
type recordAttrs struct {
	Missing, Found *models.Child
}

// readAttributes reads an --attributes JSON-lines file.
func readAttributes(path string) (map[string]recordAttrs, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open attributes: %w", err)
	}
	defer f.Close()
	return parseAttributes(f)
}

func parseAttributes(r io.Reader) (map[string]recordAttrs, error) {
	out := map[string]recordAttrs{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		var a attrLine
		if err := json.Unmarshal([]byte(line), &a); err != nil {
			return nil, fmt.Errorf("attributes line %d: %w", n, err)
		}
		if a.Person == "" {
			return nil, fmt.Errorf("attributes line %d: no person", n)
		}
		c := a.Child
		ra := out[a.Person]
		switch c.Kind {
		case models.KindMissing:
			ra.Missing = &c
		case models.KindFound:
			ra.Found = &c
		case "":
			m, f := c, c
			ra.Missing, ra.Found = &m, &f
		default:
			return nil, fmt.Errorf("attributes line %d: kind %q", n, c.Kind)
		}
		out[a.Person] = ra
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read attributes: %w", err)
	}
	return out, nil
}

// withAttrs copies the attributes of src (names, sex, marks, languages,
// place, guardians, height, notes) onto the record dst.
func withAttrs(dst *models.Child, src *models.Child) {
	if src == nil {
		return
	}
	dst.Names = slices.Clone(src.Names)
	dst.Sex = src.Sex
	dst.Marks = src.Marks
	dst.Languages = slices.Clone(src.Languages)
	dst.Place = src.Place
	dst.Guardians = slices.Clone(src.Guardians)
	dst.HeightCM = src.HeightCM
	dst.Notes = src.Notes
}
