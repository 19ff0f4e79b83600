package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trackmatch/trackmatch/models"
)

// listMatches handles GET /v1/matches?status&min_probability&limit&cursor;
// with Accept: text/csv it is the CSV export (exportMatches).
func (s *Server) listMatches(c *gin.Context) error {
	if wantsCSV(c) {
		return s.exportMatches(c)
	}
	f, err := matchesFilter(c)
	if err != nil {
		return err
	}
	if f.Limit, err = queryLimit(c, matchesLimit()); err != nil {
		return err
	}
	if f.Cursor, err = queryCursor(c); err != nil {
		return err
	}
	ms, next, err := s.matches.ListMatches(c.Request.Context(), f)
	if err != nil {
		return pageError(err, f.Cursor)
	}
	for i := range ms {
		ms[i].Explanation = explanationFor(ms[i].Explanation, callerRole(c))
	}
	c.JSON(http.StatusOK, matchesView{Matches: nonNil(ms), NextCursor: next})
	return nil
}

// decideMatch handles POST /v1/matches/:id/decision. The decision is
// recorded as made by the calling key's id, now.
func (s *Server) decideMatch(c *gin.Context) error {
	id, err := pathID(c, "match")
	if err != nil {
		return err
	}
	var in decisionInput
	if err := s.bindJSON(c, &in, false); err != nil {
		return err
	}
	if err := validateDecision(in, s.now()); err != nil {
		return err
	}
	m, err := s.matches.DecideMatch(c.Request.Context(), id, models.Decision{
		Decision: in.Decision, Note: in.Note, By: callerKeyID(c), At: s.now().UTC(),
	})
	if err != nil {
		return err
	}
	m.Explanation = explanationFor(m.Explanation, callerRole(c))
	c.JSON(http.StatusOK, m)
	return nil
}

// validateDecision checks the decision is confirmed or rejected and the
// note is text a reviewer can trust. The note is checked by the record's
// own notes rule (models.Child.Validate) so there is one text rule.
func validateDecision(in decisionInput, now time.Time) error {
	var fe []models.FieldError
	if in.Decision != models.MatchConfirmed && in.Decision != models.MatchRejected {
		fe = append(fe, models.FieldError{Field: "decision", Message: `must be "confirmed" or "rejected"`})
	}
	probe := models.Child{Kind: models.KindMissing, Notes: in.Note}
	for _, f := range models.ErrorFields(probe.Validate(now)) {
		if f.Field == "notes" {
			fe = append(fe, models.FieldError{Field: "note", Message: f.Message})
		}
	}
	if len(fe) == 0 {
		return nil
	}
	return &models.Error{Code: models.EINVALID, Message: "the decision has invalid fields", Fields: fe}
}
