package index

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/trackmatch/trackmatch/models"
)

func keyPhotoMeta(childID, photoID string) []byte {
	return []byte(prefixChild + childID + "/p/" + photoID)
}

func keyPhotoIdx(photoID string) []byte { return []byte(prefixPhotoIdx + photoID) }

func keyPhotoBytes(photoID string) []byte { return []byte(prefixBytes + photoID + "/") }

func keyPhotoChunk(photoID string, n int) []byte {
	return binary.BigEndian.AppendUint32(keyPhotoBytes(photoID), uint32(n))
}

// PutPhoto stores photo's metadata (faces and descriptors included) and its
// original bytes in one transaction; photo.Bytes is set to len(original).
// The photo's child must exist (ENOTFOUND otherwise), and a photo id belongs
// to one child for good (ECONFLICT). With original == nil it replaces the
// metadata of an existing photo and keeps its bytes (e.g. after re-running
// face detection). A photo too large for one transaction is ETOOLARGE.
func (s *Store) PutPhoto(ctx context.Context, photo models.Photo, original []byte) error {
	if !validID(photo.ID) || !validID(photo.ChildID) {
		return models.Errorf(models.EINVALID, "photo and child ids must be 1-%d characters of [0-9A-Za-z_]", maxIDLen)
	}
	if original != nil {
		photo.Bytes = len(original)
	}
	err := s.update(ctx, func(txn *badger.Txn) error {
		// Reading the child record puts it in the read set, and setting its
		// guard below puts this write in DeleteChild's: whichever of the two
		// commits second conflicts and retries, so no photo outlives its child.
		if _, ok, err := getValue(txn, keyChild(photo.ChildID)); err != nil {
			return err
		} else if !ok {
			return models.Errorf(models.ENOTFOUND, "no record %s", photo.ChildID)
		}
		owner, exists, err := getValue(txn, keyPhotoIdx(photo.ID))
		if err != nil {
			return err
		}
		if exists && string(owner) != photo.ChildID {
			return models.Errorf(models.ECONFLICT, "photo %s belongs to another record", photo.ID)
		}
		if original == nil {
			if !exists {
				return models.Errorf(models.EINVALID, "a new photo needs its original bytes")
			}
			old, _, err := getValue(txn, keyPhotoMeta(photo.ChildID, photo.ID))
			if err != nil {
				return err
			}
			prev, err := decodePhoto(old)
			if err != nil {
				return err
			}
			photo.Bytes = prev.Bytes
		} else {
			if err := deleteKeys(txn, keysWithPrefix(txn, keyPhotoBytes(photo.ID))); err != nil {
				return err
			}
			for n, off := 0, 0; off < len(original); n, off = n+1, off+photoChunkSize {
				end := min(off+photoChunkSize, len(original))
				if err := txn.Set(keyPhotoChunk(photo.ID, n), original[off:end]); err != nil {
					return err
				}
			}
		}
		meta, err := encodePhoto(photo)
		if err != nil {
			return err
		}
		return putPhotoMetaTxn(txn, photo, meta)
	})
	if errors.Is(err, badger.ErrTxnTooBig) {
		return models.Errorf(models.ETOOLARGE, "the photo is too large to store (%d bytes)", len(original))
	}
	if err != nil {
		return fmt.Errorf("put photo %s: %w", photo.ID, err)
	}
	return nil
}

// putPhotoMetaTxn writes photo's metadata (encoded as meta) in txn, with
// the guard that makes a concurrent DeleteChild of its record conflict.
// The caller has checked that the record exists (or writes it in txn) and
// that the photo id is not another record's.
func putPhotoMetaTxn(txn *badger.Txn, photo models.Photo, meta []byte) error {
	if !validID(photo.ID) || !validID(photo.ChildID) {
		return models.Errorf(models.EINVALID, "photo and child ids must be 1-%d characters of [0-9A-Za-z_]", maxIDLen)
	}
	if err := txn.Set(keyGuard(photo.ChildID), nil); err != nil {
		return err
	}
	if err := txn.Set(keyPhotoIdx(photo.ID), []byte(photo.ChildID)); err != nil {
		return err
	}
	return txn.Set(keyPhotoMeta(photo.ChildID, photo.ID), meta)
}

// GetPhoto returns the metadata of photo photoID; ENOTFOUND when there is none.
func (s *Store) GetPhoto(ctx context.Context, photoID string) (models.Photo, error) {
	var p models.Photo
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		p, err = readPhoto(txn, photoID)
		return err
	})
	if err != nil {
		return models.Photo{}, fmt.Errorf("get photo %s: %w", photoID, err)
	}
	return p, nil
}

