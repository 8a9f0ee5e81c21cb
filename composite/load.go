package composite

import (
	"errors"
	"fmt"
	"image"
	"path/filepath"
	"strings"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/cvguard"
)

// Bad input. Each is wrapped with the offending path; test with errors.Is.
// Callers that read the files return ErrUnreadable (and, for a
// background, ErrBadBackground) for files they cannot read, so one test
// covers both.
var (
	// ErrNoAlpha: the cut-out decoded without an alpha channel (a JPEG, or a
	// PNG saved as RGB).
	ErrNoAlpha = errors.New("cut-out has no alpha channel: for an image with a separate matte, use a folder: source with an alpha dir")
	// ErrTransparent: every alpha value of the cut-out is 0.
	ErrTransparent = errors.New("cut-out is fully transparent")
	// ErrUnreadable: the file is missing, truncated or not a decodable image.
	ErrUnreadable = errors.New("cannot read image")
	// ErrSizeMismatch: an image and its separate alpha differ in size.
	ErrSizeMismatch = errors.New("alpha and image sizes differ")
	// ErrBadBackground: a background cannot be read; it also wraps the cause.
	ErrBadBackground = errors.New("background cannot be read")
)

// Foreground is a decoded cut-out: straight (un-premultiplied) colour and
// alpha, read-only once made, so one value may serve many goroutines.
type Foreground struct {
	// ID names the cut-out in records and seeds its draws; the loaders set
	// the file name (not the full path, so moving a folder keeps the draws).
	ID string
	// LooksPremultiplied is set when a cut-out loaded as straight alpha has
	// partly transparent pixels whose colour never exceeds their alpha: the
	// signature of premultiplied data, which composites with dark fringes
	// unless loaded with premultiplied set.
	LooksPremultiplied bool

	bgra gocv.Mat // 8UC4, straight colour
}

// Size returns the cut-out's width and height.
func (f *Foreground) Size() image.Point { return image.Pt(f.bgra.Cols(), f.bgra.Rows()) }

// Close frees the cut-out's pixels.
func (f *Foreground) Close() error { return f.bgra.Close() }

// DecodeCutout decodes data, the bytes of the RGBA cut-out file at path
// (PNG, WebP; 16-bit is reduced to 8-bit). path names it in errors and its
// base name is the ID. premultiplied says its colour is already multiplied
// by alpha; it is then divided back, so low-alpha colours keep only the
// precision the file had.
func DecodeCutout(path string, data []byte, premultiplied bool) (*Foreground, error) {
	m, err := decode(path, data, gocv.IMReadUnchanged)
	if err != nil {
		return nil, err
	}
	if m.Channels() != 4 {
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, ErrNoAlpha)
	}
	if err := to8U(&m); err != nil {
		m.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	fg := &Foreground{ID: filepath.Base(path), bgra: m}
	if err := fg.check(premultiplied); err != nil {
		fg.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return fg, nil
}

// DecodeImageAlpha makes a cut-out from an image and its separate matte,
// the bytes of the files at imagePath and alphaPath. The foreground colour
// is then the image itself (F ≈ I), which carries the original
// background's colour into the soft edges; see the package comment.
func DecodeImageAlpha(imagePath string, image []byte, alphaPath string, alpha []byte) (*Foreground, error) {
	img, err := decode(imagePath, image, gocv.IMReadColor)
	if err != nil {
		return nil, err
	}
	defer img.Close()
	a, err := decode(alphaPath, alpha, gocv.IMReadGrayScale)
	if err != nil {
		return nil, err
	}
	defer a.Close()
	fg, err := NewForeground(filepath.Base(imagePath), img, a, false)
	if err != nil {
		return nil, fmt.Errorf("%s, %s: %w", imagePath, alphaPath, err)
	}
	return fg, nil
}

// NewForeground makes a cut-out from in-memory layers (copied): bgr is 8-bit
// BGR or grey, alpha 8-bit single channel of the same size.
func NewForeground(id string, bgr, alpha gocv.Mat, premultiplied bool) (*Foreground, error) {
	if bgr.Empty() || alpha.Empty() {
		return nil, fmt.Errorf("%s: %w: empty layer", id, ErrUnreadable)
	}
	if bgr.Rows() != alpha.Rows() || bgr.Cols() != alpha.Cols() {
		return nil, fmt.Errorf("%s: %w: image %dx%d, alpha %dx%d", id, ErrSizeMismatch,
			bgr.Cols(), bgr.Rows(), alpha.Cols(), alpha.Rows())
	}
	if alpha.Type() != gocv.MatTypeCV8UC1 {
		return nil, fmt.Errorf("%s: alpha must be 8-bit single channel, got %v", id, alpha.Type())
	}
	c := bgr.Clone() // continuous, and ours to convert
	defer c.Close()
	switch c.Type() {
	case gocv.MatTypeCV8UC3:
	case gocv.MatTypeCV8UC1:
		gocv.CvtColor(c, &c, gocv.ColorGrayToBGR)
	default:
		return nil, fmt.Errorf("%s: image must be 8-bit BGR or grey, got %v", id, c.Type())
	}
	a := alpha.Clone()
	defer a.Close()
	fg := &Foreground{ID: id, bgra: gocv.NewMatWithSize(c.Rows(), c.Cols(), gocv.MatTypeCV8UC4)}
	src, _ := c.DataPtrUint8()
	as, _ := a.DataPtrUint8()
	dst, err := fg.bgra.DataPtrUint8()
	if err != nil {
		fg.Close()
		return nil, err
	}
	for p, av := range as {
		dst[4*p], dst[4*p+1], dst[4*p+2], dst[4*p+3] = src[3*p], src[3*p+1], src[3*p+2], av
	}
	if err := fg.check(premultiplied); err != nil {
		fg.Close()
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	return fg, nil
}

// check rejects a fully transparent cut-out, un-premultiplies, and sets
// LooksPremultiplied, in one pass over the pixels.
func (f *Foreground) check(premultiplied bool) error {
	d, err := f.bgra.DataPtrUint8()
	if err != nil {
		return err
	}
	visible, partial, over := false, 0, false
	for i := 0; i < len(d); i += 4 {
		a := d[i+3]
		if a == 0 {
			if premultiplied {
				d[i], d[i+1], d[i+2] = 0, 0, 0
			}
			continue
		}
		visible = true
		if a == 255 {
			continue
		}
		partial++
		if premultiplied {
			for c := i; c < i+3; c++ {
				v := (int(d[c])*255 + int(a)/2) / int(a)
				d[c] = uint8(min(v, 255))
			}
		} else if !over && (int(d[i]) > int(a)+1 || int(d[i+1]) > int(a)+1 || int(d[i+2]) > int(a)+1) {
			over = true
		}
	}
	if !visible {
		return ErrTransparent
	}
	f.LooksPremultiplied = !premultiplied && !over && partial >= 100
	return nil
}

// Background is a decoded background photo or a procedural pattern kind;
// read-only once made.
type Background struct {
	// ID names the background in records: the path given to
	// DecodeBackground, or "procedural:KIND".
	ID string

	bgr     gocv.Mat // 8UC3; empty for procedural
	pattern string
}

// ProceduralBackground returns, for an id made by ParseProcedural, a
// pattern drawn afresh for each composite.
func ProceduralBackground(id string) (*Background, error) {
	kind, ok := strings.CutPrefix(id, proceduralPrefix)
	if !ok || !validPattern(kind) {
		return nil, fmt.Errorf("%s: unknown pattern %q (have %s)", id, kind, strings.Join(PatternKinds(), ", "))
	}
	return &Background{ID: id, pattern: kind}, nil
}

// DecodeBackground decodes data, the bytes of the background image at path
// (JPEG, PNG, WebP; grey and palette images become BGR, alpha is dropped).
// path is the ID and names it in errors.
func DecodeBackground(path string, data []byte) (*Background, error) {
	m, err := decode(path, data, gocv.IMReadColor)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadBackground, err)
	}
	if err := to8U(&m); err != nil {
		m.Close()
		return nil, fmt.Errorf("%w: %s: %w", ErrBadBackground, path, err)
	}
	return &Background{ID: path, bgr: m}, nil
}

