package trimap

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestSqDistanceBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for trial := range 30 {
		w, h := 1+r.IntN(23), 1+r.IntN(17)
		density := []float64{0.01, 0.1, 0.5}[trial%3]
		set := make([]bool, w*h)
		for p := range set {
			set[p] = r.Float64() < density
		}
		got := sqDistance(set, w, h)
		for p := range got {
			best := int32(math.MaxInt32)
			for q := range set {
				if set[q] {
					dx, dy := p%w-q%w, p/w-q/w
					best = min(best, int32(dx*dx+dy*dy))
				}
			}
			if got[p] != best {
				t.Fatalf("%dx%d, pixel (%d,%d): %d, brute force %d", w, h, p%w, p/w, got[p], best)
			}
		}
	}
}

// TestWithinDistance checks both strategies (disc stamps on the edge, and
// the thresholded transform) against brute force.
func TestWithinDistance(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 9))
	for trial := range 40 {
		w, h := 1+r.IntN(30), 1+r.IntN(20)
		rad := r.IntN(7)
		set := make([]bool, w*h)
		density := []float64{0, 0.02, 0.3, 0.9}[trial%4]
		for p := range set {
			set[p] = r.Float64() < density
		}
		var edge []int32
		for p, in := range set {
			if in {
				edge = append(edge, int32(p)) // every set pixel: a superset of the edge
			}
		}
		for name, got := range map[string][]bool{
			"auto":  withinDistance(set, w, h, rad),
			"stamp": withinStamp(set, edge, w, h, rad),
			"edt":   withinEDT(set, w, h, rad),
		} {
			for p := range got {
				want := false
				for q := range set {
					dx, dy := p%w-q%w, p/w-q/w
					if set[q] && dx*dx+dy*dy <= rad*rad {
						want = true
						break
					}
				}
				if got[p] != want {
					t.Fatalf("%s: %dx%d r=%d, pixel (%d,%d): %v, brute force %v", name, w, h, rad, p%w, p/w, got[p], want)
				}
			}
		}
	}
}
