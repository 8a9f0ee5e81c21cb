package augment

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadConfigs: each kind of mistake is an error that names the file,
// the line and the op, and matches its sentinel.
func TestBadConfigs(t *testing.T) {
	for _, tc := range []struct {
		name, yaml string
		line       int
		op         string
		kind       error
	}{
		{"unknown op", "ops:\n  - fliplr\n  - blurr: {kernel: 3}\n", 3, "blurr", ErrUnknownOp},
		{"unknown op nested", "ops:\n  - one_of:\n      ops:\n        - fliplr\n        - sharpen\n", 5, "sharpen", ErrUnknownOp},
		{"unknown param", "ops:\n  - gaussian_blur:\n      sigma: 1\n      kernal: 3\n", 4, "gaussian_blur", ErrUnknownParam},
		{"param beside op name", "ops:\n  - affine:\n    rotate: 5\n", 3, "affine", ErrUnknownParam},
		{"lo > hi", "ops:\n  - affine:\n      rotate: [10, -10]\n", 3, "affine", ErrBadRange},
		{"lo > hi int", "ops:\n  - jpeg_quality: {quality: [90, 30]}\n", 2, "jpeg_quality", ErrBadRange},
		{"even kernel", "ops:\n  - median_blur:\n      kernel: 4\n", 3, "median_blur", ErrBadKernel},
		{"even kernel in range", "ops:\n  - mean_blur: {kernel: [3, 6]}\n", 2, "mean_blur", ErrBadKernel},
		{"zero kernel", "ops:\n  - gaussian_blur: {kernel: 0}\n", 2, "gaussian_blur", ErrBadKernel},
		{"negative kernel in choice", "ops:\n  - mean_blur: {kernel: [3, 5, -7]}\n", 2, "mean_blur", ErrBadKernel},
		{"p above 1", "ops:\n  - fliplr: {p: 1.5}\n", 2, "fliplr", ErrBadProbability},
		{"p below 0", "ops:\n  - sometimes:\n      p: -0.1\n      ops: [flipud]\n", 3, "sometimes", ErrBadProbability},
		{"p in nested op", "ops:\n  - some_of:\n      n: [1, 2]\n      ops:\n        - fliplr\n        - add: {p: 2}\n", 6, "add", ErrBadProbability},
		{"value out of bounds", "ops:\n  - jpeg_quality: {quality: 101}\n", 2, "jpeg_quality", ErrBadValue},
		{"not a number", "ops:\n  - add: {value: lots}\n", 2, "add", ErrBadValue},
		{"bad enum", "ops:\n  - affine: {border: mirror}\n", 2, "affine", ErrBadValue},
		{"empty children", "ops:\n  - one_of: {ops: []}\n", 2, "one_of", ErrBadValue},
		{"missing children", "ops:\n  - one_of: {}\n", 2, "one_of", ErrBadValue},
		{"whole number", "ops:\n  - occlusion: {count: 1.5}\n", 2, "occlusion", ErrBadValue},
		{"crop size and scale", "ops:\n  - random_crop: {width: 3, height: 3, scale: 0.5}\n", 2, "random_crop", ErrBadValue},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse("configs/augment/bad.yaml", []byte(tc.yaml))
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, tc.kind) {
				t.Errorf("error %q is not %v", err, tc.kind)
			}
			var ce *ConfigError
			if !errors.As(err, &ce) || ce.Line != tc.line || ce.Op != tc.op {
				t.Errorf("error %q: want line %d, op %q", err, tc.line, tc.op)
			}
			msg := err.Error()
			for _, want := range []string{"configs/augment/bad.yaml", ":" + itoa(tc.line) + ":", `"` + tc.op + `"`} {
				if !strings.Contains(msg, want) {
					t.Errorf("message %q lacks %q", msg, want)
				}
			}
		})
	}
}

func itoa(i int) string { return Const(float64(i)).String() }

func TestBadDocuments(t *testing.T) {
	for _, y := range []string{"", "ops: fliplr", "steps: [fliplr]", "ops:\n  - fliplr\n   bad indent: [", "- fliplr"} {
		if _, err := Parse("doc.yaml", []byte(y)); err == nil || !strings.Contains(err.Error(), "doc.yaml") {
			t.Errorf("%q: error %v, want one naming doc.yaml", y, err)
		}
	}
}

func TestLoadFileNamesPath(t *testing.T) {
	path := filepath.Join(t.TempDir(), "mine.yaml")
	if err := os.WriteFile(path, []byte("ops:\n  - median_blur: {kernel: 2}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := LoadFile(path)
	if err == nil || !strings.HasPrefix(err.Error(), path+":2: op \"median_blur\"") {
		t.Fatalf("got %v", err)
	}
	if _, err := LoadFile(filepath.Join(t.TempDir(), "missing.yaml")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestParamForms: constant, [lo, hi] range, list choice and {choice: [a, b]}.
func TestParamForms(t *testing.T) {
	p := mustParse(t, `
description: forms
ops:
  - add: {value: 5}
  - add: {value: [-3, 3]}
  - add: {value: [1, 2, 4]}
  - add: {value: {choice: [-7, 7]}}
  - median_blur: {kernel: [3, 9]}
`)
	if p.Description != "forms" || len(p.Ops()) != 5 {
		t.Fatalf("parsed %q %v", p.Description, p.Ops())
	}
	r := rand.New(rand.NewPCG(1, 1))
	draws := func(i int) map[float64]bool {
		seen := map[float64]bool{}
		op := p.steps[i].op.(*lutOp)
		for range 2000 {
			seen[op.value.Draw(r)] = true
		}
		return seen
	}
	if d := draws(0); len(d) != 1 || !d[5] {
		t.Errorf("constant drew %v", d)
	}
	if d := draws(1); len(d) != 7 || !d[-3] || !d[3] {
		t.Errorf("integer range drew %v", d)
	}
	if d := draws(2); len(d) != 3 || !d[1] || !d[2] || !d[4] {
		t.Errorf("choice drew %v", d)
	}
	if d := draws(3); len(d) != 2 || !d[-7] || !d[7] {
		t.Errorf("{choice} drew %v", d)
	}
	k := p.steps[4].op.(*blurOp).kernel
	seen := map[float64]bool{}
	for range 2000 {
		seen[k.Draw(r)] = true
	}
	if len(seen) != 4 || !seen[3] || !seen[5] || !seen[7] || !seen[9] {
		t.Errorf("odd range drew %v", seen)
	}
}

// TestPresetsParse loads every preset in configs/augment and runs it.
func TestPresetsParse(t *testing.T) {
	files, err := filepath.Glob("../configs/augment/*.yaml")
	if err != nil || len(files) < 4 {
		t.Fatalf("presets: %v %v", files, err)
	}
	s := personSample(t, 240, 200)
	defer s.Close()
	for _, f := range files {
		p, err := LoadFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		if p.Description == "" {
			t.Errorf("%s has no description", f)
		}
		for i := range 10 {
			c, _ := apply(t, p, s, 1, "preset", i)
			checkLabelValues(t, c, f)
			c.Close()
		}
	}
}

func TestRegistryNames(t *testing.T) {
	want := []string{"add", "add_elementwise", "affine", "brightness_hsv", "contrast", "fliplr", "flipud", "gamma",
		"gaussian_blur", "gaussian_noise", "hue_saturation", "jpeg_quality", "mean_blur", "median_blur", "occlusion",
		"one_of", "pad_to", "random_crop", "resize", "rotate", "sequential", "some_of", "sometimes"}
	if got := DefaultRegistry().Names(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("names %v", got)
	}
}
