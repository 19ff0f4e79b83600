package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/trackmatch/trackmatch/engine/face"
	"github.com/trackmatch/trackmatch/models"
)

func TestEmbedCommand(t *testing.T) {
	dir := envOr("TRACKMATCH_MODELS", face.DefaultModelsDir())
	if err := face.VerifyModels(dir); err != nil {
		t.Skipf("the dlib face models are not usable, skipping (%v)", err)
	}
	shared, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "faces"))
	if _, err := os.Stat(shared); err != nil {
		t.Skipf("test photos %s are absent (%v)", shared, err)
	}
	gif := filepath.Join(t.TempDir(), "photo.jpg")
	if err := os.WriteFile(gif, []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;"), 0o644); err != nil {
		t.Fatal(err)
	}
	group := filepath.Join(shared, "_group", "two_people.jpg")
	blank := filepath.Join(shared, "_no_face", "white.png")

	run := func(paths ...string) (int, []map[string]json.RawMessage) {
		var out, errOut bytes.Buffer
		code := exitCode("embed", runEmbed(context.Background(), append([]string{"--models", dir, "--workers", "1"}, paths...), &out, &errOut), &errOut)
		var lines []map[string]json.RawMessage
		sc := bufio.NewScanner(&out)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
				t.Fatalf("output line is not JSON: %v", err)
			}
			lines = append(lines, m)
		}
		return code, lines
	}

	code, lines := run(group, blank)
	if code != 0 || len(lines) != 2 {
		t.Fatalf("exit %d with %d lines, want 0 and 2", code, len(lines))
	}
	var faces []models.Face
	if err := json.Unmarshal(lines[0]["faces"], &faces); err != nil || len(faces) != 2 || faces[0].Descriptor == nil {
		t.Fatalf("group photo faces: %v, %d", err, len(faces))
	}
	if string(lines[1]["faces"]) != "[]" {
		t.Errorf("no-face photo: faces %s, want []", lines[1]["faces"])
	}

	code, lines = run(group, gif)
	if code != 2 || len(lines) != 2 {
		t.Fatalf("exit %d with %d lines, want 2 and 2", code, len(lines))
	}
	var e models.Error
	if err := json.Unmarshal(lines[1]["error"], &e); err != nil || e.Code != models.EUNSUPPORTED {
		t.Errorf("GIF named .jpg: error %s, want code %s", lines[1]["error"], models.EUNSUPPORTED)
	}
	var photo string
	_ = json.Unmarshal(lines[1]["photo"], &photo)
	if photo != gif {
		t.Errorf("photo %q, want %q (argument order)", photo, gif)
	}
}
