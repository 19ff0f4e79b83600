package api

import (
	"io"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trackmatch/trackmatch/models"
)

// Photo requests are bounded twice. Their bytes in memory: a request
// reserves MaxPhotoBytesInFlight budget, one budgetChunk at a time, as its
// photo arrives, so a client that trickles its body holds only what it
// has sent and cannot keep anyone else out; a request that finds the
// budget spent gets 503 at once (waiting while holding part of the budget
// would let a crowd of half-read requests starve each other). And their
// analysis: once its photos are read, a request takes one of
// MaxConcurrentEmbeds slots, waiting at most EmbedWait (then 503), and
// keeps it until the service returns. The whole body must arrive within
// PhotoReadTimeout.

// budgetChunk is the unit in which photo bytes are reserved.
const budgetChunk = 64 << 10

// photoBudget is one request's reservation of photo bytes. Call release
// exactly once, when the request no longer holds its photos.
type photoBudget struct {
	s        *Server
	reserved int64 // bytes reserved, a multiple of budgetChunk
	read     int64 // bytes read through reader
}

// startPhotoRead sets the request's read deadline to PhotoReadTimeout and
// returns an empty reservation for its photo bytes.
func (s *Server) startPhotoRead(c *gin.Context) *photoBudget {
	// Not every ResponseWriter supports deadlines (httptest.ResponseRecorder
	// does not); without one the server's own ReadTimeout is the bound.
	_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(s.cfg.PhotoReadTimeout))
	return &photoBudget{s: s}
}

// body returns rc reading against the reservation: every byte read is
// reserved first, and a read that cannot reserve fails with EUNAVAILABLE.
func (b *photoBudget) body(rc io.ReadCloser) io.ReadCloser { return budgetReader{b, rc} }

type budgetReader struct {
	b *photoBudget
	r io.ReadCloser
}

func (br budgetReader) Close() error { return br.r.Close() }

func (br budgetReader) Read(p []byte) (int, error) {
	b := br.b
	if len(p) > budgetChunk {
		p = p[:budgetChunk]
	}
	for b.read+int64(len(p)) > b.reserved {
		select {
		case b.s.photoBytes <- struct{}{}:
			b.reserved += budgetChunk
		default:
			b.s.metrics.photoBytesRejected.Inc()
			return 0, models.Errorf(models.EUNAVAILABLE, "too many photos are being received at once; try again shortly")
		}
	}
	n, err := br.r.Read(p)
	b.read += int64(n)
	return n, err
}

// release gives the reservation back.
func (b *photoBudget) release() {
	for ; b.reserved > 0; b.reserved -= budgetChunk {
		<-b.s.photoBytes
	}
}

// readPhoto reads a photo part to the end, refusing more than max bytes
// with too_large. It reads in budgetChunk pieces and joins them once at the
// end, so a photo costs about twice its size at the peak, where growing
// one buffer (io.ReadAll) leaves several times its size of garbage.
func readPhoto(r io.Reader, max int64, what string) ([]byte, error) {
	var chunks [][]byte
	var n int64
	for {
		buf := make([]byte, budgetChunk)
		k, err := io.ReadFull(r, buf)
		if k > 0 {
			if n += int64(k); n > max {
				return nil, models.Errorf(models.ETOOLARGE, "%s is over the limit of %d bytes", what, max)
			}
			chunks = append(chunks, buf[:k])
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return nil, bodyReadError(err)
		}
	}
	out := make([]byte, 0, n)
	for _, c := range chunks {
		out = append(out, c...)
	}
	return out, nil
}

// acquireEmbed takes one of the MaxConcurrentEmbeds slots for a request
// whose photos are read, waiting at most EmbedWait; past that the request
// gets 503 unavailable. Call release exactly once.
func (s *Server) acquireEmbed(c *gin.Context) (release func(), err error) {
	select {
	case s.embeds <- struct{}{}:
	default:
		t := time.NewTimer(s.cfg.EmbedWait)
		defer t.Stop()
		select {
		case s.embeds <- struct{}{}:
		case <-t.C:
			s.metrics.embedRejected.Inc()
			return nil, models.Errorf(models.EUNAVAILABLE, "too many photo requests in flight; try again shortly")
		case <-c.Request.Context().Done():
			return nil, c.Request.Context().Err()
		}
	}
	return s.releaseEmbed, nil
}

func (s *Server) releaseEmbed() { <-s.embeds }
