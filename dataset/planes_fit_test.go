package dataset

import (
	"image"
	"slices"
	"testing"

	"gocv.io/x/gocv"
)

// fitSource is a 400x400 white image whose mask and alpha are 255 in the
// top half (rows 0..199) and 0 below, with one box.
func fitSource(t *testing.T) Planes {
	t.Helper()
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(255, 255, 255, 0), 400, 400, gocv.MatTypeCV8UC3)
	mask := gocv.NewMatWithSize(400, 400, gocv.MatTypeCV8U)
	alpha := gocv.NewMatWithSize(400, 400, gocv.MatTypeCV8U)
	for y := 0; y < 200; y++ {
		for x := 0; x < 400; x++ {
			mask.SetUCharAt(y, x, 255)
			alpha.SetUCharAt(y, x, 255)
		}
	}
	p := Planes{Image: img, Mask: mask, Alpha: alpha, Boxes: [][4]float64{{100, 50, 300, 350}}, owned: true}
	t.Cleanup(p.Close)
	return p
}

// column reads plane m's values down column x.
func column(m gocv.Mat, x int) []uint8 {
	var out []uint8
	for y := 0; y < m.Rows(); y++ {
		out = append(out, m.GetUCharAt(y, x))
	}
	return out
}

// runs compresses vs into (value, count) pairs.
func runs(vs []uint8) [][2]int {
	var out [][2]int
	for _, v := range vs {
		if n := len(out); n > 0 && out[n-1][0] == int(v) {
			out[n-1][1]++
			continue
		}
		out = append(out, [2]int{int(v), 1})
	}
	return out
}

// TestFitSquareTo320x240 works a 400x400 square into 320x240 by hand:
//
//	pad:     s = min(0.8, 0.6) = 0.6, 240x240 at x = 40; box
//	         [100,50,300,350]*0.6 = [60,30,180,210], +40 in x = [100,30,220,210]
//	crop:    s = max(0.8, 0.6) = 0.8, 320x320, rows 40..279 kept; box
//	         [80,40,240,280], clipped to row 279, -40 in y = [80,0,240,239]
//	stretch: 0.8 across, 0.6 down; box [80,30,240,210]
//
// The mask's top half (source rows < 200) ends at scaled row 160 (crop:
// 160-40 = 120) or 120 (pad, stretch).
func TestFitSquareTo320x240(t *testing.T) {
	src := fitSource(t)
	for _, tc := range []struct {
		mode ResizeMode
		note string
		box  [4]float64
		// a middle column of the mask, and row 100 across the image's
		// blue channel, as runs
		maskCol, imgRow [][2]int
	}{
		{"", "padded from 400x400", [4]float64{100, 30, 220, 210}, [][2]int{{255, 120}, {0, 120}}, [][2]int{{0, 40}, {255, 240}, {0, 40}}},
		{ResizePad, "padded from 400x400", [4]float64{100, 30, 220, 210}, [][2]int{{255, 120}, {0, 120}}, [][2]int{{0, 40}, {255, 240}, {0, 40}}},
		{ResizeCrop, "cropped from 400x400", [4]float64{80, 0, 240, 239}, [][2]int{{255, 120}, {0, 120}}, [][2]int{{255, 320}}},
		{ResizeStretch, "stretched from 400x400", [4]float64{80, 30, 240, 210}, [][2]int{{255, 120}, {0, 120}}, [][2]int{{255, 320}}},
	} {
		q, note, err := src.Fit(image.Pt(320, 240), tc.mode)
		if err != nil {
			t.Fatalf("%s: %v", tc.mode, err)
		}
		if got := q.Size(); got != image.Pt(320, 240) || q.Mask.Cols() != 320 || q.Mask.Rows() != 240 || q.Alpha.Cols() != 320 {
			t.Errorf("%q: image %v, mask %dx%d, want 320x240", tc.mode, got, q.Mask.Cols(), q.Mask.Rows())
		}
		if note != tc.note {
			t.Errorf("%q: note %q, want %q", tc.mode, note, tc.note)
		}
		if len(q.Boxes) != 1 || q.Boxes[0] != tc.box {
			t.Errorf("%q: boxes %v, want [%v]", tc.mode, q.Boxes, tc.box)
		}
		if got := runs(column(q.Mask, 160)); !slices.Equal(got, tc.maskCol) {
			t.Errorf("%q: mask column 160 %v, want %v", tc.mode, got, tc.maskCol)
		}
		var row []uint8
		for x := 0; x < 320; x++ {
			row = append(row, q.Image.GetUCharAt(100, 3*x)) // blue
		}
		if got := runs(row); !slices.Equal(got, tc.imgRow) {
			t.Errorf("%q: image row 100 %v, want %v", tc.mode, got, tc.imgRow)
		}
		if tc.mode == ResizePad {
			// the bars are background in every plane
			for _, x := range []int{0, 39, 280, 319} {
				if m, a := runs(column(q.Mask, x)), runs(column(q.Alpha, x)); !slices.Equal(m, [][2]int{{0, 240}}) || !slices.Equal(a, [][2]int{{0, 240}}) {
					t.Errorf("pad: column %d has mask %v, alpha %v, want all 0", x, m, a)
				}
			}
		}
		q.Close()
	}
	// The same aspect ratio is a plain resize, with no note.
	q, note, err := src.Fit(image.Pt(200, 200), ResizePad)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	if note != "" || q.Size() != image.Pt(200, 200) || q.Boxes[0] != [4]float64{50, 25, 150, 175} {
		t.Errorf("same aspect: %v, %q, %v", q.Size(), note, q.Boxes)
	}
}
