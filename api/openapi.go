package api

import (
	"fmt"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3gen"

	"github.com/trackmatch/trackmatch/models"
)

// buildOpenAPI describes the route table as an OpenAPI 3.0 document. Body
// schemas are generated from the Go types the handlers decode and encode;
// paths, roles, parameters and statuses come from the same rows that
// register the gin routes.
func buildOpenAPI(routes []route, cfg Config) (*openapi3.T, error) {
	doc := &openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{
			Title:       "trackmatch",
			Version:     "1",
			Description: apiDescription(cfg),
		},
		Paths: openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas: openapi3.Schemas{},
			SecuritySchemes: openapi3.SecuritySchemes{
				"apiKey": &openapi3.SecuritySchemeRef{Value: &openapi3.SecurityScheme{
					Type: "http", Scheme: "bearer",
					Description: "An API key from TRACKMATCH_API_KEYS, sent as Authorization: Bearer KEY.",
				}},
			},
		},
	}
	comps := doc.Components.Schemas
	if _, err := schemaInto(comps, errorResponse{}, false); err != nil {
		return nil, fmt.Errorf("error schema: %w", err)
	}
	codes := make([]string, 0, len(statusByCode))
	for c := range statusByCode {
		codes = append(codes, c)
	}
	sort.Strings(codes)
	codeSchema := comps["ErrorDetail"].Value.Properties["code"].Value
	for _, c := range codes {
		codeSchema.Enum = append(codeSchema.Enum, c)
	}
	doc.Servers = openapi3.Servers{{URL: "{scheme}://{host}", Description: "a trackmatch server (trackmatch serve; --addr, --tls-cert)",
		Variables: map[string]*openapi3.ServerVariable{
			"scheme": {Enum: []string{"http", "https"}, Default: "http", Description: "https with --tls-cert"},
			"host":   {Default: "127.0.0.1:8080", Description: "host and port the server listens on (--addr)"},
		}}}
	doc.Tags = apiTags()

	for _, r := range routes {
		op, err := r.operation(cfg, comps)
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.method, r.path, err)
		}
		path := openAPIPath(r.path)
		item := doc.Paths.Value(path)
		if item == nil {
			item = &openapi3.PathItem{}
			doc.Paths.Set(path, item)
		}
		if item.GetOperation(r.method) != nil {
			return nil, fmt.Errorf("%s %s: listed twice", r.method, r.path)
		}
		item.SetOperation(r.method, op)
	}
	// A type whose schema is not an object (Guardian: a name, or an object)
	// is referred to but not exported by openapi3gen: add it.
	for _, v := range []any{models.Guardian{}} {
		for _, strict := range []bool{false, true} {
			if name := schemaName(reflect.TypeOf(v), strict); comps[name] == nil {
				s, err := schemaFor(v, strict)
				if err != nil {
					return nil, err
				}
				comps[name] = s
			}
		}
	}
	return doc, nil
}

// apiDescription is the document's overview: auth, limits, strictness and
// the error codes with their statuses.
func apiDescription(cfg Config) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Matches missing-child reports against found-child records.\n\n")
	fmt.Fprintf(&b, "Every /v1 route needs Authorization: Bearer KEY; a missing or unknown key is 401, a key whose role may not use the route is 403. ")
	fmt.Fprintf(&b, "Each key may make %g requests a second (bursts of %d); past that, 429.\n\n", cfg.RatePerSecond, cfg.RateBurst)
	fmt.Fprintf(&b, "JSON bodies must be application/json, at most %d bytes, one object with known fields only: unknown fields, wrong types, trailing data and invalid UTF-8 are 400; a well-formed record that fails validation is 422 listing every failing field. ", cfg.MaxJSONBytes)
	fmt.Fprintf(&b, "A photo may be at most %d bytes; a search at most %d photos and %d photo bytes; over a limit is 413. ", cfg.MaxPhotoBytes, cfg.MaxPhotosPerSearch, cfg.MaxSearchBytes)
	fmt.Fprintf(&b, "Photo uploads and photo searches share %d slots; when all stay busy for %s, 503.\n\n", cfg.MaxConcurrentEmbeds, cfg.EmbedWait)
	fmt.Fprintf(&b, "Every error is {\"error\": {\"code\", \"message\", \"fields\"}}; codes and statuses:")
	codes := make([]string, 0, len(statusByCode))
	for c := range statusByCode {
		codes = append(codes, c)
	}
	sort.Slice(codes, func(i, j int) bool {
		si, sj := statusByCode[codes[i]], statusByCode[codes[j]]
		return si < sj || si == sj && codes[i] < codes[j]
	})
	for _, c := range codes {
		fmt.Fprintf(&b, " %s %d;", c, statusByCode[c])
	}
	return strings.TrimSuffix(b.String(), ";") + "."
}

