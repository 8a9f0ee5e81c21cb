package models

import (
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// bgrMat makes a w x h 8-bit BGR Mat from pixel triples in row-major order.
func bgrMat(t testing.TB, w, h int, px ...uint8) gocv.Mat {
	t.Helper()
	if len(px) != 3*w*h {
		t.Fatalf("bgrMat: %d values for %dx%d", len(px), w, h)
	}
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	d, err := m.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	copy(d, px)
	return m
}

// identity feeds raw 0..255 values, so the tests see where each byte went.
func identity(layout Layout, order string, w, h int) Spec {
	return Spec{Layout: layout, Order: order, Width: w, Height: h, Scale: 1, Std: [3]float32{1, 1, 1}, PostScale: 1}
}

func equal(t *testing.T, what string, got, want []float32) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			t.Errorf("%s: %v\nwant %v", what, got, want)
			return
		}
	}
}

// TestPreprocessLayout feeds a 2x1 image with pixels (B,G,R) = (120,130,140)
// and (0,255,10) through each layout and channel order.
func TestPreprocessLayout(t *testing.T) {
	img := bgrMat(t, 2, 1, 120, 130, 140, 0, 255, 10)
	defer img.Close()
	p := Place(FitResize, 2, 1, 2, 1)
	for _, c := range []struct {
		layout Layout
		order  string
		want   []float32
	}{
		{NCHW, RGB, []float32{140, 10, 130, 255, 120, 0}},
		{NCHW, BGR, []float32{120, 0, 130, 255, 140, 10}},
		{NHWC, RGB, []float32{140, 130, 120, 10, 255, 0}},
		{NHWC, BGR, []float32{120, 130, 140, 0, 255, 10}},
	} {
		dst := make([]float32, 6)
		if err := identity(c.layout, c.order, 2, 1).Preprocess(img, p, dst); err != nil {
			t.Fatal(err)
		}
		equal(t, string(c.layout)+" "+c.order, dst, c.want)
	}
}

// TestPreprocessNormalize checks the formula on one pixel, by hand:
// SINet (README): x = ((p - mean) / std) / 255 per B,G,R channel;
// MODNet: (p/255 - 0.5) / 0.5.
func TestPreprocessNormalize(t *testing.T) {
	img := bgrMat(t, 1, 1, 120, 130, 140)
	defer img.Close()
	p := Place(FitResize, 1, 1, 1, 1)
	dst := make([]float32, 3)
	sinet := Presets()["sinet"]
	sinet.Width, sinet.Height = 1, 1
	if err := sinet.Preprocess(img, p, dst); err != nil {
		t.Fatal(err)
	}
	// ((120-102.890434)/62.93292)/255, ((130-111.25247)/62.82138)/255, ((140-126.91212)/66.355705)/255
	for c, want := range []float64{0.0010661564290184208, 0.0011702978427120842, 0.0007734831482514296} {
		if !near(float64(dst[c]), want, 1e-6) {
			t.Errorf("sinet channel %d: %g, want %g", c, dst[c], want)
		}
	}
	m := Presets()["modnet"]
	m.Width, m.Height = 1, 1
	if err := m.Preprocess(img, p, dst); err != nil {
		t.Fatal(err)
	}
	// RGB: R=140 first. (140/255-0.5)/0.5 = 0.0980392..., G 130: 0.0196078..., B 120: -0.0588235...
	for c, want := range []float64{0.09803921568627451, 0.0196078431372549, -0.058823529411764705} {
		if !near(float64(dst[c]), want, 1e-6) {
			t.Errorf("modnet channel %d: %g, want %g", c, dst[c], want)
		}
	}
}

// TestPreprocessResize upsamples a 2x1 row of 0 and 200 to 4x1: OpenCV's
// linear resize (half-pixel centres, edges clamped) gives 0, 50, 150, 200.
func TestPreprocessResize(t *testing.T) {
	img := bgrMat(t, 2, 1, 0, 0, 0, 200, 200, 200)
	defer img.Close()
	dst := make([]float32, 12)
	if err := identity(NCHW, BGR, 4, 1).Preprocess(img, Place(FitResize, 2, 1, 4, 1), dst); err != nil {
		t.Fatal(err)
	}
	row := []float32{0, 50, 150, 200}
	equal(t, "resized", dst, append(append(append([]float32{}, row...), row...), row...))
}

