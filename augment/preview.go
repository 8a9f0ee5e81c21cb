package augment

import (
	"fmt"
	"image"
	"image/color"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/sheet"
)

// SheetOptions shapes a contact sheet.
type SheetOptions struct {
	Copies int   // augmented copies per sample, beside the original (default 3)
	Tile   int   // side of each square tile in pixels (default 256)
	Seed   int64 // seed passed to Apply
}

// ContactSheet draws one row per sample: the original, then opt.Copies
// augmented copies (Apply with copy index 0, 1, ...), each fitted into a
// square tile with the mask outline (alpha >= 128 when there is no mask)
// drawn in green. ids name the samples for Apply and label the rows. The
// caller owns, and must Close, the returned BGR Mat.
func ContactSheet(p *Pipeline, samples []*Sample, ids []string, opt SheetOptions) (gocv.Mat, error) {
	if len(ids) != len(samples) {
		return gocv.NewMat(), fmt.Errorf("augment: %d samples but %d ids", len(samples), len(ids))
	}
	if opt.Copies <= 0 {
		opt.Copies = 3
	}
	if opt.Tile <= 0 {
		opt.Tile = 256
	}
	t := opt.Tile
	tiles := make([]sheet.Tile, 0, len(samples)*(opt.Copies+1))
	defer func() {
		for _, tl := range tiles {
			tl.Image.Close()
		}
	}()
	for r, s := range samples {
		for c := 0; c <= opt.Copies; c++ {
			aug := s.Clone()
			label := ids[r]
			if c > 0 {
				if _, err := p.Apply(aug, opt.Seed, ids[r], c-1); err != nil {
					aug.Close()
					return gocv.NewMat(), err
				}
				label = fmt.Sprintf("copy %d", c-1)
			}
			tiles = append(tiles, sheet.Tile{Image: tileImage(aug, t), Label: label})
			aug.Close()
		}
	}
	m, _, err := sheet.Build(tiles, sheet.Layout{
		Cols: opt.Copies + 1, CellW: t, CellH: t,
		Background: color.RGBA{40, 40, 40, 255},
		Label:      sheet.Text{At: image.Pt(3, 12), Scale: 0.4, Color: color.RGBA{R: 255, G: 255, B: 255}, Thickness: 1},
	})
	return m, err
}

// tileImage fits s into a t x t square, with the mask outline drawn in
// green. The caller closes it.
func tileImage(s *Sample, t int) gocv.Mat {
	rows, cols := s.Image.Rows(), s.Image.Cols()
	scale := min(float64(t)/float64(cols), float64(t)/float64(rows))
	w, h := max(1, int(float64(cols)*scale)), max(1, int(float64(rows)*scale))
	img := gocv.NewMat()
	gocv.Resize(s.Image, &img, image.Pt(w, h), 0, 0, gocv.InterpolationArea)

	outline := gocv.NewMat()
	defer outline.Close()
	switch {
	case present(&s.Mask):
		gocv.Resize(s.Mask, &outline, image.Pt(w, h), 0, 0, nearestExact)
	case present(&s.Alpha):
		gocv.Resize(s.Alpha, &outline, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
	}
	if !outline.Empty() {
		gocv.Threshold(outline, &outline, 127, 255, gocv.ThresholdBinary)
		contours := gocv.FindContours(outline, gocv.RetrievalList, gocv.ChainApproxSimple)
		gocv.DrawContours(&img, contours, -1, color.RGBA{G: 255}, 1)
		contours.Close()
	}
	return img
}
