package models

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Normalize returns the model input value of 8-bit value p in model
// channel c: ((p*Scale - Mean[c]) / Std[c]) * PostScale, in float64 and
// rounded once to float32. A Scale or PostScale that is the float32 of 1/k
// for an integer k divides by k, so 1/255 (0.003921569 in YAML) is exact
// and p = 255 maps to exactly 1 as in the references' p / 255.0.
func (s Spec) Normalize(c int, p uint8) float32 {
	x := scaled(float64(p), s.Scale)
	return float32(scaled((x-float64(s.Mean[c]))/float64(s.Std[c]), s.PostScale))
}

// scaled returns x*v, or x/k when v is the float32 nearest 1/k for an
// integer k >= 2.
func scaled(x float64, v float32) float64 {
	if v > 0 && v < 1 {
		k := math.Round(1 / float64(v))
		if k >= 2 && float32(1/k) == v {
			return x / k
		}
	}
	return x * float64(v)
}

// lut tabulates Normalize for every 8-bit value of each model channel, so
// the per-pixel work is three table reads.
func (s Spec) lut() *[3][256]float32 {
	var t [3][256]float32
	for c := range 3 {
		for p := range 256 {
			t[c][p] = s.Normalize(c, uint8(p))
		}
	}
	return &t
}

// Preprocess resizes img (8-bit BGR, as gocv.IMRead decodes it) per p with
// OpenCV linear interpolation and writes one input item (3*InW*InH values)
// into dst in s.Layout, channels in s.Order, normalised per the spec's
// formula. Input outside the image's rectangle (letterbox and pad fits)
// gets the normalised value of a black pixel.
func (s Spec) Preprocess(img gocv.Mat, p Placement, dst []float32) error {
	if err := p.check(); err != nil {
		return err
	}
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return fmt.Errorf("preprocess: image is %v with %d channels, want 8-bit BGR", img.Type(), img.Channels())
	}
	if img.Cols() != p.SrcW || img.Rows() != p.SrcH {
		return fmt.Errorf("preprocess: image is %dx%d, placement is for %dx%d", img.Cols(), img.Rows(), p.SrcW, p.SrcH)
	}
	if s.Width > 0 && (p.InW != s.Width || p.InH != s.Height) {
		return fmt.Errorf("preprocess: placement is for a %dx%d input, the spec's is %dx%d", p.InW, p.InH, s.Width, s.Height)
	}
	if len(dst) != 3*p.InW*p.InH {
		return fmt.Errorf("preprocess: destination holds %d values, want 3x%dx%d", len(dst), p.InW, p.InH)
	}
	if s.Layout != NCHW && s.Layout != NHWC {
		return fmt.Errorf("preprocess: layout %q, want NCHW or NHWC", s.Layout)
	}
	if s.Order != RGB && s.Order != BGR {
		return fmt.Errorf("preprocess: order %q, want RGB or BGR", s.Order)
	}

	src := img
	if p.W != p.SrcW || p.H != p.SrcH {
		resized := gocv.NewMat()
		defer resized.Close()
		gocv.Resize(img, &resized, image.Pt(p.W, p.H), 0, 0, gocv.InterpolationLinear)
		src = resized
	} else if !img.IsContinuous() {
		cont := img.Clone()
		defer cont.Close()
		src = cont
	}
	pix, err := src.DataPtrUint8()
	if err != nil {
		return err
	}
	if len(pix) != 3*p.W*p.H {
		return fmt.Errorf("preprocess: resized image holds %d bytes, want 3x%dx%d", len(pix), p.W, p.H)
	}

	t := s.lut()
	// mc[k] is the model channel that source (BGR) channel k feeds.
	mc := [3]int{0, 1, 2}
	if s.Order == RGB {
		mc = [3]int{2, 1, 0}
	}
	lb, lg, lr := &t[mc[0]], &t[mc[1]], &t[mc[2]]
	if s.Layout == NCHW {
		plane := p.InW * p.InH
		for y := range p.H {
			row := pix[y*p.W*3 : (y+1)*p.W*3]
			o := (p.Y+y)*p.InW + p.X
			db := dst[mc[0]*plane+o : mc[0]*plane+o+p.W]
			dg := dst[mc[1]*plane+o : mc[1]*plane+o+p.W]
			dr := dst[mc[2]*plane+o : mc[2]*plane+o+p.W]
			for x := range db {
				px := row[3*x : 3*x+3 : 3*x+3]
				db[x] = lb[px[0]]
				dg[x] = lg[px[1]]
				dr[x] = lr[px[2]]
			}
		}
	} else {
		// Constant indexes per order keep the inner loop free of bounds
		// checks.
		swap := s.Order == RGB
		for y := range p.H {
			row := pix[y*p.W*3 : (y+1)*p.W*3]
			o := ((p.Y+y)*p.InW + p.X) * 3
			d := dst[o : o+3*p.W]
			for x := 0; x+2 < len(row); x += 3 {
				px := row[x : x+3 : x+3]
				q := d[x : x+3 : x+3]
				if swap {
					q[0], q[1], q[2] = lr[px[2]], lg[px[1]], lb[px[0]]
				} else {
					q[0], q[1], q[2] = lb[px[0]], lg[px[1]], lr[px[2]]
				}
			}
		}
	}
	if !p.Covers() {
		s.fillPadding(p, dst, [3]float32{t[0][0], t[1][0], t[2][0]})
	}
	return nil
}

// fillPadding writes the black value of each model channel outside p's
// rectangle.
func (s Spec) fillPadding(p Placement, dst []float32, black [3]float32) {
	// spans lists the [from, to) pixel ranges of row y outside the image.
	spans := func(y int) [][2]int {
		if y < p.Y || y >= p.Y+p.H {
			return [][2]int{{0, p.InW}}
		}
		return [][2]int{{0, p.X}, {p.X + p.W, p.InW}}
	}
	plane := p.InW * p.InH
	for y := range p.InH {
		for _, sp := range spans(y) {
			if sp[0] >= sp[1] {
				continue
			}
			a, b := y*p.InW+sp[0], y*p.InW+sp[1]
			if s.Layout == NCHW {
				for c := range 3 {
					fill(dst[c*plane+a:c*plane+b], black[c])
				}
				continue
			}
			d := dst[3*a : 3*b]
			for i := 0; i < len(d); i += 3 {
				d[i], d[i+1], d[i+2] = black[0], black[1], black[2]
			}
		}
	}
}

func fill(d []float32, v float32) {
	for i := range d {
		d[i] = v
	}
}
