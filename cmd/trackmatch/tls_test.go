package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// selfSignedCert writes a certificate for 127.0.0.1 and its key as PEM
// files in dir and returns their paths and the certificate.
func selfSignedCert(t *testing.T, dir string) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "trackmatch test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	if cert, err = x509.ParseCertificate(der); err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	return certFile, keyFile, cert
}

// TestServeHTTPS starts the server with a self-signed certificate made
// here and calls it over TLS, trusting only that certificate; plain HTTP
// to the same port gets no API answer.
func TestServeHTTPS(t *testing.T) {
	certFile, keyFile, cert := selfSignedCert(t, t.TempDir())
	s := startServerTLS(t, certFile, keyFile)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	resp, err := client.Get("https" + strings.TrimPrefix(s.URL, "http") + "/healthz")
	if err != nil {
		t.Fatalf("healthz over TLS: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.TLS == nil {
		t.Fatalf("healthz over TLS: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	req, _ := http.NewRequest("GET", "https"+strings.TrimPrefix(s.URL, "http")+"/v1/audit", nil)
	req.Header.Set("Authorization", "Bearer "+adminKey)
	if resp, err = client.Do(req); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("an API call over TLS: %v %v", err, resp)
	}
	resp.Body.Close()
	// A client that does not trust the certificate is refused by TLS itself.
	if _, err := (&http.Client{Timeout: 30 * time.Second}).Get("https" + strings.TrimPrefix(s.URL, "http") + "/healthz"); err == nil {
		t.Errorf("a client without the certificate connected")
	}
	// Plain HTTP on the TLS port: Go's server answers 400, never the API.
	if resp, err := http.Get(s.URL + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Errorf("plain HTTP served on the TLS port")
		}
	}
}

// startServerTLS starts the server with --tls-cert and --tls-key. The
// harness waits for readiness over plain HTTP, so this waits here.
func startServerTLS(t *testing.T, certFile, keyFile string) *server {
	t.Helper()
	models := modelsDir(t)
	s := &server{t: t, opts: serverOptions{Data: t.TempDir(), Args: []string{"--tls-cert", certFile, "--tls-key", keyFile}}}
	t.Cleanup(func() { s.Kill() })
	s.launch(models)
	pool := x509.NewCertPool()
	pem, _ := os.ReadFile(certFile)
	pool.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if s.exited() {
			t.Fatalf("server exited during start-up\n%s", s.Logs())
		}
		resp, err := client.Get("https" + strings.TrimPrefix(s.URL, "http") + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("TLS server not ready after 3 minutes\n%s", s.Logs())
	return nil
}
