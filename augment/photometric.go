package augment

import (
	"fmt"
	"image"
	"math"
	"math/bits"
	"math/rand/v2"

	"gocv.io/x/gocv"
)

// Photometric ops change the image only; labels are untouched except by
// occlusion with occlude_mask.

const maxKernel = 255

// lutOp maps every image byte through a table built per application:
// add, gamma and contrast. perChannel draws a separate table per channel.
type lutOp struct {
	name       string
	key        string // parameter name in records
	value      Param
	perChannel float64
	table      func(v float64, t []byte)
}

// newAdd: add adds one value to every pixel, clipped to [0, 255] (imgaug
// Add). value: the amount (default [-20, 20], whole numbers); per_channel:
// true draws a value per channel, a number is the chance of doing so.
func newAdd(a *Args) (Op, error) {
	return newLUTOp(a, "value", Uniform(-20, 20).asInt(), -255, 255, true, func(v float64, t []byte) {
		for i := range t {
			t[i] = clip8(float64(i) + v)
		}
	})
}

// newGamma: gamma maps x to 255*(x/255)^gamma, rounded (imgaug
// GammaContrast). gamma: the exponent, > 0 (default [0.5, 2]); per_channel
// as in add.
func newGamma(a *Args) (Op, error) {
	return newLUTOp(a, "gamma", Uniform(0.5, 2), 1e-3, 100, false, func(g float64, t []byte) {
		for i := range t {
			t[i] = clip8(255 * math.Pow(float64(i)/255, g))
		}
	})
}

// newContrast: contrast maps x to 128 + alpha*(x-128), rounded and clipped
// (imgaug LinearContrast). alpha: the factor, >= 0 (default [0.6, 1.4]);
// per_channel as in add.
func newContrast(a *Args) (Op, error) {
	return newLUTOp(a, "alpha", Uniform(0.6, 1.4), 0, 100, false, func(al float64, t []byte) {
		for i := range t {
			t[i] = clip8(128 + al*(float64(i)-128))
		}
	})
}

func newLUTOp(a *Args, key string, def Param, min, max float64, integer bool, table func(float64, []byte)) (Op, error) {
	var v Param
	var err error
	if integer {
		v, err = a.Int(key, def, min, max)
	} else {
		v, err = a.Float(key, def, min, max)
	}
	if err != nil {
		return nil, err
	}
	pc, err := a.Chance("per_channel", 0)
	if err != nil {
		return nil, err
	}
	return &lutOp{name: a.Op(), key: key, value: v, perChannel: pc, table: table}, nil
}

func (o *lutOp) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	var t [3 * 256]byte
	var drawn any
	if chance(rng, o.perChannel) {
		vs := make([]float64, 3)
		var ch [3][256]byte
		for c := range vs {
			vs[c] = o.value.Draw(rng)
			o.table(vs[c], ch[c][:])
		}
		for i := 0; i < 256; i++ {
			t[3*i], t[3*i+1], t[3*i+2] = ch[0][i], ch[1][i], ch[2][i]
		}
		drawn = vs
	} else {
		v := o.value.Draw(rng)
		var one [256]byte
		o.table(v, one[:])
		for i, b := range one {
			t[3*i], t[3*i+1], t[3*i+2] = b, b, b
		}
		drawn = v
	}
	lut, err := gocv.NewMatFromBytes(1, 256, gocv.MatTypeCV8UC3, t[:])
	if err != nil {
		return log, applyErr(o.name, err)
	}
	defer lut.Close()
	// LUT is elementwise, so writing over the source is safe.
	gocv.LUT(s.Image, lut, &s.Image)
	return append(log, Applied{Op: o.name, Params: map[string]any{o.key: drawn}}), nil
}

func clip8(v float64) byte { return byte(math.Min(255, math.Max(0, math.Round(v)))) }

// noiseOp adds a value drawn per pixel (or per pixel and channel) from a
// table: add_elementwise and gaussian_noise.
type noiseOp struct {
	name       string
	value      Param     // add_elementwise: the per-pixel distribution
	sigma      Param     // gaussian_noise: drawn per image
	normal     []float32 // gaussian_noise: standard normal quantiles
	perChannel float64
}

// The noise tables have 2^16 cells, addressed by 16 random bits.
const noiseCells = 1 << 16

