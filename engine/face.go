package engine

import (
	"context"
	"fmt"
	"image"
	"math"
	"runtime"
	"sync/atomic"

	"gocv.io/x/gocv"

	"github.com/trackmatch/trackmatch/models"
)

// DetectorHOGUpsampled names the retry that runs HOG on a copy twice the
// size of the first pass's, for faces too small for HOG (under ~80 px) at
// the first pass's scale. It belongs beside models.DetectorHOG and friends.
const DetectorHOGUpsampled = "hog_upsampled"

// DetectStep is one pass of face detection: the embedder's detector run on
// a copy of the photo scaled so that its longer side is at most MaxSide
// (never enlarged), then multiplied by Upsample.
type DetectStep struct {
	Name     string  // recorded as models.FaceQuality.Detector and in Stats
	Detector string  // models.DetectorHOG or models.DetectorCNN
	MaxSide  int     // longer side of the copy, in pixels, before Upsample
	Upsample float64 // 1 for none, 2 to find faces half the detector's minimum size
}

// DefaultDetectSteps is the cascade FacePipeline runs until a step finds a
// face, cheapest first. Measured on ../shared (TestRetryRescues): HOG at
// ≤1000 px finds faces in 345 of 361 photos in ~0.1 s each; CNN at ≤427 px
// (~1 s; at full size it takes 4-19 s) rescues turned, old and children's
// faces; HOG at 2× finds the small faces of group photos that CNN at 427
// and 854 px misses; CNN at 2× the small copy (≤854 px, 1-8 s) is the last
// resort for small faces that are also turned.
func DefaultDetectSteps() []DetectStep {
	return []DetectStep{
		{Name: models.DetectorHOG, Detector: models.DetectorHOG, MaxSide: 1000, Upsample: 1},
		{Name: models.DetectorCNN, Detector: models.DetectorCNN, MaxSide: 427, Upsample: 1},
		{Name: DetectorHOGUpsampled, Detector: models.DetectorHOG, MaxSide: 1000, Upsample: 2},
		{Name: models.DetectorCNNUpsampled, Detector: models.DetectorCNN, MaxSide: 427, Upsample: 2},
	}
}

// PipelineConfig configures a FacePipeline; zero fields take defaults.
type PipelineConfig struct {
	MaxBytes    int64        // encoded size limit; DefaultMaxPhotoBytes
	MaxPixels   int64        // declared width × height limit; DefaultMaxPhotoPixels
	Steps       []DetectStep // DefaultDetectSteps()
	Concurrency int          // photos decoded and analysed at once (bounds memory); runtime.NumCPU()
}

// FacePipeline turns photo bytes into faces: checks and decodes the photo,
// runs the detection cascade, measures each face's quality and picks the
// subject. It is what the rest of trackmatch calls; safe for concurrent use.
type FacePipeline struct {
	embedder FaceEmbedder
	limits   PhotoLimits
	steps    []DetectStep
	slots    chan struct{}
	analyzed atomic.Int64
	noFace   atomic.Int64
	faces    atomic.Int64
	foundBy  []atomic.Int64 // parallel to steps
}

// NewFacePipeline returns a pipeline over embedder, which the caller keeps
// and closes.
func NewFacePipeline(embedder FaceEmbedder, cfg PipelineConfig) (*FacePipeline, error) {
	if embedder == nil {
		return nil, fmt.Errorf("face pipeline: no embedder")
	}
	steps := cfg.Steps
	if steps == nil {
		steps = DefaultDetectSteps()
	}
	if len(steps) == 0 {
		return nil, fmt.Errorf("face pipeline: no detection steps")
	}
	seen := map[string]bool{}
	for _, s := range steps {
		if s.Name == "" || seen[s.Name] {
			return nil, fmt.Errorf("face pipeline: step names must be unique and non-empty, got %q", s.Name)
		}
		seen[s.Name] = true
		if s.Detector != models.DetectorHOG && s.Detector != models.DetectorCNN {
			return nil, fmt.Errorf("face pipeline: step %s: unknown detector %q", s.Name, s.Detector)
		}
		if s.MaxSide < 16 || s.Upsample <= 0 || s.Upsample > 4 {
			return nil, fmt.Errorf("face pipeline: step %s: max side %d and upsample %g must be ≥16 and in (0,4]", s.Name, s.MaxSide, s.Upsample)
		}
	}
	n := cfg.Concurrency
	if n <= 0 {
		n = runtime.NumCPU()
	}
	return &FacePipeline{
		embedder: embedder,
		limits:   PhotoLimits{MaxBytes: cfg.MaxBytes, MaxPixels: cfg.MaxPixels}.withDefaults(),
		steps:    append([]DetectStep(nil), steps...),
		slots:    make(chan struct{}, n),
		foundBy:  make([]atomic.Int64, len(steps)),
	}, nil
}

