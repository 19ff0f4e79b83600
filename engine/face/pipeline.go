package face

import (
	"context"
	"fmt"
	"image"
	"math"
	"runtime"
	"sync"
	"syscall"
	"time"

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

// DefaultDetectSteps is the cascade Pipeline runs until a step finds a
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

// Minimum short side, in pixels, of the copy a detector step is given. dlib's
// CNN detector builds an image pyramid whose offsets go negative under about
// 10 px, then asserts or writes out of bounds (a 1×1 JPEG, or a 20×4000
// strip shrunk for the CNN step, killed the process); its smallest face is
// about 40 px anyway. HOG scans an 80×80 window, so a smaller copy can hold
// no face it finds. A step whose copy would be smaller is skipped.
const (
	MinCNNSide = 40
	MinHOGSide = 80
)

// minSide is the smallest short side of a copy detector may be given.
func minSide(detector string) int {
	if detector == models.DetectorCNN {
		return MinCNNSide
	}
	return MinHOGSide
}

// DefaultCPUBudget is the CPU a photo may spend on decoding and detection.
// The first step (HOG, 0.1-0.3 s) finds the face in 345 of the 361 shared
// photos and the CNN retry (1-2 s) in most of the rest; a featureless
// 40-megapixel image ran every step for about 12 s before this bound.
const DefaultCPUBudget = 3 * time.Second

// expectedCPU is what running detector on a copy of size costs, from CPU
// per pixel measured on one core of the reference machine (AMD EPYC): HOG
// 0.1 s on a 1000×1000 copy, 0.44 s on 2000×2000; the CNN 1.7-1.9 s on
// 427×427 and 7.3 s on 854×854, about 10 µs a pixel.
func expectedCPU(detector string, size image.Point) time.Duration {
	px := time.Duration(size.X) * time.Duration(size.Y)
	if detector == models.DetectorCNN {
		return px * 10 * time.Microsecond
	}
	return px * 110 * time.Nanosecond
}

// PipelineConfig configures a Pipeline; zero fields take defaults.
type PipelineConfig struct {
	MaxBytes    int64        // encoded size limit; DefaultMaxPhotoBytes
	MaxPixels   int64        // declared width × height limit; DefaultMaxPhotoPixels
	Steps       []DetectStep // DefaultDetectSteps()
	Concurrency int          // photos decoded and analysed at once (bounds memory); runtime.NumCPU()
	// CPUBudget bounds the CPU a photo may spend (DefaultCPUBudget): a
	// retry runs only while the CPU spent so far plus the retry's expected
	// cost stays within it; the first step always runs. Negative for no
	// bound.
	CPUBudget time.Duration
	// CPUClock reads the CPU time the budget is charged against; nil reads
	// the whole process's (ProcessCPU), which is exact where one photo is
	// analysed at a time, as in a face worker.
	CPUClock func() time.Duration
	// MobileFaceNet, when set, also describes each face dlib found, from
	// the same detection and landmarks (models.Face.MFN). The caller keeps
	// and closes it.
	MobileFaceNet *MobileFaceNet
}

// ProcessCPU returns the CPU time, user and system, the process has used.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Pipeline turns photo bytes into faces: checks and decodes the photo,
// runs the detection cascade, measures each face's quality and picks the
// subject. It is what the rest of trackmatch calls; safe for concurrent use.
type Pipeline struct {
	embedder Embedder
	limits   PhotoLimits
	steps    []DetectStep
	budget   time.Duration
	cpu      func() time.Duration
	slots    chan struct{}
	stats    statsCounter
	mfn      *MobileFaceNet
}

// NewPipeline returns a pipeline over embedder, which the caller keeps
// and closes.
func NewPipeline(embedder Embedder, cfg PipelineConfig) (*Pipeline, error) {
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
	budget, clock := cfg.CPUBudget, cfg.CPUClock
	if budget == 0 {
		budget = DefaultCPUBudget
	}
	if clock == nil {
		clock = ProcessCPU
	}
	return &Pipeline{
		embedder: embedder,
		limits:   PhotoLimits{MaxBytes: cfg.MaxBytes, MaxPixels: cfg.MaxPixels}.withDefaults(),
		steps:    append([]DetectStep(nil), steps...),
		budget:   budget,
		cpu:      clock,
		slots:    make(chan struct{}, n),
		mfn:      cfg.MobileFaceNet,
	}, nil
}

// PipelineStats counts what face analysis did since it started, for
// /metrics. A Pipeline fills it in process; a WorkerPool sums what its
// workers report and adds the restarts.
type PipelineStats struct {
	Analyzed       int64            // photos decoded and searched for faces
	NoFace         int64            // of those, photos in which no step found a face
	Faces          int64            // faces found and embedded
	FoundBy        map[string]int64 // photos whose faces the step of that name found; every step but the first is a rescue
	DetectorRuns   map[string]int64 // runs of each step's detector
	Skipped        map[string]int64 // steps skipped because their copy was under the detector's minimum size
	OverBudget     int64            // photos for which a retry was left out to stay within the CPU budget
	CPUSeconds     float64          // CPU spent analysing photos
	WorkerRestarts int64            // face workers replaced after dying, failing or timing out
}

// PhotoCost is what analysing one photo took: it feeds PipelineStats, and a
// face worker sends it back with each analysis.
type PhotoCost struct {
	Ran        []string      // names of the steps whose detector ran, in order
	Skipped    []string      // names of the steps skipped as too small
	FoundBy    string        // the step that found the faces; "" for none
	OverBudget bool          // a retry was left out to stay within the CPU budget
	CPU        time.Duration // by the pipeline's clock
}

// statsCounter accumulates PipelineStats; safe for concurrent use.
type statsCounter struct {
	mu sync.Mutex
	s  PipelineStats
}

func (c *statsCounter) add(a *models.PhotoAnalysis, cost PhotoCost) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.s.FoundBy == nil {
		c.s.FoundBy, c.s.DetectorRuns, c.s.Skipped = map[string]int64{}, map[string]int64{}, map[string]int64{}
	}
	c.s.Analyzed++
	c.s.CPUSeconds += cost.CPU.Seconds()
	for _, n := range cost.Ran {
		c.s.DetectorRuns[n]++
	}
	for _, n := range cost.Skipped {
		c.s.Skipped[n]++
	}
	if cost.OverBudget {
		c.s.OverBudget++
	}
	if a == nil {
		return
	}
	c.s.Faces += int64(len(a.Faces))
	if a.HasFace() {
		c.s.FoundBy[cost.FoundBy]++
	} else {
		c.s.NoFace++
	}
}