// TestPreprocessPadding letterboxes a 2x1 image into a 2x2 input (row 1 is
// padding) and pads a 1x1 image into the middle of 3x3: padding is the
// normalised black pixel, -1 under MODNet's (p/255-0.5)/0.5.
func TestPreprocessPadding(t *testing.T) {
	m := Presets()["modnet"]
	m.Width, m.Height = 2, 2
	img := bgrMat(t, 2, 1, 255, 255, 255, 255, 255, 255)
	defer img.Close()
	p := Place(FitLetterbox, 2, 1, 2, 2)
	if p != (Placement{SrcW: 2, SrcH: 1, InW: 2, InH: 2, X: 0, Y: 0, W: 2, H: 1}) {
		t.Fatalf("letterbox placement %+v", p)
	}
	for _, layout := range []Layout{NCHW, NHWC} {
		m.Layout = layout
		dst := make([]float32, 12)
		for i := range dst {
			dst[i] = 42 // garbage the padding must overwrite
		}
		if err := m.Preprocess(img, p, dst); err != nil {
			t.Fatal(err)
		}
		want := []float32{1, 1, -1, -1, 1, 1, -1, -1, 1, 1, -1, -1}
		if layout == NHWC {
			want = []float32{1, 1, 1, 1, 1, 1, -1, -1, -1, -1, -1, -1}
		}
		equal(t, "letterbox "+string(layout), dst, want)
	}

	one := bgrMat(t, 1, 1, 255, 255, 255)
	defer one.Close()
	p = Place(FitPad, 1, 1, 3, 3)
	if p.X != 1 || p.Y != 1 || p.W != 1 || p.H != 1 {
		t.Fatalf("pad placement %+v", p)
	}
	m.Layout, m.Width, m.Height = NCHW, 3, 3
	dst := make([]float32, 27)
	if err := m.Preprocess(one, p, dst); err != nil {
		t.Fatal(err)
	}
	for i, v := range dst {
		want := float32(-1)
		if i%9 == 4 {
			want = 1
		}
		if v != want {
			t.Errorf("pad: value %d is %g, want %g", i, v, want)
		}
	}
}

// TestPreprocessRegion feeds a non-continuous view (a column of a wider
// image), which is copied before reading.
func TestPreprocessRegion(t *testing.T) {
	img := bgrMat(t, 3, 2, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)
	defer img.Close()
	col := img.Region(image.Rect(1, 0, 2, 2))
	defer col.Close()
	dst := make([]float32, 6)
	if err := identity(NHWC, BGR, 1, 2).Preprocess(col, Place(FitResize, 1, 2, 1, 2), dst); err != nil {
		t.Fatal(err)
	}
	equal(t, "region", dst, []float32{4, 5, 6, 13, 14, 15})
}

func TestPreprocessErrors(t *testing.T) {
	img := bgrMat(t, 2, 2, make([]uint8, 12)...)
	defer img.Close()
	grey := gocv.NewMatWithSize(2, 2, gocv.MatTypeCV8UC1)
	defer grey.Close()
	s := identity(NCHW, RGB, 2, 2)
	p := Place(FitResize, 2, 2, 2, 2)
	if err := s.Preprocess(grey, Place(FitResize, 2, 2, 2, 2), make([]float32, 12)); err == nil {
		t.Error("grey image: no error")
	}
	if err := s.Preprocess(img, Place(FitResize, 3, 2, 2, 2), make([]float32, 12)); err == nil {
		t.Error("placement for another size: no error")
	}
	if err := s.Preprocess(img, p, make([]float32, 11)); err == nil {
		t.Error("short destination: no error")
	}
	bad := p
	bad.X = 1
	if err := s.Preprocess(img, bad, make([]float32, 12)); err == nil {
		t.Error("rectangle outside the input: no error")
	}
	s.Layout = ""
	if err := s.Preprocess(img, p, make([]float32, 12)); err == nil {
		t.Error("no layout: no error")
	}
	s = identity(NCHW, RGB, 4, 4)
	if err := s.Preprocess(img, p, make([]float32, 12)); err == nil {
		t.Error("placement for another input size: no error")
	}
}

// benchImage is a 1920x1080 BGR image with every byte value.
func benchImage(b *testing.B) gocv.Mat {
	m := gocv.NewMatWithSize(1080, 1920, gocv.MatTypeCV8UC3)
	d, err := m.DataPtrUint8()
	if err != nil {
		b.Fatal(err)
	}
	for i := range d {
		d[i] = uint8(i * 7)
	}
	return m
}

func benchPreprocess(b *testing.B, s Spec, fit Fit) {
	img := benchImage(b)
	defer img.Close()
	p := Place(fit, 1920, 1080, s.Width, s.Height)
	dst := make([]float32, s.ItemLen())
	b.ResetTimer()
	for range b.N {
		if err := s.Preprocess(img, p, dst); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPreprocess1080pUnetASPP: 1920x1080 into unet-aspp's 800x600
// NHWC BGR input.
func BenchmarkPreprocess1080pUnetASPP(b *testing.B) {
	benchPreprocess(b, Presets()["unet-aspp"], FitResize)
}

// BenchmarkPreprocess1080pNCHW: the same into an 800x600 NCHW RGB input
// with MODNet's normalisation.
func BenchmarkPreprocess1080pNCHW(b *testing.B) {
	s := Presets()["modnet"]
	s.Width, s.Height = 800, 600
	benchPreprocess(b, s, FitResize)
}

// BenchmarkPreprocess1080pLetterbox: letterboxed into 800x600 NCHW.
func BenchmarkPreprocess1080pLetterbox(b *testing.B) {
	s := Presets()["modnet"]
	s.Width, s.Height = 800, 600
	benchPreprocess(b, s, FitLetterbox)
}

// BenchmarkResize1080p is OpenCV's share of the preprocessing above.
func BenchmarkResize1080p(b *testing.B) {
	img := benchImage(b)
	defer img.Close()
	dst := gocv.NewMat()
	defer dst.Close()
	b.ResetTimer()
	for range b.N {
		gocv.Resize(img, &dst, image.Pt(800, 600), 0, 0, gocv.InterpolationLinear)
	}
}
