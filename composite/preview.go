package composite

import (
	"errors"
	"image"
	"image/color"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/sheet"
)

// ContactSheet lays results side by side, each image above its alpha, at
// tileH pixels per image, with thin grey gaps: a quick look at a run.
// The caller closes the returned Mat.
func ContactSheet(results []*Result, tileH int) (gocv.Mat, error) {
	if len(results) == 0 || tileH < 1 {
		return gocv.NewMat(), errors.New("contact sheet: need at least one result and a tile height >= 1")
	}
	n := len(results)
	tiles := make([]sheet.Tile, 2*n) // images in row 0, alphas in row 1
	defer func() {
		for _, t := range tiles {
			t.Image.Close()
		}
	}()
	for i, r := range results {
		if r.Image.Empty() || r.Alpha.Empty() {
			return gocv.NewMat(), errors.New("contact sheet: result without image or alpha")
		}
		size := image.Pt(max(1, r.Image.Cols()*tileH/r.Image.Rows()), tileH)
		tiles[i].Image = sheet.Scaled(r.Image, size)
		tiles[n+i].Image = sheet.Scaled(r.Alpha, size)
	}
	m, _, err := sheet.Build(tiles, sheet.Layout{Cols: n, Gap: max(2, tileH/64), Background: color.RGBA{128, 128, 128, 255}})
	return m, err
}
