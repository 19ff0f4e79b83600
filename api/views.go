package api

import "github.com/trackmatch/trackmatch/models"

// The types here are the API's request and response bodies. The OpenAPI
// schemas are generated from them, so what a handler writes is what the
// document describes. In request types, omitempty marks a field optional
// in the schema; a field without it is required.

// childInput is the editable part of a record, as a client sends it to
// POST and PUT /v1/children (models.ChildInput, shared with bulk import).
type childInput = models.ChildInput

// childView is a record as the API returns it: the record with its photos,
// whose faces carry no descriptors.
type childView struct {
	*models.Child
	Photos []photoView `json:"photos"`
}

func newChildView(c *models.Child) childView {
	v := childView{Child: c, Photos: make([]photoView, len(c.Photos))}
	for i := range c.Photos {
		v.Photos[i] = newPhotoView(&c.Photos[i])
	}
	return v
}

// photoView is a photo's metadata and faces, without descriptors.
type photoView struct {
	*models.Photo
	Faces []faceView `json:"faces"`
}

func newPhotoView(p *models.Photo) photoView {
	return photoView{Photo: p, Faces: newFaceViews(p.Faces)}
}

// faceView is a face without its descriptor: an embedding is biometric data
// and of no use to a client.
type faceView struct {
	Box       [4]int             `json:"box"` // x, y, w, h in pixels of the EXIF-rotated original
	Landmarks []models.Point     `json:"landmarks,omitempty"`
	Quality   models.FaceQuality `json:"quality"`
}

func newFaceViews(faces []models.Face) []faceView {
	out := make([]faceView, len(faces))
	for i, f := range faces {
		out[i] = faceView{Box: f.Box, Landmarks: f.Landmarks, Quality: f.Quality}
	}
	return out
}

// photoUploadView answers a photo upload.
type photoUploadView struct {
	PhotoID string     `json:"photo_id"`
	ChildID string     `json:"child_id"`
	Faces   []faceView `json:"faces"`
	Subject int        `json:"subject"` // index into faces of the child's face; -1 when none
}

// candidatesView answers a candidates query or a search, best first.
type candidatesView struct {
	Candidates []models.Candidate `json:"candidates"`
}

// newCandidatesView shows cs to a caller of role r. A role that may not
// read records (Role.readsRecords) sees each field's level, weight and
// summary, but not its detail, which quotes the other child's names,
// marks and places.
func newCandidatesView(cs []models.Candidate, r Role) candidatesView {
	out := make([]models.Candidate, len(cs))
	for i, c := range cs {
		c.Explanation = explanationFor(c.Explanation, r)
		out[i] = c
	}
	return candidatesView{Candidates: out}
}

// explanationFor is the explanation a caller of role r may see: all of it
// for a role that reads records, without details for any other. It copies,
// never changing es.
func explanationFor(es []models.Contribution, r Role) []models.Contribution {
	out := make([]models.Contribution, len(es))
	copy(out, es)
	if !r.readsRecords() {
		for i := range out {
			out[i].Detail = ""
		}
	}
	return out
}

// matchesView is one page of the review queue; next_cursor is "" on the
// last page.
type matchesView struct {
	Matches    []models.Match `json:"matches"`
	NextCursor string         `json:"next_cursor"`
}

// decisionInput is an investigator's decision on a match.
type decisionInput struct {
	Decision models.MatchStatus `json:"decision"`
	Note     string             `json:"note,omitempty"`
}

// rescoreInput is the optional body of POST /v1/jobs/rescore.
type rescoreInput struct {
	Full bool `json:"full,omitempty"`
}

// jobStartedView answers POST /v1/jobs/rescore.
type jobStartedView struct {
	JobID string `json:"job_id"`
}

// auditView is one page of the audit trail; next_cursor is "" on the last.
type auditView struct {
	Entries    []models.AuditEntry `json:"entries"`
	NextCursor string              `json:"next_cursor"`
}

// statusView answers /healthz and /readyz.
type statusView struct {
	Status string `json:"status"`
}

// nonNil returns s, or an empty slice for nil, so that lists encode as [].
func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
