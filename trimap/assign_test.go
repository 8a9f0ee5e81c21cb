package trimap

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// TestKernelsAgree checks that the kernel chosen for this CPU gives the
// same bits as the portable one, on windows of every width 1..40 (vector
// part and scalar tail) and on a whole SLIC run.
func TestKernelsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const w, h = 53, 47
	lab := &Lab{W: w, H: h, L: make([]float32, w*h), A: make([]float32, w*h), B: make([]float32, w*h)}
	for i := range lab.L {
		lab.L[i] = 100 * r.Float32()
		lab.A[i] = 200*r.Float32() - 100
		lab.B[i] = 200*r.Float32() - 100
	}
	fast := bestKernel()
	for n := 1; n <= 40; n++ {
		d1, d2 := make([]float32, w*h), make([]float32, w*h)
		l1, l2 := make([]int32, w*h), make([]int32, w*h)
		for i := range d1 {
			d1[i] = 1e4 * r.Float32()
		}
		copy(d2, d1)
		for trial := range 5 {
			x1 := r.IntN(w - n + 1)
			y1 := r.IntN(h - 10)
			rows := 1 + r.IntN(9)
			c := centre{l: 100 * r.Float32(), a: 50 * r.Float32(), b: -50 * r.Float32(),
				x: float32(x1) + float32(n)*r.Float32(), y: float32(y1) + 10*r.Float32()}
			wt := float32(0.25 + r.Float64())
			xw := spatialX(make([]float32, n), n, float32(x1)-c.x, wt)
			assignWindowGeneric(lab, d1, l1, x1, x1+n, y1, y1+rows, &c, wt, int32(trial+1), xw)
			fast(lab, d2, l2, x1, x1+n, y1, y1+rows, &c, wt, int32(trial+1), xw)
		}
		changed := 0
		for i := range d1 {
			if math.Float32bits(d1[i]) != math.Float32bits(d2[i]) || l1[i] != l2[i] {
				t.Fatalf("width %d, pixel %d: generic (%v,%d) fast (%v,%d)", n, i, d1[i], l1[i], d2[i], l2[i])
			}
			if l1[i] != 0 {
				changed++
			}
		}
		if changed == 0 {
			t.Fatalf("width %d: no pixel assigned, the test checks nothing", n)
		}
	}

	im := syntheticImage(203, 151, 3)
	lab2, err := ToLab(im)
	if err != nil {
		t.Fatal(err)
	}
	p, err := SLICOptions{Superpixels: 150, Workers: 1}.params(lab2.W, lab2.H)
	if err != nil {
		t.Fatal(err)
	}
	a, err := slicLab(context.Background(), lab2, p, assignWindowGeneric)
	if err != nil {
		t.Fatal(err)
	}
	b, err := slicLab(context.Background(), lab2, p, fast)
	if err != nil {
		t.Fatal(err)
	}
	if a.N != b.N || !slices.Equal(a.Labels, b.Labels) {
		t.Fatalf("SLIC with the portable and the fast kernel differ (%d vs %d labels)", a.N, b.N)
	}
}
