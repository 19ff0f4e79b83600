package models

import (
	"errors"
	"fmt"
	"strings"
)

// Error codes are defined once here and mapped to HTTP statuses in one place
// (api/error.go). Callers branch on the code, never on message text.
const (
	EBADREQUEST   = "bad_request"       // malformed request: bad JSON, wrong multipart
	EINVALID      = "invalid"           // well-formed but fails validation; lists fields
	ENOTFOUND     = "not_found"         // unknown id
	ECONFLICT     = "conflict"          // state does not allow the operation
	ETOOLARGE     = "too_large"         // body, photo or image dimensions over a limit
	EUNSUPPORTED  = "unsupported_media" // not an image type trackmatch can read
	ECORRUPT      = "corrupt_image"     // claims to be an image but cannot be decoded
	ETOOSMALL     = "too_small"         // image smaller than the smallest face the detectors find
	EUNREADABLE   = "unreadable_image"  // the photo broke the face analysis that read it
	ENOFACE       = "no_face"           // photo decoded but shows no face
	EUNAUTHORIZED = "unauthorized"      // missing or unknown API key
	EFORBIDDEN    = "forbidden"         // key's role may not do this
	ERATELIMIT    = "rate_limited"      // client over its request rate
	EUNAVAILABLE  = "unavailable"       // not ready, or over capacity; try again
	ECANCELED     = "canceled"          // the caller went away or the job was canceled
	EINTERNAL     = "internal"          // a bug
)

// Error is trackmatch's domain error: a code callers can branch on, a message
// safe to show to the client, and, for validation, every failing field.
type Error struct {
	Code    string       `json:"code"`
	Message string       `json:"message"`
	Fields  []FieldError `json:"fields,omitempty"`
}

// FieldError names one field that failed validation and why.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error implements the error interface.
func (e *Error) Error() string {
	if len(e.Fields) == 0 {
		return fmt.Sprintf("%s: %s", e.Code, e.Message)
	}
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, strings.Join(parts, "; "))
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the client-safe message of the first *Error in err's
// chain, or a generic message for internal errors (whose text may leak data).
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorFields returns the field errors of the first *Error in err's chain.
func ErrorFields(err error) []FieldError {
	var e *Error
	if errors.As(err, &e) {
		return e.Fields
	}
	return nil
}
