package layers

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// dataReasons are the only literals outside cmd/segtool that name a flag:
// reject reasons written into rejects.jsonl, kept as they are so that
// datasets stay byte-identical across versions.
var dataReasons = map[string]bool{
	`"image is %dx%d, smaller than --crop-size %d"`: true,
	`"--from alpha: the row has no alpha matte"`:    true,
}

// Only the command line knows flag names: libraries report option faults
// by field (dataset.OptionError) and cmd/segtool names the flag.
func TestNoFlagNamesOutsideTheCommandLine(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	flag := regexp.MustCompile(`(^|[^-\w])--[a-z][a-z0-9-]*`)
	err = filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			if n := d.Name(); p != root && (strings.HasPrefix(n, ".") || rel == filepath.Join("cmd", "segtool") || n == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		fset := token.NewFileSet()
		f, err := parser.ParseFile(fset, p, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if ok && lit.Kind == token.STRING && flag.MatchString(lit.Value) && !dataReasons[lit.Value] {
				t.Errorf("%s: %s names a flag; return a *dataset.OptionError with the field and let cmd/segtool name it", fset.Position(lit.Pos()), lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
