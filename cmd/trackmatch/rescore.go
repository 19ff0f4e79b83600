package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/models"
)

// rescoreOptions are the batch job's settings for every command that opens
// the data folder: cfg.Workers (0 = half the cores), and from the
// environment TRACKMATCH_RESCORE_THRESHOLD (probability of a new match),
// TRACKMATCH_RESCORE_CHECKPOINT (missing children per checkpoint) and
// TRACKMATCH_RESCORE_EM=1 (also re-estimate by EM at the start of a run).
func rescoreOptions(cfg config, log *slog.Logger) (engine.RescoreOptions, error) {
	o := engine.RescoreOptions{Workers: cfg.Workers, Logger: log}
	if v := os.Getenv("TRACKMATCH_RESCORE_THRESHOLD"); v != "" {
		p, err := parseThreshold(v)
		if err != nil {
			return o, fmt.Errorf("TRACKMATCH_RESCORE_THRESHOLD: %w", err)
		}
		o.Threshold = p
	}
	if v := os.Getenv("TRACKMATCH_RESCORE_CHECKPOINT"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return o, fmt.Errorf("TRACKMATCH_RESCORE_CHECKPOINT must be a positive whole number, got %q", v)
		}
		o.CheckpointEvery = n
	}
	o.EM = os.Getenv("TRACKMATCH_RESCORE_EM") == "1"
	return o, nil
}

func parseThreshold(s string) (float64, error) {
	p, err := strconv.ParseFloat(s, 64)
	if err != nil || !(p > 0 && p <= 1) {
		return 0, fmt.Errorf("the threshold must be a probability in (0, 1], got %q", s)
	}
	return p, nil
}

// runRescore implements `trackmatch rescore --data DIR [--full]
// [--threshold P] [--workers N]`: it continues a job left unfinished in the
// data folder (by a crash, a kill or a stop), or else starts one, shows its
// progress on stderr and prints its summary as JSON on stdout. SIGINT or
// SIGTERM stops it at a checkpoint; running the command again continues it.
// Exit 0 when the job is done, 1 when it failed, was canceled or stopped.
func runRescore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("rescore", flag.ContinueOnError)
	fs.SetOutput(stderr)
	full := fs.Bool("full", false, "re-score every pair, not only those whose records or parameters changed")
	threshold := fs.String("threshold", "", fmt.Sprintf("least probability of a new match (default %g); env TRACKMATCH_RESCORE_THRESHOLD", engine.DefaultRescoreThreshold))
	quiet := fs.Bool("quiet", false, "no progress bar")
	finish := bindConfig(fs)
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	if fs.NArg() > 0 {
		return usageLine("rescore [--data DIR] [--full] [--threshold P] [--workers N]")
	}
	cfg, err := finish()
	if err != nil {
		return badUsage(err)
	}
	var p float64
	if *threshold != "" {
		if p, err = parseThreshold(*threshold); err != nil {
			return badUsage(fmt.Errorf("--threshold: %w", err))
		}
	}
	// Warnings only, so the bar stays readable; TRACKMATCH_LOG=info or
	// debug (every checkpoint) for more.
	level := slog.LevelWarn
	switch os.Getenv("TRACKMATCH_LOG") {
	case "info":
		level = slog.LevelInfo
	case "debug":
		level = slog.LevelDebug
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))
	a, err := openApp(ctx, cfg, log, func(o *engine.RescoreOptions) {
		if p > 0 {
			o.Threshold = p
		}
	})
	if err != nil {
		return err
	}
	defer a.Close()

	job := a.rescorer.Current()
	if job != nil {
		fmt.Fprintf(stderr, "continuing job %s from %d of %d missing children\n", job.ID, job.Processed, job.Total)
		if *full && !job.Full {
			fmt.Fprintln(stderr, "trackmatch: --full applies to the next job; this one continues as it started")
		}
	} else if job, err = a.rescorer.StartRescore(ctx, *full); err != nil {
		return err
	}
	job, err = watchJob(ctx, a.rescorer, job.ID, stderr, *quiet)
	if err != nil { // interrupted: stop at a checkpoint
		a.rescorer.Close()
		if j, gerr := a.rescorer.GetJob(context.WithoutCancel(ctx), job.ID); gerr == nil {
			job = j
		}
		fmt.Fprintf(stderr, "\nstopped at %d of %d missing children; run `trackmatch rescore` again to continue job %s\n",
			job.Processed, job.Total, job.ID)
		return exitError{code: 1}
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(job)
	if job.State != models.JobDone {
		return fmt.Errorf("job %s %s: %s", job.ID, job.State, job.Error)
	}
	return nil
}

// watchJob draws a progress bar (count, rate, ETA) for job id until it
// ends or ctx does, and returns the job as it ended.
func watchJob(ctx context.Context, r *engine.Rescorer, id string, w io.Writer, quiet bool) (*models.Job, error) {
	j, err := r.GetJob(ctx, id)
	if err != nil {
		return nil, err
	}
	from := j.Processed // the bar counts this session's work, for a true rate
	var bar *progressbar.ProgressBar
	if !quiet {
		desc := "rescore"
		if from > 0 {
			desc = fmt.Sprintf("rescore (from %d)", from)
		}
		bar = progressbar.NewOptions(-1, progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("children"), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(250*time.Millisecond), progressbar.OptionSetWidth(30),
			progressbar.OptionUseANSICodes(false))
	}
	draw := func(j *models.Job) {
		if bar == nil || j.Total == 0 {
			return // the total is known once the job has started its scan
		}
		if bar.GetMax() != j.Total-from {
			bar.ChangeMax(max(j.Total-from, 1))
		}
		bar.Set(j.Processed - from)
	}
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return j, ctx.Err()
		case <-tick.C:
		}
		running := r.Current() != nil
		if nj, err := r.GetJob(ctx, id); err == nil {
			j = nj
		}
		draw(j)
		if j.State.Finished() || !running {
			if bar != nil && j.State == models.JobDone {
				bar.Finish()
			}
			if bar != nil {
				fmt.Fprintln(w)
			}
			return j, nil
		}
	}
}
