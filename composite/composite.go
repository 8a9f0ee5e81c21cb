package composite

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Options control planning and compositing. The zero value is valid: one
// background per foreground, canvas of the cut-out's size, cut-out unscaled
// at the bottom centre, CoverRandom fit, sRGB blending, no extras.
type Options struct {
	// Seed: every draw is a function of (Seed, foreground ID, composite
	// index) only, so output bytes do not depend on workers or order.
	Seed int64
	// Width, Height: canvas size, at most 32768 a side; both 0 means the
	// (first) cut-out's size.
	Width, Height int
	// ScaleLo, ScaleHi: the placed cut-out's height as a fraction of the
	// canvas height, drawn uniformly; ScaleHi at most 8. Both 0: native
	// size, shrunk to fit when larger than the canvas (Placement.Shrunk).
	ScaleLo, ScaleHi float64
	// Position: Bottom (default), Center or Random.
	Position Position
	// Flip mirrors each cut-out with probability 0.5.
	Flip bool
	// Fit: how background photos meet the canvas; default CoverRandom.
	Fit Fit
	// Multi: probability that Plan adds a second foreground, drawn over
	// the first at a random x.
	Multi float64
	// LinearLight blends in linear light (sRGB decode, blend, encode).
	LinearLight bool
	// Harmonize: 0..1, how far the foreground's Lab mean and std move toward
	// the background's.
	Harmonize float64
	// BgBlur: Gaussian sigma in pixels for the background (depth of field).
	BgBlur float64
	// Noise: Gaussian noise sigma in 8-bit levels, added to the image.
	Noise float64
	// Layers also returns the placed F and B layers.
	Layers bool
	// PerFg: backgrounds per foreground in Plan; 0 means 1.
	PerFg int
	// AllowRepeat lets Plan reuse a background for one foreground when
	// PerFg exceeds the number of backgrounds.
	AllowRepeat bool
}

// Composition1k returns the Deep Image Matting test protocol (Xu et al.
// 2017, "Deep Image Matting", CVPR): each foreground over 20 backgrounds,
// canvas of the foreground's size, foreground unscaled, CoverTopLeft.
func Composition1k(seed int64) Options {
	return Options{Seed: seed, PerFg: 20, Fit: CoverTopLeft}
}

// maxSide bounds the canvas: a typo'd size should be an error, not an
// allocation that takes the process down.
const maxSide = 1 << 15

// Validate reports the first invalid option.
func (o Options) Validate() error {
	in01 := func(v float64) bool { return v >= 0 && v <= 1 }
	switch {
	case o.Width < 0 || o.Height < 0 || (o.Width == 0) != (o.Height == 0) || o.Width > maxSide || o.Height > maxSide:
		return fmt.Errorf("canvas %dx%d: give both sizes (at most %d) or neither", o.Width, o.Height, maxSide)
	case !(o.ScaleLo == 0 && o.ScaleHi == 0) && !(o.ScaleLo > 0 && o.ScaleLo <= o.ScaleHi && o.ScaleHi <= 8):
		return fmt.Errorf("scale [%g,%g]: want 0 < lo <= hi <= 8", o.ScaleLo, o.ScaleHi)
	case o.Position != "" && o.Position != Bottom && o.Position != Center && o.Position != Random:
		return fmt.Errorf("position %q: want bottom, center or random", o.Position)
	case o.Fit != "" && o.Fit != CoverRandom && o.Fit != CoverTopLeft && o.Fit != Stretch:
		return fmt.Errorf("fit %q: want cover-random, cover-topleft or stretch", o.Fit)
	case !in01(o.Multi):
		return fmt.Errorf("multi %g: want a probability in [0,1]", o.Multi)
	case !in01(o.Harmonize):
		return fmt.Errorf("harmonize %g: want 0..1", o.Harmonize)
	case !(o.BgBlur >= 0) || !(o.Noise >= 0) || math.IsInf(o.BgBlur, 0) || math.IsInf(o.Noise, 0):
		return fmt.Errorf("bg-blur %g, noise %g: want sigmas >= 0", o.BgBlur, o.Noise)
	case o.PerFg < 0:
		return fmt.Errorf("per-fg %d: want >= 0", o.PerFg)
	}
	return nil
}

// Record is everything drawn for one composite, for the manifest.
type Record struct {
	Fg     string `json:"fg"`
	Bg     string `json:"bg"`
	Index  int    `json:"index"`
	Seed   int64  `json:"seed"`
	Width  int    `json:"width"`
	Height int    `json:"height"`
	// Layers: the foreground, then the second one if any (drawn over it).
	Layers     []Placement `json:"layers"`
	Background BgPlacement `json:"background"`
	// Shrunk: some cut-out was larger than the canvas and scaled down.
	Shrunk      bool    `json:"shrunk,omitempty"`
	LinearLight bool    `json:"linear_light,omitempty"`
	Harmonize   float64 `json:"harmonize,omitempty"`
	Noise       float64 `json:"noise,omitempty"`
}

