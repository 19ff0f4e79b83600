package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trackmatch/trackmatch/models"
)

// acquireEmbed takes one of the MaxConcurrentEmbeds slots for a request
// that carries photos, waiting at most EmbedWait; past that the request
// gets 503 unavailable. The slot is held while the photo bytes are read and
// embedded, which is what bounds the memory photo requests use; the rest of
// the body must then arrive within PhotoReadTimeout. Call release exactly
// once.
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
	// Not every ResponseWriter supports deadlines (httptest.ResponseRecorder
	// does not); without one the server's own ReadTimeout is the bound.
	_ = http.NewResponseController(c.Writer).SetReadDeadline(time.Now().Add(s.cfg.PhotoReadTimeout))
	return s.releaseEmbed, nil
}

func (s *Server) releaseEmbed() { <-s.embeds }
