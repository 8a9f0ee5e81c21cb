package augment

import (
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/shareddata"
)

// TestRealJPEG100: on real photos, quality 100 keeps PSNR above 40 dB.
func TestRealJPEG100(t *testing.T) {
	dir := shareddata.Dir(t, "data/people-parts/images")
	files, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	p := mustParse(t, `ops: [{jpeg_quality: {quality: 100}}]`)
	for _, f := range files {
		s := &Sample{Image: gocv.IMRead(f, gocv.IMReadColor)}
		c, _ := apply(t, p, s, 0, f, 0)
		if v := psnr(bytesOf(t, &s.Image), bytesOf(t, &c.Image)); v <= 40 {
			t.Errorf("%s: PSNR %.1f dB", filepath.Base(f), v)
		}
		c.Close()
		s.Close()
	}
}

// TestRealMattingCrops: on the Composition-1k-style crops with human
// trimaps, crops centred on the unknown band hold unknown pixels and keep
// the trimap's three values.
func TestRealMattingCrops(t *testing.T) {
	dir := shareddata.Dir(t, "data/dim")
	files, _ := filepath.Glob(filepath.Join(dir, "images", "*.png"))
	p := mustParse(t, `ops: [{affine: {rotate: [-15, 15], scale: [0.8, 1.25]}}, {random_crop: {width: 96, height: 96, center: unknown}}]`)
	for _, f := range files {
		name := filepath.Base(f)
		s := &Sample{
			Image:  gocv.IMRead(f, gocv.IMReadColor),
			Alpha:  gocv.IMRead(filepath.Join(dir, "alphas", name), gocv.IMReadGrayScale),
			Trimap: gocv.IMRead(filepath.Join(dir, "trimaps", name), gocv.IMReadGrayScale),
		}
		for i := range 10 {
			c, log := apply(t, p, s, 0, name, i)
			checkLabelValues(t, c, name)
			unknown := 0
			for _, v := range bytesOf(t, &c.Trimap) {
				if v == 128 {
					unknown++
				}
			}
			if unknown == 0 || !log[1].Params["on_unknown"].(bool) {
				t.Errorf("%s copy %d: %d unknown pixels in crop %v", name, i, unknown, log)
			}
			c.Close()
		}
		s.Close()
	}
}
