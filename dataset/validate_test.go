package dataset

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"
)

// TestValidateMaskMeasuresWholeMask: a mask with one corrupted patch is
// reported by the check it fails, with what was measured over the whole
// mask; a fg_fraction that still matches is not called wrong (it used to
// read "fg_fraction is 0.000000", counted up to the first bad pixel).
func TestValidateMaskMeasuresWholeMask(t *testing.T) {
	const w, h = 8, 4
	for _, tc := range []struct {
		name     string
		patchX   int // a 2x2 patch of value 37 at (patchX, 1)
		recorded float64
		want     []string
	}{
		// In the background: fg_fraction still 16/32.
		{"background patch", 1, 0.5, []string{
			"mask values check: 4 of 32 pixels are neither 0 nor 255, the first 37 at x=1 y=1",
		}},
		// In the foreground: 12 pixels remain 255. Problems come sorted.
		{"foreground patch", 5, 0.5, []string{
			"fg_fraction check: 12 of 32 pixels are 255, a fraction of 0.375000000; the manifest records 0.500000000",
			"mask values check: 4 of 32 pixels are neither 0 nor 255, the first 37 at x=5 y=1",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			os.MkdirAll(filepath.Join(dir, MasksDir), 0o755)
			os.MkdirAll(filepath.Join(dir, ImagesDir), 0o755)
			px := make([]byte, w*h)
			for y := 0; y < h; y++ {
				for x := w / 2; x < w; x++ {
					px[y*w+x] = 255
				}
			}
			for y := 1; y < 3; y++ {
				for x := tc.patchX; x < tc.patchX+2; x++ {
					px[y*w+x] = 37
				}
			}
			s := Sample{ID: "a", Split: "train", Image: ImagesDir + "/a.png", Mask: MasksDir + "/a.png",
				Width: w, Height: h, FGFrac: tc.recorded, SHA256: map[string]string{}}
			img := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
			defer img.Close()
			mask, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC1, px)
			if err != nil {
				t.Fatal(err)
			}
			defer mask.Close()
			for rel, m := range map[string]gocv.Mat{s.Image: img, s.Mask: mask} {
				if !gocv.IMWrite(filepath.Join(dir, rel), m) {
					t.Fatal("cannot write", rel)
				}
				b, _ := os.ReadFile(filepath.Join(dir, rel))
				s.SHA256[rel] = SHA256(b)
			}
			d := &Dataset{Dir: dir, Samples: []Sample{s}}
			problems, err := Validate(context.Background(), d, 1, nil)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range problems {
				got = append(got, p.Reason)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
