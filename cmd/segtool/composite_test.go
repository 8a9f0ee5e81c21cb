package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// compositeSource draws two small demo cut-outs, adds a background folder
// with one unreadable file, and returns both folders.
func compositeSource(t *testing.T) (fg, bg string) {
	t.Helper()
	dir := t.TempDir()
	if code, out := run(t, "--quiet", "demo-data", "--out", filepath.Join(dir, "src"), "--count", "2", "--size", "64x80"); code != 0 {
		t.Fatalf("demo-data: exit %d: %s", code, out)
	}
	bg = filepath.Join(dir, "bg")
	os.MkdirAll(bg, 0o755)
	for i, name := range []string{"a.jpg", "b.jpg"} {
		data, err := os.ReadFile(filepath.Join(dir, "src", "folder", "images", fmt.Sprintf("portrait_%04d.jpg", i)))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(bg, name), data, 0o644)
	}
	os.WriteFile(filepath.Join(bg, "broken.jpg"), []byte("neither JPEG nor any other image"), 0o644)
	return filepath.Join(dir, "src", "cutouts"), bg
}

func TestCompositeCommand(t *testing.T) {
	fg, bg := compositeSource(t)
	out := filepath.Join(t.TempDir(), "comp")
	args := []string{"--workers", "2", "composite", "--fg", fg, "--bg", bg, "--out", out, "--per-fg", "2", "--seed", "3",
		"--size", "48x60", "--scale", "0.5,1", "--flip", "--preview", "3"}
	code, output := run(t, args...)
	if code != 0 {
		t.Fatalf("composite: exit %d: %s", code, output)
	}
	for _, want := range []string{"4 of 4 planned composites", "1 inputs rejected", "rejects.jsonl", "preview.png"} {
		if !strings.Contains(output, want) {
			t.Errorf("summary lacks %q: %s", want, output)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "preview.png")); err != nil {
		t.Error(err)
	}
	if code, output := run(t, "validate", out); code != 0 {
		t.Errorf("validate: exit %d: %s", code, output)
	}
	if code, output := run(t, append(args, "--resume")...); code != 0 || !strings.Contains(flat(output), "0 files written, 4 composites reused") {
		t.Errorf("resume: exit %d: %s", code, output)
	}
	if code, output := run(t, args...); code != 2 || !strings.Contains(output, "--force") {
		t.Errorf("existing output: exit %d: %s", code, output)
	}
}

func TestCompositeExitCodes(t *testing.T) {
	fg, bg := compositeSource(t)
	out := filepath.Join(t.TempDir(), "comp")
	base := []string{"composite", "--fg", fg, "--bg", bg, "--out", out}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{append(base, "--per-fg", "3"), "--per-fg"},
		{[]string{"composite", "--bg", bg, "--out", out}, "--fg"},
		{append(base, "--scale", "1,0.5"), "--scale"},
		{append(base, "--size", "48"), "--size"},
		{append(base, "--position", "left"), "--position"},
		{append(base, "--bg-fit", "fill"), "--bg-fit"},
		{append(base, "--protocol", "composition-1k", "--size", "64x64"), "--size"},
		{append(base, "--protocol", "dim"), "--protocol"},
		{append(base, "--multi", "2"), "--multi"},
		{append(base, "--image-format", "gif"), "--image-format"},
		{[]string{"composite", "--fg", fg + "-missing", "--bg", bg, "--out", out}, "--fg"},
		{[]string{"composite", "--fg", fg, "--bg", "procedural:plaid", "--out", out}, "--bg"},
	} {
		code, output := run(t, tc.args...)
		if code != 2 || !strings.Contains(output, tc.flag) {
			t.Errorf("segtool %s: exit %d, output %q; want exit 2 naming %s", strings.Join(tc.args[1:], " "), code, output, tc.flag)
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("segtool %s left %s behind", strings.Join(tc.args[1:], " "), out)
		}
	}
	// Nothing usable: every foreground is a plain RGB image.
	rgb := filepath.Join(t.TempDir(), "rgb")
	os.MkdirAll(rgb, 0o755)
	data, _ := os.ReadFile(filepath.Join(bg, "a.jpg"))
	os.WriteFile(filepath.Join(rgb, "photo.jpg"), data, 0o644)
	code, output := run(t, "composite", "--fg", rgb, "--bg", "procedural", "--out", out)
	if code != 1 || !strings.Contains(flat(output), "no composite made") {
		t.Errorf("no usable foreground: exit %d: %s", code, output)
	}
}

func TestCompositeHelpTeaches(t *testing.T) {
	helpTeaches(t, "composite", "folder:DIR", "procedural:", "composition-1k", "--premultiplied", "--resume", "Examples", "rejects.jsonl")
}
