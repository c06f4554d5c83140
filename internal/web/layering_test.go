package web_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "github.com/herts-msp/taxi-renewals"

// TestLayering keeps the shape of DESIGN §5: web talks to service and never imports store
// itself, and domain depends (even through the packages it imports) on neither Echo nor GORM.
// Only non-test files count: tests may build a store through testenv.
func TestLayering(t *testing.T) {
	tests := []struct {
		name       string
		pkg        string // under the module
		transitive bool   // follow the module's own imports too
		forbidden  []string
	}{
		{name: "web never imports store", pkg: "internal/web", forbidden: []string{module + "/internal/store"}},
		{name: "domain imports neither Echo nor GORM", pkg: "internal/domain", transitive: true,
			forbidden: []string{"github.com/labstack/echo", "gorm.io/gorm", "gorm.io/driver"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for _, v := range violations(t, tc.pkg, tc.transitive, tc.forbidden) {
				t.Error(v)
			}
		})
	}

	// The check itself sees an import: service does use the store.
	t.Run("the check finds service's import of store", func(t *testing.T) {
		if v := violations(t, "internal/service", false, []string{module + "/internal/store"}); len(v) == 0 {
			t.Fatal("no import of internal/store found in internal/service: the check reads nothing")
		}
	})
}

// violations lists the forbidden imports of pkg's non-test files, each with the chain of
// imports that leads to it.
func violations(t *testing.T, pkg string, transitive bool, forbidden []string) []string {
	t.Helper()
	root := filepath.Join("..", "..") // the module root, from internal/web
	var out []string
	seen := map[string]bool{}
	var walk func(pkg string, chain []string)
	walk = func(pkg string, chain []string) {
		if seen[pkg] {
			return
		}
		seen[pkg] = true
		chain = append(chain, pkg)
		for _, imp := range imports(t, filepath.Join(root, filepath.FromSlash(pkg))) {
			for _, f := range forbidden {
				if imp == f || strings.HasPrefix(imp, f+"/") {
					out = append(out, strings.Join(append(chain, imp), " imports "))
				}
			}
			if transitive && strings.HasPrefix(imp, module+"/") {
				walk(strings.TrimPrefix(imp, module+"/"), chain)
			}
		}
	}
	walk(pkg, nil)
	return out
}

// imports reads the import paths of the non-test Go files in dir, sorted.
func imports(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]bool{}
	fset := token.NewFileSet()
	files := 0
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ImportsOnly)
		if err != nil {
			t.Fatal(err)
		}
		files++
		for _, is := range f.Imports {
			p, err := strconv.Unquote(is.Path.Value)
			if err != nil {
				t.Fatal(err)
			}
			set[p] = true
		}
	}
	if files == 0 {
		t.Fatalf("no Go files in %s", dir)
	}
	out := make([]string, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}
