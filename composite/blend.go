package composite

import (
	"math"
	"sync"

	"gocv.io/x/gocv"
)

// layer is one placed foreground: canvas-size straight colour and alpha.
type layer struct{ f, a gocv.Mat }

func (l layer) close() {
	l.f.Close()
	l.a.Close()
}

// srgb holds the IEC 61966-2-1 transfer tables. They are constants in all
// but name, built once on first use of linear-light blending.
type srgb struct {
	dec [256]float32   // 8-bit code -> linear 0..1
	enc [65536]float32 // linear quantised to 1/65535 -> code 0..255, unrounded
}

var srgbTables = sync.OnceValue(func() *srgb {
	t := new(srgb)
	for i := range t.dec {
		c := float64(i) / 255
		if c <= 0.04045 {
			t.dec[i] = float32(c / 12.92)
		} else {
			t.dec[i] = float32(math.Pow((c+0.055)/1.055, 2.4))
		}
	}
	// Quantising linear light to 16 bits moves a code by at most 0.03 at
	// the curve's steepest (12.92·255/65535/2), well inside rounding.
	for i := range t.enc {
		l := float64(i) / 65535
		if l <= 0.0031308 {
			t.enc[i] = float32(255 * 12.92 * l)
		} else {
			t.enc[i] = float32(255 * (1.055*math.Pow(l, 1/2.4) - 0.055))
		}
	}
	return t
})

// Alpha is the element of an alpha plane that Over reads: a byte A, meaning
// α = A/255, or a float32 α in [0, 1] as it is.
type Alpha interface{ uint8 | float32 }

// Over is the one alpha blend: F over B on interleaved 3-channel 8-bit
// planes, per pixel and channel
//
//	out = α·F + (1 − α)·B,   α = A/255 (byte alpha) or α (float alpha),
//
// computed in float32 and rounded once to nearest, halves up, saturating
// to 0..255 (NaN gives 0). α = 1 gives F and α = 0 gives B exactly. With
// byte alpha the result equals the integer round((A·F + (255−A)·B)/255):
// that quotient is k/255, never closer than 1/510 to a half, far beyond
// float32 error. f, b and dst hold 3·len(alpha) bytes; dst may be f or b.
// The layered blend of Composite uses the same formula and rounding.
//
// Runs of α = 1 and α = 0 (most of a frame under a hard mask) are copied
// in bulk, which is what the formula gives them (1·F + 0·B and 0·F + 1·B
// are exact in float32), and only the rest is blended.
func Over[A Alpha](dst, f, b []byte, alpha []A) {
	var one A // α = 1: 255 as a byte, 1 as a float
	switch p := any(&one).(type) {
	case *uint8:
		*p = 255
	case *float32:
		*p = 1
	}
	for i, n := 0, len(alpha); i < n; {
		j := i + 1
		switch a := alpha[i]; a {
		case one, 0:
			for j < n && alpha[j] == a {
				j++
			}
			src := f
			if a == 0 {
				src = b
			}
			copy(dst[3*i:3*j], src[3*i:3*j])
		default:
			for j < n && alpha[j] != 0 && alpha[j] != one {
				j++
			}
			blendRun(dst[3*i:3*j], f[3*i:3*j], b[3*i:3*j], alpha[i:j])
		}
		i = j
	}
}

// blendRun is Over's formula, pixel by pixel.
func blendRun[A Alpha](dst, f, b []byte, alpha []A) {
	switch al := any(alpha).(type) {
	case []uint8:
		for p, v := range al {
			over3(dst, f, b, 3*p, float32(v)/255)
		}
	case []float32:
		for p, a := range al {
			over3(dst, f, b, 3*p, a)
		}
	}
}

// over3 blends the three channels at dst[i:i+3].
func over3(dst, f, b []byte, i int, a float32) {
	na := 1 - a
	dst[i] = Round8(mix(a, na, float32(f[i]), float32(b[i])))
	dst[i+1] = Round8(mix(a, na, float32(f[i+1]), float32(b[i+1])))
	dst[i+2] = Round8(mix(a, na, float32(f[i+2]), float32(b[i+2])))
}