// PhotoAnalysis is what FacePipeline.Analyze found in one photo. A photo
// without a face is a valid analysis with no Faces and Subject -1; use
// RequireFace where a face is mandatory.
type PhotoAnalysis struct {
	ContentType string
	Width       int // after EXIF orientation
	Height      int
	Faces       []models.Face // every face found, in Box coordinates of the oriented original
	Subject     int           // index into Faces of the child's face (SubjectRule); -1 when none
	Model       string        // descriptor space (FaceEmbedder.Model)
}

// HasFace reports whether any face was found.
func (a *PhotoAnalysis) HasFace() bool { return a.Subject >= 0 && a.Subject < len(a.Faces) }

// SubjectFace returns the face chosen as the child's, or nil.
func (a *PhotoAnalysis) SubjectFace() *models.Face {
	if !a.HasFace() {
		return nil
	}
	return &a.Faces[a.Subject]
}

// RequireFace returns an *models.Error with code ENOFACE when no face was
// found, else nil: the API turns it into 422 no_face.
func (a *PhotoAnalysis) RequireFace() error {
	if a.HasFace() {
		return nil
	}
	return models.Errorf(models.ENOFACE, "no face was found in the photo; send a photo in which the child's face is clearly visible")
}

// PipelineStats counts what the pipeline did since it was made, for /metrics.
type PipelineStats struct {
	Analyzed int64            // photos decoded and searched for faces
	NoFace   int64            // of those, photos in which no step found a face
	Faces    int64            // faces found and embedded
	FoundBy  map[string]int64 // photos whose faces the step of that name found; every step but the first is a rescue
}

// Stats returns the counters.
func (p *FacePipeline) Stats() PipelineStats {
	s := PipelineStats{Analyzed: p.analyzed.Load(), NoFace: p.noFace.Load(), Faces: p.faces.Load(), FoundBy: make(map[string]int64, len(p.steps))}
	for i, st := range p.steps {
		s.FoundBy[st.Name] = p.foundBy[i].Load()
	}
	return s
}

// Limits returns the photo limits the pipeline enforces.
func (p *FacePipeline) Limits() PhotoLimits { return p.limits }

// Analyze checks, decodes and searches data for faces. Errors are
// *models.Error: those of CheckPhoto, ECORRUPT when OpenCV cannot decode
// accepted bytes, ECANCELED when ctx ends while waiting for capacity. A
// photo with no face is not an error (see PhotoAnalysis.RequireFace).
func (p *FacePipeline) Analyze(ctx context.Context, data []byte) (*PhotoAnalysis, error) {
	info, err := CheckPhoto(data, p.limits)
	if err != nil {
		return nil, err
	}
	canceled := func() error {
		return models.Errorf(models.ECANCELED, "canceled while waiting to analyse the photo: %v", context.Cause(ctx))
	}
	if ctx.Err() != nil {
		return nil, canceled()
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, canceled()
	}
	defer func() { <-p.slots }()
	// Decode no larger than the first step needs; a retry that needs more
	// decodes again (decodedPhoto.ensureLong).
	long := max(info.Width, info.Height)
	photo, err := decodeChecked(data, info, decodeReduction(info, stepLong(p.steps[0], long)))
	if err != nil {
		return nil, err
	}
	defer photo.Close()

	a := &PhotoAnalysis{ContentType: info.ContentType, Width: photo.width, Height: photo.height, Subject: -1, Model: p.embedder.Model()}
	found, step, err := p.detect(ctx, data, photo)
	if err != nil {
		return nil, err
	}
	a.Faces = make([]models.Face, 0, len(found.faces))
	for _, f := range found.faces {
		mf, ok := toOriginal(f, found.scale, a.Width, a.Height)
		if !ok {
			continue // wholly outside the image
		}
		mf.Quality = measureQuality(photo, mf.Box)
		mf.Quality.Detector = p.steps[step].Name
		a.Faces = append(a.Faces, mf)
	}
	a.Subject = SubjectRule(a.Faces, a.Width, a.Height)
	p.analyzed.Add(1)
	p.faces.Add(int64(len(a.Faces)))
	if a.Subject < 0 {
		p.noFace.Add(1)
	} else {
		p.foundBy[step].Add(1)
	}
	return a, nil
}