func (c *statsCounter) restarted() {
	c.mu.Lock()
	c.s.WorkerRestarts++
	c.mu.Unlock()
}

// snapshot returns a copy with a zero count for every step in steps.
func (c *statsCounter) snapshot(steps []DetectStep) PipelineStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.s
	out.FoundBy, out.DetectorRuns, out.Skipped = map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, st := range steps {
		out.FoundBy[st.Name], out.DetectorRuns[st.Name], out.Skipped[st.Name] = 0, 0, 0
	}
	for k, v := range c.s.FoundBy {
		out.FoundBy[k] = v
	}
	for k, v := range c.s.DetectorRuns {
		out.DetectorRuns[k] = v
	}
	for k, v := range c.s.Skipped {
		out.Skipped[k] = v
	}
	return out
}

// Stats returns the counters.
func (p *Pipeline) Stats() PipelineStats { return p.stats.snapshot(p.steps) }

// Limits returns the photo limits the pipeline enforces.
func (p *Pipeline) Limits() PhotoLimits { return p.limits }

// Analyze checks, decodes and searches data for faces. Errors are
// *models.Error: those of CheckPhoto, ECORRUPT when OpenCV cannot decode
// accepted bytes, ECANCELED when ctx ends while waiting for capacity. A
// photo with no face is not an error (see PhotoAnalysis.RequireFace).
// Errors that are not *models.Error come from dlib or OpenCV failing.
func (p *Pipeline) Analyze(ctx context.Context, data []byte) (*models.PhotoAnalysis, error) {
	a, _, err := p.AnalyzeCost(ctx, data)
	return a, err
}

// AnalyzeCost is Analyze that also says what the photo cost.
func (p *Pipeline) AnalyzeCost(ctx context.Context, data []byte) (*models.PhotoAnalysis, PhotoCost, error) {
	info, err := CheckPhoto(data, p.limits)
	if err != nil {
		return nil, PhotoCost{}, err
	}
	canceled := func() error {
		return models.Errorf(models.ECANCELED, "canceled while waiting to analyse the photo: %v", context.Cause(ctx))
	}
	if ctx.Err() != nil {
		return nil, PhotoCost{}, canceled()
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, PhotoCost{}, canceled()
	}
	defer func() { <-p.slots }()
	start := p.cpu()
	a, cost, err := p.analyzeChecked(ctx, data, info, start)
	cost.CPU = p.cpu() - start
	if err == nil {
		p.stats.add(a, cost)
	}
	return a, cost, err
}

