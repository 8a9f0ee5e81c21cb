//go:build matprofile

package trimap

import (
	"context"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/shareddata"
)

// TestMatProfile runs the whole pipeline (read, SLIC, both trimaps,
// overlays, write) on a few images and checks that every gocv.Mat was
// closed. Run with: go test -tags matprofile ./trimap/
func TestMatProfile(t *testing.T) {
	run := func(im Image, alpha Gray) {
		t.Helper()
		tri, _, err := FromSuperpixels(context.Background(), im, alpha, SuperpixelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		fg, bg, err := MorphWidths(MorphOptions{MinWidth: 2, MaxWidth: 12, Seed: 1}, "x")
		if err != nil {
			t.Fatal(err)
		}
		mt, _, err := Morphological(alpha, fg, bg)
		if err != nil {
			t.Fatal(err)
		}
		sp, err := SLIC(context.Background(), im, SLICOptions{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := DrawBoundaries(im, sp, [3]uint8{0, 255, 255})
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		for _, err := range []error{
			WriteGray(filepath.Join(dir, "t.png"), tri),
			WriteGray(filepath.Join(dir, "m.png"), mt),
			WriteImage(filepath.Join(dir, "b.png"), b),
		} {
			if err != nil {
				t.Fatal(err)
			}
		}
		if _, err := ReadGray(filepath.Join(dir, "t.png")); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadImage(filepath.Join(dir, "missing.png")); err == nil {
			t.Fatal("reading a missing file succeeded")
		}
		m, err := im.Mat()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ImageFromMat(m); err != nil {
			t.Fatal(err)
		}
		m.Close()
	}

	// Synthetic images always; the dim samples when present.
	alpha := NewGray(80, 60)
	for p := range alpha.Pix {
		alpha.Pix[p] = uint8(min(max((p%80-30)*20, 0), 255))
	}
	run(syntheticImage(80, 60, 1), alpha)
	if root, ok := shareddata.Find(); ok {
		for _, name := range []string{"dim0", "dim4", "dim9"} {
			im, err := ReadImage(filepath.Join(root, "data/dim/images", name+".png"))
			if err != nil {
				continue
			}
			a, err := ReadGray(filepath.Join(root, "data/dim/alphas", name+".png"))
			if err != nil {
				t.Fatal(err)
			}
			run(im, a)
		}
	}
	if n := gocv.MatProfile.Count(); n != 0 {
		t.Errorf("gocv.MatProfile.Count() = %d after the pipeline, want 0: a Mat was not closed", n)
	}
}