// Result is one composite. Close it.
type Result struct {
	Image gocv.Mat // 8UC3 BGR
	Alpha gocv.Mat // 8UC1
	Mask  gocv.Mat // 8UC1, 255 where Alpha >= 128, else 0
	// F, B: the placed foreground colour and the background (Options.Layers;
	// otherwise empty Mats). Without noise or linear light,
	// Image = Alpha·F + (1−Alpha)·B ±1.
	F, B   gocv.Mat
	Record Record
}

// Close frees the result's Mats.
func (r *Result) Close() error {
	return errors.Join(r.Image.Close(), r.Alpha.Close(), r.Mask.Close(), r.F.Close(), r.B.Close())
}

// Composite makes composite number index of fg over bg, with second (may be
// nil, as Plan says) drawn over fg. fg, second and bg are only read, so
// workers may share them.
func Composite(ctx context.Context, fg, second *Foreground, bg *Background, index int, o Options) (*Result, error) {
	if err := o.Validate(); err != nil {
		return nil, err
	}
	if fg == nil || bg == nil {
		return nil, errors.New("composite: nil foreground or background")
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w, h := o.Width, o.Height
	if w == 0 {
		sz := fg.Size()
		w, h = sz.X, sz.Y
	}
	rec := Record{Fg: fg.ID, Bg: bg.ID, Index: index, Seed: o.Seed, Width: w, Height: h,
		LinearLight: o.LinearLight, Harmonize: o.Harmonize, Noise: o.Noise}
	stream := func(purpose string) *stream { return newStream(o.Seed, fg.ID, index, purpose) }

	var bgm gocv.Mat
	var err error
	if bg.Procedural() {
		bgm, err = drawPattern(bg.pattern, stream("bg"), w, h)
	} else {
		fit := o.Fit
		if fit == "" {
			fit = CoverRandom
		}
		bgm, rec.Background, err = fitBackground(bg.bgr, w, h, fit, stream("bg"))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", bg.ID, err)
	}
	defer func() { bgm.Close() }()
	if o.BgBlur > 0 {
		gocv.GaussianBlur(bgm, &bgm, image.Pt(0, 0), o.BgBlur, o.BgBlur, gocv.BorderReflect101)
		rec.Background.Blur = o.BgBlur
	}

	fgs := []*Foreground{fg}
	purposes := []string{"fg", "second"}
	if second != nil {
		fgs = append(fgs, second)
	}
	var layers []layer
	defer func() {
		for _, l := range layers {
			l.close()
		}
	}()
	for i, f := range fgs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		p := place(stream(purposes[i]), f.ID, f.Size(), w, h, o, i > 0)
		l, err := placeLayer(f, p, w, h)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.ID, err)
		}
		layers = append(layers, l)
		if o.Harmonize > 0 {
			if vis := p.rect().Intersect(image.Rect(0, 0, w, h)); !vis.Empty() {
				Harmonize(l.f, l.a, bgm, vis, o.Harmonize)
			}
		}
		rec.Layers = append(rec.Layers, p)
		rec.Shrunk = rec.Shrunk || p.Shrunk
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	res := &Result{
		Image:  gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3),
		Alpha:  gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC1),
		Mask:   gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC1),
		F:      gocv.NewMat(),
		B:      gocv.NewMat(),
		Record: rec,
	}
	var fOut []byte
	if o.Layers && len(layers) > 1 {
		res.F.Close()
		res.F = gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
		fOut, _ = res.F.DataPtrUint8()
	}
	img, _ := res.Image.DataPtrUint8()
	al, _ := res.Alpha.DataPtrUint8()
	mk, _ := res.Mask.DataPtrUint8()
	b, err := bgm.DataPtrUint8()
	if err != nil {
		res.Close()
		return nil, err
	}
	ls := make([][2][]byte, len(layers))
	for i, l := range layers {
		ls[i][0], _ = l.f.DataPtrUint8()
		ls[i][1], _ = l.a.DataPtrUint8()
	}
	blend(img, al, mk, fOut, b, ls, o.LinearLight, float32(o.Noise), stream("noise"))
	if o.Layers {
		// Hand over; the deferred Closes then free the empty Mats swapped in.
		res.B, bgm = bgm, res.B
		if len(layers) == 1 {
			res.F, layers[0].f = layers[0].f, res.F
		}
	}
	return res, nil
}
