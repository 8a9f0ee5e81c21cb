package apply

import (
	"math"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/composite"
)

// bgrMat makes an h x w 8UC3 Mat from interleaved BGR bytes.
func bgrMat(t testing.TB, w, h int, px []uint8) gocv.Mat {
	t.Helper()
	m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, append([]uint8(nil), px...))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// solid returns w*h pixels of one BGR colour.
func solid(w, h int, b, g, r uint8) []uint8 {
	px := make([]uint8, 3*w*h)
	for i := 0; i < len(px); i += 3 {
		px[i], px[i+1], px[i+2] = b, g, r
	}
	return px
}

func matBytes(t testing.TB, m gocv.Mat) []uint8 {
	t.Helper()
	return bgrBytes(m)
}

// Replace on a 4x1 image, worked by hand: out = a·I + (1 − a)·B.
func TestReplaceExact(t *testing.T) {
	img := bgrMat(t, 4, 1, []uint8{
		200, 10, 0, // a = 1: the image
		200, 10, 0, // a = 0.25
		200, 10, 0, // a = 0.7
		200, 10, 0, // a = 0: the background
	})
	defer img.Close()
	bg := bgrMat(t, 4, 1, []uint8{100, 250, 255, 100, 250, 255, 100, 250, 255, 100, 250, 255})
	defer bg.Close()
	out, err := Replace(img, bg, []float32{1, 0.25, 0.7, 0}, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	want := []float64{
		200, 10, 0,
		0.25*200 + 0.75*100, 0.25*10 + 0.75*250, 0.75 * 255, // 125, 190, 191.25
		0.7*200 + 0.3*100, 0.7*10 + 0.3*250, 0.3 * 255, // 170, 82, 76.5
		100, 250, 255,
	}
	got := matBytes(t, out)
	for i, w := range want {
		if math.Abs(float64(got[i])-w) > 1 {
			t.Errorf("value %d: %d, want %.2f ±1", i, got[i], w)
		}
	}
	for _, i := range []int{0, 1, 2, 9, 10, 11} {
		if float64(got[i]) != want[i] {
			t.Errorf("a = 0 or 1: value %d = %d, want exactly %v", i, got[i], want[i])
		}
	}
}

// Harmonising changes the subject's colour but never the pure background.
func TestReplaceHarmonize(t *testing.T) {
	const w, h = 16, 8
	img := bgrMat(t, w, h, solid(w, h, 40, 160, 220))
	defer img.Close()
	bg := bgrMat(t, w, h, solid(w, h, 200, 60, 30))
	defer bg.Close()
	alpha := make([]float32, w*h)
	for i := range alpha {
		if i%w < w/2 {
			alpha[i] = 1
		}
	}
	out, err := Replace(img, bg, alpha, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	got := matBytes(t, out)
	if got[0] == 40 && got[1] == 160 && got[2] == 220 {
		t.Errorf("harmonize 0.8 left the subject's colour unchanged")
	}
	if i := 3 * (w - 1); got[i] != 200 || got[i+1] != 60 || got[i+2] != 30 {
		t.Errorf("background pixel changed: %v", got[i:i+3])
	}
	if _, err := Replace(img, bg, alpha, 1.5); err == nil {
		t.Error("harmonize 1.5 accepted")
	}
}

// stripes is a w x h image of vertical stripes: every pixel differs from
// its horizontal neighbours, so any blur changes it.
func stripes(w, h int) []uint8 {
	px := make([]uint8, 3*w*h)
	for y := range h {
		for x := range w {
			v := uint8(40)
			if x%2 == 1 {
				v = 220
			}
			i := 3 * (y*w + x)
			px[i], px[i+1], px[i+2] = v, 255-v, uint8(x*8)
		}
	}
	return px
}

// Blur leaves a = 1 pixels exactly unchanged and makes a = 0 pixels the
// blurred image; in between it mixes.
func TestBlurKeepsForeground(t *testing.T) {
	const w, h = 24, 12
	px := stripes(w, h)
	img := bgrMat(t, w, h, px)
	defer img.Close()
	alpha := make([]float32, w*h)
	for y := range h {
		for x := range w {
			switch {
			case x < 8:
				alpha[y*w+x] = 1
			case x < 12:
				alpha[y*w+x] = 0.5
			}
		}
	}
	for _, fg := range []bool{false, true} {
		o := BlurOptions{Sigma: 2, FgEdge: fg}
		out, err := Blur(img, alpha, o)
		if err != nil {
			t.Fatal(err)
		}
		bg, err := BlurBackground(img, alpha, o)
		if err != nil {
			t.Fatal(err)
		}
		got, bgp := matBytes(t, out), matBytes(t, bg)
		out.Close()
		bg.Close()
		changed := 0
		for p, a := range alpha {
			for c := range 3 {
				i := 3*p + c
				switch a {
				case 1:
					if got[i] != px[i] {
						t.Fatalf("fg-edge %v: a = 1 pixel %d channel %d: %d, want the image's %d", fg, p, c, got[i], px[i])
					}
				case 0:
					if got[i] != bgp[i] {
						t.Fatalf("fg-edge %v: a = 0 pixel %d: %d, want the background layer's %d", fg, p, got[i], bgp[i])
					}
					if got[i] != px[i] {
						changed++
					}
				default:
					if want := 0.5*float64(px[i]) + 0.5*float64(bgp[i]); math.Abs(float64(got[i])-want) > 1 {
						t.Fatalf("fg-edge %v: a = 0.5 pixel %d: %d, want %.1f ±1", fg, p, got[i], want)
					}
				}
			}
		}
		if changed == 0 {
			t.Errorf("fg-edge %v: the background is not blurred", fg)
		}
	}
}

// A red subject on a blue background: the plain blur drags red into the
// background beside the subject (the halo); the normalised blur keeps the
// background exactly blue.
func TestBlurFgEdgeNoHalo(t *testing.T) {
	const w, h = 40, 10
	px := make([]uint8, 3*w*h)
	alpha := make([]float32, w*h)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			if x < 20 {
				px[i+2] = 255 // red subject
				alpha[y*w+x] = 1
			} else {
				px[i] = 255 // blue background
			}
		}
	}
	img := bgrMat(t, w, h, px)
	defer img.Close()
	at := 3 * (5*w + 21) // background, one pixel from the subject
	for _, c := range []struct {
		fg      bool
		wantRed func(uint8) bool
		what    string
	}{
		{false, func(r uint8) bool { return r > 40 }, "plain blur: red bleeds into the background"},
		{true, func(r uint8) bool { return r == 0 }, "normalised blur: no red in the background"},
	} {
		out, err := Blur(img, alpha, BlurOptions{Sigma: 4, FgEdge: c.fg})
		if err != nil {
			t.Fatal(err)
		}
		got := matBytes(t, out)
		out.Close()
		if !c.wantRed(got[at+2]) {
			t.Errorf("%s: pixel beside the subject is BGR %v", c.what, got[at:at+3])
		}
		if c.fg && got[at] != 255 {
			t.Errorf("%s: blue %d, want 255", c.what, got[at])
		}
	}
}

