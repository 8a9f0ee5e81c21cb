package apply

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/composite"
	"github.com/segtool/segtool/cvguard"
)

// Effect is what apply makes of an image and its alpha.
type Effect string

// Effects.
const (
	EffectBlur    Effect = "blur"
	EffectReplace Effect = "replace"
	EffectCutout  Effect = "cutout"
	EffectMatte   Effect = "matte"
)

// Effects lists every effect in a fixed order.
func Effects() []Effect { return []Effect{EffectBlur, EffectReplace, EffectCutout, EffectMatte} }

// ParseEffects reads a comma-separated list of effects ("blur",
// "blur,matte", or "all").
func ParseEffects(s string) ([]Effect, error) {
	if strings.TrimSpace(s) == "all" {
		return Effects(), nil
	}
	var out []Effect
	seen := map[Effect]bool{}
	for _, p := range strings.Split(s, ",") {
		e := Effect(strings.TrimSpace(p))
		ok := false
		for _, k := range Effects() {
			ok = ok || e == k
		}
		if !ok {
			return nil, fmt.Errorf("effect %q: want blur, replace, cutout, matte, a comma list of them, or all", e)
		}
		if !seen[e] {
			out = append(out, e)
			seen[e] = true
		}
	}
	return out, nil
}

// checkPlanes checks img is 8-bit BGR and alpha has one value per pixel.
func checkPlanes(img gocv.Mat, alpha []float32) (w, h int, err error) {
	w, h = img.Cols(), img.Rows()
	if img.Empty() || img.Type() != gocv.MatTypeCV8UC3 {
		return 0, 0, fmt.Errorf("apply: image must be 8-bit BGR, got type %v", img.Type())
	}
	if len(alpha) != w*h {
		return 0, 0, fmt.Errorf("apply: alpha has %d values for a %dx%d image", len(alpha), w, h)
	}
	return w, h, nil
}

// newByteMat makes an h×w 8-bit Mat of type t and returns it with its
// pixels; on an error the Mat is already closed.
func newByteMat(h, w int, t gocv.MatType) (gocv.Mat, []uint8, error) {
	m := gocv.NewMatWithSize(h, w, t)
	px, err := m.DataPtrUint8()
	if err != nil {
		m.Close()
		return gocv.Mat{}, nil, err
	}
	return m, px, nil
}

// bgrBytes returns a continuous copy of an 8-bit Mat's pixels.
func bgrBytes(m gocv.Mat) []uint8 {
	if !m.IsContinuous() {
		c := m.Clone()
		defer c.Close()
		return c.ToBytes()
	}
	return m.ToBytes()
}

// Compose writes dst = a·fg + (1 − a)·bg for interleaved 3-channel 8-bit
// planes: composite.Over with float alpha, taken as is (the caller keeps
// it in [0, 1]); a = 1 gives fg and a = 0 gives bg exactly.
func Compose(dst, fg, bg []uint8, alpha []float32) { composite.Over(dst, fg, bg, alpha) }

// AlphaBytes maps alpha in [0, 1] to 0..255, rounding (NaN to 0).
func AlphaBytes(alpha []float32) []uint8 {
	b := make([]uint8, len(alpha))
	for i, a := range alpha {
		b[i] = composite.Round8(a * 255)
	}
	return b
}

// AlphaFromBytes reads 8-bit values (a saved prediction or matte) as
// [0, 1], v/255.
func AlphaFromBytes(b []uint8) []float32 {
	a := make([]float32, len(b))
	for i, v := range b {
		a[i] = float32(v) / 255
	}
	return a
}

// NonFinite counts the NaN and ±Inf values of p.
func NonFinite(p []float32) int {
	n := 0
	for _, v := range p {
		if v-v != 0 { // NaN or ±Inf
			n++
		}
	}
	return n
}

// BlurOptions configure the blur effect.
type BlurOptions struct {
	// Sigma is the Gaussian's standard deviation in pixels; 0 means
	// DefaultSigma of the image.
	Sigma float64
	// Kernel is the odd side of the Gaussian kernel; 0 means
	// 2·ceil(3·Sigma) + 1.
	Kernel int
	// FgEdge blurs the background by normalised convolution,
	// G((1 − a)·I) / G(1 − a), so that foreground colour does not smear
	// into the background around the subject.
	FgEdge bool
	// FullRes blurs at the image's own resolution even when the kernel is
	// large; otherwise a default kernel (Kernel 0) of sigma >= 5 is run on
	// a copy reduced by reduction(sigma), which looks the same and costs a
	// fraction (a quarter of the pixels and half the kernel at d = 2).
	FullRes bool
}

