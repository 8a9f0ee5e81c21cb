package eval

import (
	"fmt"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
)

func TestMattingSumsTiny(t *testing.T) {
	// g = 0, 1, 1, 0.2 (alpha 0, 255, 255, 51); |p-g| = .2 .5 0 .2.
	p := Pair{W: 2, H: 2,
		Prob:   []float32{0.2, 0.5, 1, 0},
		Alpha:  []uint8{0, 255, 255, 51},
		Trimap: []uint8{128, 128, 0, 255},
	}
	im := mustScore(t, p, DefaultOptions())
	wantValues(t, &im, 1e-6, map[string]float64{
		"mad":         0.9 / 4,    // (.2+.5+0+.2)/4
		"mse":         0.33 / 4,   // (.04+.25+0+.04)/4
		"sad":         0.9 / 1000, // Σ|p-g|/1000
		"mad_unknown": 0.7 / 2,    // pixels 0 and 1
		"mse_unknown": 0.29 / 2,   // (.04+.25)/2
		"sad_unknown": 0.7 / 1000, // (.2+.5)/1000
		"iou":         1.0 / 2,    // p > .5: pixel 2 only; mask (alpha >= 128): pixels 1, 2
	})
	if im.MatteFromMask {
		t.Error("MatteFromMask set for a pair with alpha")
	}
	// No trimap: the unknown-region metrics are undefined, not zero.
	p.Trimap = nil
	im = mustScore(t, p, DefaultOptions())
	for _, name := range []string{"mad_unknown", "mse_unknown", "sad_unknown", "grad_unknown", "conn_unknown"} {
		if v, ok := value(t, &im, name); ok {
			t.Errorf("%s = %v without a trimap, want undefined", name, v)
		}
	}
	// A trimap without unknown pixels: the means are undefined, the sums 0.
	p.Trimap = []uint8{0, 0, 255, 255}
	im = mustScore(t, p, DefaultOptions())
	if _, ok := value(t, &im, "mse_unknown"); ok {
		t.Error("mse_unknown defined over an empty region")
	}
	if v, ok := value(t, &im, "sad_unknown"); !ok || v != 0 {
		t.Errorf("sad_unknown over an empty region = %v, %v; want 0, true", v, ok)
	}
}

// The gaussgradient kernel half size: ceil(1.4 sqrt(-2 ln(sqrt(2π) 1.4
// 0.01))) = ceil(1.4 x 2.588) = ceil(3.62) = 4, a 9-tap kernel.
func TestGradKernelSize(t *testing.T) {
	dg, g := gaussGradientKernels(1.4)
	if len(dg) != 9 || len(g) != 9 {
		t.Fatalf("kernel lengths %d, %d; want 9", len(dg), len(g))
	}
	var sd, sg float64
	for i := range dg {
		sd += dg[i] * dg[i]
		sg += g[i] * g[i]
	}
	if !near(sd, 1, 1e-12) || !near(sg, 1, 1e-12) || dg[4] != 0 || dg[0] <= 0 {
		t.Errorf("dg %v g %v", dg, g)
	}
}

