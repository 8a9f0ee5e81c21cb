package trimap

import (
	"context"
	"fmt"
)

// Defaults of [SuperpixelOptions]. The thresholds were tuned on the
// Composition-1k-style samples of the test data: only a pure superpixel
// (every pixel 255, or every pixel 0) is known. Looser thresholds lose
// transition pixels: 0.98/0.02 keeps 64-100 % of them unknown per sample,
// 0.999/0.001 98.1-100 %, 0.9999/0.0001 99.9-100 %, 1/0 100 %, for a
// mean unknown area 0.84, 1.22, 1.29 and 1.32 times the human one.
const (
	DefaultFGThresh = 1.0
	DefaultBGThresh = 0.0
	DefaultMinBand  = 3
)

// SuperpixelOptions configure [FromSuperpixels]. Zero fields take the
// defaults.
type SuperpixelOptions struct {
	SLIC SLICOptions
	// FGThresh: a superpixel is foreground when its mean alpha (in [0,1])
	// is >= FGThresh and none of its pixels is below 0.5. 0 means
	// DefaultFGThresh.
	FGThresh float64
	// BGThresh: a superpixel is background when its mean alpha is
	// <= BGThresh and none of its pixels is above 0.5. The default,
	// DefaultBGThresh, is 0.
	BGThresh float64
	// MinBand is the half-width in pixels of the band around the 0.5
	// iso-line that is always unknown: a pixel whose distance to the
	// nearest pixel on the other side of the iso-line is <= MinBand. 0
	// means DefaultMinBand; a negative value turns the band off.
	MinBand int
	// MaxBand, when > 0, caps the unknown region: an unknown pixel
	// farther than MaxBand pixels from every pixel of the minimum band
	// and from every pixel with 0 < alpha < 1 is resolved to foreground
	// (alpha >= 0.5) or background. 0 (the default) means no cap.
	MaxBand int
}

// WithDefaults returns o with its zero thresholds and band filled in
// (the SLIC fields are left as they are), or an error wrapping
// ErrBadInput when the thresholds or MaxBand are out of range.
func (o SuperpixelOptions) WithDefaults() (SuperpixelOptions, error) {
	if o.FGThresh == 0 {
		o.FGThresh = DefaultFGThresh
	}
	if o.MinBand == 0 {
		o.MinBand = DefaultMinBand
	}
	if !(o.FGThresh > 0 && o.FGThresh <= 1) || !(o.BGThresh >= 0 && o.BGThresh < 1) || o.BGThresh >= o.FGThresh {
		return o, fmt.Errorf("%w: thresholds fg %v, bg %v (want 0 <= bg < fg <= 1)", ErrBadInput, o.FGThresh, o.BGThresh)
	}
	if o.MaxBand < 0 {
		return o, fmt.Errorf("%w: max band %d", ErrBadInput, o.MaxBand)
	}
	return o, nil
}

// FromSuperpixels builds the superpixel trimap of im from the matte alpha
// (same size), following Gupta & Raman (2017) with the rule of the package
// comment. It returns the trimap and its [Flag]; a matte that is all zero
// (all 255) gives an all-background (all-foreground) trimap flagged as
// such, without running SLIC.
func FromSuperpixels(ctx context.Context, im Image, alpha Gray, opt SuperpixelOptions) (Gray, Flag, error) {
	if err := im.check(); err != nil {
		return Gray{}, FlagNone, err
	}
	if err := alpha.check("alpha"); err != nil {
		return Gray{}, FlagNone, err
	}
	if im.W != alpha.W || im.H != alpha.H {
		return Gray{}, FlagNone, fmt.Errorf("%w: image is %dx%d but alpha is %dx%d", ErrBadInput, im.W, im.H, alpha.W, alpha.H)
	}
	o, err := opt.WithDefaults()
	if err != nil {
		return Gray{}, FlagNone, err
	}
	if _, err := o.SLIC.params(im.W, im.H); err != nil {
		return Gray{}, FlagNone, err
	}
	if v, ok := uniform(alpha.Pix); ok && (v == 0 || v == 255) {
		t := NewGray(alpha.W, alpha.H)
		if v == 255 {
			for i := range t.Pix {
				t.Pix[i] = Foreground
			}
		}
		return t, Check(t), nil
	}
	sp, err := SLIC(ctx, im, o.SLIC)
	if err != nil {
		return Gray{}, FlagNone, err
	}
	return FromLabels(sp, alpha, o)
}

