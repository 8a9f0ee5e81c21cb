package trimap

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// grid makes a Gray from rows of values.
func grid(rows ...[]uint8) Gray {
	g := Gray{W: len(rows[0]), H: len(rows)}
	for _, r := range rows {
		g.Pix = append(g.Pix, r...)
	}
	return g
}

// TestFromLabelsHand: four 3x3 superpixels over a 6x6 matte, no band.
func TestFromLabelsHand(t *testing.T) {
	const (
		F = 255
		U = 128
		B = 0
	)
	labels := []int32{
		0, 0, 0, 1, 1, 1,
		0, 0, 0, 1, 1, 1,
		0, 0, 0, 1, 1, 1,
		2, 2, 2, 3, 3, 3,
		2, 2, 2, 3, 3, 3,
		2, 2, 2, 3, 3, 3,
	}
	sp := &Superpixels{W: 6, H: 6, Labels: labels, N: 4}
	alpha := grid(
		[]uint8{255, 255, 255, 0, 0, 0},
		[]uint8{255, 255, 255, 0, 0, 0},
		[]uint8{255, 255, 255, 0, 0, 3}, // label 1: mean 1/3 of a level, not pure
		[]uint8{255, 255, 255, 0, 0, 0},
		[]uint8{255, 255, 250, 0, 0, 0}, // label 2: one pixel 250
		[]uint8{255, 255, 255, 0, 0, 0},
	)
	// Defaults: only pure superpixels are known.
	got, flag, err := FromLabels(sp, alpha, SuperpixelOptions{MinBand: -1})
	if err != nil {
		t.Fatal(err)
	}
	want := grid(
		[]uint8{F, F, F, U, U, U},
		[]uint8{F, F, F, U, U, U},
		[]uint8{F, F, F, U, U, U},
		[]uint8{U, U, U, B, B, B},
		[]uint8{U, U, U, B, B, B},
		[]uint8{U, U, U, B, B, B},
	)
	if !slices.Equal(got.Pix, want.Pix) || flag != FlagNone {
		t.Errorf("defaults: got %v flag %v, want %v", got.Pix, flag, want.Pix)
	}
	// Looser thresholds: label 2 has mean (8*255+250)/9/255 = 0.9978 and
	// label 1 has mean 3/9/255 = 0.0013.
	got, _, err = FromLabels(sp, alpha, SuperpixelOptions{MinBand: -1, FGThresh: 0.99, BGThresh: 0.01})
	if err != nil {
		t.Fatal(err)
	}
	want = grid(
		[]uint8{F, F, F, B, B, B},
		[]uint8{F, F, F, B, B, B},
		[]uint8{F, F, F, B, B, B},
		[]uint8{F, F, F, B, B, B},
		[]uint8{F, F, F, B, B, B},
		[]uint8{F, F, F, B, B, B},
	)
	if !slices.Equal(got.Pix, want.Pix) {
		t.Errorf("0.99/0.01: got %v, want %v", got.Pix, want.Pix)
	}
	// The pixel rule: a superpixel with a pixel below 0.5 is never
	// foreground, whatever its mean.
	alpha.Pix[4*6+2] = 127
	got, _, _ = FromLabels(sp, alpha, SuperpixelOptions{MinBand: -1, FGThresh: 0.5, BGThresh: 0.01})
	if got.Pix[4*6+2] != U {
		t.Errorf("superpixel with a pixel at 127 labelled %d, want unknown", got.Pix[4*6+2])
	}
}

// TestMinBandExact: a vertical step edge between columns 9 and 10, one
// superpixel per side aligned with the edge: the band is exactly MinBand
// pixels on each side.
func TestMinBandExact(t *testing.T) {
	const w, h = 20, 8
	alpha := NewGray(w, h)
	labels := make([]int32, w*h)
	for y := range h {
		for x := range w {
			if x < 10 {
				alpha.Pix[y*w+x] = 255
			} else {
				labels[y*w+x] = 1
			}
		}
	}
	sp := &Superpixels{W: w, H: h, Labels: labels, N: 2}
	for _, band := range []int{1, 3, 5} {
		got, _, err := FromLabels(sp, alpha, SuperpixelOptions{MinBand: band})
		if err != nil {
			t.Fatal(err)
		}
		for y := range h {
			for x := range w {
				want := Unknown
				switch {
				case x < 10-band:
					want = Foreground
				case x >= 10+band:
					want = Background
				}
				if g := got.Pix[y*w+x]; g != want {
					t.Fatalf("band %d: (%d,%d) = %d, want %d", band, x, y, g, want)
				}
			}
		}
	}
}