// reduction is the factor by which BlurBackground shrinks the image
// before a Gaussian of sigma: floor(sigma/2.5), so the reduced Gaussian
// keeps a sigma of about 2.4 px or more. Such a Gaussian passes almost
// nothing above the reduced grid's Nyquist frequency (its response at
// 1/(2d) cycles per pixel is exp(-π²s²/2) < 1e-12 for s >= 2.4), so the
// shrink loses no detail the blur would have kept; what differs is the
// kernel's shape (a Gaussian of box and triangle rather than a pure one),
// within 4 levels of 255 and 0.6 on average (TestBlurReducedMatchesFullRes).
func reduction(sigma float64) int { return max(1, int(sigma/2.5)) }

// reducedSigma is the sigma, in reduced pixels, that gives a Gaussian of
// sigma full-size pixels once the shrink (area averaging, a box of d
// pixels, variance d²/12) and the linear enlargement (a triangle of
// half-width d, variance d²/6) are added: variances add under
// convolution, so sigma² = (d·s)² + d²/4.
func reducedSigma(sigma float64, d int) float64 {
	fd := float64(d)
	return math.Sqrt(max(sigma*sigma-fd*fd/4, fd*fd)) / fd
}

// DefaultSigma is the blur of an image of w x h pixels when none is given:
// 1 % of the longer side (about 19 px at 1080p), at least 1. Lens blur
// scales with the frame, so a fixed pixel value would be a smudge on a
// 4000 px photo and a fog on a thumbnail.
func DefaultSigma(w, h int) float64 { return math.Max(1, 0.01*float64(max(w, h))) }

// kernel returns the Gaussian's sigma and square kernel side for an image.
func (o BlurOptions) kernel(w, h int) (float64, int, error) {
	s := o.Sigma
	if s == 0 {
		s = DefaultSigma(w, h)
	}
	if !(s > 0) || math.IsInf(s, 0) {
		return 0, 0, fmt.Errorf("blur sigma %g: want > 0", o.Sigma)
	}
	k := o.Kernel
	if k == 0 {
		k = gaussSide(s)
	}
	if k < 1 || k%2 == 0 {
		return 0, 0, fmt.Errorf("blur kernel %d: want an odd size >= 1", o.Kernel)
	}
	return s, k, nil
}

// gaussSide is the default kernel side for a Gaussian of sigma s: odd,
// reaching 3 sigma either side.
func gaussSide(s float64) int { return 2*int(math.Ceil(3*s)) + 1 }

// Check reports bad options without an image.
func (o BlurOptions) Check() error {
	_, _, err := o.kernel(100, 100)
	return err
}

