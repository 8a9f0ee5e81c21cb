package apply

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"sort"
	"sync"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/composite"
	"github.com/segtool/segtool/sheet"
)

// DefaultSheetCell is the height of one contact-sheet panel in pixels.
const DefaultSheetCell = 240

// DefaultSheetRows is the number of images on a contact sheet.
const DefaultSheetRows = 8

// Sheet collects thumbnails for a before/after contact sheet: one row per
// image, one column per panel (the input, then each effect). Thumbnails are
// kept as Go bytes, so a Sheet holds no C memory. Add is safe for
// concurrent use.
type Sheet struct {
	Columns []string
	CellH   int

	mu   sync.Mutex
	rows map[int]*sheetRow
}

type sheetRow struct {
	label string
	cells []thumb
}

type thumb struct {
	w, h int
	bgr  []uint8
}

// NewSheet returns an empty sheet with the given column titles and panel
// height (0: DefaultSheetCell).
func NewSheet(columns []string, cellH int) *Sheet {
	if cellH <= 0 {
		cellH = DefaultSheetCell
	}
	return &Sheet{Columns: columns, CellH: cellH, rows: map[int]*sheetRow{}}
}

// Add scales m to the panel height (at most twice as wide as high) and
// puts it in row, column col. m is 8UC1 (grey), 8UC3 (BGR) or 8UC4 (BGRA,
// drawn over a checkerboard so transparency shows). label names the row.
func (s *Sheet) Add(row, col int, label string, m gocv.Mat) error {
	if col < 0 || col >= len(s.Columns) {
		return fmt.Errorf("sheet: column %d of %d", col, len(s.Columns))
	}
	t, err := s.thumbnail(m)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.rows[row]
	if r == nil {
		r = &sheetRow{cells: make([]thumb, len(s.Columns))}
		s.rows[row] = r
	}
	if label != "" {
		r.label = label
	}
	r.cells[col] = t
	return nil
}

// Rows is the number of rows with at least one panel.
func (s *Sheet) Rows() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.rows)
}

func (s *Sheet) thumbnail(m gocv.Mat) (thumb, error) {
	w, h := m.Cols(), m.Rows()
	if m.Empty() || w <= 0 || h <= 0 {
		return thumb{}, fmt.Errorf("sheet: empty panel")
	}
	th := s.CellH
	tw := int(math.Round(float64(w) * float64(th) / float64(h)))
	if tw > 2*th {
		tw = 2 * th
		th = max(1, int(math.Round(float64(h)*float64(tw)/float64(w))))
	}
	tw = max(tw, 1)
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(m, &small, image.Pt(tw, th), 0, 0, gocv.InterpolationArea)
	px := bgrBytes(small)
	t := thumb{w: tw, h: th, bgr: make([]uint8, 3*tw*th)}
	switch small.Type() {
	case gocv.MatTypeCV8UC3:
		copy(t.bgr, px)
	case gocv.MatTypeCV8UC1:
		for i, v := range px {
			t.bgr[3*i], t.bgr[3*i+1], t.bgr[3*i+2] = v, v, v
		}
	case gocv.MatTypeCV8UC4:
		fg, bg, al := make([]uint8, 3*tw*th), make([]uint8, 3*tw*th), make([]uint8, tw*th)
		for i := range tw * th {
			x, y := i%tw, i/tw
			var check uint8 = 205
			if (x/8+y/8)%2 == 1 {
				check = 150
			}
			copy(fg[3*i:3*i+3], px[4*i:4*i+3])
			bg[3*i], bg[3*i+1], bg[3*i+2] = check, check, check
			al[i] = px[4*i+3]
		}
		composite.Over(t.bgr, fg, bg, al)
	default:
		return thumb{}, fmt.Errorf("sheet: panel type %v, want 8-bit grey, BGR or BGRA", small.Type())
	}
	return t, nil
}

// Encode renders the sheet, rows in row order under a header of column
// titles, and encodes it as ext (gocv.PNGFileExt or gocv.JPEGFileExt).
func (s *Sheet) Encode(ext gocv.FileExt) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.rows) == 0 {
		return nil, fmt.Errorf("sheet: no images")
	}
	keys := make([]int, 0, len(s.rows))
	for k := range s.rows {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	const gap, header = 6, 30
	cellW := 1
	for _, k := range keys {
		for _, t := range s.rows[k].cells {
			cellW = max(cellW, t.w)
		}
	}
	cols := len(s.Columns)
	tiles := make([]sheet.Tile, 0, len(keys)*cols)
	defer func() {
		for _, t := range tiles {
			if t.Image.Ptr() != nil {
				t.Image.Close()
			}
		}
	}()
	for _, k := range keys {
		for _, t := range s.rows[k].cells {
			var m gocv.Mat // zero: a blank cell
			if t.bgr != nil {
				var err error
				if m, err = gocv.NewMatFromBytes(t.h, t.w, gocv.MatTypeCV8UC3, t.bgr); err != nil {
					return nil, err
				}
			}
			tiles = append(tiles, sheet.Tile{Image: m})
		}
	}
	canvas, g, err := sheet.Build(tiles, sheet.Layout{
		Cols: cols, CellW: cellW, CellH: s.CellH, Gap: gap,
		Pad:        sheet.Pad{Top: header, Right: gap, Bottom: gap, Left: gap},
		Background: color.RGBA{40, 40, 40, 255},
	})
	if err != nil {
		return nil, err
	}
	defer canvas.Close()
	// Titles over the columns and row labels overlap the grid, so they
	// are drawn on the whole canvas, not clipped to a cell.
	white := color.RGBA{R: 235, G: 235, B: 235}
	black := color.RGBA{}
	for c, name := range s.Columns {
		sz := gocv.GetTextSize(name, gocv.FontHersheySimplex, 0.6, 1)
		x := g.X[c] + (cellW-sz.X)/2
		gocv.PutText(&canvas, name, image.Pt(x, header-9), gocv.FontHersheySimplex, 0.6, white, 1)
	}
	for ri, k := range keys {
		if l := s.rows[k].label; l != "" {
			org := image.Pt(g.X[0]+4, g.Y[ri]+s.CellH-6)
			gocv.PutText(&canvas, l, org, gocv.FontHersheySimplex, 0.4, black, 3)
			gocv.PutText(&canvas, l, org, gocv.FontHersheySimplex, 0.4, white, 1)
		}
	}
	var params []int
	if ext == gocv.JPEGFileExt {
		params = []int{gocv.IMWriteJpegQuality, 90}
	} else {
		params = []int{gocv.IMWritePngCompression, 6}
	}
	buf, err := gocv.IMEncodeWithParams(ext, canvas, params)
	if err != nil {
		return nil, err
	}
	defer buf.Close()
	return bytes.Clone(buf.GetBytes()), nil
}