// newAddElementwise: add_elementwise adds to every pixel its own value drawn
// from value (imgaug AddElementwise). value: the per-pixel distribution,
// whole numbers (default [-20, 20]); per_channel: true draws per channel
// too, a number is the chance of doing so.
func newAddElementwise(a *Args) (Op, error) {
	v, err := a.Int("value", Uniform(-20, 20), -255, 255)
	if err != nil {
		return nil, err
	}
	pc, err := a.Chance("per_channel", 0)
	if err != nil {
		return nil, err
	}
	return &noiseOp{name: a.Op(), value: v, perChannel: pc}, nil
}

// newGaussianNoise: gaussian_noise adds N(0, sigma²) noise per pixel,
// rounded and clipped (imgaug AdditiveGaussianNoise). sigma: drawn once per
// image, in grey levels (default [0, 12.75], imgaug's 0.05*255);
// per_channel as in add_elementwise. Normal values come from a 65536-cell
// quantile table, so the noise is cut off beyond 4.2 sigma.
func newGaussianNoise(a *Args) (Op, error) {
	sigma, err := a.Float("sigma", Uniform(0, 12.75), 0, 255)
	if err != nil {
		return nil, err
	}
	pc, err := a.Chance("per_channel", 0)
	if err != nil {
		return nil, err
	}
	z := make([]float32, noiseCells)
	for i := range z {
		z[i] = float32(math.Sqrt2 * math.Erfinv(2*(float64(i)+0.5)/noiseCells-1))
	}
	return &noiseOp{name: a.Op(), sigma: sigma, normal: z, perChannel: pc}, nil
}

func (o *noiseOp) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	t := (*[noiseCells]int16)(make([]int16, noiseCells))
	params := map[string]any{}
	if o.normal != nil {
		sigma := o.sigma.Draw(rng)
		for i, z := range o.normal {
			t[i] = int16(math.Max(-255, math.Min(255, math.Round(sigma*float64(z)))))
		}
		params["sigma"] = sigma
	} else {
		o.value.quantiles(t[:])
	}
	perChannel := chance(rng, o.perChannel)
	params["per_channel"] = perChannel
	px, err := s.Image.DataPtrUint8()
	if err != nil {
		return log, applyErr(o.name, err)
	}
	g := wyrand(rng.Uint64())
	if perChannel {
		addNoisePerByte(px, t, &g)
	} else {
		addNoisePerPixel(px, t, &g)
	}
	return append(log, Applied{Op: o.name, Params: params}), nil
}

// addNoisePerByte adds t[random] to each byte, four draws per 64 bits.
func addNoisePerByte(px []byte, t *[noiseCells]int16, g *wyrand) {
	i := 0
	for ; i+4 <= len(px); i += 4 {
		r := g.next()
		p := px[i : i+4 : i+4]
		p[0] = sat8(int(p[0]) + int(t[uint16(r)]))
		p[1] = sat8(int(p[1]) + int(t[uint16(r>>16)]))
		p[2] = sat8(int(p[2]) + int(t[uint16(r>>32)]))
		p[3] = sat8(int(p[3]) + int(t[uint16(r>>48)]))
	}
	for ; i < len(px); i++ {
		px[i] = sat8(int(px[i]) + int(t[uint16(g.next())]))
	}
}

// addNoisePerPixel adds one t[random] to all three channels of a pixel.
func addNoisePerPixel(px []byte, t *[noiseCells]int16, g *wyrand) {
	i := 0
	for ; i+12 <= len(px); i += 12 {
		r := g.next()
		p := px[i : i+12 : i+12]
		for k := 0; k < 4; k++ {
			d := int(t[uint16(r>>(16*k))])
			q := p[3*k : 3*k+3 : 3*k+3]
			q[0], q[1], q[2] = sat8(int(q[0])+d), sat8(int(q[1])+d), sat8(int(q[2])+d)
		}
	}
	for ; i+3 <= len(px); i += 3 {
		d := int(t[uint16(g.next())])
		px[i], px[i+1], px[i+2] = sat8(int(px[i])+d), sat8(int(px[i+1])+d), sat8(int(px[i+2])+d)
	}
}

func sat8(v int) byte { return byte(min(max(v, 0), 255)) }

// wyrand is a small fast generator for per-pixel draws, seeded from the
// op's stream (wyhash's wyrand).
type wyrand uint64

