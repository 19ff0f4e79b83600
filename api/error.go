package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/trackmatch/trackmatch/models"
)

// codeMethodNotAllowed is the error code of a 405. It lives here, not in
// models, only because no layer below the HTTP one can produce it.
const codeMethodNotAllowed = "method_not_allowed"

// statusByCode is the one mapping from error codes to HTTP statuses.
//
// Choices where the brief left room: corrupt_image is 422 (the request is
// well-formed; its photo cannot be processed), and canceled is 503 (the
// server or the job gave up; a client that itself went away sees nothing).
var statusByCode = map[string]int{
	models.EBADREQUEST:   http.StatusBadRequest,
	models.EINVALID:      http.StatusUnprocessableEntity,
	models.ENOFACE:       http.StatusUnprocessableEntity,
	models.ECORRUPT:      http.StatusUnprocessableEntity,
	models.ETOOSMALL:     http.StatusUnprocessableEntity,
	models.EUNREADABLE:   http.StatusUnprocessableEntity,
	models.ENOTFOUND:     http.StatusNotFound,
	models.ECONFLICT:     http.StatusConflict,
	models.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	models.EUNSUPPORTED:  http.StatusUnsupportedMediaType,
	models.EUNAUTHORIZED: http.StatusUnauthorized,
	models.EFORBIDDEN:    http.StatusForbidden,
	models.ERATELIMIT:    http.StatusTooManyRequests,
	models.EUNAVAILABLE:  http.StatusServiceUnavailable,
	models.ECANCELED:     http.StatusServiceUnavailable,
	models.EINTERNAL:     http.StatusInternalServerError,
	codeMethodNotAllowed: http.StatusMethodNotAllowed,
}

// statusOf returns the HTTP status for an error code; an unknown code is a
// bug and gets 500.
func statusOf(code string) int {
	if s, ok := statusByCode[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorResponse is the body of every error: {"error": {code, message, fields}}.
type errorResponse struct {
	Error *models.Error `json:"error"`
}

// ctxKeyErrorCode is where writeError leaves the code for the access log.
const ctxKeyErrorCode = "trackmatch.error_code"

// classify turns any error into the *models.Error the client sees. Context
// cancellation and deadlines become canceled and unavailable; errors that
// carry no code are internal, with a generic message (their text may hold
// data and is only logged).
func classify(err error) *models.Error {
	var me *models.Error
	switch {
	case errors.As(err, &me):
		if _, known := statusByCode[me.Code]; !known || me.Code == models.EINTERNAL {
			return internalError()
		}
		return &models.Error{Code: me.Code, Message: me.Message, Fields: me.Fields}
	case errors.Is(err, context.Canceled):
		return &models.Error{Code: models.ECANCELED, Message: "the request was canceled"}
	case errors.Is(err, context.DeadlineExceeded):
		return &models.Error{Code: models.EUNAVAILABLE, Message: "the request timed out; try again"}
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return models.Errorf(models.ETOOLARGE, "the request body is over the limit of %d bytes", tooBig.Limit)
	}
	return internalError()
}

// writeError aborts the request with err as a JSON error. A 500 is a bug:
// it is logged with the error's text (never with the request's data).
func (s *Server) writeError(c *gin.Context, err error) {
	e := classify(err)
	if e.Code == models.EINTERNAL {
		s.log.ErrorContext(c.Request.Context(), "internal error",
			slog.String("route", routeLabel(c)), slog.String("request_id", c.GetString(ctxKeyRequestID)),
			slog.String("error", err.Error()))
	}
	s.respondError(c, e)
}

// respondError aborts the request with e, at the status its code maps to.
func (s *Server) respondError(c *gin.Context, e *models.Error) {
	status := statusOf(e.Code)
	switch status {
	case http.StatusUnauthorized:
		c.Header("WWW-Authenticate", `Bearer realm="trackmatch"`)
	case http.StatusTooManyRequests:
		c.Header("Retry-After", "1")
	case http.StatusServiceUnavailable:
		c.Header("Retry-After", "5")
	}
	c.Set(ctxKeyErrorCode, e.Code)
	c.AbortWithStatusJSON(status, errorResponse{Error: e})
}

// internalError is what a client sees of a bug.
func internalError() *models.Error {
	return &models.Error{Code: models.EINTERNAL, Message: "internal error"}
}

// badRequest is the error for a malformed request.
func badRequest(format string, args ...any) error {
	return models.Errorf(models.EBADREQUEST, format, args...)
}
