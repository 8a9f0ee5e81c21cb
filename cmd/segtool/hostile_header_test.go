package main

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/fixture"
)

// smallSample is a 32x24 opaque RGB image and its mask: a box in the middle.
func smallSample() (*image.RGBA, *image.Gray) {
	rgb := image.NewRGBA(image.Rect(0, 0, 32, 24))
	mask := image.NewGray(image.Rect(0, 0, 32, 24))
	for i := range rgb.Pix {
		rgb.Pix[i] = uint8(i * 7)
		if i%4 == 3 {
			rgb.Pix[i] = 255
		}
	}
	for y := 6; y < 18; y++ {
		for x := 8; x < 24; x++ {
			mask.SetGray(x, y, color.Gray{Y: 255})
		}
	}
	return rgb, mask
}

func writeTestPNG(t *testing.T, path string, img image.Image) {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, path, buf.Bytes())
}

func writeTestFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestHostileHeaderBombs: PNG and JPEG headers claiming 60000x60000,
// 30000x30000 and 20000x20000 are per-sample "too-large" rejects in
// build-dataset, validate, eval and apply, never a crash; --max-pixels
// lowers the limit, in build-dataset and validate.
func TestHostileHeaderBombs(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	rgb, mask := smallSample()
	for _, s := range []string{"good", "png60k", "jpg30k", "png20k"} {
		writeTestPNG(t, filepath.Join(src, "masks", s+".png"), mask)
	}
	writeTestPNG(t, filepath.Join(src, "images", "good.png"), rgb)
	writeTestFile(t, filepath.Join(src, "images", "png60k.png"), fixture.PNGHeaderBomb(60000, 60000))
	writeTestFile(t, filepath.Join(src, "images", "jpg30k.jpg"), fixture.JPEGHeaderBomb(t, 30000, 30000))
	writeTestFile(t, filepath.Join(src, "images", "png20k.png"), fixture.PNGHeaderBomb(20000, 20000))

	ds := filepath.Join(dir, "ds")
	code, out := run(t, "-q", "build-dataset", "--src", src, "--out", ds)
	rej, _ := os.ReadFile(filepath.Join(ds, "rejects.jsonl"))
	if code != 0 {
		t.Fatalf("build-dataset exit %d: %s\n%s", code, out, rej)
	}
	for _, want := range []string{"60000x60000", "30000x30000", "20000x20000"} {
		if !strings.Contains(string(rej), want) {
			t.Errorf("rejects.jsonl lacks %s:\n%s", want, rej)
		}
	}
	if n := strings.Count(string(rej), `"code":"too-large"`); n != 3 {
		t.Errorf("%d too-large rejects, want 3:\n%s", n, rej)
	}

	// --max-pixels lowers the limit: the 32x24 image is refused too.
	code, out = run(t, "-q", "--max-pixels", "700", "build-dataset", "--src", src, "--out", filepath.Join(dir, "ds-small"))
	if code == 0 || !strings.Contains(out, "no sample survived") {
		t.Errorf("--max-pixels 700: exit %d: %s", code, out)
	}

	// validate: a bomb in place of a dataset image is a problem, exit 1.
	img := filepath.Join(ds, "images", "good.png")
	good, _ := os.ReadFile(img)
	writeTestFile(t, img, fixture.PNGHeaderBomb(60000, 60000))
	code, out = run(t, "validate", ds)
	if code != 1 || !strings.Contains(out, "60000x60000") || !strings.Contains(out, "over the limit") {
		t.Errorf("validate: exit %d: %s", code, out)
	}
	writeTestFile(t, img, good)

	// validate honours --max-pixels: the 32x24 image is over 700 pixels.
	code, out = run(t, "--max-pixels", "700", "validate", ds)
	if code != 1 || !strings.Contains(out, "image is 32x24 (768 pixels), over the limit of 700 pixels") {
		t.Errorf("validate --max-pixels 700: exit %d: %s", code, out)
	}

	// eval: a bomb prediction is an error row naming too-large.
	preds := filepath.Join(dir, "preds")
	writeTestFile(t, filepath.Join(preds, "good.png"), fixture.JPEGHeaderBomb(t, 30000, 30000))
	run(t, "-q", "eval", "--preds", preds, "--dataset", ds, "--split", "all", "--out", filepath.Join(dir, "run"))
	rows, _ := os.ReadFile(filepath.Join(dir, "run", "per_image.jsonl"))
	if !strings.Contains(string(rows), "too-large") || !strings.Contains(string(rows), "30000x30000") {
		t.Errorf("eval per_image.jsonl: %s", rows)
	}

	// apply: bomb inputs fail alone; the good image is written.
	in := filepath.Join(dir, "in")
	writeTestPNG(t, filepath.Join(in, "good.png"), rgb)
	writeTestFile(t, filepath.Join(in, "bomb.png"), fixture.PNGHeaderBomb(60000, 60000))
	writeTestFile(t, filepath.Join(in, "bombj.jpg"), fixture.JPEGHeaderBomb(t, 30000, 30000))
	writeTestPNG(t, filepath.Join(dir, "apreds", "good.png"), mask)
	writeTestPNG(t, filepath.Join(dir, "apreds", "bomb.png"), mask)
	writeTestPNG(t, filepath.Join(dir, "apreds", "bombj.png"), mask)
	code, out = run(t, "apply", "--preds", filepath.Join(dir, "apreds"), "--in", in, "--out", filepath.Join(dir, "aout"))
	if !strings.Contains(out, "too-large") || !strings.Contains(out, "60000x60000") {
		t.Errorf("apply: exit %d: %s", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "aout", "good.png")); err != nil {
		t.Errorf("apply did not write the good image: %v (exit %d: %s)", err, code, out)
	}
}
