package models

import (
	"math"
	"time"
)

// DescriptorSize is the length of a face descriptor from dlib's ResNet model.
const DescriptorSize = 128

// Descriptor is a face embedding; the Euclidean distance between two
// descriptors says how alike the faces are (dlib's usual cut-off is 0.6).
type Descriptor [DescriptorSize]float32

// Distance returns the Euclidean distance between two descriptors.
func (d *Descriptor) Distance(o *Descriptor) float64 {
	var s float32
	for i := range d {
		x := d[i] - o[i]
		s += x * x
	}
	return math.Sqrt(float64(s))
}

// MFNDescriptorSize is the length of a MobileFaceNet face descriptor.
const MFNDescriptorSize = 512

// MFNDescriptor is a MobileFaceNet face embedding, L2-normalised: the
// cosine distance between two says how alike the faces are. It lives in
// its own space, never compared with a dlib Descriptor.
type MFNDescriptor [MFNDescriptorSize]float32

// CosineDistance returns 1 minus the cosine of the angle between two
// L2-normalised descriptors: 0 for the same direction, up to 2.
func (d *MFNDescriptor) CosineDistance(o *MFNDescriptor) float64 {
	var s float32
	for i := range d {
		s += d[i] * o[i]
	}
	return 1 - float64(s)
}

// Photo is one uploaded photo of a child and the faces found in it. The
// original bytes are stored separately, under the photo's ID.
type Photo struct {
	ID          string    `json:"id"`
	ChildID     string    `json:"child_id"`
	ContentType string    `json:"content_type"`
	Bytes       int       `json:"bytes"`
	SHA256      string    `json:"sha256"`
	Width       int       `json:"width"`
	Height      int       `json:"height"`
	TakenOn     Date      `json:"taken_on,omitempty"` // defaults to the child's observed_on
	Faces       []Face    `json:"faces"`
	Subject     int       `json:"subject"` // index into Faces of the child's face; -1 when none
	CreatedAt   time.Time `json:"created_at"`
	// Existing is set (never stored) when an upload found these bytes
	// already stored with the record and returned that photo.
	Existing bool `json:"-"`
}

// SubjectFace returns the face chosen as the child's, or nil.
func (p *Photo) SubjectFace() *Face {
	if p.Subject < 0 || p.Subject >= len(p.Faces) {
		return nil
	}
	return &p.Faces[p.Subject]
}

// Point is a landmark position in pixels of the original image.
type Point struct {
	X float32 `json:"x"`
	Y float32 `json:"y"`
}

// Face is one face found in a photo.
type Face struct {
	Box        [4]int      `json:"box"` // x, y, w, h in pixels of the EXIF-rotated original
	Landmarks  []Point     `json:"landmarks,omitempty"`
	Descriptor *Descriptor `json:"descriptor,omitempty"`
	// MFN is the MobileFaceNet descriptor of the same face, computed from
	// the same detection and landmarks; nil when the model was off or the
	// face was stored before it existed (`trackmatch reembed` fills it).
	MFN     *MFNDescriptor `json:"mfn_descriptor,omitempty"`
	Quality FaceQuality    `json:"quality"`
}

// Detectors that can find a face, from cheapest to most sensitive.
const (
	DetectorHOG          = "hog"
	DetectorCNN          = "cnn"
	DetectorCNNUpsampled = "cnn_upsampled"
)

// FaceQuality holds figures an investigator or the scorer can use to judge
// how far to trust a face.
type FaceQuality struct {
	SizePx     int     `json:"size_px"`    // shorter side of the face box, in original pixels
	Blur       float64 `json:"blur"`       // variance of the Laplacian on the face; low is blurry
	Brightness float64 `json:"brightness"` // mean grey level on the face, 0-255
	Detector   string  `json:"detector"`   // which detector found it
}

// PhotoAnalysis is what the face pipeline found in one photo. A photo
// without a face is a valid analysis with no Faces and Subject -1; use
// RequireFace where a face is mandatory.
type PhotoAnalysis struct {
	ContentType string
	Width       int // after EXIF orientation
	Height      int
	Faces       []Face // every face found, in Box coordinates of the oriented original
	Subject     int    // index into Faces of the child's face (SubjectRule); -1 when none
	Model       string // descriptor space (the embedder's Model)
}

// HasFace reports whether any face was found.
func (a *PhotoAnalysis) HasFace() bool { return a.Subject >= 0 && a.Subject < len(a.Faces) }

// SubjectFace returns the face chosen as the child's, or nil.
func (a *PhotoAnalysis) SubjectFace() *Face {
	if !a.HasFace() {
		return nil
	}
	return &a.Faces[a.Subject]
}

// RequireFace returns an *Error with code ENOFACE when no face was
// found, else nil: the API turns it into 422 no_face.
func (a *PhotoAnalysis) RequireFace() error {
	if a.HasFace() {
		return nil
	}
	return Errorf(ENOFACE, "no face was found in the photo; send a photo in which the child's face is clearly visible")
}
