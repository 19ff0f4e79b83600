// Command harness runs trackmatch's benchmarks at national scale and writes
// benchmarks/RESULTS.md and benchmarks/results.csv: enrolment of real
// photos against the dlib model's ceiling, lookup latency at each gallery
// size against naive scans, resident memory and start-up of the real
// binary against an empty data folder, batch re-scoring against all pairs,
// and accuracy on synthetic truth against the photo alone.
//
//	go run ./benchmarks/cmd/harness                  # 10k, 100k, 1M found records (about an hour)
//	go run ./benchmarks/cmd/harness -smoke           # a tiny run that only checks the harness works
//	go run ./benchmarks/cmd/harness -jsonl out.jsonl -jsonl-records 1000   # write synthetic records
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/trackmatch/trackmatch/benchmarks"
	"github.com/trackmatch/trackmatch/benchmarks/synth"
	"github.com/trackmatch/trackmatch/engine/face"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "harness:", err)
		os.Exit(1)
	}
}

// options are the harness's flags.
type options struct {
	scales      []int
	pairs       int
	queries     int
	scanQueries int
	out         string
	work        string
	keep        bool
	binary      string
	models      string
	photos      string
	enrolPhotos int
	batch       string
	rebuild     bool
	smoke       bool
	jsonl       string
	jsonlN      int
	importN     int
	skip        map[string]bool
}

func parseFlags(args []string) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("harness", flag.ContinueOnError)
	scales := fs.String("scales", "10k,100k,1M", "gallery sizes (found records), comma-separated; k and M allowed; none for no gallery")
	fs.IntVar(&o.pairs, "pairs", 500, "true missing/found pairs in each gallery (the lookup and accuracy queries)")
	fs.IntVar(&o.queries, "queries", 500, "lookups timed per kind and scale (at least 200 for a p99)")
	fs.IntVar(&o.scanQueries, "scan-queries", 20, "queries the naive names.Compare scan times per scale")
	fs.StringVar(&o.out, "out", "benchmarks", "folder for RESULTS.md and results.csv")
	fs.StringVar(&o.work, "work", "", "folder for the galleries' data folders (default: a new temporary folder)")
	fs.BoolVar(&o.keep, "keep", false, "keep the galleries' data folders")
	fs.StringVar(&o.binary, "trackmatch", "bin/trackmatch", "trackmatch binary for the start-up and memory figures ('' to skip)")
	fs.StringVar(&o.models, "models", envOr("TRACKMATCH_MODELS", face.DefaultModelsDir()), "face model folder")
	fs.StringVar(&o.photos, "photos", filepath.Join("..", "shared", "faces"), "real photos for enrolment (MANIFEST.csv)")
	fs.IntVar(&o.enrolPhotos, "enrol-photos", 0, "photos to enrol (0: every photo of -photos once)")
	fs.StringVar(&o.batch, "batch", "10k", "batch re-score scenario: 1k (1k missing × 10k found), 10k (10k × 100k) or none")
	fs.BoolVar(&o.rebuild, "rebuild", true, "also time a start-up that rebuilds the attribute index")
	fs.BoolVar(&o.smoke, "smoke", false, "tiny run: checks the harness works; its figures mean nothing")
	fs.StringVar(&o.jsonl, "jsonl", "", "write -jsonl-records synthetic records (the API's JSON, one per line) to this file and stop")
	fs.IntVar(&o.jsonlN, "jsonl-records", 10_000, "records -jsonl writes")
	skip := fs.String("skip", "", "measurements to leave out, comma-separated: enrolment, workers, import, startup, batch")
	fs.IntVar(&o.importN, "import-records", 10_000, "records (one photo each) the bulk import measurement imports end to end")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.skip = map[string]bool{}
	for _, s := range strings.Split(*skip, ",") {
		switch s = strings.TrimSpace(s); s {
		case "":
		case "enrolment", "workers", "import", "startup", "batch":
			o.skip[s] = true
		default:
			return nil, fmt.Errorf("-skip %q: want enrolment, workers, import, startup or batch", s)
		}
	}
	if o.smoke {
		*scales, o.pairs, o.queries, o.scanQueries, o.enrolPhotos, o.batch, o.importN = "2k", 60, 60, 3, 6, "none", 4
	}
	for _, s := range strings.Split(*scales, ",") {
		if *scales == "none" {
			break
		}
		n, err := parseScale(strings.TrimSpace(s))
		if err != nil {
			return nil, err
		}
		o.scales = append(o.scales, n)
	}
	return o, nil
}

