package api

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/trackmatch/trackmatch/models"
)

// bodyKind says what a route reads from the request body; it picks the body
// limit, the decoder and the OpenAPI request body.
type bodyKind int

const (
	bodyNone         bodyKind = iota
	bodyJSON                  // application/json, required
	bodyJSONOptional          // application/json, or no body at all
	bodyPhoto                 // multipart/form-data with one part "photo"
	bodySearch                // multipart/form-data: part "query" and zero or more "photo" parts
	bodyImport                // a JSON array or NDJSON of records with base64 photos (import.go)
)

// okResponse is one success response of a route: its status, the Go value
// its JSON body is (nil for no body), or a media type for non-JSON bodies.
type okResponse struct {
	status int
	body   any
	media  string // "" for application/json
	desc   string
}

// route is one row of the route table. The same rows register the gin
// handlers and build the OpenAPI document, so the two cannot drift apart.
type route struct {
	method  string
	path    string // gin syntax: /v1/children/:id
	op      string // OpenAPI operationId
	summary string
	roles   []Role // nil: public, no key needed
	action  string // audit action (/v1 routes)
	body    bodyKind
	request any // the JSON body's Go type, for bodyJSON and bodyJSONOptional
	query   []queryParam
	ok      []okResponse
	errs    []int // error statuses besides those implied by roles, path, body and query
	handle  func(c *gin.Context) error
}

// Query-parameter limits, shared by the parsers and the OpenAPI document.
func candidatesLimit() limitSpec { return limitSpec{def: 10, max: 100} }
func matchesLimit() limitSpec    { return limitSpec{def: 50, max: 500} }
func auditLimit() limitSpec      { return limitSpec{def: 100, max: 1000} }

