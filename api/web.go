package api

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/trackmatch/trackmatch/models"
)

// webFiles is the investigator web page: one HTML file, its script and its
// style sheet, served as they are (no build step, nothing from elsewhere).
//
//go:embed web
var webFiles embed.FS

// webAssetPrefix is where the page's script and style sheet are served.
const webAssetPrefix = "/web/"

// webCSP lets the page load only its own files, call only its own origin,
// and show photos it fetched itself (blob: object URLs) and data: icons.
// No inline script or style, no plugins, no framing, no <base> tricks.
const webCSP = "default-src 'self'; img-src 'self' blob: data:; object-src 'none'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// webContentTypes are the media types of the files the page is made of;
// a file of any other type is not served.
var webContentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
}

// registerWeb serves the investigator page at / and its assets under
// /web/. These routes need no key (the page holds no data; it calls the
// /v1 API with the key the user enters) and are kept out of the route
// table, since they are not part of the API.
func (s *Server) registerWeb(e *gin.Engine) {
	root, err := fs.Sub(webFiles, "web")
	if err != nil {
		panic("api: web files: " + err.Error())
	}
	page := func(c *gin.Context) { serveWebFile(c, root, "index.html") }
	asset := func(c *gin.Context) {
		name := strings.TrimPrefix(c.Param("file"), "/")
		if name == "index.html" || !fs.ValidPath(name) {
			s.writeError(c, models.Errorf(models.ENOTFOUND, "no such file"))
			return
		}
		if !serveWebFile(c, root, name) {
			s.writeError(c, models.Errorf(models.ENOTFOUND, "no such file"))
		}
	}
	for _, m := range []string{http.MethodGet, http.MethodHead} {
		e.Handle(m, "/", page)
		e.Handle(m, webAssetPrefix+"*file", asset)
	}
}

// serveWebFile writes one embedded file with its media type and the page's
// Content-Security-Policy; false when there is no such file to serve.
func serveWebFile(c *gin.Context, root fs.FS, name string) bool {
	ctype, ok := webContentTypes[path.Ext(name)]
	if !ok {
		return false
	}
	b, err := fs.ReadFile(root, name)
	if err != nil {
		return false
	}
	h := c.Writer.Header()
	h.Set("Content-Security-Policy", webCSP)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
	c.Data(http.StatusOK, ctype, b)
	return true
}
