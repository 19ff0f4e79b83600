package face

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"path/filepath"
	"sync"

	"gocv.io/x/gocv"

	"github.com/trackmatch/trackmatch/models"
)

// Face model names, for --face-models and WorkerConfig.FaceModels.
const (
	// MobileFaceNetModel names the descriptor space of MobileFaceNet: the
	// ONNX model fr_feature.onnx of the npm package
	// faceplugin-face-recognition-js@0.0.1 (see ModelFiles), 512 floats.
	MobileFaceNetModel = "mobilefacenet"
	// FaceModelDlib is the --face-models name of dlib's ResNet (DlibModel),
	// which also detects the faces and finds their landmarks, so it is
	// always on.
	FaceModelDlib = "dlib"
)

// mfnSide is MobileFaceNet's input: a 112×112 face aligned to mfnTemplate.
const mfnSide = 112

// mfnTemplate is where dlib's 5 landmarks (two corners of the eye on the
// image's right, two of the other eye, the base of the nose; go-face's
// order) go in the 112×112 crop, as measured for this model (issue 14).
var mfnTemplate = [5][2]float64{{81.82, 52.68}, {66.84, 53.56}, {30.03, 52.90}, {45.02, 53.67}, {55.94, 81.13}}

// MobileFaceNet describes a face already found by dlib: it aligns the face
// with a similarity transform from its 5 landmarks to a 112×112 crop, runs
// the ONNX model through OpenCV's DNN and L2-normalises the output.
// Measured on the shared photos it is stronger than dlib's ResNet on
// children photographed years apart and on East Asian faces (issue 14).
// One network runs one face at a time; a face worker has one.
type MobileFaceNet struct {
	mu   sync.Mutex
	net  gocv.Net
	opts MobileFaceNetOptions
}

// MobileFaceNetOptions are variants of the descriptor, for measurement.
type MobileFaceNetOptions struct {
	// FlipAverage adds the output for the mirrored crop to the crop's
	// before normalising (twice the CPU).
	FlipAverage bool
}

// NewMobileFaceNet loads fr_feature.onnx from modelsDir after checking its
// sha256 (VerifyModelsFor). Close frees it.
func NewMobileFaceNet(modelsDir string) (*MobileFaceNet, error) {
	return NewMobileFaceNetWith(modelsDir, MobileFaceNetOptions{})
}

// NewMobileFaceNetWith is NewMobileFaceNet with options.
func NewMobileFaceNetWith(modelsDir string, opts MobileFaceNetOptions) (*MobileFaceNet, error) {
	if err := VerifyModelsFor(modelsDir, []string{MobileFaceNetModel}); err != nil {
		return nil, err
	}
	path := filepath.Join(modelsDir, mfnFile)
	net := gocv.ReadNetFromONNX(path)
	if net.Empty() {
		net.Close()
		return nil, fmt.Errorf("load MobileFaceNet from %s: OpenCV read no network", path)
	}
	if err := net.SetPreferableBackend(gocv.NetBackendOpenCV); err != nil {
		net.Close()
		return nil, fmt.Errorf("MobileFaceNet backend: %w", err)
	}
	if err := net.SetPreferableTarget(gocv.NetTargetCPU); err != nil {
		net.Close()
		return nil, fmt.Errorf("MobileFaceNet target: %w", err)
	}
	return &MobileFaceNet{net: net, opts: opts}, nil
}

// Close frees the network.
func (m *MobileFaceNet) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.net.Close()
}