func (w *wyrand) next() uint64 {
	*w += 0xa0761d6478bd642f
	hi, lo := bits.Mul64(uint64(*w), uint64(*w^0xe7037ed1a0b428db))
	return hi ^ lo
}

// brightnessHSV scales and shifts V of HSV with H and S fixed.
type brightnessHSV struct {
	name         string
	scale, shift Param
}

// newBrightnessHSV: brightness_hsv sets V' = V*scale + shift in HSV, keeping
// hue and saturation, as the MobileNetV2-UNet portrait recipe does with
// cvtColor. scale: factor >= 0; shift: grey levels; with neither given,
// scale is [0.7, 1.3]. Because V = max(B, G, R) and H, S fix the ratios of
// the channels, this equals multiplying each channel by V'/V, which is what
// it computes: exact, where OpenCV's 8-bit HSV round trip alone moves
// channels by up to 5.
func newBrightnessHSV(a *Args) (Op, error) {
	defScale := Const(1)
	if !a.Has("scale") && !a.Has("shift") {
		defScale = Uniform(0.7, 1.3)
	}
	scale, err := a.Float("scale", defScale, 0, 100)
	if err != nil {
		return nil, err
	}
	shift, err := a.Float("shift", Const(0), -255, 255)
	if err != nil {
		return nil, err
	}
	return &brightnessHSV{name: a.Op(), scale: scale, shift: shift}, nil
}

func (o *brightnessHSV) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	scale, shift := o.scale.Draw(rng), o.shift.Draw(rng)
	// f[v] is V'/V in 16.16 fixed point.
	var f [256]uint32
	for v := 1; v < 256; v++ {
		f[v] = uint32(math.Round(float64(clip8(float64(v)*scale+shift)) * 65536 / float64(v)))
	}
	black := clip8(shift) // V = 0 has no hue or saturation: it becomes grey.
	px, err := s.Image.DataPtrUint8()
	if err != nil {
		return log, applyErr(o.name, err)
	}
	for i := 0; i+3 <= len(px); i += 3 {
		p := px[i : i+3 : i+3]
		b, g, r := uint32(p[0]), uint32(p[1]), uint32(p[2])
		v := max(b, g, r)
		if v == 0 {
			p[0], p[1], p[2] = black, black, black
			continue
		}
		k := f[byte(v)]
		p[0] = byte(min((b*k+32768)>>16, 255))
		p[1] = byte(min((g*k+32768)>>16, 255))
		p[2] = byte(min((r*k+32768)>>16, 255))
	}
	return append(log, Applied{Op: o.name, Params: map[string]any{"scale": scale, "shift": shift}}), nil
}

type hueSaturation struct {
	name            string
	hue, saturation Param
}

// newHueSaturation: hue_saturation rotates hue and scales saturation in HSV
// (imgaug AddToHue with MultiplySaturation), through OpenCV's 8-bit HSV
// with hue in 2-degree steps, as imgaug does. (The _FULL variant decodes
// hue over 255 steps but encodes over 256, a mismatch of up to 9 levels.)
// hue: shift in degrees, rounded to 2 (default [-10, 10]); saturation:
// factor >= 0 (default [0.8, 1.2]). The round trip alone moves channels by
// up to 5 levels.
func newHueSaturation(a *Args) (Op, error) {
	hue, err := a.Float("hue", Uniform(-10, 10), -360, 360)
	if err != nil {
		return nil, err
	}
	sat, err := a.Float("saturation", Uniform(0.8, 1.2), 0, 100)
	if err != nil {
		return nil, err
	}
	return &hueSaturation{name: a.Op(), hue: hue, saturation: sat}, nil
}

func (o *hueSaturation) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	hue, sat := o.hue.Draw(rng), o.saturation.Draw(rng)
	dh := int(math.Round(hue / 2))
	var t [3 * 256]byte
	for i := 0; i < 256; i++ {
		t[3*i] = byte(i)
		if i < 180 {
			t[3*i] = byte(((i+dh)%180 + 180) % 180)
		}
		t[3*i+1] = clip8(float64(i) * sat)
		t[3*i+2] = byte(i)
	}
	lut, err := gocv.NewMatFromBytes(1, 256, gocv.MatTypeCV8UC3, t[:])
	if err != nil {
		return log, applyErr(o.name, err)
	}
	defer lut.Close()
	hsv := gocv.NewMat()
	defer hsv.Close()
	gocv.CvtColor(s.Image, &hsv, gocv.ColorBGRToHSV)
	gocv.LUT(hsv, lut, &hsv)
	gocv.CvtColor(hsv, &s.Image, gocv.ColorHSVToBGR)
	return append(log, Applied{Op: o.name, Params: map[string]any{"hue": float64(2 * dh), "saturation": sat}}), nil
}

