package main

// `trackmatch eval names`: name matching on labelled pairs of written
// names, trackmatch through its real search path against an off-the-shelf
// baseline in the same run (package engine/eval documents the protocol).

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"

	nameseval "github.com/trackmatch/trackmatch/engine/eval"
)

// runEvalNames implements `trackmatch eval names`.
func runEvalNames(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("eval names", flag.ContinueOnError)
	fs.SetOutput(stderr)
	pairsFile := fs.String("pairs", "", "CSV of labelled pairs with columns a,b,same")
	people := fs.String("people", "", "instead of --pairs: a set of real names (affidavit-relatives.csv or cricketers.csv) to build pairs from")
	split := fs.String("split", "dev", "with --people: the half to build pairs from, dev or test (keep test untouched until the final figure)")
	seed := fs.Uint64("seed", 1, "with --people: seed for drawing the different pairs")
	writePairs := fs.String("write-pairs", "", "with --people: also write the pairs built to this CSV")
	limit := fs.Int("limit", 10, "candidates per search, as a /v1/search asks")
	protocol := fs.String("protocol", "pairs", "with --people: pairs (a,b,same rows, hard negatives) or script (the issue's own: each person queried in one script against up to 400 others sharing an initial or a surname, in the other)")
	failures := fs.Int("failures", 0, "print up to this many same pairs whose true record is not first (they hold names)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || (*pairsFile == "") == (*people == "") || *split != string(nameseval.SplitDev) && *split != string(nameseval.SplitTest) ||
		*protocol != "pairs" && *protocol != "script" || *protocol == "script" && *people == "" {
		fmt.Fprintln(stderr, "usage: trackmatch eval names (--pairs FILE.csv | --people FILE.csv [--split dev|test] [--seed N] [--write-pairs FILE] [--protocol pairs|script]) [--limit N] [--failures N]")
		return 2
	}
	dir, err := os.MkdirTemp("", "trackmatch-eval-names-")
	if err != nil {
		fmt.Fprintln(stderr, "trackmatch eval names:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	o := nameseval.NamesOptions{Dir: dir, Limit: *limit, Failures: *failures, Logger: log}
	var rep *nameseval.NamesReport
	if *protocol == "script" {
		var ps []nameseval.Person
		if ps, err = loadPeople(*people); err == nil {
			rep, err = nameseval.NamesScript(ctx, ps, nameseval.Split(*split), *seed, o)
		}
	} else {
		var pairs []nameseval.Pair
		if pairs, err = loadEvalPairs(*pairsFile, *people, nameseval.Split(*split), *seed, *writePairs); err == nil {
			rep, err = nameseval.Names(ctx, pairs, o)
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "trackmatch eval names:", err)
		return 1
	}
	writeNamesReport(stdout, rep)
	return 0
}

// loadEvalPairs reads pairs from a pairs file or builds them from a set of
// people, writing them out when asked.
func loadEvalPairs(pairsFile, people string, split nameseval.Split, seed uint64, out string) ([]nameseval.Pair, error) {
	if pairsFile != "" {
		f, err := os.Open(pairsFile)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		return nameseval.ReadPairs(f)
	}
	ps, err := loadPeople(people)
	if err != nil {
		return nil, err
	}
	pairs := nameseval.MakePairs(ps, split, seed)
	if out != "" {
		w, err := os.Create(out)
		if err != nil {
			return nil, err
		}
		if err := nameseval.WritePairs(w, pairs); err != nil {
			w.Close()
			return nil, err
		}
		if err := w.Close(); err != nil {
			return nil, err
		}
	}
	return pairs, nil
}

// loadPeople reads a set of real names.
func loadPeople(file string) ([]nameseval.Person, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return nameseval.ReadPeople(f)
}

// writeNamesReport prints the figures of both methods.
func writeNamesReport(w io.Writer, rep *nameseval.NamesReport) {
	f := func(x float64) string {
		if math.IsNaN(x) {
			return "    -"
		}
		return fmt.Sprintf("%.3f", x)
	}
	if rep.Trackmatch.Different == 0 && math.IsNaN(rep.Trackmatch.FalseMatch) {
		fmt.Fprintf(w, "names (script protocol): %d people queried, %d skipped (names the API refuses), %s\n",
			rep.Trackmatch.Same, rep.Skipped, rep.Elapsed.Round(1e6))
	} else {
		fmt.Fprintf(w, "names: %d same rows, %d different rows, %d skipped (names the API refuses), %s\n",
			rep.Trackmatch.Same, rep.Trackmatch.Different, rep.Skipped, rep.Elapsed.Round(1e6))
	}
	fmt.Fprintf(w, "%-12s %9s %10s %15s\n", "method", "recall@1", "recall@10", "false p>=0.5")
	for _, m := range []struct {
		name string
		m    nameseval.NamesMetrics
	}{{"trackmatch", rep.Trackmatch}, {"baseline", rep.Baseline}} {
		fmt.Fprintf(w, "%-12s %9s %10s %15s\n", m.name, f(m.m.Recall1), f(m.m.Recall10), f(m.m.FalseMatch))
	}
	fmt.Fprintln(w, "baseline: IAST transliteration, diacritics stripped, lower case, Jaro-Winkler over a full scan")
	for _, x := range rep.Failures {
		fmt.Fprintf(w, "miss rank=%d  %q ~ %q  top=%q p=%.2f\n", x.Rank, x.A, x.B, x.Top, x.P)
	}
}
