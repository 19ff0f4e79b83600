package api

import (
	"bytes"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log/slog"
	"strings"
	"testing"
)

func TestParseKeys(t *testing.T) {
	keys, err := ParseKeys(" portal:aaaaaaaaaaaaaaaa1 , admin:bbbbbbbb:bbbbbbbb2,investigator:cccccccccccccccc3,")
	if err != nil {
		t.Fatal(err)
	}
	want := []Key{{RolePortal, "aaaaaaaaaaaaaaaa1"}, {RoleAdmin, "bbbbbbbb:bbbbbbbb2"}, {RoleInvestigator, "cccccccccccccccc3"}}
	if fmt.Sprint(len(keys)) != "3" {
		t.Fatalf("keys = %d", len(keys))
	}
	for i := range want {
		if keys[i] != want[i] {
			t.Errorf("key %d = %v, want role %s", i, keys[i], want[i].Role)
		}
	}
	for _, bad := range []string{
		"",
		" , ",
		"portal",
		"root:aaaaaaaaaaaaaaaa1",
		"portal:short",
		"portal:aaaaaaaa aaaaaaaa",
		"portal:aaaaaaaaaaaaaaaa1,admin:aaaaaaaaaaaaaaaa1",
	} {
		_, err := ParseKeys(bad)
		if err == nil {
			t.Errorf("ParseKeys(%q) accepted", bad)
			continue
		}
		if strings.Contains(err.Error(), "aaaaaaaa") {
			t.Errorf("ParseKeys(%q) error shows the secret: %v", bad, err)
		}
	}
}

func TestKeyNeverPrintsItsSecret(t *testing.T) {
	k := Key{Role: RoleAdmin, Secret: "super-secret-admin-key"}
	if id := k.ID(); len(id) != 12 || id == k.Secret || id != (Key{Role: RolePortal, Secret: k.Secret}).ID() {
		t.Errorf("ID = %q", id)
	}
	if k.ID() == (Key{Secret: "super-secret-admin-kez"}).ID() {
		t.Errorf("different secrets, same id")
	}
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("key", "k", k)
	for _, s := range []string{fmt.Sprint(k), fmt.Sprintf("%v %s", k, k), buf.String()} {
		if strings.Contains(s, "super-secret") {
			t.Errorf("secret printed: %s", s)
		}
	}
}

func TestLookupKeyMatchesOnlyExactKeys(t *testing.T) {
	s := &Server{}
	for _, k := range []Key{{RolePortal, "portal-key-0123456789"}, {RoleAdmin, "admin-key-0123456789"}} {
		s.keys = append(s.keys, newKeyEntry(k, 1, 1))
	}
	if k, ok := s.lookupKey("admin-key-0123456789"); !ok || k.role != RoleAdmin {
		t.Errorf("admin key: %v %v", k, ok)
	}
	if k, ok := s.lookupKey("portal-key-0123456789"); !ok || k.role != RolePortal {
		t.Errorf("portal key: %v %v", k, ok)
	}
	for _, bad := range []string{"", "admin-key-012345678", "admin-key-01234567890", "ADMIN-KEY-0123456789", "portal-key-0123456789 "} {
		if _, ok := s.lookupKey(bad); ok {
			t.Errorf("lookupKey(%q) matched", bad)
		}
	}
	if _, ok := (&Server{}).lookupKey("anything"); ok {
		t.Errorf("no keys configured, yet a key matched")
	}
}

// The key check must compare hashes with crypto/subtle and never compare
// secrets with == or bytes.Equal: the source of lookupKey is checked.
func TestLookupKeyComparesInConstantTime(t *testing.T) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "auth.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var fn *ast.FuncDecl
	for _, d := range f.Decls {
		if d, ok := d.(*ast.FuncDecl); ok && d.Name.Name == "lookupKey" {
			fn = d
		}
	}
	if fn == nil {
		t.Fatal("lookupKey not found in auth.go")
	}
	var constantTime, hashed, early bool
	ast.Inspect(fn.Body, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.SelectorExpr:
			if x, ok := n.X.(*ast.Ident); ok {
				constantTime = constantTime || x.Name == "subtle" && n.Sel.Name == "ConstantTimeCompare"
				hashed = hashed || x.Name == "sha256" && n.Sel.Name == "Sum256"
				if x.Name == "bytes" && n.Sel.Name == "Equal" {
					t.Errorf("%s: bytes.Equal in lookupKey", fset.Position(n.Pos()))
				}
			}
		case *ast.ForStmt, *ast.RangeStmt:
			ast.Inspect(n, func(m ast.Node) bool {
				switch m := m.(type) {
				case *ast.BranchStmt:
					early = early || m.Tok == token.BREAK
				case *ast.ReturnStmt, *ast.IfStmt:
					early = true // a return or a branch on the comparison inside the loop
				}
				return true
			})
		}
		return true
	})
	if !constantTime || !hashed {
		t.Errorf("lookupKey must hash the presented key (sha256.Sum256: %v) and compare with subtle.ConstantTimeCompare (%v)", hashed, constantTime)
	}
	if early {
		t.Errorf("lookupKey leaves its loop early: the time taken would tell which key matched")
	}
}
