package augment

import (
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"gocv.io/x/gocv"
)

// Geometric ops move image, mask, alpha and trimap together. The image
// (and alpha) interpolate linearly by default; mask and trimap use nearest
// neighbour and fill 0, so they keep only their original values (0/255 and
// 0/128/255).

// role says how a Mat of a sample is resampled.
type role int

const (
	roleImage role = iota
	roleAlpha      // interpolated like the image, filled with 0
	roleLabel      // nearest neighbour, filled with 0
)

// transform replaces every present Mat of s with f's output.
func transform(s *Sample, f func(src gocv.Mat, dst *gocv.Mat, r role)) {
	for _, m := range []struct {
		m *gocv.Mat
		r role
	}{{&s.Image, roleImage}, {&s.Mask, roleLabel}, {&s.Alpha, roleAlpha}, {&s.Trimap, roleLabel}} {
		if !present(m.m) {
			continue
		}
		dst := gocv.NewMat()
		f(*m.m, &dst, m.r)
		replace(m.m, dst)
	}
}

func borderModes() []string {
	return []string{"constant", "reflect", "reflect101", "replicate", "wrap"}
}

func borderType(name string) gocv.BorderType {
	switch name {
	case "reflect":
		return gocv.BorderReflect
	case "reflect101":
		return gocv.BorderReflect101
	case "replicate":
		return gocv.BorderReplicate
	case "wrap":
		return gocv.BorderWrap
	}
	return gocv.BorderConstant
}

// nearestExact is cv::INTER_NEAREST_EXACT, which samples pixel centres as
// INTER_LINEAR does (plain INTER_NEAREST is shifted by half a pixel when
// resizing); gocv 0.31 has no name for it.
const nearestExact gocv.InterpolationFlags = 6

type flip struct {
	name string
	code int
}

// newFlipLR: fliplr mirrors left-right (imgaug Fliplr). Parameters: p only.
func newFlipLR(a *Args) (Op, error) { return flip{a.Op(), 1}, nil }

// newFlipUD: flipud mirrors top-bottom (imgaug Flipud). Parameters: p only.
func newFlipUD(a *Args) (Op, error) { return flip{a.Op(), 0}, nil }

func (o flip) Apply(s *Sample, _ *rand.Rand, log []Applied) ([]Applied, error) {
	transform(s, func(src gocv.Mat, dst *gocv.Mat, _ role) { gocv.Flip(src, dst, o.code) })
	return append(log, Applied{Op: o.name}), nil
}

type affine struct {
	name                               string
	rotate, scale, tx, ty, shear, fill Param
	border                             Enum
}

// newAffine: affine rotates, scales, shears and translates about the image
// centre, keeping the image size (imgaug Affine). rotate: degrees, positive
// turns clockwise (default 0); scale: factor > 0 (default 1); translate_x,
// translate_y: fractions of width and height (default 0); shear: degrees
// along x (default 0); border: image border mode, constant, reflect,
// reflect101, replicate or wrap, or a list to choose from (default
// constant); fill: the image's constant border grey (default 0). Labels are
// always filled with 0, as in imgaug.
func newAffine(a *Args) (Op, error) {
	o := &affine{name: a.Op()}
	var err error
	for _, f := range []struct {
		key      string
		dst      *Param
		def      Param
		min, max float64
	}{
		{"rotate", &o.rotate, Const(0), -360, 360},
		{"scale", &o.scale, Const(1), 0.01, 100},
		{"translate_x", &o.tx, Const(0), -1, 1},
		{"translate_y", &o.ty, Const(0), -1, 1},
		{"shear", &o.shear, Const(0), -80, 80},
	} {
		if *f.dst, err = a.Float(f.key, f.def, f.min, f.max); err != nil {
			return nil, err
		}
	}
	return o, o.borderArgs(a)
}

func (o *affine) borderArgs(a *Args) error {
	var err error
	if o.border, err = a.Enum("border", "constant", borderModes()...); err != nil {
		return err
	}
	o.fill, err = a.Int("fill", Const(0), 0, 255)
	return err
}

// newRotate: rotate turns the image about its centre by angle degrees,
// positive clockwise (default [-10, 10]); border and fill as in affine.
func newRotate(a *Args) (Op, error) {
	o := &affine{name: a.Op(), scale: Const(1)}
	var err error
	if o.rotate, err = a.Float("angle", Uniform(-10, 10), -360, 360); err != nil {
		return nil, err
	}
	return o, o.borderArgs(a)
}

