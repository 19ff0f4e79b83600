package index

import (
	"encoding/binary"
	"encoding/json"
	"math"
	"testing"

	"github.com/trackmatch/trackmatch/models"
)

// TestPhotoEnvelopeMFN checks that a MobileFaceNet descriptor round-trips
// raw, and that a version 1 envelope, written before MobileFaceNet, still
// reads, its faces without one.
func TestPhotoEnvelopeMFN(t *testing.T) {
	p := testPhoto(NewID(), 0)
	m := new(models.MFNDescriptor)
	for i := range m {
		m[i] = float32(i) / 600
	}
	p.Faces[0].MFN = m
	v, err := encodePhoto(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(v) > 1200+4*models.MFNDescriptorSize {
		t.Errorf("envelope is %d bytes; the MobileFaceNet descriptor should take 2048 bytes, not JSON text", len(v))
	}
	got, err := decodePhoto(v)
	if err != nil {
		t.Fatal(err)
	}
	if got.Faces[0].MFN == nil || *got.Faces[0].MFN != *m || got.Faces[1].MFN != nil || *got.Faces[0].Descriptor != *p.Faces[0].Descriptor {
		t.Fatal("descriptors did not round-trip exactly")
	}

	// A version 1 envelope as the previous release wrote it.
	old := p
	old.Faces = append([]models.Face(nil), p.Faces...)
	for i := range old.Faces {
		old.Faces[i].Descriptor, old.Faces[i].MFN = nil, nil
	}
	js, err := json.Marshal(old)
	if err != nil {
		t.Fatal(err)
	}
	v1 := append([]byte{photoEnvelopeV1}, binary.AppendUvarint(nil, uint64(len(js)))...)
	v1 = append(v1, js...)
	v1 = append(v1, 1)
	for _, x := range p.Faces[0].Descriptor {
		v1 = binary.LittleEndian.AppendUint32(v1, math.Float32bits(x))
	}
	v1 = append(v1, 0)
	got, err = decodePhoto(v1)
	if err != nil {
		t.Fatal(err)
	}
	if *got.Faces[0].Descriptor != *p.Faces[0].Descriptor || got.Faces[0].MFN != nil {
		t.Fatal("version 1 envelope misread")
	}
	// Version 1 knows no MobileFaceNet flag.
	v1[len(v1)-1-4*models.DescriptorSize-1] = faceHasDlib | faceHasMFN
	if _, err := decodePhoto(v1); err == nil {
		t.Error("version 1 envelope with a MobileFaceNet flag accepted")
	}
}
