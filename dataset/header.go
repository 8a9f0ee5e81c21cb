package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	_ "image/gif" // registered for image.DecodeConfig
	_ "image/jpeg"
	_ "image/png"
	"math"
	"strings"

	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
	_ "golang.org/x/image/webp"
)

// DefaultMaxPixels is the largest image (width × height) decoded when
// Decoder.MaxPixels is 0: 100 MP, well above any camera, well below what
// makes OpenCV throw (CV_IO_MAX_IMAGE_PIXELS, 2^30) or a decode take
// gigabytes.
const DefaultMaxPixels = 100_000_000

// Decoder is segtool's one guarded way from untrusted bytes to a Mat:
// every decode reads the size from the header first (CheckHeader), so no
// OpenCV decoder sees a file that claims more than MaxPixels, and applies
// the JPEG's EXIF orientation (see Orientation). The zero value uses
// DefaultMaxPixels.
type Decoder struct {
	// MaxPixels refuses images whose header claims more pixels
	// (CodeTooLarge); 0 means DefaultMaxPixels.
	MaxPixels int64
}

func (d Decoder) limit() int64 {
	if d.MaxPixels <= 0 {
		return DefaultMaxPixels
	}
	return d.MaxPixels
}

// CheckHeader is what every decode passes first: b must be an image
// format segtool reads (CodeNotImage), a JPEG or PNG must be complete
// (CodeTruncated), its header must parse (CodeCorrupt) and its width ×
// height must not exceed d's limit (CodeTooLarge, naming the size). It returns the
// container kind and the size the header claims, before any orientation.
// Only Go's header parsers run, which read a few hundred bytes and
// allocate nothing in proportion to the claimed size.
func (d Decoder) CheckHeader(path string, b []byte) (kind string, size image.Point, err error) {
	kind = sniff(b)
	if kind == "" {
		return "", size, sampleErr(CodeNotImage, path, "not an image (unrecognised file signature)")
	}
	if err := CheckComplete(b); err != nil {
		return kind, size, &SampleError{Code: CodeTruncated, Path: path, Err: err}
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(b))
	if err != nil && kind == kindBMP {
		// x/image/bmp reads the header of uncompressed BMPs only; OpenCV
		// decodes more, so take the size from BITMAPINFOHEADER.
		cfg, err = bmpConfig(b)
	}
	if err != nil {
		code := CodeCorrupt
		if strings.Contains(err.Error(), "unsupported") {
			code = CodeUnsupported
		}
		return kind, size, sampleErr(code, path, "%s: cannot read its header: %w", kind, err)
	}
	size = image.Pt(cfg.Width, cfg.Height)
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return kind, size, sampleErr(CodeCorrupt, path, "corrupt %s: header claims %dx%d", kind, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > d.limit() {
		return kind, size, sampleErr(CodeTooLarge, path, "image is %dx%d (%d pixels), over the limit of %d pixels",
			cfg.Width, cfg.Height, px, d.limit())
	}
	return kind, size, nil
}

// bmpConfig reads a BMP's size from its BITMAPINFOHEADER (a negative
// height means rows stored top-down).
func bmpConfig(b []byte) (image.Config, error) {
	if len(b) < 26 || binary.LittleEndian.Uint32(b[14:]) < 40 {
		return image.Config{}, errors.New("unsupported BMP header")
	}
	w := int64(int32(binary.LittleEndian.Uint32(b[18:])))
	h := int64(int32(binary.LittleEndian.Uint32(b[22:])))
	if h < 0 {
		h = -h
	}
	if w > math.MaxInt32 || h > math.MaxInt32 {
		return image.Config{}, errors.New("BMP size out of range")
	}
	return image.Config{Width: int(w), Height: int(h)}, nil
}

// Orientation returns the EXIF orientation (1–8, TIFF tag 0x0112) of a
// JPEG, or 0 when it has none or the tag is unreadable. 1 is upright;
// 5–8 swap width and height.
func Orientation(b []byte) int {
	seg := exifSegment(b)
	if len(seg) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(seg[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := int(bo.Uint32(seg[4:8]))
	if ifd < 8 || ifd+2 > len(seg) {
		return 0
	}
	n := int(bo.Uint16(seg[ifd:]))
	for i := 0; i < n; i++ {
		e := ifd + 2 + 12*i
		if e+12 > len(seg) {
			return 0
		}
		if bo.Uint16(seg[e:]) != 0x0112 {
			continue
		}
		if bo.Uint16(seg[e+2:]) != 3 { // SHORT
			return 0
		}
		if v := int(bo.Uint16(seg[e+8:])); v >= 1 && v <= 8 {
			return v
		}
		return 0
	}
	return 0
}

// exifSegment returns the TIFF data of a JPEG's APP1 Exif segment, nil
// when it has none.
func exifSegment(b []byte) []byte {
	if sniff(b) != kindJPEG {
		return nil
	}
	for i := 2; i+4 <= len(b) && b[i] == 0xFF; {
		marker := b[i+1]
		if marker == 0xDA || marker == 0xD9 {
			return nil
		}
		n := int(b[i+2])<<8 | int(b[i+3])
		if n < 2 || i+2+n > len(b) {
			return nil
		}
		body := b[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(body, []byte("Exif\x00\x00")) {
			return body[6:]
		}
		i += 2 + n
	}
	return nil
}

// transposes reports an orientation that swaps width and height.
func transposes(o int) bool { return o >= 5 }

// orientationNote is the row note of an image turned upright.
func orientationNote(o int) string {
	return fmt.Sprintf("EXIF orientation %d applied", o)
}
