package face

import (
	"context"
	"errors"
	"fmt"
	"image"
	"runtime"
	"sync"

	goface "github.com/Kagami/go-face"

	"github.com/trackmatch/trackmatch/models"
)

// Embedder finds the faces in a colour JPEG and describes each one. It
// is the seam for a second face model: dlib's is weak on Asian faces and on
// children, and a replacement only has to implement this. Implementations
// must be safe for concurrent use.
type Embedder interface {
	// Model names the descriptor space. Descriptors from different models
	// must never be compared with each other.
	Model() string
	// Embed runs detector (models.DetectorHOG or models.DetectorCNN) on a
	// 3-channel JPEG and returns every face found, in no particular order;
	// none is not an error. It respects ctx while waiting for capacity.
	Embed(ctx context.Context, jpeg []byte, detector string) ([]DetectedFace, error)
}

// DetectedFace is one face as an embedder reports it, in pixels of the JPEG
// it was given.
type DetectedFace struct {
	Rect       image.Rectangle // Max is exclusive
	Landmarks  []image.Point
	Descriptor models.Descriptor
}

// DlibModel names the descriptor space of DlibEmbedder: dlib's ResNet face
// recognition model v1 with the 5-point shape predictor.
const DlibModel = "dlib_resnet_v1"

// DlibEmbedder is the Embedder backed by dlib through go-face. Each
// go-face Recognizer serialises its calls behind mutexes, so DlibEmbedder
// keeps a pool of them, one per concurrent call (measured upstream: two
// recognizers 17 photos/s, one shared 10). Run it with
// OPENBLAS_NUM_THREADS=1 when dlib is linked against OpenBLAS: the pool
// already gives one recognizer per core, and BLAS threads on top of it only
// contend (the Makefile exports it).
type DlibEmbedder struct {
	pool   chan *goface.Recognizer
	size   int
	closed chan struct{}
	once   sync.Once
}

// NewDlibEmbedder verifies the model files in modelsDir (VerifyModels) and
// loads poolSize recognizers (runtime.NumCPU() when poolSize <= 0). Each
// holds its own copy of the models (measured: about 35 MB more resident
// memory per recognizer). Close frees them.
func NewDlibEmbedder(modelsDir string, poolSize int) (*DlibEmbedder, error) {
	if err := VerifyModels(modelsDir); err != nil {
		return nil, err
	}
	if poolSize <= 0 {
		poolSize = runtime.NumCPU()
	}
	recs := make([]*goface.Recognizer, poolSize)
	errs := make([]error, poolSize)
	var wg sync.WaitGroup
	for i := range recs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			recs[i], errs[i] = goface.NewRecognizer(modelsDir)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		for _, r := range recs {
			if r != nil {
				r.Close()
			}
		}
		return nil, fmt.Errorf("load dlib face models from %s: %w", modelsDir, err)
	}
	e := &DlibEmbedder{pool: make(chan *goface.Recognizer, poolSize), size: poolSize, closed: make(chan struct{})}
	for _, r := range recs {
		e.pool <- r
	}
	return e, nil
}

// Model implements Embedder.
func (e *DlibEmbedder) Model() string { return DlibModel }

// PoolSize is the number of recognizers, the most calls that run at once.
func (e *DlibEmbedder) PoolSize() int { return e.size }

// Embed implements Embedder. It waits for a free recognizer until ctx is
// done (ECANCELED) or the embedder is closed (EUNAVAILABLE); once dlib runs,
// the call finishes.
func (e *DlibEmbedder) Embed(ctx context.Context, jpeg []byte, detector string) ([]DetectedFace, error) {
	if detector != models.DetectorHOG && detector != models.DetectorCNN {
		return nil, fmt.Errorf("dlib embedder: unknown detector %q", detector)
	}
	var rec *goface.Recognizer
	select {
	case <-e.closed:
		return nil, models.Errorf(models.EUNAVAILABLE, "the face embedder is closed")
	case <-ctx.Done():
		return nil, models.Errorf(models.ECANCELED, "canceled while waiting for the face embedder: %v", context.Cause(ctx))
	case rec = <-e.pool:
	}
	defer func() { e.pool <- rec }()
	var (
		faces []goface.Face
		err   error
	)
	if detector == models.DetectorCNN {
		faces, err = rec.RecognizeCNN(jpeg)
	} else {
		faces, err = rec.Recognize(jpeg)
	}
	if err != nil {
		return nil, fmt.Errorf("dlib %s detection: %w", detector, err)
	}
	out := make([]DetectedFace, len(faces))
	for i, f := range faces {
		// go-face builds Rectangle from dlib's inclusive right and bottom.
		r := f.Rectangle
		r.Max = r.Max.Add(image.Pt(1, 1))
		out[i] = DetectedFace{Rect: r, Landmarks: f.Shapes, Descriptor: models.Descriptor(f.Descriptor)}
	}
	return out, nil
}

// Close waits for running calls to finish and frees every recognizer. Later
// calls to Embed fail with EUNAVAILABLE. It is safe to call more than once.
func (e *DlibEmbedder) Close() error {
	e.once.Do(func() {
		close(e.closed)
		for range e.size {
			(<-e.pool).Close()
		}
	})
	return nil
}
