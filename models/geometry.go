package models

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Fit says how an image is brought to the model's input size.
type Fit string

// Fits.
const (
	// FitResize stretches the image to the input size (OpenCV linear), as
	// the training code of the presets did. The default.
	FitResize Fit = "resize"
	// FitLetterbox scales the image to fit inside the input keeping its
	// aspect, centred, and pads with black.
	FitLetterbox Fit = "letterbox"
	// FitPad places the image unscaled, centred, and pads with black; an
	// image larger than the input is scaled down as FitLetterbox does. Tiles
	// smaller than the model use it.
	FitPad Fit = "pad"
)

// ParseFit checks a fit name; "" means FitResize.
func ParseFit(s string) (Fit, error) {
	switch f := Fit(s); f {
	case "":
		return FitResize, nil
	case FitResize, FitLetterbox, FitPad:
		return f, nil
	}
	return "", fmt.Errorf("fit %q: want resize, letterbox or pad", s)
}

// Placement says where a SrcW x SrcH image lies in an InW x InH model
// input: it is resized to W x H and occupies the rectangle at (X, Y).
type Placement struct {
	SrcW, SrcH int
	InW, InH   int
	X, Y, W, H int
}

// Rect is the image's rectangle in the model input.
func (p Placement) Rect() image.Rectangle { return image.Rect(p.X, p.Y, p.X+p.W, p.Y+p.H) }

// Covers reports whether the image fills the whole model input.
func (p Placement) Covers() bool { return p.X == 0 && p.Y == 0 && p.W == p.InW && p.H == p.InH }

func (p Placement) check() error {
	if p.SrcW <= 0 || p.SrcH <= 0 || p.InW <= 0 || p.InH <= 0 || p.W <= 0 || p.H <= 0 ||
		p.X < 0 || p.Y < 0 || p.X+p.W > p.InW || p.Y+p.H > p.InH {
		return fmt.Errorf("placement %+v: the image rectangle is empty or outside the model input", p)
	}
	return nil
}

// Place computes the placement of a srcW x srcH image in an inW x inH
// model input. Any fit other than letterbox or pad resizes.
func Place(fit Fit, srcW, srcH, inW, inH int) Placement {
	p := Placement{SrcW: srcW, SrcH: srcH, InW: inW, InH: inH, W: inW, H: inH}
	if srcW <= 0 || srcH <= 0 || inW <= 0 || inH <= 0 {
		return p
	}
	switch fit {
	case FitLetterbox, FitPad:
		if fit == FitPad && srcW <= inW && srcH <= inH {
			p.W, p.H = srcW, srcH
		} else {
			scale := math.Min(float64(inW)/float64(srcW), float64(inH)/float64(srcH))
			p.W = min(inW, max(1, int(math.Round(float64(srcW)*scale))))
			p.H = min(inH, max(1, int(math.Round(float64(srcH)*scale))))
		}
		p.X, p.Y = (inW-p.W)/2, (inH-p.H)/2
	}
	return p
}

// Restore cuts p's rectangle out of an InW x InH probability plane and
// resizes it (OpenCV linear) to dstW x dstH, the ground truth's size.
func Restore(prob []float32, p Placement, dstW, dstH int) ([]float32, error) {
	if err := p.check(); err != nil {
		return nil, err
	}
	if len(prob) != p.InW*p.InH {
		return nil, fmt.Errorf("restore: probability plane has %d values, want %dx%d", len(prob), p.InW, p.InH)
	}
	if dstW <= 0 || dstH <= 0 {
		return nil, fmt.Errorf("restore: target size %dx%d", dstW, dstH)
	}
	out := make([]float32, dstW*dstH)
	if p.W == dstW && p.H == dstH {
		for y := range p.H {
			o := (p.Y+y)*p.InW + p.X
			copy(out[y*dstW:(y+1)*dstW], prob[o:o+p.W])
		}
		return out, nil
	}
	src := gocv.NewMatWithSize(p.H, p.W, gocv.MatTypeCV32FC1)
	defer src.Close()
	sp, err := src.DataPtrFloat32()
	if err != nil {
		return nil, err
	}
	for y := range p.H {
		o := (p.Y+y)*p.InW + p.X
		copy(sp[y*p.W:(y+1)*p.W], prob[o:o+p.W])
	}
	dst := gocv.NewMat()
	defer dst.Close()
	gocv.Resize(src, &dst, image.Pt(dstW, dstH), 0, 0, gocv.InterpolationLinear)
	dp, err := dst.DataPtrFloat32()
	if err != nil {
		return nil, err
	}
	if len(dp) != len(out) {
		return nil, fmt.Errorf("restore: resize gave %d values, want %d", len(dp), len(out))
	}
	copy(out, dp)
	return out, nil
}
