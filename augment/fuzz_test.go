package augment

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/safeyaml"
)

// aliasBomb nests aliases inside ops: each level holds nine of the last,
// so nine levels name 9^9 fliplr ops in about a kilobyte.
func aliasBomb() string {
	var b strings.Builder
	b.WriteString("ops:\n  - sequential:\n      ops: &l0 [fliplr, fliplr, fliplr, fliplr, fliplr, fliplr, fliplr, fliplr, fliplr]\n")
	for i := 1; i <= 9; i++ {
		b.WriteString("  - sequential:\n      ops: &l" + string(rune('0'+i)) + " [")
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("{sequential: {ops: *l" + string(rune('0'+i-1)) + "}}")
		}
		b.WriteString("]\n")
	}
	return b.String()
}

// TestAliasesRefused: an anchor or alias anywhere in a pipeline, the bomb
// nested under ops included, is a ConfigError at its line, found before
// any op is built.
func TestAliasesRefused(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		line       int
	}{
		{"bomb under ops", aliasBomb(), 3},
		{"anchor on a parameter", "ops:\n  - fliplr: {p: &half 0.5}\n", 2},
		{"alias of a parameter map", "ops:\n  - fliplr: &p {p: 0.5}\n  - flipud: *p\n", 2},
		{"anchor on the document", "&top\nops: [fliplr]\n", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("bomb.yaml", []byte(tc.yaml))
			var ce *ConfigError
			if !errors.As(err, &ce) || !errors.Is(err, safeyaml.ErrAlias) {
				t.Fatalf("error %v, want a ConfigError wrapping ErrAlias", err)
			}
			if ce.File != "bomb.yaml" || ce.Line != tc.line {
				t.Errorf("%v: at %s:%d, want bomb.yaml:%d", err, ce.File, ce.Line, tc.line)
			}
		})
	}
}

// TestConfigSizeCap: a pipeline over safeyaml.MaxBytes is refused by name,
// whether read from a file or handed over as bytes.
func TestConfigSizeCap(t *testing.T) {
	big := "description: " + strings.Repeat("x", safeyaml.MaxBytes) + "\nops: [fliplr]\n"
	p := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(p, []byte(big), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(p)
	var ce *ConfigError
	if !errors.As(err, &ce) || !errors.Is(err, safeyaml.ErrTooLarge) || ce.File != p {
		t.Errorf("LoadFile: %v, want a ConfigError naming %s and wrapping ErrTooLarge", err, p)
	}
	if _, err := Parse("big.yaml", []byte(big)); !errors.Is(err, safeyaml.ErrTooLarge) {
		t.Errorf("Parse: %v, want ErrTooLarge", err)
	}
}

// FuzzAugmentConfig: any document parses or is a ConfigError naming the
// file, never a panic. Seeds: testdata/fuzz/FuzzAugmentConfig, the shipped
// configs and the alias bomb.
func FuzzAugmentConfig(f *testing.F) {
	f.Add("ops: [fliplr]\n")
	f.Add(aliasBomb())
	files, _ := filepath.Glob("../configs/augment/*.yaml")
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := Parse("f.yaml", []byte(doc))
		var ce *ConfigError
		switch {
		case err == nil && p == nil:
			t.Fatal("nil pipeline without an error")
		case err != nil && (!errors.As(err, &ce) || ce.File != "f.yaml"):
			t.Fatalf("error %v is not a ConfigError naming the file", err)
		}
	})
}
