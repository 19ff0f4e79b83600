package index

import (
	"bytes"
	"context"
	"math"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

func TestPhotoEnvelopeRoundTrip(t *testing.T) {
	p := testPhoto(NewID(), 0)
	p.Faces[0].Descriptor[3] = float32(math.Copysign(0, -1))
	p.Faces[0].Descriptor[4] = math.Float32frombits(1) // smallest subnormal
	v, err := encodePhoto(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) > 1200 {
		t.Errorf("envelope is %d bytes; descriptors should take 512 bytes, not JSON text", len(v))
	}
	got, err := decodePhoto(v)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Faces[0].Descriptor != *p.Faces[0].Descriptor || got.Faces[1].Descriptor != nil {
		t.Fatal("descriptors did not round-trip exactly")
	}
	assertJSONEqual(t, "photo", got, p)
	if p.Faces[0].Descriptor == nil {
		t.Fatal("encodePhoto modified the caller's faces")
	}
	for _, bad := range [][]byte{nil, {2}, v[:len(v)-1], append(append([]byte(nil), v...), 0)} {
		if _, err := decodePhoto(bad); err == nil {
			t.Errorf("decodePhoto(%d bytes) accepted a damaged envelope", len(bad))
		}
	}
}

func TestPutPhotoNeedsItsChild(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	wantCode(t, s.PutPhoto(ctx, testPhoto(NewID(), 1), []byte("x")), models.ENOTFOUND)
	p := testPhoto(NewID(), 1)
	p.ID = "../etc"
	wantCode(t, s.PutPhoto(ctx, p, []byte("x")), models.EINVALID)
}

func TestPutPhotoReplacesAndUpdates(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	a := testChild(models.KindFound, "A", "")
	b := testChild(models.KindFound, "B", "")
	for _, c := range []models.Child{a, b} {
		if err := s.PutChild(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	p := testPhoto(a.ID, 1)
	wantCode(t, s.PutPhoto(ctx, p, nil), models.EINVALID) // a new photo needs bytes
	big := randomBytes(t, 3*photoChunkSize+1)
	if err := s.PutPhoto(ctx, p, big); err != nil {
		t.Fatal(err)
	}
	small := []byte("smaller replacement")
	if err := s.PutPhoto(ctx, p, small); err != nil {
		t.Fatal(err)
	}
	if data, _, err := s.PhotoBytes(ctx, p.ID); err != nil || !bytes.Equal(data, small) {
		t.Fatalf("after replacing with fewer chunks: %d bytes, %v; want %d", len(data), err, len(small))
	}
	// Metadata-only update keeps the bytes.
	p.Faces = p.Faces[:1]
	p.Width = 1280
	if err := s.PutPhoto(ctx, p, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetPhoto(ctx, p.ID)
	if err != nil || got.Width != 1280 || len(got.Faces) != 1 || got.Bytes != len(small) {
		t.Fatalf("GetPhoto = %+v, %v; want the new metadata with Bytes %d", got, err, len(small))
	}
	if data, _, _ := s.PhotoBytes(ctx, p.ID); !bytes.Equal(data, small) {
		t.Fatal("metadata update lost the bytes")
	}
	// A photo id belongs to one child.
	moved := p
	moved.ChildID = b.ID
	wantCode(t, s.PutPhoto(ctx, moved, small), models.ECONFLICT)

	if err := s.DeletePhoto(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	_, _, err = s.PhotoBytes(ctx, p.ID)
	wantCode(t, err, models.ENOTFOUND)
	wantCode(t, s.DeletePhoto(ctx, p.ID), models.ENOTFOUND)
	if c, _ := s.GetChild(ctx, a.ID); len(c.Photos) != 0 {
		t.Fatalf("child still lists %d photos", len(c.Photos))
	}
}

func TestPutPhotoTooLarge(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{MemTableSize: 8 << 20}) // transactions up to 1.2 MiB
	ctx := context.Background()
	c := testChild(models.KindFound, "A", "")
	if err := s.PutChild(ctx, c); err != nil {
		t.Fatal(err)
	}
	wantCode(t, s.PutPhoto(ctx, testPhoto(c.ID, 1), make([]byte, 2<<20)), models.ETOOLARGE)
}

func TestForEachDescriptor(t *testing.T) {
	s := openTestStore(t, t.TempDir(), StoreOptions{})
	ctx := context.Background()
	miss := testChild(models.KindMissing, "M", "")
	found := testChild(models.KindFound, "F", "")
	for _, c := range []models.Child{miss, found} {
		if err := s.PutChild(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	p1 := testPhoto(miss.ID, 1)
	p2 := testPhoto(found.ID, 2)
	p2.TakenOn = "" // falls back to the record's observed_on
	p2.Faces[1].Descriptor = testDescriptor(3)
	for _, p := range []models.Photo{p1, p2} {
		if err := s.PutPhoto(ctx, p, []byte("img")); err != nil {
			t.Fatal(err)
		}
	}
	type seen struct {
		child, photo string
		face         int
		kind         models.Kind
		first        float32
		taken        models.Date
	}
	var got []seen
	err := s.ForEachDescriptor(ctx, func(childID, photoID string, face int, kind models.Kind, d models.Descriptor, taken models.Date) error {
		got = append(got, seen{childID, photoID, face, kind, d[0], taken})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []seen{
		{miss.ID, p1.ID, 0, models.KindMissing, 1, p1.TakenOn},
		{found.ID, p2.ID, 0, models.KindFound, 2, found.ObservedOn},
		{found.ID, p2.ID, 1, models.KindFound, 3, found.ObservedOn},
	}
	if miss.ID > found.ID {
		want = append(want[1:], want[0])
	}
	if len(got) != len(want) {
		t.Fatalf("got %d descriptors %+v, want %+v", len(got), got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("descriptor %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}
