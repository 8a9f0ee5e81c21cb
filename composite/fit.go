package composite

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Fit says how a background photo is brought to the canvas size.
type Fit string

// Fits.
const (
	// CoverRandom scales up only a background smaller than the canvas (as
	// CoverTopLeft does), then crops at a random offset.
	CoverRandom Fit = "cover-random"
	// CoverTopLeft is the Composition-1k rule (Xu et al. 2017): a smaller
	// background is scaled up by max(W/bw, H/bh), sizes rounded up, bicubic;
	// then the canvas is cut from the top-left corner.
	CoverTopLeft Fit = "cover-topleft"
	// Stretch resizes to the canvas, ignoring the aspect ratio.
	Stretch Fit = "stretch"
)

// BgPlacement records how the background was made.
type BgPlacement struct {
	Fit Fit `json:"fit,omitempty"` // empty for a procedural pattern
	// SrcW, SrcH: the background file's size.
	SrcW int `json:"src_w,omitempty"`
	SrcH int `json:"src_h,omitempty"`
	// W, H: its size after scaling, before the crop.
	W int `json:"w,omitempty"`
	H int `json:"h,omitempty"`
	// X, Y: the crop's top-left corner in the scaled background.
	X int `json:"x"`
	Y int `json:"y"`
	// Blur is the Gaussian sigma applied after fitting (0: none).
	Blur float64 `json:"blur,omitempty"`
}

// fitBackground returns a new canvas-size copy of src per the fit rule. It
// always makes two draws, whatever the rule.
func fitBackground(src gocv.Mat, canvasW, canvasH int, fit Fit, r *stream) (gocv.Mat, BgPlacement, error) {
	uX, uY := r.float(), r.float()
	bw, bh := src.Cols(), src.Rows()
	rec := BgPlacement{Fit: fit, SrcW: bw, SrcH: bh, W: bw, H: bh}
	if fit == Stretch {
		interp := gocv.InterpolationCubic
		if canvasW <= bw && canvasH <= bh {
			interp = gocv.InterpolationArea
		}
		out := gocv.NewMat()
		gocv.Resize(src, &out, image.Pt(canvasW, canvasH), 0, 0, interp)
		rec.W, rec.H = canvasW, canvasH
		return out, rec, nil
	}
	// Same float arithmetic as the Composition-1k script, so sizes match it.
	ratio := math.Max(float64(canvasW)/float64(bw), float64(canvasH)/float64(bh))
	scaled := src
	if ratio > 1 {
		rec.W, rec.H = int(math.Ceil(float64(bw)*ratio)), int(math.Ceil(float64(bh)*ratio))
		scaled = gocv.NewMat()
		defer scaled.Close()
		gocv.Resize(src, &scaled, image.Pt(rec.W, rec.H), 0, 0, gocv.InterpolationCubic)
	}
	switch fit {
	case CoverRandom:
		rec.X, rec.Y = pick(uX, rec.W-canvasW), pick(uY, rec.H-canvasH)
	case CoverTopLeft:
	default:
		return gocv.Mat{}, rec, fmt.Errorf("unknown fit %q", fit)
	}
	region := scaled.Region(image.Rect(rec.X, rec.Y, rec.X+canvasW, rec.Y+canvasH))
	defer region.Close()
	return region.Clone(), rec, nil
}
