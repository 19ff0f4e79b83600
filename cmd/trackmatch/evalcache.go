package main

// An evaluation-only cache of what the face pipeline found in each photo
// (`trackmatch eval --descriptor-cache FILE`), so that repeated runs on one
// labelled set skip dlib: analysing a thousand photos costs minutes on a
// loaded machine. It is keyed by the photo's SHA-256, holds descriptors and
// boxes (never names or pixels), and belongs in a temporary folder, never
// in the repository.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/trackmatch/trackmatch/engine"
	"github.com/trackmatch/trackmatch/models"
)

// cachedAnalysis is the pipeline's result for one photo.
type cachedAnalysis struct {
	ContentType string        `json:"content_type,omitempty"`
	Width       int           `json:"width,omitempty"`
	Height      int           `json:"height,omitempty"`
	Faces       []models.Face `json:"faces,omitempty"`
	Subject     int           `json:"subject"`
	// Code is the error code of a photo the pipeline refused (no_face,
	// corrupt, ...); "" when it was read.
	Code string `json:"code,omitempty"`
}

// descriptorCache maps a photo's SHA-256 to its analysis. A nil cache
// stores photos through the pipeline every time.
type descriptorCache struct {
	path    string
	mu      sync.Mutex
	entries map[string]cachedAnalysis
	dirty   bool
}

// openDescriptorCache reads path, or starts an empty cache there when it
// does not exist yet; "" means no cache.
func openDescriptorCache(path string) (*descriptorCache, error) {
	if path == "" {
		return nil, nil
	}
	c := &descriptorCache{path: path, entries: map[string]cachedAnalysis{}}
	b, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("descriptor cache: %w", err)
	}
	if err := json.Unmarshal(b, &c.entries); err != nil {
		return nil, fmt.Errorf("descriptor cache %s: %w", path, err)
	}
	return c, nil
}

// save writes the cache back when it gained entries.
func (c *descriptorCache) save() error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.dirty {
		return nil
	}
	b, err := json.Marshal(c.entries)
	if err != nil {
		return fmt.Errorf("descriptor cache: %w", err)
	}
	if err := os.WriteFile(c.path+".tmp", b, 0o600); err != nil {
		return fmt.Errorf("descriptor cache: %w", err)
	}
	return os.Rename(c.path+".tmp", c.path)
}

// createWithPhoto stores record c with the photo read from path and
// returns the stored record's id and the photo. A photo the pipeline
// refuses leaves no record and returns the pipeline's error. With a cache
// hit the record is imported with the cached analysis (engine.Service.Import)
// instead of analysing the photo again.
func (c *descriptorCache) createWithPhoto(ctx context.Context, svc *engine.Service, rec *models.Child, path string) (string, *models.Photo, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", nil, fmt.Errorf("read photo: %w", err)
	}
	sum := sha256.Sum256(data)
	key := hex.EncodeToString(sum[:])
	if c != nil {
		c.mu.Lock()
		hit, ok := c.entries[key]
		c.mu.Unlock()
		if ok {
			if hit.Code != "" {
				return "", nil, models.Errorf(hit.Code, "cached: the pipeline refused this photo")
			}
			r := *rec
			r.Photos = []models.Photo{{ContentType: hit.ContentType, Width: hit.Width, Height: hit.Height,
				SHA256: key, TakenOn: rec.ObservedOn, Faces: hit.Faces, Subject: hit.Subject}}
			recs := []models.Child{r}
			if err := svc.Import(ctx, recs); err != nil {
				return "", nil, fmt.Errorf("import cached photo: %w", err)
			}
			return recs[0].ID, &recs[0].Photos[0], nil
		}
	}
	stored, _, err := svc.CreateChild(ctx, rec)
	if err != nil {
		return "", nil, fmt.Errorf("store record: %w", err)
	}
	ph, err := svc.AddPhoto(ctx, stored.ID, data)
	if err != nil {
		if derr := svc.DeleteChild(ctx, stored.ID); derr != nil {
			return "", nil, errors.Join(err, derr)
		}
		if code := models.ErrorCode(err); c != nil && refusedPhoto(code) {
			c.put(key, cachedAnalysis{Code: code})
		}
		return "", nil, err
	}
	if c != nil {
		c.put(key, cachedAnalysis{ContentType: ph.ContentType, Width: ph.Width, Height: ph.Height, Faces: ph.Faces, Subject: ph.Subject})
	}
	return stored.ID, ph, nil
}

func (c *descriptorCache) put(key string, a cachedAnalysis) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entries[key] = a
	c.dirty = true
}

// refusedPhoto reports whether code is the pipeline refusing a photo (the
// evaluation drops it and counts it), not a failure of the run.
func refusedPhoto(code string) bool {
	return code == models.ENOFACE || code == models.ECORRUPT || code == models.EUNSUPPORTED || code == models.ETOOLARGE
}
