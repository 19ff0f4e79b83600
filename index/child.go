package index

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	badger "github.com/dgraph-io/badger/v4"

	"github.com/trackmatch/trackmatch/models"
)

func keyChild(id string) []byte { return []byte(prefixChild + id) }

// keyChildOwn is the prefix of the keys a child owns besides its record.
func keyChildOwn(id string) []byte { return []byte(prefixChild + id + "/") }

// keyGuard is the child's guard key (see the key layout in store.go).
func keyGuard(id string) []byte { return []byte(prefixChild + id + "/g") }

func keyExtRef(kind models.Kind, ref string) []byte {
	return []byte(prefixExtRef + string(kind) + "/" + ref)
}

// childHead is the part of a stored child record that scans need.
type childHead struct {
	ID         string      `json:"id"`
	Kind       models.Kind `json:"kind"`
	ObservedOn models.Date `json:"observed_on"`
}

// PutChild creates or replaces the record c.ID (an id from NewID). It stores
// the record's own fields as given, timestamps included; c.Photos is
// ignored, since photos change through PutPhoto and DeletePhoto. A non-empty ExternalRef must be unused by
// any other record of the same kind (ECONFLICT otherwise), and a record's
// kind cannot change.
func (s *Store) PutChild(ctx context.Context, c models.Child) error {
	val, err := encodeChild(c)
	if err != nil {
		return err
	}
	if err := s.update(ctx, func(txn *badger.Txn) error { return putChildTxn(txn, c, val) }); err != nil {
		return fmt.Errorf("put child %s: %w", c.ID, err)
	}
	return nil
}

// encodeChild checks what the store relies on in c and encodes its own
// fields (not its photos).
func encodeChild(c models.Child) ([]byte, error) {
	if !validID(c.ID) {
		return nil, models.Errorf(models.EINVALID, "child id must be 1-%d characters of [0-9A-Za-z_]", maxIDLen)
	}
	if !c.Kind.Valid() {
		return nil, models.Errorf(models.EINVALID, "kind must be %q or %q", models.KindMissing, models.KindFound)
	}
	if err := models.ValidateExternalRef(c.ExternalRef); err != nil {
		return nil, err
	}
	c.Photos = nil
	val, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("encode child %s: %w", c.ID, err)
	}
	return val, nil
}

// putChildTxn writes record c (encoded as val) in txn: PutChild's checks
// of kind and external_ref against what is stored.
func putChildTxn(txn *badger.Txn, c models.Child, val []byte) error {
	old, exists, err := getValue(txn, keyChild(c.ID))
	if err != nil {
		return err
	}
	if exists {
		var prev childRef
		if err := json.Unmarshal(old, &prev); err != nil {
			return fmt.Errorf("decode child %s: %w", c.ID, err)
		}
		if prev.Kind != c.Kind {
			return models.Errorf(models.ECONFLICT, "record %s is %s; its kind cannot change", c.ID, prev.Kind)
		}
		if prev.ExternalRef != "" && prev.ExternalRef != c.ExternalRef {
			if err := txn.Delete(keyExtRef(prev.Kind, prev.ExternalRef)); err != nil {
				return err
			}
		}
	}
	if c.ExternalRef != "" {
		owner, taken, err := getValue(txn, keyExtRef(c.Kind, c.ExternalRef))
		if err != nil {
			return err
		}
		if taken && string(owner) != c.ID {
			return models.Errorf(models.ECONFLICT,
				"external_ref is already used by %s record %s", c.Kind, owner)
		}
		if err := txn.Set(keyExtRef(c.Kind, c.ExternalRef), []byte(c.ID)); err != nil {
			return err
		}
	}
	return txn.Set(keyChild(c.ID), val)
}

// PutChildren stores many records with their photos, a batch of them to a
// transaction: a bulk import of records whose photos were analysed
// elsewhere. Each record is checked as PutChild checks it, and each of
// c.Photos as PutPhoto checks it; the photos' faces and descriptors are
// kept, their original bytes are not (Photo.Bytes is 0 and PhotoBytes
// returns none). A batch is written whole or not at all; on error, the
// batches before it stay stored.
func (s *Store) PutChildren(ctx context.Context, cs []models.Child) error {
	for lo := 0; lo < len(cs); {
		n := min(putChildrenBatch, len(cs)-lo)
		for {
			err := s.putChildBatch(ctx, cs[lo:lo+n])
			if errors.Is(err, badger.ErrTxnTooBig) && n > 1 {
				n /= 2
				continue
			}
			if err != nil {
				return err
			}
			break
		}
		lo += n
	}
	return nil
}

// putChildrenBatch is how many records PutChildren writes to a transaction
// at most; fewer when they do not fit in one.
const putChildrenBatch = 1000

