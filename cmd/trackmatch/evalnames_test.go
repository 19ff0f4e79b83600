package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestEvalNamesCommand(t *testing.T) {
	pairs := filepath.Join(t.TempDir(), "pairs.csv")
	csv := "a,b,same\nRahul Sharma,राहुल शर्मा,1\nA . ARAVIND,ए अरविंद,1\nRahul Sharma,Sunil Verma,0\nA . ARAVIND,K. Murugan,0\n"
	if err := os.WriteFile(pairs, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := runEval(context.Background(), []string{"names", "--pairs", pairs}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	got := out.String()
	for _, want := range []string{"2 same rows, 2 different rows", "trackmatch       1.000      1.000           0.000", "baseline"} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	for _, args := range [][]string{{"names"}, {"names", "--pairs", pairs, "--people", pairs}, {"names", "--people", pairs, "--split", "all"}} {
		if code := runEval(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2 (usage)", args, code)
		}
	}
	for _, args := range [][]string{{"names", "--pairs", pairs, "--protocol", "script"}, {"names", "--people", pairs, "--protocol", "other"}} {
		if code := runEval(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%q: exit %d, want 2 (usage)", args, code)
		}
	}
	if code := runEval(context.Background(), []string{"names", "--pairs", filepath.Join(t.TempDir(), "none.csv")}, &out, &errb); code != 1 {
		t.Errorf("a missing pairs file: exit %d, want 1", code)
	}
}

func TestEvalNamesScriptProtocol(t *testing.T) {
	people := filepath.Join(t.TempDir(), "people.csv")
	csv := "english,hindi,state\nA . ARAVIND,ए अरविंद,Tamil Nadu\nA . MURUGAN,ए मुरुगन,Tamil Nadu\nRahul Sharma,राहुल शर्मा,Delhi\n" +
		"Sunil Sharma,सुनील शर्मा,Delhi\nK. Selvam,के सेल्वम,Tamil Nadu\nK. Arumugam,के आरुमुगम,Tamil Nadu\n"
	if err := os.WriteFile(people, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	total := 0
	for _, split := range []string{"dev", "test"} {
		out.Reset()
		if code := runEval(context.Background(), []string{"names", "--people", people, "--split", split, "--protocol", "script"}, &out, &errb); code != 0 {
			t.Fatalf("exit %d: %s", code, errb.String())
		}
		var n int
		if _, err := fmt.Sscanf(out.String(), "names (script protocol): %d people queried", &n); err != nil {
			t.Fatalf("output: %v\n%s", err, out.String())
		}
		total += n
		if n > 0 && !strings.Contains(out.String(), "trackmatch       1.000      1.000") {
			t.Errorf("%s: every distinct name should be found first:\n%s", split, out.String())
		}
	}
	if total != 6 {
		t.Errorf("people queried over both splits = %d, want 6", total)
	}
}
