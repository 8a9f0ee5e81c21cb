package apply

import (
	"context"
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/trimap"
)

// RefineOptions say how a model's probability becomes the alpha.
type RefineOptions struct {
	// Soft keeps the probability as the alpha; otherwise the
	// alpha is the mask p >= Threshold, 0 or 1.
	Soft bool
	// Threshold of the hard mask; 0 means 0.5.
	Threshold float32
	// Trimap refines the alpha inside the unknown band of a superpixel
	// trimap of the mask with a guided filter.
	Trimap bool
	// Radius is the guided filter's window radius r (side 2r+1); 0 means
	// DefaultRadius of the image.
	Radius int
	// Eps is the guided filter's regularisation ε, on colours scaled to
	// [0, 1]; 0 means DefaultEps.
	Eps float64
	// Iterations of the guided filter; 0 means DefaultIterations.
	Iterations int
	// Superpixels configure the trimap (trimap.FromSuperpixels); the zero
	// value gives its defaults.
	Superpixels trimap.SuperpixelOptions
	// Feather, in pixels, softens the alpha's edges last: a normalised box
	// filter of side 2·Feather+1 (0: off).
	Feather int
}

// DefaultEps is the guided filter's ε when none is given, for colours
// scaled to [0, 1]: small enough that the filter follows a colour edge
// (variance across one is around 1e-2), large enough to smooth flat
// regions. On the P3M/SINet check of DefaultRadius, ε = 1e-5 and 1e-4
// tie and 1e-2 is clearly worse.
const DefaultEps = 1e-4

// DefaultRadius is the guided filter's radius for a w x h image when none
// is given: 2 % of the shorter side, at least 2 (22 px at 1080p). A
// model run at 320 px and scaled up to 1080 misplaces edges by several
// pixels, and the window must reach across the error to the true edge: on
// the nine P3M portraits with SINet (mean |alpha error| over the
// reference matte's transition pixels, per image, averaged: 0.198 for the
// plain mask), one pass at radius 8, 16, 22 and 32 gave 0.174, 0.164,
// 0.160 and 0.156.
func DefaultRadius(w, h int) int { return max(2, int(math.Round(0.02*float64(min(w, h))))) }

// DefaultIterations is the number of guided-filter passes (see
// TrimapRefine). Each pass re-pins the trimap's known regions, so colour
// evidence spreads further into the band: on the P3M check of
// DefaultRadius (radius 22), 1, 2, 3, 5 and 8 passes gave 0.160, 0.154,
// 0.150, 0.146 and 0.145.
const DefaultIterations = 3

// Check reports bad options.
func (o RefineOptions) Check() error {
	switch {
	case !(o.Threshold >= 0 && o.Threshold <= 1):
		return fmt.Errorf("threshold %g: want 0..1", o.Threshold)
	case o.Radius < 0:
		return fmt.Errorf("guided filter radius %d: want >= 1 (0: automatic)", o.Radius)
	case !(o.Eps >= 0) || math.IsInf(o.Eps, 0):
		return fmt.Errorf("guided filter eps %g: want > 0 (0: the default %g)", o.Eps, DefaultEps)
	case o.Feather < 0:
		return fmt.Errorf("feather %d px: want >= 0", o.Feather)
	}
	return nil
}

// Refine turns a probability plane (one finite value per pixel of img)
// into the alpha: clamp to [0, 1]; the hard mask unless Soft; the trimap
// refinement when Trimap; the feather when Feather > 0. prob is not
// changed.
func Refine(ctx context.Context, img gocv.Mat, prob []float32, o RefineOptions) ([]float32, error) {
	w, h, err := checkPlanes(img, prob)
	if err != nil {
		return nil, err
	}
	if err := o.Check(); err != nil {
		return nil, err
	}
	t := o.Threshold
	if t == 0 {
		t = 0.5
	}
	alpha := make([]float32, len(prob))
	for i, p := range prob {
		switch {
		case !o.Soft && p >= t:
			alpha[i] = 1
		case !o.Soft:
		case p > 1:
			alpha[i] = 1
		case p > 0:
			alpha[i] = p
		}
	}
	if o.Trimap {
		alpha, _, err = TrimapRefine(ctx, img, alpha, t, o)
		if err != nil {
			return nil, err
		}
	}
	if o.Feather > 0 {
		alpha, err = Feather(alpha, w, h, o.Feather)
		if err != nil {
			return nil, err
		}
	}
	return alpha, nil
}

