package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/trackmatch/trackmatch/api"
	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/engine/face"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
	"github.com/trackmatch/trackmatch/models/names"
)

// app is trackmatch wired together: the store and indexes from package
// index, the face pipeline and scorer from engine, behind engine.Service.
type app struct {
	log      *slog.Logger
	store    *index.Store
	attrs    *index.AttributeIndex
	faces    *index.VectorIndex
	photos   *face.WorkerPool // face analysis in worker processes
	service  *engine.Service
	rescorer *engine.Rescorer // batch re-scoring jobs
}

// openApp opens the store, brings the Bleve index up to date with it,
// loads the in-memory indexes and the face models. withFaces=false skips
// the models, for commands that never see a photo. It continues a
// re-scoring job left unfinished; rescore adjusts the job's options
// (rescoreOptions) for commands that take them as flags.
func openApp(ctx context.Context, cfg config, log *slog.Logger, rescore ...func(*engine.RescoreOptions)) (a *app, err error) {
	opened := &app{log: log}
	a = opened
	defer func() {
		if err != nil { // a is nil by now: close what was opened
			opened.Close()
		}
	}()
	start := time.Now()
	a.store, err = index.Open(cfg.badgerDir(), index.StoreOptions{EncryptionKey: cfg.EncryptionKey, Logger: log,
		MatchEventThreshold: cfg.Webhook.Threshold})
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	// Bleve cannot encrypt its files, so with encryption at rest the
	// attribute index lives in memory and is rebuilt from Badger at start.
	if cfg.EncryptionKey != nil {
		a.attrs, err = index.OpenMemAttributeIndex()
	} else {
		a.attrs, err = index.OpenAttributeIndex(cfg.bleveDir())
	}
	if err != nil {
		return nil, fmt.Errorf("open attribute index: %w", err)
	}
	n, err := a.store.CountChildren(ctx, "")
	if err != nil {
		return nil, err
	}
	if reason, err := a.attrs.OutOfDate(uint64(n)); err != nil {
		return nil, err
	} else if reason != "" {
		log.Info("rebuilding attribute index from the store", "reason", reason, "children", n)
		if err := a.attrs.Rebuild(ctx, storeSource(ctx, a.store)); err != nil {
			return nil, fmt.Errorf("rebuild attribute index: %w", err)
		}
	}
	params, err := a.store.LatestParams(ctx)
	if models.ErrorCode(err) == models.ENOTFOUND {
		params, err = a.store.PutParams(ctx, engine.DefaultParams())
	}
	if err != nil {
		return nil, fmt.Errorf("scoring parameters: %w", err)
	}
	scorer, err := engine.NewScorer(params)
	if err != nil {
		// Parameters from an older release whose levels this one no longer
		// has: keep them in the store's history, score with new defaults.
		log.Warn("stored scoring parameters do not fit this release; starting from the defaults",
			"params_version", params.Version, "err", err)
		if params, err = a.store.PutParams(ctx, engine.DefaultParams()); err != nil {
			return nil, fmt.Errorf("scoring parameters: %w", err)
		}
		if scorer, err = engine.NewScorer(params); err != nil {
			return nil, fmt.Errorf("default scoring parameters: %w", err)
		}
	}
	a.photos, err = startFaceWorkers(ctx, cfg.Models, cfg.FaceModels, cfg.Workers, log)
	if err != nil {
		return nil, err
	}
	a.faces = index.NewVectorIndex()
	ropt, err := rescoreOptions(cfg, log)
	if err != nil {
		return nil, err
	}
	for _, f := range rescore {
		f(&ropt)
	}
	// One Priority for both: the Service counts its interactive calls, a
	// running job makes way for them.
	ropt.Priority = engine.NewPriority(ropt.MaxYield)
	a.service = engine.NewService(engine.ServiceDeps{
		Store: a.store, Attrs: a.attrs, Faces: a.faces, Photos: a.photos,
		Matches: a.store, Names: names.NewFrequencies(), Scorer: scorer, NewID: index.NewID, Logger: log,
		Priority: ropt.Priority, QueueThreshold: ropt.Threshold,
	})
	children, faces, err := a.service.LoadIndexes(ctx, a.store)
	if err != nil {
		return nil, err
	}
	// Loading decoded every record once: hand that garbage back to the OS
	// now rather than keep it resident until the scavenger gets to it.
	debug.FreeOSMemory()
	a.rescorer = engine.NewRescorer(a.service, a.store, ropt)
	if _, err := a.rescorer.Resume(ctx); err != nil {
		return nil, fmt.Errorf("resume re-scoring job: %w", err)
	}
	log.Info("indexes loaded", "children", children, "faces", faces, "params_version", params.Version,
		"seconds", time.Since(start).Seconds())
	return a, nil
}

// storeSource adapts the store's iteration to what the Bleve rebuild reads.
func storeSource(ctx context.Context, s *index.Store) index.ChildSource {
	return func(yield func(*models.Child) error) error {
		return s.ForEachChild(ctx, "", func(c models.Child) error { return yield(&c) })
	}
}

// handler builds the HTTP API over the service, with cfg's keys and limits.
func (a *app) handler(cfg api.Config) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.registerMetrics(reg)
	srv := api.New(cfg, api.Deps{
		// Each interface is served by the type that owns it: records,
		// searches, matches and decisions by the Service (which counts its
		// searches and uploads for the job to make way), jobs by the Rescorer.
		Children: a.service, Matches: a.service, Jobs: a.rescorer, Audit: a.store,
		Ready: func() error { return nil }, Logger: a.log, Registry: reg,
		// Two photos per face worker keep every worker busy while the others are stored.
		Import: engine.NewImporter(a.service, 2*a.photos.Workers()),
	})
	return srv.Handler()
}

// Close closes whatever openApp opened, in reverse order.
func (a *app) Close() error {
	var errs []error
	if a.rescorer != nil { // the job checkpoints before the store closes
		errs = append(errs, a.rescorer.Close())
	}
	if a.photos != nil {
		errs = append(errs, a.photos.Close())
	}
	if a.attrs != nil {
		errs = append(errs, a.attrs.Close())
	}
	if a.store != nil {
		errs = append(errs, a.store.Close())
	}
	return errors.Join(errs...)
}