// parseScale reads 10000, 10k or 1M.
func parseScale(s string) (int, error) {
	mult := 1
	switch {
	case strings.HasSuffix(s, "k"):
		mult, s = 1000, strings.TrimSuffix(s, "k")
	case strings.HasSuffix(s, "M"):
		mult, s = 1_000_000, strings.TrimSuffix(s, "M")
	}
	n, err := strconv.Atoi(s)
	if err != nil || n <= 0 {
		return 0, fmt.Errorf("scale %q: want a positive number like 10000, 10k or 1M", s)
	}
	return n * mult, nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func run(ctx context.Context, args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if o.jsonl != "" {
		return writeJSONL(o.jsonl, o.jsonlN)
	}
	work := o.work
	if work == "" {
		if work, err = os.MkdirTemp("", "trackmatch-bench-"); err != nil {
			return err
		}
	}
	if !o.keep {
		defer os.RemoveAll(work)
	}
	rep := &benchmarks.Report{Machine: benchmarks.ReadMachine(), Started: time.Now(),
		Command: "go run ./benchmarks/cmd/harness " + strings.Join(args, " ")}
	if len(args) == 0 {
		rep.Command = "make bench"
	}
	add := func(section string, figs []benchmarks.Figure, err error) {
		if err != nil {
			log.Error("measurement failed", "section", section, "err", err)
			rep.Notes = append(rep.Notes, fmt.Sprintf("**%s not measured**: %v", section, err))
		}
		rep.Figures = append(rep.Figures, figs...)
	}

	if !o.skip["enrolment"] {
		log.Info("enrolment of real photos", "photos", o.photos)
		figs, err := benchmarks.MeasureEnrolment(ctx, benchmarks.EnrolmentConfig{PhotosDir: o.photos, ModelsDir: o.models,
			Dir: filepath.Join(work, "enrolment"), Photos: o.enrolPhotos, Logger: log})
		add("enrolment", figs, err)
	}

	if !o.skip["workers"] && o.binary != "" {
		log.Info("face analysis in worker processes against in process", "photos", o.photos)
		rounds, n := 3, 0
		if o.smoke {
			rounds, n = 1, 8
		}
		figs, err := benchmarks.MeasureFaceWorkers(ctx, benchmarks.FaceWorkersConfig{PhotosDir: o.photos, ModelsDir: o.models,
			Binary: o.binary, Rounds: rounds, Photos: n, Logger: log})
		add("face workers", figs, err)
	}

	if !o.skip["import"] && o.binary != "" {
		log.Info("bulk import end to end against the face workers alone", "records", o.importN)
		dir := filepath.Join(work, "import")
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return err
		}
		figs, err := benchmarks.MeasureBulkImport(ctx, benchmarks.BulkImportConfig{PhotosDir: o.photos, ModelsDir: o.models,
			Binary: o.binary, Records: o.importN, Dir: dir, Logger: log})
		add("bulk import", figs, err)
	}

	for _, scale := range o.scales {
		if err := ctx.Err(); err != nil {
			return err
		}
		figs, err := measureScale(ctx, o, work, scale, log)
		add(fmt.Sprintf("scale %d", scale), figs, err)
	}

	if o.batch != "none" && !o.skip["batch"] {
		log.Info("batch re-score", "scenario", o.batch)
		figs, err := benchmarks.MeasureBatch(ctx, o.batch, log)
		add("batch", figs, err)
	}

	rep.Duration = time.Since(rep.Started)
	rep.Machine.LoadEnd = benchmarks.ReadMachine().LoadStart
	rep.Notes = append(rep.Notes, benchmarks.GoalNotes(rep.Figures)...)
	if o.smoke {
		rep.Notes = append(rep.Notes, "**Smoke run**: tiny sizes to check the harness works; these figures mean nothing.")
	}
	return writeReport(rep, o.out)
}

