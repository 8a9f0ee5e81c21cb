package composite

import (
	"errors"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Position says where a foreground sits on the canvas.
type Position string

// Positions. Portraits usually stand on the bottom edge, hence the default.
const (
	Bottom Position = "bottom" // horizontally centred, bottom edge on the canvas's
	Center Position = "center"
	Random Position = "random" // uniform over the offsets that keep it inside (or covering) the canvas
)

// Placement records how one foreground was put on the canvas.
type Placement struct {
	Fg string `json:"fg"`
	// X, Y: canvas position of the placed cut-out's top-left corner; negative
	// or past the edge when it is larger than the canvas (it is clipped).
	X int `json:"x"`
	Y int `json:"y"`
	// W, H: the placed (scaled) cut-out size.
	W int `json:"w"`
	H int `json:"h"`
	// Scale is H over the cut-out's height.
	Scale float64 `json:"scale"`
	// Flip: mirrored left to right (after scaling).
	Flip bool `json:"flip"`
	// Shrunk: larger than the canvas with no scale range, so scaled down to
	// fit rather than rejected.
	Shrunk bool `json:"shrunk,omitempty"`
}

// rect is the placed cut-out's rectangle in canvas coordinates.
func (p Placement) rect() image.Rectangle { return image.Rect(p.X, p.Y, p.X+p.W, p.Y+p.H) }

// place draws one foreground's placement. It always makes the same four
// draws, so options change what a draw means, never which draw is which.
// A second foreground gets a random x whatever the position rule, so that
// two subjects stand apart rather than one exactly over the other.
func place(r *stream, id string, fg image.Point, canvasW, canvasH int, o Options, second bool) Placement {
	uScale, uFlip, uX, uY := r.float(), r.float(), r.float(), r.float()
	p := Placement{Fg: id, W: fg.X, H: fg.Y}
	switch {
	case o.ScaleHi > 0:
		s := o.ScaleLo + uScale*(o.ScaleHi-o.ScaleLo)
		p.H = max(1, int(math.Round(s*float64(canvasH))))
		p.W = max(1, int(math.Round(float64(fg.X)*float64(p.H)/float64(fg.Y))))
	case fg.X > canvasW || fg.Y > canvasH:
		f := math.Min(float64(canvasW)/float64(fg.X), float64(canvasH)/float64(fg.Y))
		p.W = min(canvasW, max(1, int(math.Round(f*float64(fg.X)))))
		p.H = min(canvasH, max(1, int(math.Round(f*float64(fg.Y)))))
		p.Shrunk = true
	}
	p.Scale = float64(p.H) / float64(fg.Y)
	p.Flip = o.Flip && uFlip < 0.5
	dx, dy := canvasW-p.W, canvasH-p.H
	switch o.Position {
	case Center:
		p.X, p.Y = floorHalf(dx), floorHalf(dy)
	case Random:
		p.X, p.Y = pick(uX, dx), pick(uY, dy)
	default: // Bottom
		p.X, p.Y = floorHalf(dx), dy
	}
	if second {
		p.X = pick(uX, dx)
	}
	return p
}

func floorHalf(d int) int { return int(math.Floor(float64(d) / 2)) }

// pick maps u in [0,1) to an integer between 0 and d inclusive (d may be
// negative: the cut-out is larger than the canvas).
func pick(u float64, d int) int {
	lo, hi := min(0, d), max(0, d)
	return lo + min(hi-lo, int(u*float64(hi-lo+1)))
}

// placeLayer renders fg at p into new canvas-size colour (8UC3) and alpha
// (8UC1) layers, zero outside it. Scaling resizes premultiplied colour, so
// the colour of transparent pixels (often black) cannot bleed into edges;
// it is bilinear down to half size and area-averaging below, where bilinear
// would alias (area costs about 7× more at fractional ratios).
func placeLayer(fg *Foreground, p Placement, canvasW, canvasH int) (layer, error) {
	src, prem := fg.bgra, false
	if sz := fg.Size(); p.W != sz.X || p.H != sz.Y {
		pm := premultiply(fg.bgra)
		defer pm.Close()
		rs := gocv.NewMat()
		defer rs.Close()
		gocv.Resize(pm, &rs, image.Pt(p.W, p.H), 0, 0, resizeInterp(p.W, sz.X))
		src, prem = rs, true
	}
	l := layer{
		f: gocv.NewMatWithSizeFromScalar(gocv.Scalar{}, canvasH, canvasW, gocv.MatTypeCV8UC3),
		a: gocv.NewMatWithSizeFromScalar(gocv.Scalar{}, canvasH, canvasW, gocv.MatTypeCV8UC1),
	}
	s, err1 := src.DataPtrUint8()
	fd, err2 := l.f.DataPtrUint8()
	ad, err3 := l.a.DataPtrUint8()
	if err := errors.Join(err1, err2, err3); err != nil {
		l.close()
		return layer{}, err
	}
	vis := p.rect().Intersect(image.Rect(0, 0, canvasW, canvasH))
	for y := vis.Min.Y; y < vis.Max.Y; y++ {
		row := (y - p.Y) * p.W
		for x := vis.Min.X; x < vis.Max.X; x++ {
			sx := x - p.X
			if p.Flip {
				sx = p.W - 1 - sx
			}
			si, di := 4*(row+sx), y*canvasW+x
			a := s[si+3]
			ad[di] = a
			switch {
			case a == 0:
			case prem && a != 255:
				for c := 0; c < 3; c++ {
					fd[3*di+c] = uint8(min(255, (int(s[si+c])*255+int(a)/2)/int(a)))
				}
			default:
				fd[3*di], fd[3*di+1], fd[3*di+2] = s[si], s[si+1], s[si+2]
			}
		}
	}
	return l, nil
}

// resizeInterp picks the interpolation for scaling a width from to w.
func resizeInterp(w, from int) gocv.InterpolationFlags {
	if 2*w < from {
		return gocv.InterpolationArea
	}
	return gocv.InterpolationLinear
}

// premultiply returns a copy of straight BGRA with colour multiplied by alpha.
func premultiply(m gocv.Mat) gocv.Mat {
	out := gocv.NewMatWithSize(m.Rows(), m.Cols(), gocv.MatTypeCV8UC4)
	s, _ := m.DataPtrUint8()
	d, _ := out.DataPtrUint8()
	d = d[:len(s)]
	for i := 0; i+4 <= len(s); i += 4 {
		px, q := s[i:i+4:i+4], d[i:i+4:i+4]
		switch a := uint32(px[3]); a {
		case 0:
			q[0], q[1], q[2], q[3] = 0, 0, 0, 0
		case 255:
			q[0], q[1], q[2], q[3] = px[0], px[1], px[2], 255
		default:
			q[0] = uint8((uint32(px[0])*a + 127) / 255)
			q[1] = uint8((uint32(px[1])*a + 127) / 255)
			q[2] = uint8((uint32(px[2])*a + 127) / 255)
			q[3] = px[3]
		}
	}
	return out
}