// directGrad is DIM's compute_gradient_loss written out: the 2-D
// gaussgradient kernel from its formula, true 2-D convolution with
// replicated borders, squared difference of the magnitudes.
func directGrad(pred, gt []float64, trimap []uint8, w, h int) (all, unk float64) {
	const sigma = 1.4
	half := int(math.Ceil(sigma * math.Sqrt(-2*math.Log(math.Sqrt(2*math.Pi)*sigma*0.01))))
	size := 2*half + 1
	gauss := func(x float64) float64 { return math.Exp(-x*x/(2*sigma*sigma)) / (sigma * math.Sqrt(2*math.Pi)) }
	dgauss := func(x float64) float64 { return -x * gauss(x) / (sigma * sigma) }
	hx := make([][]float64, size)
	var norm float64
	for i := range size {
		hx[i] = make([]float64, size)
		for j := range size {
			hx[i][j] = gauss(float64(i-half)) * dgauss(float64(j-half))
			norm += hx[i][j] * hx[i][j]
		}
	}
	for i := range size {
		for j := range size {
			hx[i][j] /= math.Sqrt(norm)
		}
	}
	clamp := func(v, n int) int { return min(max(v, 0), n-1) }
	conv := func(im []float64, y, x int, transpose bool) float64 {
		var s float64
		for i := range size {
			for j := range size {
				k := hx[i][j]
				if transpose {
					k = hx[j][i]
				}
				s += im[clamp(y-(i-half), h)*w+clamp(x-(j-half), w)] * k
			}
		}
		return s
	}
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			ap := math.Hypot(conv(pred, y, x, false), conv(pred, y, x, true))
			ag := math.Hypot(conv(gt, y, x, false), conv(gt, y, x, true))
			e := (ap - ag) * (ap - ag)
			all += e
			if trimap[y*w+x] == 128 {
				unk += e
			}
		}
	}
	return all, unk
}

func TestGradMatchesFormula(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 8))
	for _, sz := range [][2]int{{13, 11}, {3, 2}, {1, 1}, {20, 1}} {
		w, h := sz[0], sz[1]
		p := Pair{W: w, H: h, Prob: make([]float32, w*h), Alpha: make([]uint8, w*h), Trimap: make([]uint8, w*h)}
		pf, gf := make([]float64, w*h), make([]float64, w*h)
		for i := range p.Prob {
			x := i % w
			p.Alpha[i] = uint8(min(255, max(0, 40*x-100+rng.IntN(60))))
			p.Prob[i] = rng.Float32()
			p.Trimap[i] = []uint8{0, 128, 255}[rng.IntN(3)]
			pf[i], gf[i] = float64(p.Prob[i]), float64(p.Alpha[i])/255
		}
		im := mustScore(t, p, DefaultOptions())
		all, unk := directGrad(pf, gf, p.Trimap, w, h)
		if !near(im.Matting.Grad, all, 1e-5) || !near(im.Unknown.Grad, unk, 1e-5) {
			t.Errorf("%dx%d: grad sums %v, %v; formula %v, %v", w, h, im.Matting.Grad, im.Unknown.Grad, all, unk)
		}
		wantValues(t, &im, 1e-5, map[string]float64{"grad": all / 1000, "grad_unknown": unk / 1000})
	}
}

func TestPerfectPredictionScoresZero(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	w, h := 40, 30
	p := Pair{W: w, H: h, Prob: make([]float32, w*h), Alpha: randomBlobs(rng, w, h, 3), Trimap: make([]uint8, w*h)}
	for i, a := range p.Alpha {
		a = a*200 + uint8(rng.IntN(56))
		p.Alpha[i] = a
		p.Prob[i] = float32(a) / 255 // as a saved 8-bit prediction decodes
		p.Trimap[i] = 128
	}
	im := mustScore(t, p, DefaultOptions())
	for _, s := range []MattingSums{im.Matting, *im.Unknown} {
		if s.Abs != 0 || s.Sq != 0 || s.Grad != 0 || s.Conn != 0 {
			t.Errorf("perfect prediction: %+v", s)
		}
	}
}

