package models

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// okSpec is a complete, valid spec the error cases below break one field
// at a time.
func okSpec() Spec {
	return Spec{
		Name: "t", Input: "in", Output: "out", Layout: NCHW, Width: 64, Height: 32,
		Order: RGB, Scale: 1, Std: [3]float32{1, 1, 1}, PostScale: 1, Kind: Sigmoid,
	}
}

func TestValidate(t *testing.T) {
	if err := okSpec().Validate(); err != nil {
		t.Fatalf("valid spec: %v", err)
	}
	for _, c := range []struct {
		field string // the YAML key the error must name
		edit  func(*Spec)
	}{
		{"input", func(s *Spec) { s.Input = "" }},
		{"output", func(s *Spec) { s.Output = "" }},
		{"layout", func(s *Spec) { s.Layout = "" }},
		{"layout", func(s *Spec) { s.Layout = "CHW" }},
		{"output_layout", func(s *Spec) { s.OutputLayout = "nhwc" }},
		{"width/height", func(s *Spec) { s.Width, s.Height = 0, 0 }},
		{"width/height", func(s *Spec) { s.Width = 0 }},
		{"width/height", func(s *Spec) { s.Height = -3 }},
		{"width/height", func(s *Spec) { s.Multiple = 32 }}, // 64x32 ok, so break the height
		{"multiple", func(s *Spec) { s.Multiple = -1 }},
		{"batch", func(s *Spec) { s.Batch = -1 }},
		{"order", func(s *Spec) { s.Order = "rgb" }},
		{"scale", func(s *Spec) { s.Scale = 0 }},
		{"post_scale", func(s *Spec) { s.PostScale = 0 }},
		{"std[1]", func(s *Spec) { s.Std[1] = 0 }},
		{"output_kind", func(s *Spec) { s.Kind = "" }},
		{"output_kind", func(s *Spec) { s.Kind = "softmax" }},
		{"foreground", func(s *Spec) { s.Kind, s.Foreground = Softmax2, 2 }},
		{"foreground", func(s *Spec) { s.Foreground = 1 }},
	} {
		s := okSpec()
		c.edit(&s)
		if c.field == "width/height" && s.Multiple == 32 {
			s.Height = 48
		}
		err := s.Validate()
		if err == nil || !strings.Contains(err.Error(), c.field) {
			t.Errorf("%s broken (%+v): error %v, want one naming %q", c.field, s, err, c.field)
		}
	}
	// A partial spec (what Detect fills left out) passes the loader's check.
	p := okSpec()
	p.Input, p.Output, p.Layout, p.Width, p.Height, p.Kind = "", "", "", 0, 0, ""
	if err := p.check(false); err != nil {
		t.Errorf("partial spec: %v", err)
	}
}

func TestInputShape(t *testing.T) {
	s := okSpec()
	if got := s.InputShape(4); got[0] != 4 || got[1] != 3 || got[2] != 32 || got[3] != 64 {
		t.Errorf("NCHW shape %v, want [4 3 32 64]", got)
	}
	s.Layout = NHWC
	if got := s.InputShape(2); got[0] != 2 || got[1] != 32 || got[2] != 64 || got[3] != 3 {
		t.Errorf("NHWC shape %v, want [2 32 64 3]", got)
	}
	if s.ItemLen() != 3*64*32 {
		t.Errorf("item length %d", s.ItemLen())
	}
}

func writeFile(t *testing.T, name, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadSpec(t *testing.T) {
	p := writeFile(t, "mine.yaml", `order: RGB
scale: 0.00392156862745098
mean: [0.485, 0.456, 0.406]
std: [0.229, 0.224, 0.225]
`)
	s, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{Name: "mine", Order: RGB, Scale: 1.0 / 255,
		Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225}, PostScale: 1}
	if s != want {
		t.Errorf("loaded %+v\nwant   %+v", s, want)
	}

	// Defaults: std 1, post_scale 1.
	p = writeFile(t, "plain.yml", "name: plain\norder: BGR\nscale: 1\n")
	if s, err := LoadSpec(p); err != nil || s.Std != [3]float32{1, 1, 1} || s.PostScale != 1 || s.Name != "plain" {
		t.Errorf("defaults: %+v, %v", s, err)
	}

	for _, c := range []struct{ name, text, want string }{
		{"unknown.yaml", "order: RGB\nscale: 1\nlayuot: NCHW\n", "line 3: field layuot not found"},
		{"short.yaml", "order: RGB\nscale: 1\nmean: [1, 2]\n", "line 3: mean"},
		// Order and scale may be left out (ResolveSpec's defaults), not wrong.
		{"nanscale.yaml", "order: RGB\nscale: .nan\n", "scale"},
		{"badorder.yaml", "order: GBR\nscale: 1\n", "order"},
		{"badkind.yaml", "order: RGB\nscale: 1\noutput_kind: prob\n", "output_kind"},
		{"empty.yaml", "", "empty"},
		{"syntax.yaml", "order: [RGB\n", "line 1"},
	} {
		_, err := LoadSpec(writeFile(t, c.name, c.text))
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), c.name) {
			t.Errorf("%s: error %v, want one naming the file and %q", c.name, err, c.want)
		}
	}
}

func TestLookupSpec(t *testing.T) {
	s, err := LookupSpec("sinet")
	if err != nil || s != Presets()["sinet"] {
		t.Errorf("preset sinet: %+v, %v", s, err)
	}
	p := writeFile(t, "x.yaml", "order: RGB\nscale: 1\n")
	if s, err := LookupSpec(p); err != nil || s.Name != "x" {
		t.Errorf("file: %+v, %v", s, err)
	}
	_, err = LookupSpec("no-such-model")
	if err == nil || !strings.Contains(err.Error(), "unet-aspp") {
		t.Errorf("unknown name: %v, want an error listing the presets", err)
	}
}
