package trimap

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"

	"github.com/segtool/segtool/internal/shareddata"
)

// components counts, for every label, its 4-connected components, with a
// plain breadth-first flood fill independent of EnforceConnectivity.
func components(labels []int32, w, h int) map[int32]int {
	seen := make([]bool, len(labels))
	count := map[int32]int{}
	var queue []int
	for p := range labels {
		if seen[p] {
			continue
		}
		count[labels[p]]++
		seen[p] = true
		queue = append(queue[:0], p)
		for len(queue) > 0 {
			q := queue[0]
			queue = queue[1:]
			x, y := q%w, q/w
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				nx, ny := x+d[0], y+d[1]
				if nx < 0 || ny < 0 || nx >= w || ny >= h {
					continue
				}
				n := ny*w + nx
				if !seen[n] && labels[n] == labels[q] {
					seen[n] = true
					queue = append(queue, n)
				}
			}
		}
	}
	return count
}

func checkConnected(t *testing.T, sp *Superpixels) {
	t.Helper()
	c := components(sp.Labels, sp.W, sp.H)
	if len(c) != sp.N {
		t.Errorf("%d distinct labels, Superpixels.N = %d", len(c), sp.N)
	}
	for l, n := range c {
		if l < 0 || int(l) >= sp.N {
			t.Errorf("label %d outside 0..%d", l, sp.N-1)
		}
		if n != 1 {
			t.Errorf("label %d is split into %d components", l, n)
		}
	}
}

func TestEnforceConnectivityHand(t *testing.T) {
	// Label 1 is split in two (left block and right column); label 2 has a
	// one-pixel fragment at (1,3) inside label 0; minSize 2.
	in := []int32{
		1, 1, 0, 0, 1,
		1, 1, 0, 0, 1,
		0, 0, 0, 0, 1,
		0, 2, 0, 2, 2,
	}
	want := []int32{
		0, 0, 1, 1, 2,
		0, 0, 1, 1, 2,
		1, 1, 1, 1, 2,
		1, 1, 1, 3, 3,
	}
	got, n := EnforceConnectivity(in, 5, 4, 2)
	if n != 4 || !slices.Equal(got, want) {
		t.Fatalf("EnforceConnectivity = %v (%d labels), want %v (4)", got, n, want)
	}
	checkConnected(t, &Superpixels{W: 5, H: 4, Labels: got, N: n})
}

func TestEnforceConnectivityFirstFragmentKept(t *testing.T) {
	// The first component is a single pixel: it has nothing to merge into
	// and keeps its own label.
	got, n := EnforceConnectivity([]int32{7, 3, 3, 3}, 4, 1, 3)
	if want := []int32{0, 1, 1, 1}; n != 2 || !slices.Equal(got, want) {
		t.Fatalf("got %v (%d), want %v (2)", got, n, want)
	}
}

func TestSLICConnected(t *testing.T) {
	for _, tc := range []struct {
		name string
		im   Image
		opt  SLICOptions
	}{
		{"synthetic", syntheticImage(257, 193, 11), SLICOptions{}},
		{"synthetic-small-S", syntheticImage(120, 90, 12), SLICOptions{RegionSize: 5, Compactness: 1}},
		{"synthetic-big-m", syntheticImage(120, 90, 13), SLICOptions{Superpixels: 30, Compactness: 40}},
		{"tiny", syntheticImage(3, 2, 14), SLICOptions{Superpixels: 6}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sp, err := SLIC(context.Background(), tc.im, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			checkConnected(t, sp)
		})
	}
}