// mix is the blend formula on one value, na being 1 − a.
func mix(a, na, f, b float32) float32 { return a*f + na*b }

// blend composites the layers, in order, over bg:
//
//	I = a·F + (1 − a)·B   per layer, B being what lies beneath,
//	alpha = 1 − Π(1 − a),
//
// in float, rounding once per output value. In linear light, F and B are
// decoded from sRGB first and the sum encoded after. Gaussian noise of the
// given sigma (8-bit levels) is added before that one rounding. fOut, when
// not nil, receives the colour F that gives I = alpha·F + (1 − alpha)·B for
// the combined alpha, so a saved (image, alpha, F, B) quadruple stays
// consistent with several layers too.
func blend(img, alpha, mask, fOut, b []byte, layers [][2][]byte, linear bool, sigma float32, r *stream) {
	var ident [256]float32
	dec := &ident
	var enc *[65536]float32
	if linear {
		t := srgbTables()
		dec, enc = &t.dec, &t.enc
	} else {
		for i := range ident {
			ident[i] = float32(i)
		}
	}
	n := len(alpha)
	for p := 0; p < n; p++ {
		o := 3 * p
		if sigma == 0 && uncovered(layers, p) {
			// The background shows through unchanged (an sRGB decode and
			// encode round-trips every code), as it does over most of a
			// canvas.
			img[o], img[o+1], img[o+2] = b[o], b[o+1], b[o+2]
			alpha[p], mask[p] = 0, 0
			if fOut != nil {
				fOut[o], fOut[o+1], fOut[o+2] = 0, 0, 0
			}
			continue
		}
		c0, c1, c2 := dec[b[o]], dec[b[o+1]], dec[b[o+2]]
		var q0, q1, q2 float32 // a·F over layers, in codes, for fOut
		keep := float32(1)
		for _, l := range layers {
			ak := l[1][p]
			if ak == 0 {
				continue
			}
			a := float32(ak) / 255
			na := 1 - a
			f := l[0][o : o+3 : o+3]
			c0 = mix(a, na, dec[f[0]], c0)
			c1 = mix(a, na, dec[f[1]], c1)
			c2 = mix(a, na, dec[f[2]], c2)
			q0 = mix(a, na, float32(f[0]), q0)
			q1 = mix(a, na, float32(f[1]), q1)
			q2 = mix(a, na, float32(f[2]), q2)
			keep *= na
		}
		if linear {
			c0, c1, c2 = enc[encIdx(c0)], enc[encIdx(c1)], enc[encIdx(c2)]
		}
		if sigma > 0 {
			c0 += sigma * r.norm()
			c1 += sigma * r.norm()
			c2 += sigma * r.norm()
		}
		img[o], img[o+1], img[o+2] = Round8(c0), Round8(c1), Round8(c2)
		ta := 1 - keep
		av := Round8(255 * ta)
		alpha[p] = av
		mask[p] = 0
		if av >= 128 {
			mask[p] = 255
		}
		if fOut != nil {
			if ta > 0 {
				fOut[o], fOut[o+1], fOut[o+2] = Round8(q0/ta), Round8(q1/ta), Round8(q2/ta)
			} else {
				fOut[o], fOut[o+1], fOut[o+2] = 0, 0, 0
			}
		}
	}
}

// Round8 rounds half up and saturates to a byte; NaN gives 0.
func Round8(v float32) uint8 {
	switch {
	case !(v > 0):
		return 0
	case v >= 254.5:
		return 255
	}
	return uint8(v + 0.5)
}

// encIdx quantises linear light in 0..1 (a hair above 1 from float error)
// to an enc index.
func encIdx(l float32) int { return min(int(l*65535+0.5), 65535) }

func uncovered(layers [][2][]byte, p int) bool {
	for _, l := range layers {
		if l[1][p] != 0 {
			return false
		}
	}
	return true
}
