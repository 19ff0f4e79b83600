package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sync"

	"github.com/trackmatch/trackmatch/engine/face"
	"github.com/trackmatch/trackmatch/models"
)

// embedResult is one line of `trackmatch embed` output.
type embedResult struct {
	Photo       string        `json:"photo"`
	ContentType string        `json:"content_type,omitempty"`
	Width       int           `json:"width,omitempty"`
	Height      int           `json:"height,omitempty"`
	Faces       []models.Face `json:"faces"`
	Subject     *int          `json:"subject,omitempty"`
	Error       *models.Error `json:"error,omitempty"`
}

// runEmbed implements `trackmatch embed [--models DIR] [--workers N] PHOTO...`:
// one JSON object per photo on stdout, in argument order. Exit 0 when every
// photo decoded (a photo without a face has "faces": []), 2 when any failed.
func runEmbed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("embed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("models", envOr("TRACKMATCH_MODELS", face.DefaultModelsDir()), "face model folder; env TRACKMATCH_MODELS")
	workers := fs.Int("workers", 0, "face worker processes, photos at once (0 = one per core)")
	faceModels := bindFaceModels(fs)
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	fm, err := faceModels()
	if err != nil {
		return badUsage(err)
	}
	if fs.NArg() == 0 {
		return usageLine("embed [--models DIR] [--workers N] PHOTO...")
	}
	pool, err := startFaceWorkers(ctx, *dir, fm, *workers, slog.New(slog.NewTextHandler(stderr, nil)))
	if err != nil {
		return err
	}
	defer pool.Close()

	paths := fs.Args()
	results := make([]chan embedResult, len(paths))
	for i := range results {
		results[i] = make(chan embedResult, 1)
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range pool.Workers() {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				results[i] <- embedPhoto(ctx, pool, paths[i])
			}
		}()
	}
	go func() {
		defer close(work)
		for i := range paths {
			select {
			case work <- i:
			case <-ctx.Done():
				for ; i < len(paths); i++ {
					results[i] <- embedResult{Photo: paths[i], Faces: []models.Face{},
						Error: models.Errorf(models.ECANCELED, "interrupted")}
				}
				return
			}
		}
	}()

	enc := json.NewEncoder(stdout)
	var failed error
	for i := range paths {
		r := <-results[i]
		if r.Error != nil {
			failed = exitError{code: 2} // each photo's error is in its JSON line
		}
		if err := enc.Encode(r); err != nil {
			failed = fmt.Errorf("write output: %w", err)
			break
		}
	}
	wg.Wait()
	return failed
}

// embedPhoto reads and analyses one photo, reading no more than the
// pipeline's byte limit (plus one byte, to tell that it is over).
func embedPhoto(ctx context.Context, pool *face.WorkerPool, path string) embedResult {
	res := embedResult{Photo: path, Faces: []models.Face{}}
	fail := func(err error) embedResult {
		res.Error = &models.Error{Code: models.ErrorCode(err), Message: models.ErrorMessage(err)}
		if res.Error.Code == models.EINTERNAL {
			res.Error.Message = err.Error() // a local tool: the detail is the user's own
		}
		return res
	}
	f, err := os.Open(path)
	if err != nil {
		code := models.EINVALID
		if os.IsNotExist(err) {
			code = models.ENOTFOUND
		}
		return fail(models.Errorf(code, "cannot read the photo: %v", err))
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, pool.Limits().MaxBytes+1))
	if err != nil {
		return fail(models.Errorf(models.EINVALID, "cannot read the photo: %v", err))
	}
	a, err := pool.Analyze(ctx, data)
	if err != nil {
		return fail(err)
	}
	res.ContentType, res.Width, res.Height = a.ContentType, a.Width, a.Height
	res.Faces = a.Faces
	if a.HasFace() {
		res.Subject = &a.Subject
	}
	return res
}