func TestSLICCount(t *testing.T) {
	im := syntheticImage(400, 300, 21)
	sp, err := SLIC(context.Background(), im, SLICOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// Default: one per 400 pixels = 300; S = 20.
	if sp.S != 20 || sp.N < 200 || sp.N > 400 {
		t.Errorf("default: S = %d, N = %d; want S = 20 and N near 300", sp.S, sp.N)
	}
	sp, err = SLIC(context.Background(), im, SLICOptions{Superpixels: 1})
	if err != nil {
		t.Fatal(err)
	}
	if sp.N != 1 {
		t.Errorf("Superpixels 1 gave %d labels", sp.N)
	}
}

func TestSLICBadCount(t *testing.T) {
	im := syntheticImage(10, 10, 1)
	for _, n := range []int{-1, 101} {
		_, err := SLIC(context.Background(), im, SLICOptions{Superpixels: n})
		if !errors.Is(err, ErrSuperpixelCount) {
			t.Errorf("Superpixels %d: err = %v, want ErrSuperpixelCount", n, err)
		}
	}
	if err := CheckSuperpixelCount(0, 100); !errors.Is(err, ErrSuperpixelCount) {
		t.Errorf("CheckSuperpixelCount(0, 100) = %v", err)
	}
	if err := CheckSuperpixelCount(100, 100); err != nil {
		t.Errorf("CheckSuperpixelCount(100, 100) = %v", err)
	}
	if _, err := SLIC(context.Background(), im, SLICOptions{Superpixels: 100}); err != nil {
		t.Errorf("one superpixel per pixel: %v", err)
	}
}

func TestSLICCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := SLIC(ctx, syntheticImage(50, 50, 1), SLICOptions{})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
}

// TestSLICDeterministic: the labels do not depend on the number of workers.
func TestSLICDeterministic(t *testing.T) {
	ims := map[string]Image{"synthetic": syntheticImage(333, 251, 4)}
	if root, ok := shareddata.Find(); ok {
		if im, err := ReadImage(filepath.Join(root, "data/dim/images/dim3.png")); err == nil {
			ims["dim3"] = im
		}
	}
	for name, im := range ims {
		var ref *Superpixels
		for _, workers := range []int{1, 2, 3, 8} {
			sp, err := SLIC(context.Background(), im, SLICOptions{Workers: workers})
			if err != nil {
				t.Fatal(err)
			}
			if ref == nil {
				ref = sp
				continue
			}
			if sp.N != ref.N || !slices.Equal(sp.Labels, ref.Labels) {
				t.Errorf("%s: %d workers give other labels than 1 worker", name, workers)
			}
		}
	}
}

// TestAccumulate compares the run-wise fixed-point sums with plain float64
// sums per label, and checks that splitting the rows does not change them.
func TestAccumulate(t *testing.T) {
	r := rand.New(rand.NewPCG(10, 11))
	const w, h, k = 37, 23, 9
	lab := &Lab{W: w, H: h, L: make([]float32, w*h), A: make([]float32, w*h), B: make([]float32, w*h)}
	labels := make([]int32, w*h)
	for p := range labels {
		lab.L[p], lab.A[p], lab.B[p] = 100*r.Float32(), 200*r.Float32()-100, 200*r.Float32()-100
		if p > 0 && r.IntN(4) > 0 {
			labels[p] = labels[p-1] // runs
		} else {
			labels[p] = int32(r.IntN(k+1)) - 1 // -1: unassigned
		}
	}
	whole := make([]sums, k)
	accumulate(lab, labels, whole, 0, h)
	split := make([]sums, k)
	for y := 0; y < h; y += 5 {
		accumulate(lab, labels, split, y, min(y+5, h))
	}
	if !slices.Equal(whole, split) {
		t.Error("sums depend on the split of the rows")
	}
	var want [k][6]float64
	for p, l := range labels {
		if l < 0 {
			continue
		}
		want[l][0] += float64(lab.L[p])
		want[l][1] += float64(lab.A[p])
		want[l][2] += float64(lab.B[p])
		want[l][3] += float64(p % w)
		want[l][4] += float64(p / w)
		want[l][5]++
	}
	for l := range k {
		got := [6]float64{float64(whole[l].l) / labFixed, float64(whole[l].a) / labFixed, float64(whole[l].b) / labFixed,
			float64(whole[l].x), float64(whole[l].y), float64(whole[l].n)}
		for i := range got {
			if math.Abs(got[i]-want[l][i]) > 1e-3*max(1, math.Abs(want[l][i])) {
				t.Errorf("label %d, sum %d: %v, want %v", l, i, got[i], want[l][i])
			}
		}
	}
}