// routes is the route table: every path the server answers.
func (s *Server) routes() []route {
	portal := []Role{RolePortal, RoleAdmin}
	reader := readerRoles()
	everyone := allRoles()
	admin := []Role{RoleAdmin}
	metrics := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{})
	return []route{
		{
			method: http.MethodGet, path: "/healthz", op: "healthz",
			summary: "Liveness: 200 while the process serves.",
			ok:      []okResponse{{status: 200, body: statusView{}}},
			handle:  s.healthz,
		},
		{
			method: http.MethodGet, path: "/readyz", op: "readyz",
			summary: "Readiness: 200 once face models and indexes are loaded, else 503 with the reason.",
			ok:      []okResponse{{status: 200, body: statusView{}}},
			errs:    []int{503},
			handle:  s.readyz,
		},
		{
			method: http.MethodGet, path: "/metrics", op: "metrics",
			summary: "Prometheus metrics in the text exposition format.",
			ok:      []okResponse{{status: 200, media: "text/plain", desc: "Prometheus text format"}},
			handle:  func(c *gin.Context) error { metrics.ServeHTTP(c.Writer, c.Request); return nil },
		},
		{
			method: http.MethodGet, path: "/openapi.json", op: "openapi",
			summary: "This OpenAPI 3 document.",
			ok:      []okResponse{{status: 200, body: map[string]any{}}},
			handle:  s.openAPIDoc,
		},
		{
			method: http.MethodPost, path: "/v1/children", op: "createChild",
			summary: "Create a record. Idempotent on (kind, external_ref): a retry returns 200 and the record already stored.",
			roles:   portal, action: "create",
			body: bodyJSON, request: childInput{},
			ok: []okResponse{
				{status: 201, body: childView{}, desc: "created"},
				{status: 200, body: childView{}, desc: "a record with this kind and external_ref already exists; it is returned unchanged"},
			},
			errs:   []int{409, 422},
			handle: s.createChild,
		},
		{
			method: http.MethodGet, path: "/v1/children", op: "listChildren",
			summary: "List records in creation order, filtered, one page at a time (a page scans at most 5,000 records, so it may be short with a next_cursor). " +
				"Investigator and admin keys get whole records (children). A portal key must give kind and external_ref (422 otherwise) and gets only ids, reference and status (refs).",
			roles: everyone, action: "read",
			query: []queryParam{
				{name: "kind", desc: "missing or found; both when absent", enum: []string{string(models.KindMissing), string(models.KindFound)}},
				{name: "status", desc: "open, matched or closed; any when absent", enum: []string{string(models.StatusOpen), string(models.StatusMatched), string(models.StatusClosed)}},
				{name: "state", desc: "place.state, any case", maxLen: maxFilterText},
				{name: "district", desc: "place.district, any case", maxLen: maxFilterText},
				{name: "external_ref", desc: "the portal's own reference, exactly", maxLen: maxFilterText},
				{name: "created_since", desc: "only records created at or after this time (RFC 3339)", dateTime: true},
				{name: "updated_since", desc: "only records changed at or after this time (RFC 3339)", dateTime: true},
				limitParam(childrenLimit()),
				cursorParam(),
			},
			ok:     []okResponse{{status: 200, body: childrenView{}}},
			errs:   []int{422},
			handle: s.listChildren,
		},
		{
			method: http.MethodPost, path: "/v1/import", op: "importRecords",
			summary: "Import a batch of records with their photos: a JSON array or NDJSON (one record a line), at most " + strconv.Itoa(models.MaxImportBatch) +
				" records and " + strconv.Itoa(models.MaxImportBatchBytes) + " bytes, photos in base64. Idempotent on (kind, external_ref): a record already stored as sent is unchanged, one that differs is updated, the same photo bytes are stored once. " +
				"Answers 200 with one result per record (created, unchanged, updated, or refused with code and fields) even when some are refused. " +
				"A batch takes one rate-limit token per " + strconv.Itoa(ImportRecordsPerToken) + " records; one batch is imported at a time (503 with Retry-After while another is).",
			roles: portal, action: "import",
			body:   bodyImport,
			ok:     []okResponse{{status: 200, body: importView{}, desc: "one result per record, in order"}},
			errs:   []int{503},
			handle: s.importBatch,
		},
		{
			method: http.MethodGet, path: "/v1/children/:id", op: "getChild",
			summary: "Read a record with its photos and faces (face descriptors are never returned).",
			roles:   reader, action: "read",
			ok:     []okResponse{{status: 200, body: childView{}}},
			handle: s.getChild,
		},
		{
			method: http.MethodPut, path: "/v1/children/:id", op: "updateChild",
			summary: "Replace a record's editable fields. The kind cannot change (409).",
			roles:   portal, action: "update",
			body: bodyJSON, request: childInput{},
			ok:     []okResponse{{status: 200, body: childView{}}},
			errs:   []int{409, 422},
			handle: s.updateChild,
		},
		{
			method: http.MethodDelete, path: "/v1/children/:id", op: "deleteChild",
			summary: "Delete a record, its photos and its matches.",
			roles:   portal, action: "delete",
			ok:     []okResponse{{status: 204, desc: "deleted"}},
			errs:   []int{409},
			handle: s.deleteChild,
		},
		{
			method: http.MethodPost, path: "/v1/children/:id/photos", op: "addPhoto",
			summary: "Upload a photo (multipart part \"photo\"); returns the faces found. 422 no_face when there is none.",
			roles:   portal, action: "upload",
			body: bodyPhoto,
			ok: []okResponse{
				{status: 201, body: photoUploadView{}, desc: "stored"},
				{status: 200, body: photoUploadView{}, desc: "the same bytes are already stored with this record; that photo is returned and nothing new is stored"},
			},
			errs:   []int{422, 503},
			handle: s.addPhoto,
		},
		{
			method: http.MethodGet, path: "/v1/children/:id/candidates", op: "candidates",
			summary: "Children of the other kind who could be this one, best first, with explanations.",
			roles:   everyone, action: "search",
			query:  []queryParam{limitParam(candidatesLimit())},
			ok:     []okResponse{{status: 200, body: candidatesView{}}},
			handle: s.candidates,
		},
		{
			method: http.MethodPost, path: "/v1/search", op: "search",
			summary: "Search without storing: part \"query\" is a JSON record (its kind is the query child's side; names optional), plus zero or more \"photo\" parts.",
			roles:   everyone, action: "search",
			body:   bodySearch,
			query:  []queryParam{limitParam(candidatesLimit())},
			ok:     []okResponse{{status: 200, body: candidatesView{}}},
			errs:   []int{422, 503},
			handle: s.search,
		},
		{
			method: http.MethodGet, path: "/v1/photos/:id", op: "getPhoto",
			summary: "The original bytes of an uploaded photo.",
			roles:   reader, action: "read",
			ok:     []okResponse{{status: 200, media: "image/*", desc: "the photo as uploaded"}},
			handle: s.getPhoto,
		},
		{
			method: http.MethodDelete, path: "/v1/photos/:id", op: "deletePhoto",
			summary: "Delete a photo: its bytes, faces and descriptors. The record's matches are scored again without it at once: " +
				"an undecided match that falls below the re-score threshold (0.2) is removed, the others keep their decision and take the new score.",
			roles: portal, action: "delete",
			ok:     []okResponse{{status: 204, desc: "deleted"}},
			handle: s.deletePhoto,
		},
		{
			method: http.MethodGet, path: "/v1/matches", op: "listMatches",
			summary: "The review queue: scored pairs, best first, one page at a time. With Accept: text/csv, the whole queue as CSV (as /v1/matches.csv).",
			roles:   reader, action: "read",
			query: []queryParam{
				{name: "status", desc: "new, confirmed or rejected; any when absent", enum: []string{string(models.MatchNew), string(models.MatchConfirmed), string(models.MatchRejected)}},
				{name: "min_probability", desc: "only pairs at least this likely, 0 to 1", number: true, min: 0, max: 1},
				limitParam(matchesLimit()),
				cursorParam(),
			},
			ok:     []okResponse{{status: 200, body: matchesView{}}},
			handle: s.listMatches,
		},
		{
			method: http.MethodGet, path: "/v1/matches.csv", op: "exportMatches",
			summary: "Export every match that passes the filters, best first, as CSV with its decision (no explanations). Cells a spreadsheet would run as formulas start with an apostrophe.",
			roles:   reader, action: "export",
			query: []queryParam{
				{name: "status", desc: "new, confirmed or rejected; any when absent", enum: []string{string(models.MatchNew), string(models.MatchConfirmed), string(models.MatchRejected)}},
				{name: "min_probability", desc: "only pairs at least this likely, 0 to 1", number: true, min: 0, max: 1},
			},
			ok:     []okResponse{{status: 200, media: "text/csv", desc: "id, missing_id, found_id, probability, score, status, decision, decided_by, decided_at, note, params_version, created_at, updated_at"}},
			handle: s.exportMatches,
		},
		{
			method: http.MethodGet, path: "/v1/decisions", op: "listDecisions",
			summary: "The history of decisions, oldest first (from since, when given), one page at a time: every decision made, also those a later one replaced.",
			roles:   reader, action: "export",
			query: []queryParam{
				{name: "since", desc: "only decisions made at or after this time (RFC 3339)", dateTime: true},
				limitParam(decisionsLimit()),
				cursorParam(),
			},
			ok:     []okResponse{{status: 200, body: decisionsView{}}},
			handle: s.listDecisions,
		},
		{
			method: http.MethodGet, path: "/v1/decisions.csv", op: "exportDecisions",
			summary: "Export the history of decisions (from since, when given), oldest first, as CSV. Cells a spreadsheet would run as formulas start with an apostrophe.",
			roles:   reader, action: "export",
			query: []queryParam{
				{name: "since", desc: "only decisions made at or after this time (RFC 3339)", dateTime: true},
			},
			ok:     []okResponse{{status: 200, media: "text/csv", desc: "match_id, missing_id, found_id, decision, by, at, note"}},
			handle: s.exportDecisions,
		},
		{
			method: http.MethodPost, path: "/v1/matches/:id/decision", op: "decideMatch",
			summary: "Record an investigator's decision (confirmed or rejected) on a match.",
			roles:   reader, action: "decide",
			body: bodyJSON, request: decisionInput{},
			ok:     []okResponse{{status: 200, body: models.Match{}}},
			errs:   []int{409, 422},
			handle: s.decideMatch,
		},
		{
			method: http.MethodPost, path: "/v1/jobs/rescore", op: "startRescore",
			summary: "Start a re-scoring job; {\"full\": true} re-scores every pair, not only changed ones. The body is optional.",
			roles:   admin, action: "rescore",
			body: bodyJSONOptional, request: rescoreInput{},
			ok:     []okResponse{{status: 202, body: jobStartedView{}}},
			errs:   []int{409},
			handle: s.startRescore,
		},
		{
			method: http.MethodGet, path: "/v1/jobs", op: "listJobs",
			summary: "Past and running jobs, newest first; a running job with its live progress.",
			roles:   admin, action: "read",
			query:  []queryParam{limitParam(jobsLimit())},
			ok:     []okResponse{{status: 200, body: jobsView{}}},
			handle: s.listJobs,
		},
		{
			method: http.MethodGet, path: "/v1/jobs/:id", op: "getJob",
			summary: "A job's state and progress; its summary once done.",
			roles:   admin, action: "read",
			ok:     []okResponse{{status: 200, body: models.Job{}}},
			handle: s.getJob,
		},
		{
			method: http.MethodPost, path: "/v1/jobs/:id/cancel", op: "cancelJob",
			summary: "Cancel a job; returns the job.",
			roles:   admin, action: "cancel",
			ok:     []okResponse{{status: 200, body: models.Job{}}},
			errs:   []int{409},
			handle: s.cancelJob,
		},
		{
			method: http.MethodGet, path: "/v1/audit", op: "listAudit",
			summary: "The audit trail, oldest first (from since, when given), one page at a time.",
			roles:   admin, action: "audit",
			query: []queryParam{
				{name: "since", desc: "only entries at or after this time (RFC 3339); from the beginning when absent", dateTime: true},
				limitParam(auditLimit()),
				cursorParam(),
			},
			ok:     []okResponse{{status: 200, body: auditView{}}},
			handle: s.listAudit,
		},
	}
}

