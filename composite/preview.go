package composite

import (
	"errors"
	"image"
	"image/color"

	"gocv.io/x/gocv"
)

// ContactSheet lays results side by side, each image above its alpha, at
// tileH pixels per image, with thin grey gaps: a quick look at a run.
// The caller closes the returned Mat.
func ContactSheet(results []*Result, tileH int) (gocv.Mat, error) {
	if len(results) == 0 || tileH < 1 {
		return gocv.NewMat(), errors.New("contact sheet: need at least one result and a tile height >= 1")
	}
	gap := max(2, tileH/64)
	grey := color.RGBA{128, 128, 128, 255}
	var sheet gocv.Mat
	for i, r := range results {
		if r.Image.Empty() || r.Alpha.Empty() {
			if i > 0 {
				sheet.Close()
			}
			return gocv.NewMat(), errors.New("contact sheet: result without image or alpha")
		}
		tw := max(1, r.Image.Cols()*tileH/r.Image.Rows())
		img, al := gocv.NewMat(), gocv.NewMat()
		gocv.Resize(r.Image, &img, image.Pt(tw, tileH), 0, 0, gocv.InterpolationArea)
		gocv.Resize(r.Alpha, &al, image.Pt(tw, tileH), 0, 0, gocv.InterpolationArea)
		gocv.CvtColor(al, &al, gocv.ColorGrayToBGR)
		col := gocv.NewMat()
		gocv.CopyMakeBorder(img, &img, 0, gap, 0, 0, gocv.BorderConstant, grey)
		gocv.Vconcat(img, al, &col)
		img.Close()
		al.Close()
		if i == 0 {
			sheet = col
			continue
		}
		gocv.CopyMakeBorder(sheet, &sheet, 0, 0, 0, gap, gocv.BorderConstant, grey)
		next := gocv.NewMat()
		gocv.Hconcat(sheet, col, &next)
		sheet.Close()
		col.Close()
		sheet = next
	}
	return sheet, nil
}