func (p *Pipeline) analyzeChecked(ctx context.Context, data []byte, info PhotoInfo, start time.Duration) (*models.PhotoAnalysis, PhotoCost, error) {
	// Decode no larger than the first step needs; a retry that needs more
	// decodes again (decodedPhoto.ensureLong).
	long := max(info.Width, info.Height)
	photo, err := decodeChecked(data, info, decodeReduction(info, stepLong(p.steps[0], long)))
	if err != nil {
		return nil, PhotoCost{}, err
	}
	defer photo.Close()

	a := &models.PhotoAnalysis{ContentType: info.ContentType, Width: photo.width, Height: photo.height, Subject: -1, Model: p.embedder.Model()}
	found, step, cost, err := p.detect(ctx, data, photo, start)
	if err != nil {
		return nil, cost, err
	}
	a.Faces = make([]models.Face, 0, len(found.faces))
	for _, f := range found.faces {
		mf, ok := toOriginal(f, found.scale, a.Width, a.Height)
		if !ok {
			continue // wholly outside the image
		}
		mf.Quality = measureQuality(photo, mf.Box)
		mf.Quality.Detector = p.steps[step].Name
		if p.mfn != nil && len(mf.Landmarks) == 5 {
			if mf.MFN, err = p.mfn.Describe(photo.mat, photo.landmarksToPixels(mf.Landmarks)); err != nil {
				return nil, cost, err
			}
		}
		a.Faces = append(a.Faces, mf)
	}
	a.Subject = SubjectRule(a.Faces, a.Width, a.Height)
	if a.HasFace() {
		cost.FoundBy = p.steps[step].Name
	}
	return a, cost, nil
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

// stepSize is the size of st's copy of a w×h photo.
func stepSize(st DetectStep, w, h int) image.Point {
	scale := stepScale(st, max(w, h))
	return image.Pt(max(1, int(math.Round(float64(w)*scale))), max(1, int(math.Round(float64(h)*scale))))
}

// detect runs the cascade on photo (whose bytes are data, for a retry that
// needs a less reduced decode) and returns the first step's faces and its
// index, or -1 when no step finds one. It skips a step whose copy would be
// under its detector's minimum size, and a retry that would take the photo
// past its CPU budget (counted from start) by its expected cost.
func (p *Pipeline) detect(ctx context.Context, data []byte, photo *decodedPhoto, start time.Duration) (stepResult, int, PhotoCost, error) {
	var cost PhotoCost
	encoded := map[float64][]byte{} // small photos give equal scales for several steps
	long := max(photo.width, photo.height)
	for i, st := range p.steps {
		if err := ctx.Err(); err != nil {
			return stepResult{}, -1, cost, models.Errorf(models.ECANCELED, "canceled during face detection: %v", context.Cause(ctx))
		}
		size := stepSize(st, photo.width, photo.height)
		if min(size.X, size.Y) < minSide(st.Detector) {
			cost.Skipped = append(cost.Skipped, st.Name)
			continue
		}
		if len(cost.Ran) > 0 && p.budget > 0 && p.cpu()-start+expectedCPU(st.Detector, size) > p.budget {
			cost.OverBudget = true
			continue // a cheaper step after it may still fit
		}
		scale := stepScale(st, long)
		jpg, ok := encoded[scale]
		if !ok {
			if err := photo.ensureLong(data, stepLong(st, long)); err != nil {
				return stepResult{}, -1, cost, err
			}
			var err error
			if jpg, err = encodeScaled(photo.mat, size); err != nil {
				return stepResult{}, -1, cost, err
			}
			encoded[scale] = jpg
		}
		cost.Ran = append(cost.Ran, st.Name)
		faces, err := p.embedder.Embed(ctx, jpg, st.Detector)
		if err != nil {
			return stepResult{}, -1, cost, fmt.Errorf("face detection step %s: %w", st.Name, err)
		}
		if len(faces) > 0 {
			return stepResult{faces: faces, scale: scale}, i, cost, nil
		}
	}
	return stepResult{}, -1, cost, nil
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

// DescribeFaces computes the MobileFaceNet descriptors of faces already
// found in data, from their stored landmarks (pixel centres of the oriented
// photo), without detecting again: what `trackmatch reembed` needs for
// photos analysed before MobileFaceNet. The photo is decoded as Analyze
// decodes it for the first detection step. A face without 5 landmarks gets
// nil. Errors are Analyze's; EUNAVAILABLE when the pipeline has no
// MobileFaceNet.
func (p *Pipeline) DescribeFaces(ctx context.Context, data []byte, landmarks [][]models.Point) ([]*models.MFNDescriptor, error) {
	if p.mfn == nil {
		return nil, models.Errorf(models.EUNAVAILABLE, "MobileFaceNet is not loaded (--face-models)")
	}
	info, err := CheckPhoto(data, p.limits)
	if err != nil {
		return nil, err
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return nil, models.Errorf(models.ECANCELED, "canceled while waiting to describe the faces: %v", context.Cause(ctx))
	}
	defer func() { <-p.slots }()
	long := max(info.Width, info.Height)
	photo, err := decodeChecked(data, info, decodeReduction(info, stepLong(p.steps[0], long)))
	if err != nil {
		return nil, err
	}
	defer photo.Close()
	out := make([]*models.MFNDescriptor, len(landmarks))
	for i, lm := range landmarks {
		if len(lm) != 5 {
			continue
		}
		if out[i], err = p.mfn.Describe(photo.mat, photo.landmarksToPixels(lm)); err != nil {
			return nil, err
		}
	}
	return out, nil
}
