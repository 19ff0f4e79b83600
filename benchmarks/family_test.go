package benchmarks

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/trackmatch/trackmatch/benchmarks/synth"
)

// relativesPath is the real fathers' names beside the checkout.
var relativesPath = filepath.Join("..", "..", "shared", "names-real", "affidavit-relatives.csv")

// TestFamilyFieldsAddEvidence measures, on a small gallery, how often a
// sparse found child's missing report ranks first, and wants the father's
// name and the village to find more than the given name alone.
//
// TRACKMATCH_FAMILY_GALLERY=100000 TRACKMATCH_FAMILY_QUERIES=300 go test ./benchmarks -run TestFamilyFieldsAddEvidence -v -timeout 60m
// prints the figures of benchmarks/RESULTS.md.
func TestFamilyFieldsAddEvidence(t *testing.T) {
	rels, err := synth.LoadRelatives(relativesPath)
	if err != nil {
		t.Skipf("../shared/names-real/affidavit-relatives.csv not readable (%v)", err)
	}
	n, q := envInt("TRACKMATCH_FAMILY_GALLERY", 3000), envInt("TRACKMATCH_FAMILY_QUERIES", 100)
	rows, err := MeasureFamily(context.Background(), FamilyConfig{Dir: t.TempDir(), Gallery: n, Queries: q, Seed: 21, Relatives: rels})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("gallery of %d missing reports\n%s", n, FamilyTable(rows))
	by := map[synth.Completeness]FamilyRow{}
	for _, r := range rows {
		by[r.Completeness] = r
	}
	if g, all := by[synth.GivenOnly], by[synth.GivenFatherVillage]; all.Rank1 <= g.Rank1 {
		t.Errorf("the father's name and village found %d of %d first, the given name alone %d: they add nothing", all.Rank1, all.Queries, g.Rank1)
	}
}

func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}
