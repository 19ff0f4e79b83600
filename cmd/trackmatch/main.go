// Command trackmatch is the matching engine's single binary: the HTTP
// service, and the command-line tools around it (embed, rescore, backup,
// restore, eval, models).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// command is one subcommand: its one-line help and its entry point, whose
// error dispatch turns into the exit status (exitCode: a usageError is 2).
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() map[string]command {
	return map[string]command{
		"backup":      {"write an encrypted backup of a stopped server's data (flags: --data, --out)", runBackup},
		"erase":       {"remove deleted records' bytes from a stopped server's data files (flags: --data)", runErase},
		"restore":     {"restore a backup into a new data folder (flags: --in, --data)", runRestore},
		"embed":       {"print faces and descriptors of photos as JSON lines", runEmbed},
		"import":      {"import records and photos from a JSONL or CSV file, idempotent and resumable (flags: --photos, --url and --key, or --data)", statusCommand(runImport)},
		"face-worker": {"internal: the process that analyses photos for the others (started by them)", runFaceWorker},
		"eval":        {"measure matching on labelled photos, face-only and fused (flags: --photos, --synthetic-attributes)", statusCommand(runEval)},
		"openapi":     {"print the API's OpenAPI document (as served at /openapi.json)", statusCommand(runOpenAPI)},
		"models":      {"check the face model files (models verify)", runModels},
		"reembed":     {"give stored faces their MobileFaceNet descriptors, from the stored photos (flags: --data, --workers); resumable", runReembed},
		"rescore":     {"re-score missing-found pairs into the review queue (flags: --data, --full, --threshold, --workers)", runRescore},
		"serve":       {"serve the HTTP API (flags: --addr, --data, --models)", runServe},
	}
}

// statusCommand adapts a command that prints its own errors and returns
// its exit status (eval) to command.run.
func statusCommand(run func(ctx context.Context, args []string, stdout, stderr io.Writer) int) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return exitStatus(run(ctx, args, stdout, stderr))
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stderr, cmds)
		return 2
	}
	c, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "trackmatch: unknown command %q\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return exitCode(args[0], c.run(ctx, args[1:], stdout, stderr), stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "usage: trackmatch COMMAND [flags]\n\ncommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
}