// TestMaxBand: one superpixel covers the whole image, so every pixel is
// unknown; the cap keeps only pixels near the edge or with 0 < alpha < 1.
func TestMaxBand(t *testing.T) {
	const w, h = 40, 5
	alpha := NewGray(w, h)
	for y := range h {
		for x := range w {
			switch {
			case x < 20:
				alpha.Pix[y*w+x] = 255
			case x == 20:
				alpha.Pix[y*w+x] = 100
			}
		}
	}
	sp := &Superpixels{W: w, H: h, Labels: make([]int32, w*h), N: 1}
	got, _, err := FromLabels(sp, alpha, SuperpixelOptions{MinBand: 2})
	if err != nil {
		t.Fatal(err)
	}
	for p, v := range got.Pix {
		if v != Unknown {
			t.Fatalf("without cap: pixel %d = %d, want all unknown", p, v)
		}
	}
	got, _, err = FromLabels(sp, alpha, SuperpixelOptions{MinBand: 2, MaxBand: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Iso-line between x = 19 and x = 20: band x in [18, 21]; core adds
	// x = 20 (alpha 100); cap 4 keeps x in [14, 25].
	for x := range w {
		want := Unknown
		switch {
		case x < 14:
			want = Foreground
		case x > 25:
			want = Background
		}
		if g := got.Pix[x]; g != want {
			t.Errorf("x = %d: %d, want %d", x, g, want)
		}
	}
}

func TestFromSuperpixelsFlags(t *testing.T) {
	im := syntheticImage(30, 20, 9)
	for _, tc := range []struct {
		v    uint8
		flag Flag
		want uint8
	}{{0, FlagAllBackground, Background}, {255, FlagAllForeground, Foreground}} {
		alpha := NewGray(30, 20)
		for i := range alpha.Pix {
			alpha.Pix[i] = tc.v
		}
		got, flag, err := FromSuperpixels(context.Background(), im, alpha, SuperpixelOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if flag != tc.flag || Check(got) != tc.flag || got.Pix[0] != tc.want {
			t.Errorf("matte all %d: flag %v (%v), pixel %d", tc.v, flag, Check(got), got.Pix[0])
		}
	}
	if FlagAllBackground.String() != "all-background" || FlagNone.String() != "ok" {
		t.Error("Flag.String")
	}
}

func TestFromSuperpixelsErrors(t *testing.T) {
	im := syntheticImage(10, 10, 9)
	alpha := NewGray(10, 10)
	alpha.Pix[55] = 200
	for _, n := range []int{-3, 101} {
		_, _, err := FromSuperpixels(context.Background(), im, alpha, SuperpixelOptions{SLIC: SLICOptions{Superpixels: n}})
		if !errors.Is(err, ErrSuperpixelCount) {
			t.Errorf("%d superpixels: err = %v, want ErrSuperpixelCount", n, err)
		}
	}
	if _, _, err := FromSuperpixels(context.Background(), im, NewGray(9, 10), SuperpixelOptions{}); !errors.Is(err, ErrBadInput) {
		t.Errorf("size mismatch: err = %v", err)
	}
	if _, _, err := FromSuperpixels(context.Background(), im, alpha, SuperpixelOptions{FGThresh: 0.3, BGThresh: 0.4}); !errors.Is(err, ErrBadInput) {
		t.Errorf("bg > fg: err = %v", err)
	}
}

// TestFromSuperpixelsDeterministic: 1 and 2 workers give the same bytes.
func TestFromSuperpixelsDeterministic(t *testing.T) {
	im := syntheticImage(150, 110, 17)
	alpha := NewGray(150, 110)
	for y := range 110 {
		for x := range 150 {
			alpha.Pix[y*150+x] = uint8(min(max((x-60)*10+y, 0), 255))
		}
	}
	a, _, err := FromSuperpixels(context.Background(), im, alpha, SuperpixelOptions{SLIC: SLICOptions{Workers: 1}})
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := FromSuperpixels(context.Background(), im, alpha, SuperpixelOptions{SLIC: SLICOptions{Workers: 2}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a.Pix, b.Pix) {
		t.Error("1 and 2 workers give different trimaps")
	}
}
