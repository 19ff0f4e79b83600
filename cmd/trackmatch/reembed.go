package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/trackmatch/trackmatch/engine/face"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// reembedSummary is what `trackmatch reembed` prints when it ends.
type reembedSummary struct {
	Photos    int `json:"photos"`    // photos in the store
	Pending   int `json:"pending"`   // of those, with a face lacking a MobileFaceNet descriptor at the start
	Described int `json:"described"` // photos given their descriptors in this run
	Faces     int `json:"faces"`     // faces given a descriptor in this run
	Failed    int `json:"failed"`    // photos the face analysis could not read (kept as they were)
	Gone      int `json:"gone"`      // photos deleted while the command ran
}

// needsMFN reports whether a stored photo has a face that MobileFaceNet
// could describe (5 landmarks) but has not.
func needsMFN(p *models.Photo) bool {
	for _, f := range p.Faces {
		if f.MFN == nil && len(f.Landmarks) == 5 {
			return true
		}
	}
	return false
}

// runReembed implements `trackmatch reembed --data DIR [--workers N]
// [--quiet]`: it gives every stored face that lacks one a MobileFaceNet
// descriptor, computed in the face workers from the stored original photo
// and the face's stored dlib landmarks (no new detection, no re-upload),
// and stores it beside dlib's. Run it with the server stopped; the server
// indexes the new descriptors when it starts. It is resumable: each photo
// is written as soon as it is described, so a run that is stopped (SIGINT,
// SIGTERM, a crash) continues, when run again, with the photos still
// lacking descriptors. Progress goes to stderr, a JSON summary to stdout.
// Exit 0 when every photo that could be read was described, 1 otherwise.
func runReembed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("reembed", flag.ContinueOnError)
	fs.SetOutput(stderr)
	quiet := fs.Bool("quiet", false, "no progress bar")
	finish := bindConfig(fs)
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	if fs.NArg() > 0 {
		return usageLine("reembed [--data DIR] [--models DIR] [--workers N] [--quiet]")
	}
	cfg, err := finish()
	if err != nil {
		return badUsage(err)
	}
	if !face.HasFaceModel(cfg.FaceModels, face.MobileFaceNetModel) {
		return usagef("reembed computes %s descriptors; --face-models must include it", face.MobileFaceNetModel)
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	sum, err := reembed(ctx, cfg, log, stderr, *quiet)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.Encode(sum)
	if err != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "\nstopped after %d of %d photos; run `trackmatch reembed` again to continue\n", sum.Described, sum.Pending)
			return exitError{code: 1}
		}
		return err
	}
	if sum.Failed > 0 {
		return fmt.Errorf("%d photos could not be read; their faces keep dlib's descriptor alone", sum.Failed)
	}
	return nil
}

func reembed(ctx context.Context, cfg config, log *slog.Logger, progress io.Writer, quiet bool) (reembedSummary, error) {
	var sum reembedSummary
	store, err := index.Open(cfg.badgerDir(), index.StoreOptions{EncryptionKey: cfg.EncryptionKey, Logger: log})
	if err != nil {
		return sum, fmt.Errorf("open store: %w", err)
	}
	defer store.Close()
	var pending []string
	err = store.ForEachChild(ctx, "", func(c models.Child) error {
		for i := range c.Photos {
			sum.Photos++
			if needsMFN(&c.Photos[i]) {
				pending = append(pending, c.Photos[i].ID)
			}
		}
		return nil
	})
	if err != nil {
		return sum, err
	}
	sum.Pending = len(pending)
	if len(pending) == 0 {
		return sum, nil
	}
	pool, err := startFaceWorkers(ctx, cfg.Models, cfg.FaceModels, cfg.Workers, log)
	if err != nil {
		return sum, err
	}
	defer pool.Close()

	var bar *progressbar.ProgressBar
	if !quiet {
		bar = progressbar.NewOptions(len(pending), progressbar.OptionSetWriter(progress),
			progressbar.OptionSetDescription("reembed"), progressbar.OptionShowCount(), progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("photos"), progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(250*time.Millisecond), progressbar.OptionSetWidth(30),
			progressbar.OptionUseANSICodes(false))
	}
	var (
		mu       sync.Mutex
		firstErr error
		wg       sync.WaitGroup
	)
	next := make(chan string)
	for range pool.Workers() {
		wg.Go(func() {
			for id := range next {
				faces, err := reembedPhoto(ctx, store, pool, id)
				mu.Lock()
				switch code := models.ErrorCode(err); {
				case err == nil && faces >= 0:
					sum.Described++
					sum.Faces += faces
				case err == nil:
					// described by an earlier run meanwhile: nothing to do
				case code == models.ENOTFOUND:
					sum.Gone++
				case code != "" && code != models.ECANCELED && code != models.EUNAVAILABLE:
					sum.Failed++
					log.Warn("reembed: photo not described", "photo", id, "code", code)
				default:
					if firstErr == nil {
						firstErr = fmt.Errorf("photo %s: %w", id, err)
					}
				}
				if bar != nil {
					bar.Add(1)
				}
				mu.Unlock()
			}
		})
	}
feed:
	for _, id := range pending {
		mu.Lock()
		stop := firstErr != nil
		mu.Unlock()
		if stop {
			break
		}
		select {
		case next <- id:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	if bar != nil {
		fmt.Fprintln(progress)
	}
	if err := ctx.Err(); err != nil {
		return sum, err
	}
	return sum, firstErr
}

// reembedPhoto describes the faces of one stored photo that lack a
// MobileFaceNet descriptor and stores them; it returns how many it
// described, -1 when none needed it.
func reembedPhoto(ctx context.Context, store *index.Store, pool *face.WorkerPool, photoID string) (int, error) {
	p, err := store.GetPhoto(ctx, photoID)
	if err != nil {
		return 0, err
	}
	if !needsMFN(&p) {
		return -1, nil
	}
	data, _, err := store.PhotoBytes(ctx, photoID)
	if err != nil {
		return 0, err
	}
	lms := make([][]models.Point, len(p.Faces))
	for i, f := range p.Faces {
		if f.MFN == nil {
			lms[i] = f.Landmarks
		}
	}
	ds, err := pool.DescribeFaces(ctx, data, lms)
	if err != nil {
		return 0, err
	}
	n := 0
	for i, d := range ds {
		if d != nil && p.Faces[i].MFN == nil {
			p.Faces[i].MFN = d
			n++
		}
	}
	if err := store.PutPhoto(ctx, p, nil); err != nil {
		return 0, err
	}
	return n, nil
}