func TestBlurOptions(t *testing.T) {
	for _, c := range []struct {
		o     BlurOptions
		sigma float64
		k     int
		ok    bool
	}{
		{BlurOptions{}, 19.2, 2*58 + 1, true}, // 1920x1080: sigma 1 % of 1920, kernel 2*ceil(57.6)+1
		{BlurOptions{Sigma: 2}, 2, 13, true},
		{BlurOptions{Sigma: 2, Kernel: 5}, 2, 5, true},
		{BlurOptions{Sigma: 2, Kernel: 4}, 0, 0, false},
		{BlurOptions{Sigma: -1}, 0, 0, false},
	} {
		s, k, err := c.o.kernel(1920, 1080)
		if (err == nil) != c.ok || c.ok && (math.Abs(s-c.sigma) > 1e-9 || k != c.k) {
			t.Errorf("%+v: sigma %v kernel %d err %v; want %v %d ok=%v", c.o, s, k, err, c.sigma, c.k, c.ok)
		}
	}
}

// FitCover, by hand: a 100x50 background whose blue channel is its
// column index, fitted to 50x50, keeps its centre columns 25..74 at scale
// 1; a 10x10 one fitted to 20x40 is scaled by 4 to 40x40 and cut at x 10.
func TestFitCover(t *testing.T) {
	px := make([]uint8, 3*100*50)
	for y := range 50 {
		for x := range 100 {
			px[3*(y*100+x)] = uint8(x)
		}
	}
	bg := bgrMat(t, 100, 50, px)
	defer bg.Close()
	fit, f, err := FitCover(bg, 50, 50)
	if err != nil {
		t.Fatal(err)
	}
	got := matBytes(t, fit)
	fit.Close()
	if f.ScaledW != 100 || f.ScaledH != 50 || f.X != 25 || f.Y != 0 || got[0] != 25 || got[3*49] != 74 {
		t.Errorf("fit %+v, first blue %d last %d; want scale 1, x 25, columns 25..74", f, got[0], got[3*49])
	}
	if !f.AspectDiffers() || math.Abs(f.Cropped()-0.5) > 1e-9 {
		t.Errorf("aspect differs %v, cropped %v; want true, 0.5", f.AspectDiffers(), f.Cropped())
	}

	small := bgrMat(t, 10, 10, solid(10, 10, 7, 8, 9))
	defer small.Close()
	fit, f, err = FitCover(small, 20, 40)
	if err != nil {
		t.Fatal(err)
	}
	defer fit.Close()
	if f.ScaledW != 40 || f.ScaledH != 40 || f.X != 10 || f.Y != 0 || fit.Cols() != 20 || fit.Rows() != 40 {
		t.Errorf("enlarge: %+v, %dx%d", f, fit.Cols(), fit.Rows())
	}
	if g := matBytes(t, fit); g[0] != 7 || g[1] != 8 || g[2] != 9 {
		t.Errorf("enlarge: a solid background came out %v", g[:3])
	}
	same, f, err := FitCover(small, 10, 10)
	if err != nil {
		t.Fatal(err)
	}
	same.Close()
	if f.AspectDiffers() || f.Cropped() != 0 {
		t.Errorf("same size: %+v", f)
	}
}