type jpegQuality struct {
	name    string
	quality Param
}

// newJPEGQuality: jpeg_quality encodes the image as JPEG and decodes it
// back with OpenCV (imgaug JpegCompression, whose compression is
// 100 - quality). quality: 1..100 (default [30, 90]).
func newJPEGQuality(a *Args) (Op, error) {
	q, err := a.Int("quality", Uniform(30, 90), 1, 100)
	if err != nil {
		return nil, err
	}
	return &jpegQuality{name: a.Op(), quality: q}, nil
}

func (o *jpegQuality) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	q := o.quality.DrawInt(rng)
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, s.Image, []int{gocv.IMWriteJpegQuality, q})
	if err != nil {
		return log, applyErr(o.name, err)
	}
	defer buf.Close()
	m, err := gocv.IMDecode(buf.GetBytes(), gocv.IMReadColor)
	if err != nil {
		return log, applyErr(o.name, err)
	}
	if m.Empty() {
		m.Close()
		return log, applyErr(o.name, fmt.Errorf("decoding the JPEG gave no image"))
	}
	replace(&s.Image, m)
	return append(log, Applied{Op: o.name, Params: map[string]any{"quality": q}}), nil
}

// blurOp runs one of OpenCV's blurs on the image.
type blurOp struct {
	name   string
	kernel Param // odd sizes; zero Param for gaussian_blur without kernel
	sigma  Param // gaussian_blur only
	hasK   bool
}

// newMeanBlur: mean_blur is a box filter (cv::blur; imgaug AverageBlur).
// kernel: odd size in pixels (default [3, 7]).
func newMeanBlur(a *Args) (Op, error) {
	k, err := a.Kernel("kernel", Uniform(3, 7), maxKernel)
	return &blurOp{name: a.Op(), kernel: k, hasK: true}, err
}

// newMedianBlur: median_blur is cv::medianBlur (imgaug MedianBlur).
// kernel: odd size in pixels (default [3, 5]).
func newMedianBlur(a *Args) (Op, error) {
	k, err := a.Kernel("kernel", Uniform(3, 5), maxKernel)
	return &blurOp{name: a.Op(), kernel: k, hasK: true}, err
}

// newGaussianBlur: gaussian_blur is cv::GaussianBlur (imgaug GaussianBlur).
// sigma: in pixels (default [0, 3] when no kernel is given, else 0, which
// OpenCV derives from the kernel); kernel: odd size (default: OpenCV's
// choice for sigma). A draw with sigma < 0.01 and no kernel leaves the
// image as it is, as imgaug does.
func newGaussianBlur(a *Args) (Op, error) {
	o := &blurOp{name: a.Op(), hasK: a.Has("kernel")}
	var err error
	if o.hasK {
		if o.kernel, err = a.Kernel("kernel", Const(3), maxKernel); err != nil {
			return nil, err
		}
	}
	def := Uniform(0, 3)
	if o.hasK {
		def = Const(0)
	}
	o.sigma, err = a.Float("sigma", def, 0, 100)
	return o, err
}

func (o *blurOp) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	k := 0
	if o.hasK {
		k = o.kernel.DrawInt(rng)
	}
	dst := gocv.NewMat()
	params := map[string]any{"kernel": k}
	switch o.name {
	case "mean_blur":
		gocv.Blur(s.Image, &dst, image.Pt(k, k))
	case "median_blur":
		gocv.MedianBlur(s.Image, &dst, k)
	default:
		sigma := o.sigma.Draw(rng)
		params["sigma"] = sigma
		if k == 0 && sigma < 0.01 {
			dst.Close()
			return append(log, Applied{Op: o.name, Params: params}), nil
		}
		gocv.GaussianBlur(s.Image, &dst, image.Pt(k, k), sigma, sigma, gocv.BorderReflect101)
	}
	replace(&s.Image, dst)
	return append(log, Applied{Op: o.name, Params: params}), nil
}

