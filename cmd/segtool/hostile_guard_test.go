package main

import (
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/fixture"
)

// inGuardChild runs the calling test again in a child process and reports
// whether this is the child. An OpenCV exception that escapes through cgo
// aborts the process; in the child it fails this one test, not the binary.
func inGuardChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv("SEGTOOL_GUARD_CHILD") == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v")
	cmd.Env = append(os.Environ(), "SEGTOOL_GUARD_CHILD="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("child: %v\n%s", err, out)
	}
	return false
}

// TestHostileGuardBomb: with --max-pixels raised past OpenCV's own limit
// (2^30 pixels), a 60000x60000 PNG header passes segtool's check and
// OpenCV throws; build-dataset and composite reject that one input and
// exit normally instead of aborting.
func TestHostileGuardBomb(t *testing.T) {
	if !inGuardChild(t) {
		return
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	rgb, mask := smallSample()
	for _, s := range []string{"good", "bomb"} {
		writeTestPNG(t, filepath.Join(src, "masks", s+".png"), mask)
	}
	writeTestPNG(t, filepath.Join(src, "images", "good.png"), rgb)
	writeTestFile(t, filepath.Join(src, "images", "bomb.png"), fixture.PNGHeaderBomb(60000, 60000))

	ds := filepath.Join(dir, "ds")
	code, out := run(t, "-q", "--max-pixels", "4000000000", "build-dataset", "--src", src, "--out", ds)
	rej, _ := os.ReadFile(filepath.Join(ds, "rejects.jsonl"))
	if code != 0 {
		t.Fatalf("build-dataset exit %d: %s\n%s", code, out, rej)
	}
	if n := strings.Count(string(rej), "\n"); n != 1 || !strings.Contains(string(rej), `"code":"corrupt"`) ||
		!strings.Contains(string(rej), "bomb.png") || !strings.Contains(string(rej), "CV_IO_MAX_IMAGE_PIXELS") {
		t.Errorf("rejects.jsonl, want one corrupt reject of bomb.png naming OpenCV's limit:\n%s", rej)
	}
	if code, out := run(t, "validate", ds); code != 0 {
		t.Errorf("validate: exit %d: %s", code, out)
	}

	// composite decodes backgrounds itself, through the same guard.
	bg := filepath.Join(dir, "bg")
	writeTestPNG(t, filepath.Join(bg, "good.png"), rgb)
	writeTestFile(t, filepath.Join(bg, "bomb.png"), fixture.PNGHeaderBomb(60000, 60000))
	fg := filepath.Join(dir, "fg")
	cut := image.NewNRGBA(rgb.Rect)
	for i := range cut.Pix {
		cut.Pix[i] = rgb.Pix[i]
		if i%4 == 3 {
			cut.Pix[i] = mask.Pix[i/4]
		}
	}
	writeTestPNG(t, filepath.Join(fg, "cut.png"), cut)
	comp := filepath.Join(dir, "comp")
	code, out = run(t, "-q", "--max-pixels", "4000000000", "composite", "--fg", fg, "--bg", bg, "--out", comp, "--size", "32x24")
	rej, _ = os.ReadFile(filepath.Join(comp, "rejects.jsonl"))
	if code != 0 || !strings.Contains(string(rej), "bomb.png") || !strings.Contains(string(rej), "CV_IO_MAX_IMAGE_PIXELS") {
		t.Errorf("composite: exit %d: %s\nrejects: %s", code, out, rej)
	}
}
