package benchmarks

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/trackmatch/trackmatch/benchmarks/synth"
	"github.com/trackmatch/trackmatch/engine/face"
	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// TestMeasureStartupSmoke builds the real binary and measures it on a
// small filled data folder, with a rebuild of the attribute index.
func TestMeasureStartupSmoke(t *testing.T) {
	models := startupModels(t)
	bin := buildTrackmatch(t)
	data := t.TempDir()
	const n = 300
	found := fillDataFolder(t, data, n)

	figs, err := MeasureStartup(context.Background(), StartupConfig{Binary: bin, DataDir: data, ModelsDir: models,
		Scale: found, RebuildAttributes: true, Workers: 1, Settle: time.Second, Logger: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Figure{}
	for _, f := range figs {
		t.Logf("%-40s %10.3f %-8s baseline %-22s %10.3f  %s", f.Name, f.Value, f.Unit, f.Baseline, f.BaselineValue, f.Note)
		if f.Section != "memory" || f.Scale != found || math.IsNaN(f.Value) || math.IsInf(f.Value, 0) {
			t.Errorf("figure %+v: want section memory, scale %d and a finite value", f, found)
		}
		got[f.Name] = f
	}
	for _, name := range []string{"start-up to ready", "resident memory (RSS)", "anonymous resident memory (RssAnon)",
		"file-backed resident memory (RssFile)", "peak resident memory (VmHWM)", "start-up rebuilding the attribute index"} {
		f, ok := got[name]
		if !ok {
			t.Errorf("no figure %q", name)
			continue
		}
		if !(f.Value > 0) || !(f.BaselineValue > 0) {
			t.Errorf("%s: value %v, baseline %v: want both positive", name, f.Value, f.BaselineValue)
		}
	}
	if rss, hwm := got["resident memory (RSS)"], got["peak resident memory (VmHWM)"]; hwm.Value < rss.Value || hwm.BaselineValue < rss.BaselineValue {
		t.Errorf("peak RSS %v (empty %v) below RSS %v (empty %v)", hwm.Value, hwm.BaselineValue, rss.Value, rss.BaselineValue)
	}
	per := got["RSS per record beyond descriptors"]
	if per.BaselineValue != rssPerRecordGoal || !strings.Contains(per.Note, "goal") || !strings.Contains(per.Note, fmt.Sprintf("÷ %d records", n)) {
		t.Errorf("per-record figure %+v: want the goal as baseline and the server's count of %d records", per, n)
	}
	if r, s := got["start-up rebuilding the attribute index"], got["start-up to ready"]; r.BaselineValue != s.Value {
		t.Errorf("rebuild baseline %v, want the normal start-up %v", r.BaselineValue, s.Value)
	}

	// The data folder is left usable: no aside copy, no key written, the
	// store opens with every child and the attribute index is up to date
	// with it (closed cleanly, as many records).
	if _, err := os.Stat(filepath.Join(data, "bleve"+asideSuffix)); !os.IsNotExist(err) {
		t.Errorf("the aside copy of the attribute index is still there (%v)", err)
	}
	if _, err := os.Stat(filepath.Join(data, "api-keys")); !os.IsNotExist(err) {
		t.Errorf("serve wrote api-keys into the data folder (%v)", err)
	}
	st, err := index.Open(filepath.Join(data, "badger"), index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if c, err := st.CountChildren(context.Background(), ""); err != nil || c != n {
		t.Errorf("store holds %d children (%v), want %d", c, err, n)
	}
	ai, err := index.OpenAttributeIndex(filepath.Join(data, "bleve"))
	if err != nil {
		t.Fatal(err)
	}
	defer ai.Close()
	if reason, err := ai.OutOfDate(n); reason != "" || err != nil {
		t.Errorf("attribute index out of date after the benchmark: %q, %v", reason, err)
	}
}

func TestMeasureStartupErrors(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "trackmatch")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	if err := os.Mkdir(filepath.Join(data, "badger"), 0o700); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		cfg  StartupConfig
		want string
	}{
		{"no binary", StartupConfig{Binary: filepath.Join(data, "none"), DataDir: data}, "not an executable"},
		{"empty folder", StartupConfig{Binary: bin, DataDir: t.TempDir()}, "no badger folder"},
		{"no models", StartupConfig{Binary: bin, DataDir: data, ModelsDir: t.TempDir()}, "needs the face models"},
	} {
		if _, err := MeasureStartup(context.Background(), c.cfg); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

func TestParseServeLog(t *testing.T) {
	log := `{"time":"x","level":"INFO","msg":"listening","addr":"127.0.0.1:1"}
not json
{"level":"INFO","msg":"rebuilding attribute index from the store","reason":"the index holds 0 records and the store 3","children":3}
{"level":"INFO","msg":"indexes loaded","children":3,"faces":2,"params_version":1}
{"level":"INFO","msg":"ready","faces":2}
`
	c, f, r := parseServeLog([]byte(log))
	if c != 3 || f != 2 || r != "the index holds 0 records and the store 3" {
		t.Errorf("parseServeLog = %d, %d, %q", c, f, r)
	}
	if c, f, r := parseServeLog([]byte(`{"msg":"ready","faces":2}`)); c != -1 || f != -1 || r != "" {
		t.Errorf("parseServeLog without the lines = %d, %d, %q; want -1, -1, \"\"", c, f, r)
	}
}

func TestMedianStartup(t *testing.T) {
	runs := []startup{
		{Ready: 3 * time.Second, Settle: memStatus{RSS: 30, HWM: 5}, Children: 7},
		{Ready: 1 * time.Second, Settle: memStatus{RSS: 10, HWM: 9}},
		{Ready: 2 * time.Second, Settle: memStatus{RSS: 50, HWM: 1}},
	}
	m := medianStartup(runs)
	if m.Ready != 2*time.Second || m.Settle.RSS != 30 || m.Settle.HWM != 5 || m.Children != 7 {
		t.Errorf("median of odd runs = %+v", m)
	}
	if m := medianStartup(runs[:2]); m.Ready != 2*time.Second || m.Settle.RSS != 20 {
		t.Errorf("median of two runs = %+v", m)
	}
}

// startupModels returns the verified face model folder, or skips the test.
func startupModels(t *testing.T) string {
	dir := os.Getenv("TRACKMATCH_MODELS")
	if dir == "" {
		dir = face.DefaultModelsDir()
	}
	if err := face.VerifyModels(dir); err != nil {
		t.Skipf("the dlib face models are not usable, skipping (%v); run `make models`", err)
	}
	return dir
}

// buildTrackmatch builds ./cmd/trackmatch into a temporary folder.
func buildTrackmatch(t testing.TB) string {
	bin := filepath.Join(t.TempDir(), "trackmatch")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/trackmatch")
	cmd.Dir = ".."
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// fillDataFolder writes n synthetic children, each with one photo holding
// only a face descriptor, into dir/badger, builds dir/bleve from them and
// returns how many are found children.
func fillDataFolder(t testing.TB, dir string, n int) (found int) {
	ctx := context.Background()
	st, err := index.Open(filepath.Join(dir, "badger"), index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gen := synth.New(batchSeed, synth.Config{})
	faces := synth.NewFaces(batchSeed, synth.ChildFaces())
	recs := make(chan models.Child, 256)
	go func() {
		defer close(recs)
		for range n {
			c := gen.Next()
			if c.Kind == models.KindFound {
				found++
			}
			recs <- c
		}
	}()
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for range cap(errs) { // many writers, so Badger syncs their commits together
		wg.Go(func() {
			for c := range recs {
				err := st.PutChild(ctx, c)
				if err == nil {
					err = st.PutPhoto(ctx, synth.FacePhoto(&c, c.ID+"p", faces.Photo(faces.Identity(), 0)), []byte("jpeg"))
				}
				if err != nil {
					errs <- err
					for range recs { // drain, so the producer ends
					}
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	ai, err := index.OpenAttributeIndex(filepath.Join(dir, "bleve"))
	if err != nil {
		t.Fatal(err)
	}
	defer ai.Close()
	if err := ai.Rebuild(ctx, func(yield func(*models.Child) error) error {
		return st.ForEachChild(ctx, "", func(c models.Child) error { return yield(&c) })
	}); err != nil {
		t.Fatal(err)
	}
	return found
}
