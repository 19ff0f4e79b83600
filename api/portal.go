package api

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trackmatch/trackmatch/models"
)

// Listing limits, shared by the parsers and the OpenAPI document.
func childrenLimit() limitSpec  { return limitSpec{def: 50, max: 500} }
func jobsLimit() limitSpec      { return limitSpec{def: 50, max: 500} }
func decisionsLimit() limitSpec { return limitSpec{def: 100, max: 1000} }

// maxFilterText bounds a text filter (state, district, external_ref).
const maxFilterText = 200

// childRef is what a portal key may learn of a record it looks up by its
// own reference: ids, reference and case status, no personal data.
type childRef struct {
	ID          string        `json:"id"`
	Kind        models.Kind   `json:"kind"`
	ExternalRef string        `json:"external_ref"`
	Status      models.Status `json:"status"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

// childrenView answers GET /v1/children: full records (children) for
// investigator and admin keys, references only (refs) for portal keys.
type childrenView struct {
	Children   []childView `json:"children,omitempty"`
	Refs       []childRef  `json:"refs,omitempty"`
	NextCursor string      `json:"next_cursor"`
}

// jobsView answers GET /v1/jobs.
type jobsView struct {
	Jobs []models.Job `json:"jobs"`
}

// decisionsView answers GET /v1/decisions.
type decisionsView struct {
	Decisions  []models.DecisionRecord `json:"decisions"`
	NextCursor string                  `json:"next_cursor"`
}

// listChildren handles GET /v1/children. Records are sensitive, so a
// portal key (which may create and change records but not read them) may
// only look up its own references: it must give kind and external_ref, and
// gets ids, reference and status (childRef), never names or photos.
func (s *Server) listChildren(c *gin.Context) error {
	f := models.ChildFilter{
		Kind: models.Kind(c.Query("kind")), Status: models.Status(c.Query("status")),
		State: c.Query("state"), District: c.Query("district"), ExternalRef: c.Query("external_ref"),
	}
	if f.Kind != "" && !f.Kind.Valid() {
		return badRequest("kind must be %q or %q", models.KindMissing, models.KindFound)
	}
	if f.Status != "" && !f.Status.Valid() {
		return badRequest("status must be %q, %q or %q", models.StatusOpen, models.StatusMatched, models.StatusClosed)
	}
	for name, v := range map[string]string{"state": f.State, "district": f.District, "external_ref": f.ExternalRef} {
		if len(v) > maxFilterText {
			return badRequest("%s is longer than %d bytes", name, maxFilterText)
		}
	}
	var err error
	if f.CreatedSince, err = queryTime(c, "created_since"); err != nil {
		return err
	}
	if f.UpdatedSince, err = queryTime(c, "updated_since"); err != nil {
		return err
	}
	if f.Limit, err = queryLimit(c, childrenLimit()); err != nil {
		return err
	}
	if f.Cursor, err = queryCursor(c); err != nil {
		return err
	}
	portal := callerRole(c) == RolePortal
	if portal && (f.Kind == "" || f.ExternalRef == "") {
		// The route is the portal's too, but only as a lookup of its own
		// reference: a request that would list is invalid for it.
		e := &models.Error{Code: models.EINVALID, Message: "a portal key may only look a record up by kind and external_ref"}
		if f.Kind == "" {
			e.Fields = append(e.Fields, models.FieldError{Field: "kind", Message: "required for a portal key"})
		}
		if f.ExternalRef == "" {
			e.Fields = append(e.Fields, models.FieldError{Field: "external_ref", Message: "required for a portal key"})
		}
		return e
	}
	cs, next, err := s.children.ListChildren(c.Request.Context(), f)
	if err != nil {
		return pageError(err, f.Cursor)
	}
	if len(cs) == 1 {
		setAuditTarget(c, cs[0].ID)
	}
	v := childrenView{NextCursor: next}
	if portal {
		v.Refs = make([]childRef, len(cs))
		for i, ch := range cs {
			v.Refs[i] = childRef{ID: ch.ID, Kind: ch.Kind, ExternalRef: ch.ExternalRef, Status: ch.Status,
				CreatedAt: ch.CreatedAt, UpdatedAt: ch.UpdatedAt}
		}
	} else {
		v.Children = make([]childView, len(cs))
		for i := range cs {
			v.Children[i] = newChildView(&cs[i])
		}
	}
	c.JSON(http.StatusOK, v)
	return nil
}

// deletePhoto handles DELETE /v1/photos/:id.
func (s *Server) deletePhoto(c *gin.Context) error {
	id, err := pathID(c, "photo")
	if err != nil {
		return err
	}
	if err := s.children.DeletePhoto(c.Request.Context(), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// listJobs handles GET /v1/jobs: the newest jobs first, running or not.
func (s *Server) listJobs(c *gin.Context) error {
	limit, err := queryLimit(c, jobsLimit())
	if err != nil {
		return err
	}
	jobs, err := s.jobs.ListJobs(c.Request.Context(), limit)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, jobsView{Jobs: nonNil(jobs)})
	return nil
}

// listDecisions handles GET /v1/decisions: the history of decisions,
// oldest first, one page at a time.
func (s *Server) listDecisions(c *gin.Context) error {
	var f models.DecisionFilter
	var err error
	if f.Since, err = querySince(c); err != nil {
		return err
	}
	if f.Limit, err = queryLimit(c, decisionsLimit()); err != nil {
		return err
	}
	if f.Cursor, err = queryCursor(c); err != nil {
		return err
	}
	ds, next, err := s.matches.ListDecisions(c.Request.Context(), f)
	if err != nil {
		return pageError(err, f.Cursor)
	}
	c.JSON(http.StatusOK, decisionsView{Decisions: nonNil(ds), NextCursor: next})
	return nil
}

// matchesFilter parses the filters GET /v1/matches and its CSV export share.
func matchesFilter(c *gin.Context) (models.MatchFilter, error) {
	f := models.MatchFilter{Status: models.MatchStatus(c.Query("status"))}
	if f.Status != "" && !f.Status.Valid() {
		return f, badRequest("status must be %q, %q or %q", models.MatchNew, models.MatchConfirmed, models.MatchRejected)
	}
	var err error
	f.MinProbability, err = queryProbability(c, "min_probability")
	return f, err
}

// wantsCSV reports whether the request's Accept header asks for CSV first.
func wantsCSV(c *gin.Context) bool {
	return strings.HasPrefix(strings.TrimSpace(c.GetHeader("Accept")), "text/csv")
}

// exportPage is how many rows an export reads from the store at a time.
const exportPage = 500

// exportMatches handles GET /v1/matches.csv (and GET /v1/matches with
// Accept: text/csv): every match that passes the filters, best first, as
// CSV, read a page at a time. Explanations are left out: they quote the
// records.
func (s *Server) exportMatches(c *gin.Context) error {
	f, err := matchesFilter(c)
	if err != nil {
		return err
	}
	f.Limit = exportPage
	ctx := c.Request.Context()
	ms, next, err := s.matches.ListMatches(ctx, f)
	if err != nil {
		return err
	}
	w := startCSV(c, "matches.csv", []string{"id", "missing_id", "found_id", "probability", "score", "status",
		"decision", "decided_by", "decided_at", "note", "params_version", "created_at", "updated_at"})
	for {
		for _, m := range ms {
			row := []string{m.ID, m.MissingID, m.FoundID, formatFloat(m.Probability), formatFloat(m.Score),
				string(m.Status), "", "", "", "", strconv.Itoa(m.ParamsVersion), formatTime(m.CreatedAt), formatTime(m.UpdatedAt)}
			if d := m.Decision; d != nil {
				row[6], row[7], row[8], row[9] = string(d.Decision), d.By, formatTime(d.At), d.Note
			}
			w.row(row)
		}
		if next == "" || w.err != nil {
			break
		}
		f.Cursor = next
		if ms, next, err = s.matches.ListMatches(ctx, f); err != nil {
			return w.fail(err)
		}
	}
	return w.end()
}

// exportDecisions handles GET /v1/decisions.csv: the whole history of
// decisions (from since, when given), oldest first, as CSV.
func (s *Server) exportDecisions(c *gin.Context) error {
	var f models.DecisionFilter
	var err error
	if f.Since, err = querySince(c); err != nil {
		return err
	}
	f.Limit = exportPage
	ctx := c.Request.Context()
	ds, next, err := s.matches.ListDecisions(ctx, f)
	if err != nil {
		return err
	}
	w := startCSV(c, "decisions.csv", []string{"match_id", "missing_id", "found_id", "decision", "by", "at", "note"})
	for {
		for _, d := range ds {
			w.row([]string{d.MatchID, d.MissingID, d.FoundID, string(d.Decision.Decision), d.By, formatTime(d.At), d.Note})
		}
		if next == "" || w.err != nil {
			break
		}
		f.Cursor = next
		if ds, next, err = s.matches.ListDecisions(ctx, f); err != nil {
			return w.fail(err)
		}
	}
	return w.end()
}

// csvWriter streams CSV rows with every cell made safe to open in a
// spreadsheet (safeCell).
type csvWriter struct {
	c   *gin.Context
	w   *csv.Writer
	err error
}

// startCSV sends the CSV headers and the header row.
func startCSV(c *gin.Context, filename string, header []string) *csvWriter {
	c.Header("Content-Type", "text/csv; charset=utf-8")
	c.Header("Content-Disposition", fmt.Sprintf("attachment; filename=%q", filename))
	c.Status(http.StatusOK)
	w := &csvWriter{c: c, w: csv.NewWriter(c.Writer)}
	w.row(header)
	return w
}

func (w *csvWriter) row(cells []string) {
	if w.err != nil {
		return
	}
	for i := range cells {
		cells[i] = safeCell(cells[i])
	}
	w.err = w.w.Write(cells)
}

// end flushes the rows; the status is sent, so an error can only be logged
// by the caller's middleware as a failed write.
func (w *csvWriter) end() error {
	w.w.Flush()
	if err := w.w.Error(); err != nil && w.err == nil {
		w.err = err
	}
	if w.err != nil {
		_ = w.c.Error(fmt.Errorf("write csv: %w", w.err))
	}
	return nil
}

// fail ends an export that lost its source half-way: the rows sent stay,
// and a last line says the export is incomplete, so that a truncated file
// is never taken for a whole one.
func (w *csvWriter) fail(err error) error {
	w.row([]string{"# export incomplete"})
	_ = w.c.Error(fmt.Errorf("export: %w", err))
	return w.end()
}

// safeCell defuses a cell a spreadsheet would run as a formula: one that
// starts with =, +, -, @, a tab or a carriage return gets a leading
// apostrophe (OWASP's CSV injection advice). A plain number (a negative
// score) is left as it is: a spreadsheet reads it as a number.
func safeCell(v string) string {
	if _, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "nN") { // not NaN, Inf
		return v
	}
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339Nano)
}
