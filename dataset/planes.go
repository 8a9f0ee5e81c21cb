package dataset

import (
	"fmt"
	"image"
	"math"

	"github.com/segtool/segtool/cvguard"
	"gocv.io/x/gocv"
)

// Planes are one sample's image and label planes, transformed together so
// they stay aligned. Empty Mats are absent planes. Planes made by Resize
// or Crop own their Mats (Close releases them); those of a
// SourceSample are released by its Close.
type Planes struct {
	Image, Mask, Alpha, Instances, Trimap gocv.Mat
	// Boxes are 0-based [xmin, ymin, xmax, ymax] boxes in Image's pixels.
	Boxes [][4]float64
	owned bool
}

func present(m gocv.Mat) bool { return m.Ptr() != nil && !m.Empty() }

// Size is the image's width and height.
func (p Planes) Size() image.Point { return image.Pt(p.Image.Cols(), p.Image.Rows()) }

// Resize scales every plane to size: the image with area interpolation
// when shrinking (it averages, so no aliasing) and linear when growing,
// the alpha linearly, and masks, instance ids and trimaps with nearest
// neighbour so their values stay in their sets. Boxes scale with the image.
// An error (a size of zero, an allocation OpenCV could not make) leaves
// nothing to close.
func (p Planes) Resize(size image.Point) (Planes, error) {
	sx := float64(size.X) / float64(p.Image.Cols())
	sy := float64(size.Y) / float64(p.Image.Rows())
	interp := gocv.InterpolationArea
	if sx > 1 || sy > 1 {
		interp = gocv.InterpolationLinear
	}
	q := Planes{owned: true}
	for _, r := range []struct {
		dst    *gocv.Mat
		src    gocv.Mat
		interp gocv.InterpolationFlags
	}{
		{&q.Image, p.Image, interp},
		{&q.Mask, p.Mask, gocv.InterpolationNearestNeighbor},
		{&q.Alpha, p.Alpha, gocv.InterpolationLinear},
		{&q.Instances, p.Instances, gocv.InterpolationNearestNeighbor},
		{&q.Trimap, p.Trimap, gocv.InterpolationNearestNeighbor},
	} {
		if !present(r.src) {
			continue
		}
		*r.dst = gocv.NewMat()
		if err := cvguard.Resize(r.src, r.dst, size, r.interp); err != nil {
			q.release()
			return Planes{}, fmt.Errorf("resizing to %dx%d: %w", size.X, size.Y, err)
		}
	}
	for _, b := range p.Boxes {
		q.Boxes = append(q.Boxes, [4]float64{round2(b[0] * sx), round2(b[1] * sy), round2(b[2] * sx), round2(b[3] * sy)})
	}
	return q, nil
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Crop returns views of r in every plane; boxes are shifted and clipped,
// and those left outside the crop are dropped.
func (p Planes) Crop(r image.Rectangle) Planes {
	reg := func(m gocv.Mat) gocv.Mat {
		if !present(m) {
			return gocv.Mat{}
		}
		return m.Region(r)
	}
	q := Planes{Image: reg(p.Image), Mask: reg(p.Mask), Alpha: reg(p.Alpha), Instances: reg(p.Instances), Trimap: reg(p.Trimap), owned: true}
	for _, b := range p.Boxes {
		x0, y0 := math.Max(b[0], float64(r.Min.X)), math.Max(b[1], float64(r.Min.Y))
		x1, y1 := math.Min(b[2], float64(r.Max.X-1)), math.Min(b[3], float64(r.Max.Y-1))
		if x0 <= x1 && y0 <= y1 {
			q.Boxes = append(q.Boxes, [4]float64{x0 - float64(r.Min.X), y0 - float64(r.Min.Y), x1 - float64(r.Min.X), y1 - float64(r.Min.Y)})
		}
	}
	return q
}

// Foreground counts the mask's non-zero pixels.
func (p Planes) Foreground() int { return gocv.CountNonZero(p.Mask) }

// Close releases the planes made by Resize or Crop; it does nothing for a
// SourceSample's own planes.
func (p Planes) Close() {
	if p.owned {
		p.release()
	}
}

func (p Planes) release() {
	for _, m := range []gocv.Mat{p.Image, p.Mask, p.Alpha, p.Instances, p.Trimap} {
		if m.Ptr() != nil {
			m.Close()
		}
	}
}
