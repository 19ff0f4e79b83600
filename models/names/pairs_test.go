package names

import (
	"encoding/csv"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// labelledPair is one row of testdata/name_pairs.csv.
type labelledPair struct {
	a, b     []string
	same     bool
	category string
	note     string
}

// loadPairs reads testdata/name_pairs.csv from the module root. A field
// with " | " holds several names of one record.
func loadPairs(t testing.TB) []labelledPair {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "name_pairs.csv")
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("labelled pairs not found at %s", path)
	}
	if err != nil {
		t.Fatalf("open labelled pairs: %v", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("read %s: %v", path, err)
	}
	if len(rows) < 2 || strings.Join(rows[0], ",") != "a,b,same,category,note" {
		t.Fatalf("%s: want header a,b,same,category,note", path)
	}
	split := func(s string) []string {
		var out []string
		for _, p := range strings.Split(s, "|") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
		return out
	}
	var out []labelledPair
	for i, r := range rows[1:] {
		if r[2] != "0" && r[2] != "1" {
			t.Fatalf("%s row %d: same must be 0 or 1, got %q", path, i+2, r[2])
		}
		out = append(out, labelledPair{a: split(r[0]), b: split(r[1]), same: r[2] == "1", category: r[3], note: r[4]})
	}
	return out
}

// prCount tallies predictions against labels.
type prCount struct{ tp, fp, fn, tn int }

func (c *prCount) add(pred, same bool) {
	switch {
	case pred && same:
		c.tp++
	case pred && !same:
		c.fp++
	case !pred && same:
		c.fn++
	default:
		c.tn++
	}
}

func (c prCount) precision() float64 {
	if c.tp+c.fp == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fp)
}

func (c prCount) recall() float64 {
	if c.tp+c.fn == 0 {
		return 1
	}
	return float64(c.tp) / float64(c.tp+c.fn)
}

// TestLabelledPairs measures precision and recall on testdata/
// name_pairs.csv, treating "level ≥ L" as predicted same, for each L: once
// with Partial results counted as same (the level alone), once with
// Partial results counted as different (how the scorer should read them).
// It asserts floors just below what was measured.
func TestLabelledPairs(t *testing.T) {
	pairs := loadPairs(t)
	if len(pairs) < 300 {
		t.Fatalf("only %d labelled pairs, want at least 300", len(pairs))
	}
	var withPartial, strict [6]prCount // index: Level.Rank()
	byCategory := map[string]*prCount{}
	same := 0
	for _, p := range pairs {
		c := Compare(p.a, p.b)
		if p.same {
			same++
		}
		for r := 1; r <= 5; r++ {
			withPartial[r].add(c.Level.Rank() >= r, p.same)
			strict[r].add(c.Level.Rank() >= r && !c.Partial, p.same)
		}
		cat := byCategory[p.category]
		if cat == nil {
			cat = &prCount{}
			byCategory[p.category] = cat
		}
		cat.add(c.Level.Rank() >= LevelFuzzy.Rank() && !c.Partial, p.same)
	}
	t.Logf("%d pairs: %d same child, %d different", len(pairs), same, len(pairs)-same)
	t.Logf("%-10s | %-27s | %-27s", "level ≥", "Partial counted as same", "Partial counted as different")
	for r := 5; r >= 1; r-- {
		a, b := withPartial[r], strict[r]
		t.Logf("%-10s | P %.3f R %.3f (fp %2d fn %3d) | P %.3f R %.3f (fp %2d fn %3d)",
			Levels()[5-r], a.precision(), a.recall(), a.fp, a.fn, b.precision(), b.recall(), b.fp, b.fn)
	}
	for _, name := range sortedKeys(byCategory) {
		c := byCategory[name]
		t.Logf("  at ≥fuzzy, not partial: %-14s tp %3d fp %2d fn %2d tn %3d", name, c.tp, c.fp, c.fn, c.tn)
	}
	floors := []struct {
		what  string
		got   float64
		floor float64
	}{
		{"precision at ≥phonetic (not partial)", strict[LevelPhonetic.Rank()].precision(), 0.99},
		{"recall at ≥phonetic (not partial)", strict[LevelPhonetic.Rank()].recall(), 0.85},
		{"precision at ≥fuzzy (not partial)", strict[LevelFuzzy.Rank()].precision(), 0.98},
		{"recall at ≥fuzzy (not partial)", strict[LevelFuzzy.Rank()].recall(), 0.96},
		{"recall at ≥initial (not partial)", strict[LevelInitial.Rank()].recall(), 0.98},
		{"precision at ≥fuzzy (partial as same)", withPartial[LevelFuzzy.Rank()].precision(), 0.95},
	}
	for _, f := range floors {
		if f.got < f.floor {
			t.Errorf("%s = %.3f, below the floor %.2f", f.what, f.got, f.floor)
		}
	}
}

func sortedKeys(m map[string]*prCount) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && out[j] < out[j-1]; j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}
