package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// augmentSource draws three small demo portraits and builds them into a
// canonical dataset with every sample in train.
func augmentSource(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if code, out := run(t, "--quiet", "demo-data", "--out", filepath.Join(dir, "src"), "--count", "3", "--size", "64x80"); code != 0 {
		t.Fatalf("demo-data: exit %d: %s", code, out)
	}
	ds := filepath.Join(dir, "ds")
	if code, out := run(t, "--quiet", "build-dataset", "--src", filepath.Join(dir, "src", "folder"), "--out", ds, "--split", "1,0,0"); code != 0 {
		t.Fatalf("build-dataset: exit %d: %s", code, out)
	}
	return ds
}

const augmentConfig = "../../configs/augment/imgaug-portrait.yaml"

// treeBytes maps each file below dir, but dataset.json (which holds the
// creation time), to its bytes.
func treeBytes(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		if rel != "dataset.json" {
			b, err := os.ReadFile(p)
			out[rel] = string(b)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAugmentCommand(t *testing.T) {
	ds := augmentSource(t)
	root := t.TempDir()
	out := filepath.Join(root, "aug")
	argsFor := func(out string) []string {
		return []string{"augment", "--config", augmentConfig, "--dataset", ds, "--out", out, "--copies", "2", "--seed", "3",
			"--include-originals", "--preview", "2"}
	}
	args := argsFor(out)
	code, output := run(t, append([]string{"--workers", "2"}, args...)...)
	if code != 0 {
		t.Fatalf("augment: exit %d: %s", code, output)
	}
	for _, want := range []string{"9 of 9 planned samples", "2 copies of each of 3 samples", "plus originals", "Ops applied:", "preview.png"} {
		if !strings.Contains(flat(output), want) {
			t.Errorf("summary lacks %q: %s", want, output)
		}
	}
	if _, err := os.Stat(filepath.Join(out, "preview.png")); err != nil {
		t.Error(err)
	}
	if code, output := run(t, "validate", out); code != 0 || !strings.Contains(flat(output), "0 problems") {
		t.Errorf("validate: exit %d: %s", code, output)
	}
	// One worker: the same bytes.
	one := filepath.Join(root, "aug1")
	if code, output := run(t, append([]string{"--workers", "1"}, argsFor(one)...)...); code != 0 {
		t.Fatalf("augment --workers 1: exit %d: %s", code, output)
	}
	a, b := treeBytes(t, out), treeBytes(t, one)
	if len(a) != len(b) || a["manifest.jsonl"] == "" {
		t.Errorf("%d files with 2 workers, %d with 1", len(a), len(b))
	}
	for rel, data := range a {
		if b[rel] != data {
			t.Errorf("%s differs between --workers 2 and 1", rel)
		}
	}
	if code, output := run(t, append(args, "--resume")...); code != 0 || !strings.Contains(flat(output), "0 files written, 9 samples reused") {
		t.Errorf("resume: exit %d: %s", code, output)
	}
	if code, output := run(t, args...); code != 2 || !strings.Contains(output, "--force") {
		t.Errorf("existing output: exit %d: %s", code, output)
	}
	if code, output := run(t, append(args, "--force", "--copies", "1")...); code != 0 || !strings.Contains(flat(output), "6 of 6 planned") {
		t.Errorf("--force: exit %d: %s", code, output)
	}
}

func TestAugmentExitCodes(t *testing.T) {
	ds := augmentSource(t)
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("ops:\n  - fliplr: {p: 0.5}\n  - gaussian_blur:\n      sigma: [2, 1]\n"), 0o644)
	out := filepath.Join(dir, "aug")
	base := []string{"augment", "--config", augmentConfig, "--dataset", ds, "--out", out}
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"augment", "--config", bad, "--dataset", ds, "--out", out}, []string{bad + ":4", `"gaussian_blur"`, "lo > hi"}},
		{[]string{"augment", "--check", bad}, []string{bad + ":4", `"gaussian_blur"`}},
		{[]string{"augment", "--check", filepath.Join(dir, "none.yaml")}, []string{"--check"}},
		{[]string{"augment", "--dataset", ds, "--out", out}, []string{"--config"}},
		{[]string{"augment", "--config", augmentConfig, "--out", out}, []string{"--dataset"}},
		{[]string{"augment", "--config", augmentConfig, "--dataset", ds}, []string{"--out", "--preview-out"}},
		{[]string{"augment", "--config", augmentConfig, "--dataset", filepath.Join(dir, "none"), "--out", out}, []string{"--dataset"}},
		{[]string{"augment", "--config", filepath.Join(dir, "none.yaml"), "--dataset", ds, "--out", out}, []string{"--config"}},
		{append(base, "--splits", "train,dev"), []string{"--splits", "dev"}},
		{append(base, "--copies", "0"), []string{"--copies"}},
		{append(base, "--jpeg-quality", "0"), []string{"--jpeg-quality"}},
		{append(base, "--preview-out", "x.png"), []string{"--preview"}},
		{append(base, "--resume", "--force"), []string{"--force"}},
		{[]string{"augment", "--config", augmentConfig, "--dataset", ds, "--out", ds, "--force"}, []string{"--out", "source dataset"}},
	} {
		code, output := run(t, tc.args...)
		if code != 2 {
			t.Errorf("segtool %s: exit %d, want 2: %s", strings.Join(tc.args[1:], " "), code, output)
		}
		for _, w := range tc.want {
			if !strings.Contains(output, w) {
				t.Errorf("segtool %s: output %q lacks %q", strings.Join(tc.args[1:], " "), output, w)
			}
		}
		if _, err := os.Stat(out); err == nil {
			t.Fatalf("segtool %s left %s behind", strings.Join(tc.args[1:], " "), out)
		}
	}
	code, output := run(t, "augment", "--check", augmentConfig)
	if code != 0 || !strings.Contains(flat(output), "ok: 4 ops") {
		t.Errorf("--check: exit %d: %s", code, output)
	}
	// Nothing in the selected splits: exit 1 naming them.
	code, output = run(t, append(base, "--splits", "val,test")...)
	if code != 1 || !strings.Contains(flat(output), "val, test") || !strings.Contains(flat(output), "no sample selected") {
		t.Errorf("empty selection: exit %d: %s", code, output)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("empty selection left %s behind", out)
	}
}

