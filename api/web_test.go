package api

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// get fetches path from the harness's server without the document check
// (the page is not an API operation).
func (h *harness) get(path string) (int, http.Header, string) {
	h.t.Helper()
	resp, err := h.ts.Client().Get(h.ts.URL + path)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestWebPageServedWithPolicy(t *testing.T) {
	h := newHarness(t)
	for path, ctype := range map[string]string{
		"/":            "text/html",
		"/web/app.js":  "text/javascript",
		"/web/app.css": "text/css",
	} {
		status, hdr, body := h.get(path)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		if !strings.HasPrefix(hdr.Get("Content-Type"), ctype) {
			t.Errorf("GET %s: Content-Type %q, want %s", path, hdr.Get("Content-Type"), ctype)
		}
		csp := hdr.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "img-src 'self' blob: data:", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: CSP %q lacks %q", path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Errorf("GET %s: CSP %q allows inline code", path, csp)
		}
		if hdr.Get("X-Content-Type-Options") != "nosniff" || hdr.Get("Cache-Control") != "no-store" {
			t.Errorf("GET %s: security headers missing: %v", path, hdr)
		}
	}
	// The API keeps its own stricter policy.
	_, hdr, _ := h.get("/healthz")
	if csp := hdr.Get("Content-Security-Policy"); !strings.HasPrefix(csp, "default-src 'none'") {
		t.Errorf("API CSP = %q", csp)
	}
}

func TestWebPageRefusesOtherFiles(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/web/", "/web/nope.js", "/web/index.html", "/web/../api/web.go", "/web/%2e%2e/web.go", "/web/app.js/x", "/index.html"} {
		status, hdr, body := h.get(path)
		if status != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404; %s", path, status, body)
		}
		if !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
			t.Errorf("GET %s: Content-Type %q, want the JSON error", path, hdr.Get("Content-Type"))
		}
	}
}

// The page must load nothing from elsewhere and run no inline code (the
// policy would block it, and the page would break).
func TestWebPageReferencesOnlyItsOwnFiles(t *testing.T) {
	h := newHarness(t)
	_, _, page := h.get("/")
	refs := regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("found only %d src/href attributes in the page", len(refs))
	}
	for _, m := range refs {
		u := m[1]
		if !(strings.HasPrefix(u, "/web/") || strings.HasPrefix(u, "#") || u == "data:,") {
			t.Errorf("page refers to %q; only /web/ files, #fragments and data: are allowed", u)
		}
		if strings.HasPrefix(u, "/web/") {
			if status, _, _ := h.get(u); status != http.StatusOK {
				t.Errorf("page refers to %s, which answers %d", u, status)
			}
		}
	}
	if regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]+</script>`).MatchString(page) {
		t.Error("page has an inline script")
	}
	if regexp.MustCompile(`(?i)\sstyle\s*=|<style`).MatchString(page) || regexp.MustCompile(`(?i)\son[a-z]+\s*=`).MatchString(page) {
		t.Error("page has inline style or event-handler attributes")
	}
	_, _, js := h.get("/web/app.js")
	for _, bad := range []string{"localStorage", "document.cookie", "innerHTML", "eval(", "http://", "https://"} {
		if strings.Contains(js, bad) {
			t.Errorf("app.js uses %q", bad)
		}
	}
}