func (o *affine) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	deg, scale := o.rotate.Draw(rng), o.scale.Draw(rng)
	tx, ty, shear := o.tx.Draw(rng), o.ty.Draw(rng), o.shear.Draw(rng)
	border, fill := o.border.Draw(rng), o.fill.DrawInt(rng)
	rows, cols := s.Image.Rows(), s.Image.Cols()
	// dst = T(c + t) · R · Shear · S · T(-c), c the centre in pixel units.
	sin, cos := math.Sincos(deg * math.Pi / 180)
	k := math.Tan(shear * math.Pi / 180)
	a00, a01 := cos*scale, (cos*k-sin)*scale
	a10, a11 := sin*scale, (sin*k+cos)*scale
	cx, cy := float64(cols-1)/2, float64(rows-1)/2
	m := gocv.NewMatWithSize(2, 3, gocv.MatTypeCV64F)
	defer m.Close()
	m.SetDoubleAt(0, 0, a00)
	m.SetDoubleAt(0, 1, a01)
	m.SetDoubleAt(0, 2, cx+tx*float64(cols)-a00*cx-a01*cy)
	m.SetDoubleAt(1, 0, a10)
	m.SetDoubleAt(1, 1, a11)
	m.SetDoubleAt(1, 2, cy+ty*float64(rows)-a10*cx-a11*cy)
	size := image.Pt(cols, rows)
	g := uint8(fill)
	transform(s, func(src gocv.Mat, dst *gocv.Mat, r role) {
		switch r {
		case roleImage:
			gocv.WarpAffineWithParams(src, dst, m, size, gocv.InterpolationLinear, borderType(border), color.RGBA{g, g, g, 0})
		case roleAlpha:
			gocv.WarpAffineWithParams(src, dst, m, size, gocv.InterpolationLinear, gocv.BorderConstant, color.RGBA{})
		default:
			gocv.WarpAffineWithParams(src, dst, m, size, gocv.InterpolationNearestNeighbor, gocv.BorderConstant, color.RGBA{})
		}
	})
	params := map[string]any{"angle": deg, "border": border, "fill": fill}
	if o.name == "affine" {
		params = map[string]any{"rotate": deg, "scale": scale, "translate_x": tx, "translate_y": ty,
			"shear": shear, "border": border, "fill": fill}
	}
	return append(log, Applied{Op: o.name, Params: params}), nil
}

type randomCrop struct {
	name          string
	width, height Param
	scale, aspect Param
	bySize        bool
	center        Enum
}

// newRandomCrop: random_crop cuts a window out of the sample (imgaug
// CropToFixedSize; torchvision RandomResizedCrop without the resize). Give
// either width and height in pixels, or scale, the window's area as a
// fraction of the image's (default [0.5, 1]), with aspect, its width/height
// ratio relative to the image's (default 1). A window larger than the image
// is cut to it; follow with pad_to or resize for a fixed output size.
// center: random places the window uniformly; unknown centres it on a
// random trimap==128 pixel (0<alpha<255 without a trimap) when there is
// one, which keeps matting crops on the hair and edges (default random).
func newRandomCrop(a *Args) (Op, error) {
	o := &randomCrop{name: a.Op(), bySize: a.Has("width") || a.Has("height")}
	var err error
	if o.bySize {
		if a.Has("scale") || a.Has("aspect") {
			return nil, a.Errorf("scale", "%w: give width and height, or scale and aspect, not both", ErrBadValue)
		}
		if !a.Has("width") || !a.Has("height") {
			return nil, a.Errorf("width", "%w: width and height go together", ErrBadValue)
		}
		if o.width, err = a.Int("width", Const(0), 1, 1<<16); err != nil {
			return nil, err
		}
		if o.height, err = a.Int("height", Const(0), 1, 1<<16); err != nil {
			return nil, err
		}
	} else {
		if o.scale, err = a.Float("scale", Uniform(0.5, 1), 1e-4, 1); err != nil {
			return nil, err
		}
		if o.aspect, err = a.Float("aspect", Const(1), 0.01, 100); err != nil {
			return nil, err
		}
	}
	if o.center, err = a.Enum("center", "random", "random", "unknown"); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *randomCrop) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	rows, cols := s.Image.Rows(), s.Image.Cols()
	var w, h int
	if o.bySize {
		w, h = o.width.DrawInt(rng), o.height.DrawInt(rng)
	} else {
		area := o.scale.Draw(rng) * float64(rows*cols)
		ratio := o.aspect.Draw(rng) * float64(cols) / float64(rows)
		w, h = int(math.Round(math.Sqrt(area*ratio))), int(math.Round(math.Sqrt(area/ratio)))
	}
	w, h = max(1, min(w, cols)), max(1, min(h, rows))
	x, y := rng.IntN(cols-w+1), rng.IntN(rows-h+1)
	centred := false
	if o.center.Draw(rng) == "unknown" {
		if cx, cy, ok := unknownPixel(s, rng); ok {
			x, y = min(max(cx-w/2, 0), cols-w), min(max(cy-h/2, 0), rows-h)
			centred = true
		}
	}
	rect := image.Rect(x, y, x+w, y+h)
	transform(s, func(src gocv.Mat, dst *gocv.Mat, _ role) {
		// Region shares src's data; the clone owns a continuous copy.
		r := src.Region(rect)
		r.CopyTo(dst)
		r.Close()
	})
	return append(log, Applied{Op: o.name, Params: map[string]any{
		"x": x, "y": y, "width": w, "height": h, "on_unknown": centred,
	}}), nil
}