// TestConnLargestComponent is worked by hand on a 1x7 row with g = 0.8
// (alpha 204) everywhere and p = 1 1 0 .45 .45 .45 0. The pixels at or
// above threshold t in both form A = {0,1} and B = {3,4,5} for t <= 0.4
// and A alone for 0.5 <= t <= 0.8. The largest component is B up to 0.4
// and A from 0.5, so: A leaves Ω at t=0.1, l = 0; B leaves at t=0.5,
// l = 0.4; pixels 2 and 6 are never in, l = 0.
//
//	A: φp = 1-(1-0) = 0,  φg = 1-.8 = .2  -> .2 each
//	B: φp = 1 (.45-.4 < .15), φg = 1-.4 = .6 -> .4 each
//	2, 6: φp = 1, φg = .2 -> .8 each
//
// Σ = .4 + 1.2 + 1.6 = 3.2. Taking A as the component at every threshold
// (ignoring size) would give .4 + 3 x .35 + 1.6 = 3.05.
func TestConnLargestComponent(t *testing.T) {
	p := Pair{W: 7, H: 1,
		Prob:   []float32{1, 1, 0, 0.45, 0.45, 0.45, 0},
		Alpha:  []uint8{204, 204, 204, 204, 204, 204, 204},
		Trimap: []uint8{0, 0, 128, 128, 128, 128, 255},
	}
	im := mustScore(t, p, DefaultOptions())
	if !near(im.Matting.Conn, 3.2, 1e-6) {
		t.Errorf("conn sum %v, want 3.2", im.Matting.Conn)
	}
	// Unknown region: pixel 2 (.8) and B (3 x .4).
	if !near(im.Unknown.Conn, 2.0, 1e-6) {
		t.Errorf("unknown conn sum %v, want 2.0", im.Unknown.Conn)
	}
	wantValues(t, &im, 1e-6, map[string]float64{"conn": 0.0032, "conn_unknown": 0.002})
}

// failLevels returns the first failing threshold index of each pixel (0
// for level-0 pixels).
// TestLevels checks the level counts against comparing with every
// threshold, on values on and next to the thresholds.
func TestLevels(t *testing.T) {
	thr := connThresholds()
	for k := 0; k <= 1000; k++ {
		for _, p := range []float32{float32(k) / 1000, math.Nextafter32(float32(k)/1000, 0), math.Nextafter32(float32(k)/1000, 1)} {
			if p < 0 || p > 1 {
				continue
			}
			want := 0
			for i := 1; i <= 10; i++ {
				if float64(p) >= float64(i)/10 {
					want++
				}
			}
			if got := probLevel(float64(p), &thr); int(got) != want {
				t.Fatalf("probLevel(%v) = %d, want %d", p, got, want)
			}
		}
	}
	for a := range 256 {
		want := 0
		for i := 1; i <= 10; i++ {
			if float64(a)/255 >= float64(i)/10 || 10*a == 255*i { // exact decimal comparison
				want++
			}
		}
		if got := alphaLevel(uint8(a)); int(got) != want {
			t.Errorf("alphaLevel(%d) = %d, want %d", a, got, want)
		}
	}
}

func failLevels(level []uint8, w, h int) []uint8 {
	var c connBuf
	c.levels(level, w, h)
	out := make([]uint8, len(level))
	for r, rn := range c.runs {
		for x := rn.x0; x < rn.x1; x++ {
			out[int(rn.y)*w+int(x)] = c.fail[r]
		}
	}
	return out
}

func TestConnFourConnectivity(t *testing.T) {
	// A diagonal of three level-10 pixels and a vertical pair of level-5
	// pixels. With 4-connectivity the diagonal is three components of one
	// pixel, so for t <= 0.5 the pair (2 pixels) is the largest: the pair
	// fails at t_6 (l = 0.5) and the diagonal at t_1 (l = 0). With
	// 8-connectivity the diagonal (3) would win.
	level := []uint8{
		10, 0, 0, 5,
		0, 10, 0, 5,
		0, 0, 10, 0,
		0, 0, 0, 0,
	}
	want := []uint8{
		1, 0, 0, 6,
		0, 1, 0, 6,
		0, 0, 1, 0,
		0, 0, 0, 0,
	}
	if got := failLevels(level, 4, 4); string(got) != string(want) {
		t.Errorf("fail levels %v, want %v", got, want)
	}
	// Equal sizes: the component whose first pixel comes first in
	// row-major order is the largest, so pixel 0 stays in every Ω (fail
	// 11, l = 1) and pixel 2 leaves at t_1.
	if got := failLevels([]uint8{10, 0, 10, 0, 0}, 5, 1); string(got) != string([]uint8{11, 0, 1, 0, 0}) {
		t.Errorf("tie: fail levels %v, want [11 0 1 0 0]", got)
	}
	// Nested: a level-3 ring joins the level-9 pair and a level-9 single
	// pixel; the pair is the largest at t >= .4, and all of it from .1.
	level = []uint8{
		9, 9, 3, 9,
		3, 3, 3, 3,
	}
	want = []uint8{
		10, 10, 4, 4,
		4, 4, 4, 4,
	}
	if got := failLevels(level, 4, 2); string(got) != string(want) {
		t.Errorf("nested: fail levels %v, want %v", got, want)
	}
}

