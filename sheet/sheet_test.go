package sheet

import (
	"image"
	"image/color"
	"testing"

	"gocv.io/x/gocv"
)

func solid(t *testing.T, w, h int, b, g, r float64) gocv.Mat {
	t.Helper()
	return gocv.NewMatWithSizeFromScalar(gocv.NewScalar(b, g, r, 0), h, w, gocv.MatTypeCV8UC3)
}

// TestBuildTwoTiles works a 2-tile sheet by hand: tiles 4x2 and 2x3 in
// one row, gap 1, pad top 5 and 2 elsewhere. Columns are 4 and 2 wide,
// the row 3 high, so the sheet is 2+4+1+2+2 = 11 by 5+3+2 = 10; the 4x2
// tile is centred down by (3−2)/2 = 0 rows, at x 2..5, y 5..6.
func TestBuildTwoTiles(t *testing.T) {
	a, b := solid(t, 4, 2, 10, 20, 30), solid(t, 2, 3, 200, 100, 50)
	defer a.Close()
	defer b.Close()
	m, g, err := Build([]Tile{{Image: a}, {Image: b}}, Layout{
		Cols: 2, Gap: 1, Pad: Pad{Top: 5, Right: 2, Bottom: 2, Left: 2},
		Background: color.RGBA{R: 7, G: 8, B: 9},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Cols() != 11 || m.Rows() != 10 || m.Type() != gocv.MatTypeCV8UC3 {
		t.Fatalf("sheet %dx%d type %v, want 11x10 BGR", m.Cols(), m.Rows(), m.Type())
	}
	if c := g.Cell(0, 1); c != image.Rect(7, 5, 9, 8) {
		t.Fatalf("cell (0, 1) = %v", c)
	}
	px := func(x, y int) [3]uint8 {
		v := m.GetVecbAt(y, x)
		return [3]uint8{v[0], v[1], v[2]}
	}
	for _, c := range []struct {
		x, y int
		want [3]uint8
	}{
		{2, 5, [3]uint8{10, 20, 30}},   // first tile's corner
		{5, 6, [3]uint8{10, 20, 30}},   // and its opposite corner
		{2, 7, [3]uint8{9, 8, 7}},      // below the short tile: background
		{6, 5, [3]uint8{9, 8, 7}},      // the gap
		{8, 7, [3]uint8{200, 100, 50}}, // second tile's last pixel
		{0, 0, [3]uint8{9, 8, 7}},      // pad
	} {
		if got := px(c.x, c.y); got != c.want {
			t.Errorf("pixel (%d, %d) = %v, want %v", c.x, c.y, got, c.want)
		}
	}
}

// TestBuildFixedCellsCentreAndClipLabel: a 10x10 tile centred in 12x12
// cells lies at (1, 1); its label, wider than the tile, is clipped to it,
// so nothing outside changes.
func TestBuildFixedCellsCentreAndClipLabel(t *testing.T) {
	a := solid(t, 10, 10, 0, 0, 0)
	defer a.Close()
	m, _, err := Build([]Tile{{Image: a, Label: "WW"}, {Image: gocv.NewMat()}}, Layout{
		Cols: 2, CellW: 12, CellH: 12, Background: color.RGBA{R: 1, G: 1, B: 1},
		Label: Text{At: image.Pt(0, 8), Scale: 0.5, Color: color.RGBA{R: 255, G: 255, B: 255}, Thickness: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Cols() != 24 || m.Rows() != 12 {
		t.Fatalf("sheet %dx%d, want 24x12", m.Cols(), m.Rows())
	}
	inked := false
	for y := range 12 {
		for x := range 24 {
			v := m.GetVecbAt(y, x)
			in := x >= 1 && x < 11 && y >= 1 && y < 11
			if !in && (v[0] != 1 || v[1] != 1 || v[2] != 1) {
				t.Errorf("pixel (%d, %d) = %v outside the tile, want background", x, y, v)
			}
			inked = inked || in && v[0] == 255
		}
	}
	if !inked {
		t.Error("the label drew nothing on the tile")
	}
}

func TestBuildErrors(t *testing.T) {
	if _, _, err := Build(nil, Layout{Cols: 1}); err == nil {
		t.Error("no tiles: want an error")
	}
	a := solid(t, 5, 1, 0, 0, 0)
	defer a.Close()
	if _, _, err := Build([]Tile{{Image: a}}, Layout{Cols: 1, CellW: 4}); err == nil {
		t.Error("tile wider than its cell: want an error")
	}
}

// TestScaledGrey: a 2x2 grey tile halved by area is the mean, replicated.
func TestScaledGrey(t *testing.T) {
	g, err := gocv.NewMatFromBytes(2, 2, gocv.MatTypeCV8UC1, []byte{0, 100, 100, 200})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	s := Scaled(g, image.Pt(1, 1))
	defer s.Close()
	if v := s.GetVecbAt(0, 0); s.Type() != gocv.MatTypeCV8UC3 || v[0] != 100 || v[1] != 100 || v[2] != 100 {
		t.Fatalf("Scaled = %v type %v, want 100,100,100 BGR", v, s.Type())
	}
}
