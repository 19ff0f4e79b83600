package main

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/trackmatch/trackmatch/index"
	"github.com/trackmatch/trackmatch/models"
)

// TestReembed stores photos analysed by dlib alone (as a store written
// before MobileFaceNet holds them), runs `trackmatch reembed`, and checks
// that every face with landmarks gains the MobileFaceNet descriptor that
// `embed` with both models computes, that dlib's are untouched, and that a
// second run finds nothing to do.
func TestReembed(t *testing.T) {
	modelsDir(t)
	dir := sharedDir(t, "faces")
	paths := []string{filepath.Join(dir, "obama", "obama.jpg"), filepath.Join(dir, "_group", "two_people.jpg")}
	embed := func(faceModels string) []embedResult {
		code, stdout, stderr := runCLI(t, nil, append([]string{"embed", "--workers", "1", "--face-models", faceModels}, paths...)...)
		if code != 0 {
			t.Fatalf("embed: exit %d\n%s", code, stderr)
		}
		var out []embedResult
		sc := bufio.NewScanner(strings.NewReader(stdout))
		sc.Buffer(nil, 1<<22)
		for sc.Scan() {
			var r embedResult
			if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
		return out
	}
	old, both := embed("dlib"), embed("dlib,mobilefacenet")
	if len(old) != 2 || len(both) != 2 {
		t.Fatalf("%d and %d embed results", len(old), len(both))
	}

	data := t.TempDir()
	st, err := index.Open(filepath.Join(data, "badger"), index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := models.Child{ID: index.NewID(), Kind: models.KindFound, Names: []string{"Reembed Testchild"}, Status: models.StatusOpen}
	if err := st.PutChild(ctx, c); err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(paths))
	for i, r := range old {
		for _, f := range r.Faces {
			if f.MFN != nil || f.Descriptor == nil {
				t.Fatal("embed --face-models dlib gave a MobileFaceNet descriptor, or no dlib one")
			}
		}
		raw, err := os.ReadFile(paths[i])
		if err != nil {
			t.Fatal(err)
		}
		ids[i] = index.NewID()
		p := models.Photo{ID: ids[i], ChildID: c.ID, ContentType: r.ContentType, Width: r.Width, Height: r.Height, Faces: r.Faces, Subject: *r.Subject}
		if err := st.PutPhoto(ctx, p, raw); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}

	run := func() reembedSummary {
		code, stdout, stderr := runCLI(t, nil, "reembed", "--data", data, "--workers", "1", "--quiet")
		if code != 0 {
			t.Fatalf("reembed: exit %d\n%s%s", code, stdout, stderr)
		}
		var s reembedSummary
		if err := json.Unmarshal([]byte(stdout), &s); err != nil {
			t.Fatalf("summary %q: %v", stdout, err)
		}
		return s
	}
	faces := len(old[0].Faces) + len(old[1].Faces)
	if s := run(); s.Photos != 2 || s.Pending != 2 || s.Described != 2 || s.Faces != faces {
		t.Fatalf("first run: %+v, want 2 photos with %d faces described", s, faces)
	}
	if s := run(); s.Pending != 0 || s.Described != 0 {
		t.Fatalf("second run: %+v, want nothing to do", s)
	}

	st, err = index.Open(filepath.Join(data, "badger"), index.StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for i, id := range ids {
		p, err := st.GetPhoto(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for j, f := range p.Faces {
			if f.MFN == nil || *f.Descriptor != *old[i].Faces[j].Descriptor {
				t.Fatalf("photo %d face %d: MobileFaceNet %v, dlib descriptor changed %v", i, j, f.MFN != nil, *f.Descriptor != *old[i].Faces[j].Descriptor)
			}
			if d := f.MFN.CosineDistance(both[i].Faces[j].MFN); d > 1e-4 {
				t.Errorf("photo %d face %d: reembedded at cosine distance %g from embed's", i, j, d)
			}
		}
	}
}
