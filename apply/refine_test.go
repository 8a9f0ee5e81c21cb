package apply

import (
	"context"
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/segtool/segtool/trimap"
)

func TestRefineThreshold(t *testing.T) {
	img := bgrMat(t, 5, 1, make([]uint8, 15))
	defer img.Close()
	prob := []float32{0.2, 0.5, 0.7, 1.3, -0.1}
	hard, err := Refine(context.Background(), img, prob, RefineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	soft, err := Refine(context.Background(), img, prob, RefineOptions{Soft: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []float32{0, 1, 1, 1, 0} {
		if hard[i] != want {
			t.Errorf("hard %d: %v, want %v", i, hard[i], want)
		}
	}
	for i, want := range []float32{0.2, 0.5, 0.7, 1, 0} {
		if soft[i] != want {
			t.Errorf("soft %d: %v, want %v (clamped)", i, soft[i], want)
		}
	}
	if prob[3] != 1.3 {
		t.Error("Refine changed its input")
	}
	if _, err := Refine(context.Background(), img, prob, RefineOptions{Feather: -1}); err == nil {
		t.Error("feather -1 accepted")
	}
}

// A vertical step edge feathered by 1 px becomes 1/3, 2/3 across it (box
// of side 3); by 2 px, 1/5 .. 4/5.
func TestFeather(t *testing.T) {
	const w, h = 10, 5
	alpha := make([]float32, w*h)
	for y := range h {
		for x := 5; x < w; x++ {
			alpha[y*w+x] = 1
		}
	}
	for px, want := range map[int][]float64{
		1: {0, 0, 0, 0, 1.0 / 3, 2.0 / 3, 1, 1, 1, 1},
		2: {0, 0, 0, 0.2, 0.4, 0.6, 0.8, 1, 1, 1},
	} {
		got, err := Feather(alpha, w, h, px)
		if err != nil {
			t.Fatal(err)
		}
		for y := range h {
			for x := range w {
				if v := got[y*w+x]; math.Abs(float64(v)-want[x]) > 1e-6 {
					t.Errorf("feather %d at (%d,%d): %v, want %v", px, x, y, v, want[x])
				}
			}
		}
	}
}

// randomGuide is a w x h image of uniform noise: every window has colour
// variance in all three channels.
func randomGuide(t *testing.T, w, h int, seed uint64) []uint8 {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	px := make([]uint8, 3*w*h)
	for i := range px {
		px[i] = uint8(rng.IntN(256))
	}
	return px
}

// He et al.'s local linear model: where p is an affine function of the
// guide's colour, the guided filter gives p back (exactly as ε → 0), and a
// constant p stays constant.
func TestGuidedFilterReproducesLinear(t *testing.T) {
	const w, h = 32, 24
	px := randomGuide(t, w, h, 3)
	img := bgrMat(t, w, h, px)
	defer img.Close()
	p := make([]float32, w*h)
	konst := make([]float32, w*h)
	for i := range p {
		b, g, r := float32(px[3*i])/255, float32(px[3*i+1])/255, float32(px[3*i+2])/255
		p[i] = 0.2*b + 0.5*g - 0.3*r + 0.1
		konst[i] = 0.37
	}
	all := image.Rect(0, 0, w, h)
	q, err := GuidedFilter(img, p, 3, 1e-7, all)
	if err != nil {
		t.Fatal(err)
	}
	for i := range p {
		if d := math.Abs(float64(q[i] - p[i])); d > 2e-3 {
			t.Fatalf("affine p at %d: q %v, p %v", i, q[i], p[i])
		}
	}
	q, err = GuidedFilter(img, konst, 3, 1e-3, all)
	if err != nil {
		t.Fatal(err)
	}
	for i := range q {
		if math.Abs(float64(q[i])-0.37) > 1e-5 {
			t.Fatalf("constant p at %d: q %v", i, q[i])
		}
	}
}

// Filtering only a rectangle gives the whole-image values inside it and
// leaves p outside it.
func TestGuidedFilterRect(t *testing.T) {
	const w, h = 60, 40
	px := randomGuide(t, w, h, 5)
	img := bgrMat(t, w, h, px)
	defer img.Close()
	rng := rand.New(rand.NewPCG(9, 9))
	p := make([]float32, w*h)
	for i := range p {
		p[i] = rng.Float32()
	}
	full, err := GuidedFilter(img, p, 4, 1e-3, image.Rect(0, 0, w, h))
	if err != nil {
		t.Fatal(err)
	}
	r := image.Rect(20, 12, 41, 30)
	part, err := GuidedFilter(img, p, 4, 1e-3, r)
	if err != nil {
		t.Fatal(err)
	}
	for y := range h {
		for x := range w {
			i := y*w + x
			want := p[i]
			if image.Pt(x, y).In(r) {
				want = full[i]
			}
			if math.Abs(float64(part[i]-want)) > 1e-4 {
				t.Fatalf("(%d,%d): %v, want %v", x, y, part[i], want)
			}
		}
	}
	if _, err := GuidedFilter(img, p, 0, 1e-3, r); err == nil {
		t.Error("radius 0 accepted")
	}
}

// disk draws a textured subject (a disk of radius rad) on a textured
// background of another colour, and returns the image and the true alpha.
func disk(t *testing.T, w, h int, rad float64) ([]uint8, []float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(11, 2))
	px := make([]uint8, 3*w*h)
	truth := make([]float32, w*h)
	cx, cy := float64(w)/2, float64(h)/2
	for y := range h {
		for x := range w {
			i := y*w + x
			n := func() uint8 { return uint8(rng.IntN(21)) }
			if math.Hypot(float64(x)+0.5-cx, float64(y)+0.5-cy) <= rad {
				truth[i] = 1
				px[3*i], px[3*i+1], px[3*i+2] = 30+n(), 60+n(), 200+n()
			} else {
				px[3*i], px[3*i+1], px[3*i+2] = 170+n(), 140+n(), 40+n()
			}
		}
	}
	return px, truth
}

// A coarse mask (the subject grown by 4 px, as an upscaled low-resolution
// prediction is) snaps back to the subject's edge with the trimap
// refinement: the error falls, the trimap's known regions are exactly 0
// and 1, and the unknown band straddles the edge.
func TestTrimapRefineSnapsToEdge(t *testing.T) {
	const w, h = 96, 80
	px, truth := disk(t, w, h, 24)
	img := bgrMat(t, w, h, px)
	defer img.Close()
	coarse := make([]float32, w*h)
	for y := range h {
		for x := range w {
			if math.Hypot(float64(x)+0.5-w/2, float64(y)+0.5-h/2) <= 28 {
				coarse[y*w+x] = 1
			}
		}
	}
	mad := func(a []float32) float64 {
		s := 0.0
		for i := range a {
			s += math.Abs(float64(a[i] - truth[i]))
		}
		return s / float64(len(a))
	}
	// Superpixels of 8 px and a 12 px window suit a 96x80 image.
	o := RefineOptions{Trimap: true, Radius: 12, Eps: 1e-4, Superpixels: trimap.SuperpixelOptions{SLIC: trimap.SLICOptions{RegionSize: 8, Workers: 1}}}
	refined, tri, err := TrimapRefine(context.Background(), img, coarse, 0.5, o)
	if err != nil {
		t.Fatal(err)
	}
	before, after := mad(coarse), mad(refined)
	t.Logf("mean |alpha error|: coarse mask %.4f, trimap-refined %.4f", before, after)
	if after > 0.5*before {
		t.Errorf("trimap refinement took the error from %.4f to %.4f; want at least halved", before, after)
	}
	unknown := 0
	for i, v := range tri.Pix {
		switch v {
		case trimap.Foreground:
			if refined[i] != 1 {
				t.Fatalf("foreground pixel %d: alpha %v", i, refined[i])
			}
		case trimap.Background:
			if refined[i] != 0 {
				t.Fatalf("background pixel %d: alpha %v", i, refined[i])
			}
		default:
			unknown++
			if refined[i] < 0 || refined[i] > 1 {
				t.Fatalf("unknown pixel %d: alpha %v outside [0, 1]", i, refined[i])
			}
		}
	}
	if unknown == 0 || tri.Pix[(h/2)*w+w/2] != trimap.Foreground || tri.Pix[0] != trimap.Background {
		t.Errorf("trimap: %d unknown, centre %d, corner %d", unknown, tri.Pix[(h/2)*w+w/2], tri.Pix[0])
	}
	// The same through Refine, with feathering last.
	o.Feather = 1
	a, err := Refine(context.Background(), img, coarse, o)
	if err != nil {
		t.Fatal(err)
	}
	if mad(a) > 0.5*before {
		t.Errorf("Refine with trimap and feather: error %.4f", mad(a))
	}
}

// An all-background prediction gives an all-zero alpha without any
// guided filtering.
func TestTrimapRefineEmpty(t *testing.T) {
	img := bgrMat(t, 20, 10, solid(20, 10, 1, 2, 3))
	defer img.Close()
	a, tri, err := TrimapRefine(context.Background(), img, make([]float32, 200), 0.5, RefineOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != 0 || tri.Pix[i] != trimap.Background {
			t.Fatalf("pixel %d: alpha %v trimap %d", i, a[i], tri.Pix[i])
		}
	}
}
