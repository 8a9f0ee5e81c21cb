package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

func applyRun(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return run(t, append([]string{"apply"}, args...)...)
}

// applyFixture: the oracle model and three 64x80 demo portraits, plus a
// text file posing as a JPEG.
func applyFixture(t *testing.T) (model, images string) {
	t.Helper()
	needORT(t)
	src, _ := trimapDataset(t)
	images = filepath.Join(src, "folder", "images")
	if err := os.WriteFile(filepath.Join(images, "zz_broken.jpg"), []byte("not a picture"), 0o644); err != nil {
		t.Fatal(err)
	}
	return oracleModel(t), images
}

func TestApplyCommand(t *testing.T) {
	model, images := applyFixture(t)
	entries, _ := os.ReadDir(images)
	bg := filepath.Join(images, entries[0].Name())
	out := filepath.Join(t.TempDir(), "out")
	sheet := filepath.Join(out, "sheet.png")
	args := []string{"--model", model, "--size", "64x80", "--in", images, "--out", out, "--effect", "all", "--bg", bg,
		"--blur-fg-edge", "--trimap-refine", "--feather", "1", "--sheet", sheet, "--sheet-cell", "64"}
	code, text := applyRun(t, args...)
	if code != 0 {
		t.Fatalf("apply: exit %d: %s", code, text)
	}
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{"3 of 4 images done", "1 skipped", "12 files written", "megapixels/s", "zz_broken.jpg", "Contact sheet"} {
		if !strings.Contains(flat, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	for _, e := range []string{"blur", "replace", "cutout", "matte"} {
		ms, _ := filepath.Glob(filepath.Join(out, e, "*"))
		if len(ms) != 3 {
			t.Errorf("%s: %d files, want 3", e, len(ms))
		}
	}
	if m := gocv.IMRead(sheet, gocv.IMReadColor); m.Empty() {
		t.Error("no contact sheet")
	} else {
		m.Close()
	}

	// Again: the outputs exist, a usage error naming --force.
	code, text = applyRun(t, args...)
	if code != 2 || !strings.Contains(text, "--force") {
		t.Errorf("rerun without --force: exit %d: %s", code, text)
	}
	code, text = run(t, append([]string{"--log-format", "json", "apply", "--force"}, args...)...)
	if code != 0 || !strings.Contains(text, `"done":3`) {
		t.Errorf("--force, json: exit %d: %s", code, text)
	}

	// One image, one effect, a file name; tiled.
	one := filepath.Join(t.TempDir(), "one.jpg")
	code, text = applyRun(t, "--model", model, "--in", filepath.Join(images, entries[1].Name()), "--out", one, "--tile", "32", "--overlap", "8")
	if code != 0 {
		t.Fatalf("single image, tiled: exit %d: %s", code, text)
	}
	if _, err := os.Stat(one); err != nil {
		t.Error(err)
	}

	// The mattes just written, as saved predictions.
	again := filepath.Join(t.TempDir(), "again")
	code, text = applyRun(t, "--preds", filepath.Join(out, "matte"), "--in", images, "--out", again, "--effect", "blur", "--refine")
	if code != 0 || !strings.Contains(strings.Join(strings.Fields(text), " "), "3 of 4 images done") {
		t.Errorf("--preds: exit %d: %s", code, text)
	}

	// Nothing readable: exit 1.
	code, text = applyRun(t, "--model", model, "--size", "64x80", "--in", filepath.Join(images, "zz_broken.jpg"), "--out", filepath.Join(t.TempDir(), "x.jpg"))
	if code != 1 || !strings.Contains(text, "none of the 1 images") {
		t.Errorf("unreadable single image: exit %d: %s", code, text)
	}
}

func TestApplyUsageErrors(t *testing.T) {
	model, images := applyFixture(t)
	out := filepath.Join(t.TempDir(), "o")
	base := []string{"--model", model, "--size", "64x80", "--in", images, "--out", out}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"--in", images, "--out", out}, "--model"},
		{append(base, "--preds", images), "--preds"},
		{[]string{"--preds", filepath.Join(out, "nope"), "--in", images, "--out", out}, "--preds"},
		{[]string{"--model", model, "--out", out}, "--in"},
		{append(base, "--effect", "bokeh"), "--effect"},
		{append(base, "--effect", "replace"), "--bg"},
		{append(base, "--bg", images), "--bg"},
		{append(base, "--sigma", "-3"), "--sigma"},
		{append(base, "--kernel", "4"), "--kernel"},
		{append(base, "--temporal-ema", "1.5"), "--temporal-ema"},
		{append(base, "--feather", "-1"), "--feather"},
		{append(base, "--tile", "8"), "--tile"},
		{append(base, "--device", "tpu"), "--device"},
		{append(base, "--spec", "nope"), "--spec"},
		{[]string{"--model", model, "--in", images, "--out", out}, "--size"},
		{[]string{"--model", model, "--size", "64x80", "--in", images, "--out", filepath.Join(out, "x.png")}, "--out"},
		{[]string{"--model", filepath.Join(out, "none.onnx"), "--in", images, "--out", out}, "--model"},
	} {
		code, text := applyRun(t, tc.args...)
		if code != 2 || !strings.Contains(text, tc.flag) {
			t.Errorf("apply %s: exit %d, output %q; want exit 2 naming %s", strings.Join(tc.args, " "), code, text, tc.flag)
		}
	}
}

func TestApplyHelp(t *testing.T) {
	helpTeaches(t, "apply", "blur", "replace", "cutout", "matte", "--blur-fg-edge", "--trimap-refine", "--temporal-ema", "--temporal", "camera:N", "videotestsrc", "--tile", "Examples")
}
