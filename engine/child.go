package engine

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/trackmatch/trackmatch/models"
)

// CreateChild validates and stores a new record and indexes it. It is
// idempotent on (kind, external_ref): a retry returns the stored record with
// created=false.
func (s *Service) CreateChild(ctx context.Context, c *models.Child) (*models.Child, bool, error) {
	if err := c.Validate(s.now()); err != nil {
		return nil, false, err
	}
	c.Normalize()
	s.createMu.Lock()
	defer s.createMu.Unlock()
	if c.ExternalRef != "" {
		existing, err := s.store.ChildByExternalRef(ctx, c.Kind, c.ExternalRef)
		if err == nil {
			return &existing, false, nil
		}
		if models.ErrorCode(err) != models.ENOTFOUND {
			return nil, false, fmt.Errorf("look up external ref: %w", err)
		}
	}
	now := s.now().UTC()
	c.ID = s.newID()
	c.CreatedAt, c.UpdatedAt = now, now
	c.Photos = nil
	if err := s.store.PutChild(ctx, *c); err != nil {
		return nil, false, fmt.Errorf("store child: %w", err)
	}
	// The record is stored: the index must follow even if the caller has
	// gone, or the two disagree until the next rebuild.
	ctx = context.WithoutCancel(ctx)
	if err := s.attrs.Index(ctx, c); err != nil {
		return nil, false, fmt.Errorf("index child %s: %w", c.ID, err)
	}
	s.names.Add(c.Names)
	s.counts.add(c.Kind, 1)
	c.Photos = []models.Photo{}
	return c, true, nil
}

