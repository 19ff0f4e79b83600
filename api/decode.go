package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/trackmatch/trackmatch/models"
)

// Request decoding is strict: a JSON body must be application/json, valid
// UTF-8, one object with known fields only (unknown fields are refused so a
// misspelt field is never silently dropped), and nothing after it. Every
// body is bounded with http.MaxBytesReader before it is read.

// multipartSlack is room for multipart boundaries and part headers on top
// of the payload limits.
const multipartSlack = 64 << 10

// bodyLimit is the most bytes a route of kind k may send.
func (s *Server) bodyLimit(k bodyKind) int64 {
	switch k {
	case bodyPhoto:
		return s.cfg.MaxPhotoBytes + multipartSlack
	case bodySearch:
		return s.cfg.MaxSearchBytes + s.cfg.MaxJSONBytes + multipartSlack
	case bodyImport:
		return models.MaxImportBatchBytes
	default:
		return s.cfg.MaxJSONBytes
	}
}

// limitBody refuses a declared Content-Length over the route's limit with
// 413 before reading anything, and caps the body for chunked requests.
func (s *Server) limitBody(k bodyKind) gin.HandlerFunc {
	return func(c *gin.Context) {
		n := s.bodyLimit(k)
		if c.Request.ContentLength > n {
			s.writeError(c, models.Errorf(models.ETOOLARGE, "the request body is over the limit of %d bytes", n))
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, n)
		c.Next()
	}
}

// readLimited reads r to the end, refusing more than max bytes with
// too_large; what names the payload in the message.
func readLimited(r io.Reader, max int64, what string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, bodyReadError(err)
	}
	if int64(len(data)) > max {
		return nil, models.Errorf(models.ETOOLARGE, "%s is over the limit of %d bytes", what, max)
	}
	return data, nil
}

// bodyReadError classifies an error met while reading the request body.
func bodyReadError(err error) error {
	var tooBig *http.MaxBytesError
	var me *models.Error
	switch {
	case errors.As(err, &me): // the photo budget refused the read
		return err
	case errors.As(err, &tooBig):
		return models.Errorf(models.ETOOLARGE, "the request body is over the limit of %d bytes", tooBig.Limit)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return badRequest("the request body arrived too slowly")
	}
	return badRequest("could not read the request body")
}

// bindJSON reads the request's JSON body into dst. With optional, a request
// with no body leaves dst as it is.
func (s *Server) bindJSON(c *gin.Context, dst any, optional bool) error {
	data, err := readLimited(c.Request.Body, s.cfg.MaxJSONBytes, "the JSON body")
	if err != nil {
		return err
	}
	if len(bytes.TrimSpace(data)) == 0 {
		if optional {
			return nil
		}
		return badRequest("the request body is empty; send a JSON object")
	}
	media, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || media != "application/json" {
		return models.Errorf(models.EUNSUPPORTED, "send the body as Content-Type: application/json")
	}
	return decodeStrict(data, dst)
}

// decodeStrict decodes one JSON object from data into dst, refusing invalid
// UTF-8 (which encoding/json would silently replace), anything but an
// object at the top, unknown fields, values of the wrong type (naming the
// field) and anything after the object.
func decodeStrict(data []byte, dst any) error {
	if !utf8.Valid(data) {
		return badRequest("the JSON is not valid UTF-8")
	}
	if t := bytes.TrimLeft(data, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return badRequest("the JSON must be an object")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return badRequest("unexpected data after the JSON object")
	}
	return nil
}

// jsonError turns an encoding/json error into a bad_request that says
// where the JSON went wrong, without echoing values.
func jsonError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return badRequest("malformed JSON at byte %d: %s", syn.Offset, syn.Error())
	case errors.As(err, &typ):
		if typ.Field == "" {
			return badRequest("the JSON must be an object")
		}
		return badRequest("field %q must be %s, got %s", typ.Field, jsonTypeName(typ.Type), typ.Value)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return badRequest("the JSON ends before the object does")
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return badRequest("unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return badRequest("malformed JSON")
}

// jsonTypeName names a Go type the way a JSON client thinks of it.
func jsonTypeName(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a " + t.String()
}

// multipartBody returns a reader over the request's multipart/form-data
// body: 415 for any other media type, 400 when the boundary is missing.
func multipartBody(c *gin.Context) (*multipart.Reader, error) {
	media, params, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if media != "multipart/form-data" {
		return nil, models.Errorf(models.EUNSUPPORTED, "send the body as Content-Type: multipart/form-data")
	}
	if err != nil || params["boundary"] == "" {
		return nil, badRequest("the multipart/form-data Content-Type has no boundary")
	}
	return multipart.NewReader(c.Request.Body, params["boundary"]), nil
}

