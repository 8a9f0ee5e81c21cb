package models

import (
	"fmt"
	"math"
)

// Tile is a rectangle of an image, in image pixels.
type Tile struct{ X, Y, W, H int }

// Tiles splits a w x h image into tiles of at most tileW x tileH that
// overlap by at least overlap pixels, in row-major order. Along an axis
// where the image is longer than a tile, tiles are full-size and spread
// evenly from one edge to the other, as few as keep every overlap at least
// overlap pixels (so no edge tile is cut short); along a shorter axis there is one tile, the image's length, which the
// caller pads (FitPad). overlap is clamped to [0, tile-1].
func Tiles(w, h, tileW, tileH, overlap int) []Tile {
	if w <= 0 || h <= 0 || tileW <= 0 || tileH <= 0 {
		return nil
	}
	xs, tw := axisTiles(w, tileW, overlap)
	ys, th := axisTiles(h, tileH, overlap)
	tiles := make([]Tile, 0, len(xs)*len(ys))
	for _, y := range ys {
		for _, x := range xs {
			tiles = append(tiles, Tile{X: x, Y: y, W: tw, H: th})
		}
	}
	return tiles
}

// axisTiles returns the tile starts along one axis of length n and the
// tile length there.
func axisTiles(n, t, overlap int) ([]int, int) {
	if n <= t {
		return []int{0}, n
	}
	overlap = min(max(overlap, 0), t-1)
	// Fewest tiles whose steps (n-t)/(k-1) are at most t-overlap.
	k := 1 + (n-t+(t-overlap)-1)/(t-overlap)
	starts := make([]int, k)
	for i := range k {
		starts[i] = int(math.Round(float64(i) * float64(n-t) / float64(k-1)))
	}
	return starts, t
}

// Blender stitches per-tile probabilities into one plane with feathered
// weights: along each tile side that borders another tile (not at the image
// border) the weight ramps linearly over the overlap band, 1, 2, ..,
// overlap+1 from the tile edge inwards; a pixel's value is the weighted
// mean of the tiles covering it. Weights are integers and sums are exact
// (float64 numerators, integer denominators), so a constant input comes
// back bit for bit.
type Blender struct {
	w, h, overlap int
	num           []float64
	den           []uint32
}

// NewBlender returns a blender for a w x h image and tiles overlapping by
// overlap pixels (as passed to Tiles).
func NewBlender(w, h, overlap int) *Blender {
	return &Blender{w: w, h: h, overlap: max(overlap, 0),
		num: make([]float64, w*h), den: make([]uint32, w*h)}
}

// ramp returns the weights along one tile axis of length n whose low and
// high ends border other tiles when lo and hi are set.
func (b *Blender) ramp(n int, lo, hi bool) []uint32 {
	r := make([]uint32, n)
	full := b.overlap + 1
	for i := range r {
		v := full
		if lo {
			v = min(v, i+1)
		}
		if hi {
			v = min(v, n-i)
		}
		r[i] = uint32(v)
	}
	return r
}

// Add blends in a tile's probabilities (t.W*t.H values, row-major). It
// panics when the tile is outside the image or prob has the wrong length,
// both programming errors.
func (b *Blender) Add(t Tile, prob []float32) {
	if t.X < 0 || t.Y < 0 || t.W <= 0 || t.H <= 0 || t.X+t.W > b.w || t.Y+t.H > b.h {
		panic(fmt.Sprintf("models: Blender.Add: tile %+v outside the %dx%d image", t, b.w, b.h))
	}
	if len(prob) != t.W*t.H {
		panic(fmt.Sprintf("models: Blender.Add: %d values for a %dx%d tile", len(prob), t.W, t.H))
	}
	wx := b.ramp(t.W, t.X > 0, t.X+t.W < b.w)
	wy := b.ramp(t.H, t.Y > 0, t.Y+t.H < b.h)
	for y := range t.H {
		o := (t.Y+y)*b.w + t.X
		num, den := b.num[o:o+t.W], b.den[o:o+t.W]
		src := prob[y*t.W : (y+1)*t.W]
		for x, p := range src {
			k := wx[x] * wy[y]
			num[x] += float64(k) * float64(p)
			den[x] += k
		}
	}
}

// Result returns the blended w*h plane. Pixels no tile covered are NaN.
func (b *Blender) Result() []float32 {
	out := make([]float32, len(b.num))
	for i, d := range b.den {
		if d == 0 {
			out[i] = float32(math.NaN())
			continue
		}
		out[i] = float32(b.num[i] / float64(d))
	}
	return out
}
