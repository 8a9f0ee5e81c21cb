package models_test

import (
	"image"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
)

// oracleSession opens the oracle model (prob = 1 where R >= 128, else 0,
// exactly; see onnxbuild.DefaultOracle) at input size w x h.
func oracleSession(t *testing.T, w, h int) *models.Session {
	t.Helper()
	testmodel.InitRuntime(t)
	path := testmodel.Oracle(t, t.TempDir())
	spec := models.Presets()["oracle"]
	spec.Width, spec.Height = w, h
	s, err := models.Open(path, spec, models.SessionOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// redBlocks draws a w x h BGR image whose red channel is 200 inside the
// rectangles and 50 elsewhere (blue and green vary, which the oracle
// ignores), and the oracle's exact answer for it.
func redBlocks(t *testing.T, w, h int, rects ...image.Rectangle) (gocv.Mat, []float32) {
	t.Helper()
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	px, err := m.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, w*h)
	for y := range h {
		for x := range w {
			i := y*w + x
			px[3*i], px[3*i+1], px[3*i+2] = uint8(x*7), uint8(y*5), 50
			for _, r := range rects {
				if image.Pt(x, y).In(r) {
					px[3*i+2] = 200
					want[i] = 1
				}
			}
		}
	}
	return m, want
}

func samePlane(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("%s: value %d = %v, want %v", what, i, got[i], want[i])
		}
	}
}

// The oracle is a per-pixel function, so whenever the image reaches the
// model unscaled (same size, letterbox bands, tiles, padded tiles) the
// prediction is exactly the oracle's answer for each pixel.
func TestPredictorOracleExact(t *testing.T) {
	const w, h = 40, 30
	img, want := redBlocks(t, w, h, image.Rect(5, 4, 22, 27), image.Rect(30, 0, 40, 9))
	defer img.Close()

	cases := []struct {
		name         string
		inW, inH     int
		fit          models.Fit
		tile         image.Point
		overlap, bat int
	}{
		{"same size", w, h, models.FitResize, image.Point{}, 0, 0},
		{"letterbox", 40, 40, models.FitLetterbox, image.Point{}, 0, 0},
		{"tiles 16x16 overlap 4", 16, 16, models.FitResize, image.Pt(16, 16), 4, 0},
		{"tiles batched by 3", 16, 16, models.FitResize, image.Pt(16, 16), 4, 3},
		{"tile larger than the image", 64, 48, models.FitResize, image.Pt(64, 48), 8, 0},
	}
	for _, c := range cases {
		p := models.NewPredictor(oracleSession(t, c.inW, c.inH), c.fit, c.tile, c.overlap)
		p.Batch = c.bat
		p.TileMode = models.TilePlain // stitching alone; context has its own test
		got, err := p.Predict(img)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		samePlane(t, c.name, got, want)
		if n := p.TileCount(w, h); c.tile == (image.Point{}) && n != 1 || c.tile == image.Pt(16, 16) && n != 9 { // 3 columns (x 0, 12, 24) by 3 rows (y 0, 7, 14)
			t.Errorf("%s: %d tiles", c.name, n)
		}
	}
}

