package main

import (
	"encoding/base64"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/trackmatch/trackmatch/engine/face"
)

// config is what every command that opens the data folder needs. Flags win
// over environment variables, which win over defaults.
type config struct {
	Data          string        // folder holding badger/ and bleve/
	Models        string        // folder holding the dlib model files
	EncryptionKey []byte        // AES key for encryption at rest; nil = off
	Workers       int           // face recognizers (one per core) and batch workers
	FaceModels    []string      // face models the workers run (--face-models)
	Webhook       webhookConfig // optional match notifications (webhook.go)
}

// envOr returns the environment variable key, or def when it is unset or empty.
func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// bindConfig registers the shared flags on fs and returns a function that
// finishes the config after fs.Parse.
func bindConfig(fs *flag.FlagSet) func() (config, error) {
	data := fs.String("data", envOr("TRACKMATCH_DATA", "./data"), "data folder (Badger and Bleve); env TRACKMATCH_DATA")
	models := fs.String("models", envOr("TRACKMATCH_MODELS", face.DefaultModelsDir()), "face model folder; env TRACKMATCH_MODELS")
	keyFile := fs.String("encryption-key-file", envOr("TRACKMATCH_ENCRYPTION_KEY_FILE", ""), "file holding a 32-byte AES key (hex or base64) to encrypt the store at rest; env TRACKMATCH_ENCRYPTION_KEY_FILE (or the key itself in TRACKMATCH_ENCRYPTION_KEY)")
	workers := fs.Int("workers", 0, "face recognizers and batch workers (0 = one per core)")
	faceModels := bindFaceModels(fs)
	return func() (config, error) {
		c := config{Data: *data, Models: *models, Workers: *workers}
		fm, err := faceModels()
		if err != nil {
			return c, err
		}
		c.FaceModels = fm
		if c.Webhook, err = readWebhookConfig(); err != nil {
			return c, err
		}
		raw := os.Getenv("TRACKMATCH_ENCRYPTION_KEY")
		if *keyFile != "" {
			b, err := os.ReadFile(*keyFile)
			if err != nil {
				return c, fmt.Errorf("read encryption key file: %w", err)
			}
			raw = string(b)
		}
		if raw != "" {
			key, err := parseKey(strings.TrimSpace(raw))
			if err != nil {
				return c, err
			}
			c.EncryptionKey = key
		}
		return c, nil
	}
}

// parseKey accepts a 16-, 24- or 32-byte key written in hex or base64.
func parseKey(s string) ([]byte, error) {
	for _, dec := range []func(string) ([]byte, error){hex.DecodeString, base64.StdEncoding.DecodeString} {
		if k, err := dec(s); err == nil && (len(k) == 16 || len(k) == 24 || len(k) == 32) {
			return k, nil
		}
	}
	return nil, fmt.Errorf("encryption key must be 16, 24 or 32 bytes written in hex or base64")
}

func (c config) badgerDir() string { return filepath.Join(c.Data, "badger") }
func (c config) bleveDir() string  { return filepath.Join(c.Data, "bleve") }
