package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
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