// BlurBackground returns the blurred background layer of the blur effect,
// an 8UC3 Mat the size of img. The caller closes it.
func BlurBackground(img gocv.Mat, alpha []float32, o BlurOptions) (gocv.Mat, error) {
	w, h, err := checkPlanes(img, alpha)
	if err != nil {
		return gocv.Mat{}, err
	}
	sigma, k, err := o.kernel(w, h)
	if err != nil {
		return gocv.Mat{}, err
	}
	// gauss blurs src into dst at full size, or for a large default
	// kernel through a reduced copy (see reduction): shrink by area,
	// blur with the matching smaller Gaussian, enlarge linearly.
	d := reduction(sigma)
	if o.FullRes || o.Kernel != 0 || min(w, h) < 4*d {
		d = 1
	}
	gauss := func(src gocv.Mat, dst *gocv.Mat) {
		if d == 1 {
			gocv.GaussianBlur(src, dst, image.Pt(k, k), sigma, sigma, gocv.BorderReflect101)
			return
		}
		// The border is mirrored at full size first, as the full-size
		// blur mirrors it (a mirror on the reduced grid would sit half a
		// pixel off), with the padded sides whole multiples of d.
		s := reducedSigma(sigma, d)
		sk := gaussSide(s)
		pad := (int(math.Ceil(3*sigma))/d + 2) * d
		pw, ph := w+2*pad, h+2*pad
		ex, ey := (d-pw%d)%d, (d-ph%d)%d
		padded := gocv.NewMat()
		defer padded.Close()
		gocv.CopyMakeBorder(src, &padded, pad, pad+ey, pad, pad+ex, gocv.BorderReflect101, color.RGBA{})
		small := gocv.NewMat()
		defer small.Close()
		gocv.Resize(padded, &small, image.Pt((pw+ex)/d, (ph+ey)/d), 0, 0, gocv.InterpolationArea)
		gocv.GaussianBlur(small, &small, image.Pt(sk, sk), s, s, gocv.BorderReflect101)
		gocv.Resize(small, &padded, image.Pt(pw+ex, ph+ey), 0, 0, gocv.InterpolationLinear)
		inner := padded.Region(image.Rect(pad, pad, pad+w, pad+h))
		defer inner.Close()
		inner.CopyTo(dst)
	}
	if !o.FgEdge {
		out := gocv.NewMat()
		gauss(img, &out)
		return out, nil
	}
	// Normalised convolution: num = G((1-a)·I), den = G(1-a). eps keeps
	// the ratio defined deep inside the subject, where no background is
	// near; there (1-a) is ~0 and the value barely matters.
	const eps = 1e-3
	src := bgrBytes(img)
	num := gocv.NewMatWithSize(h, w, gocv.MatTypeCV32FC3)
	defer num.Close()
	den := gocv.NewMatWithSize(h, w, gocv.MatTypeCV32FC1)
	defer den.Close()
	np, err := num.DataPtrFloat32()
	if err != nil {
		return gocv.Mat{}, err
	}
	dp, err := den.DataPtrFloat32()
	if err != nil {
		return gocv.Mat{}, err
	}
	for p, a := range alpha {
		b := 1 - a
		dp[p] = b
		i := 3 * p
		np[i], np[i+1], np[i+2] = b*float32(src[i]), b*float32(src[i+1]), b*float32(src[i+2])
	}
	gauss(num, &num)
	gauss(den, &den)
	if np, err = num.DataPtrFloat32(); err != nil {
		return gocv.Mat{}, err
	}
	if dp, err = den.DataPtrFloat32(); err != nil {
		return gocv.Mat{}, err
	}
	out, op, err := newByteMat(h, w, gocv.MatTypeCV8UC3)
	if err != nil {
		return gocv.Mat{}, err
	}
	for p, d := range dp {
		i := 3 * p
		inv := 1 / (max(d, 0) + eps)
		op[i] = composite.Round8((np[i] + eps*float32(src[i])) * inv)
		op[i+1] = composite.Round8((np[i+1] + eps*float32(src[i+1])) * inv)
		op[i+2] = composite.Round8((np[i+2] + eps*float32(src[i+2])) * inv)
	}
	return out, nil
}

// Blur returns a·I + (1 − a)·background, the background layer from
// BlurBackground. The caller closes the result.
func Blur(img gocv.Mat, alpha []float32, o BlurOptions) (gocv.Mat, error) {
	bg, err := BlurBackground(img, alpha, o)
	if err != nil {
		return gocv.Mat{}, err
	}
	defer bg.Close()
	return composeMats(img, bg, alpha)
}

// composeMats returns a·fg + (1 − a)·bg as a new 8UC3 Mat.
func composeMats(fg, bg gocv.Mat, alpha []float32) (gocv.Mat, error) {
	w, h := fg.Cols(), fg.Rows()
	if bg.Cols() != w || bg.Rows() != h || bg.Type() != gocv.MatTypeCV8UC3 {
		return gocv.Mat{}, fmt.Errorf("apply: background %dx%d (type %v), want %dx%d 8-bit BGR", bg.Cols(), bg.Rows(), bg.Type(), w, h)
	}
	out, op, err := newByteMat(h, w, gocv.MatTypeCV8UC3)
	if err != nil {
		return gocv.Mat{}, err
	}
	Compose(op, bgrView(fg), bgrView(bg), alpha)
	return out, nil
}

// bgrView is an 8-bit Mat's pixels without a copy when they are
// continuous (read while the Mat is open), else a copy.
func bgrView(m gocv.Mat) []uint8 {
	if m.IsContinuous() {
		if px, err := m.DataPtrUint8(); err == nil {
			return px
		}
	}
	return bgrBytes(m)
}

// Fitted records how a background was fitted to an image.
type Fitted struct {
	SrcW, SrcH       int // the background's size
	ScaledW, ScaledH int // after scaling, before the crop
	X, Y             int // the crop's corner in the scaled background
	W, H             int // the image's size
}

// AspectDiffers reports whether the background's aspect ratio differs
// from the image's by more than 1 %, so that cover-fitting cut part of it.
func (f Fitted) AspectDiffers() bool {
	a := float64(f.SrcW) / float64(f.SrcH)
	b := float64(f.W) / float64(f.H)
	return math.Abs(a/b-1) > 0.01
}

// Cropped is the fraction of the scaled background cut away.
func (f Fitted) Cropped() float64 {
	return 1 - float64(f.W*f.H)/float64(f.ScaledW*f.ScaledH)
}