type stepResult struct {
	faces []DetectedFace
	scale float64
}

// stepScale is the size of st's copy of a photo whose longer side is long,
// relative to the whole photo.
func stepScale(st DetectStep, long int) float64 {
	return math.Min(1, float64(st.MaxSide)/float64(long)) * st.Upsample
}

// stepLong is the longer side, in pixels, that the decoded photo needs for
// st's copy: the copy's, or the whole photo's when the copy is enlarged.
func stepLong(st DetectStep, long int) int {
	return int(math.Ceil(float64(long) * math.Min(1, stepScale(st, long))))
}

// detect runs the cascade on photo (whose bytes are data, for a retry that
// needs a less reduced decode) and returns the first step's faces and its
// index, or -1 when no step finds one.
func (p *FacePipeline) detect(ctx context.Context, data []byte, photo *decodedPhoto) (stepResult, int, error) {
	encoded := map[float64][]byte{} // small photos give equal scales for several steps
	long := max(photo.width, photo.height)
	for i, st := range p.steps {
		if err := ctx.Err(); err != nil {
			return stepResult{}, -1, models.Errorf(models.ECANCELED, "canceled during face detection: %v", context.Cause(ctx))
		}
		scale := stepScale(st, long)
		jpg, ok := encoded[scale]
		if !ok {
			if err := photo.ensureLong(data, stepLong(st, long)); err != nil {
				return stepResult{}, -1, err
			}
			size := image.Pt(max(1, int(math.Round(float64(photo.width)*scale))), max(1, int(math.Round(float64(photo.height)*scale))))
			var err error
			if jpg, err = encodeScaled(photo.mat, size); err != nil {
				return stepResult{}, -1, err
			}
			encoded[scale] = jpg
		}
		faces, err := p.embedder.Embed(ctx, jpg, st.Detector)
		if err != nil {
			return stepResult{}, -1, fmt.Errorf("face detection step %s: %w", st.Name, err)
		}
		if len(faces) > 0 {
			return stepResult{faces: faces, scale: scale}, i, nil
		}
	}
	return stepResult{}, -1, nil
}

// encodeScaled returns mat resized to size as a colour JPEG, the only input
// go-face reads (it refuses grey JPEGs and every other format). Shrinking
// to half or more is bilinear; an area resize, which averages every source
// pixel, is kept for larger reductions, where bilinear would skip pixels
// and alias. Measured on the shared photos: an area resize to 1000 px took
// 10.7 ms of CPU a photo on average (OpenCV's area resize by a fraction is
// slow and multi-threaded), bilinear 1.5; with the reduced decode as well,
// the pipeline's own CPU a photo, the model's aside, went from 29 ms to 18.
// The descriptors did not change beyond noise (TestDescriptors*).
func encodeScaled(mat gocv.Mat, size image.Point) ([]byte, error) {
	src := mat
	if size.X != mat.Cols() || size.Y != mat.Rows() {
		interp := gocv.InterpolationLinear
		if 2*size.X < mat.Cols() || 2*size.Y < mat.Rows() {
			interp = gocv.InterpolationArea
		}
		dst := gocv.NewMat()
		defer dst.Close()
		gocv.Resize(mat, &dst, size, 0, 0, interp)
		if dst.Empty() {
			return nil, fmt.Errorf("resize photo to %d×%d failed", size.X, size.Y)
		}
		src = dst
	}
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, src, []int{gocv.IMWriteJpegQuality, 95})
	if err != nil {
		return nil, fmt.Errorf("encode photo for detection: %w", err)
	}
	defer buf.Close()
	out := append([]byte(nil), buf.GetBytes()...)
	if len(out) == 0 {
		return nil, fmt.Errorf("encode photo for detection: empty JPEG")
	}
	return out, nil
}

