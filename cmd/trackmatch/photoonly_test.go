package main

// Records with only a photo: the found children who cannot say their own
// name come with nothing else. The 20 identities of ../shared/faces with
// two photos or more are registered twice through the API, once as a
// missing child and once as a found child, each with one photo (different
// photos), no names, no dates; a full re-score must put the true pairs in
// the review queue at a probability an investigator acts on, and no false
// pair there. Both face models run (dlib and MobileFaceNet, fused).

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/models"
)

// photoOnlyPairs returns, per identity of the shared adults' MANIFEST.csv
// with at least two one-face photos, its first two such photos in
// manifest order (different photos, not one photo at two resolutions).
func photoOnlyPairs(t *testing.T, dir string) map[string][2]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "MANIFEST.csv"))
	if err != nil {
		t.Skipf("no MANIFEST.csv in %s: %v", dir, err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string][]string{}
	for _, r := range rows[1:] {
		path, id, faces := r[0], r[1], r[2]
		if strings.HasPrefix(id, "_") || faces != "1" {
			continue
		}
		seen[id] = append(seen[id], filepath.Join(dir, path))
	}
	out := map[string][2]string{}
	for id, ps := range seen {
		if len(ps) >= 2 {
			out[id] = [2]string{ps[0], ps[1]}
		}
	}
	return out
}

func TestPhotoOnlyRecordsReachTheQueue(t *testing.T) {
	if testing.Short() {
		t.Skip("enrols 40 photos through the real pipeline")
	}
	dir := sharedDir(t, "faces")
	pairs := photoOnlyPairs(t, dir)
	if len(pairs) != 20 {
		t.Fatalf("%d identities with two photos in %s, want the 20 this test is about", len(pairs), dir)
	}
	s := startServer(t, serverOptions{Args: []string{"--face-models", "dlib,mobilefacenet"}})
	create := func(kind models.Kind, photo string) string {
		t.Helper()
		r := s.JSON(t, "POST", "/v1/children", portalKey, map[string]any{"kind": kind})
		if r.Status != http.StatusCreated {
			t.Fatalf("create %s: %d %s", kind, r.Status, r.Body)
		}
		var c models.Child
		r.JSON(t, &c)
		if r := s.Multipart(t, "POST", "/v1/children/"+c.ID+"/photos", portalKey, photoPart(t, photo)); r.Status != http.StatusCreated {
			t.Fatalf("photo %s: %d %s", filepath.Base(photo), r.Status, r.Body)
		}
		return c.ID
	}
	truth := map[string]string{} // match id -> identity
	who := map[string]string{}   // record id -> identity, for messages
	for id, ps := range pairs {
		m := create(models.KindMissing, ps[0])
		f := create(models.KindFound, ps[1])
		truth[models.MatchID(m, f)] = id
		who[m], who[f] = id, id
	}
	r := s.JSON(t, "POST", "/v1/jobs/rescore", adminKey, map[string]bool{"full": true})
	if r.Status != http.StatusAccepted {
		t.Fatalf("start re-score: %d %s", r.Status, r.Body)
	}
	var started struct {
		JobID string `json:"job_id"`
	}
	r.JSON(t, &started)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		var j models.Job
		s.JSON(t, "GET", "/v1/jobs/"+started.JobID, adminKey, nil).JSON(t, &j)
		if j.State.Finished() {
			if j.State != models.JobDone {
				t.Fatalf("job ended %+v", j)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("job not done after 3 minutes: %+v", j)
		}
		time.Sleep(100 * time.Millisecond)
	}
	r = s.JSON(t, "GET", "/v1/matches?limit=200", investigatorKey, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("review queue: %d %s", r.Status, r.Body)
	}
	var page struct{ Matches []models.Match }
	r.JSON(t, &page)
	// Every pair the re-score kept, false ones included, for the log: what
	// separates the true pairs from a look-alike is in both distances.
	r = s.JSON(t, "GET", "/v1/matches?limit=200&min_probability=0", investigatorKey, nil)
	var all struct{ Matches []models.Match }
	r.JSON(t, &all)
	for _, m := range all.Matches {
		if _, ok := truth[m.ID]; !ok && m.Probability >= 0.01 {
			t.Logf("false pair: missing %s, found %s: p %.2f, %.1f bits; %s", who[m.MissingID], who[m.FoundID], m.Probability, m.Score, faceDetail(m))
		}
	}
	var truePairs, falsePairs []string
	for _, m := range page.Matches {
		_, isTrue := truth[m.ID]
		if m.Queue == "" || m.QueueDetail == "" {
			t.Errorf("match %s (p %.2f) in the queue without a reason", m.ID, m.Probability)
		}
		t.Logf("queue: missing %s, found %s: p %.2f, %.1f bits; %s; %s", who[m.MissingID], who[m.FoundID], m.Probability, m.Score, faceDetail(m), m.QueueDetail)
		if m.Probability < 0.5 {
			continue
		}
		if isTrue {
			truePairs = append(truePairs, who[m.MissingID])
			continue
		}
		falsePairs = append(falsePairs, fmt.Sprintf("missing %s, found %s: p %.2f; %s", who[m.MissingID], who[m.FoundID], m.Probability, faceDetail(m)))
	}
	// Issue 16's goal. With dlib alone (--face-models dlib) the set gives
	// 14 true pairs and one false one, chaeyeon.jpg against tzuyu2.jpg, the
	// closest two people of the set to dlib (0.32); MobileFaceNet tells
	// them apart, and the pair drops below p 0.01.
	t.Logf("%d of 20 true pairs at p >= 0.5 (%v); false pairs at p >= 0.5: %v; %d queue items", len(truePairs), truePairs, falsePairs, len(page.Matches))
	if len(truePairs) < 16 {
		t.Errorf("%d true pairs in the queue at p >= 0.5, want at least 16 of 20", len(truePairs))
	}
	for _, f := range falsePairs {
		t.Errorf("false pair at p >= 0.5: %s", f)
	}
}

// faceDetail returns a match's face explanation (both models' distances).
func faceDetail(m models.Match) string {
	for _, c := range m.Explanation {
		if c.Field == "face" {
			return c.Detail
		}
	}
	return "no face explanation"
}
