package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"

	"github.com/gin-gonic/gin"
	"golang.org/x/time/rate"

	"github.com/trackmatch/trackmatch/models"
)

// keyEntry is a configured key as the server holds it: the SHA-256 of the
// secret (the secret itself is not kept), its id, role and rate limiter.
type keyEntry struct {
	hash    [sha256.Size]byte
	id      string
	role    Role
	limiter *rate.Limiter
}

func newKeyEntry(k Key, limit rate.Limit, burst int) keyEntry {
	return keyEntry{hash: sha256.Sum256([]byte(k.Secret)), id: k.ID(), role: k.Role, limiter: rate.NewLimiter(limit, burst)}
}

// Context keys the auth middleware sets for later middleware and handlers.
const (
	ctxKeyKeyID = "trackmatch.key_id"
	ctxKeyRole  = "trackmatch.role"
	ctxKeyEntry = "trackmatch.key"
)

// lookupKey finds the configured key equal to presented. It hashes the
// presented key first, so every comparison is of 32 bytes whatever the
// length sent, and compares against every key in constant time with no
// early exit, so timing tells nothing about how much of a key matched or
// which key it was.
func (s *Server) lookupKey(presented string) (*keyEntry, bool) {
	h := sha256.Sum256([]byte(presented))
	found := -1
	for i := range s.keys {
		eq := subtle.ConstantTimeCompare(h[:], s.keys[i].hash[:])
		found = subtle.ConstantTimeSelect(eq, i, found)
	}
	if found < 0 {
		return nil, false
	}
	return &s.keys[found], true
}

// authenticate requires Authorization: Bearer KEY with a configured key:
// 401 otherwise.
func (s *Server) authenticate(c *gin.Context) {
	scheme, token, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	token = strings.TrimSpace(token)
	if !strings.EqualFold(scheme, "Bearer") || token == "" {
		s.writeError(c, models.Errorf(models.EUNAUTHORIZED, "send an API key as Authorization: Bearer KEY"))
		return
	}
	k, ok := s.lookupKey(token)
	if !ok {
		s.writeError(c, models.Errorf(models.EUNAUTHORIZED, "unknown API key"))
		return
	}
	c.Set(ctxKeyKeyID, k.id)
	c.Set(ctxKeyRole, string(k.role))
	c.Set(ctxKeyEntry, k)
	c.Next()
}

// rateLimit refuses a key over its request rate with 429.
func (s *Server) rateLimit(c *gin.Context) {
	k, _ := c.MustGet(ctxKeyEntry).(*keyEntry)
	if !k.limiter.Allow() {
		s.metrics.rateLimited.WithLabelValues(string(k.role)).Inc()
		s.writeError(c, models.Errorf(models.ERATELIMIT, "too many requests for this key; slow down"))
		return
	}
	c.Next()
}

// callerRole is the role of the request's key; "" before authenticate,
// which no role check accepts.
func callerRole(c *gin.Context) Role { return Role(c.GetString(ctxKeyRole)) }

// authorize refuses a key whose role is not among roles with 403.
func (s *Server) authorize(roles []Role) gin.HandlerFunc {
	return func(c *gin.Context) {
		role := callerRole(c)
		for _, r := range roles {
			if r == role {
				c.Next()
				return
			}
		}
		s.writeError(c, models.Errorf(models.EFORBIDDEN, "the %s role may not do this", role))
	}
}

// requireReady answers 503 while the models and indexes are still loading.
func (s *Server) requireReady(c *gin.Context) {
	if err := s.ready(); err != nil {
		s.writeError(c, models.Errorf(models.EUNAVAILABLE, "not ready yet; try again shortly"))
		return
	}
	c.Next()
}

// callerKeyID is the id of the request's API key ("" before authentication).
func callerKeyID(c *gin.Context) string { return c.GetString(ctxKeyKeyID) }
