package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/png"

	"github.com/segtool/segtool/cvguard"
	"gocv.io/x/gocv"
)

// Reject codes: short, stable categories for reject tables.
const (
	CodeMissingPartner = "missing-partner"
	CodeSizeMismatch   = "size-mismatch"
	CodeTruncated      = "truncated"
	CodeCorrupt        = "corrupt"
	CodeAppleDouble    = "appledouble"
	CodeNotImage       = "not-image"
	CodeUnsupported    = "unsupported-image"
	CodeEmptyMask      = "empty-mask"
	CodeDuplicateID    = "duplicate-id"
	CodeUnsafeID       = "unsafe-id" // the id would not be a safe file stem (CheckID)
	CodeTooSmall       = "too-small"
	CodeWrite          = "write-failed"
	// CodeTooLarge: the header claims more pixels than Decoder.MaxPixels.
	CodeTooLarge = "too-large"
	// CodeAmbiguousOrientation flags a sample whose image has an EXIF
	// orientation that its labels' size cannot confirm.
	CodeAmbiguousOrientation = "ambiguous-orientation"
)

// SampleError is a per-sample failure with a reject code. It wraps the
// underlying error and names the file.
type SampleError struct {
	Code string
	Path string
	Err  error
}

func (e *SampleError) Error() string { return e.Path + ": " + e.Err.Error() }
func (e *SampleError) Unwrap() error { return e.Err }

// CodeOf returns the reject code of the *SampleError in err's chain, or
// fallback when there is none.
func CodeOf(err error, fallback string) string {
	var se *SampleError
	if errors.As(err, &se) && se.Code != "" {
		return se.Code
	}
	return fallback
}

func sampleErr(code, path, format string, args ...any) error {
	return &SampleError{Code: code, Path: path, Err: fmt.Errorf(format, args...)}
}

// Container kinds recognised by their magic bytes.
const (
	kindJPEG = "jpeg"
	kindPNG  = "png"
	kindBMP  = "bmp"
	kindTIFF = "tiff"
	kindWebP = "webp"
)

// sniff names the container from its first bytes; an empty string means the
// bytes are no image format segtool reads.
func sniff(b []byte) string {
	switch {
	case len(b) >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF:
		return kindJPEG
	case len(b) >= 8 && bytes.Equal(b[:8], []byte("\x89PNG\r\n\x1a\n")):
		return kindPNG
	case len(b) >= 2 && b[0] == 'B' && b[1] == 'M':
		return kindBMP
	case len(b) >= 4 && (bytes.Equal(b[:4], []byte("II*\x00")) || bytes.Equal(b[:4], []byte("MM\x00*"))):
		return kindTIFF
	case len(b) >= 12 && bytes.Equal(b[:4], []byte("RIFF")) && bytes.Equal(b[8:12], []byte("WEBP")):
		return kindWebP
	}
	return ""
}

// CheckComplete reports a JPEG or PNG file cut short. libjpeg decodes a
// truncated JPEG with only a warning and grey rows at the bottom, so OpenCV
// would hand back a plausible image: the end-of-image marker, found by
// walking the segments, is the reliable test. A PNG must end with its IEND
// chunk. Other bytes pass.
func CheckComplete(b []byte) error {
	switch sniff(b) {
	case kindJPEG:
		if jpegTruncated(b) {
			return errors.New("truncated JPEG: data ends before its end-of-image marker")
		}
	case kindPNG:
		if !bytes.Contains(b[max(0, len(b)-16):], []byte("IEND")) {
			return errors.New("truncated PNG: no IEND chunk")
		}
	}
	return nil
}

