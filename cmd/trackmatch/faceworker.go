package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strings"

	"github.com/trackmatch/trackmatch/engine/face"
)

// runFaceWorker implements `trackmatch face-worker`: the process that runs
// dlib and OpenCV for a server, embed or eval, reading photos on stdin and
// answering on stdout (face.ServeWorker). It is started by startFaceWorkers,
// never by hand.
func runFaceWorker(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("face-worker", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("models", envOr("TRACKMATCH_MODELS", face.DefaultModelsDir()), "face model folder")
	mem := fs.Int64("memory-limit", face.DefaultWorkerMemoryLimit, "address space limit in bytes (0 = none)")
	faceModels := bindFaceModels(fs)
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	fm, err := faceModels()
	if err != nil {
		return badUsage(err)
	}
	err = face.ServeWorker(ctx, os.Stdin, stdout, face.WorkerConfig{ModelsDir: *dir, MemoryLimit: *mem, FaceModels: fm})
	if err != nil {
		return err
	}
	return nil
}

// bindFaceModels registers --face-models on fs and returns a function
// that parses it after fs.Parse.
func bindFaceModels(fs *flag.FlagSet) func() ([]string, error) {
	v := fs.String("face-models", envOr("TRACKMATCH_FACE_MODELS", strings.Join(face.DefaultFaceModels, ",")),
		"face models to run: dlib,mobilefacenet, or dlib alone; env TRACKMATCH_FACE_MODELS")
	return func() ([]string, error) { return face.ParseFaceModels(*v) }
}

// startFaceWorkers checks the model files faceModels need, then starts
// workers face worker processes of this binary (one per core for 0), each
// with its own dlib recognizer (and MobileFaceNet when faceModels has it):
// the only way trackmatch runs dlib and OpenCV, so that a photo that
// crashes them fails alone. nil faceModels are face.DefaultFaceModels.
func startFaceWorkers(ctx context.Context, modelsDir string, faceModels []string, workers int, log *slog.Logger) (*face.WorkerPool, error) {
	if faceModels == nil { // a config built without bindConfig
		faceModels = face.DefaultFaceModels
	}
	if err := face.VerifyModelsFor(modelsDir, faceModels); err != nil {
		return nil, err
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find the trackmatch binary to start face workers: %w", err)
	}
	return face.NewWorkerPool(ctx, face.WorkerPoolConfig{
		Command: func() *exec.Cmd {
			return exec.Command(exe, "face-worker", "--models", modelsDir, "--face-models", strings.Join(faceModels, ","))
		},
		Workers: workers,
		Logger:  log,
	})
}
