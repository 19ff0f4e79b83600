// Package benchmarks measures trackmatch at national scale: enrolment,
// lookup latency, memory and start-up, batch re-scoring and accuracy on
// synthetic truth (package synth). Each measurement returns Figures, each
// with a baseline measured in the same run; the harness (cmd/harness)
// runs them all and writes RESULTS.md and results.csv.
package benchmarks

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Figure is one measured number and the baseline it is judged against,
// measured in the same run on the same data.
type Figure struct {
	// Section groups figures: enrolment, lookup, memory, batch, accuracy.
	Section string
	// Scale is the number of found records in the gallery, 0 when the
	// figure does not depend on it.
	Scale int
	// Name says what was measured, e.g. "photo-only p99".
	Name  string
	Value float64
	// Unit of Value and BaselineValue: "ms", "photos/s", "B/record", ...
	Unit string
	// Baseline says what Value is compared with; BaselineValue is its
	// measurement. Ratio is Value / BaselineValue.
	Baseline      string
	BaselineValue float64
	// Note qualifies the figure: a goal met or missed, an extrapolation.
	Note string
}

// Ratio is Value / BaselineValue, NaN without a baseline.
func (f Figure) Ratio() float64 {
	if f.BaselineValue == 0 {
		return math.NaN()
	}
	return f.Value / f.BaselineValue
}

// Machine describes where the figures were measured.
type Machine struct {
	CPU       string
	Cores     int
	GoVersion string
	OS        string
	MemoryGiB float64
	// Load1 is the one-minute load average when the run started and ended:
	// a loaded machine makes every timing pessimistic.
	LoadStart, LoadEnd float64
}

// ReadMachine reads the CPU model, memory and load from /proc.
func ReadMachine() Machine {
	m := Machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
		CPU: "unknown", LoadStart: loadAverage()}
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	if kb := procField("/proc/meminfo", "MemTotal"); kb > 0 {
		m.MemoryGiB = float64(kb) / (1 << 20)
	}
	return m
}

// loadAverage is the one-minute load average, or NaN.
func loadAverage() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return math.NaN()
	}
	f, err := strconv.ParseFloat(strings.Fields(string(b))[0], 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// procField reads a "Name:   123 kB" line of a /proc status-style file, in
// kB; 0 when absent.
func procField(file, name string) int64 {
	b, err := os.ReadFile(file)
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != name {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) == 0 {
			return 0
		}
		n, _ := strconv.ParseInt(fs[0], 10, 64)
		return n
	}
	return 0
}

// Report is a whole harness run.
type Report struct {
	Machine  Machine
	Started  time.Time
	Duration time.Duration
	Command  string
	Figures  []Figure
	// Notes are paragraphs after the tables: goals, caveats.
	Notes []string
}

var sectionOrder = []string{"enrolment", "lookup", "memory", "batch", "accuracy"}

func sectionRank(s string) int {
	for i, x := range sectionOrder {
		if x == s {
			return i
		}
	}
	return len(sectionOrder)
}

// sorted returns the figures by section, then scale, keeping the order
// each measurement gave within them.
func (r *Report) sorted() []Figure {
	fs := append([]Figure(nil), r.Figures...)
	sort.SliceStable(fs, func(i, j int) bool {
		if a, b := sectionRank(fs[i].Section), sectionRank(fs[j].Section); a != b {
			return a < b
		}
		return fs[i].Scale < fs[j].Scale
	})
	return fs
}

// WriteCSV writes one row per figure.
func (r *Report) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"section", "scale", "name", "value", "unit", "baseline", "baseline_value", "ratio", "note"})
	for _, f := range r.sorted() {
		_ = cw.Write([]string{f.Section, strconv.Itoa(f.Scale), f.Name, num(f.Value), f.Unit, f.Baseline,
			num(f.BaselineValue), num(f.Ratio()), f.Note})
	}
	cw.Flush()
	return cw.Error()
}

// WriteMarkdown writes the results page: the machine, then one table per
// section, then the notes.
func (r *Report) WriteMarkdown(w io.Writer) error {
	m := r.Machine
	fmt.Fprintf(w, "# trackmatch benchmark results\n\n")
	fmt.Fprintf(w, "Written by `%s` on %s (%s). Every figure has a baseline measured in the same run; "+
		"ratio = value ÷ baseline. Reproduce with the same command.\n\n",
		r.Command, r.Started.UTC().Format("2006-01-02 15:04 MST"), r.Duration.Round(time.Second))
	fmt.Fprintf(w, "| machine | |\n|---|---|\n| CPU | %s |\n| cores | %d |\n| memory | %.1f GiB |\n| Go | %s (%s) |\n| load average (1 min) at start / end | %.2f / %.2f |\n\n",
		m.CPU, m.Cores, m.MemoryGiB, m.GoVersion, m.OS, m.LoadStart, m.LoadEnd)
	section := ""
	for _, f := range r.sorted() {
		if f.Section != section {
			section = f.Section
			fmt.Fprintf(w, "\n## %s\n\n| scale (found) | figure | value | baseline | baseline value | ratio | note |\n|---:|---|---:|---|---:|---:|---|\n", titleCase(section))
		}
		fmt.Fprintf(w, "| %s | %s | %s %s | %s | %s | %s | %s |\n", scaleLabel(f.Scale), f.Name, num(f.Value), f.Unit,
			f.Baseline, num(f.BaselineValue), ratioLabel(f.Ratio()), f.Note)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintf(w, "\n## Notes\n\n")
		for _, n := range r.Notes {
			fmt.Fprintf(w, "%s\n\n", n)
		}
	}
	return nil
}

// WriteTable prints the short table: one line per figure.
func (r *Report) WriteTable(w io.Writer) {
	fmt.Fprintf(w, "%-9s %-7s %-40s %14s %14s %8s\n", "section", "scale", "figure", "value", "baseline", "ratio")
	for _, f := range r.sorted() {
		fmt.Fprintf(w, "%-9s %-7s %-40s %14s %14s %8s\n", f.Section, scaleLabel(f.Scale), trim(f.Name, 40),
			num(f.Value)+" "+f.Unit, num(f.BaselineValue), ratioLabel(f.Ratio()))
	}
}

func titleCase(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// ScaleLabel writes 10000 as 10k and 1000000 as 1M.
func scaleLabel(n int) string {
	switch {
	case n == 0:
		return "-"
	case n%1_000_000 == 0:
		return strconv.Itoa(n/1_000_000) + "M"
	case n%1000 == 0:
		return strconv.Itoa(n/1000) + "k"
	}
	return strconv.Itoa(n)
}

func ratioLabel(r float64) string {
	if math.IsNaN(r) || math.IsInf(r, 0) {
		return "-"
	}
	return strconv.FormatFloat(r, 'f', 2, 64) + "×"
}

// num writes a figure with three significant digits (no exponent below 1e9).
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return ""
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case math.Abs(v) >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
	return strconv.FormatFloat(v, 'g', 3, 64)
}

// GoalNotes lists the figures whose note says a goal was met or missed.
func GoalNotes(figs []Figure) []string {
	var out []string
	for _, f := range figs {
		if strings.Contains(f.Note, "goal") {
			out = append(out, fmt.Sprintf("- %s (%s): %s %s — %s", f.Name, scaleLabel(f.Scale), num(f.Value), f.Unit, f.Note))
		}
	}
	if len(out) > 0 {
		out = append([]string{"Goals of issue 7:"}, strings.Join(out, "\n"))
		return []string{strings.Join(out, "\n\n")}
	}
	return nil
}
