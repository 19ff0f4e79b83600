package api

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/trackmatch/trackmatch/models"
)

// ctxKeyAuditTarget is where a handler names the record, match or job it
// created (the path's :id is the target otherwise).
const ctxKeyAuditTarget = "trackmatch.audit_target"

// auditTimeout bounds one audit write; the write outlives a client that
// hung up, since what it did still happened.
const auditTimeout = 5 * time.Second

// setAuditTarget names the id a request created, for its audit entry.
func setAuditTarget(c *gin.Context, id string) { c.Set(ctxKeyAuditTarget, id) }

// auditTrail appends one audit entry for every authenticated /v1 request
// that passed the rate limit, refused (403) or not, once the handler has
// answered: key id, role, action, target id, route template, status, time.
// It records no names, bodies or photos. A failed write is logged and
// counted; the client's answer is already sent.
func (s *Server) auditTrail(action string) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			v := recover()
			status := c.Writer.Status()
			if v != nil {
				status = http.StatusInternalServerError // recoverPanics, further out, will answer 500
			}
			s.appendAudit(c, action, status)
			if v != nil {
				panic(v)
			}
		}()
		c.Next()
	}
}

func (s *Server) appendAudit(c *gin.Context, action string, status int) {
	target := c.GetString(ctxKeyAuditTarget)
	if target == "" {
		target, _ = pathID(c, "")
	}
	e := models.AuditEntry{
		At:     s.now().UTC(),
		KeyID:  callerKeyID(c),
		Role:   c.GetString(ctxKeyRole),
		Action: action,
		Target: target,
		Route:  c.FullPath(),
		Status: status,
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), auditTimeout)
	defer cancel()
	if _, err := s.audit.AppendAudit(ctx, e); err != nil {
		s.metrics.auditFailures.Inc()
		s.log.ErrorContext(ctx, "audit write failed",
			slog.String("route", e.Route), slog.String("request_id", c.GetString(ctxKeyRequestID)),
			slog.String("error", err.Error()))
	}
}

// listAudit handles GET /v1/audit?since&limit&cursor: entries oldest
// first, from since when given.
func (s *Server) listAudit(c *gin.Context) error {
	limit, err := queryLimit(c, auditLimit())
	if err != nil {
		return err
	}
	cursor, err := queryCursor(c)
	if err != nil {
		return err
	}
	since, err := querySince(c)
	if err != nil {
		return err
	}
	entries, next, err := s.audit.ListAudit(c.Request.Context(), since, limit, cursor)
	if err != nil {
		return pageError(err, cursor)
	}
	c.JSON(http.StatusOK, auditView{Entries: nonNil(entries), NextCursor: next})
	return nil
}