// openAPIPath turns gin's /v1/children/:id into /v1/children/{id}.
func openAPIPath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") || strings.HasPrefix(s, "*") {
			segs[i] = "{" + s[1:] + "}"
		}
	}
	return strings.Join(segs, "/")
}

// operation describes one route.
func (r route) operation(cfg Config, comps openapi3.Schemas) (*openapi3.Operation, error) {
	op := &openapi3.Operation{
		OperationID: r.op,
		Summary:     r.summary,
		Tags:        []string{routeTag(r.path)},
		Responses:   openapi3.NewResponsesWithCapacity(len(r.ok) + 8),
	}
	if r.roles == nil {
		op.Security = openapi3.NewSecurityRequirements() // public
		op.Description = "Public: no key needed."
	} else {
		op.Security = openapi3.NewSecurityRequirements().With(openapi3.NewSecurityRequirement().Authenticate("apiKey"))
		names := make([]string, len(r.roles))
		for i, role := range r.roles {
			names[i] = string(role)
		}
		op.Description = "Roles: " + strings.Join(names, ", ") + ". Audited as " + r.action + "."
		op.Extensions = map[string]any{"x-roles": names, "x-audit-action": r.action}
	}
	for _, seg := range strings.Split(r.path, "/") {
		if strings.HasPrefix(seg, ":") {
			op.AddParameter(openapi3.NewPathParameter(seg[1:]).WithSchema(openapi3.NewStringSchema().WithMaxLength(maxIDBytes)))
		}
	}
	for _, q := range r.query {
		op.AddParameter(openapi3.NewQueryParameter(q.name).WithDescription(q.desc).WithSchema(q.schema()))
	}
	body, err := r.requestBody(cfg, comps)
	if err != nil {
		return nil, err
	}
	op.RequestBody = body
	for _, ok := range r.ok {
		resp, err := ok.response(comps)
		if err != nil {
			return nil, err
		}
		op.AddResponse(ok.status, resp)
	}
	for _, st := range r.errorStatuses() {
		ref := &openapi3.SchemaRef{Ref: "#/components/schemas/Error"}
		op.AddResponse(st, openapi3.NewResponse().WithDescription(http.StatusText(st)).
			WithContent(openapi3.NewContentWithJSONSchemaRef(ref)))
	}
	return op, nil
}

// schema is the OpenAPI schema of a query parameter.
func (q queryParam) schema() *openapi3.Schema {
	switch {
	case q.integer:
		return openapi3.NewIntegerSchema().WithMin(q.min).WithMax(q.max).WithDefault(q.def)
	case q.number:
		return openapi3.NewFloat64Schema().WithMin(q.min).WithMax(q.max)
	case q.dateTime:
		return openapi3.NewDateTimeSchema()
	case q.enum != nil:
		vals := make([]any, len(q.enum))
		for i, v := range q.enum {
			vals[i] = v
		}
		return openapi3.NewStringSchema().WithEnum(vals...)
	}
	s := openapi3.NewStringSchema()
	if q.maxLen > 0 {
		s = s.WithMaxLength(int64(q.maxLen))
	}
	return s
}