func TestCutoutAndMatte(t *testing.T) {
	img := bgrMat(t, 3, 1, []uint8{1, 2, 3, 4, 5, 6, 7, 8, 9})
	defer img.Close()
	alpha := []float32{0, 0.5, 1}
	cut, err := Cutout(img, alpha)
	if err != nil {
		t.Fatal(err)
	}
	defer cut.Close()
	if cut.Type() != gocv.MatTypeCV8UC4 {
		t.Fatalf("cutout type %v", cut.Type())
	}
	// 255·0.5 = 127.5 rounds to 128.
	want := []uint8{1, 2, 3, 0, 4, 5, 6, 128, 7, 8, 9, 255}
	if got := cut.ToBytes(); string(got) != string(want) {
		t.Errorf("cutout %v, want %v", got, want)
	}
	m, err := Matte(alpha, 3, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if got := m.ToBytes(); string(got) != string([]uint8{0, 128, 255}) {
		t.Errorf("matte %v", got)
	}
	if _, err := Matte(alpha, 2, 2); err == nil {
		t.Error("matte of the wrong size accepted")
	}
	if _, err := Cutout(img, alpha[:2]); err == nil {
		t.Error("cutout with a short alpha accepted")
	}
}

func TestCompose(t *testing.T) {
	dst := make([]uint8, 6)
	Compose(dst, []uint8{255, 255, 255, 10, 20, 30}, []uint8{0, 0, 0, 30, 20, 10}, []float32{0.2, 0.5})
	// 0.2·255 = 51; 0.5·10 + 0.5·30 = 20, 20, 0.5·30 + 0.5·10 = 20.
	if want := []uint8{51, 51, 51, 20, 20, 20}; string(dst) != string(want) {
		t.Errorf("compose %v, want %v", dst, want)
	}
}

func TestParseEffects(t *testing.T) {
	for s, want := range map[string]int{"blur": 1, "blur,matte": 2, "all": 4, "matte, matte": 1} {
		e, err := ParseEffects(s)
		if err != nil || len(e) != want {
			t.Errorf("%q: %v %v, want %d effects", s, e, err, want)
		}
	}
	if _, err := ParseEffects("bokeh"); err == nil {
		t.Error("bokeh accepted")
	}
}

// The reduced blur (a large default kernel run on a shrunk copy) against
// OpenCV's full-resolution Gaussian of the same sigma, on a scene with
// hard edges, fine stripes and noise (the worst case for the shrink),
// plain and normalised: every channel value within 4 levels of 255 and a
// mean difference under 0.6 (measured: 2-4 and 0.15-0.49).
func TestBlurReducedMatchesFullRes(t *testing.T) {
	for _, c := range []struct {
		w, h  int
		sigma float64 // 0: DefaultSigma
		d     int     // the expected reduction
	}{
		{512, 288, 0, 2},  // sigma 5.12
		{640, 360, 12, 4}, // a strong blur
	} {
		px := make([]uint8, 3*c.w*c.h)
		alpha := make([]float32, c.w*c.h)
		seed := uint32(1)
		for y := range c.h {
			for x := range c.w {
				seed = seed*1664525 + 1013904223
				i := 3 * (y*c.w + x)
				px[i] = uint8(seed >> 24)                  // noise
				px[i+1] = uint8(255 * ((x / 3) % 2))       // 3 px stripes
				px[i+2] = uint8(min(255, 40+200*(y/50%2))) // bands
				if (x-c.w/2)*(x-c.w/2)+(y-c.h/2)*(y-c.h/2) < c.h*c.h/9 {
					alpha[y*c.w+x] = 1
				}
			}
		}
		img := bgrMat(t, c.w, c.h, px)
		sigma := c.sigma
		if sigma == 0 {
			sigma = DefaultSigma(c.w, c.h)
		}
		if d := reduction(sigma); d != c.d {
			t.Errorf("%dx%d sigma %g: reduction %d, want %d", c.w, c.h, sigma, d, c.d)
		}
		for _, fg := range []bool{false, true} {
			o := BlurOptions{Sigma: c.sigma, FgEdge: fg}
			fast, err := BlurBackground(img, alpha, o)
			if err != nil {
				t.Fatal(err)
			}
			o.FullRes = true
			full, err := BlurBackground(img, alpha, o)
			if err != nil {
				t.Fatal(err)
			}
			a, b := matBytes(t, fast), matBytes(t, full)
			fast.Close()
			full.Close()
			worst, sum, n := 0, 0, 0
			for i := range a {
				if fg && alpha[i/3] == 1 {
					continue // inside the subject the normalised layer is unused
				}
				d := int(a[i]) - int(b[i])
				worst = max(worst, d, -d)
				sum += max(d, -d)
				n++
			}
			mean := float64(sum) / float64(n)
			t.Logf("%dx%d sigma %.2f fg-edge %v: max |diff| %d, mean %.3f", c.w, c.h, sigma, fg, worst, mean)
			if worst > 4 || mean > 0.6 {
				t.Errorf("%dx%d sigma %.2f fg-edge %v: reduced blur differs by up to %d (mean %.3f), want <= 4 and < 0.6", c.w, c.h, sigma, fg, worst, mean)
			}
		}
		img.Close()
	}
}

// Compose copies runs of a = 1 and a = 0 in bulk; the result must be
// composite.Over's, value for value, across run boundaries, NaN and -0.
func TestComposeRunsMatchOver(t *testing.T) {
	nan := float32(math.NaN())
	negZero := float32(math.Copysign(0, -1))
	alpha := []float32{1, 1, 0, 0, 0.25, 0.75, 1, nan, 0, negZero, 0.5, 1, 0, 1}
	fg, bg := make([]uint8, 3*len(alpha)), make([]uint8, 3*len(alpha))
	for i := range fg {
		fg[i], bg[i] = uint8(17*i+3), uint8(255-29*i)
	}
	got, want := make([]uint8, len(fg)), make([]uint8, len(fg))
	Compose(got, fg, bg, alpha)
	composite.Over(want, fg, bg, alpha)
	if string(got) != string(want) {
		t.Errorf("compose %v, want Over's %v", got, want)
	}
}
