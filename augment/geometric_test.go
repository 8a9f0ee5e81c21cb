package augment

import (
	"fmt"
	"testing"

	"gocv.io/x/gocv"
)

// geometricCases exercise every geometric op over wide parameter ranges.
// The chain resamples three times, and each resampling lets nearest and
// linear disagree at stair-step corners, so it gets a looser bar.
var geometricCases = []struct {
	name, yaml string
	min        float64
}{
	{"fliplr", "ops: [fliplr]", 0.995},
	{"flipud", "ops: [flipud]", 0.995},
	{"affine", `ops: [{affine: {rotate: [-45, 45], scale: [0.5, 1.5], translate_x: [-0.2, 0.2], translate_y: [-0.2, 0.2], shear: [-20, 20]}}]`, 0.995},
	{"rotate", `ops: [{rotate: {angle: [-180, 180]}}]`, 0.995},
	{"random_crop/size", `ops: [{random_crop: {width: [32, 200], height: [32, 240]}}]`, 0.995},
	{"random_crop/scale_unknown", `ops: [{random_crop: {scale: [0.05, 1], aspect: [0.5, 2], center: unknown}}]`, 0.995},
	{"resize", `ops: [{resize: {width: [100, 400], height: [120, 480]}}]`, 0.995},
	{"resize/area_keep_aspect", `ops: [{resize: {width: [100, 200], interpolation: area}}]`, 0.995},
	{"pad_to", `ops: [{pad_to: {width: [150, 400], height: [150, 400], position: random}}]`, 0.995},
	{"chain", `ops: [fliplr, {affine: {rotate: [-30, 30], scale: [0.7, 1.3]}}, {random_crop: {scale: [0.3, 1]}}, {resize: {width: 320, height: 320}}, {pad_to: {width: 400, height: 360}}]`, 0.99},
}

// TestGeometricAlignment: after every geometric op and 100 draws each, the
// mask agrees with the mask read from the image colour (red person on blue)
// on >= 99.5% of pixels, away from a 2-pixel frame; masks stay 0/255,
// trimaps 0/128/255, and all Mats keep one size.
func TestGeometricAlignment(t *testing.T) {
	s := personSample(t, 240, 200)
	defer s.Close()
	for _, tc := range geometricCases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustParse(t, tc.yaml)
			worst := 1.0
			for i := range 100 {
				c, log := apply(t, p, s, 7, "person", i)
				if err := c.Validate(); err != nil {
					t.Fatal(err)
				}
				agree := agreement(t, c)
				worst = min(worst, agree)
				if agree < tc.min {
					t.Errorf("draw %d %v: mask agrees with image on %.4f of pixels", i, log, agree)
				}
				checkLabelValues(t, c, fmt.Sprint(log))
				c.Close()
			}
			t.Logf("worst agreement %.4f", worst)
		})
	}
}

func agreement(t *testing.T, s *Sample) float64 {
	img, mask := bytesOf(t, &s.Image), bytesOf(t, &s.Mask)
	rows, cols := s.Image.Rows(), s.Image.Cols()
	n, ok := 0, 0
	for y := 2; y < rows-2; y++ {
		for x := 2; x < cols-2; x++ {
			i := y*cols + x
			red := img[3*i+2] > img[3*i]
			n++
			if red == (mask[i] == 255) {
				ok++
			}
		}
	}
	if n == 0 {
		return 1
	}
	return float64(ok) / float64(n)
}

func checkLabelValues(t *testing.T, s *Sample, what string) {
	t.Helper()
	for _, v := range bytesOf(t, &s.Mask) {
		if v != 0 && v != 255 {
			t.Fatalf("%s: mask value %d", what, v)
		}
	}
	for _, v := range bytesOf(t, &s.Trimap) {
		if v != 0 && v != 128 && v != 255 {
			t.Fatalf("%s: trimap value %d", what, v)
		}
	}
}

func TestRandomCropOnUnknown(t *testing.T) {
	s := personSample(t, 240, 200)
	defer s.Close()
	p := mustParse(t, `ops: [{random_crop: {width: 31, height: 31, center: unknown}}]`)
	for i := range 50 {
		c, log := apply(t, p, s, 1, "x", i)
		if c.Image.Cols() != 31 || c.Image.Rows() != 31 {
			t.Fatalf("crop is %dx%d", c.Image.Cols(), c.Image.Rows())
		}
		if !log[0].Params["on_unknown"].(bool) {
			t.Fatalf("crop not centred on unknown: %v", log)
		}
		// The window's centre pixel is in the unknown band unless the
		// window was pushed inside the image.
		tri := bytesOf(t, &c.Trimap)
		if x, y := log[0].Params["x"].(int), log[0].Params["y"].(int); x > 0 && y > 0 && x < 200-31 && y < 240-31 && tri[15*31+15] != 128 {
			t.Errorf("centre of crop at %d,%d is %d, want 128", x, y, tri[15*31+15])
		}
		c.Close()
	}
}

func TestPadToAndResizeSizes(t *testing.T) {
	s := personSample(t, 240, 200)
	defer s.Close()
	for _, tc := range []struct {
		yaml string
		w, h int
	}{
		{`ops: [{pad_to: {width: 300, height: 100}}]`, 300, 240},
		{`ops: [{resize: {width: 100}}]`, 100, 120},
		{`ops: [{resize: {height: 60}}]`, 50, 60},
		{`ops: [{resize: {width: 33, height: 77}}]`, 33, 77},
		{`ops: [{random_crop: {width: 500, height: 10}}]`, 200, 10},
	} {
		c, _ := apply(t, mustParse(t, tc.yaml), s, 0, "x", 0)
		for _, m := range c.mats() {
			if m.Cols() != tc.w || m.Rows() != tc.h {
				t.Errorf("%s: got %dx%d, want %dx%d", tc.yaml, m.Cols(), m.Rows(), tc.w, tc.h)
			}
		}
		c.Close()
	}
}

// Without a trimap, center: unknown uses 0 < alpha < 255.
func TestRandomCropOnSoftAlpha(t *testing.T) {
	s := personSample(t, 240, 200)
	defer s.Close()
	s.Trimap.Close()
	s.Trimap = gocv.NewMat()
	p := mustParse(t, `ops: [{random_crop: {width: 21, height: 21, center: unknown}}]`)
	for i := range 20 {
		c, log := apply(t, p, s, 2, "x", i)
		a := bytesOf(t, &c.Alpha)
		if !log[0].Params["on_unknown"].(bool) {
			t.Fatalf("not centred: %v", log)
		}
		// Unless the window was pushed inside the image, its centre is soft.
		x, y := log[0].Params["x"].(int), log[0].Params["y"].(int)
		if v := a[10*21+10]; x > 0 && y > 0 && x < 200-21 && y < 240-21 && (v == 0 || v == 255) {
			t.Fatalf("centre alpha %d, %v", v, log)
		}
		c.Close()
	}
}