// requestBody describes what the route reads.
func (r route) requestBody(cfg Config, comps openapi3.Schemas) (*openapi3.RequestBodyRef, error) {
	switch r.body {
	case bodyJSON, bodyJSONOptional:
		s, err := schemaInto(comps, r.request, true)
		if err != nil {
			return nil, err
		}
		return &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
			WithRequired(r.body == bodyJSON).WithJSONSchemaRef(s)}, nil
	case bodyPhoto:
		photo := binarySchema()
		photo.Description = fmt.Sprintf("a still JPEG, PNG or WebP photo, at most %d bytes (others are 415; damaged ones 422)", cfg.MaxPhotoBytes)
		s := openapi3.NewObjectSchema().WithProperty("photo", photo)
		s.Required = []string{"photo"}
		return &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).
			WithContent(openapi3.NewContentWithFormDataSchema(s))}, nil
	case bodyImport:
		return importRequestBody(comps)
	case bodySearch:
		q, err := schemaFor(childInput{}, true)
		if err != nil {
			return nil, err
		}
		q.Value.Description = "the query record: its kind is the side of the child sought from (missing searches found, found searches missing)"
		photos := openapi3.NewArraySchema().WithItems(binarySchema()).WithMaxItems(int64(cfg.MaxPhotosPerSearch))
		photos.Description = fmt.Sprintf("zero to %d JPEG, PNG or WebP photos, each at most %d bytes", cfg.MaxPhotosPerSearch, cfg.MaxPhotoBytes)
		s := openapi3.NewObjectSchema().WithPropertyRef("query", q).WithProperty("photo", photos)
		s.Required = []string{"query"}
		mt := openapi3.NewMediaType().WithSchema(s).
			WithEncoding("query", &openapi3.Encoding{ContentType: "application/json"})
		return &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).
			WithContent(openapi3.Content{"multipart/form-data": mt})}, nil
	}
	return nil, nil
}

func binarySchema() *openapi3.Schema {
	return openapi3.NewStringSchema().WithFormat("binary")
}

// response describes one success response.
func (ok okResponse) response(comps openapi3.Schemas) (*openapi3.Response, error) {
	desc := ok.desc
	if desc == "" {
		desc = http.StatusText(ok.status)
	}
	resp := openapi3.NewResponse().WithDescription(desc)
	switch {
	case ok.media != "":
		s := openapi3.NewStringSchema()
		if strings.HasPrefix(ok.media, "image/") {
			s = binarySchema()
		}
		resp.WithContent(openapi3.NewContentWithSchema(s, []string{ok.media}))
	case ok.body != nil:
		s, err := schemaInto(comps, ok.body, false)
		if err != nil {
			return nil, err
		}
		resp.WithContent(openapi3.NewContentWithJSONSchemaRef(s))
	}
	return resp, nil
}

// schemaFor generates the schema of v's type. Fields without omitempty are
// required (the handlers always write them; a request must send them).
// With strict, objects refuse properties they do not list, as the JSON
// decoder does.
func schemaFor(v any, strict bool) (*openapi3.SchemaRef, error) {
	return schemaInto(nil, v, strict)
}

// schemaInto is schemaFor with every named struct type put in components
// (schemaName) and referred to, when components is not nil.
func schemaInto(components openapi3.Schemas, v any, strict bool) (*openapi3.SchemaRef, error) {
	opts := []openapi3gen.Option{openapi3gen.SchemaCustomizer(
		func(name string, t reflect.Type, _ reflect.StructTag, s *openapi3.Schema) error {
			return customizeSchema(name, t, s, strict)
		})}
	if components != nil {
		opts = append(opts,
			openapi3gen.CreateComponentSchemas(openapi3gen.ExportComponentSchemasOptions{ExportComponentSchemas: true, ExportTopLevelSchema: true}),
			openapi3gen.CreateTypeNameGenerator(func(t reflect.Type) string { return schemaName(t, strict) }))
	}
	return openapi3gen.NewGenerator(opts...).NewSchemaRefForValue(v, components)
}

