package augment

import (
	"image"
	"math"
	"math/rand/v2"
	"testing"

	"gocv.io/x/gocv"
)

// personSample builds a sample whose image colour encodes its mask: a red
// person (head, body and one arm, so flips change it) on blue. Alpha is the
// mask blurred; the trimap marks the band where alpha is soft as 128.
func personSample(t testing.TB, rows, cols int) *Sample {
	t.Helper()
	mask := make([]byte, rows*cols)
	img := make([]byte, 3*rows*cols)
	for y := range rows {
		for x := range cols {
			fx, fy := float64(x)/float64(cols), float64(y)/float64(rows)
			head := sq(fx-0.45)+sq(fy-0.28) < sq(0.13)
			body := sq((fx-0.45)/0.26)+sq((fy-0.75)/0.35) < 1
			arm := fx > 0.6 && fx < 0.85 && fy > 0.45 && fy < 0.55
			i := y*cols + x
			if head || body || arm {
				mask[i] = 255
				img[3*i+2] = 255
			} else {
				img[3*i] = 255
			}
		}
	}
	s := &Sample{Image: matFrom(t, rows, cols, gocv.MatTypeCV8UC3, img), Mask: matFrom(t, rows, cols, gocv.MatTypeCV8UC1, mask)}
	s.Alpha = gocv.NewMat()
	gocv.GaussianBlur(s.Mask, &s.Alpha, image.Pt(9, 9), 0, 0, gocv.BorderReflect101)
	a, _ := s.Alpha.DataPtrUint8()
	tri := make([]byte, len(a))
	for i, v := range a {
		switch v {
		case 0, 255:
			tri[i] = v
		default:
			tri[i] = 128
		}
	}
	s.Trimap = matFrom(t, rows, cols, gocv.MatTypeCV8UC1, tri)
	return s
}

func sq(v float64) float64 { return v * v }

// matFrom copies b into a new OpenCV-owned Mat.
func matFrom(t testing.TB, rows, cols int, typ gocv.MatType, b []byte) gocv.Mat {
	t.Helper()
	m, err := gocv.NewMatFromBytes(rows, cols, typ, b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	return m.Clone()
}

// textureSample is a smooth photo-like image (gradients and soft blobs plus
// mild noise) with the person mask, for codec and blur checks.
func textureSample(t testing.TB, rows, cols int) *Sample {
	t.Helper()
	s := personSample(t, rows, cols)
	r := rand.New(rand.NewPCG(1, 2))
	img := make([]byte, 3*rows*cols)
	for y := range rows {
		for x := range cols {
			// Sensor-like noise: mostly in luminance, as in real photos.
			n := r.NormFloat64() * 2
			for c := range 3 {
				v := 100 + 50*math.Sin(float64(x)/7+float64(c))*math.Cos(float64(y)/11) + 0.3*float64(x+y) + n + r.NormFloat64()*0.5
				img[3*(y*cols+x)+c] = clip8(v)
			}
		}
	}
	s.Image.Close()
	s.Image = matFrom(t, rows, cols, gocv.MatTypeCV8UC3, img)
	return s
}

func mustParse(t testing.TB, yaml string) *Pipeline {
	t.Helper()
	p, err := Parse("test.yaml", []byte(yaml))
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func bytesOf(t testing.TB, m *gocv.Mat) []byte {
	t.Helper()
	if !present(m) {
		return nil
	}
	b, err := m.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte(nil), b...)
}

// apply runs p on a clone of s and returns the clone (caller closes).
func apply(t testing.TB, p *Pipeline, s *Sample, seed int64, id string, copyIdx int) (*Sample, []Applied) {
	t.Helper()
	c := s.Clone()
	log, err := p.Apply(c, seed, id, copyIdx)
	if err != nil {
		c.Close()
		t.Fatal(err)
	}
	return c, log
}
