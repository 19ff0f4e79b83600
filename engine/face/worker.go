package face

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// Face analysis runs in worker processes because dlib and OpenCV are C++
// that can abort the process they run in: a failed OpenCV check, or dlib's
// second fatal error anywhere in the process. A worker is the same binary
// in worker mode; it reads requests on stdin and answers on stdout, one at
// a time, in frames of a 4-byte big-endian length and a gob-encoded body.
// The first frame a worker writes is a workerResponse with Ready set (or an
// error when its models do not load).

// maxFrame bounds a frame's body: the largest photo plus room for the rest.
const maxFrame = DefaultMaxPhotoBytes + 1<<20

// workerRequest asks a worker to analyse one photo.
type workerRequest struct {
	Photo []byte
	// Describe asks for the MobileFaceNet descriptors of the faces whose
	// landmarks are given (Pipeline.DescribeFaces), not an analysis.
	Describe  bool
	Landmarks [][]models.Point
}

// optionalMFN is one face's descriptor in a response; gob cannot carry a
// nil pointer in a slice.
type optionalMFN struct {
	OK bool
	D  models.MFNDescriptor
}

// workerResponse is a worker's answer to one request.
type workerResponse struct {
	Ready    bool // the first frame: the worker has loaded its models
	Analysis *models.PhotoAnalysis
	MFN      []optionalMFN // the answer to a Describe request
	Cost     PhotoCost
	Code     string // a models error code when the analysis failed
	Message  string
	// Fatal says the worker exits after this answer: dlib or OpenCV
	// failed, and their process-wide state is no longer safe.
	Fatal bool
}

// writeFrame writes v as one frame.
func writeFrame(w io.Writer, v any) error {
	var buf bytes.Buffer
	buf.Write(make([]byte, 4)) // the length, filled in below
	if err := gob.NewEncoder(&buf).Encode(v); err != nil {
		return fmt.Errorf("encode frame: %w", err)
	}
	frame := buf.Bytes()
	if len(frame)-4 > maxFrame {
		return fmt.Errorf("frame of %d bytes is over the limit of %d", len(frame)-4, maxFrame)
	}
	binary.BigEndian.PutUint32(frame, uint32(len(frame)-4))
	if _, err := w.Write(frame); err != nil {
		return fmt.Errorf("write frame: %w", err)
	}
	return nil
}