// customizeSchema adds what reflection cannot see: enums of the models'
// string types, date formats, fixed-length arrays and required fields.
func customizeSchema(name string, t reflect.Type, s *openapi3.Schema, strict bool) error {
	enum := func(vals ...string) {
		s.Enum = nil
		for _, v := range vals {
			s.Enum = append(s.Enum, v)
		}
	}
	switch t {
	case reflect.TypeFor[models.Kind]():
		enum(string(models.KindMissing), string(models.KindFound))
	case reflect.TypeFor[models.Sex]():
		enum(string(models.SexFemale), string(models.SexMale), string(models.SexUnknown))
	case reflect.TypeFor[models.Status]():
		enum(string(models.StatusOpen), string(models.StatusMatched), string(models.StatusClosed))
	case reflect.TypeFor[models.MatchStatus]():
		if name == "decision" {
			enum(string(models.MatchConfirmed), string(models.MatchRejected))
		} else {
			enum(string(models.MatchNew), string(models.MatchConfirmed), string(models.MatchRejected))
		}
	case reflect.TypeFor[models.JobState]():
		enum(string(models.JobQueued), string(models.JobRunning), string(models.JobDone), string(models.JobFailed), string(models.JobCanceled))
	case reflect.TypeFor[models.Date]():
		s.Format = "date"
	case reflect.TypeFor[models.Relation]():
		enum(string(models.RelationFather), string(models.RelationMother), string(models.RelationGuardian), string(models.RelationOther))
	}
	switch {
	case t.Kind() == reflect.Array:
		switch k := t.Elem().Kind(); k {
		case reflect.Int:
			s.Items = openapi3.NewIntegerSchema().NewRef()
		case reflect.Float32, reflect.Float64:
			s.Items = openapi3.NewFloat64Schema().NewRef()
		default:
			return fmt.Errorf("array of %s: not described", k)
		}
		s.Type = &openapi3.Types{openapi3.TypeArray}
		s.MinItems = uint64(t.Len())
		n := uint64(t.Len())
		s.MaxItems = &n
	case t.Kind() == reflect.Struct && t != reflect.TypeFor[time.Time]() && s.Properties != nil:
		s.Required = requiredFields(t)
		if strict {
			no := false
			s.AdditionalProperties = openapi3.AdditionalProperties{Has: &no}
		}
	}
	if t == reflect.TypeFor[models.Guardian]() {
		// A guardian is an object, or a plain name as before relations
		// were kept (models.Guardian.UnmarshalJSON).
		obj := *s
		*s = openapi3.Schema{OneOf: openapi3.SchemaRefs{openapi3.NewStringSchema().NewRef(), obj.NewRef()}}
	}
	return nil
}

// requiredFields lists t's JSON fields without omitempty, flattening
// embedded structs the way encoding/json does (an outer field overrides an
// embedded one of the same name).
func requiredFields(t reflect.Type) []string {
	required := map[string]bool{}
	var order []string
	var walk func(t reflect.Type)
	walk = func(t reflect.Type) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag, hasTag := f.Tag.Lookup("json")
			if tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if f.Anonymous && name == "" {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if ft.Kind() == reflect.Struct {
					walk(ft)
					continue
				}
			}
			if !f.IsExported() || !hasTag {
				continue // openapi3gen describes only tagged fields
			}
			if name == "" {
				name = f.Name
			}
			if _, seen := required[name]; !seen {
				order = append(order, name)
			}
			o := "," + opts + ","
			required[name] = !strings.Contains(o, ",omitempty,") && !strings.Contains(o, ",omitzero,")
		}
	}
	walk(t)
	var out []string
	for _, n := range order {
		if required[n] {
			out = append(out, n)
		}
	}
	return out
}