// jpegTruncated reports whether JPEG data stops before its end-of-image
// marker. OpenCV decodes such files anyway, filling the missing rows with
// grey and only warning on stderr, so they would pass as backgrounds. The
// walk follows segment lengths, so an EXIF thumbnail's own end marker does
// not count.
func jpegTruncated(b []byte) bool {
	if len(b) < 4 || b[0] != 0xFF || b[1] != 0xD8 {
		return false // not a JPEG
	}
	i := 2
	for {
		for i < len(b) && b[i] != 0xFF {
			i++
		}
		for i < len(b) && b[i] == 0xFF {
			i++
		}
		if i >= len(b) {
			return true
		}
		m := b[i]
		i++
		if m == 0xD9 {
			return false
		}
		if m == 0x01 || (m >= 0xD0 && m <= 0xD7) {
			continue // markers without a length
		}
		if i+2 > len(b) {
			return true
		}
		n := int(b[i])<<8 | int(b[i+1])
		if n < 2 {
			return true
		}
		i += n
		if i > len(b) {
			return true
		}
		if m != 0xDA {
			continue
		}
		// Entropy-coded scan: FF is followed by 00 (stuffing), a restart
		// marker or fill; anything else ends the scan.
		for {
			for i < len(b) && b[i] != 0xFF {
				i++
			}
			if i+1 >= len(b) {
				return true
			}
			if c := b[i+1]; c == 0x00 || (c >= 0xD0 && c <= 0xD7) {
				i += 2
				continue
			}
			if b[i+1] == 0xFF {
				i++
				continue
			}
			break
		}
	}
}