// measureScale builds a gallery of scale found records and measures its
// lookups, accuracy, memory and start-up.
func measureScale(ctx context.Context, o *options, work string, scale int, log *slog.Logger) ([]benchmarks.Figure, error) {
	dir := filepath.Join(work, fmt.Sprintf("gallery-%d", scale))
	pairs := min(o.pairs, scale/2)
	log.Info("building gallery", "found", scale, "pairs", pairs, "dir", dir)
	g, err := benchmarks.BuildGallery(ctx, benchmarks.GalleryConfig{Dir: dir, Found: scale, Missing: 2 * pairs,
		Pairs: pairs, Seed: 2026, Logger: log})
	if err != nil {
		return nil, err
	}
	defer func() {
		g.Close()
		if !o.keep {
			os.RemoveAll(dir)
		}
	}()
	log.Info("gallery built", "records", scale+2*pairs, "took", g.Imported.Round(time.Second))
	imp, err := benchmarks.MeasureImport(ctx, g, 100)
	if err != nil {
		return nil, err
	}
	records := scale + 2*pairs + 100
	heap, err := benchmarks.MeasureHeap(ctx, g)
	if err != nil {
		return nil, err
	}
	figs := append([]benchmarks.Figure{imp}, heap...)
	debug.FreeOSMemory()

	log.Info("lookups", "found", scale, "queries", o.queries)
	lf, runs, err := benchmarks.MeasureLookup(ctx, g, benchmarks.LookupConfig{Queries: o.queries, ScanQueries: o.scanQueries})
	if err != nil {
		return figs, err
	}
	figs = append(figs, lf...)
	figs = append(figs, benchmarks.AccuracyFigures(scale, runs)...)
	photos := g.Photos
	if err := g.Close(); err != nil {
		return figs, err
	}
	if o.binary == "" || o.skip["startup"] {
		return figs, nil
	}
	if _, err := os.Stat(o.binary); err != nil {
		return figs, fmt.Errorf("start-up not measured: %w (build it with make build, or pass -trackmatch)", err)
	}
	log.Info("start-up and memory of the real binary", "found", scale)
	sf, err := benchmarks.MeasureStartup(ctx, benchmarks.StartupConfig{Binary: o.binary, DataDir: dir, ModelsDir: o.models,
		Records: records, Photos: photos, Scale: scale, RebuildAttributes: o.rebuild, Logger: log})
	return append(figs, sf...), err
}

// writeReport writes RESULTS.md and results.csv into dir and prints the table.
func writeReport(rep *benchmarks.Report, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	write := func(name string, fn func(f *os.File) error) error {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			return err
		}
		if err := fn(f); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}
	err := errors.Join(
		write("RESULTS.md", func(f *os.File) error { return rep.WriteMarkdown(f) }),
		write("results.csv", func(f *os.File) error { return rep.WriteCSV(f) }))
	if err != nil {
		return err
	}
	rep.WriteTable(os.Stdout)
	fmt.Printf("\nwrote %s and %s\n", filepath.Join(dir, "RESULTS.md"), filepath.Join(dir, "results.csv"))
	return nil
}

// writeJSONL writes n synthetic records, as the API takes them, one per line.
func writeJSONL(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	recs, _ := synth.New(2026, synth.Config{}).Population(n, n/10)
	enc := json.NewEncoder(f)
	for i := range recs {
		recs[i].ID = ""
		if err := enc.Encode(&recs[i]); err != nil {
			f.Close()
			return err
		}
	}
	return f.Close()
}
