//go:build matprofile

package models

import (
	"image"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/matleak"
)

// TestMatProfileGeometry runs Preprocess and Restore down every path (resize,
// no resize, a non-continuous view, letterbox padding, each error) and
// checks that gocv's live-Mat count is back where it started: every Mat the
// package opens is closed.
func TestMatProfileGeometry(t *testing.T) {
	img := bgrMat(t, 64, 48, make([]uint8, 3*64*48)...)
	defer img.Close()
	view := img.Region(image.Rect(8, 8, 40, 40))
	defer view.Close()
	grey := gocv.NewMatWithSize(48, 64, gocv.MatTypeCV8UC1)
	defer grey.Close()

	leaks := matleak.Start(t)
	check := leaks.Check
	s := Presets()["modnet"]
	s.Width, s.Height = 32, 32
	dst := make([]float32, s.ItemLen())
	run := func(step string, m gocv.Mat, p Placement, wantErr bool) {
		t.Helper()
		if err := s.Preprocess(m, p, dst); (err != nil) != wantErr {
			t.Errorf("%s: error %v", step, err)
		}
		check(step)
	}
	run("resize", img, Place(FitResize, 64, 48, 32, 32), false)
	run("letterbox", img, Place(FitLetterbox, 64, 48, 32, 32), false)
	run("no resize, view", view, Place(FitResize, 32, 32, 32, 32), false)
	run("grey image", grey, Place(FitResize, 64, 48, 32, 32), true)
	run("wrong placement", img, Place(FitResize, 10, 10, 32, 32), true)

	prob := make([]float32, 32*32)
	for _, c := range []struct {
		step       string
		p          Placement
		dstW, dstH int
		wantErr    bool
	}{
		{"restore resize", Place(FitResize, 64, 48, 32, 32), 64, 48, false},
		{"restore crop", Place(FitPad, 20, 10, 32, 32), 20, 10, false},
		{"restore letterbox", Place(FitLetterbox, 64, 48, 32, 32), 64, 48, false},
		{"restore bad target", Place(FitResize, 64, 48, 32, 32), 0, 48, true},
	} {
		if _, err := Restore(prob, c.p, c.dstW, c.dstH); (err != nil) != c.wantErr {
			t.Errorf("%s: error %v", c.step, err)
		}
		check(c.step)
	}
}