// hasExif reports a JPEG with an APP1 Exif segment. Such a file may carry
// an orientation tag that viewers apply and segtool's unchanged decode does
// not, so it is never hard-linked: re-encoding drops the tag.
func hasExif(b []byte) bool {
	for i := 2; i+10 <= len(b) && b[i] == 0xFF; {
		marker := b[i+1]
		if marker == 0xDA || marker == 0xD9 { // start of scan, end of image
			return false
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if marker == 0xE1 && bytes.HasPrefix(b[i+4:], []byte("Exif\x00")) {
			return true
		}
		i += 2 + n
	}
	return false
}

// pngColorType reads the colour type from a PNG's IHDR (3 = palette).
func pngColorType(b []byte) int {
	if len(b) < 26 {
		return -1
	}
	return int(b[25])
}

// decode checks the header (CheckHeader), then decodes b with OpenCV's
// flags and a JPEG's EXIF orientation (decodeChecked). IMReadUnchanged
// converts no colour, so labels keep their values.
func (d Decoder) decode(path string, b []byte, flags gocv.IMReadFlag) (m gocv.Mat, kind string, orient int, err error) {
	kind, _, err = d.CheckHeader(path, b)
	if err != nil {
		return gocv.Mat{}, kind, 0, err
	}
	m, orient, err = decodeChecked(path, kind, b, flags)
	return m, kind, orient, err
}

// decodeChecked decodes b, whose header CheckHeader passed as kind, with
// OpenCV's flags and applies a JPEG's EXIF orientation as viewers do, by
// the same rule for every flag; orient is that orientation (0 without
// one).
func decodeChecked(path, kind string, b []byte, flags gocv.IMReadFlag) (gocv.Mat, int, error) {
	// upright rotates, so OpenCV must not; IMReadUnchanged is -1, which
	// the OR leaves as it is and which never rotates.
	m, err := decodeGuarded(path, kind, b, flags|gocv.IMReadIgnoreOrientation)
	if err != nil {
		return gocv.Mat{}, 0, err
	}
	if kind != kindJPEG {
		return m, 0, nil
	}
	orient := Orientation(b)
	return upright(m, orient), orient, nil
}

// decodeGuarded decodes b through IMDecode: OpenCV 4.6 catches exceptions
// from a decoder's readHeader and readData, but not the
// CV_IO_MAX_IMAGE_PIXELS assertion between them nor a failed allocation,
// which would abort the process when MaxPixels is raised past them.
func decodeGuarded(path, kind string, b []byte, flags gocv.IMReadFlag) (gocv.Mat, error) {
	m, err := cvguard.IMDecode(b, flags)
	if err != nil {
		return gocv.Mat{}, &SampleError{Code: CodeCorrupt, Path: path, Err: fmt.Errorf("corrupt %s: %w", kind, err)}
	}
	if m.Empty() {
		m.Close()
		return gocv.Mat{}, sampleErr(CodeCorrupt, path, "corrupt %s: the decoder could not read it", kind)
	}
	return m, nil
}

// Decode decodes b with OpenCV's flags (colour conversion as imread does
// it) after CheckHeader, applying a JPEG's EXIF orientation with the same
// rule as RGB and Label. It is for readers that want OpenCV's conversions
// (eval, apply) rather than RGB's refusals.
func (d Decoder) Decode(path string, b []byte, flags gocv.IMReadFlag) (gocv.Mat, error) {
	m, _, _, err := d.decode(path, b, flags)
	return m, err
}

// upright applies EXIF orientation o to m (closing m when it makes a new
// Mat), with the same transforms as OpenCV's own ExifTransform, so an
// image reads as imread with IMREAD_COLOR would show it.
func upright(m gocv.Mat, o int) gocv.Mat {
	if o <= 1 || o > 8 {
		return m
	}
	dst := gocv.NewMat()
	switch o {
	case 2:
		gocv.Flip(m, &dst, 1)
	case 3:
		gocv.Flip(m, &dst, -1)
	case 4:
		gocv.Flip(m, &dst, 0)
	case 5:
		gocv.Transpose(m, &dst)
	default: // 6, 7, 8: transpose, then flip
		t := gocv.NewMat()
		gocv.Transpose(m, &t)
		gocv.Flip(t, &dst, map[int]int{6: 1, 7: -1, 8: 0}[o])
		t.Close()
	}
	m.Close()
	return dst
}

// RGB decodes an image that must be RGB and returns it as BGR 8UC3
// (OpenCV's order). Grey, palette, 16-bit and opaque RGBA inputs are
// converted, each with a note; RGBA with real transparency is refused,
// because dropping its alpha would expose colours nobody meant to show.
func (d Decoder) RGB(path string, b []byte) (m gocv.Mat, kind string, notes []string, err error) {
	raw, kind, orient, err := d.decode(path, b, gocv.IMReadUnchanged)
	if err != nil {
		return gocv.Mat{}, kind, nil, err
	}
	if orient > 1 {
		notes = append(notes, orientationNote(orient))
	}
	if kind == kindPNG && pngColorType(b) == 3 {
		notes = append(notes, "palette image converted to RGB")
	}
	if raw, notes, err = eightBit(raw, path, notes, "image", "pixel"); err != nil {
		return gocv.Mat{}, kind, nil, err
	}
	switch raw.Channels() {
	case 3:
		return raw, kind, notes, nil
	case 1:
		bgr := gocv.NewMat()
		gocv.CvtColor(raw, &bgr, gocv.ColorGrayToBGR)
		raw.Close()
		return bgr, kind, append(notes, "grey image converted to RGB"), nil
	case 4:
		a := gocv.NewMat()
		gocv.ExtractChannel(raw, &a, 3)
		lo, _, _, _ := gocv.MinMaxLoc(a)
		a.Close()
		if lo < 255 {
			raw.Close()
			return gocv.Mat{}, kind, nil, sampleErr(CodeUnsupported, path, "RGBA image with transparent pixels where RGB is expected")
		}
		bgr := gocv.NewMat()
		gocv.CvtColor(raw, &bgr, gocv.ColorBGRAToBGR)
		raw.Close()
		return bgr, kind, append(notes, "opaque RGBA image converted to RGB"), nil
	}
	n := raw.Channels()
	raw.Close()
	return gocv.Mat{}, kind, nil, sampleErr(CodeUnsupported, path, "unsupported channel count %d", n)
}

// eightBit scales a 16-bit m to 8 bits, adding a note about the noun, and
// refuses (closing m) any depth but 8 bits, naming the depth.
func eightBit(m gocv.Mat, path string, notes []string, noun, depth string) (gocv.Mat, []string, error) {
	switch d := m.Type() & 7; d {
	case gocv.MatTypeCV8U:
		return m, notes, nil
	case gocv.MatTypeCV16U:
		eight := gocv.NewMat()
		m.ConvertToWithParams(&eight, gocv.MatTypeCV8U, 1.0/257, 0)
		m.Close()
		return eight, append(notes, "16-bit "+noun+" converted to 8-bit"), nil
	}
	t := m.Type() // read before Close
	m.Close()
	return gocv.Mat{}, notes, sampleErr(CodeUnsupported, path, "unsupported %s depth (OpenCV type %d)", depth, t)
}

// Label decodes a single-channel label image (mask, matte, instance
// ids, trimap) as 8UC1. A palette PNG keeps its indices, which is what
// label files store (OpenCV would expand them to colours); palette is then
// true. 16-bit labels are scaled to 8 bits. A 3- or 4-channel file whose
// colour channels are equal is taken as grey, with a note; real colour is
// refused, since no rule turns arbitrary colours into a person mask.
func (d Decoder) Label(path string, b []byte) (m gocv.Mat, palette bool, notes []string, err error) {
	kind, _, err := d.CheckHeader(path, b)
	if err != nil {
		return gocv.Mat{}, false, nil, err
	}
	if kind == kindPNG && pngColorType(b) == 3 {
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			return gocv.Mat{}, false, nil, sampleErr(CodeCorrupt, path, "corrupt palette PNG: %w", err)
		}
		p, ok := img.(*image.Paletted)
		if !ok {
			return gocv.Mat{}, false, nil, sampleErr(CodeUnsupported, path, "palette PNG decoded as %T", img)
		}
		return palettedToMat(p), true, nil, nil
	}
	raw, orient, err := decodeChecked(path, kind, b, gocv.IMReadUnchanged)
	if err != nil {
		return gocv.Mat{}, false, nil, err
	}
	if orient > 1 {
		notes = append(notes, orientationNote(orient))
	}
	if raw, notes, err = eightBit(raw, path, notes, "label", "label"); err != nil {
		return gocv.Mat{}, false, nil, err
	}
	if raw.Channels() == 1 {
		return raw, false, notes, nil
	}
	if raw.Channels() == 3 || raw.Channels() == 4 {
		chans := gocv.Split(raw)
		raw.Close()
		same := true
		for _, c := range chans[1:3] {
			diff := gocv.NewMat()
			gocv.AbsDiff(chans[0], c, &diff)
			if gocv.CountNonZero(diff) != 0 {
				same = false
			}
			diff.Close()
		}
		for _, c := range chans[1:] {
			c.Close()
		}
		if !same {
			chans[0].Close()
			return gocv.Mat{}, false, nil, sampleErr(CodeUnsupported, path, "label image has colour; expected one grey channel")
		}
		return chans[0], false, append(notes, "grey label stored as colour converted to one channel"), nil
	}
	n := raw.Channels()
	raw.Close()
	return gocv.Mat{}, false, nil, sampleErr(CodeUnsupported, path, "unsupported label channel count %d", n)
}