// TrimapRefine builds the superpixel trimap (Gupta & Raman 2017, see
// trimap.FromSuperpixels) of the mask alpha >= threshold and returns an
// alpha that is 1 in its foreground, 0 in its background and, in its
// unknown band, the guided filter of the alpha on the image (GuidedFilter,
// clamped to [0, 1]), repeated Iterations times with the known regions
// pinned to 0 and 1 before each pass. It also returns the trimap.
func TrimapRefine(ctx context.Context, img gocv.Mat, alpha []float32, threshold float32, o RefineOptions) ([]float32, trimap.Gray, error) {
	w, h, err := checkPlanes(img, alpha)
	if err != nil {
		return nil, trimap.Gray{}, err
	}
	mask := trimap.NewGray(w, h)
	for i, a := range alpha {
		if a >= threshold {
			mask.Pix[i] = 255
		}
	}
	im := trimap.Image{W: w, H: h, Pix: bgrBytes(img)}
	tri, _, err := trimap.FromSuperpixels(ctx, im, mask, o.Superpixels)
	if err != nil {
		return nil, trimap.Gray{}, fmt.Errorf("trimap: %w", err)
	}
	// The unknown band's bounding box bounds the guided filter's work.
	box := image.Rectangle{}
	for y := range h {
		row := tri.Pix[y*w : (y+1)*w]
		for x, v := range row {
			if v == trimap.Unknown {
				box = box.Union(image.Rect(x, y, x+1, y+1))
			}
		}
	}
	// Pin the known regions; the unknown band starts from the alpha.
	out := make([]float32, len(alpha))
	for i, v := range tri.Pix {
		switch v {
		case trimap.Foreground:
			out[i] = 1
		case trimap.Unknown:
			out[i] = alpha[i]
		}
	}
	if box.Empty() {
		return out, tri, nil
	}
	r := o.Radius
	if r == 0 {
		r = DefaultRadius(w, h)
	}
	eps := o.Eps
	if eps == 0 {
		eps = DefaultEps
	}
	iters := o.Iterations
	if iters == 0 {
		iters = DefaultIterations
	}
	for range iters {
		if err := ctx.Err(); err != nil {
			return nil, trimap.Gray{}, err
		}
		q, err := GuidedFilter(img, out, r, eps, box)
		if err != nil {
			return nil, trimap.Gray{}, err
		}
		for i, v := range tri.Pix {
			if v == trimap.Unknown {
				out[i] = min(max(q[i], 0), 1)
			}
		}
	}
	return out, tri, nil
}

// Feather blurs alpha (w x h) with a normalised box filter of side 2px+1
// (BORDER_REFLECT_101): a straight 0-to-1 step becomes a linear ramp
// across 2px+1 pixels, values k/(2px+1).
func Feather(alpha []float32, w, h, px int) ([]float32, error) {
	if len(alpha) != w*h || w <= 0 || h <= 0 {
		return nil, fmt.Errorf("feather: alpha has %d values for %dx%d", len(alpha), w, h)
	}
	if px <= 0 {
		return append([]float32(nil), alpha...), nil
	}
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV32FC1)
	defer m.Close()
	mp, err := m.DataPtrFloat32()
	if err != nil {
		return nil, err
	}
	copy(mp, alpha)
	out := gocv.NewMat()
	defer out.Close()
	gocv.BoxFilter(m, &out, -1, image.Pt(2*px+1, 2*px+1))
	op, err := out.DataPtrFloat32()
	if err != nil {
		return nil, err
	}
	return append([]float32(nil), op...), nil
}
