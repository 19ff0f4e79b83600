package api

import (
	"context"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// acquireEmbed takes one of the MaxConcurrentEmbeds slots for a request
// that carries photos, waiting at most EmbedWait; past that the request
// gets 503 unavailable. The slot is held while the photo bytes are read and
// embedded, which is what bounds the memory photo requests use. Call
// release exactly once.
func (s *Server) acquireEmbed(ctx context.Context) (release func(), err error) {
	select {
	case s.embeds <- struct{}{}:
		return s.releaseEmbed, nil
	default:
	}
	t := time.NewTimer(s.cfg.EmbedWait)
	defer t.Stop()
	select {
	case s.embeds <- struct{}{}:
		return s.releaseEmbed, nil
	case <-t.C:
		s.metrics.embedRejected.Inc()
		return nil, models.Errorf(models.EUNAVAILABLE, "too many photo requests in flight; try again shortly")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (s *Server) releaseEmbed() { <-s.embeds }