func (s *Store) putChildBatch(ctx context.Context, cs []models.Child) error {
	vals := make([][]byte, len(cs))
	metas := make([][][]byte, len(cs))
	for i, c := range cs {
		var err error
		if vals[i], err = encodeChild(c); err != nil {
			return fmt.Errorf("put child %s: %w", c.ID, err)
		}
		for _, p := range c.Photos {
			if p.ChildID != c.ID {
				return models.Errorf(models.EINVALID, "photo %s is not of record %s", p.ID, c.ID)
			}
			p.Bytes = 0
			meta, err := encodePhoto(p)
			if err != nil {
				return fmt.Errorf("put photo %s: %w", p.ID, err)
			}
			metas[i] = append(metas[i], meta)
		}
	}
	err := s.update(ctx, func(txn *badger.Txn) error {
		for i, c := range cs {
			if err := putChildTxn(txn, c, vals[i]); err != nil {
				return fmt.Errorf("put child %s: %w", c.ID, err)
			}
			for j, p := range c.Photos {
				owner, exists, err := getValue(txn, keyPhotoIdx(p.ID))
				if err != nil {
					return err
				}
				if exists && string(owner) != c.ID {
					return models.Errorf(models.ECONFLICT, "photo %s belongs to another record", p.ID)
				}
				if err := putPhotoMetaTxn(txn, p, metas[i][j]); err != nil {
					return fmt.Errorf("put photo %s: %w", p.ID, err)
				}
			}
		}
		return nil
	})
	if err != nil && !errors.Is(err, badger.ErrTxnTooBig) {
		return fmt.Errorf("put children: %w", err)
	}
	return err
}

// childRef is the part of a stored record that PutChild and DeleteChild need.
type childRef struct {
	Kind        models.Kind `json:"kind"`
	ExternalRef string      `json:"external_ref"`
}

// GetChild returns the record id with its photos (faces and descriptors
// included), in photo-id order; ENOTFOUND when there is none.
func (s *Store) GetChild(ctx context.Context, id string) (models.Child, error) {
	var c models.Child
	err := s.view(ctx, func(txn *badger.Txn) error {
		var err error
		c, err = readChild(txn, id)
		return err
	})
	if err != nil {
		return models.Child{}, fmt.Errorf("get child %s: %w", id, err)
	}
	return c, nil
}

// readChild reads record id and its photos within txn.
func readChild(txn *badger.Txn, id string) (models.Child, error) {
	if !validID(id) {
		return models.Child{}, models.Errorf(models.ENOTFOUND, "no record %q", id)
	}
	val, ok, err := getValue(txn, keyChild(id))
	if err != nil {
		return models.Child{}, err
	}
	if !ok {
		return models.Child{}, models.Errorf(models.ENOTFOUND, "no record %s", id)
	}
	var photos [][]byte
	it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixChild + id + "/p/")})
	defer it.Close()
	for it.Rewind(); it.Valid(); it.Next() {
		v, err := it.Item().ValueCopy(nil)
		if err != nil {
			return models.Child{}, err
		}
		photos = append(photos, v)
	}
	return decodeChild(val, photos)
}

// decodeChild builds a child from its stored record and photo values.
func decodeChild(rec []byte, photos [][]byte) (models.Child, error) {
	var c models.Child
	if err := json.Unmarshal(rec, &c); err != nil {
		return models.Child{}, fmt.Errorf("decode child: %w", err)
	}
	c.Photos = make([]models.Photo, 0, len(photos))
	for _, v := range photos {
		p, err := decodePhoto(v)
		if err != nil {
			return models.Child{}, fmt.Errorf("child %s: %w", c.ID, err)
		}
		c.Photos = append(c.Photos, p)
	}
	return c, nil
}

// ChildByExternalRef returns the record of kind with the portal reference
// ref, so that a repeated create can return the existing record; ENOTFOUND
// when there is none.
func (s *Store) ChildByExternalRef(ctx context.Context, kind models.Kind, ref string) (models.Child, error) {
	if !kind.Valid() || ref == "" {
		return models.Child{}, models.Errorf(models.ENOTFOUND, "no record with that external_ref")
	}
	var c models.Child
	err := s.view(ctx, func(txn *badger.Txn) error {
		id, ok, err := getValue(txn, keyExtRef(kind, ref))
		if err != nil {
			return err
		}
		if !ok {
			return models.Errorf(models.ENOTFOUND, "no %s record with that external_ref", kind)
		}
		c, err = readChild(txn, string(id))
		return err
	})
	if err != nil {
		return models.Child{}, fmt.Errorf("child by external ref: %w", err)
	}
	return c, nil
}