type occlusion struct {
	name        string
	count       Param
	size        Param
	fill        Enum
	value       Param
	occludeMask float64
}

// newOcclusion: occlusion covers random rectangles (imgaug Cutout and
// CoarseDropout). count: how many (default [1, 3]); size: each side as a
// fraction of the image side, drawn per side (default [0.05, 0.25]); fill:
// noise (uniform random bytes), constant (value) or patch (a same-size block
// copied from a random place in the image), or a list to choose from per
// rectangle (default noise); value: the constant's grey level (default
// 128); occlude_mask: also set mask, alpha and trimap to background under
// each rectangle (true, false or a chance; default false).
func newOcclusion(a *Args) (Op, error) {
	o := &occlusion{name: a.Op()}
	var err error
	if o.count, err = a.Int("count", Uniform(1, 3), 0, 1000); err != nil {
		return nil, err
	}
	if o.size, err = a.Float("size", Uniform(0.05, 0.25), 0, 1); err != nil {
		return nil, err
	}
	if o.fill, err = a.Enum("fill", "noise", "noise", "constant", "patch"); err != nil {
		return nil, err
	}
	if o.value, err = a.Int("value", Const(128), 0, 255); err != nil {
		return nil, err
	}
	if o.occludeMask, err = a.Chance("occlude_mask", 0); err != nil {
		return nil, err
	}
	return o, nil
}

func (o *occlusion) Apply(s *Sample, rng *rand.Rand, log []Applied) ([]Applied, error) {
	rows, cols := s.Image.Rows(), s.Image.Cols()
	px, err := s.Image.DataPtrUint8()
	if err != nil {
		return log, applyErr(o.name, err)
	}
	var labels [][]byte
	clearLabels := chance(rng, o.occludeMask)
	if clearLabels {
		for _, m := range []*gocv.Mat{&s.Mask, &s.Alpha, &s.Trimap} {
			if present(m) {
				b, err := m.DataPtrUint8()
				if err != nil {
					return log, applyErr(o.name, err)
				}
				labels = append(labels, b)
			}
		}
	}
	n := o.count.DrawInt(rng)
	rects := make([]map[string]any, 0, n)
	var tmp []byte
	for range n {
		w := max(1, min(cols, int(math.Round(o.size.Draw(rng)*float64(cols)))))
		h := max(1, min(rows, int(math.Round(o.size.Draw(rng)*float64(rows)))))
		x, y := rng.IntN(cols-w+1), rng.IntN(rows-h+1)
		fill := o.fill.Draw(rng)
		rect := map[string]any{"x": x, "y": y, "w": w, "h": h, "fill": fill}
		rects = append(rects, rect)
		switch fill {
		case "noise":
			g := wyrand(rng.Uint64())
			for r := y; r < y+h; r++ {
				row := px[3*(r*cols+x) : 3*(r*cols+x+w)]
				for i := 0; i < len(row); i += 8 {
					v := g.next()
					for j := i; j < min(i+8, len(row)); j++ {
						row[j] = byte(v)
						v >>= 8
					}
				}
			}
		case "constant":
			v := byte(o.value.DrawInt(rng))
			rect["value"] = int(v)
			for r := y; r < y+h; r++ {
				row := px[3*(r*cols+x) : 3*(r*cols+x+w)]
				for i := range row {
					row[i] = v
				}
			}
		case "patch":
			sx, sy := rng.IntN(cols-w+1), rng.IntN(rows-h+1)
			rect["from_x"], rect["from_y"] = sx, sy
			// Copy out first: source and target may overlap.
			tmp = tmp[:0]
			for r := sy; r < sy+h; r++ {
				tmp = append(tmp, px[3*(r*cols+sx):3*(r*cols+sx+w)]...)
			}
			for r := 0; r < h; r++ {
				copy(px[3*((y+r)*cols+x):], tmp[3*w*r:3*w*(r+1)])
			}
		}
		for _, l := range labels {
			for r := y; r < y+h; r++ {
				clear(l[r*cols+x : r*cols+x+w])
			}
		}
	}
	return append(log, Applied{Op: o.name, Params: map[string]any{
		"rects": rects, "occlude_mask": clearLabels,
	}}), nil
}
