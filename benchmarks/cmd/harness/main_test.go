package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// The harness's smoke run (what CI runs, so that the harness keeps
// working) writes a results page and CSV with every section, each figure
// with a baseline. Its figures mean nothing at this size.
func TestHarnessSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("the smoke run builds the trackmatch binary and a gallery; skipped with -short")
	}
	root, err := filepath.Abs(filepath.Join("..", "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(t.TempDir(), "trackmatch")
	build := exec.Command("go", "build", "-o", bin, "./cmd/trackmatch")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build trackmatch: %v\n%s", err, out)
	}
	out := t.TempDir()
	photos := filepath.Join(root, "..", "shared", "faces")
	args := []string{"-smoke", "-out", out, "-trackmatch", bin, "-photos", photos, "-work", t.TempDir()}
	if err := run(context.Background(), args); err != nil {
		t.Fatal(err)
	}
	md, err := os.ReadFile(filepath.Join(out, "RESULTS.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| CPU |", "| cores |", "| Go |", "## Lookup", "## Accuracy", "## Memory", "## Enrolment"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("RESULTS.md lacks %q", want)
		}
	}
	f, err := os.Open(filepath.Join(out, "results.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string]int{}
	for _, r := range rows[1:] {
		sections[r[0]]++
		if r[5] == "" {
			t.Errorf("figure %q has no baseline", r[2])
		}
		if _, err := strconv.ParseFloat(r[3], 64); err != nil && r[3] != "" {
			t.Errorf("figure %q: value %q is not a number", r[2], r[3])
		}
	}
	_, sharedErr := os.Stat(photos)
	for _, s := range []string{"lookup", "accuracy", "memory", "enrolment"} {
		if s == "enrolment" && sharedErr != nil {
			t.Logf("no %s (%v): enrolment figures not checked", photos, sharedErr)
			continue
		}
		if sections[s] == 0 {
			t.Errorf("no %s figures in results.csv (sections: %v)\n%s", s, sections, md)
		}
	}
	if strings.Contains(string(md), "not measured") {
		t.Errorf("a measurement failed:\n%s", md)
	}
}

// -jsonl writes records the API takes: each line a valid child record.
func TestWriteJSONL(t *testing.T) {
	path := filepath.Join(t.TempDir(), "records.jsonl")
	if err := run(context.Background(), []string{"-jsonl", path, "-jsonl-records", "50"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")
	if len(lines) != 50 {
		t.Fatalf("%d lines, want 50", len(lines))
	}
	for i, l := range lines {
		var c models.Child
		if err := json.Unmarshal([]byte(l), &c); err != nil {
			t.Fatalf("line %d: %v", i+1, err)
		}
		if err := c.Validate(time.Now()); err != nil || c.ID != "" {
			t.Fatalf("line %d: %v (id %q)", i+1, err, c.ID)
		}
	}
}
