package trimap

import (
	"fmt"
	"hash/fnv"
	"image"
	"math/bits"

	"gocv.io/x/gocv"
)

// DefaultMorphWidth is the erosion width of [MorphOptions] when none is
// given.
const DefaultMorphWidth = 10

// MorphOptions choose the erosion widths of [Morphological] for a sample:
// either one fixed width for both sides, or, as in matting training code
// (Deep Image Matting, Xu et al. 2017, and its successors), a random width
// per sample and per side, drawn uniformly from [MinWidth, MaxWidth].
type MorphOptions struct {
	// Width is the fixed width in pixels, used when MaxWidth is 0. 0 means
	// DefaultMorphWidth.
	Width int
	// MinWidth and MaxWidth, when MaxWidth > 0, give the inclusive range
	// of random widths (0 <= MinWidth <= MaxWidth).
	MinWidth, MaxWidth int
	// Seed seeds the random widths: the draw is a pure function of
	// (Seed, sample id), whatever the order or concurrency of the calls.
	Seed uint64
}

// MorphWidths returns the foreground and background erosion widths for
// the sample with the given id (a file name, say).
func MorphWidths(opt MorphOptions, sampleID string) (fgWidth, bgWidth int, err error) {
	if opt.MaxWidth == 0 {
		w := opt.Width
		if w == 0 {
			w = DefaultMorphWidth
		}
		if w < 0 {
			return 0, 0, fmt.Errorf("%w: width %d", ErrBadInput, w)
		}
		return w, w, nil
	}
	lo, hi := opt.MinWidth, opt.MaxWidth
	if lo < 0 || hi < lo {
		return 0, 0, fmt.Errorf("%w: width range [%d,%d]", ErrBadInput, lo, hi)
	}
	h := fnv.New64a()
	h.Write([]byte(sampleID))
	state := opt.Seed ^ h.Sum64()
	n := uint64(hi - lo + 1)
	draw := func() int {
		state += 0x9e3779b97f4a7c15
		hi, _ := bits.Mul64(splitmix64(state), n) // Lemire's multiply-shift
		return lo + int(hi)
	}
	fgWidth = draw()
	bgWidth = draw()
	return fgWidth, bgWidth, nil
}

// splitmix64 is the output function of SplitMix64 (Steele, Lea, Flood,
// "Fast Splittable Pseudorandom Number Generators", OOPSLA 2014).
func splitmix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Morphological builds the trimap of matting training code: foreground is
// alpha == 255 eroded by an elliptical kernel of radius fgWidth (a
// (2·fgWidth+1)-pixel ellipse, OpenCV's MORPH_ELLIPSE), background is
// alpha == 0 eroded by one of radius bgWidth, the rest is unknown. A
// region shrinks by exactly the width along each axis; the image border
// does not erode (OpenCV's default border for erosion). Width 0 means no
// erosion. It also returns the trimap's [Flag].
func Morphological(alpha Gray, fgWidth, bgWidth int) (Gray, Flag, error) {
	if err := alpha.check("alpha"); err != nil {
		return Gray{}, FlagNone, err
	}
	if fgWidth < 0 || bgWidth < 0 {
		return Gray{}, FlagNone, fmt.Errorf("%w: widths %d, %d", ErrBadInput, fgWidth, bgWidth)
	}
	fg, err := erodeMask(alpha, 255, fgWidth)
	if err != nil {
		return Gray{}, FlagNone, err
	}
	bg, err := erodeMask(alpha, 0, bgWidth)
	if err != nil {
		return Gray{}, FlagNone, err
	}
	t := NewGray(alpha.W, alpha.H)
	for p := range t.Pix {
		switch {
		case fg[p] != 0:
			t.Pix[p] = Foreground
		case bg[p] != 0:
			t.Pix[p] = Background
		default:
			t.Pix[p] = Unknown
		}
	}
	return t, Check(t), nil
}

// erodeMask returns the mask alpha == v (255 in, 0 out) eroded by an
// ellipse of radius r.
func erodeMask(alpha Gray, v uint8, r int) ([]uint8, error) {
	m := make([]uint8, len(alpha.Pix))
	for p, a := range alpha.Pix {
		if a == v {
			m[p] = 255
		}
	}
	if r == 0 {
		return m, nil
	}
	src, err := gocv.NewMatFromBytes(alpha.H, alpha.W, gocv.MatTypeCV8UC1, m)
	if err != nil {
		return nil, fmt.Errorf("trimap: erode: %w", err)
	}
	defer src.Close()
	kernel := gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(2*r+1, 2*r+1))
	defer kernel.Close()
	dst := gocv.NewMat()
	defer dst.Close()
	gocv.Erode(src, &dst, kernel)
	out := dst.ToBytes()
	if len(out) != len(m) {
		return nil, fmt.Errorf("trimap: erode returned %d bytes, want %d", len(out), len(m))
	}
	return out, nil
}
