package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/trackmatch/trackmatch/engine/face"
)

// runModels implements `trackmatch models verify`.
func runModels(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("models", flag.ContinueOnError)
	fs.SetOutput(stderr)
	finish := bindConfig(fs)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	cfg, err := finish()
	if err != nil {
		fmt.Fprintln(stderr, "trackmatch:", err)
		return 2
	}
	dir := &cfg.Models
	if fs.NArg() != 1 || fs.Arg(0) != "verify" {
		fmt.Fprintln(stderr, "usage: trackmatch models [--models DIR] [--face-models dlib,mobilefacenet] verify")
		return 2
	}
	if err := face.VerifyModelsFor(*dir, cfg.FaceModels); err != nil {
		fmt.Fprintln(stderr, "trackmatch:", err)
		return 1
	}
	fmt.Fprintf(stdout, "face models in %s: ok\n", *dir)
	return 0
}
