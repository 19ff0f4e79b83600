package main

// `trackmatch rescore` killed with SIGKILL mid-run and run again: the job
// continues from its checkpoint and ends with what an uninterrupted run on
// a copy of the same data ends with.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/benchmarks/synth"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// rescorePopulate writes pairs true missing/found pairs and extra records
// of each kind without a counterpart straight into the store under data,
// each with one photo of a synthetic face, and returns the true pairs'
// match ids.
func rescorePopulate(t *testing.T, data string, pairs, extra int) map[string]bool {
	t.Helper()
	st, err := index.Open(filepath.Join(data, "badger"), index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	g := synth.New(11, synth.Config{IDPrefix: "p"})
	gm := synth.New(12, synth.Config{IDPrefix: "m", MissingShare: 1})
	gf := synth.New(13, synth.Config{IDPrefix: "f", MissingShare: 1e-9})
	faces := synth.NewFaces(14, synth.ChildFaces())
	type rec struct {
		c models.Child
		d models.Descriptor
	}
	var recs []rec
	truth := map[string]bool{}
	// Shuffled ids spread the true pairs over the id order the job follows.
	perm := rand.New(rand.NewPCG(15, 16)).Perm(2 * (pairs + extra))
	newID := func() string {
		id := fmt.Sprintf("c%07d", perm[0])
		perm = perm[1:]
		return id
	}
	for range pairs {
		m, f := g.Pair()
		m.ID, f.ID = newID(), newID()
		id := faces.Identity()
		mt, _ := m.ObservedOn.Time()
		ft, _ := f.ObservedOn.Time()
		recs = append(recs, rec{m, faces.Photo(id, 0)}, rec{f, faces.Photo(id, ft.Sub(mt).Hours()/24/365.25)})
		truth[models.MatchID(m.ID, f.ID)] = true
	}
	for range extra {
		m, f := gm.Next(), gf.Next()
		m.ID, f.ID = newID(), newID()
		recs = append(recs, rec{m, faces.Photo(faces.Identity(), 0)}, rec{f, faces.Photo(faces.Identity(), 0)})
	}
	// Many writers at once: Badger syncs their commits together.
	work := make(chan *rec)
	errs := make(chan error, 32)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for r := range work {
				ctx := context.Background()
				if err := st.PutChild(ctx, r.c); err != nil {
					errs <- err
					return
				}
				if err := st.PutPhoto(ctx, synth.FacePhoto(&r.c, r.c.ID+"x", r.d), []byte("jpeg")); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	for i := range recs {
		work <- &recs[i]
	}
	close(work)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	return truth
}

// rescoreState is what a data folder holds after a run.
type rescoreState struct {
	jobs    []models.Job
	matches map[string]models.Match
}

func readRescoreState(t *testing.T, data string) rescoreState {
	t.Helper()
	st, err := index.Open(filepath.Join(data, "badger"), index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	s := rescoreState{matches: map[string]models.Match{}}
	if s.jobs, err = st.ListJobs(ctx, 0); err != nil {
		t.Fatal(err)
	}
	cursor := ""
	for {
		ms, next, err := st.ListMatches(ctx, models.MatchFilter{Limit: index.MaxPageSize, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			s.matches[m.ID] = m
		}
		if next == "" {
			return s
		}
		cursor = next
	}
}

// rescoreCmd is `trackmatch rescore` on data, checkpointing every 20 children.
func rescoreCmd(t *testing.T, data string, args ...string) *exec.Cmd {
	cmd := exec.Command(binary(t), append([]string{"rescore", "--data", data, "--models", modelsDir(t), "--workers", "1", "--quiet"}, args...)...)
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1", "TRACKMATCH_RESCORE_CHECKPOINT=20", "TRACKMATCH_LOG=debug")
	return cmd
}

// rescoreRun runs the command to its end and returns the job it printed.
func rescoreRun(t *testing.T, data string) (models.Job, string) {
	t.Helper()
	cmd := rescoreCmd(t, data)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("rescore: %v\n%s", err, tail(stderr.String()))
	}
	var j models.Job
	if err := json.Unmarshal(stdout.Bytes(), &j); err != nil {
		t.Fatalf("rescore printed %q: %v", stdout.String(), err)
	}
	return j, stderr.String()
}

func tail(s string) string {
	if len(s) > 3000 {
		return "..." + s[len(s)-3000:]
	}
	return s
}

func TestRescoreKillAndResume(t *testing.T) {
	modelsDir(t)
	data, ref := t.TempDir(), t.TempDir()
	truth := rescorePopulate(t, data, 150, 1350) // 1500 missing, 1500 found
	if err := os.CopyFS(ref, os.DirFS(data)); err != nil {
		t.Fatal(err)
	}

	// Run until a quarter of the missing children are checkpointed, then kill.
	cmd := rescoreCmd(t, data)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	killedAt := -1
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		log.WriteString(line + "\n")
		var e struct {
			Msg              string
			Processed, Total int
		}
		if json.Unmarshal([]byte(line), &e) == nil && e.Msg == "re-scoring checkpoint" && e.Processed >= e.Total/4 {
			cmd.Process.Kill()
			killedAt = e.Processed
			break
		}
	}
	go io.Copy(io.Discard, stderr)
	cmd.Wait()
	if killedAt < 0 {
		t.Fatalf("the run ended before a quarter was checkpointed:\n%s", tail(log.String()))
	}
	killed := readRescoreState(t, data)
	if len(killed.jobs) != 1 {
		t.Fatalf("%d jobs after the kill, want 1", len(killed.jobs))
	}
	kj := killed.jobs[0]
	t.Logf("killed after checkpoint %d: stored job %s processed %d/%d, %d matches", killedAt, kj.State,
		kj.Processed, kj.Total, len(killed.matches))
	if kj.State != models.JobRunning || kj.Checkpoint == "" || kj.Processed < killedAt || kj.Processed >= kj.Total {
		t.Fatalf("job after the kill: %+v", kj)
	}

	// Run again: the same job continues from its checkpoint.
	start := time.Now()
	j, errText := rescoreRun(t, data)
	t.Logf("resumed run: %s, job %+v", time.Since(start).Round(time.Millisecond), *j.Summary)
	if want := fmt.Sprintf("continuing job %s from %d of %d", kj.ID, kj.Processed, kj.Total); !strings.Contains(errText, want) {
		t.Errorf("second run did not say %q:\n%s", want, tail(errText))
	}
	if j.ID != kj.ID || j.State != models.JobDone || j.Processed != j.Total || j.Total != 1500 {
		t.Errorf("resumed job: %+v", j)
	}
	resumed := readRescoreState(t, data)
	for id, m := range killed.matches {
		if _, ok := resumed.matches[id]; !ok {
			t.Errorf("match %s (p=%.3f) written before the kill is gone", id, m.Probability)
		}
	}

	// An uninterrupted run on the copy ends the same: each pair scored once.
	rj, _ := rescoreRun(t, ref)
	reference := readRescoreState(t, ref)
	t.Logf("reference run: %+v; %d matches, %d of %d true pairs", *rj.Summary, len(reference.matches),
		countTrue(reference.matches, truth), len(truth))
	if j.Summary.PairsScored != rj.Summary.PairsScored {
		t.Errorf("resumed job scored %d pairs, an uninterrupted one %d", j.Summary.PairsScored, rj.Summary.PairsScored)
	}
	if len(resumed.matches) != len(reference.matches) {
		t.Errorf("resumed job left %d matches, an uninterrupted one %d", len(resumed.matches), len(reference.matches))
	}
	// Same pairs, same weights; probabilities within 5%: each weighs its
	// pair against the child's other candidates and the estimated match
	// rate, and the attribute index may break ties at the end of a
	// candidate pool differently from one run to the next.
	for id, m := range reference.matches {
		r, ok := resumed.matches[id]
		if !ok || r.Score != m.Score || math.Abs(r.Probability-m.Probability) > 0.05*m.Probability {
			t.Errorf("match %s: resumed %v (p=%v, weight %v), reference p=%v, weight %v", id, ok, r.Probability, r.Score, m.Probability, m.Score)
		}
	}
	if countTrue(reference.matches, truth) == 0 {
		t.Error("no true pair among the matches")
	}
}

func countTrue(ms map[string]models.Match, truth map[string]bool) int {
	n := 0
	for id := range ms {
		if truth[id] {
			n++
		}
	}
	return n
}

// TestServeRescoreJob drives a job over HTTP: one at a time, progress on
// GET, SIGKILL of the server mid-job, and the job continuing from its
// checkpoint when the server starts again.
func TestServeRescoreJob(t *testing.T) {
	data := t.TempDir()
	rescorePopulate(t, data, 80, 720) // 800 missing, 800 found
	s := startServer(t, serverOptions{Data: data, Env: []string{"TRACKMATCH_RESCORE_CHECKPOINT=10"}})
	r := s.JSON(t, "POST", "/v1/jobs/rescore", adminKey, nil)
	if r.Status != http.StatusAccepted {
		t.Fatalf("start: %d %s", r.Status, r.Body)
	}
	var started struct {
		JobID string `json:"job_id"`
	}
	r.JSON(t, &started)
	if loc := r.Header.Get("Location"); loc != "/v1/jobs/"+started.JobID {
		t.Errorf("Location %q", loc)
	}
	if r := s.JSON(t, "POST", "/v1/jobs/rescore", adminKey, map[string]bool{"full": true}); r.Status != http.StatusConflict {
		t.Errorf("second job while one runs: %d %s, want 409", r.Status, r.Body)
	}
	if r := s.JSON(t, "POST", "/v1/jobs/rescore", investigatorKey, nil); r.Status != http.StatusForbidden {
		t.Errorf("investigator starting a job: %d, want 403", r.Status)
	}
	get := func() models.Job {
		t.Helper()
		r := s.JSON(t, "GET", "/v1/jobs/"+started.JobID, adminKey, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("get job: %d %s", r.Status, r.Body)
		}
		var j models.Job
		r.JSON(t, &j)
		return j
	}
	var j models.Job
	deadline := time.Now().Add(5 * time.Minute)
	for j = get(); j.Processed < j.Total/4 || j.Total == 0; j = get() {
		if j.State.Finished() || time.Now().After(deadline) {
			t.Fatalf("job %s before a quarter: %+v", j.State, j)
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.Kill()
	t.Logf("killed at %d/%d", j.Processed, j.Total)
	s.start(modelsDir(t))
	resumed := get()
	t.Logf("after the restart: %s %d/%d", resumed.State, resumed.Processed, resumed.Total)
	if resumed.State != models.JobRunning || resumed.Processed < j.Processed-10 {
		t.Errorf("after the restart the job is %s at %d, killed at %d (checkpoint every 10)", resumed.State,
			resumed.Processed, j.Processed)
	}
	for j = get(); !j.State.Finished(); j = get() {
		if time.Now().After(deadline) {
			t.Fatalf("job not done in time: %+v", j)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if j.State != models.JobDone || j.Processed != 800 || j.Total != 800 || j.Summary == nil || j.Summary.MatchesNew == 0 {
		t.Fatalf("job ended %+v", j)
	}
	r = s.JSON(t, "GET", "/v1/matches?status=new&limit=5", investigatorKey, nil)
	var page struct{ Matches []models.Match }
	r.JSON(t, &page)
	if len(page.Matches) == 0 || page.Matches[0].ParamsVersion != 1 || len(page.Matches[0].Explanation) == 0 {
		t.Errorf("review queue after the job: %s", r.Body)
	}
	if r := s.JSON(t, "POST", "/v1/jobs/"+started.JobID+"/cancel", adminKey, nil); r.Status != http.StatusConflict {
		t.Errorf("cancel a done job: %d %s, want 409", r.Status, r.Body)
	}
}