// NewBackground makes a background from an in-memory 8-bit BGR or grey
// image (copied).
func NewBackground(id string, img gocv.Mat) (*Background, error) {
	switch img.Type() {
	case gocv.MatTypeCV8UC3:
		return &Background{ID: id, bgr: img.Clone()}, nil
	case gocv.MatTypeCV8UC1:
		m := gocv.NewMat()
		gocv.CvtColor(img, &m, gocv.ColorGrayToBGR)
		return &Background{ID: id, bgr: m}, nil
	}
	return nil, fmt.Errorf("%w: %s: want 8-bit BGR or grey, got %v", ErrBadBackground, id, img.Type())
}

// Size returns the photo's width and height; zero for a pattern, which is
// drawn at the canvas size.
func (b *Background) Size() image.Point {
	if b.Procedural() {
		return image.Point{}
	}
	return image.Pt(b.bgr.Cols(), b.bgr.Rows())
}

// Procedural reports whether the background is a drawn pattern.
func (b *Background) Procedural() bool { return b.pattern != "" }

// Close frees the background's pixels.
func (b *Background) Close() error { return b.bgr.Close() }

// decode decodes the bytes of one image file, naming its path in errors.
// Truncation is the reader's to check: a cut JPEG decodes, grey-filled.
func decode(path string, data []byte, flags gocv.IMReadFlag) (gocv.Mat, error) {
	if len(data) == 0 {
		return gocv.Mat{}, fmt.Errorf("%s: %w: empty file", path, ErrUnreadable)
	}
	// cvguard.IMDecode returns OpenCV's exceptions (a size past its own
	// limit when --max-pixels is raised) as errors; gocv's would abort.
	m, err := cvguard.IMDecode(data, flags)
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("%s: %w: %w", path, ErrUnreadable, err)
	}
	if m.Empty() {
		m.Close()
		return gocv.Mat{}, fmt.Errorf("%s: %w: not a supported image or corrupt", path, ErrUnreadable)
	}
	return m, nil
}

// to8U reduces 16-bit and float images to 8 bits in place.
func to8U(m *gocv.Mat) error {
	var scale float32
	switch m.Type() & 7 { // depth bits
	case gocv.MatTypeCV8U:
		return nil
	case gocv.MatTypeCV16U:
		scale = 1.0 / 257
	case gocv.MatTypeCV32F, gocv.MatTypeCV64F:
		scale = 255
	default:
		return fmt.Errorf("unsupported pixel depth %v", m.Type())
	}
	out := gocv.NewMat()
	m.ConvertToWithParams(&out, gocv.MatType(8*(m.Channels()-1)), scale, 0)
	m.Close()
	*m = out
	return nil
}