// Describe returns the descriptor of the face whose 5 dlib landmarks are
// lm (in pixels of img, a CV_8UC3 BGR image).
func (m *MobileFaceNet) Describe(img gocv.Mat, lm [5][2]float64) (*models.MFNDescriptor, error) {
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return nil, fmt.Errorf("MobileFaceNet: want a non-empty 8-bit BGR image")
	}
	a, b, tx, ty, ok := similarity(lm, mfnTemplate)
	if !ok {
		return nil, fmt.Errorf("MobileFaceNet: degenerate landmarks")
	}
	tr := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	defer tr.Close()
	for i, v := range []float64{a, -b, tx, b, a, ty} {
		tr.SetDoubleAt(i/3, i%3, v)
	}
	crop := gocv.NewMat()
	defer crop.Close()
	gocv.WarpAffineWithParams(img, &crop, tr, image.Pt(mfnSide, mfnSide), gocv.InterpolationLinear, gocv.BorderConstant, color.RGBA{})
	if crop.Empty() {
		return nil, fmt.Errorf("MobileFaceNet: face alignment failed")
	}
	return m.describeAligned(crop)
}

// describeAligned runs the network on a 112×112 BGR crop (and its mirror
// image with FlipAverage) and normalises the output.
func (m *MobileFaceNet) describeAligned(crop gocv.Mat) (*models.MFNDescriptor, error) {
	var d models.MFNDescriptor
	if err := m.forward(crop, &d); err != nil {
		return nil, err
	}
	if m.opts.FlipAverage {
		flipped := gocv.NewMat()
		defer flipped.Close()
		gocv.Flip(crop, &flipped, 1)
		if err := m.forward(flipped, &d); err != nil {
			return nil, err
		}
	}
	var norm float64
	for _, v := range d {
		norm += float64(v) * float64(v)
	}
	norm = math.Sqrt(norm)
	if norm == 0 || math.IsNaN(norm) || math.IsInf(norm, 0) {
		return nil, fmt.Errorf("MobileFaceNet: output norm %g", norm)
	}
	for i := range d {
		d[i] = float32(float64(d[i]) / norm)
	}
	return &d, nil
}

// forward runs the network on crop and adds its output to d.
func (m *MobileFaceNet) forward(crop gocv.Mat, d *models.MFNDescriptor) error {
	blob := gocv.BlobFromImage(crop, 1.0/128, image.Pt(mfnSide, mfnSide), gocv.NewScalar(127, 127, 127, 0), false, false)
	defer blob.Close()
	// The output Mat shares the network's memory: read it before another
	// call may run the network again.
	m.mu.Lock()
	defer m.mu.Unlock()
	m.net.SetInput(blob, "")
	out := m.net.Forward("")
	defer out.Close()
	if out.Empty() || out.Total() != models.MFNDescriptorSize || out.Type() != gocv.MatTypeCV32F {
		return fmt.Errorf("MobileFaceNet: output of %d values of type %v, want %d float32", out.Total(), out.Type(), models.MFNDescriptorSize)
	}
	vals, err := out.DataPtrFloat32()
	if err != nil {
		return fmt.Errorf("MobileFaceNet output: %w", err)
	}
	for i, v := range vals {
		d[i] += v
	}
	return nil
}

// similarity is the least-squares similarity transform (Umeyama, without
// reflection) taking src onto dst: x' = a·x − b·y + tx, y' = b·x + a·y + ty.
// ok is false when src's points all coincide.
func similarity(src, dst [5][2]float64) (a, b, tx, ty float64, ok bool) {
	var sx, sy, dx, dy float64
	for i := range src {
		sx += src[i][0]
		sy += src[i][1]
		dx += dst[i][0]
		dy += dst[i][1]
	}
	n := float64(len(src))
	sx, sy, dx, dy = sx/n, sy/n, dx/n, dy/n
	var num1, num2, den float64
	for i := range src {
		x, y := src[i][0]-sx, src[i][1]-sy
		u, v := dst[i][0]-dx, dst[i][1]-dy
		num1 += x*u + y*v
		num2 += x*v - y*u
		den += x*x + y*y
	}
	if den < 1e-9 {
		return 0, 0, 0, 0, false
	}
	a, b = num1/den, num2/den
	tx = dx - (a*sx - b*sy)
	ty = dy - (b*sx + a*sy)
	return a, b, tx, ty, true
}
