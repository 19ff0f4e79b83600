package api

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"time"

	"github.com/gin-gonic/gin"
)

// ctxKeyRequestID is the request's id, also sent as X-Request-Id so a
// client can quote it and an operator can find the log line.
const ctxKeyRequestID = "trackmatch.request_id"

// observe is the outermost middleware: it gives the request an id, then
// once answered counts it in the metrics and writes one access-log line.
// The line holds method, route template, status, error code, latency,
// response size, key id and role: never the raw path (it holds ids), the
// query string, headers, bodies, names, photos or descriptors.
func (s *Server) observe(c *gin.Context) {
	start := time.Now()
	id := newRequestID()
	c.Set(ctxKeyRequestID, id)
	c.Header("X-Request-Id", id)
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()

	c.Next()

	elapsed := time.Since(start)
	method, route, status := methodLabel(c.Request.Method), routeLabel(c), c.Writer.Status()
	s.metrics.observe(method, route, status, elapsed)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelError
	}
	s.log.LogAttrs(c.Request.Context(), level, "http request",
		slog.String("method", method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.String("code", c.GetString(ctxKeyErrorCode)),
		slog.Float64("latency_ms", float64(elapsed.Microseconds())/1000),
		slog.Int("bytes_out", max(c.Writer.Size(), 0)), // gin reports -1 for no body
		slog.String("key_id", callerKeyID(c)),
		slog.String("role", c.GetString(ctxKeyRole)),
		slog.String("request_id", id),
	)
}

// recoverPanics turns a panic in a handler into a logged 500. The log line
// has the panic value and stack, as for any bug.
func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		v := recover()
		if v == nil {
			return
		}
		if v == http.ErrAbortHandler {
			panic(v)
		}
		s.log.ErrorContext(c.Request.Context(), "panic serving request",
			slog.String("route", routeLabel(c)), slog.String("request_id", c.GetString(ctxKeyRequestID)),
			slog.String("panic", fmt.Sprint(v)), slog.String("stack", string(debug.Stack())))
		if c.Writer.Written() {
			c.Abort()
			return
		}
		s.respondError(c, internalError())
	}()
	c.Next()
}

// routeLabel is the route template, or "unmatched" for unknown paths.
func routeLabel(c *gin.Context) string {
	if p := c.FullPath(); p != "" {
		return p
	}
	return "unmatched"
}

// methodLabel keeps metric labels bounded: unknown methods are "OTHER".
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "OTHER"
}

func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}
