package dataset

import (
	"image"
	"math"

	"gocv.io/x/gocv"
)

// samplePlanes are one sample's image and label planes, transformed
// together so they stay aligned. Empty Mats are absent planes.
type samplePlanes struct {
	img, mask, alpha, inst, tri gocv.Mat
	boxes                       [][4]float64
	owned                       bool
}

func present(m gocv.Mat) bool { return m.Ptr() != nil && !m.Empty() }

// resize scales every plane to size: the image with area interpolation
// when shrinking (it averages, so no aliasing) and linear when growing,
// the alpha linearly, and masks, instance ids and trimaps with nearest
// neighbour so their values stay in their sets. Boxes scale with the image.
func (p samplePlanes) resize(size image.Point) samplePlanes {
	sx := float64(size.X) / float64(p.img.Cols())
	sy := float64(size.Y) / float64(p.img.Rows())
	interp := gocv.InterpolationArea
	if sx > 1 || sy > 1 {
		interp = gocv.InterpolationLinear
	}
	rs := func(m gocv.Mat, in gocv.InterpolationFlags) gocv.Mat {
		if !present(m) {
			return gocv.Mat{}
		}
		out := gocv.NewMat()
		gocv.Resize(m, &out, size, 0, 0, in)
		return out
	}
	q := samplePlanes{
		img:   rs(p.img, interp),
		mask:  rs(p.mask, gocv.InterpolationNearestNeighbor),
		alpha: rs(p.alpha, gocv.InterpolationLinear),
		inst:  rs(p.inst, gocv.InterpolationNearestNeighbor),
		tri:   rs(p.tri, gocv.InterpolationNearestNeighbor),
		owned: true,
	}
	for _, b := range p.boxes {
		q.boxes = append(q.boxes, [4]float64{round2(b[0] * sx), round2(b[1] * sy), round2(b[2] * sx), round2(b[3] * sy)})
	}
	return q
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// crop returns views of r in every plane; boxes are shifted and clipped,
// and those left outside the crop are dropped.
func (p samplePlanes) crop(r image.Rectangle) samplePlanes {
	reg := func(m gocv.Mat) gocv.Mat {
		if !present(m) {
			return gocv.Mat{}
		}
		return m.Region(r)
	}
	q := samplePlanes{img: reg(p.img), mask: reg(p.mask), alpha: reg(p.alpha), inst: reg(p.inst), tri: reg(p.tri), owned: true}
	for _, b := range p.boxes {
		x0, y0 := math.Max(b[0], float64(r.Min.X)), math.Max(b[1], float64(r.Min.Y))
		x1, y1 := math.Min(b[2], float64(r.Max.X-1)), math.Min(b[3], float64(r.Max.Y-1))
		if x0 <= x1 && y0 <= y1 {
			q.boxes = append(q.boxes, [4]float64{x0 - float64(r.Min.X), y0 - float64(r.Min.Y), x1 - float64(r.Min.X), y1 - float64(r.Min.Y)})
		}
	}
	return q
}

func (p samplePlanes) close() {
	if !p.owned {
		return
	}
	for _, m := range []gocv.Mat{p.img, p.mask, p.alpha, p.inst, p.tri} {
		if m.Ptr() != nil {
			m.Close()
		}
	}
}
