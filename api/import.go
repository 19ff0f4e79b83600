package api

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/trackmatch/trackmatch/models"
)

// Importer loads a batch of records with their photos (engine.Importer):
// one result per record, in order; an error only for the whole batch.
type Importer interface {
	ImportRecords(ctx context.Context, recs []models.ImportRecord) ([]models.ImportResult, error)
}

// ImportRecordsPerToken is how many records of an import batch one token
// of the key's rate limit pays for: the request's own token pays for the
// first ImportRecordsPerToken, each further ImportRecordsPerToken (or
// part) takes one more (at most the burst). At the default 20 tokens a
// second a key may send about 1,000 records a second; photos are bounded
// by the face workers, not by the rate limit.
const ImportRecordsPerToken = 50

// importView is the answer to POST /v1/import.
type importView struct {
	Summary models.ImportSummary  `json:"summary"`
	Results []models.ImportResult `json:"results"`
}

// Import media types: a JSON array of records, or one record a line.
const (
	mediaJSON   = "application/json"
	mediaNDJSON = "application/x-ndjson"
)

// importBatch handles POST /v1/import: a batch of up to
// models.MaxImportBatch records (a JSON array, or NDJSON: one record a
// line), each with its photos in base64. A record that cannot be read
// (a malformed NDJSON line, an unknown field) is refused alone with
// bad_request; the others go on. The answer is 200 with one result per
// record even when some are refused. One batch is imported at a time:
// another waits up to EmbedWait, then gets 503 with Retry-After.
func (s *Server) importBatch(c *gin.Context) error {
	if s.importer == nil {
		return models.Errorf(models.EUNAVAILABLE, "bulk import is not configured on this server")
	}
	media, _, err := mime.ParseMediaType(c.GetHeader("Content-Type"))
	if err != nil || (media != mediaJSON && media != mediaNDJSON) {
		return models.Errorf(models.EUNSUPPORTED, "send the batch as %s (an array of records) or %s (one record a line)", mediaJSON, mediaNDJSON)
	}
	budget := s.startPhotoRead(c)
	defer budget.release()
	data, err := readLimited(budget.body(c.Request.Body), models.MaxImportBatchBytes, "the batch")
	if err != nil {
		return err
	}
	var raw []json.RawMessage
	if media == mediaNDJSON {
		raw, err = splitNDJSON(data)
	} else {
		raw, err = splitJSONArray(data)
	}
	if err != nil {
		return err
	}
	if len(raw) == 0 {
		return badRequest("the batch holds no records")
	}
	if len(raw) > models.MaxImportBatch {
		return models.Errorf(models.ETOOLARGE, "a batch holds at most %d records, got %d; split it", models.MaxImportBatch, len(raw))
	}
	if err := s.chargeImport(c, len(raw)); err != nil {
		return err
	}
	results := make([]models.ImportResult, len(raw))
	var recs []models.ImportRecord
	var at []int // batch position of each of recs
	for i, m := range raw {
		var r models.ImportRecord
		if err := decodeStrict(m, &r); err != nil {
			results[i] = models.ImportResult{Index: i, Status: models.ImportRefused,
				Error: &models.Error{Code: models.ErrorCode(err), Message: models.ErrorMessage(err), Fields: models.ErrorFields(err)}}
			continue
		}
		recs, at = append(recs, r), append(at, i)
	}
	release, err := s.acquireImport(c)
	if err != nil {
		return err
	}
	defer release()
	got, err := s.importer.ImportRecords(c.Request.Context(), recs)
	if err != nil {
		return err
	}
	for k, r := range got {
		r.Index = at[k]
		results[at[k]] = r
	}
	c.JSON(http.StatusOK, importView{Summary: models.Summarize(results), Results: results})
	return nil
}

// chargeImport takes the batch's further rate-limit tokens (see
// ImportRecordsPerToken); 429 when the key has not got them.
func (s *Server) chargeImport(c *gin.Context, n int) error {
	k, ok := c.Get(ctxKeyEntry)
	if !ok {
		return nil
	}
	ke := k.(*keyEntry)
	extra := min((n-1)/ImportRecordsPerToken, ke.limiter.Burst())
	if extra > 0 && !ke.limiter.AllowN(time.Now(), extra) {
		s.metrics.rateLimited.WithLabelValues(string(ke.role)).Inc()
		return models.Errorf(models.ERATELIMIT, "a batch of %d records takes %d more requests' worth of this key's rate limit; slow down", n, extra)
	}
	return nil
}

// acquireImport takes the one import slot, waiting at most EmbedWait.
func (s *Server) acquireImport(c *gin.Context) (release func(), err error) {
	t := time.NewTimer(s.cfg.EmbedWait)
	defer t.Stop()
	select {
	case s.imports <- struct{}{}:
		return func() { <-s.imports }, nil
	case <-t.C:
		return nil, models.Errorf(models.EUNAVAILABLE, "another import batch is being processed; try again shortly")
	case <-c.Request.Context().Done():
		return nil, models.Errorf(models.ECANCELED, "the request was canceled")
	}
}

// splitNDJSON returns the non-blank lines of data.
func splitNDJSON(data []byte) ([]json.RawMessage, error) {
	var out []json.RawMessage
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, len(data)+1)
	for sc.Scan() {
		if line := bytes.TrimSpace(sc.Bytes()); len(line) > 0 {
			out = append(out, json.RawMessage(bytes.Clone(line))) // the scanner reuses its buffer
			if len(out) > models.MaxImportBatch {
				break // enough to refuse the batch
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, badRequest("cannot read the NDJSON body")
	}
	return out, nil
}

// splitJSONArray returns the elements of the JSON array data, undecoded.
func splitJSONArray(data []byte) ([]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return nil, badRequest("the batch must be a JSON array of records (or send %s)", mediaNDJSON)
	}
	var out []json.RawMessage
	for dec.More() {
		var m json.RawMessage
		if err := dec.Decode(&m); err != nil {
			return nil, jsonError(err)
		}
		out = append(out, m)
		if len(out) > models.MaxImportBatch {
			return out, nil // enough to refuse the batch
		}
	}
	if _, err := dec.Token(); err != nil {
		return nil, jsonError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, badRequest("unexpected data after the JSON array")
	}
	return out, nil
}

// importRequestBody describes POST /v1/import's body for OpenAPI: the same
// record schema as a JSON array or as NDJSON lines.
func importRequestBody(comps openapi3.Schemas) (*openapi3.RequestBodyRef, error) {
	rec, err := schemaInto(comps, models.ImportRecord{}, true)
	if err != nil {
		return nil, err
	}
	if c, ok := comps["ImportRecord"]; ok {
		c.Value.Description = "one record: the fields of POST /v1/children (external_ref required) and its photos, each {data: base64 bytes, name: optional file name echoed in the result}"
		if !slices.Contains(c.Value.Required, "external_ref") {
			c.Value.Required = append(c.Value.Required, "external_ref")
		}
	}
	arr := openapi3.NewArraySchema().WithMinItems(1).WithMaxItems(models.MaxImportBatch)
	arr.Items = rec
	nd := openapi3.NewStringSchema()
	nd.Description = "one record (as in the array form) a line"
	return &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).WithContent(openapi3.Content{
		mediaJSON:   openapi3.NewMediaType().WithSchema(arr),
		mediaNDJSON: openapi3.NewMediaType().WithSchema(nd),
	})}, nil
}
