package trimap

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
)

// megapixelImage returns a 1000 x 1000 image: a dim sample upscaled with
// bicubic interpolation when the shared data is present, else a synthetic
// image of noisy blobs.
func megapixelImage(tb testing.TB) Image {
	tb.Helper()
	const side = 1000
	if root, ok := shareddata.Find(); ok {
		p := filepath.Join(root, "data/dim/images/dim0.png")
		if _, err := os.Stat(p); err == nil {
			src := gocv.IMRead(p, gocv.IMReadColor)
			defer src.Close()
			dst := gocv.NewMat()
			defer dst.Close()
			gocv.Resize(src, &dst, image.Pt(side, side), 0, 0, gocv.InterpolationCubic)
			im, err := ImageFromMat(dst)
			if err != nil {
				tb.Fatal(err)
			}
			return im
		}
	}
	return syntheticImage(side, side, 1)
}

// syntheticImage draws random discs over a gradient, with noise.
func syntheticImage(w, h int, seed uint64) Image {
	return Image{W: w, H: h, Pix: fixture.SyntheticBGR(w, h, seed)}
}

// BenchmarkSLIC runs SLIC (Lab conversion, 10 iterations, connectivity) on
// a 1-megapixel image with 2500 superpixels and m = 10, single-threaded and
// with 2 workers. ns/op is the wall time per megapixel; cpu-ms/op the CPU
// time of the process per megapixel (all threads, GC included), the
// steadier figure on a shared machine.
//
// With TRIMAP_BENCH_IMAGE_OUT=FILE.png it writes the image, for running
// scikit-image on the same pixels.
func BenchmarkSLIC(b *testing.B) {
	im := megapixelImage(b)
	if path := os.Getenv("TRIMAP_BENCH_IMAGE_OUT"); path != "" {
		if err := WriteImage(path, im); err != nil {
			b.Fatal(err)
		}
	}
	for _, wk := range []struct {
		name    string
		workers int
	}{{"workers=1", 1}, {"workers=2", 2}} {
		b.Run(wk.name, func(b *testing.B) {
			opt := SLICOptions{Superpixels: 2500, Compactness: 10, Iterations: 10, Workers: wk.workers}
			cpu0 := fixture.CPUTime()
			for b.Loop() {
				if _, err := SLIC(context.Background(), im, opt); err != nil {
					b.Fatal(err)
				}
			}
			if cpu := fixture.CPUTime() - cpu0; cpu > 0 {
				b.ReportMetric(float64(cpu.Nanoseconds())/1e6/float64(b.N), "cpu-ms/op")
			}
		})
	}
}

// megapixelAlpha is the alpha matte matching megapixelImage (a soft
// diagonal edge when the shared data is absent).
func megapixelAlpha(tb testing.TB) Gray {
	tb.Helper()
	const side = 1000
	if root, ok := shareddata.Find(); ok {
		p := filepath.Join(root, "data/dim/alphas/dim0.png")
		if _, err := os.Stat(p); err == nil {
			src := gocv.IMRead(p, gocv.IMReadGrayScale)
			defer src.Close()
			dst := gocv.NewMat()
			defer dst.Close()
			gocv.Resize(src, &dst, image.Pt(side, side), 0, 0, gocv.InterpolationLinear)
			g, err := GrayFromMat(dst)
			if err != nil {
				tb.Fatal(err)
			}
			return g
		}
	}
	g := NewGray(side, side)
	for y := range side {
		for x := range side {
			g.Pix[y*side+x] = uint8(min(max((x-y)*4+128, 0), 255))
		}
	}
	return g
}

// BenchmarkFromSuperpixels is the whole superpixel trimap (SLIC with the
// default count, labelling, minimum band) of a megapixel, one worker.
func BenchmarkFromSuperpixels(b *testing.B) {
	im, alpha := megapixelImage(b), megapixelAlpha(b)
	opt := SuperpixelOptions{SLIC: SLICOptions{Workers: 1}}
	for b.Loop() {
		if _, _, err := FromSuperpixels(context.Background(), im, alpha, opt); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMorphological is the morphological trimap of a megapixel with
// widths 10 and 20.
func BenchmarkMorphological(b *testing.B) {
	alpha := megapixelAlpha(b)
	for b.Loop() {
		if _, _, err := Morphological(alpha, 10, 20); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkToLab measures the CIELAB conversion of a megapixel.
func BenchmarkToLab(b *testing.B) {
	im := megapixelImage(b)
	for b.Loop() {
		if _, err := ToLab(im); err != nil {
			b.Fatal(err)
		}
	}
}