// referenceConn is compute_connectivity_error transcribed: ten binary
// images, each labelled by flood fill, the largest component (first in
// row-major order among equals) assigning levels.
func referenceConn(pred []float32, alpha []uint8, trimap []uint8, w, h int) (all, unk float64) {
	n := w * h
	l := make([]float64, n)
	for i := range l {
		l[i] = -1
	}
	lab := make([]int, n)
	for i := 1; i <= 10; i++ {
		th := float64(i) / 10
		in := func(p int) bool { return float64(pred[p]) >= th && 10*int(alpha[p]) >= 255*i }
		for k := range lab {
			lab[k] = 0
		}
		var sizes []int
		for s := 0; s < n; s++ {
			if !in(s) || lab[s] != 0 {
				continue
			}
			sizes = append(sizes, 0)
			id := len(sizes)
			stack := []int{s}
			lab[s] = id
			for len(stack) > 0 {
				p := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				sizes[id-1]++
				x, y := p%w, p/w
				for _, q := range [][2]int{{x - 1, y}, {x + 1, y}, {x, y - 1}, {x, y + 1}} {
					if q[0] < 0 || q[0] >= w || q[1] < 0 || q[1] >= h {
						continue
					}
					qi := q[1]*w + q[0]
					if in(qi) && lab[qi] == 0 {
						lab[qi] = id
						stack = append(stack, qi)
					}
				}
			}
		}
		best := 0
		for k, s := range sizes {
			if best == 0 || s > sizes[best-1] {
				best = k + 1
			}
		}
		for p := range l {
			if l[p] == -1 && (best == 0 || lab[p] != best) {
				l[p] = float64(i-1) / 10
			}
		}
	}
	for p := range l {
		if l[p] == -1 {
			l[p] = 1
		}
		phi := func(x float64) float64 {
			if d := x - l[p]; d >= 0.15 {
				return 1 - d
			}
			return 1
		}
		e := math.Abs(phi(float64(pred[p])) - phi(float64(float32(alpha[p])/255)))
		all += e
		if trimap[p] == 128 {
			unk += e
		}
	}
	return all, unk
}

func TestConnMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	alphas := []uint8{0, 26, 51, 77, 102, 128, 153, 179, 204, 230, 255}
	for trial := range 80 {
		w, h := 1+rng.IntN(25), 1+rng.IntN(25)
		p := Pair{W: w, H: h, Prob: make([]float32, w*h), Alpha: make([]uint8, w*h), Trimap: make([]uint8, w*h)}
		blobs := randomBlobs(rng, w, h, 4)
		for i := range p.Prob {
			switch trial % 3 {
			case 0: // noise: many small components and size ties
				p.Prob[i] = float32(rng.IntN(21)) / 20
				p.Alpha[i] = alphas[rng.IntN(len(alphas))]
			case 1: // blobs with soft noise
				p.Prob[i] = min(1, float32(blobs[i])*0.7+rng.Float32()*0.3)
				p.Alpha[i] = uint8(min(255, int(blobs[i])*180+rng.IntN(76)))
			default: // 8-bit values on and off the thresholds
				p.Prob[i] = float32(rng.IntN(256)) / 255
				p.Alpha[i] = uint8(rng.IntN(256))
			}
			p.Trimap[i] = []uint8{0, 128, 255}[rng.IntN(3)]
		}
		checkConn(t, p, fmt.Sprintf("trial %d", trial))
	}
	// Portrait-like pairs, smooth and noisy.
	checkConn(t, synthPair(rng, 160, 120, true, 0), "smooth portrait")
	checkConn(t, synthPair(rng, 160, 120, true, 0.05), "noisy portrait")
}