// unknownPixel picks a uniformly random trimap==128 pixel, or 0<alpha<255
// pixel when there is no trimap.
func unknownPixel(s *Sample, rng *rand.Rand) (x, y int, ok bool) {
	m, isTrimap := &s.Trimap, true
	if !present(m) {
		m, isTrimap = &s.Alpha, false
	}
	if !present(m) {
		return 0, 0, false
	}
	px, err := m.DataPtrUint8()
	if err != nil {
		return 0, 0, false
	}
	unknown := func(v byte) bool { return v == 128 }
	if !isTrimap {
		unknown = func(v byte) bool { return v != 0 && v != 255 }
	}
	n := 0
	for _, v := range px {
		if unknown(v) {
			n++
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	k := rng.IntN(n)
	for i, v := range px {
		if unknown(v) {
			if k == 0 {
				return i % m.Cols(), i / m.Cols(), true
			}
			k--
		}
	}
	return 0, 0, false
}

type resize struct {
	name          string
	width, height Param
	interp        Enum
}

func interpolation(name string) gocv.InterpolationFlags {
	switch name {
	case "nearest":
		return nearestExact
	case "cubic":
		return gocv.InterpolationCubic
	case "area":
		return gocv.InterpolationArea
	}
	return gocv.InterpolationLinear
}

// newResize: resize scales to width x height pixels; give one of them to
// keep the aspect ratio. interpolation: for image and alpha, linear, area,
// cubic or nearest (default linear); mask and trimap use nearest.
func newResize(a *Args) (Op, error) {
	o := &resize{name: a.Op()}
	if !a.Has("width") && !a.Has("height") {
		return nil, a.Errorf("width", "%w: give width, height or both", ErrBadValue)
	}
	var err error
	if o.width, err = a.Int("width", Const(0), 1, 1<<16); err != nil {
		return nil, err
	}
	if o.height, err = a.Int("height", Const(0), 1, 1<<16); err != nil {
		return nil, err
	}
	o.interp, err = a.Enum("interpolation", "linear", "linear", "area", "cubic", "nearest")
	return o, err
}

func (o *resize) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	rows, cols := s.Image.Rows(), s.Image.Cols()
	w, h := o.width.DrawInt(rng), o.height.DrawInt(rng)
	switch {
	case w == 0:
		w = max(1, int(math.Round(float64(h*cols)/float64(rows))))
	case h == 0:
		h = max(1, int(math.Round(float64(w*rows)/float64(cols))))
	}
	interp := o.interp.Draw(rng)
	size := image.Pt(w, h)
	transform(s, func(src gocv.Mat, dst *gocv.Mat, r role) {
		f := interpolation(interp)
		if r == roleLabel {
			f = nearestExact
		}
		gocv.Resize(src, dst, size, 0, 0, f)
	})
	return append(log, Applied{Op: o.name, Params: map[string]any{"width": w, "height": h, "interpolation": interp}}), nil
}

type padTo struct {
	name          string
	width, height Param
	position      Enum
	border        Enum
	fill          Param
}

// newPadTo: pad_to pads to at least width x height pixels (imgaug
// PadToFixedSize); a side already as large stays. position: center or
// random placement of the image (default center); border and fill as in
// affine, labels padded with 0.
func newPadTo(a *Args) (Op, error) {
	o := &padTo{name: a.Op()}
	var err error
	if o.width, err = a.Int("width", Const(1), 1, 1<<16); err != nil {
		return nil, err
	}
	if o.height, err = a.Int("height", Const(1), 1, 1<<16); err != nil {
		return nil, err
	}
	if o.position, err = a.Enum("position", "center", "center", "random"); err != nil {
		return nil, err
	}
	if o.border, err = a.Enum("border", "constant", borderModes()...); err != nil {
		return nil, err
	}
	o.fill, err = a.Int("fill", Const(0), 0, 255)
	return o, err
}

func (o *padTo) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	rows, cols := s.Image.Rows(), s.Image.Cols()
	dw, dh := max(0, o.width.DrawInt(rng)-cols), max(0, o.height.DrawInt(rng)-rows)
	left, top := dw/2, dh/2
	if o.position.Draw(rng) == "random" {
		left, top = rng.IntN(dw+1), rng.IntN(dh+1)
	}
	border, fill := o.border.Draw(rng), o.fill.DrawInt(rng)
	params := map[string]any{"top": top, "bottom": dh - top, "left": left, "right": dw - left, "border": border, "fill": fill}
	if dw == 0 && dh == 0 {
		return append(log, Applied{Op: o.name, Params: params}), nil
	}
	g := uint8(fill)
	transform(s, func(src gocv.Mat, dst *gocv.Mat, r role) {
		if r == roleImage {
			gocv.CopyMakeBorder(src, dst, top, dh-top, left, dw-left, borderType(border), color.RGBA{g, g, g, 0})
		} else {
			gocv.CopyMakeBorder(src, dst, top, dh-top, left, dw-left, gocv.BorderConstant, color.RGBA{})
		}
	})
	return append(log, Applied{Op: o.name, Params: params}), nil
}
