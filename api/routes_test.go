package api

import (
	"context"
	"net/http"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/trackmatch/trackmatch/models"
)

// concretePath fills a route's :params with a placeholder id.
func concretePath(p string) string {
	segs := strings.Split(p, "/")
	for i, s := range segs {
		if strings.HasPrefix(s, ":") {
			segs[i] = "x"
		}
	}
	return strings.Join(segs, "/")
}

func TestEveryV1RouteNeedsAKey(t *testing.T) {
	h := newHarness(t)
	for _, r := range h.srv.routes() {
		if r.roles == nil {
			continue
		}
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			path := concretePath(r.path)
			wantError(t, h.do(request{method: r.method, path: path}), http.StatusUnauthorized, models.EUNAUTHORIZED)
			wantError(t, h.do(request{method: r.method, path: path, key: "not-a-key-but-long-enough"}), http.StatusUnauthorized, models.EUNAUTHORIZED)
			wantError(t, h.do(request{method: r.method, path: path, header: map[string]string{"Authorization": "Basic " + adminKey}}), http.StatusUnauthorized, models.EUNAUTHORIZED)
			wantError(t, h.do(request{method: r.method, path: path, key: adminKey[:len(adminKey)-1]}), http.StatusUnauthorized, models.EUNAUTHORIZED)
			wantError(t, h.do(request{method: r.method, path: path, key: adminKey + "0"}), http.StatusUnauthorized, models.EUNAUTHORIZED)
			r401 := h.do(request{method: r.method, path: path})
			if !strings.HasPrefix(r401.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 without WWW-Authenticate: Bearer")
			}
		})
	}
	if n := len(h.audit.all()); n != 0 {
		t.Errorf("%d audit entries for unauthenticated requests; they must not fill the audit log", n)
	}
}

func TestEveryV1RouteRefusesOtherRoles(t *testing.T) {
	h := newHarness(t)
	all := allRoles()
	for _, r := range h.srv.routes() {
		if r.roles == nil {
			continue
		}
		if !hasRole(r.roles, RoleAdmin) {
			t.Errorf("%s %s: admin may not use it", r.method, r.path)
		}
		var refused []Role
		for _, role := range all {
			if !hasRole(r.roles, role) {
				refused = append(refused, role)
			}
		}
		if len(refused) == 0 {
			continue // open to every role: no 403 possible
		}
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			for _, role := range refused {
				before := len(h.audit.all())
				e := wantError(t, h.do(request{method: r.method, path: concretePath(r.path), key: keyFor(role)}), http.StatusForbidden, models.EFORBIDDEN)
				if !strings.Contains(e.Message, string(role)) {
					t.Errorf("403 message %q does not name the role", e.Message)
				}
				entries := h.audit.all()
				if len(entries) != before+1 || entries[len(entries)-1].Status != 403 || entries[len(entries)-1].Role != string(role) {
					t.Errorf("refused request not audited: %+v", entries[before:])
				}
			}
		})
	}
}

func hasRole(roles []Role, r Role) bool {
	for _, x := range roles {
		if x == r {
			return true
		}
	}
	return false
}

// The roles the brief assigns, checked against the table so that a change
// to the table is a deliberate one.
func TestRoleAssignments(t *testing.T) {
	h := newHarness(t)
	want := map[string]string{
		"POST /v1/children":               "portal,admin",
		"GET /v1/children/:id":            "investigator,admin",
		"PUT /v1/children/:id":            "portal,admin",
		"DELETE /v1/children/:id":         "portal,admin",
		"POST /v1/children/:id/photos":    "portal,admin",
		"GET /v1/children/:id/candidates": "portal,investigator,admin",
		"POST /v1/search":                 "portal,investigator,admin",
		"GET /v1/photos/:id":              "investigator,admin",
		"GET /v1/matches":                 "investigator,admin",
		"POST /v1/matches/:id/decision":   "investigator,admin",
		"POST /v1/jobs/rescore":           "admin",
		"GET /v1/jobs/:id":                "admin",
		"POST /v1/jobs/:id/cancel":        "admin",
		"GET /v1/audit":                   "admin",
		"GET /v1/children":                "portal,investigator,admin", // portal: by kind and external_ref only, refs only
		"DELETE /v1/photos/:id":           "portal,admin",
		"GET /v1/matches.csv":             "investigator,admin",
		"GET /v1/decisions":               "investigator,admin",
		"GET /v1/decisions.csv":           "investigator,admin",
		"GET /v1/jobs":                    "admin",
		"POST /v1/import":                 "portal,admin",
		"GET /healthz":                    "",
		"GET /readyz":                     "",
		"GET /metrics":                    "",
		"GET /openapi.json":               "",
	}
	got := map[string]string{}
	for _, r := range h.srv.routes() {
		names := make([]string, len(r.roles))
		for i, role := range r.roles {
			names[i] = string(role)
		}
		got[r.method+" "+r.path] = strings.Join(names, ",")
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("route roles:\n got %v\nwant %v", got, want)
	}
}