// DeleteChild erases record id in one transaction: the record, its photos
// (metadata, descriptors and original bytes), its external_ref entry, and
// every match it is in, with their queue entries. ENOTFOUND when there is
// none. The data leaves the files on disk only after Erase.
func (s *Store) DeleteChild(ctx context.Context, id string) error {
	err := s.update(ctx, func(txn *badger.Txn) error {
		if !validID(id) {
			return models.Errorf(models.ENOTFOUND, "no record %q", id)
		}
		val, ok, err := getValue(txn, keyChild(id))
		if err != nil {
			return err
		}
		if !ok {
			return models.Errorf(models.ENOTFOUND, "no record %s", id)
		}
		var ref childRef
		if err := json.Unmarshal(val, &ref); err != nil {
			return fmt.Errorf("decode child: %w", err)
		}
		if ref.ExternalRef != "" {
			owner, ok, err := getValue(txn, keyExtRef(ref.Kind, ref.ExternalRef))
			if err != nil {
				return err
			}
			if ok && string(owner) == id {
				if err := txn.Delete(keyExtRef(ref.Kind, ref.ExternalRef)); err != nil {
					return err
				}
			}
		}
		// Read the guard so that a PutPhoto or PutMatch committed since this
		// transaction began makes it conflict and retry, seeing their keys.
		if _, _, err := getValue(txn, keyGuard(id)); err != nil {
			return err
		}
		photoPrefix := []byte(prefixChild + id + "/p/")
		for _, k := range keysWithPrefix(txn, keyChildOwn(id)) {
			if bytes.HasPrefix(k, photoPrefix) {
				if err := deletePhotoData(txn, string(k[len(photoPrefix):])); err != nil {
					return err
				}
			}
			if err := txn.Delete(k); err != nil {
				return err
			}
		}
		if _, err := deleteMatchesOf(txn, id); err != nil {
			return err
		}
		return txn.Delete(keyChild(id))
	})
	if err != nil {
		return fmt.Errorf("delete child %s: %w", id, err)
	}
	return nil
}

// ForEachChild calls fn for every record of kind ("" for both), with its
// photos, in id order (creation order for NewID ids). It reads a page of
// records per transaction and calls fn outside it, so a slow fn holds no
// snapshot open; a record changed during the scan is seen either way, and
// records created during it are seen if their id sorts later. An error from
// fn stops the scan and is returned.
func (s *Store) ForEachChild(ctx context.Context, kind models.Kind, fn func(models.Child) error) error {
	err := s.walkChildren(ctx, true, func(rec []byte, photos [][]byte) error {
		if kind != "" {
			var h childHead
			if err := json.Unmarshal(rec, &h); err != nil {
				return fmt.Errorf("decode child: %w", err)
			}
			if h.Kind != kind {
				return nil
			}
		}
		c, err := decodeChild(rec, photos)
		if err != nil {
			return err
		}
		return fn(c)
	})
	if err != nil {
		return fmt.Errorf("for each child: %w", err)
	}
	return nil
}

// ListChildIDs returns the ids of every record of kind ("" for both), in id order.
func (s *Store) ListChildIDs(ctx context.Context, kind models.Kind) ([]string, error) {
	var ids []string
	err := s.walkChildren(ctx, false, func(rec []byte, _ [][]byte) error {
		var h childHead
		if err := json.Unmarshal(rec, &h); err != nil {
			return fmt.Errorf("decode child: %w", err)
		}
		if kind == "" || h.Kind == kind {
			ids = append(ids, h.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list child ids: %w", err)
	}
	return ids, nil
}

// CountChildren returns how many records of kind ("" for both) there are.
func (s *Store) CountChildren(ctx context.Context, kind models.Kind) (int, error) {
	ids, err := s.ListChildIDs(ctx, kind)
	return len(ids), err
}

// walkChildren calls visit with each stored child record (and, when
// withPhotos, its photo values), reading childPageSize records per
// transaction and calling visit between transactions.
func (s *Store) walkChildren(ctx context.Context, withPhotos bool, visit func(rec []byte, photos [][]byte) error) error {
	type raw struct {
		id     string
		rec    []byte
		photos [][]byte
	}
	start := []byte(prefixChild)
	for {
		var page []raw
		done := true
		err := s.view(ctx, func(txn *badger.Txn) error {
			it := txn.NewIterator(badger.IteratorOptions{Prefix: []byte(prefixChild)})
			defer it.Close()
			for it.Seek(start); it.Valid(); it.Next() {
				item := it.Item()
				rest := item.Key()[len(prefixChild):]
				slash := bytes.IndexByte(rest, '/')
				if slash < 0 { // a record key
					if len(page) == childPageSize {
						start = item.KeyCopy(nil)
						done = false
						return nil
					}
					v, err := item.ValueCopy(nil)
					if err != nil {
						return err
					}
					page = append(page, raw{id: string(rest), rec: v})
					continue
				}
				if !withPhotos || len(page) == 0 || page[len(page)-1].id != string(rest[:slash]) ||
					!bytes.HasPrefix(rest[slash:], []byte("/p/")) {
					continue
				}
				v, err := item.ValueCopy(nil)
				if err != nil {
					return err
				}
				last := &page[len(page)-1]
				last.photos = append(last.photos, v)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := ctx.Err(); err != nil {
				return canceled(err)
			}
			if err := visit(r.rec, r.photos); err != nil {
				return err
			}
		}
		if done {
			return nil
		}
	}
}
