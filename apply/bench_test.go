package apply

import (
	"context"
	"image"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
)

// bench1080p draws a 1920x1080 portrait-like frame and a soft alpha.
func bench1080p(b *testing.B) (gocv.Mat, []float32) {
	b.Helper()
	const w, h = 1920, 1080
	px := make([]uint8, 3*w*h)
	alpha := make([]float32, w*h)
	for y := range h {
		for x := range w {
			i := y*w + x
			px[3*i], px[3*i+1], px[3*i+2] = uint8(x), uint8(y), uint8(x^y)
			dx, dy := float32(x-w/2)/300, float32(y-h/2)/450
			if d := dx*dx + dy*dy; d < 1 {
				alpha[i] = min(1, (1-d)*8)
			}
		}
	}
	return bgrMat(b, w, h, px), alpha
}

// unetASPP builds models/onnxbuild's unet-aspp (800x600, random weights)
// and opens it with the preset spec on the CPU, all cores.
func unetASPP(b *testing.B) *models.Session {
	b.Helper()
	testmodel.NeedRuntime(b)
	path := testmodel.Built(b, b.TempDir(), "unet-aspp", onnxbuild.Options{Seed: 1})
	return testmodel.Open(b, path, models.Presets()["unet-aspp"], models.SessionOptions{})
}

func reportMPs(b *testing.B, w, h int) {
	b.ReportMetric(float64(w*h)*float64(b.N)/1e6/b.Elapsed().Seconds(), "MP/s")
}

// BenchmarkBlur1080p is the blur effect on one 1080p frame: the effect
// alone (Gaussian at the default sigma, plain and normalised), and end to
// end with the unet-aspp build (predict, threshold, blur), untiled (the
// frame resized to 800x600) and tiled (800x600 tiles, 32 px overlap: 6
// tiles). Run it with
//
//	go test -run '^$' -bench Blur1080p -benchtime 5x ./apply/
func BenchmarkBlur1080p(b *testing.B) {
	img, alpha := bench1080p(b)
	defer img.Close()
	w, h := img.Cols(), img.Rows()
	for _, fg := range []bool{false, true} {
		name := "effect"
		if fg {
			name = "effect-fg-edge"
		}
		b.Run(name, func(b *testing.B) {
			for b.Loop() {
				m, err := Blur(img, alpha, BlurOptions{FgEdge: fg})
				if err != nil {
					b.Fatal(err)
				}
				m.Close()
			}
			reportMPs(b, w, h)
		})
	}
	for _, tiled := range []bool{false, true} {
		name := "unet-aspp-untiled"
		if tiled {
			name = "unet-aspp-tiled"
		}
		b.Run(name, func(b *testing.B) {
			s := unetASPP(b)
			var tile image.Point
			if tiled {
				tile = image.Pt(s.Spec.Width, s.Spec.Height)
			}
			p := models.NewPredictor(s, models.FitResize, tile, 32)
			b.ReportMetric(float64(p.TileCount(w, h)), "tiles")
			for b.Loop() {
				prob, err := p.Predict(img)
				if err != nil {
					b.Fatal(err)
				}
				a, err := Refine(context.Background(), img, prob, RefineOptions{})
				if err != nil {
					b.Fatal(err)
				}
				m, err := Blur(img, a, BlurOptions{})
				if err != nil {
					b.Fatal(err)
				}
				m.Close()
			}
			reportMPs(b, w, h)
		})
	}
}

// BenchmarkTrimapRefine1080p times the trimap refinement (SLIC trimap and
// the guided-filter passes) of a 1080p frame.
func BenchmarkTrimapRefine1080p(b *testing.B) {
	img, alpha := bench1080p(b)
	defer img.Close()
	for b.Loop() {
		if _, err := Refine(context.Background(), img, alpha, RefineOptions{Trimap: true}); err != nil {
			b.Fatal(err)
		}
	}
	reportMPs(b, img.Cols(), img.Rows())
}