func TestUnknownRouteAndWrongMethod(t *testing.T) {
	h := newHarness(t)
	wantError(t, h.do(request{method: "GET", path: "/v1/nope", key: adminKey}), http.StatusNotFound, models.ENOTFOUND)
	wantError(t, h.do(request{method: "GET", path: "/v1/children/"}), http.StatusNotFound, models.ENOTFOUND)
	r := h.do(request{method: "PATCH", path: "/v1/children/x", key: adminKey})
	wantError(t, r, http.StatusMethodNotAllowed, codeMethodNotAllowed)
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "PUT") || !strings.Contains(allow, "DELETE") {
		t.Errorf("Allow = %q", allow)
	}
	wantError(t, h.do(request{method: "DELETE", path: "/v1/search", key: adminKey}), http.StatusMethodNotAllowed, codeMethodNotAllowed)
	wantError(t, h.do(request{method: "FROB", path: "/healthz"}), http.StatusMethodNotAllowed, codeMethodNotAllowed)
}

func TestOpenAPIDocumentValidates(t *testing.T) {
	h := newHarness(t)
	r := h.do(request{method: "GET", path: "/openapi.json"})
	if r.status != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		t.Fatalf("openapi.json: %d %s", r.status, r.header.Get("Content-Type"))
	}
	doc, err := openapi3.NewLoader().LoadFromData(r.body)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("document does not validate: %v", err)
	}
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
}

// The document and the gin router must list exactly the same operations.
func TestOpenAPIDocumentMatchesRegisteredRoutes(t *testing.T) {
	h := newHarness(t)
	var registered []string
	for _, ri := range h.srv.engine.Routes() {
		if isWebRoute(ri.Path) {
			continue // the investigator page (web.go) is not an API operation
		}
		registered = append(registered, ri.Method+" "+openAPIPath(ri.Path))
	}
	var documented []string
	for path, item := range h.doc.Paths.Map() {
		for method := range item.Operations() {
			documented = append(documented, method+" "+path)
		}
	}
	sort.Strings(registered)
	sort.Strings(documented)
	if !reflect.DeepEqual(registered, documented) {
		t.Errorf("gin routes and OpenAPI operations differ:\n gin %v\ndoc %v", registered, documented)
	}
	if len(registered) != len(h.srv.routes()) {
		t.Errorf("%d gin routes for %d table rows", len(registered), len(h.srv.routes()))
	}
	for _, r := range h.srv.routes() {
		op := h.doc.Paths.Find(openAPIPath(r.path)).GetOperation(r.method)
		if r.roles != nil && (op.Security == nil || len(*op.Security) == 0) {
			t.Errorf("%s %s: no security requirement in the document", r.method, r.path)
		}
		if r.roles == nil && (op.Security == nil || len(*op.Security) != 0) {
			t.Errorf("%s %s: public route must have security []", r.method, r.path)
		}
	}
}

// Every server-set JSON field of models.Child is either accepted by
// childInput or known to be read-only, so a new model field cannot be
// silently missing from the API.
func TestChildInputCoversEditableFields(t *testing.T) {
	readOnly := map[string]bool{"id": true, "created_at": true, "updated_at": true, "photos": true}
	input := map[string]bool{}
	it := reflect.TypeFor[childInput]()
	for i := range it.NumField() {
		name, _, _ := strings.Cut(it.Field(i).Tag.Get("json"), ",")
		input[name] = true
	}
	ct := reflect.TypeFor[models.Child]()
	for i := range ct.NumField() {
		name, _, _ := strings.Cut(ct.Field(i).Tag.Get("json"), ",")
		if !input[name] && !readOnly[name] {
			t.Errorf("models.Child field %q is neither in childInput nor read-only", name)
		}
		if input[name] && readOnly[name] {
			t.Errorf("field %q is both editable and read-only", name)
		}
	}
	// And the conversion copies every editable field.
	in := childInput{
		Kind: "found", ExternalRef: "r", Names: []string{"n"}, Sex: "male", Age: &models.AgeRange{Min: 1, Max: 2},
		ObservedOn: "2025-01-01", HeightCM: 100, Marks: "m", Languages: []string{"l"},
		Place: models.Place{State: "s"}, Guardians: []models.Guardian{{Name: "g"}}, Home: models.Home{Village: "v"}, Clothing: models.Clothing{Text: "c"}, Descriptors: models.Descriptors{Build: "thin"}, Notes: "o", Status: "open",
	}
	c := reflect.ValueOf(*in.Child())
	for i := range ct.NumField() {
		name, _, _ := strings.Cut(ct.Field(i).Tag.Get("json"), ",")
		if input[name] && c.Field(i).IsZero() {
			t.Errorf("ChildInput.Child() drops %q", name)
		}
	}
}

// isWebRoute reports whether a gin route path is one of the page's, which
// are not API operations and so are not in the OpenAPI document.
func isWebRoute(p string) bool { return p == "/" || strings.HasPrefix(p, webAssetPrefix) }