// FromLabels is steps 2 to 4 of [FromSuperpixels] on superpixels already
// computed (by [SLIC] or otherwise): label each superpixel by the matte,
// add the minimum band, apply the cap.
func FromLabels(sp *Superpixels, alpha Gray, opt SuperpixelOptions) (Gray, Flag, error) {
	if err := alpha.check("alpha"); err != nil {
		return Gray{}, FlagNone, err
	}
	if sp == nil || sp.W != alpha.W || sp.H != alpha.H || len(sp.Labels) != len(alpha.Pix) {
		return Gray{}, FlagNone, fmt.Errorf("%w: superpixels do not match the %dx%d alpha", ErrBadInput, alpha.W, alpha.H)
	}
	o, err := opt.WithDefaults()
	if err != nil {
		return Gray{}, FlagNone, err
	}
	w, h := alpha.W, alpha.H
	a := alpha.Pix

	// Step 2: per-superpixel coverage. Thresholds on 8-bit values:
	// a >= 0.5 is v >= 128, a > 0.5 is v >= 128 too (v/255 = 0.5 has no
	// 8-bit code).
	type stat struct {
		sum      int64
		n        int64
		min, max uint8
	}
	st := make([]stat, sp.N)
	for i := range st {
		st[i].min = 255
	}
	for p, l := range sp.Labels {
		if l < 0 || int(l) >= sp.N {
			return Gray{}, FlagNone, fmt.Errorf("%w: label %d outside 0..%d", ErrBadInput, l, sp.N-1)
		}
		s := &st[l]
		v := a[p]
		s.sum += int64(v)
		s.n++
		s.min = min(s.min, v)
		s.max = max(s.max, v)
	}
	class := make([]uint8, sp.N)
	for i, s := range st {
		sum, full := float64(s.sum), 255*float64(s.n) // mean >= t is sum >= t*full
		switch {
		case s.n > 0 && sum >= o.FGThresh*full && s.min >= 128:
			class[i] = Foreground
		case s.n > 0 && sum <= o.BGThresh*full && s.max < 128:
			class[i] = Background
		default:
			class[i] = Unknown
		}
	}
	t := NewGray(w, h)
	for p, l := range sp.Labels {
		t.Pix[p] = class[l]
	}

	// Step 3: the minimum band around the 0.5 iso-line.
	var band []bool
	if o.MinBand > 0 || o.MaxBand > 0 {
		band = isoBand(a, w, h, max(o.MinBand, 0))
		for p, in := range band {
			if in {
				t.Pix[p] = Unknown
			}
		}
	}

	// Step 4: the cap.
	if o.MaxBand > 0 {
		core := make([]bool, len(a))
		for p, v := range a {
			core[p] = band[p] || (v > 0 && v < 255)
		}
		near := withinDistance(core, w, h, o.MaxBand)
		for p, v := range t.Pix {
			if v == Unknown && !near[p] {
				if a[p] >= 128 {
					t.Pix[p] = Foreground
				} else {
					t.Pix[p] = Background
				}
			}
		}
	}
	return t, Check(t), nil
}

// isoBand marks the pixels within r of the 0.5 iso-line: a pixel on one
// side (v >= 128 or v < 128) whose Euclidean distance to the nearest pixel
// on the other side is <= r. With r = 0 the band is empty.
func isoBand(a []uint8, w, h, r int) []bool {
	band := make([]bool, len(a))
	if r <= 0 {
		return band
	}
	fg := make([]bool, len(a))
	bg := make([]bool, len(a))
	for p, v := range a {
		fg[p] = v >= 128
		bg[p] = !fg[p]
	}
	nearFG := withinDistance(fg, w, h, r)
	nearBG := withinDistance(bg, w, h, r)
	for p := range band {
		band[p] = (fg[p] && nearBG[p]) || (bg[p] && nearFG[p])
	}
	return band
}

// uniform reports whether all of pix equal pix[0], and that value.
func uniform(pix []uint8) (uint8, bool) {
	if len(pix) == 0 {
		return 0, false
	}
	v := pix[0]
	for _, u := range pix {
		if u != v {
			return v, false
		}
	}
	return v, true
}