func checkConn(t *testing.T, p Pair, what string) {
	t.Helper()
	im := mustScore(t, p, DefaultOptions())
	all, unk := referenceConn(p.Prob, p.Alpha, p.Trimap, p.W, p.H)
	if !near(im.Matting.Conn, all, 1e-12) || !near(im.Unknown.Conn, unk, 1e-12) {
		t.Fatalf("%s (%dx%d): conn sums %v, %v; reference %v, %v", what, p.W, p.H, im.Matting.Conn, im.Unknown.Conn, all, unk)
	}
}

// TestDIMSharedData scores the shared Composition-1k-style crops'
// predictions against their ground-truth alphas over the human trimaps.
func TestDIMSharedData(t *testing.T) {
	dir := shareddata.Dir(t, "data/dim")
	files, _ := filepath.Glob(filepath.Join(dir, "alphas", "*.png"))
	if len(files) == 0 {
		t.Skip("no alphas in " + dir)
	}
	reg := DefaultRegistry()
	ms, err := reg.Select([]string{"sad_unknown", "mse_unknown", "grad_unknown", "conn_unknown", "sad", "mse"})
	if err != nil {
		t.Fatal(err)
	}
	agg := NewAggregator(ms)
	for _, f := range files {
		name := filepath.Base(f)
		alpha, w, h := fixture.ReadGray(t, f)
		pred, pw, ph := fixture.ReadGray(t, filepath.Join(dir, "predictions", name))
		tri, tw, th := fixture.ReadGray(t, filepath.Join(dir, "trimaps", name))
		if pw != w || ph != h || tw != w || th != h {
			t.Fatalf("%s: sizes differ", name)
		}
		p := Pair{W: w, H: h, Prob: make([]float32, w*h), Alpha: alpha, Trimap: tri}
		for i, v := range pred {
			p.Prob[i] = float32(v) / 255
		}
		im := mustScore(t, p, DefaultOptions())
		if err := agg.Add(&im); err != nil {
			t.Fatal(err)
		}
		u := im.Unknown
		t.Logf("%s %dx%d unknown %d px: SAD %.3f MSE %.5f Grad %.3f Conn %.3f (whole image SAD %.3f MSE %.5f)",
			name, w, h, u.Pixels, u.Abs/1000, u.Sq/float64(u.Pixels), u.Grad/1000, u.Conn/1000, im.Matting.Abs/1000, im.Matting.Sq/float64(im.Matting.Pixels))
		// Sums over the unknown region are sums over a subset of the
		// whole image's non-negative terms.
		for _, c := range [][2]float64{{u.Abs, im.Matting.Abs}, {u.Sq, im.Matting.Sq}, {u.Grad, im.Matting.Grad}, {u.Conn, im.Matting.Conn}} {
			if c[0] < 0 || c[0] > c[1]*(1+1e-9) {
				t.Errorf("%s: unknown-region sum %v outside [0, whole-image %v]", name, c[0], c[1])
			}
		}
		if u.Pixels == 0 || u.Abs == 0 {
			t.Errorf("%s: unknown region of %d px with SAD %v: a real prediction is not perfect", name, u.Pixels, u.Abs)
		}
		// Mean absolute error bounds the mean squared one for errors in [0, 1].
		if u.Sq > u.Abs {
			t.Errorf("%s: Σ(p-g)² %v > Σ|p-g| %v", name, u.Sq, u.Abs)
		}
	}
	for _, m := range agg.Result().Metrics {
		t.Logf("mean %s = %.4f over %d images", m.Name, *m.Mean, m.MeanImages)
	}
}
