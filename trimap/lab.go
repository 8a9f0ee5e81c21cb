package trimap

import "math"

// Lab is an image in CIELAB (D65 white, 2° observer) as three flat,
// row-major float32 planes: L* in [0,100], a* and b* roughly in
// [-128,128].
type Lab struct {
	W, H    int
	L, A, B []float32
}

// sRGB (IEC 61966-2-1) to CIE XYZ, D65, as given by Bruce Lindbloom,
// "RGB/XYZ Matrices" (http://www.brucelindbloom.com/Eqn_RGB_XYZ_Matrix.html).
const (
	mXR, mXG, mXB = 0.4124564, 0.3575761, 0.1804375
	mYR, mYG, mYB = 0.2126729, 0.7151522, 0.0721750
	mZR, mZG, mZB = 0.0193339, 0.1191920, 0.9503041

	// D65 reference white, the row sums of the matrix above.
	whiteX, whiteY, whiteZ = 0.95047, 1.0, 1.08883

	labEps   = 216.0 / 24389.0 // (6/29)^3
	labKappa = 24389.0 / 27.0  // (29/3)^3

	// fLUTSize intervals of the table of f(t) over t in [0,1]; linear
	// interpolation keeps the error in L*, a*, b* below 0.002.
	fLUTSize = 8192
)

// srgbLinear is the sRGB decoding function of IEC 61966-2-1 for c in [0,1].
func srgbLinear(c float64) float64 {
	if c <= 0.04045 {
		return c / 12.92
	}
	return math.Pow((c+0.055)/1.055, 2.4)
}

// labF is the CIELAB companding function f(t) of CIE 15:2004.
func labF(t float64) float64 {
	if t > labEps {
		return math.Cbrt(t)
	}
	return (labKappa*t + 16) / 116
}

// SRGBToLab converts one 8-bit sRGB colour to CIELAB (D65) in float64,
// with no tables, and returns L*, a*, b*: the reference that [ToLab]
// approximates.
func SRGBToLab(r, g, b uint8) (float64, float64, float64) {
	R, G, B := srgbLinear(float64(r)/255), srgbLinear(float64(g)/255), srgbLinear(float64(b)/255)
	x := (mXR*R + mXG*G + mXB*B) / whiteX
	y := (mYR*R + mYG*G + mYB*B) / whiteY
	z := (mZR*R + mZG*G + mZB*B) / whiteZ
	fx, fy, fz := labF(x), labF(y), labF(z)
	return 116*fy - 16, 500 * (fx - fy), 200 * (fy - fz)
}

// labTables holds the look-up tables of the fast conversion; they are
// built per call (about 0.1 ms), which keeps the package free of globals.
type labTables struct {
	// lin[c] is the linear value of 8-bit code c, pre-multiplied into the
	// nine matrix entries divided by the white point.
	xr, xg, xb, yr, yg, yb, zr, zg, zb [256]float32
	f                                  [fLUTSize + 2]float32
}

func newLabTables() *labTables {
	t := new(labTables)
	for c := 0; c < 256; c++ {
		v := srgbLinear(float64(c) / 255)
		t.xr[c], t.xg[c], t.xb[c] = float32(mXR*v/whiteX), float32(mXG*v/whiteX), float32(mXB*v/whiteX)
		t.yr[c], t.yg[c], t.yb[c] = float32(mYR*v/whiteY), float32(mYG*v/whiteY), float32(mYB*v/whiteY)
		t.zr[c], t.zg[c], t.zb[c] = float32(mZR*v/whiteZ), float32(mZG*v/whiteZ), float32(mZB*v/whiteZ)
	}
	// Cube roots from a bit-level first guess (within 4 %) and three
	// Halley steps: independent per entry, so they pipeline, where
	// math.Cbrt on every entry would cost most of a millisecond.
	for i := range t.f {
		v := float64(i) / fLUTSize
		if v <= labEps {
			t.f[i] = float32(labF(v))
			continue
		}
		y := math.Float64frombits(math.Float64bits(v)/3 + 0x2a9f7893782da1ce)
		for range 3 {
			y3 := y * y * y
			y *= (y3 + 2*v) / (2*y3 + v)
		}
		t.f[i] = float32(y)
	}
	return t
}

// fInterp evaluates f(v) for v in [0, 1] (slightly above 1 is tolerated).
func (t *labTables) fInterp(v float32) float32 {
	s := v * fLUTSize
	if s < 0 {
		s = 0
	}
	i := int(s)
	if i > fLUTSize {
		i = fLUTSize
	}
	fr := s - float32(i)
	f := t.f[i : i+2 : i+2]
	return f[0] + fr*(f[1]-f[0])
}

// ToLab converts an 8-bit BGR image to CIELAB planes. It uses a 256-entry
// sRGB linearisation table and an interpolated table of the cube root, and
// agrees with [SRGBToLab] to within 0.002 in each of L*, a*, b*.
func ToLab(im Image) (*Lab, error) {
	if err := im.check(); err != nil {
		return nil, err
	}
	n := im.W * im.H
	lab := &Lab{W: im.W, H: im.H, L: make([]float32, n), A: make([]float32, n), B: make([]float32, n)}
	newLabTables().convert(im.Pix, lab.L, lab.A, lab.B)
	return lab, nil
}

func (t *labTables) convert(bgr []uint8, L, A, B []float32) {
	A = A[:len(L)]
	B = B[:len(L)]
	bgr = bgr[:3*len(L)]
	for i := range L {
		p := bgr[3*i : 3*i+3 : 3*i+3]
		b, g, r := p[0], p[1], p[2]
		x := t.xr[r] + t.xg[g] + t.xb[b]
		y := t.yr[r] + t.yg[g] + t.yb[b]
		z := t.zr[r] + t.zg[g] + t.zb[b]
		fx, fy, fz := t.fInterp(x), t.fInterp(y), t.fInterp(z)
		L[i] = 116*fy - 16
		A[i] = 500 * (fx - fy)
		B[i] = 200 * (fy - fz)
	}
}
