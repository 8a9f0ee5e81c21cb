package models

import (
	"math"
	"slices"
	"testing"
)

func TestTiles(t *testing.T) {
	// 1000 wide, tiles 512, overlap 64: k = 1 + ceil(488/448) = 3 tiles at
	// 0, 244, 488 (even spread, overlaps 268 >= 64); 300 high: one tile.
	got := Tiles(1000, 300, 512, 512, 64)
	want := []Tile{{0, 0, 512, 300}, {244, 0, 512, 300}, {488, 0, 512, 300}}
	if len(got) != len(want) {
		t.Fatalf("tiles %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("tiles %v, want %v", got, want)
			break
		}
	}
	// Smaller than a tile: one tile, the whole image.
	if got := Tiles(100, 50, 128, 128, 16); len(got) != 1 || got[0] != (Tile{0, 0, 100, 50}) {
		t.Errorf("small image: %v", got)
	}
	// Exactly a tile: one tile.
	if got := Tiles(128, 128, 128, 128, 16); len(got) != 1 || got[0] != (Tile{0, 0, 128, 128}) {
		t.Errorf("one-tile image: %v", got)
	}

	// Coverage and overlap over many shapes: every pixel covered, tiles
	// inside the image and full-size where the image is, row-major, and
	// neighbours overlapping by at least the overlap.
	for _, c := range [][5]int{{1920, 1080, 512, 512, 64}, {513, 1025, 512, 256, 0}, {4000, 3000, 800, 600, 100},
		{700, 300, 256, 256, 200}, {600, 100, 64, 64, 63}, {300, 2000, 320, 320, 32}} {
		w, h, tw, th, ov := c[0], c[1], c[2], c[3], c[4]
		tiles := Tiles(w, h, tw, th, ov)
		cover := make([]int, w*h)
		for i, tl := range tiles {
			if tl.X < 0 || tl.Y < 0 || tl.X+tl.W > w || tl.Y+tl.H > h || tl.W != min(w, tw) || tl.H != min(h, th) {
				t.Fatalf("%v: bad tile %+v", c, tl)
			}
			if i > 0 {
				prev := tiles[i-1]
				if tl.Y < prev.Y || tl.Y == prev.Y && tl.X <= prev.X {
					t.Fatalf("%v: tiles not in row-major order at %d", c, i)
				}
				if tl.Y == prev.Y && prev.X+prev.W-tl.X < min(ov, tw-1) {
					t.Fatalf("%v: tiles %+v and %+v overlap by less than %d", c, prev, tl, ov)
				}
			}
			for y := tl.Y; y < tl.Y+tl.H; y++ {
				for x := tl.X; x < tl.X+tl.W; x++ {
					cover[y*w+x]++
				}
			}
		}
		for i, n := range cover {
			if n == 0 {
				t.Fatalf("%v: pixel (%d,%d) not covered", c, i%w, i/w)
			}
		}
	}
}

// tileOf copies a tile's values out of a w-wide plane.
func tileOf(plane []float32, w int, t Tile) []float32 {
	out := make([]float32, 0, t.W*t.H)
	for y := t.Y; y < t.Y+t.H; y++ {
		out = append(out, plane[y*w+t.X:y*w+t.X+t.W]...)
	}
	return out
}

func TestBlenderConstantAndRamp(t *testing.T) {
	const w, h, tw, th, ov = 300, 200, 128, 96, 24
	tiles := Tiles(w, h, tw, th, ov)
	// A constant comes back bit for bit, whatever the weights.
	for _, c := range []float32{0.3, 1, 0, 0.123456789} {
		b := NewBlender(w, h, ov)
		for _, tl := range tiles {
			tp := make([]float32, tl.W*tl.H)
			for i := range tp {
				tp[i] = c
			}
			b.Add(tl, tp)
		}
		for i, v := range b.Result() {
			if v != c {
				t.Fatalf("constant %g: pixel %d is %g", c, i, v)
			}
		}
	}
	// A ramp cut into tiles (each tile holding its own part) is put back
	// where it came from.
	ramp := make([]float32, w*h)
	for y := range h {
		for x := range w {
			ramp[y*w+x] = float32(x)/w*0.7 + float32(y)/h*0.3
		}
	}
	b := NewBlender(w, h, ov)
	for _, tl := range tiles {
		b.Add(tl, tileOf(ramp, w, tl))
	}
	for i, v := range b.Result() {
		if math.Abs(float64(v-ramp[i])) > 1e-6 {
			t.Fatalf("ramp: pixel (%d,%d) is %g, want %g", i%w, i/w, v, ramp[i])
		}
	}
}

// TestBlenderFeather checks the weights on two 4-wide tiles of a 6-wide
// row overlapping by 2 (columns 2 and 3), with overlap 2: the left tile's
// weights are 3,3,2,1 and the right tile's 1,2,3,3, so column 2 is
// (2*a + 1*b)/3 and column 3 (1*a + 2*b)/3.
func TestBlenderFeather(t *testing.T) {
	b := NewBlender(6, 1, 2)
	b.Add(Tile{0, 0, 4, 1}, []float32{0, 0, 0, 0})
	b.Add(Tile{2, 0, 4, 1}, []float32{0.75, 0.75, 0.75, 0.75})
	equal(t, "feathered row", b.Result(), []float32{0, 0, 0.25, 0.5, 0.75, 0.75})

	// Pixels no tile covered are NaN.
	b = NewBlender(3, 1, 0)
	b.Add(Tile{0, 0, 2, 1}, []float32{1, 1})
	if r := b.Result(); r[0] != 1 || !math.IsNaN(float64(r[2])) {
		t.Errorf("uncovered pixel: %v", r)
	}
}

