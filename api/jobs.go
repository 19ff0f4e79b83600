package api

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// startRescore handles POST /v1/jobs/rescore with an optional {"full": bool}:
// 202 with the job id, and a Location to poll.
func (s *Server) startRescore(c *gin.Context) error {
	var in rescoreInput
	if err := s.bindJSON(c, &in, true); err != nil {
		return err
	}
	job, err := s.jobs.StartRescore(c.Request.Context(), in.Full)
	if err != nil {
		return err
	}
	setAuditTarget(c, job.ID)
	c.Header("Location", "/v1/jobs/"+url.PathEscape(job.ID))
	c.JSON(http.StatusAccepted, jobStartedView{JobID: job.ID})
	return nil
}

// getJob handles GET /v1/jobs/:id.
func (s *Server) getJob(c *gin.Context) error {
	id, err := pathID(c, "job")
	if err != nil {
		return err
	}
	job, err := s.jobs.GetJob(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, job)
	return nil
}

// cancelJob handles POST /v1/jobs/:id/cancel and returns the job.
func (s *Server) cancelJob(c *gin.Context) error {
	id, err := pathID(c, "job")
	if err != nil {
		return err
	}
	job, err := s.jobs.CancelJob(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, job)
	return nil
}
