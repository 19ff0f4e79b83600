package main

// End-to-end tests of bulk import: the `trackmatch import` command against
// a real server on loopback and against a stopped data folder, and POST
// /v1/import through the real face workers.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// runImportCmd runs `trackmatch import args...` and returns its exit code,
// stdout and stderr.
func runImportCmd(t *testing.T, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(binary(t), append([]string{"import"}, args...)...)
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1")
	cmd.Env = append(cmd.Env, env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, out.String(), errb.String()
}

// lookup returns the record stored under kind and ref (via a portal's
// lookup, then an investigator's read), or ok=false.
func lookup(t *testing.T, s *server, kind, ref string) (apiChild, bool) {
	t.Helper()
	r := s.Do(t, "GET", "/v1/children?kind="+kind+"&external_ref="+url.QueryEscape(ref), portalKey, "", nil)
	var v apiChildren
	r.JSON(t, &v)
	if len(v.Refs) == 0 {
		return apiChild{}, false
	}
	var c apiChild
	s.Do(t, "GET", "/v1/children/"+v.Refs[0].ID, investigatorKey, "", nil).JSON(t, &c)
	return c, true
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// A CSV with a bad row in the middle, a duplicate ref, a photo path
// outside --photos and a photo with no face: each bad row is reported with
// its row number, field and reason, every other row is imported, and a
// second run changes nothing.
func TestImportCommandCSV(t *testing.T) {
	faces := sharedDir(t, "faces")
	s := startServer(t, serverOptions{Args: apiRoomyRate})
	example, err := os.ReadFile(filepath.Join("..", "..", "testdata", "import-example.csv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(example)), "\n")
	csvText := strings.Join([]string{
		lines[0], lines[1], lines[2], // rows 2, 3: example rows with photos
		"found,CCI-BAD-1,Bad Age,female,ten,12,2024-01-01,,,,,,,,,,", // row 4: age_min not a number
		lines[3], // row 5
		"missing,FIR-DUP,Dup One,male,5,6,2024-01-01,,,,,,,,,,",                    // row 6: duplicate of row 8
		"missing,FIR-OUT,Outside,male,5,6,2024-01-01,,,,,,,,,,../README.md",        // row 7: photo outside --photos
		"missing,FIR-DUP,Dup Two,male,5,6,2024-01-01,,,,,,,,,,",                    // row 8
		"found,CCI-NOFACE,Blank,female,5,6,2024-01-01,,,,,,,,,,_no_face/white.png", // row 9: no face
		"found,CCI-FUTURE,Future,female,5,6,2999-01-01,,,,,,,,,,",                  // row 10: date in the future
		lines[4], // row 11
	}, "\n") + "\n"
	file := writeFile(t, t.TempDir(), "records.csv", csvText)
	env := []string{"TRACKMATCH_API_KEY=" + portalKey}
	code, out, errOut := runImportCmd(t, env, file, "--photos", faces, "--url", s.URL, "--batch", "3")
	if code != 1 {
		t.Fatalf("exit %d, want 1 (some rows refused)\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"row 4: refused: age_min: \"ten\" is not a number",
		"row 6: refused: external_ref: also on row 8",
		"row 8: refused: external_ref: also on row 6",
		"row 7: refused: photos[0]: ../README.md is outside the --photos folder",
		"row 9: photo _no_face/white.png refused: photos[0]:",
		"row 10: refused: observed_on:",
		"rows: 10; created 5, unchanged 0, updated 0, refused 5; photos: created 3, unchanged 0, refused 1",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	for _, k := range [][2]string{{"missing", "FIR-PTN-2024-0117"}, {"found", "CCI-KOCHI-2024-88"}, {"missing", "FIR-HWH-2023-0042"}, {"found", "CWC-DEL-2024-5"}, {"found", "CCI-NOFACE"}} {
		if _, ok := lookup(t, s, k[0], k[1]); !ok {
			t.Errorf("%s %s not imported", k[0], k[1])
		}
	}
	c, _ := lookup(t, s, "missing", "FIR-PTN-2024-0117")
	if len(c.Names) != 2 || len(c.Photos) != 2 {
		t.Errorf("imported record: %+v", c)
	}
	for _, k := range [][2]string{{"found", "CCI-BAD-1"}, {"missing", "FIR-DUP"}, {"missing", "FIR-OUT"}, {"found", "CCI-FUTURE"}} {
		if _, ok := lookup(t, s, k[0], k[1]); ok {
			t.Errorf("refused row %s %s was imported", k[0], k[1])
		}
	}
	// Again: nothing new stored.
	code, out, _ = runImportCmd(t, env, file, "--photos", faces, "--url", s.URL)
	if code != 1 || !strings.Contains(out, "created 0, unchanged 5, updated 0, refused 5; photos: created 0, unchanged 3, refused 1") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	if c2, _ := lookup(t, s, "missing", "FIR-PTN-2024-0117"); c2.ID != c.ID || len(c2.Photos) != 2 {
		t.Errorf("second run changed the record: %+v", c2)
	}
	// Without a key, or with a role that may not import: usage error, or the run stops.
	if code, _, _ := runImportCmd(t, nil, file, "--url", s.URL); code != 2 {
		t.Errorf("no key: exit %d, want 2", code)
	}
	if code, _, errOut := runImportCmd(t, []string{"TRACKMATCH_API_KEY=" + investigatorKey}, file, "--url", s.URL); code != 1 || !strings.Contains(errOut, "forbidden") {
		t.Errorf("investigator key: exit %d, %s", code, errOut)
	}
	if !strings.Contains(s.Logs(), "/v1/import") {
		t.Errorf("no access log of the import")
	}
	for _, name := range []string{"Amita", "Rahul", "Pooja"} {
		if strings.Contains(s.Logs(), name) {
			t.Errorf("a name reached the server's logs: %s", name)
		}
	}
}

// An import killed part-way is resumed by running it again: every record
// ends up stored once, with its photos once.
func TestImportCommandResume(t *testing.T) {
	faces := sharedDir(t, "faces")
	s := startServer(t, serverOptions{Args: apiRoomyRate})
	all, err := filepath.Glob(filepath.Join(faces, "[a-z]*", "*.jpg"))
	if err != nil || len(all) < 6 {
		t.Skipf("fewer than 6 photos in %s (%v)", faces, err)
	}
	var photos []string
	for _, p := range all[:6] {
		rel, _ := filepath.Rel(faces, p)
		photos = append(photos, rel)
	}
	var jsonl strings.Builder
	for i, p := range photos {
		rec := map[string]any{"kind": "found", "external_ref": fmt.Sprintf("CCI-R-%d", i), "names": []string{"Child"},
			"sex": "unknown", "observed_on": "2024-01-01", "photos": []string{p}}
		b, _ := json.Marshal(rec)
		jsonl.Write(b)
		jsonl.WriteByte('\n')
	}
	file := writeFile(t, t.TempDir(), "records.jsonl", jsonl.String())
	cmd := exec.Command(binary(t), "import", file, "--photos", faces, "--url", s.URL, "--key", portalKey, "--batch", "1")
	cmd.Env = append(os.Environ(), "OPENBLAS_NUM_THREADS=1")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Kill it once two records are in.
	deadline := time.Now().Add(2 * time.Minute)
	for {
		_, ok := lookup(t, s, "found", "CCI-R-1")
		if ok || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cmd.Process.Kill()
	cmd.Wait()
	if _, ok := lookup(t, s, "found", fmt.Sprintf("CCI-R-%d", len(photos)-1)); ok {
		t.Skip("the import finished before it could be interrupted; nothing to resume")
	}
	code, out, errOut := runImportCmd(t, nil, file, "--photos", faces, "--url", s.URL, "--key", portalKey)
	if code != 0 {
		t.Fatalf("resume: exit %d\n%s\n%s", code, out, errOut)
	}
	var sum struct{ created, unchanged, pc, pu int }
	if _, err := fmt.Sscanf(out[strings.Index(out, "rows:"):], "rows: 6; created %d, unchanged %d, updated 0, refused 0; photos: created %d, unchanged %d,",
		&sum.created, &sum.unchanged, &sum.pc, &sum.pu); err != nil {
		t.Fatalf("summary %q: %v", out, err)
	}
	if sum.unchanged < 2 || sum.created+sum.unchanged != 6 || sum.pc+sum.pu != 6 {
		t.Errorf("resume summary %+v: want the first two unchanged and six records and photos in all", sum)
	}
	r := s.Do(t, "GET", "/v1/children?kind=found&limit=100", investigatorKey, "", nil)
	var v apiChildren
	r.JSON(t, &v)
	if len(v.Children) != 6 {
		t.Fatalf("%d records after the resume, want 6", len(v.Children))
	}
	for _, c := range v.Children {
		if len(c.Photos) != 1 {
			t.Errorf("record %s has %d photos, want 1", c.ExternalRef, len(c.Photos))
		}
	}
}

// POST /v1/import through the real face workers: a photo is analysed and
// stored, a blank one refused with no_face; a batch over the record limit
// is 413 with nothing stored; a stopped data folder imports with --data.
func TestAPIImportRoute(t *testing.T) {
	faces := sharedDir(t, "faces")
	data := t.TempDir()
	s := startServer(t, serverOptions{Data: data, Args: apiRoomyRate})
	face, err := os.ReadFile(filepath.Join(faces, "obama", "obama.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	blank, err := os.ReadFile(filepath.Join(faces, "_no_face", "white.png"))
	if err != nil {
		t.Fatal(err)
	}
	line := func(ref string, photos ...[]byte) string {
		var ps []string
		for _, p := range photos {
			ps = append(ps, `{"data":"`+base64.StdEncoding.EncodeToString(p)+`"}`)
		}
		return `{"kind":"missing","external_ref":"` + ref + `","names":["Child"],"observed_on":"2024-01-01","photos":[` + strings.Join(ps, ",") + `]}`
	}
	body := line("FIR-A-1", face, blank) + "\n" + line("FIR-A-1") + "\n" + line("FIR-A-2") + "\n" + line("FIR-A-3") + "\n" + line("FIR-A-2")
	r := s.Do(t, "POST", "/v1/import", portalKey, "application/x-ndjson", strings.NewReader(body))
	if r.Status != http.StatusOK {
		t.Fatalf("import: %d %s", r.Status, r.Body)
	}
	var v struct {
		Summary struct{ Created, Refused, PhotosCreated, PhotosRefused int } `json:"summary"`
		Results []struct {
			Status string
			ID     string
			Error  *struct{ Code string }
			Photos []struct {
				Status string
				Faces  int
				Error  *struct{ Code string }
			}
		} `json:"results"`
	}
	r.JSON(t, &v)
	// FIR-A-1 and FIR-A-2 each twice: all four refused; FIR-A-3 created.
	if len(v.Results) != 5 || v.Results[3].Status != "created" || v.Summary.Refused != 4 {
		t.Fatalf("results: %s", r.Body)
	}
	for _, i := range []int{0, 1, 2, 4} {
		if v.Results[i].Error == nil || v.Results[i].Error.Code != "conflict" {
			t.Errorf("duplicate %d: %+v", i, v.Results[i])
		}
	}
	r = s.Do(t, "POST", "/v1/import", portalKey, "application/x-ndjson", strings.NewReader(line("FIR-A-1", face, blank)))
	r.JSON(t, &v)
	if r.Status != http.StatusOK || v.Results[0].Status != "created" || len(v.Results[0].Photos) != 2 ||
		v.Results[0].Photos[0].Status != "created" || v.Results[0].Photos[0].Faces < 1 ||
		v.Results[0].Photos[1].Status != "refused" || v.Results[0].Photos[1].Error.Code != "no_face" {
		t.Fatalf("photos: %d %s", r.Status, r.Body)
	}
	var over strings.Builder
	for i := range 1001 {
		fmt.Fprintf(&over, `{"kind":"found","external_ref":"OVER-%d"}`+"\n", i)
	}
	r = s.Do(t, "POST", "/v1/import", portalKey, "application/x-ndjson", strings.NewReader(over.String()))
	if r.Status != http.StatusRequestEntityTooLarge || r.ErrorCode() != "too_large" {
		t.Fatalf("1,001 records: %d %s", r.Status, r.Body)
	}
	if _, ok := lookup(t, s, "found", "OVER-0"); ok {
		t.Fatalf("a record of the refused batch was stored")
	}

	// The same folder, stopped: --data imports into it directly.
	s.Stop()
	file := writeFile(t, t.TempDir(), "more.jsonl", `{"kind":"found","external_ref":"CCI-D-1","names":["Child"],"photos":["obama/obama2.jpg"]}`+"\n")
	code, out, errOut := runImportCmd(t, []string{"TRACKMATCH_MODELS=" + modelsDir(t)}, file, "--photos", faces, "--data", data, "--workers", "1")
	if code != 0 || !strings.Contains(out, "created 1,") || !strings.Contains(out, "photos: created 1,") {
		t.Fatalf("--data: exit %d\n%s\n%s", code, out, errOut)
	}
	s.start(modelsDir(t))
	c, ok := lookup(t, s, "found", "CCI-D-1")
	if !ok || len(c.Photos) != 1 {
		t.Fatalf("record imported with --data: %+v %v", c, ok)
	}
	// Its face is indexed: it is a candidate of the missing record with
	// another photo of the same man.
	r = s.Do(t, "GET", "/v1/children/"+v.Results[0].ID+"/candidates", investigatorKey, "", nil)
	if r.Status != http.StatusOK || !bytes.Contains(r.Body, []byte(c.ID)) {
		t.Errorf("candidates of FIR-A-1: %d %.300s; want %s", r.Status, r.Body, c.ID)
	}
}
