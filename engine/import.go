package engine

import (
	"context"
	"fmt"
	"math"

	"github.com/trackmatch/trackmatch/models"
)

// Import stores and indexes many new records at once: a migration from an
// existing register whose photos were analysed elsewhere, or a benchmark's
// synthetic gallery. Each record is validated and normalized as
// CreateChild does and gets a new id (and its photos new ids), written
// back into cs. Photos keep their faces and descriptors but no original
// bytes. An external_ref already in use is ECONFLICT. Records are written
// importBatch at a time; on error, earlier batches stay stored and indexed.
func (s *Service) Import(ctx context.Context, cs []models.Child) error {
	now := s.now().UTC()
	for i := range cs {
		c := &cs[i]
		if err := c.Validate(now); err != nil {
			return fmt.Errorf("record %d: %w", i+1, err)
		}
		c.Normalize()
		for j := range c.Photos {
			if err := checkImportedPhoto(&c.Photos[j]); err != nil {
				return fmt.Errorf("record %d photo %d: %w", i+1, j+1, err)
			}
		}
	}
	s.createMu.Lock()
	defer s.createMu.Unlock()
	for lo := 0; lo < len(cs); lo += importBatch {
		batch := cs[lo:min(lo+importBatch, len(cs))]
		for i := range batch {
			c := &batch[i]
			c.ID = s.newID()
			c.CreatedAt, c.UpdatedAt = now, now
			for j := range c.Photos {
				p := &c.Photos[j]
				p.ID, p.ChildID, p.Bytes, p.CreatedAt = s.newID(), c.ID, 0, now
				if p.TakenOn == "" {
					p.TakenOn = c.ObservedOn
				}
			}
		}
		if err := s.store.PutChildren(ctx, batch); err != nil {
			return fmt.Errorf("import records %d-%d: %w", lo+1, lo+len(batch), err)
		}
		// Stored: the indexes follow even if the caller has gone (see CreateChild).
		ictx := context.WithoutCancel(ctx)
		ptrs := make([]*models.Child, len(batch))
		for i := range batch {
			ptrs[i] = &batch[i]
		}
		if err := s.attrs.IndexBatch(ictx, ptrs); err != nil {
			return fmt.Errorf("index records %d-%d: %w", lo+1, lo+len(batch), err)
		}
		for i := range batch {
			c := &batch[i]
			s.names.Add(c.Names)
			s.counts.add(c.Kind, 1)
			for j := range c.Photos {
				if err := s.indexPhoto(c, &c.Photos[j]); err != nil {
					return fmt.Errorf("index photo of record %d: %w", lo+i+1, err)
				}
			}
		}
	}
	return nil
}

// importBatch is how many records Import writes and indexes at a time.
const importBatch = 5000

// checkImportedPhoto refuses a photo whose subject face has no usable
// descriptor: an imported photo is only there for its face.
func checkImportedPhoto(p *models.Photo) error {
	f := p.SubjectFace()
	if f == nil || f.Descriptor == nil {
		return models.Errorf(models.EINVALID, "an imported photo needs its subject face's descriptor")
	}
	for _, x := range f.Descriptor {
		if math.IsNaN(float64(x)) || math.IsInf(float64(x), 0) {
			return models.Errorf(models.EINVALID, "the subject face's descriptor is not finite")
		}
	}
	return nil
}
