package trimap

import (
	"math"
	"math/rand/v2"
	"testing"
)

// Published CIELAB (D65, 2° observer) coordinates of 8-bit sRGB colours, as
// given by Bruce Lindbloom's CIE Color Calculator
// (http://www.brucelindbloom.com/ColorCalculator.html, sRGB, D65 reference
// white, no adaptation) and EasyRGB (https://www.easyrgb.com): the primaries,
// the secondaries, white and black.
var publishedLab = []struct {
	name    string
	r, g, b uint8
	L, A, B float64
}{
	{"white", 255, 255, 255, 100, 0, 0},
	{"black", 0, 0, 0, 0, 0, 0},
	{"red", 255, 0, 0, 53.2408, 80.0925, 67.2032},
	{"green", 0, 255, 0, 87.7347, -86.1827, 83.1793},
	{"blue", 0, 0, 255, 32.2970, 79.1875, -107.8602},
	{"yellow", 255, 255, 0, 97.1393, -21.5537, 94.4780},
	{"cyan", 0, 255, 255, 91.1132, -48.0875, -14.1312},
	{"magenta", 255, 0, 255, 60.3242, 98.2343, -60.8249},
}

func TestSRGBToLabPublished(t *testing.T) {
	for _, c := range publishedLab {
		l, a, b := SRGBToLab(c.r, c.g, c.b)
		if math.Abs(l-c.L) > 0.01 || math.Abs(a-c.A) > 0.01 || math.Abs(b-c.B) > 0.01 {
			t.Errorf("%s: SRGBToLab(%d,%d,%d) = (%.4f, %.4f, %.4f), published (%.4f, %.4f, %.4f)",
				c.name, c.r, c.g, c.b, l, a, b, c.L, c.A, c.B)
		}
	}
}

func TestToLabPublished(t *testing.T) {
	im := Image{W: len(publishedLab), H: 1, Pix: make([]uint8, 3*len(publishedLab))}
	for i, c := range publishedLab {
		im.Pix[3*i], im.Pix[3*i+1], im.Pix[3*i+2] = c.b, c.g, c.r // BGR
	}
	lab, err := ToLab(im)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range publishedLab {
		l, a, b := float64(lab.L[i]), float64(lab.A[i]), float64(lab.B[i])
		if math.Abs(l-c.L) > 0.01 || math.Abs(a-c.A) > 0.01 || math.Abs(b-c.B) > 0.01 {
			t.Errorf("%s: ToLab = (%.4f, %.4f, %.4f), published (%.4f, %.4f, %.4f)", c.name, l, a, b, c.L, c.A, c.B)
		}
	}
}

// TestToLabMatchesReference checks the table-driven conversion against the
// float64 formula on every grey level and on random colours.
func TestToLabMatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	const n = 256 + 20000
	im := Image{W: n, H: 1, Pix: make([]uint8, 3*n)}
	for i := range 256 {
		im.Pix[3*i], im.Pix[3*i+1], im.Pix[3*i+2] = uint8(i), uint8(i), uint8(i)
	}
	for i := 3 * 256; i < len(im.Pix); i++ {
		im.Pix[i] = uint8(r.IntN(256))
	}
	lab, err := ToLab(im)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i := range n {
		l, a, b := SRGBToLab(im.Pix[3*i+2], im.Pix[3*i+1], im.Pix[3*i])
		worst = max(worst, math.Abs(l-float64(lab.L[i])), math.Abs(a-float64(lab.A[i])), math.Abs(b-float64(lab.B[i])))
	}
	if worst > 0.002 {
		t.Errorf("ToLab differs from SRGBToLab by up to %.5f, want <= 0.002", worst)
	}
	if l, a, b := lab.L[255], lab.A[255], lab.B[255]; math.Abs(float64(l)-100) > 0.002 || math.Abs(float64(a)) > 0.002 || math.Abs(float64(b)) > 0.002 {
		t.Errorf("white: ToLab = (%v, %v, %v), want (100, 0, 0)", l, a, b)
	}
}

func TestToLabBadInput(t *testing.T) {
	if _, err := ToLab(Image{W: 2, H: 2, Pix: make([]uint8, 11)}); err == nil {
		t.Error("ToLab accepted 11 bytes for a 2x2 image")
	}
}
