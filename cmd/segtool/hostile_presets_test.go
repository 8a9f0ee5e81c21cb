package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segtool/segtool/dataset"
)

// TestAugmentPresetByNameFromAnyFolder runs --config imgaug-portrait from a
// folder outside the repository: the embedded preset gives the same bytes
// as the file given by path, a file of that name in the folder wins, and an
// unknown name lists the presets.
func TestAugmentPresetByNameFromAnyFolder(t *testing.T) {
	ds := augmentSource(t)
	file, err := filepath.Abs(augmentConfig)
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	byPath, byName := filepath.Join(root, "by-path"), filepath.Join(root, "by-name")
	args := func(config, out string) []string {
		return []string{"--quiet", "augment", "--config", config, "--dataset", ds, "--out", out, "--copies", "2", "--seed", "3"}
	}
	if code, out := run(t, args(file, byPath)...); code != 0 {
		t.Fatalf("augment --config %s: exit %d: %s", file, code, out)
	}
	t.Chdir(t.TempDir())
	if code, out := run(t, args("imgaug-portrait", byName)...); code != 0 {
		t.Fatalf("augment --config imgaug-portrait outside the repository: exit %d: %s", code, out)
	}
	a, b := treeBytes(t, byPath), treeBytes(t, byName)
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("%d files by path, %d by name", len(a), len(b))
	}
	for f := range a {
		if a[f] != b[f] {
			t.Errorf("%s differs between the preset by path and by name", f)
		}
	}
	// Same options, so a run started by path resumes by name.
	if code, out := run(t, append(args("imgaug-portrait.yaml", byPath), "--resume")...); code != 0 {
		t.Errorf("--resume by name of a run started by path: exit %d: %s", code, out)
	}

	if code, out := run(t, "augment", "--list"); code != 0 || !strings.Contains(out, "imgaug-portrait\n") || !strings.Contains(out, "matting-train\n") {
		t.Errorf("augment --list: exit %d: %q", code, out)
	}
	if code, out := run(t, "augment", "--check", "imgaug-portrait"); code != 0 || !strings.Contains(out, "ok: 4 ops") {
		t.Errorf("augment --check imgaug-portrait: exit %d: %s", code, out)
	}
	if err := os.WriteFile("imgaug-portrait", []byte("ops:\n  - fliplr: {p: 1}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := run(t, "augment", "--check", "imgaug-portrait"); code != 0 || !strings.Contains(out, "ok: 1 ops (fliplr)") {
		t.Errorf("a local file named like a preset must win: exit %d: %s", code, out)
	}
	code, out := run(t, "augment", "--config", "imgaug-portrat", "--dataset", ds, "--out", filepath.Join(root, "x"))
	if code != 2 || !strings.Contains(out, `--config: open imgaug-portrat: no such file or directory, and no built-in preset is named "imgaug-portrat" (built in: brightness-jpeg, flip-small-rotate, imgaug-portrait, matting-train)`) {
		t.Errorf("unknown preset: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(root, "x")); !os.IsNotExist(err) {
		t.Errorf("unknown preset wrote %s: %v", filepath.Join(root, "x"), err)
	}
}

// TestBuildResizeKeepsAspect builds 80x80 portraits at --resize 32x24 in
// each mode: every row is 32x24 with a note of what was done, pad is the
// default, and only a mode other than stretch (the behaviour before modes)
// is in dataset.json's options. The pixels and boxes of each mode are
// worked by hand in dataset's TestFitSquareTo320x240.
func TestBuildResizeKeepsAspect(t *testing.T) {
	dir := t.TempDir()
	if code, out := run(t, "--quiet", "demo-data", "--out", filepath.Join(dir, "src"), "--count", "2", "--size", "80x80"); code != 0 {
		t.Fatalf("demo-data: exit %d: %s", code, out)
	}
	for i, tc := range []struct {
		args       []string
		note, mode string
	}{
		{nil, "padded from 80x80", "pad"},
		{[]string{"--resize-mode", "pad"}, "padded from 80x80", "pad"},
		{[]string{"--resize-mode", "crop"}, "cropped from 80x80", "crop"},
		{[]string{"--resize-mode", "stretch"}, "stretched from 80x80", ""},
	} {
		out := filepath.Join(dir, fmt.Sprintf("ds%d", i))
		args := append([]string{"--quiet", "build-dataset", "--src", filepath.Join(dir, "src", "folder"), "--out", out, "--resize", "32x24"}, tc.args...)
		if code, output := run(t, args...); code != 0 {
			t.Fatalf("%v: exit %d: %s", tc.args, code, output)
		}
		d, err := dataset.Open(out)
		if err != nil || len(d.Samples) != 2 {
			t.Fatalf("%v: %v, %d rows", tc.args, err, len(d.Samples))
		}
		for _, s := range d.Samples {
			if s.Width != 32 || s.Height != 24 || !slices.Contains(s.Notes, tc.note) {
				t.Errorf("%v: row %s is %dx%d with notes %q, want 32x24 and %q", tc.args, s.ID, s.Width, s.Height, s.Notes, tc.note)
			}
		}
		if got, _ := d.Info.Options["resize_mode"].(string); got != tc.mode {
			t.Errorf("%v: options resize_mode %q, want %q", tc.args, got, tc.mode)
		}
	}
	// The same aspect ratio needs no note.
	out := filepath.Join(dir, "ds-same")
	if code, output := run(t, "--quiet", "build-dataset", "--src", filepath.Join(dir, "src", "folder"), "--out", out, "--resize", "40x40"); code != 0 {
		t.Fatalf("--resize 40x40: exit %d: %s", code, output)
	}
	if d, err := dataset.Open(out); err != nil || d.Samples[0].Width != 40 || len(d.Samples[0].Notes) != 0 {
		t.Errorf("--resize 40x40 of a square: %v, %+v", err, d.Samples[0])
	}
	code, output := run(t, "build-dataset", "--src", filepath.Join(dir, "src", "folder"), "--out", filepath.Join(dir, "x"), "--resize", "32x24", "--resize-mode", "squash")
	if code != 2 || !strings.Contains(output, `--resize-mode: unknown mode "squash" (want pad, crop, stretch)`) {
		t.Errorf("--resize-mode squash: exit %d: %s", code, output)
	}
	code, output = run(t, "build-dataset", "--src", filepath.Join(dir, "src", "folder"), "--out", filepath.Join(dir, "x"), "--resize-mode", "crop")
	if code != 2 || !strings.Contains(output, "--resize-mode needs --resize WxH") {
		t.Errorf("--resize-mode without --resize: exit %d: %s", code, output)
	}
	if _, err := os.Stat(filepath.Join(dir, "x")); !os.IsNotExist(err) {
		t.Errorf("a refused build wrote %s: %v", filepath.Join(dir, "x"), err)
	}
}