// toOriginal maps a detection on a copy scaled by scale back to pixels of
// the original, clipping the box to the image; ok is false when nothing of
// the box is inside.
func toOriginal(f DetectedFace, scale float64, w, h int) (models.Face, bool) {
	x0 := clamp(int(math.Floor(float64(f.Rect.Min.X)/scale)), 0, w)
	y0 := clamp(int(math.Floor(float64(f.Rect.Min.Y)/scale)), 0, h)
	x1 := clamp(int(math.Ceil(float64(f.Rect.Max.X)/scale)), 0, w)
	y1 := clamp(int(math.Ceil(float64(f.Rect.Max.Y)/scale)), 0, h)
	if x1 <= x0 || y1 <= y0 {
		return models.Face{}, false
	}
	d := f.Descriptor
	mf := models.Face{Box: [4]int{x0, y0, x1 - x0, y1 - y0}, Descriptor: &d}
	for _, pt := range f.Landmarks {
		// Pixel centres: pixel i of the copy covers [i, i+1) there.
		mf.Landmarks = append(mf.Landmarks, models.Point{
			X: float32((float64(pt.X)+0.5)/scale - 0.5),
			Y: float32((float64(pt.Y)+0.5)/scale - 0.5),
		})
	}
	return mf, true
}

func clamp(v, lo, hi int) int { return min(max(v, lo), hi) }

// qualityCropSide is the size the face crop is resized to before the
// Laplacian, so that Blur compares faces of different resolutions: a small
// face enlarged to it scores as blurry, which it is for the descriptor.
const qualityCropSide = 128

// measureQuality computes SizePx, Blur and Brightness of the face at box
// (x, y, w, h in pixels of the whole photo) on the grey face crop. The crop
// is taken from the decoded pixels, which may be reduced (never below the
// detector's copy, from which the descriptor came).
func measureQuality(photo *decodedPhoto, box [4]int) models.FaceQuality {
	q := models.FaceQuality{SizePx: min(box[2], box[3])}
	r := photo.toPixels(box)
	if box[2] <= 0 || box[3] <= 0 || r.Empty() {
		return q
	}
	crop := photo.mat.Region(r)
	defer crop.Close()
	grey := gocv.NewMat()
	defer grey.Close()
	gocv.CvtColor(crop, &grey, gocv.ColorBGRToGray)
	if grey.Empty() {
		return q
	}
	q.Brightness = grey.Mean().Val1
	small := gocv.NewMat()
	defer small.Close()
	interp := gocv.InterpolationArea
	if r.Dx() < qualityCropSide || r.Dy() < qualityCropSide {
		interp = gocv.InterpolationLinear
	}
	gocv.Resize(grey, &small, image.Pt(qualityCropSide, qualityCropSide), 0, 0, interp)
	lap := gocv.NewMat()
	defer lap.Close()
	gocv.Laplacian(small, &lap, gocv.MatTypeCV64F, 1, 1, 0, gocv.BorderDefault)
	mean, sd := gocv.NewMat(), gocv.NewMat()
	defer mean.Close()
	defer sd.Close()
	gocv.MeanStdDev(lap, &mean, &sd)
	if !sd.Empty() {
		s := sd.GetDoubleAt(0, 0)
		q.Blur = s * s
	}
	return q
}

// SubjectRule picks the child's face among faces in a w×h photo: the
// largest box area, weighted down by distance from the centre (×1 at the
// centre, ×0.5 at a corner), so that a bystander's face at the edge loses to
// a slightly smaller one in the middle. Ties go to the earlier face. It
// returns -1 for no faces.
func SubjectRule(faces []models.Face, w, h int) int {
	best, bestScore := -1, -1.0
	halfDiag := math.Hypot(float64(w), float64(h)) / 2
	for i, f := range faces {
		cx := float64(f.Box[0]) + float64(f.Box[2])/2
		cy := float64(f.Box[1]) + float64(f.Box[3])/2
		d := 0.0
		if halfDiag > 0 {
			d = math.Min(1, math.Hypot(cx-float64(w)/2, cy-float64(h)/2)/halfDiag)
		}
		score := float64(f.Box[2]) * float64(f.Box[3]) * (1 - 0.5*d)
		if score > bestScore {
			best, bestScore = i, score
		}
	}
	return best
}