// BenchmarkBlender1080p stitches 512-pixel tiles with 64 px overlap over a
// 1920x1080 image.
func BenchmarkBlender1080p(b *testing.B) {
	tiles := Tiles(1920, 1080, 512, 512, 64)
	tp := make([]float32, 512*512)
	for i := range tp {
		tp[i] = float32(i%100) / 100
	}
	b.ResetTimer()
	for range b.N {
		bl := NewBlender(1920, 1080, 64)
		for _, tl := range tiles {
			bl.Add(tl, tp[:tl.W*tl.H])
		}
		_ = bl.Result()
	}
}

// A hand-worked 5x1 plane: global [0 0 1 1 1], margin 1. The contour is
// the pair x=1,2 where p >= 0.5 changes; chessboard distances to it are
// 1 0 0 1 2, so m = 1 - d/2 = 0.5 1 1 0.5 0. With tiles t = [1 0 0 NaN 0]:
// out = g + m(t-g) = 0.5, 0, 0, then g where t is NaN or m = 0.
func TestRefineHandWorked(t *testing.T) {
	g := []float32{0, 0, 1, 1, 1}
	b := Band{Lo: 0.1, Hi: 0.9, Margin: 1}
	m := RefineWeights(g, 5, 1, b)
	if want := []float32{0.5, 1, 1, 0.5, 0}; !slices.Equal(m, want) {
		t.Errorf("weights %v, want %v", m, want)
	}
	nan := float32(math.NaN())
	got := Refine(g, []float32{1, 0, 0, nan, 0}, m)
	if want := []float32{0.5, 0, 0, 1, 1}; !slices.Equal(got, want) {
		t.Errorf("refined %v, want %v", got, want)
	}
	// A tile touching only m = 0 pixels is not run; one touching x=3 is.
	if InBand(Tile{X: 4, Y: 0, W: 1, H: 1}, m, 5) || !InBand(Tile{X: 3, Y: 0, W: 2, H: 1}, m, 5) {
		t.Error("InBand: want only the tile over x=3..4 in the band")
	}

	// 2-D: one person pixel at the centre of a 5x5 plane, margin 1. The
	// contour is it and its 4 neighbours (weight 1); the corners of the
	// plane are 2 away from all of those (weight 0), the rest 1 (0.5).
	g2 := make([]float32, 25)
	g2[12] = 1
	m2 := RefineWeights(g2, 5, 5, b)
	for i, v := range m2 {
		dx, dy := max(i%5-2, 2-i%5), max(i/5-2, 2-i/5)
		want := float32(0.5)
		switch {
		case dx+dy <= 1:
			want = 1
		case dx == 2 && dy == 2:
			want = 0
		}
		if v != want {
			t.Errorf("weight at (%d,%d) = %v, want %v", i%5, i/5, v, want)
		}
	}
	// No contour, however uncertain: all zero, and the global plane stands.
	if m := RefineWeights([]float32{0.4, 0.2}, 2, 1, b); m[0] != 0 || m[1] != 0 {
		t.Errorf("plane without a contour: weights %v, want 0", m)
	}
}

// ContextBand's margin is 3 model pixels in image pixels.
func TestContextBand(t *testing.T) {
	for _, c := range []struct{ w, h, mw, mh, want int }{
		{1920, 1080, 256, 256, 23}, // scale 7.5: ceil(22.5)
		{1080, 1920, 320, 320, 18}, // scale 6
		{100, 100, 320, 320, 1},    // smaller than the model: ceil(0.94)
	} {
		if got := ContextBand(c.w, c.h, c.mw, c.mh).Margin; got != c.want {
			t.Errorf("%dx%d at %dx%d: margin %d, want %d", c.w, c.h, c.mw, c.mh, got, c.want)
		}
	}
}

// Agreement is the person IoU over the global plane's certain pixels.
func TestAgreement(t *testing.T) {
	b := Band{Lo: 0.1, Hi: 0.9}
	// Global 4x1 [1 1 0.5 0]: certain pixels x=0,1,3. A tile over x=0..3
	// saying [1 0 1 0]: person in g {0,1}, in t {0}: IoU 1/2 (x=2 ignored).
	g := []float32{1, 1, 0.5, 0}
	if a := Agreement([]float32{1, 0, 1, 0}, g, Tile{X: 0, Y: 0, W: 4, H: 1}, 4, b); a != 0.5 {
		t.Errorf("agreement %v, want 0.5", a)
	}
	// A tile over x=2..3 with no person where g is certain: 1.
	if a := Agreement([]float32{1, 0}, g, Tile{X: 2, Y: 0, W: 2, H: 1}, 4, b); a != 1 {
		t.Errorf("agreement %v, want 1", a)
	}
	// A tile calling certain background a person: 0.
	if a := Agreement([]float32{0, 1}, g, Tile{X: 2, Y: 0, W: 2, H: 1}, 4, b); a != 0 {
		t.Errorf("agreement %v, want 0", a)
	}
}