func readPhoto(txn *badger.Txn, photoID string) (models.Photo, error) {
	if !validID(photoID) {
		return models.Photo{}, models.Errorf(models.ENOTFOUND, "no photo %q", photoID)
	}
	childID, ok, err := getValue(txn, keyPhotoIdx(photoID))
	if err != nil {
		return models.Photo{}, err
	}
	if !ok {
		return models.Photo{}, models.Errorf(models.ENOTFOUND, "no photo %s", photoID)
	}
	meta, ok, err := getValue(txn, keyPhotoMeta(string(childID), photoID))
	if err != nil {
		return models.Photo{}, err
	}
	if !ok {
		return models.Photo{}, fmt.Errorf("photo %s: index entry without metadata", photoID)
	}
	return decodePhoto(meta)
}

// PhotoBytes returns the original bytes of photo photoID and their content
// type; ENOTFOUND when there is no such photo.
func (s *Store) PhotoBytes(ctx context.Context, photoID string) ([]byte, string, error) {
	var (
		data []byte
		ct   string
	)
	err := s.view(ctx, func(txn *badger.Txn) error {
		p, err := readPhoto(txn, photoID)
		if err != nil {
			return err
		}
		ct = p.ContentType
		data = make([]byte, 0, p.Bytes)
		it := txn.NewIterator(badger.IteratorOptions{Prefix: keyPhotoBytes(photoID), PrefetchValues: true, PrefetchSize: 4})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			if err := it.Item().Value(func(v []byte) error {
				data = append(data, v...)
				return nil
			}); err != nil {
				return err
			}
		}
		if len(data) != p.Bytes {
			return fmt.Errorf("photo %s: %d of %d bytes stored", photoID, len(data), p.Bytes)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("photo bytes %s: %w", photoID, err)
	}
	return data, ct, nil
}

// DeletePhoto removes photo photoID: metadata, descriptors and original
// bytes; ENOTFOUND when there is none. Matches scored with it go stale and
// are the re-scorer's to update.
func (s *Store) DeletePhoto(ctx context.Context, photoID string) error {
	err := s.update(ctx, func(txn *badger.Txn) error {
		if !validID(photoID) {
			return models.Errorf(models.ENOTFOUND, "no photo %q", photoID)
		}
		childID, ok, err := getValue(txn, keyPhotoIdx(photoID))
		if err != nil {
			return err
		}
		if !ok {
			return models.Errorf(models.ENOTFOUND, "no photo %s", photoID)
		}
		if err := deletePhotoData(txn, photoID); err != nil {
			return err
		}
		return txn.Delete(keyPhotoMeta(string(childID), photoID))
	})
	if err != nil {
		return fmt.Errorf("delete photo %s: %w", photoID, err)
	}
	return nil
}

// deletePhotoData deletes a photo's index entry and original bytes; the
// caller deletes its metadata key.
func deletePhotoData(txn *badger.Txn, photoID string) error {
	if err := txn.Delete(keyPhotoIdx(photoID)); err != nil {
		return err
	}
	return deleteKeys(txn, keysWithPrefix(txn, keyPhotoBytes(photoID)))
}

func deleteKeys(txn *badger.Txn, keys [][]byte) error {
	for _, k := range keys {
		if err := txn.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// ForEachDescriptor calls fn for every face descriptor of every photo, for
// rebuilding the vector index at start: faceIndex indexes photo.Faces (which
// may include bystanders; the record's Photo.Subject says which face is the
// child's), and takenOn is the photo's date, or the record's observed_on
// when the photo has none. It scans like ForEachChild; an error from fn
// stops the scan and is returned.
func (s *Store) ForEachDescriptor(ctx context.Context, fn func(childID, photoID string, faceIndex int, kind models.Kind, d models.Descriptor, takenOn models.Date) error) error {
	err := s.walkChildren(ctx, true, func(rec []byte, photos [][]byte) error {
		var h childHead
		if err := json.Unmarshal(rec, &h); err != nil {
			return fmt.Errorf("decode child: %w", err)
		}
		for _, v := range photos {
			p, err := decodePhoto(v)
			if err != nil {
				return err
			}
			taken := p.TakenOn
			if taken == "" {
				taken = h.ObservedOn
			}
			for i, f := range p.Faces {
				if f.Descriptor == nil {
					continue
				}
				if err := fn(h.ID, p.ID, i, h.Kind, *f.Descriptor, taken); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("for each descriptor: %w", err)
	}
	return nil
}

// Photo metadata envelope, version 2:
//
//	byte     version (2)
//	uvarint  n, the length of the JSON that follows
//	n bytes  the photo as JSON, every Face.Descriptor and Face.MFN cut out
//	per face, in order: one byte of flags (1: a dlib descriptor follows,
//	         2: a MobileFaceNet one follows), then 128 little-endian
//	         float32s (512 bytes) for dlib's, then 512 (2048 bytes) for
//	         MobileFaceNet's
//
// Version 1, written before MobileFaceNet, is the same with flags 0 or 1;
// it is still read, its faces without MobileFaceNet descriptors. A
// descriptor as JSON numbers takes about 2.8 times its raw size.
const (
	photoEnvelopeV1 = 1
	photoEnvelopeV2 = 2
	faceHasDlib     = 1
	faceHasMFN      = 2
)

func encodePhoto(p models.Photo) ([]byte, error) {
	faces := p.Faces
	p.Faces = make([]models.Face, len(faces))
	for i, f := range faces {
		f.Descriptor, f.MFN = nil, nil
		p.Faces[i] = f
	}
	js, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("encode photo %s: %w", p.ID, err)
	}
	buf := make([]byte, 0, 1+binary.MaxVarintLen64+len(js)+len(faces)*(1+4*(models.DescriptorSize+models.MFNDescriptorSize)))
	buf = append(buf, photoEnvelopeV2)
	buf = binary.AppendUvarint(buf, uint64(len(js)))
	buf = append(buf, js...)
	for _, f := range faces {
		var flags byte
		if f.Descriptor != nil {
			flags |= faceHasDlib
		}
		if f.MFN != nil {
			flags |= faceHasMFN
		}
		buf = append(buf, flags)
		if f.Descriptor != nil {
			buf = appendFloats(buf, f.Descriptor[:])
		}
		if f.MFN != nil {
			buf = appendFloats(buf, f.MFN[:])
		}
	}
	return buf, nil
}

func appendFloats(buf []byte, xs []float32) []byte {
	for _, x := range xs {
		buf = binary.LittleEndian.AppendUint32(buf, math.Float32bits(x))
	}
	return buf
}

// readFloats fills dst from the front of rest and returns what follows.
func readFloats(rest []byte, dst []float32) ([]byte, error) {
	if len(rest) < 4*len(dst) {
		return nil, errors.New("decode photo: truncated descriptor")
	}
	for j := range dst {
		dst[j] = math.Float32frombits(binary.LittleEndian.Uint32(rest[4*j:]))
	}
	return rest[4*len(dst):], nil
}

func decodePhoto(v []byte) (models.Photo, error) {
	var p models.Photo
	if len(v) == 0 || (v[0] != photoEnvelopeV1 && v[0] != photoEnvelopeV2) {
		return p, errors.New("decode photo: unknown envelope version")
	}
	allowed := byte(faceHasDlib)
	if v[0] == photoEnvelopeV2 {
		allowed |= faceHasMFN
	}
	n, w := binary.Uvarint(v[1:])
	if w <= 0 || uint64(len(v)-1-w) < n {
		return p, errors.New("decode photo: truncated metadata")
	}
	rest := v[1+w:]
	if err := json.Unmarshal(rest[:n], &p); err != nil {
		return p, fmt.Errorf("decode photo: %w", err)
	}
	rest = rest[n:]
	for i := range p.Faces {
		if len(rest) == 0 {
			return p, errors.New("decode photo: truncated descriptors")
		}
		flags := rest[0]
		rest = rest[1:]
		if flags&^allowed != 0 {
			return p, fmt.Errorf("decode photo: face flags %#x", flags)
		}
		var err error
		if flags&faceHasDlib != 0 {
			d := new(models.Descriptor)
			if rest, err = readFloats(rest, d[:]); err != nil {
				return p, err
			}
			p.Faces[i].Descriptor = d
		}
		if flags&faceHasMFN != 0 {
			m := new(models.MFNDescriptor)
			if rest, err = readFloats(rest, m[:]); err != nil {
				return p, err
			}
			p.Faces[i].MFN = m
		}
	}
	if len(rest) != 0 {
		return p, errors.New("decode photo: trailing bytes")
	}
	return p, nil
}
