package api

import (
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/trackmatch/trackmatch/models"
)

// createChild handles POST /v1/children: 201 with the new record, or 200
// with the stored one when (kind, external_ref) is already known.
func (s *Server) createChild(c *gin.Context) error {
	var in childInput
	if err := s.bindJSON(c, &in, false); err != nil {
		return err
	}
	child := in.Child()
	if err := child.Validate(s.now()); err != nil {
		return err
	}
	got, created, err := s.children.CreateChild(c.Request.Context(), child)
	if err != nil {
		return err
	}
	setAuditTarget(c, got.ID)
	status := http.StatusOK
	if created {
		status = http.StatusCreated
		c.Header("Location", "/v1/children/"+url.PathEscape(got.ID))
	}
	c.JSON(status, newChildView(got))
	return nil
}

// getChild handles GET /v1/children/:id.
func (s *Server) getChild(c *gin.Context) error {
	id, err := pathID(c, "record")
	if err != nil {
		return err
	}
	got, err := s.children.GetChild(c.Request.Context(), id)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, newChildView(got))
	return nil
}

// updateChild handles PUT /v1/children/:id: the body replaces every
// editable field. The kind must be the stored one: the service refuses a
// change (models.ECONFLICT, 409 through statusByCode).
func (s *Server) updateChild(c *gin.Context) error {
	id, err := pathID(c, "record")
	if err != nil {
		return err
	}
	var in childInput
	if err := s.bindJSON(c, &in, false); err != nil {
		return err
	}
	child := in.Child()
	if err := child.Validate(s.now()); err != nil {
		return err
	}
	child.ID = id
	got, err := s.children.UpdateChild(c.Request.Context(), id, child)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, newChildView(got))
	return nil
}

// deleteChild handles DELETE /v1/children/:id.
func (s *Server) deleteChild(c *gin.Context) error {
	id, err := pathID(c, "record")
	if err != nil {
		return err
	}
	if err := s.children.DeleteChild(c.Request.Context(), id); err != nil {
		return err
	}
	c.Status(http.StatusNoContent)
	return nil
}

// addPhoto handles POST /v1/children/:id/photos: one multipart part named
// "photo". The body is read against the photo-bytes budget, then the photo
// waits for an embedding slot (capacity.go).
func (s *Server) addPhoto(c *gin.Context) error {
	id, err := pathID(c, "record")
	if err != nil {
		return err
	}
	budget := s.startPhotoRead(c)
	defer budget.release()
	c.Request.Body = budget.body(c.Request.Body)
	mr, err := multipartBody(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	var photo []byte
	seen := false
	for {
		p, err := nextPart(mr)
		if err != nil {
			return err
		}
		if p == nil {
			break
		}
		if p.FormName() != "photo" {
			return badRequest("unexpected part %s; send one part named \"photo\"", partName(p))
		}
		if seen {
			return badRequest("send exactly one part named \"photo\"")
		}
		seen = true
		if photo, err = readPhoto(p, s.cfg.MaxPhotoBytes, "the photo"); err != nil {
			return err
		}
	}
	if !seen {
		return badRequest("missing part \"photo\"")
	}
	if len(photo) == 0 {
		return badRequest("the photo part is empty")
	}
	release, err := s.acquireEmbed(c)
	if err != nil {
		return err
	}
	defer release()
	ph, err := s.children.AddPhoto(ctx, id, photo)
	if err != nil {
		return err
	}
	status := http.StatusCreated
	if ph.Existing {
		status = http.StatusOK // the same bytes are already stored with this record
	}
	c.JSON(status, photoUploadView{
		PhotoID: ph.ID, ChildID: ph.ChildID, Faces: newFaceViews(ph.Faces), Subject: ph.Subject,
	})
	return nil
}

// getPhoto handles GET /v1/photos/:id: the original bytes. Only image
// types are served as such; anything else goes out as octet-stream so a
// browser never renders it.
func (s *Server) getPhoto(c *gin.Context) error {
	id, err := pathID(c, "photo")
	if err != nil {
		return err
	}
	data, ct, err := s.children.PhotoBytes(c.Request.Context(), id)
	if err != nil {
		return err
	}
	if media, _, err := mime.ParseMediaType(ct); err != nil || !strings.HasPrefix(media, "image/") || media == "image/svg+xml" {
		ct = "application/octet-stream"
	}
	c.Header("Content-Disposition", "inline")
	c.Data(http.StatusOK, ct, data)
	return nil
}

// candidates handles GET /v1/children/:id/candidates.
func (s *Server) candidates(c *gin.Context) error {
	id, err := pathID(c, "record")
	if err != nil {
		return err
	}
	limit, err := queryLimit(c, candidatesLimit())
	if err != nil {
		return err
	}
	cs, err := s.children.Candidates(c.Request.Context(), id, limit)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, newCandidatesView(cs, callerRole(c)))
	return nil
}

// search handles POST /v1/search: part "query" is a JSON record whose kind
// is the query child's side (names and other fields optional, so a photo
// search with only filters works), plus zero or more "photo" parts. It
// stores nothing. The body is read against the photo-bytes budget; a
// search with photos then waits for an embedding slot (capacity.go).
func (s *Server) search(c *gin.Context) error {
	limit, err := queryLimit(c, candidatesLimit())
	if err != nil {
		return err
	}
	budget := s.startPhotoRead(c)
	defer budget.release()
	c.Request.Body = budget.body(c.Request.Body)
	mr, err := multipartBody(c)
	if err != nil {
		return err
	}
	ctx := c.Request.Context()
	var (
		query  *models.Child
		photos [][]byte
		total  int64
	)
	for {
		p, err := nextPart(mr)
		if err != nil {
			return err
		}
		if p == nil {
			break
		}
		switch p.FormName() {
		case "query":
			if query != nil {
				return badRequest("send exactly one part named \"query\"")
			}
			data, err := readLimited(p, s.cfg.MaxJSONBytes, "the query part")
			if err != nil {
				return err
			}
			var in childInput
			if err := decodeStrict(data, &in); err != nil {
				return err
			}
			query = in.Child()
			if err := query.Validate(s.now()); err != nil {
				return err
			}
		case "photo":
			if len(photos) == s.cfg.MaxPhotosPerSearch {
				return models.Errorf(models.ETOOLARGE, "at most %d photos per search", s.cfg.MaxPhotosPerSearch)
			}
			data, err := readPhoto(p, s.cfg.MaxPhotoBytes, "a photo")
			if err != nil {
				return err
			}
			if len(data) == 0 {
				return badRequest("a photo part is empty")
			}
			if total += int64(len(data)); total > s.cfg.MaxSearchBytes {
				return models.Errorf(models.ETOOLARGE, "the photos of one search are over the limit of %d bytes together", s.cfg.MaxSearchBytes)
			}
			photos = append(photos, data)
		default:
			return badRequest("unexpected part %s; send \"query\" and \"photo\" parts", partName(p))
		}
	}
	if query == nil {
		return badRequest("missing part \"query\" (a JSON record with at least its kind)")
	}
	if len(photos) > 0 {
		release, err := s.acquireEmbed(c)
		if err != nil {
			return err
		}
		defer release()
	}
	cs, err := s.children.Search(ctx, query, photos, limit)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, newCandidatesView(cs, callerRole(c)))
	return nil
}
