package benchmarks

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"strings"
)

// rescoreScenarios maps MeasureBatch's scenario names to the Go benchmark
// that runs them (benchmarks/batch_test.go).
var rescoreScenarios = map[string]string{"1k": "BenchmarkRescore1k", "10k": "BenchmarkRescore10k"}

// MeasureBatch runs a batch re-score benchmark of batch_test.go ("1k": 1k
// missing × 10k found, "10k": 10k × 100k) with `go test` from the module
// root, and turns its metrics into figures: the full run against naive
// all-pairs scoring, the incremental run against the full one, and lookup
// latency while a job runs against idle.
func MeasureBatch(ctx context.Context, scenario string, log *slog.Logger) ([]Figure, error) {
	bench, ok := rescoreScenarios[scenario]
	if !ok {
		return nil, fmt.Errorf("batch scenario %q: want 1k or 10k", scenario)
	}
	cmd := exec.CommandContext(ctx, "go", "test", "./benchmarks", "-run", "^$", "-bench", "^"+bench+"$",
		"-benchtime", "1x", "-timeout", "4h")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("%s: %w\n%s", bench, err, out.String())
	}
	m, err := parseBenchMetrics(out.String(), bench)
	if err != nil {
		return nil, err
	}
	log.Info("batch re-score done", "metrics", len(m))
	need := func(k string) float64 {
		v, ok := m[k]
		if !ok {
			err = fmt.Errorf("%s reported no %s", bench, k)
		}
		return v
	}
	label := map[string]string{"1k": "1k missing × 10k found", "10k": "10k missing × 100k found"}[scenario]
	figs := []Figure{
		{Section: "batch", Name: "full re-score, " + label, Value: need("full-s"), Unit: "s",
			Baseline: "every pair scored (extrapolated from a sample)", BaselineValue: need("naive-extrapolated-s")},
		{Section: "batch", Name: "incremental re-score after 1% changed", Value: need("incr-s"), Unit: "s",
			Baseline: "full re-score", BaselineValue: need("full-s")},
		{Section: "batch", Name: "true pairs in the review queue after the full run", Value: need("true-pairs-queued"),
			Baseline: "all true pairs", BaselineValue: 1},
	}
	for k, v := range m {
		if name, ok := strings.CutSuffix(k, "-p95-ratio"); ok {
			figs = append(figs, Figure{Section: "batch", Name: "p95 of " + name + " while a job runs", Value: v, Unit: "× idle",
				Baseline: "idle (no job)", BaselineValue: 1})
		}
	}
	return figs, err
}

// parseBenchMetrics reads the metrics of bench's result line in `go test
// -bench` output: "BenchmarkX-2  1  123 ns/op  4.5 full-s ...".
func parseBenchMetrics(out, bench string) (map[string]float64, error) {
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) < 4 || !(fs[0] == bench || strings.HasPrefix(fs[0], bench+"-")) {
			continue
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(fs); i += 2 {
			v, err := strconv.ParseFloat(fs[i], 64)
			if err != nil {
				return nil, fmt.Errorf("%s: metric %q: %w", bench, fs[i], err)
			}
			m[fs[i+1]] = v
		}
		return m, nil
	}
	return nil, fmt.Errorf("no result line for %s in its output", bench)
}
