package layers

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/segtool/segtool/"

// allowed is docs/architecture.md's table of arrows: the segtool packages
// each package's non-test files may import. A package missing here fails
// the test, so a new package gets a place on the map.
var allowed = map[string][]string{
	// data and models
	"matfile":          nil,
	"cvguard":          nil,
	"dataset":          {"cvguard", "matfile"},
	"models":           {"dataset", "internal/safeyaml", "models/onnxbuild"},
	"models/onnxbuild": nil,
	// algorithms on planes and Mats
	"sheet":     nil,
	"composite": {"cvguard", "sheet"},
	"synth":     {"composite"},
	"trimap":    nil,
	"temporal":  nil,
	"coco":      nil,
	"augment":   {"internal/safeyaml", "sheet", "synth"},
	"apply":     {"composite", "cvguard", "sheet", "trimap"},
	"eval":      {"coco", "dataset", "models", "sheet", "temporal"},
	// jobs
	"jobs": {"apply", "augment", "coco", "composite", "configs", "dataset", "internal/safeyaml", "models", "sheet", "temporal", "trimap"},
	// reading run folders
	"report": {"coco", "dataset", "eval", "internal/safeyaml", "models"},
	// the command line
	"cmd/segtool": {"apply", "augment", "coco", "composite", "configs", "dataset", "eval", "jobs", "models", "models/onnxbuild", "report", "synth", "temporal", "trimap"},
	// built-in presets, embedded
	"configs": nil,
	// bounded YAML configs (augment, gate, model specs)
	"internal/safeyaml": nil,
	// test support
	"internal/shareddata": nil,
	"internal/matleak":    nil,
	"internal/layers":     nil,
	"internal/fixture":    {"internal/shareddata", "matfile"},
	"internal/testmodel":  {"internal/shareddata", "models", "models/onnxbuild"},
}

func TestImportsFollowTheLayers(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || n == "bin" || n == "demo" || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(p))
		pkg := filepath.ToSlash(rel)
		seen[pkg] = true
		want, ok := allowed[pkg]
		if !ok {
			t.Errorf("%s: package not on the map in docs/architecture.md (add it to allowed)", pkg)
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), p, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		for _, im := range f.Imports {
			path := strings.Trim(im.Path.Value, `"`)
			dep, ok := strings.CutPrefix(path, module)
			if !ok {
				continue
			}
			if !slices.Contains(want, dep) {
				t.Errorf("%s imports %s, an arrow the layers do not allow", filepath.Join(rel, filepath.Base(p)), dep)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var gone []string
	for pkg := range allowed {
		if !seen[pkg] {
			gone = append(gone, pkg)
		}
	}
	sort.Strings(gone)
	if len(gone) > 0 {
		t.Errorf("packages on the map that no longer exist: %v", gone)
	}
}