// errorStatuses lists every error status r can answer with: those its
// roles, path, body and query imply, then its own.
func (r route) errorStatuses() []int {
	var st []int
	add := func(codes ...int) {
		for _, c := range codes {
			if !slices.Contains(st, c) {
				st = append(st, c)
			}
		}
	}
	if r.body != bodyNone || len(r.query) > 0 {
		add(400)
	}
	if r.roles != nil {
		add(401)
		if len(r.roles) < len(allRoles()) {
			add(403) // some role is refused
		}
	}
	if strings.Contains(r.path, ":") {
		add(404)
	}
	if r.body != bodyNone {
		add(413, 415)
	}
	if r.roles != nil {
		add(429, 503)
	}
	add(r.errs...)
	add(500)
	return st
}

// newEngine registers the route table on a gin engine with the middleware
// chain: observe (log, metrics) → recover → headers, then for /v1 routes
// authenticate → rate limit → ready → audit → authorize → body limit.
func (s *Server) newEngine(routes []route) *gin.Engine {
	e := gin.New()
	e.HandleMethodNotAllowed = true
	e.RedirectTrailingSlash = false
	e.RedirectFixedPath = false
	if err := e.SetTrustedProxies(nil); err != nil {
		panic("api: trusted proxies: " + err.Error())
	}
	e.Use(s.observe, s.recoverPanics, securityHeaders)
	e.NoRoute(func(c *gin.Context) {
		s.writeError(c, models.Errorf(models.ENOTFOUND, "no such route"))
	})
	e.NoMethod(func(c *gin.Context) {
		s.writeError(c, models.Errorf(codeMethodNotAllowed, "method %s is not allowed here; allowed: %s", methodLabel(c.Request.Method), c.Writer.Header().Get("Allow")))
	})
	for _, r := range routes {
		var chain []gin.HandlerFunc
		if r.roles != nil {
			chain = append(chain, s.authenticate, s.rateLimit, s.requireReady, s.auditTrail(r.action), s.authorize(r.roles))
		}
		if r.body != bodyNone {
			chain = append(chain, s.limitBody(r.body))
		}
		chain = append(chain, s.wrap(r.handle))
		e.Handle(r.method, r.path, chain...)
	}
	s.registerWeb(e) // the investigator page: not API operations, so not in the table
	return e
}

// wrap turns a handler that returns an error into a gin handler that writes
// the error the one way errors are written.
func (s *Server) wrap(h func(c *gin.Context) error) gin.HandlerFunc {
	return func(c *gin.Context) {
		if err := h(c); err != nil {
			s.writeError(c, err)
		}
	}
}

// securityHeaders marks every response as not to be cached, sniffed or
// framed: responses carry children's records and photos.
func securityHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	c.Next()
}
