package safeyaml

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		doc  string
		line int // 0: accepted
	}{
		{"a: [1, 2]\nb: {c: d}\n", 0},
		{"a: 1\nb: &x 2\n", 2},
		{"a: [1, 2]\nb:\n  - c\n  - *x\n", -1}, // unknown alias: yaml.v3's syntax error
		{"x: &x [1]\ny: [*x, *x]\n", 1},
	} {
		_, err := Parse([]byte(tc.doc))
		var le *LineError
		switch {
		case tc.line == 0 && err != nil:
			t.Errorf("%q: %v", tc.doc, err)
		case tc.line > 0 && (!errors.As(err, &le) || le.Line != tc.line || !errors.Is(err, ErrAlias)):
			t.Errorf("%q: %v, want ErrAlias at line %d", tc.doc, err, tc.line)
		case tc.line < 0 && err == nil:
			t.Errorf("%q: accepted", tc.doc)
		}
	}
}

func TestReadFileCap(t *testing.T) {
	p := filepath.Join(t.TempDir(), "c.yaml")
	os.WriteFile(p, []byte(strings.Repeat("#", MaxBytes)), 0o644)
	if _, err := ReadFile(p); err != nil {
		t.Errorf("exactly MaxBytes: %v", err)
	}
	os.WriteFile(p, []byte(strings.Repeat("#", MaxBytes+1)), 0o644)
	if _, err := ReadFile(p); !errors.Is(err, ErrTooLarge) {
		t.Errorf("MaxBytes+1: %v, want ErrTooLarge", err)
	}
}