// String describes the fit for a log line.
func (f Fitted) String() string {
	return fmt.Sprintf("background %dx%d (aspect %.2f) cover-fitted to %dx%d (aspect %.2f): scaled to %dx%d, %.0f %% cropped",
		f.SrcW, f.SrcH, float64(f.SrcW)/float64(f.SrcH), f.W, f.H, float64(f.W)/float64(f.H), f.ScaledW, f.ScaledH, 100*f.Cropped())
}

// FitCover scales bg by max(w/bw, h/bh), so that it covers a w x h image
// keeping its aspect, and cuts the centred w x h rectangle: a background
// of another aspect loses its margins rather than being stretched. It
// shrinks with area interpolation and enlarges with cubic. The caller
// closes the result.
func FitCover(bg gocv.Mat, w, h int) (gocv.Mat, Fitted, error) {
	bw, bh := bg.Cols(), bg.Rows()
	f := Fitted{SrcW: bw, SrcH: bh, W: w, H: h}
	if bg.Empty() || bw <= 0 || bh <= 0 || w <= 0 || h <= 0 {
		return gocv.Mat{}, f, fmt.Errorf("apply: cannot fit a %dx%d background to %dx%d", bw, bh, w, h)
	}
	scale := math.Max(float64(w)/float64(bw), float64(h)/float64(bh))
	f.ScaledW = max(w, int(math.Round(float64(bw)*scale)))
	f.ScaledH = max(h, int(math.Round(float64(bh)*scale)))
	f.X, f.Y = (f.ScaledW-w)/2, (f.ScaledH-h)/2
	scaled := bg
	if f.ScaledW != bw || f.ScaledH != bh {
		interp := gocv.InterpolationCubic
		if scale < 1 {
			interp = gocv.InterpolationArea
		}
		scaled = gocv.NewMat()
		defer scaled.Close()
		// A background far from the image's shape scales to a size
		// OpenCV may fail to allocate; that is an error, not an abort.
		if err := cvguard.Resize(bg, &scaled, image.Pt(f.ScaledW, f.ScaledH), interp); err != nil {
			return gocv.Mat{}, f, fmt.Errorf("apply: scaling a %dx%d background: %w", bw, bh, err)
		}
	}
	r := scaled.Region(image.Rect(f.X, f.Y, f.X+w, f.Y+h))
	defer r.Close()
	return r.Clone(), f, nil
}

// Replace returns a·F + (1 − a)·bg, bg already the image's size (see
// FitCover). F is the image, or with harmonize > 0 the image with its
// foreground's Lab statistics moved toward bg's by that strength
// (composite.Harmonize, weighted by the alpha). The caller closes the
// result.
func Replace(img, bg gocv.Mat, alpha []float32, harmonize float64) (gocv.Mat, error) {
	w, h, err := checkPlanes(img, alpha)
	if err != nil {
		return gocv.Mat{}, err
	}
	if harmonize < 0 || harmonize > 1 {
		return gocv.Mat{}, fmt.Errorf("apply: harmonize %g: want 0..1", harmonize)
	}
	if harmonize == 0 {
		return composeMats(img, bg, alpha)
	}
	if bg.Cols() != w || bg.Rows() != h {
		return gocv.Mat{}, fmt.Errorf("apply: background %dx%d, want %dx%d", bg.Cols(), bg.Rows(), w, h)
	}
	f := img.Clone()
	defer f.Close()
	a, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC1, AlphaBytes(alpha))
	if err != nil {
		return gocv.Mat{}, err
	}
	defer a.Close()
	composite.Harmonize(f, a, bg, image.Rect(0, 0, w, h), harmonize)
	return composeMats(f, bg, alpha)
}

// Cutout returns the image as BGRA with alpha round(255·a). The caller
// closes it.
func Cutout(img gocv.Mat, alpha []float32) (gocv.Mat, error) {
	w, h, err := checkPlanes(img, alpha)
	if err != nil {
		return gocv.Mat{}, err
	}
	src := bgrBytes(img)
	out, op, err := newByteMat(h, w, gocv.MatTypeCV8UC4)
	if err != nil {
		return gocv.Mat{}, err
	}
	for p, a := range alpha {
		op[4*p], op[4*p+1], op[4*p+2], op[4*p+3] = src[3*p], src[3*p+1], src[3*p+2], composite.Round8(a*255)
	}
	return out, nil
}

// Matte returns the alpha as a w x h 8UC1 Mat, round(255·a). The caller
// closes it.
func Matte(alpha []float32, w, h int) (gocv.Mat, error) {
	if len(alpha) != w*h || w <= 0 || h <= 0 {
		return gocv.Mat{}, fmt.Errorf("apply: alpha has %d values for %dx%d", len(alpha), w, h)
	}
	return gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC1, AlphaBytes(alpha))
}
