package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/trackmatch/trackmatch/engine/face"
)

// runModels implements `trackmatch models verify`.
func runModels(_ context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("models", flag.ContinueOnError)
	fs.SetOutput(stderr)
	finish := bindConfig(fs)
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	cfg, err := finish()
	if err != nil {
		return badUsage(err)
	}
	dir := &cfg.Models
	if fs.NArg() != 1 || fs.Arg(0) != "verify" {
		return usageLine("models [--models DIR] [--face-models dlib,mobilefacenet] verify")
	}
	if err := face.VerifyModelsFor(*dir, cfg.FaceModels); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "face models in %s: ok\n", *dir)
	return nil
}
