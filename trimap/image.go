package trimap

import (
	"errors"
	"fmt"
	"os"

	"gocv.io/x/gocv"
)

// Trimap values.
const (
	Background uint8 = 0
	Unknown    uint8 = 128
	Foreground uint8 = 255
)

// ErrBadInput reports an image, matte or trimap of the wrong size or type.
var ErrBadInput = errors.New("trimap: bad input")

// Image is an 8-bit, 3-channel image in OpenCV's layout: rows top to bottom,
// pixels interleaved as B, G, R. len(Pix) == 3*W*H.
type Image struct {
	W, H int
	Pix  []uint8
}

// Gray is an 8-bit single-channel plane (an alpha matte, a trimap), rows top
// to bottom. len(Pix) == W*H.
type Gray struct {
	W, H int
	Pix  []uint8
}

// NewGray returns a zeroed w x h plane.
func NewGray(w, h int) Gray { return Gray{W: w, H: h, Pix: make([]uint8, w*h)} }

func (im Image) check() error {
	if im.W <= 0 || im.H <= 0 || len(im.Pix) != 3*im.W*im.H {
		return fmt.Errorf("%w: image %dx%d with %d bytes, want 3 bytes per pixel", ErrBadInput, im.W, im.H, len(im.Pix))
	}
	return nil
}

func (g Gray) check(what string) error {
	if g.W <= 0 || g.H <= 0 || len(g.Pix) != g.W*g.H {
		return fmt.Errorf("%w: %s %dx%d with %d bytes, want 1 byte per pixel", ErrBadInput, what, g.W, g.H, len(g.Pix))
	}
	return nil
}

func sameSize(a, b Gray, an, bn string) error {
	if err := a.check(an); err != nil {
		return err
	}
	if err := b.check(bn); err != nil {
		return err
	}
	if a.W != b.W || a.H != b.H {
		return fmt.Errorf("%w: %s is %dx%d but %s is %dx%d", ErrBadInput, an, a.W, a.H, bn, b.W, b.H)
	}
	return nil
}

// ImageFromMat copies an 8UC3 (BGR) or 8UC1 (grey, replicated) Mat.
func ImageFromMat(m gocv.Mat) (Image, error) {
	if m.Empty() {
		return Image{}, fmt.Errorf("%w: empty Mat", ErrBadInput)
	}
	if !m.IsContinuous() { // a region of interest: copy it out first
		c := m.Clone()
		defer c.Close()
		m = c
	}
	switch m.Type() {
	case gocv.MatTypeCV8UC3:
		return Image{W: m.Cols(), H: m.Rows(), Pix: m.ToBytes()}, nil
	case gocv.MatTypeCV8UC1:
		g := Gray{W: m.Cols(), H: m.Rows(), Pix: m.ToBytes()}
		im := Image{W: g.W, H: g.H, Pix: make([]uint8, 3*len(g.Pix))}
		for i, v := range g.Pix {
			im.Pix[3*i], im.Pix[3*i+1], im.Pix[3*i+2] = v, v, v
		}
		return im, nil
	}
	return Image{}, fmt.Errorf("%w: Mat type %v, want 8UC3 or 8UC1", ErrBadInput, m.Type())
}

// GrayFromMat copies an 8UC1 Mat.
func GrayFromMat(m gocv.Mat) (Gray, error) {
	if m.Empty() {
		return Gray{}, fmt.Errorf("%w: empty Mat", ErrBadInput)
	}
	if m.Type() != gocv.MatTypeCV8UC1 {
		return Gray{}, fmt.Errorf("%w: Mat type %v, want 8UC1", ErrBadInput, m.Type())
	}
	if !m.IsContinuous() {
		c := m.Clone()
		defer c.Close()
		m = c
	}
	return Gray{W: m.Cols(), H: m.Rows(), Pix: m.ToBytes()}, nil
}

// Mat returns a new 8UC3 Mat holding a copy of im. The caller closes it.
func (im Image) Mat() (gocv.Mat, error) {
	if err := im.check(); err != nil {
		return gocv.Mat{}, err
	}
	return gocv.NewMatFromBytes(im.H, im.W, gocv.MatTypeCV8UC3, append([]uint8(nil), im.Pix...))
}

// Mat returns a new 8UC1 Mat holding a copy of g. The caller closes it.
func (g Gray) Mat() (gocv.Mat, error) {
	if err := g.check("plane"); err != nil {
		return gocv.Mat{}, err
	}
	return gocv.NewMatFromBytes(g.H, g.W, gocv.MatTypeCV8UC1, append([]uint8(nil), g.Pix...))
}

// readAs decodes path with flags and converts the Mat with conv.
func readAs[T any](path string, flags gocv.IMReadFlag, conv func(gocv.Mat) (T, error)) (T, error) {
	var zero T
	if _, err := os.Stat(path); err != nil {
		return zero, fmt.Errorf("trimap: %w", err)
	}
	m := gocv.IMRead(path, flags)
	defer m.Close()
	if m.Empty() {
		return zero, fmt.Errorf("trimap: cannot read image %s", path)
	}
	v, err := conv(m)
	if err != nil {
		return zero, fmt.Errorf("%s: %w", path, err)
	}
	return v, nil
}

// ReadImage reads an image file as 8-bit BGR. It has no size check: segtool's commands decode untrusted files
// through the dataset package's guarded decoder instead.
func ReadImage(path string) (Image, error) { return readAs(path, gocv.IMReadColor, ImageFromMat) }

// ReadGray reads an image file (an alpha matte, a trimap) as one 8-bit
// channel. Colour files are converted to grey by OpenCV.
func ReadGray(path string) (Gray, error) { return readAs(path, gocv.IMReadGrayScale, GrayFromMat) }

// writeMat writes the Mat that toMat makes to path; the format follows the
// extension.
func writeMat(path string, toMat func() (gocv.Mat, error)) error {
	m, err := toMat()
	if err != nil {
		return err
	}
	defer m.Close()
	if !gocv.IMWrite(path, m) {
		return fmt.Errorf("trimap: cannot write %s", path)
	}
	return nil
}

// WriteImage writes im to path; the format follows the extension.
func WriteImage(path string, im Image) error { return writeMat(path, im.Mat) }

// WriteGray writes g to path; the format follows the extension.
func WriteGray(path string, g Gray) error { return writeMat(path, g.Mat) }

// EncodePNG renders g as PNG bytes with OpenCV's default (fast) settings.
func EncodePNG(g Gray) ([]byte, error) {
	m, err := g.Mat()
	if err != nil {
		return nil, err
	}
	defer m.Close()
	buf, err := gocv.IMEncode(gocv.PNGFileExt, m)
	if err != nil {
		return nil, err
	}
	defer buf.Close()
	out := append([]byte(nil), buf.GetBytes()...)
	if len(out) == 0 {
		return nil, errors.New("PNG encoder returned no bytes")
	}
	return out, nil
}

// Uniform reports whether every pixel of g has the same value, and that
// value. An empty plane is not uniform.
func (g Gray) Uniform() (uint8, bool) { return uniform(g.Pix) }
