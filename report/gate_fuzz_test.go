package report

import (
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/safeyaml"
)

// TestGateRefusesAliasesAndSize: anchors and aliases are refused at their
// line, and a gate file over safeyaml.MaxBytes by name.
func TestGateRefusesAliasesAndSize(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "g.yaml")
	for _, tc := range []struct{ text, want string }{
		{"rules:\n  - &r dice >= 0.95\n  - *r\n", p + ":2: "},
		{"rules: &a\n  - dice >= 0.5\nmax_drop:\n  dice: 0.1\n", p + ":1: "},
		{"max_drop: {dice: &d 0.1, miou: *d}\n", p + ":1: "},
	} {
		os.WriteFile(p, []byte(tc.text), 0o644)
		_, err := LoadGate(p)
		if !errors.Is(err, safeyaml.ErrAlias) || !strings.HasPrefix(err.Error(), tc.want) {
			t.Errorf("gate %q: error %v, want ErrAlias at %q", tc.text, err, tc.want)
		}
	}
	os.WriteFile(p, []byte("rules:\n"+strings.Repeat("  - dice >= 0.5\n", safeyaml.MaxBytes/16+1)), 0o644)
	if _, err := LoadGate(p); !errors.Is(err, safeyaml.ErrTooLarge) || !strings.HasPrefix(err.Error(), p+": ") {
		t.Errorf("big gate: %v, want ErrTooLarge naming %s", err, p)
	}
}

// FuzzGate: any gate document parses or is an error naming the file, never
// a panic; every parsed limit is finite. Seeds: testdata/fuzz/FuzzGate and
// the shipped gate files.
func FuzzGate(f *testing.F) {
	f.Add("rules:\n  - dice >= 0.95\nmax_drop:\n  dice: 0.005\ntiming_noise: false\n")
	for _, p := range []string{"../configs/regression.yaml", "../configs/gate-demo.yaml"} {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Fuzz(func(t *testing.T, doc string) {
		g, err := ParseGate("g.yaml", []byte(doc))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "g.yaml") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		for _, r := range g.Rules {
			if math.IsNaN(r.Limit) || math.IsInf(r.Limit, 0) {
				t.Errorf("rule %v: limit not finite", r)
			}
		}
		for _, d := range g.MaxDrop {
			if math.IsNaN(d.Max) || math.IsInf(d.Max, 0) || d.Max < 0 {
				t.Errorf("max_drop %v: not a finite number >= 0", d)
			}
		}
	})
}