// nextPart returns the next part, nil at the end of the body.
func nextPart(mr *multipart.Reader) (*multipart.Part, error) {
	p, err := mr.NextPart()
	switch {
	case err == io.EOF:
		return nil, nil
	case err != nil:
		var tooBig *http.MaxBytesError
		var me *models.Error
		if errors.As(err, &tooBig) || errors.As(err, &me) || errors.Is(err, os.ErrDeadlineExceeded) {
			return nil, bodyReadError(err)
		}
		return nil, badRequest("malformed multipart body")
	}
	return p, nil
}

// partName is a part's form name made safe to echo in a message.
func partName(p *multipart.Part) string {
	n := p.FormName()
	if len(n) > 40 || !utf8.ValidString(n) || strings.IndexFunc(n, unicode.IsControl) >= 0 {
		return "(unprintable)"
	}
	return strconv.Quote(n)
}

// queryParam is one query parameter of a route, for parsing and for the
// OpenAPI document.
type queryParam struct {
	name     string
	desc     string
	enum     []string // allowed string values
	integer  bool     // an integer in [min, max], default def
	number   bool     // a number in [min, max]
	min, max float64
	def      int
	maxLen   int  // strings: longest accepted
	dateTime bool // an RFC 3339 time
}

// limitSpec is a page-size parameter's default and maximum.
type limitSpec struct{ def, max int }

// limitParam describes a "limit" parameter.
func limitParam(l limitSpec) queryParam {
	return queryParam{
		name: "limit", desc: fmt.Sprintf("how many to return, 1 to %d (default %d)", l.max, l.def),
		integer: true, min: 1, max: float64(l.max), def: l.def,
	}
}

// maxCursorBytes bounds an opaque page cursor.
const maxCursorBytes = 1024

// cursorParam describes a "cursor" parameter.
func cursorParam() queryParam {
	return queryParam{name: "cursor", desc: "next_cursor from the previous page; absent for the first", maxLen: maxCursorBytes}
}

// queryLimit parses the "limit" parameter: absent gives the default, and
// anything but an integer from 1 to the maximum is a bad request.
func queryLimit(c *gin.Context, l limitSpec) (int, error) {
	v, ok := c.GetQuery("limit")
	if !ok {
		return l.def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > l.max {
		return 0, badRequest("limit must be an integer from 1 to %d", l.max)
	}
	return n, nil
}

// queryCursor parses the "cursor" parameter.
func queryCursor(c *gin.Context) (string, error) {
	v := c.Query("cursor")
	if len(v) > maxCursorBytes || !utf8.ValidString(v) {
		return "", badRequest("cursor is not one this server issued")
	}
	return v, nil
}

// pageError is err from a store listing a page: a store refuses a cursor
// it did not issue with EINVALID, which is the same bad request queryCursor
// gives for one it can tell is malformed itself, not a record's validation.
func pageError(err error, cursor string) error {
	if cursor != "" && models.ErrorCode(err) == models.EINVALID {
		return badRequest("cursor is not one this server issued")
	}
	return err
}

// querySince parses the "since" parameter, an RFC 3339 time; absent is the
// zero time.
func querySince(c *gin.Context) (time.Time, error) { return queryTime(c, "since") }

// queryTime parses the parameter name, an RFC 3339 time; absent is the
// zero time.
func queryTime(c *gin.Context, name string) (time.Time, error) {
	v, ok := c.GetQuery(name)
	if !ok {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, badRequest("%s must be a time in RFC 3339 form, e.g. 2025-01-31T00:00:00Z", name)
	}
	return t, nil
}

// queryProbability parses a probability parameter in [0, 1]; absent is 0.
func queryProbability(c *gin.Context, name string) (float64, error) {
	v, ok := c.GetQuery(name)
	if !ok {
		return 0, nil
	}
	p, err := strconv.ParseFloat(v, 64)
	if err != nil || math.IsNaN(p) || p < 0 || p > 1 {
		return 0, badRequest("%s must be a number from 0 to 1", name)
	}
	return p, nil
}

// maxIDBytes bounds an id in a path; longer ones cannot exist.
const maxIDBytes = 256

// pathID returns the route's :id, or not_found for one that cannot exist
// (too long, not UTF-8, control characters). what names the resource.
func pathID(c *gin.Context, what string) (string, error) {
	id := c.Param("id")
	if id == "" || len(id) > maxIDBytes || !utf8.ValidString(id) || strings.IndexFunc(id, unicode.IsControl) >= 0 {
		return "", models.Errorf(models.ENOTFOUND, "no such %s", what)
	}
	return id, nil
}
