package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/trackmatch/trackmatch/models"
)

// healthz handles GET /healthz: 200 while the process serves.
func (s *Server) healthz(c *gin.Context) error {
	c.JSON(http.StatusOK, statusView{Status: "ok"})
	return nil
}

// readyz handles GET /readyz: 200 once Ready reports nil, else 503 with
// Ready's reason.
func (s *Server) readyz(c *gin.Context) error {
	if err := s.ready(); err != nil {
		return models.Errorf(models.EUNAVAILABLE, "not ready: %v", err)
	}
	c.JSON(http.StatusOK, statusView{Status: "ready"})
	return nil
}

// openAPIDoc handles GET /openapi.json.
func (s *Server) openAPIDoc(c *gin.Context) error {
	c.Data(http.StatusOK, "application/json", s.openapi)
	return nil
}