func TestAugmentPreviewOnly(t *testing.T) {
	ds := augmentSource(t)
	dir := t.TempDir()
	sheet := filepath.Join(dir, "sheet.png")
	code, output := run(t, "augment", "--config", augmentConfig, "--dataset", ds, "--preview", "2", "--preview-out", sheet)
	if code != 0 || !strings.Contains(flat(output), "no dataset written") || !strings.Contains(flat(output), "3 copies") {
		t.Fatalf("preview only: exit %d: %s", code, output)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 || entries[0].Name() != "sheet.png" {
		t.Errorf("preview only wrote %v", entries)
	}
}

func TestAugmentHelpTeaches(t *testing.T) {
	helpTeaches(t, "augment", "--check", "configs/augment", "_a<k>", "--include-originals", "--preview-out", "--resume", "Examples", "rejects.jsonl", "--workers")
}

func TestBenchAugment(t *testing.T) {
	ds := augmentSource(t)
	code, out := run(t, "bench", "augment", "--config", augmentConfig, "--size", "64x64", "-n", "3")
	if code != 0 || !strings.Contains(out, "images/s") || !strings.Contains(out, "pipeline") || !strings.Contains(out, "some_of") || strings.Contains(flat(out), "all cores") {
		t.Errorf("bench augment --size: exit %d: %s", code, out)
	}
	code, out = run(t, "--workers", "2", "bench", "augment", "--config", augmentConfig, "--dataset", ds, "-n", "4")
	if code != 0 || !strings.Contains(flat(out), "all cores") || !strings.Contains(flat(out), "2 workers over 3 samples") {
		t.Errorf("bench augment --dataset: exit %d: %s", code, out)
	}
	code, out = run(t, "--log-format", "json", "bench", "augment", "--config", augmentConfig, "--size", "64x64", "-n", "2")
	if code != 0 || !strings.Contains(out, `"images_per_s"`) {
		t.Errorf("bench augment json: exit %d: %s", code, out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"bench"}, "augment"},
		{[]string{"bench", "model"}, "model"},
		{[]string{"bench", "augment"}, "--config"},
		{[]string{"bench", "augment", "--config", augmentConfig, "--size", "64"}, "--size"},
		{[]string{"bench", "augment", "--config", augmentConfig, "--size", "64x64", "--dataset", ds}, "--dataset"},
		{[]string{"bench", "augment", "--config", augmentConfig, "-n", "0"}, "-n"},
		{[]string{"bench", "augment", "--bogus"}, "bench augment --help"},
	} {
		if code, out := run(t, tc.args...); code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("segtool %s: exit %d, output %q; want exit 2 naming %s", strings.Join(tc.args, " "), code, out, tc.want)
		}
	}
}