// A 2x downscale of an image made of 2x2-aligned blocks keeps every block
// pixel's value away from block edges: the resize path runs end to end.
func TestPredictorOracleResize(t *testing.T) {
	img, _ := redBlocks(t, 64, 48, image.Rect(8, 8, 40, 40))
	defer img.Close()
	p := models.NewPredictor(oracleSession(t, 32, 24), models.FitResize, image.Point{}, 0)
	got, err := p.Predict(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 64*48 {
		t.Fatalf("%d values, want 64x48", len(got))
	}
	for _, pt := range []image.Point{{20, 20}, {12, 36}, {36, 12}} {
		if v := got[pt.Y*64+pt.X]; v != 1 {
			t.Errorf("inside the block at %v: %v, want 1", pt, v)
		}
	}
	for _, pt := range []image.Point{{2, 2}, {50, 20}, {20, 45}} {
		if v := got[pt.Y*64+pt.X]; v != 0 {
			t.Errorf("outside the block at %v: %v, want 0", pt, v)
		}
	}
}

// SINet on the shared P3M portraits: the README of ../shared/models gives
// an IoU of about 0.8 against alpha >= 128 with the preset's
// preprocessing; the predictor, untiled, must land there. Tiled at the
// model's size it must still give a plane of probabilities.
func TestPredictorSINetP3M(t *testing.T) {
	p3m := shareddata.Dir(t, "data/p3m")
	testmodel.InitRuntime(t)
	s := testmodel.SINetSession(t)
	p := models.NewPredictor(s, models.FitResize, image.Point{}, 0)
	imgs, _ := filepath.Glob(filepath.Join(p3m, "images", "*.jpg"))
	if len(imgs) == 0 {
		t.Skip("no P3M images")
	}
	var inter, union float64
	for _, f := range imgs {
		img := gocv.IMRead(f, gocv.IMReadColor)
		alpha := gocv.IMRead(filepath.Join(p3m, "alphas", filepath.Base(f[:len(f)-4])+".png"), gocv.IMReadGrayScale)
		prob, err := p.Predict(img)
		if err != nil {
			t.Fatal(err)
		}
		a := alpha.ToBytes()
		if len(a) != len(prob) {
			t.Fatalf("%s: %d predicted values, %d alpha", f, len(prob), len(a))
		}
		var in, un float64
		for i, v := range prob {
			pp, gg := v >= 0.5, a[i] >= 128
			if pp && gg {
				in++
			}
			if pp || gg {
				un++
			}
		}
		inter += in
		union += un
		t.Logf("%s: IoU %.3f", filepath.Base(f), in/un)
		img.Close()
		alpha.Close()
	}
	if iou := inter / union; iou < 0.7 {
		t.Errorf("SINet accumulated IoU on P3M %.3f, want about 0.8 or more: far lower means wrong preprocessing", iou)
	} else {
		t.Logf("SINet accumulated IoU on %d P3M portraits: %.3f", len(imgs), iou)
	}

	img := gocv.IMRead(imgs[0], gocv.IMReadColor)
	defer img.Close()
	tp := models.NewPredictor(s, models.FitResize, image.Pt(320, 320), 32)
	prob, err := tp.Predict(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(prob) != img.Cols()*img.Rows() {
		t.Fatalf("tiled: %d values", len(prob))
	}
	for i, v := range prob {
		if !(v >= 0 && v <= 1) {
			t.Fatalf("tiled: value %d = %v, not a probability", i, v)
		}
	}
}

// In context mode the predictor keeps the whole-image prediction bit for
// bit wherever it is certain (weight 0), and only the band may change.
func TestPredictorContextKeepsCertain(t *testing.T) {
	const w, h = 40, 30
	img, _ := redBlocks(t, w, h, image.Rect(5, 4, 22, 27), image.Rect(30, 0, 40, 9))
	defer img.Close()
	s := oracleSession(t, 16, 16)
	global, err := models.NewPredictor(s, models.FitResize, image.Point{}, 0).Predict(img)
	if err != nil {
		t.Fatal(err)
	}
	got, err := models.NewPredictor(s, models.FitResize, image.Pt(16, 16), 4).Predict(img)
	if err != nil {
		t.Fatal(err)
	}
	m := models.RefineWeights(global, w, h, models.ContextBand(w, h, 16, 16))
	band := 0
	for i := range got {
		if m[i] == 0 && got[i] != global[i] {
			t.Fatalf("pixel %d outside the band: %v, want the global %v", i, got[i], global[i])
		}
		if m[i] > 0 {
			band++
		}
	}
	if band == 0 {
		t.Error("no band: the blocks have edges")
	}
}
