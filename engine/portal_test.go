package engine_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// The same bytes uploaded twice to a record return the stored photo and
// store nothing new; to another record they are a photo of their own.
func TestAddPhotoSameBytesReturnsStoredPhoto(t *testing.T) {
	ctx := context.Background()
	svc, _ := faceService(t, index.NewVectorIndex())
	a, _, _ := svc.CreateChild(ctx, &models.Child{Kind: models.KindMissing, Names: []string{"Asha"}})
	b, _, _ := svc.CreateChild(ctx, &models.Child{Kind: models.KindMissing, Names: []string{"Usha"}})
	data := descriptorPhoto(models.Descriptor{0.1, 0.2})
	first, err := svc.AddPhoto(ctx, a.ID, data)
	if err != nil || first.Existing {
		t.Fatalf("first upload: %+v %v", first, err)
	}
	again, err := svc.AddPhoto(ctx, a.ID, data)
	if err != nil || !again.Existing || again.ID != first.ID || again.SHA256 != first.SHA256 {
		t.Fatalf("second upload: %+v %v, want photo %s marked existing", again, err, first.ID)
	}
	if c, _ := svc.GetChild(ctx, a.ID); len(c.Photos) != 1 {
		t.Errorf("record holds %d photos, want 1", len(c.Photos))
	}
	other, err := svc.AddPhoto(ctx, b.ID, data)
	if err != nil || other.Existing || other.ID == first.ID {
		t.Errorf("same bytes on another record: %+v %v, want a new photo", other, err)
	}
}

// Deleting a photo takes its face out of the vector index and scores the
// record's matches again without it: an undecided match that falls below
// the threshold goes, a decided one stays with its decision.
func TestDeletePhotoRescoresMatches(t *testing.T) {
	ctx := context.Background()
	vi := index.NewVectorIndex()
	svc, st := faceService(t, vi)
	face := models.Descriptor{0.3, -0.2, 0.1}
	found, _, _ := svc.CreateChild(ctx, &models.Child{Kind: models.KindFound, Names: []string{"Amita Sharma"}, Sex: models.SexFemale})
	named, _, _ := svc.CreateChild(ctx, &models.Child{Kind: models.KindMissing, Names: []string{"Amita Sharma"}, Sex: models.SexFemale})
	faceOnly, _, _ := svc.CreateChild(ctx, &models.Child{Kind: models.KindMissing, Sex: models.SexFemale})
	// A gallery of one makes any pair likely; boys who match no one make it real.
	for i := range 30 {
		if _, _, err := svc.CreateChild(ctx, &models.Child{Kind: models.KindFound, Names: []string{fmt.Sprintf("Ravi %d", i)}, Sex: models.SexMale}); err != nil {
			t.Fatal(err)
		}
	}
	p, err := svc.AddPhoto(ctx, found.ID, descriptorPhoto(face))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []*models.Child{named, faceOnly} {
		if _, err := svc.AddPhoto(ctx, c.ID, descriptorPhoto(face)); err != nil {
			t.Fatal(err)
		}
	}
	cands, err := svc.Candidates(ctx, faceOnly.ID, 5)
	if err != nil || len(cands) == 0 || cands[0].ID != found.ID || cands[0].Probability < 0.2 {
		t.Fatalf("face-only candidates before: %+v %v", cands, err)
	}
	namedID, faceID := models.MatchID(named.ID, found.ID), models.MatchID(faceOnly.ID, found.ID)
	decided := &models.Decision{Decision: models.MatchConfirmed, By: "k", At: named.CreatedAt}
	for _, m := range []models.Match{
		{MissingID: named.ID, FoundID: found.ID, Probability: 0.99, Status: models.MatchConfirmed, Decision: decided},
		{MissingID: faceOnly.ID, FoundID: found.ID, Probability: cands[0].Probability, Status: models.MatchNew},
	} {
		if err := st.PutMatch(ctx, m); err != nil {
			t.Fatal(err)
		}
	}

	if err := svc.DeletePhoto(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	hits, err := vi.Search(ctx, models.FaceQuery{Descriptors: []models.Descriptor{face}}, models.KindFound, 10)
	if err != nil || len(hits) != 0 {
		t.Errorf("the vector index still finds %+v (%v)", hits, err)
	}
	c, _ := svc.GetChild(ctx, found.ID)
	if len(c.Photos) != 0 || c.UpdatedAt.Before(p.CreatedAt) {
		t.Errorf("record after delete: %d photos, updated %v", len(c.Photos), c.UpdatedAt)
	}
	if _, err := st.GetMatch(ctx, faceID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("the undecided face-only match is still stored: %v", err)
	}
	m, err := st.GetMatch(ctx, namedID)
	if err != nil || m.Status != models.MatchConfirmed || m.Decision == nil || m.Probability >= 0.99 || m.InputsHash == "" {
		t.Errorf("the decided match: %+v %v; want it kept, confirmed, re-scored", m, err)
	}
	if _, err := st.GetPhoto(ctx, p.ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("photo after delete: %v", err)
	}
	if err := svc.DeletePhoto(ctx, p.ID); models.ErrorCode(err) != models.ENOTFOUND {
		t.Errorf("delete again: %v, want not found", err)
	}
}
