package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/trackmatch/trackmatch/api"
)

// runServe implements `trackmatch serve`: it listens at once (healthz
// answers, readyz says loading), loads the store, indexes and models, then
// serves the API until SIGINT or SIGTERM, finishing requests in flight
// before closing the store.
func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", envOr("TRACKMATCH_ADDR", "127.0.0.1:8080"), "listen address HOST:PORT; env TRACKMATCH_ADDR")
	certFile := fs.String("tls-cert", envOr("TRACKMATCH_TLS_CERT", ""), "serve HTTPS with this certificate (PEM); env TRACKMATCH_TLS_CERT")
	keyFile := fs.String("tls-key", envOr("TRACKMATCH_TLS_KEY", ""), "private key for --tls-cert (PEM); env TRACKMATCH_TLS_KEY")
	ratePerSec := fs.String("rate-limit", envOr("TRACKMATCH_RATE_LIMIT", ""), fmt.Sprintf("requests a second each API key may make (default %d); env TRACKMATCH_RATE_LIMIT", api.DefaultRatePerSecond))
	rateBurst := fs.String("rate-burst", envOr("TRACKMATCH_RATE_BURST", ""), fmt.Sprintf("requests each API key may make in a burst (default %d); env TRACKMATCH_RATE_BURST", api.DefaultRateBurst))
	finish := bindConfig(fs)
	if err := fs.Parse(args); err != nil {
		return parseError(err)
	}
	cfg, err := finish()
	if err != nil {
		return badUsage(err)
	}
	log := slog.New(slog.NewJSONHandler(stderr, nil))
	if (*certFile == "") != (*keyFile == "") {
		return usagef("--tls-cert and --tls-key go together")
	}
	apiCfg, err := rateConfig(*ratePerSec, *rateBurst)
	if err != nil {
		return badUsage(err)
	}
	keyText, err := apiKeys(cfg.Data, stdout)
	if err != nil {
		return err
	}
	apiCfg.Keys, err = api.ParseKeys(keyText)
	if err != nil {
		return badUsage(fmt.Errorf("TRACKMATCH_API_KEYS: %w", err))
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	var handler atomic.Pointer[http.Handler]
	loading := loadingHandler()
	handler.Store(&loading)
	srv := &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       2 * time.Minute, // a 20 MB photo over a slow link
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() {
		if *certFile != "" {
			serveErr <- srv.ServeTLS(ln, *certFile, *keyFile)
		} else {
			serveErr <- srv.Serve(ln)
		}
	}()
	log.Info("listening", "addr", ln.Addr().String(), "tls", *certFile != "")

	app, err := openApp(ctx, cfg, log)
	if err != nil {
		log.Error("start-up failed", "err", err)
		shutdown(srv, log)
		return err
	}
	h := app.handler(apiCfg)
	handler.Store(&h)
	stopWebhooks := app.startWebhooks(ctx, cfg.Webhook)
	log.Info("ready", "faces", app.faces.Len())

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-serveErr:
		if !errors.Is(err, http.ErrServerClosed) {
			log.Error("server stopped", "err", err)
		}
	}
	shutdown(srv, log)
	stopWebhooks()
	if err := app.Close(); err != nil {
		log.Error("close", "err", err)
		return exitError{code: 1} // logged
	}
	log.Info("stopped")
	return nil
}

// rateConfig reads --rate-limit and --rate-burst ("" takes the API's
// default): a positive number of requests a second and a positive burst.
func rateConfig(perSec, burst string) (api.Config, error) {
	var c api.Config
	if perSec != "" {
		v, err := strconv.ParseFloat(perSec, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 0) {
			return c, fmt.Errorf("--rate-limit must be a positive number of requests a second, got %q", perSec)
		}
		c.RatePerSecond = v
	}
	if burst != "" {
		v, err := strconv.Atoi(burst)
		if err != nil || v < 1 {
			return c, fmt.Errorf("--rate-burst must be a positive whole number of requests, got %q", burst)
		}
		c.RateBurst = v
	}
	return c, nil
}

// shutdown lets requests in flight finish, for up to 30 seconds.
func shutdown(srv *http.Server, log *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		log.Warn("shutdown", "err", err)
	}
}

// loadingHandler answers while the store, indexes and models load.
func loadingHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path == "/healthz" {
			io.WriteString(w, `{"status":"ok"}`)
			return
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"error":{"code":"unavailable","message":"loading the store, indexes and face models"}}`)
	})
}

// apiKeys returns TRACKMATCH_API_KEYS, or else the keys kept in the data
// folder; with neither it generates an admin key, keeps it there and prints
// it once so that a new user can call the API at once.
func apiKeys(dataDir string, stdout io.Writer) (string, error) {
	if v := os.Getenv("TRACKMATCH_API_KEYS"); v != "" {
		return v, nil
	}
	path := filepath.Join(dataDir, "api-keys")
	if b, err := os.ReadFile(path); err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("create data folder: %w", err)
	}
	raw := make([]byte, 24)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	keys := "admin:" + hex.EncodeToString(raw)
	if err := os.WriteFile(path, []byte(keys+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("keep generated key: %w", err)
	}
	fmt.Fprintf(stdout, "\nNo TRACKMATCH_API_KEYS set: generated an admin key (kept in %s, shown only now):\n\n  %s\n\nCall the API with: curl -H 'Authorization: Bearer %s' http://HOST/v1/...\n\n",
		path, strings.TrimPrefix(keys, "admin:"), strings.TrimPrefix(keys, "admin:"))
	return keys, nil
}