// AlphaOfRGBA returns the 4th channel of an RGBA image (AISegment's
// matting PNGs store the matte there).
func (d Decoder) AlphaOfRGBA(path string, b []byte) (gocv.Mat, error) {
	raw, _, _, err := d.decode(path, b, gocv.IMReadUnchanged)
	if err != nil {
		return gocv.Mat{}, err
	}
	defer raw.Close()
	if raw.Channels() != 4 {
		return gocv.Mat{}, sampleErr(CodeUnsupported, path, "matting PNG has %d channels; expected RGBA with the matte as alpha", raw.Channels())
	}
	if raw.Type()&7 != gocv.MatTypeCV8U {
		return gocv.Mat{}, sampleErr(CodeUnsupported, path, "matting PNG is not 8-bit")
	}
	a := gocv.NewMat()
	gocv.ExtractChannel(raw, &a, 3)
	return a, nil
}

func palettedToMat(p *image.Paletted) gocv.Mat {
	b := p.Bounds()
	w, h := b.Dx(), b.Dy()
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC1)
	dst, _ := m.DataPtrUint8()
	for y := 0; y < h; y++ {
		copy(dst[y*w:(y+1)*w], p.Pix[y*p.Stride:y*p.Stride+w])
	}
	return m
}

// encode renders m as PNG or JPEG bytes.
func encode(m gocv.Mat, ext string, jpegQuality int) ([]byte, error) {
	var (
		out []byte
		err error
	)
	if ext == ".jpg" {
		out, err = cvguard.IMEncode(gocv.JPEGFileExt, m, []int{gocv.IMWriteJpegQuality, jpegQuality})
	} else {
		// No parameters on purpose: naming any PNG compression level makes
		// OpenCV 4.6 leave its fast path (SUB filter, fastest zlib level,
		// RLE strategy) for an all-filter search that is about 3x slower
		// and, on masks, larger.
		out, err = cvguard.IMEncode(gocv.PNGFileExt, m, nil)
	}
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("encoding %s produced no bytes", ext)
	}
	return out, nil
}
