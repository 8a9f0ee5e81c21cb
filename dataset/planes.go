package dataset

import (
	"fmt"
	"image"
	"image/color"
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
	// FG and BG are a matting source's colour layers (a video-matting
	// clip's fgr/ and bgr/ frames), BGR like Image and moved with it.
	FG, BG gocv.Mat
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
		{&q.FG, p.FG, interp},
		{&q.BG, p.BG, interp},
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

// ResizeMode is how Fit reaches a size whose aspect ratio differs from the
// planes'.
type ResizeMode string

const (
	// ResizePad scales to fit inside the size, keeping the aspect ratio,
	// and centres the result on zeros: black image, background labels.
	ResizePad ResizeMode = "pad"
	// ResizeCrop scales to cover the size, keeping the aspect ratio, and
	// keeps the centre.
	ResizeCrop ResizeMode = "crop"
	// ResizeStretch scales each axis on its own (Resize).
	ResizeStretch ResizeMode = "stretch"
)

// ResizeModes are the modes Fit knows, the default first.
func ResizeModes() []ResizeMode { return []ResizeMode{ResizePad, ResizeCrop, ResizeStretch} }

// Fit returns planes of exactly size, made with mode when the aspect ratio
// differs ("" is ResizePad), and a note for the sample saying what was done
// ("padded from 400x400"); with the same aspect ratio it is Resize and the
// note is empty. The result owns its Mats.
//
// Pad: scale s = min(W/w, H/h), inner size round(w*s) x round(h*s), placed
// at ((W-iw)/2, (H-ih)/2), boxes scaled and shifted. Crop: s = max(W/w,
// H/h), the centre W x H kept, boxes clipped to it (Crop).
func (p Planes) Fit(size image.Point, mode ResizeMode) (Planes, string, error) {
	from := p.Size()
	if from.X*size.Y == from.Y*size.X {
		r, err := p.Resize(size)
		return r, "", err
	}
	note := fmt.Sprintf("from %dx%d", from.X, from.Y)
	sx, sy := float64(size.X)/float64(from.X), float64(size.Y)/float64(from.Y)
	scaled := func(s float64) image.Point {
		return image.Pt(max(1, int(math.Round(float64(from.X)*s))), max(1, int(math.Round(float64(from.Y)*s))))
	}
	if mode == ResizeStretch {
		r, err := p.Resize(size)
		return r, "stretched " + note, err
	}
	// Crop scales to cover the size, pad to fit inside it.
	var inner image.Point
	if mode == ResizeCrop {
		inner = scaled(math.Max(sx, sy))
		inner = image.Pt(max(inner.X, size.X), max(inner.Y, size.Y))
	} else {
		inner = scaled(math.Min(sx, sy))
		inner = image.Pt(min(inner.X, size.X), min(inner.Y, size.Y))
	}
	r, err := p.Resize(inner)
	if err != nil {
		return Planes{}, "", err
	}
	defer r.Close()
	if mode == ResizeCrop {
		x0, y0 := (inner.X-size.X)/2, (inner.Y-size.Y)/2
		c := r.Crop(image.Rect(x0, y0, x0+size.X, y0+size.Y))
		defer c.Close()
		q := c.each(func(m gocv.Mat) gocv.Mat { return m.Clone() })
		q.Boxes = c.Boxes
		return q, "cropped " + note, nil
	}
	left, top := (size.X-inner.X)/2, (size.Y-inner.Y)/2
	right, bottom := size.X-inner.X-left, size.Y-inner.Y-top
	q := r.each(func(m gocv.Mat) gocv.Mat {
		out := gocv.NewMat()
		gocv.CopyMakeBorder(m, &out, top, bottom, left, right, gocv.BorderConstant, color.RGBA{})
		return out
	})
	for _, b := range r.Boxes {
		q.Boxes = append(q.Boxes, [4]float64{b[0] + float64(left), b[1] + float64(top), b[2] + float64(left), b[3] + float64(top)})
	}
	return q, "padded " + note, nil
}

// each is f applied to every present plane, absent planes left empty, in
// planes that own the results; boxes are the caller's to set.
func (p Planes) each(f func(gocv.Mat) gocv.Mat) Planes {
	g := func(m gocv.Mat) gocv.Mat {
		if !present(m) {
			return gocv.Mat{}
		}
		return f(m)
	}
	return Planes{Image: g(p.Image), Mask: g(p.Mask), Alpha: g(p.Alpha), Instances: g(p.Instances), Trimap: g(p.Trimap),
		FG: g(p.FG), BG: g(p.BG), owned: true}
}

func round2(v float64) float64 { return math.Round(v*100) / 100 }

// Crop returns views of r in every plane; boxes are shifted and clipped,
// and those left outside the crop are dropped.
func (p Planes) Crop(r image.Rectangle) Planes {
	q := p.each(func(m gocv.Mat) gocv.Mat { return m.Region(r) })
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
	for _, m := range []gocv.Mat{p.Image, p.Mask, p.Alpha, p.Instances, p.Trimap, p.FG, p.BG} {
		if m.Ptr() != nil {
			m.Close()
		}
	}
}