// readFrame reads one frame into v. It returns io.EOF when r ends cleanly
// before a frame, io.ErrUnexpectedEOF when it ends inside one.
func readFrame(r io.Reader, v any) error {
	var head [4]byte
	if _, err := io.ReadFull(r, head[:]); err != nil {
		return err
	}
	n := binary.BigEndian.Uint32(head[:])
	if n > maxFrame {
		return fmt.Errorf("frame of %d bytes is over the limit of %d", n, maxFrame)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(r, body); err != nil {
		if errors.Is(err, io.EOF) {
			return io.ErrUnexpectedEOF
		}
		return err
	}
	if err := gob.NewDecoder(bytes.NewReader(body)).Decode(v); err != nil {
		return fmt.Errorf("decode frame: %w", err)
	}
	return nil
}

// WorkerConfig configures a face worker process.
type WorkerConfig struct {
	ModelsDir string
	Pipeline  PipelineConfig // Concurrency is always 1 in a worker
	// MemoryLimit caps the worker's address space (RLIMIT_AS), in bytes;
	// 0 for none. A photo that needs more fails alone: the worker dies and
	// is replaced.
	MemoryLimit int64
	// FaceModels are the face models to run (ParseFaceModels); nil runs
	// DefaultFaceModels.
	FaceModels []string
}

// DefaultWorkerMemoryLimit is the address space a face worker may use. A
// worker with dlib's models loaded maps about 0.6 GB; the largest photo
// accepted (40 megapixels) decodes to 120 MB of pixels, and the cascade's
// copies and dlib's image pyramids take a few times more.
const DefaultWorkerMemoryLimit = 3 << 30

// ServeWorker is a face worker's main loop: it limits its own memory, loads
// one dlib recognizer (and MobileFaceNet unless cfg.FaceModels leaves it out), says it is ready, then answers requests from in on
// out until in ends (nil) or dlib or OpenCV fail (an error, after the
// answer saying so). It is called by the binary's worker mode, never by a
// server process.
func ServeWorker(ctx context.Context, in io.Reader, out io.Writer, cfg WorkerConfig) error {
	if cfg.MemoryLimit > 0 {
		lim := &syscall.Rlimit{Cur: uint64(cfg.MemoryLimit), Max: uint64(cfg.MemoryLimit)}
		if err := syscall.Setrlimit(syscall.RLIMIT_AS, lim); err != nil {
			return fmt.Errorf("face worker: limit memory to %d bytes: %w", cfg.MemoryLimit, err)
		}
	}
	w := bufio.NewWriter(out)
	send := func(resp workerResponse) error {
		if err := writeFrame(w, resp); err != nil {
			return err
		}
		return w.Flush()
	}
	emb, err := NewDlibEmbedder(cfg.ModelsDir, 1)
	if err != nil {
		_ = send(workerResponse{Code: models.EUNAVAILABLE, Message: err.Error(), Fatal: true})
		return err
	}
	defer emb.Close()
	pcfg := cfg.Pipeline
	pcfg.Concurrency = 1
	if fm := cfg.FaceModels; fm == nil || HasFaceModel(fm, MobileFaceNetModel) {
		mfn, err := NewMobileFaceNet(cfg.ModelsDir)
		if err != nil {
			_ = send(workerResponse{Code: models.EUNAVAILABLE, Message: err.Error(), Fatal: true})
			return err
		}
		defer mfn.Close()
		pcfg.MobileFaceNet = mfn
	}
	pipe, err := NewPipeline(emb, pcfg)
	if err != nil {
		_ = send(workerResponse{Code: models.EUNAVAILABLE, Message: err.Error(), Fatal: true})
		return err
	}
	if err := send(workerResponse{Ready: true}); err != nil {
		return err
	}
	r := bufio.NewReader(in)
	for {
		var req workerRequest
		if err := readFrame(r, &req); err != nil {
			if errors.Is(err, io.EOF) {
				return nil // the server closed our stdin: stop
			}
			return fmt.Errorf("face worker: read request: %w", err)
		}
		var resp workerResponse
		var fatal error
		if req.Describe {
			resp, fatal = describeForServer(ctx, pipe, req.Photo, req.Landmarks)
		} else {
			resp, fatal = analyzeForServer(ctx, pipe, req.Photo)
		}
		if err := send(resp); err != nil {
			return err
		}
		if fatal != nil {
			return fatal
		}
	}
}

// describeForServer answers a Describe request as analyzeForServer
// answers an analysis.
func describeForServer(ctx context.Context, pipe *Pipeline, photo []byte, landmarks [][]models.Point) (workerResponse, error) {
	ds, err := pipe.DescribeFaces(ctx, photo, landmarks)
	if err == nil {
		resp := workerResponse{MFN: make([]optionalMFN, len(ds))}
		for i, d := range ds {
			if d != nil {
				resp.MFN[i] = optionalMFN{OK: true, D: *d}
			}
		}
		return resp, nil
	}
	return failedForServer(err, 0)
}

// analyzeForServer analyses one photo and turns the outcome into a
// response. A failure that is not a *models.Error came from dlib or OpenCV:
// the photo is reported unreadable and the worker must exit (fatal).
func analyzeForServer(ctx context.Context, pipe *Pipeline, photo []byte) (workerResponse, error) {
	start := time.Now()
	a, cost, err := pipe.AnalyzeCost(ctx, photo)
	if err == nil {
		return workerResponse{Analysis: a, Cost: cost}, nil
	}
	resp, fatal := failedForServer(err, time.Since(start))
	resp.Cost = cost
	return resp, fatal
}

// failedForServer turns a failure into a response: a *models.Error is
// the photo's fault; any other came from dlib or OpenCV, and the worker
// must exit (fatal).
func failedForServer(err error, took time.Duration) (workerResponse, error) {
	var me *models.Error
	if errors.As(err, &me) {
		return workerResponse{Code: me.Code, Message: me.Message}, nil
	}
	fatal := fmt.Errorf("face analysis failed after %s: %w", took.Round(time.Millisecond), err)
	return workerResponse{
		Code:    models.EUNREADABLE,
		Message: "the photo could not be analysed: the face detector failed on it; send another photo of the child",
		Fatal:   true,
	}, fatal
}