// GetChild returns a stored record with its photos.
func (s *Service) GetChild(ctx context.Context, id string) (*models.Child, error) {
	c, err := s.store.GetChild(ctx, id)
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// UpdateChild replaces a record's editable fields. Its id, kind, photos and
// creation time stay: a record given the other kind is refused with
// ECONFLICT (it would move to the other side of the search), an empty kind
// keeps the stored one.
func (s *Service) UpdateChild(ctx context.Context, id string, c *models.Child) (*models.Child, error) {
	s.recordMu.Lock()
	defer s.recordMu.Unlock()
	old, err := s.store.GetChild(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.Kind == "" {
		c.Kind = old.Kind
	}
	if err := c.Validate(s.now()); err != nil {
		return nil, err
	}
	if c.Kind != old.Kind {
		return nil, &models.Error{Code: models.ECONFLICT, Message: "a record's kind cannot change",
			Fields: []models.FieldError{{Field: "kind", Message: fmt.Sprintf("is %q and cannot change", old.Kind)}}}
	}
	c.Normalize()
	c.ID, c.CreatedAt, c.UpdatedAt, c.Photos = old.ID, old.CreatedAt, s.now().UTC(), old.Photos
	if err := s.store.PutChild(ctx, *c); err != nil {
		return nil, fmt.Errorf("store child %s: %w", id, err)
	}
	ctx = context.WithoutCancel(ctx) // stored: the indexes follow (see CreateChild)
	if c.Sex != old.Sex {
		// The face index keeps children by sex: move the faces.
		var entries []models.FaceEntry
		for i := range c.Photos {
			if e, ok := faceEntry(c, &c.Photos[i]); ok {
				entries = append(entries, e)
			}
		}
		if err := s.faces.ReplaceChild(id, entries); err != nil {
			return nil, fmt.Errorf("reindex faces of %s: %w", id, err)
		}
	}
	if err := s.attrs.Index(ctx, c); err != nil {
		return nil, fmt.Errorf("index child %s: %w", id, err)
	}
	s.names.Remove(old.Names)
	s.names.Add(c.Names)
	return c, nil
}

// DeleteChild erases a record, its photos, descriptors, index entries and
// matches.
func (s *Service) DeleteChild(ctx context.Context, id string) error {
	s.recordMu.Lock()
	defer s.recordMu.Unlock()
	old, err := s.store.GetChild(ctx, id)
	if err != nil {
		return err
	}
	if err := s.store.DeleteChild(ctx, id); err != nil {
		return fmt.Errorf("delete child %s: %w", id, err)
	}
	ctx = context.WithoutCancel(ctx) // deleted: the indexes follow (see CreateChild)
	s.faces.RemoveChild(id)
	if err := s.attrs.Delete(ctx, id); err != nil {
		return fmt.Errorf("unindex child %s: %w", id, err)
	}
	s.names.Remove(old.Names)
	s.counts.add(old.Kind, -1)
	return nil
}

// AddPhoto finds the faces in a photo and stores it with the child. A photo
// with no face is refused with ENOFACE and nothing is stored. The same
// bytes (by SHA-256) already stored with the child return that photo, with
// Photo.Existing set, and nothing new is stored or analysed. It counts as
// interactive (Priority).
func (s *Service) AddPhoto(ctx context.Context, childID string, data []byte) (*models.Photo, error) {
	defer s.priority.Interactive()()
	// Refuse an unknown record before the costly analysis.
	if _, err := s.store.GetChild(ctx, childID); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	digest := hex.EncodeToString(sum[:])
	if p := s.samePhoto(ctx, childID, digest); p != nil {
		return p, nil
	}
	a, err := s.photos.Analyze(ctx, data)
	if err != nil {
		return nil, err
	}
	if err := a.RequireFace(); err != nil {
		return nil, err
	}
	// Read the record again under the lock: it may have been updated or
	// deleted during the analysis, and the touch below must neither undo
	// an update nor bring a deleted record back.
	s.recordMu.Lock()
	defer s.recordMu.Unlock()
	child, err := s.store.GetChild(ctx, childID)
	if err != nil {
		return nil, err
	}
	if p := findPhoto(&child, digest); p != nil { // the same bytes arrived meanwhile
		return p, nil
	}
	p := models.Photo{
		ID: s.newID(), ChildID: child.ID, ContentType: a.ContentType, Bytes: len(data),
		SHA256: digest, Width: a.Width, Height: a.Height,
		TakenOn: child.ObservedOn, Faces: a.Faces, Subject: a.Subject, CreatedAt: s.now().UTC(),
	}
	if err := s.store.PutPhoto(ctx, p, data); err != nil {
		return nil, fmt.Errorf("store photo for %s: %w", childID, err)
	}
	// The photo is stored: the vector index and the record's change time
	// follow even if the caller has gone (see CreateChild).
	ctx = context.WithoutCancel(ctx)
	if err := s.indexPhoto(&child, &p); err != nil {
		return nil, fmt.Errorf("index photo %s: %w", p.ID, err)
	}
	// A new photo changes the evidence: the batch job re-scores the record's pairs.
	child.UpdatedAt = p.CreatedAt
	if err := s.store.PutChild(ctx, child); err != nil {
		return nil, fmt.Errorf("touch child %s: %w", childID, err)
	}
	return &p, nil
}

// samePhoto returns the photo of childID with these bytes' digest, marked
// Existing, or nil.
func (s *Service) samePhoto(ctx context.Context, childID, digest string) *models.Photo {
	c, err := s.store.GetChild(ctx, childID)
	if err != nil {
		return nil
	}
	return findPhoto(&c, digest)
}

// findPhoto returns c's photo with SHA-256 digest, marked Existing, or nil.
func findPhoto(c *models.Child, digest string) *models.Photo {
	for i := range c.Photos {
		if c.Photos[i].SHA256 == digest {
			p := c.Photos[i]
			p.Existing = true
			return &p
		}
	}
	return nil
}

// DeletePhoto removes a photo: its bytes, faces and descriptors in the
// store, its face in the vector index, and its part in the record's
// matches, which are scored again at once without it (rescoreMatchesOf:
// an undecided match that falls below the queue threshold is removed, the
// others keep their decision and take their new score). The record's
// UpdatedAt moves, so the next incremental re-score job scores its pairs
// again too. ENOTFOUND for an unknown photo. Undecided matches are kept
// down to ServiceDeps.QueueThreshold.
func (s *Service) DeletePhoto(ctx context.Context, photoID string) error {
	s.recordMu.Lock()
	defer s.recordMu.Unlock()
	p, err := s.store.GetPhoto(ctx, photoID)
	if err != nil {
		return err
	}
	if err := s.store.DeletePhoto(ctx, photoID); err != nil {
		return fmt.Errorf("delete photo %s: %w", photoID, err)
	}
	ctx = context.WithoutCancel(ctx) // deleted: the indexes and matches follow (see CreateChild)
	child, err := s.store.GetChild(ctx, p.ChildID)
	if err != nil {
		return fmt.Errorf("reload %s: %w", p.ChildID, err)
	}
	var entries []models.FaceEntry
	for i := range child.Photos {
		if e, ok := faceEntry(&child, &child.Photos[i]); ok {
			entries = append(entries, e)
		}
	}
	if err := s.faces.ReplaceChild(child.ID, entries); err != nil {
		return fmt.Errorf("reindex faces of %s: %w", child.ID, err)
	}
	child.UpdatedAt = s.now().UTC()
	if err := s.store.PutChild(ctx, child); err != nil {
		return fmt.Errorf("touch child %s: %w", child.ID, err)
	}
	if _, err := s.rescoreMatchesOf(ctx, &child, s.queueThreshold); err != nil {
		return err
	}
	return nil
}

// ListChildren returns a page of records that pass f, in creation order.
func (s *Service) ListChildren(ctx context.Context, f models.ChildFilter) ([]models.Child, string, error) {
	return s.store.ListChildren(ctx, f)
}

// indexPhoto adds the subject face of c's photo p to the vector index.
func (s *Service) indexPhoto(c *models.Child, p *models.Photo) error {
	e, ok := faceEntry(c, p)
	if !ok {
		return nil
	}
	return s.faces.Add(e)
}

// faceEntry is the vector index entry of the subject face of c's photo p,
// if it has one. Only the subject is indexed: other faces in a group photo
// are not this child.
func faceEntry(c *models.Child, p *models.Photo) (models.FaceEntry, bool) {
	f := p.SubjectFace()
	if f == nil || f.Descriptor == nil {
		return models.FaceEntry{}, false
	}
	return models.FaceEntry{ChildID: p.ChildID, PhotoID: p.ID, FaceIndex: p.Subject, Kind: c.Kind, Sex: c.Sex,
		TakenOn: p.TakenOn, Descriptor: *f.Descriptor, MFN: f.MFN}, true
}

// PhotoBytes returns a stored photo's original bytes and content type.
func (s *Service) PhotoBytes(ctx context.Context, photoID string) ([]byte, string, error) {
	return s.store.PhotoBytes(ctx, photoID)
}

// ChildLister iterates over every stored child of a kind ("" for both).
type ChildLister interface {
	ForEachChild(ctx context.Context, kind models.Kind, fn func(models.Child) error) error
}

// LoadIndexes fills the in-memory indexes (face vectors, name frequencies)
// from the store at start, the same way AddPhoto and CreateChild fill them.
func (s *Service) LoadIndexes(ctx context.Context, src ChildLister) (children, faces int, err error) {
	err = src.ForEachChild(ctx, "", func(c models.Child) error {
		children++
		s.names.Add(c.Names)
		s.counts.add(c.Kind, 1)
		for i := range c.Photos {
			if c.Photos[i].SubjectFace() != nil {
				faces++
			}
			if err := s.indexPhoto(&c, &c.Photos[i]); err != nil {
				return fmt.Errorf("index photo %s: %w", c.Photos[i].ID, err)
			}
		}
		return nil
	})
	if err != nil {
		return 0, 0, fmt.Errorf("load indexes: %w", err)
	}
	return children, faces, nil
}
