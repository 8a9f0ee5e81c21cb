//go:build matprofile

package apply

import (
	"context"
	"fmt"
	"image"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/matleak"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
)

// TestMatProfileApply runs every effect and refinement and every error
// path of the Mat-handling functions (jobs' TestMatProfileApply runs
// them over folders), and checks after each step that gocv's live-Mat
// count is back where it started.
func TestMatProfileApply(t *testing.T) {
	ctx := context.Background()
	leaks := matleak.Start(t)
	check := leaks.Check

	// The functions on their own, including their error paths.
	img := bgrMat(t, 40, 30, stripes(40, 30))
	defer img.Close()
	grey := gocv.NewMatWithSize(30, 40, gocv.MatTypeCV8UC1)
	defer grey.Close()
	view := img.Region(image.Rect(4, 4, 36, 26))
	defer view.Close()
	alpha := make([]float32, 40*30)
	for i := range alpha {
		alpha[i] = float32(i%40) / 40
	}
	valpha := alpha[:32*22]
	small := bgrMat(t, 10, 10, solid(10, 10, 1, 2, 3))
	defer small.Close()
	leaks.Reset() // the fixtures above stay open
	closeIf := func(m gocv.Mat, err error) {
		if err == nil {
			m.Close()
		}
	}
	closeIf(Blur(img, alpha, BlurOptions{Sigma: 2}))
	closeIf(Blur(view, valpha, BlurOptions{Sigma: 2, FgEdge: true}))
	closeIf(Blur(img, alpha, BlurOptions{Kernel: 2}))
	closeIf(Blur(grey, alpha, BlurOptions{}))
	check("blur")
	fit, _, err := FitCover(small, 40, 30)
	if err != nil {
		t.Fatal(err)
	}
	closeIf(Replace(img, fit, alpha, 0.7))
	closeIf(Replace(img, fit, alpha, 0))
	closeIf(Replace(img, small, alpha, 0.7))
	closeIf(Replace(img, small, alpha, 0))
	fit.Close()
	closeIf2 := func(m gocv.Mat, _ Fitted, err error) { closeIf(m, err) }
	closeIf2(FitCover(img, 10, 50))
	closeIf2(FitCover(view, 64, 64))
	empty := gocv.NewMat()
	closeIf2(FitCover(empty, 10, 10))
	empty.Close()
	check("replace and fit")
	closeIf(Cutout(view, valpha))
	closeIf(Cutout(img, valpha))
	closeIf(Matte(alpha, 40, 30))
	closeIf(Matte(alpha, 4, 3))
	check("cutout and matte")
	if _, err := GuidedFilter(view, valpha, 3, 1e-3, image.Rect(2, 2, 20, 20)); err != nil {
		t.Error(err)
	}
	GuidedFilter(img, alpha, 0, 1e-3, image.Rect(0, 0, 40, 30))
	Feather(alpha, 40, 30, 3)
	Refine(ctx, img, alpha, RefineOptions{Trimap: true, Feather: 1})
	Refine(ctx, grey, alpha, RefineOptions{Trimap: true})
	check("refine")
	s := NewSheet([]string{"input", "cutout", "matte"}, 24)
	cut, _ := Cutout(img, alpha)
	m, _ := Matte(alpha, 40, 30)
	s.Add(0, 0, "x", view)
	s.Add(0, 1, "", cut)
	s.Add(1, 2, "", m)
	s.Add(1, 5, "", m)
	f32 := gocv.NewMatWithSize(4, 4, gocv.MatTypeCV32FC1)
	s.Add(2, 0, "", f32)
	f32.Close()
	cut.Close()
	m.Close()
	s.Encode(gocv.PNGFileExt)
	s.Encode(gocv.JPEGFileExt)
	NewSheet([]string{"a"}, 0).Encode(gocv.PNGFileExt)
	check("sheet")

	// models.Predictor down its paths (whole image, letterbox, tiles,
	// padded tiles, a grey image's error), with the oracle model.
	if _, err := models.LibraryPath(); err != nil {
		t.Logf("predictor part skipped: %v", err)
		return
	}
	op := testmodel.Oracle(t, t.TempDir())
	for _, c := range []struct {
		fit  models.Fit
		size image.Point
		tile image.Point
	}{
		{models.FitResize, image.Pt(16, 16), image.Point{}},
		{models.FitLetterbox, image.Pt(16, 16), image.Point{}},
		{models.FitResize, image.Pt(16, 16), image.Pt(16, 16)},
		{models.FitResize, image.Pt(64, 64), image.Pt(64, 64)},
	} {
		spec := models.Presets()["oracle"]
		spec.Width, spec.Height = c.size.X, c.size.Y
		sess, err := models.Open(op, spec, models.SessionOptions{Threads: 1})
		if err != nil {
			t.Fatal(err)
		}
		p := models.NewPredictor(sess, c.fit, c.tile, 4)
		if _, err := p.Predict(img); err != nil {
			t.Error(err)
		}
		if _, err := p.Predict(view); err != nil {
			t.Error(err)
		}
		if _, err := p.Predict(grey); err == nil {
			t.Error("grey image accepted")
		}
		sess.Close()
		check(fmt.Sprintf("predictor %s %v tile %v", c.fit, c.size, c.tile))
	}
}
