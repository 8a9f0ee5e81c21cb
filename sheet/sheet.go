// Package sheet lays labelled image tiles on a grid: contact sheets. It
// owns the geometry (cells, gaps, margins, centring) and the pasting; what
// goes into a tile, and captions outside the tiles, belong to the caller.
package sheet

import (
	"errors"
	"fmt"
	"image"
	"image/color"

	"gocv.io/x/gocv"
)

// Tile is one cell of a sheet.
type Tile struct {
	// Image is 8-bit BGR at the size it is drawn; an empty or zero Mat
	// leaves the cell blank.
	Image gocv.Mat
	// Label, when not empty, is drawn inside the tile in Layout.Label's
	// style, clipped to the tile.
	Label string
}

// Text is a label style: baseline origin At from the tile's top-left,
// Hershey simplex font.
type Text struct {
	At        image.Point
	Scale     float64
	Color     color.RGBA
	Thickness int
}

// Pad is space around the grid, in pixels.
type Pad struct{ Top, Right, Bottom, Left int }

// Layout is a sheet's grid. Tiles fill it row by row, Cols to a row, each
// centred in its cell (offsets rounded down).
type Layout struct {
	Cols int
	// CellW and CellH fix every cell's size; 0 makes each column as wide
	// as its widest tile and each row as high as its tallest.
	CellW, CellH int
	Gap          int // between cells, both ways
	Pad          Pad
	Background   color.RGBA
	Label        Text
}

// Grid is where a built sheet's cells lie, for captions drawn after.
type Grid struct {
	X, W []int // per column: left edge, width
	Y, H []int // per row: top edge, height
}

// Cell is the rectangle of cell (row r, column c).
func (g Grid) Cell(r, c int) image.Rectangle {
	return image.Rect(g.X[c], g.Y[r], g.X[c]+g.W[c], g.Y[r]+g.H[r])
}

// Build draws the tiles on a new 8-bit BGR canvas of the background colour
// and returns it with its grid. The caller closes the canvas; the tiles
// stay the caller's. On error nothing is allocated.
func Build(tiles []Tile, l Layout) (gocv.Mat, Grid, error) {
	if len(tiles) == 0 || l.Cols < 1 {
		return gocv.Mat{}, Grid{}, errors.New("sheet: need at least one tile and one column")
	}
	rows := (len(tiles) + l.Cols - 1) / l.Cols
	g := Grid{X: make([]int, l.Cols), W: make([]int, l.Cols), Y: make([]int, rows), H: make([]int, rows)}
	for i, t := range tiles {
		r, c := i/l.Cols, i%l.Cols
		if blank(t.Image) {
			continue
		}
		if t.Image.Type() != gocv.MatTypeCV8UC3 {
			return gocv.Mat{}, Grid{}, fmt.Errorf("sheet: tile %d has type %v, want 8-bit BGR", i, t.Image.Type())
		}
		g.W[c] = max(g.W[c], t.Image.Cols())
		g.H[r] = max(g.H[r], t.Image.Rows())
	}
	for c := range g.W {
		if l.CellW > 0 {
			g.W[c] = l.CellW
		}
	}
	for r := range g.H {
		if l.CellH > 0 {
			g.H[r] = l.CellH
		}
	}
	w, h := l.Pad.Left, l.Pad.Top
	for c := range g.X {
		g.X[c] = w
		w += g.W[c] + l.Gap
	}
	for r := range g.Y {
		g.Y[r] = h
		h += g.H[r] + l.Gap
	}
	w += l.Pad.Right - l.Gap
	h += l.Pad.Bottom - l.Gap
	bg := l.Background
	canvas := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(bg.B), float64(bg.G), float64(bg.R), 0), h, w, gocv.MatTypeCV8UC3)
	for i, t := range tiles {
		if blank(t.Image) {
			continue
		}
		cell := g.Cell(i/l.Cols, i%l.Cols)
		tw, th := t.Image.Cols(), t.Image.Rows()
		if tw > cell.Dx() || th > cell.Dy() {
			canvas.Close()
			return gocv.Mat{}, Grid{}, fmt.Errorf("sheet: tile %d is %dx%d, the cell %dx%d", i, tw, th, cell.Dx(), cell.Dy())
		}
		at := cell.Min.Add(image.Pt((cell.Dx()-tw)/2, (cell.Dy()-th)/2))
		dst := canvas.Region(image.Rectangle{Min: at, Max: at.Add(image.Pt(tw, th))})
		t.Image.CopyTo(&dst) // same size and type: writes through into canvas
		if t.Label != "" {
			// Drawn on the region, so it is clipped to the tile.
			gocv.PutText(&dst, t.Label, l.Label.At, gocv.FontHersheySimplex, l.Label.Scale, l.Label.Color, l.Label.Thickness)
		}
		dst.Close()
	}
	return canvas, g, nil
}

// Scaled resizes m to size by area averaging, as thumbnails are, and
// returns it as 8-bit BGR (grey is replicated after the resize). The
// caller closes the result.
func Scaled(m gocv.Mat, size image.Point) gocv.Mat {
	out := gocv.NewMat()
	gocv.Resize(m, &out, size, 0, 0, gocv.InterpolationArea)
	if out.Type() == gocv.MatTypeCV8UC1 {
		gocv.CvtColor(out, &out, gocv.ColorGrayToBGR)
	}
	return out
}

// blank reports whether m draws nothing: zero (never made) or empty.
func blank(m gocv.Mat) bool { return m.Ptr() == nil || m.Empty() }
