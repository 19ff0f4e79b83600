package api

import (
	"encoding/json"

	"github.com/prometheus/client_golang/prometheus"
	"reflect"
	"strings"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/trackmatch/trackmatch/models"
)

// Named schemas: every struct type a route reads or writes becomes a
// schema under components/schemas, named once here, so that a generated
// client has types called Child, Photo, Match... rather than anonymous
// ones. A type read strictly (unknown fields refused) and also written is
// two schemas: its request form takes the suffix "Input".

// schemaNames names the types whose Go names are not their API names.
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[childView]():           "Child",
	reflect.TypeFor[childInput]():          "ChildInput",
	reflect.TypeFor[photoView]():           "Photo",
	reflect.TypeFor[faceView]():            "Face",
	reflect.TypeFor[models.Candidate]():    "Candidate",
	reflect.TypeFor[models.Match]():        "Match",
	reflect.TypeFor[models.Decision]():     "Decision",
	reflect.TypeFor[models.Job]():          "Job",
	reflect.TypeFor[models.AgeRange]():     "AgeRange",
	reflect.TypeFor[models.Place]():        "Place",
	reflect.TypeFor[errorResponse]():       "Error",
	reflect.TypeFor[models.Error]():        "ErrorDetail",
	reflect.TypeFor[models.FieldError]():   "FieldError",
	reflect.TypeFor[models.ImportRecord](): "ImportRecord",
	reflect.TypeFor[models.ImportPhoto]():  "ImportPhoto",
	reflect.TypeFor[models.ImportResult](): "ImportResult",
}

// schemaName is the component name of t's schema; strict marks its request
// form.
func schemaName(t reflect.Type, strict bool) string {
	name, ok := schemaNames[t]
	if !ok {
		name = strings.TrimSuffix(t.Name(), "View")
		if r := []rune(name); len(r) > 0 {
			r[0] = unicode.ToUpper(r[0])
			name = string(r)
		}
	}
	if strict && !strings.HasSuffix(name, "Input") && !strings.HasPrefix(name, "Import") {
		name += "Input"
	}
	return name
}

// componentRef is a reference to a named schema.
func componentRef(name string) *openapi3.SchemaRef {
	return &openapi3.SchemaRef{Ref: "#/components/schemas/" + name}
}

// apiTags are the document's tags, one per resource, with what they hold.
func apiTags() openapi3.Tags {
	return openapi3.Tags{
		{Name: "children", Description: "Records of missing and found children, and their photos."},
		{Name: "import", Description: "Bulk import of records with their photos."},
		{Name: "search", Description: "Candidates for a stored record or for a query, with explanations."},
		{Name: "matches", Description: "The review queue, decisions and their exports."},
		{Name: "jobs", Description: "Re-scoring jobs."},
		{Name: "audit", Description: "Who read, searched or changed what."},
		{Name: "service", Description: "Health, readiness, metrics and this document."},
	}
}

// routeTag is the tag of a route, from its path.
func routeTag(path string) string {
	switch {
	case strings.HasSuffix(path, "/candidates") || path == "/v1/search":
		return "search"
	case strings.HasPrefix(path, "/v1/children") || strings.HasPrefix(path, "/v1/photos"):
		return "children"
	case strings.HasPrefix(path, "/v1/import"):
		return "import"
	case strings.HasPrefix(path, "/v1/matches") || strings.HasPrefix(path, "/v1/decisions"):
		return "matches"
	case strings.HasPrefix(path, "/v1/jobs"):
		return "jobs"
	case strings.HasPrefix(path, "/v1/audit"):
		return "audit"
	}
	return "service"
}

// OpenAPIDocument returns the OpenAPI document a server with cfg serves at
// /openapi.json, without building one (for `trackmatch openapi` and the
// linter that make test runs on it).
func OpenAPIDocument(cfg Config) ([]byte, error) {
	s := &Server{cfg: cfg.withDefaults(), registry: prometheus.NewRegistry()}
	doc, err := buildOpenAPI(s.routes(), s.cfg)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(doc, "", "  ")
}
