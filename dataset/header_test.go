package dataset

import (
	"bytes"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/fixture"
	"gocv.io/x/gocv"
)

func TestCheckHeaderRefusesBombs(t *testing.T) {
	cases := map[string][]byte{
		"png 60000x60000":  fixture.PNGHeaderBomb(60000, 60000),
		"jpeg 30000x30000": fixture.JPEGHeaderBomb(t, 30000, 30000),
		"png 20000x20000":  fixture.PNGHeaderBomb(20000, 20000),
	}
	for name, b := range cases {
		_, _, err := Decoder{}.CheckHeader(name, b)
		if CodeOf(err, "") != CodeTooLarge || !strings.Contains(err.Error(), "over the limit of 100000000 pixels") {
			t.Errorf("%s (%d bytes): %v, want %s", name, len(b), err, CodeTooLarge)
		}
		// Every decode path refuses it before OpenCV sees it.
		if _, _, _, err := (Decoder{}).RGB(name, b); CodeOf(err, "") != CodeTooLarge {
			t.Errorf("%s: RGB: %v", name, err)
		}
		if _, _, _, err := (Decoder{}).Label(name, b); CodeOf(err, "") != CodeTooLarge {
			t.Errorf("%s: Label: %v", name, err)
		}
		if _, err := (Decoder{}).Decode(name, b, gocv.IMReadColor); CodeOf(err, "") != CodeTooLarge {
			t.Errorf("%s: Decode: %v", name, err)
		}
	}
	if n := len(fixture.PNGHeaderBomb(60000, 60000)); n > 1000 {
		t.Errorf("bomb PNG is %d bytes", n)
	}
	// MaxPixels raises (or lowers) the limit.
	b := fixture.PNGHeaderBomb(20000, 20000)
	if _, size, err := (Decoder{MaxPixels: 400_000_000}).CheckHeader("x", b); err != nil || size != image.Pt(20000, 20000) {
		t.Errorf("raised limit: %v %v", size, err)
	}
	small := encodePNG(t, image.NewGray(image.Rect(0, 0, 10, 10)))
	if _, _, err := (Decoder{MaxPixels: 99}).CheckHeader("s", small); CodeOf(err, "") != CodeTooLarge {
		t.Errorf("limit 99 on 10x10: %v", err)
	}
	if _, _, err := (Decoder{MaxPixels: 100}).CheckHeader("s", small); err != nil {
		t.Errorf("limit 100 on 10x10: %v", err)
	}
}

// exifJPEG is a w x h JPEG carrying an APP1 Exif segment with orientation o.
func exifJPEG(t testing.TB, w, h int, o uint16) []byte {
	img := image.NewGray(image.Rect(0, 0, w, h))
	img.SetGray(0, 0, color.Gray{Y: 255}) // a marker in the top-left corner
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: 100}); err != nil {
		t.Fatal(err)
	}
	var tiff bytes.Buffer
	tiff.WriteString("MM\x00\x2a\x00\x00\x00\x08")
	binary.Write(&tiff, binary.BigEndian, uint16(1))
	binary.Write(&tiff, binary.BigEndian, []uint16{0x0112, 3, 0, 1, o, 0})
	binary.Write(&tiff, binary.BigEndian, uint32(0))
	seg := append([]byte("Exif\x00\x00"), tiff.Bytes()...)
	app1 := []byte{0xFF, 0xE1, byte((len(seg) + 2) >> 8), byte(len(seg) + 2)}
	b := buf.Bytes()
	return append(append(append([]byte{}, b[:2]...), append(app1, seg...)...), b[2:]...)
}

func TestOrientationAppliedEverywhere(t *testing.T) {
	b := exifJPEG(t, 40, 20, 6)
	if o := Orientation(b); o != 6 {
		t.Fatalf("Orientation = %d, want 6", o)
	}
	m, _, notes, err := (Decoder{}).RGB("o.jpg", b)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Cols() != 20 || m.Rows() != 40 || len(notes) == 0 || notes[0] != "EXIF orientation 6 applied" {
		t.Errorf("RGB: %dx%d %q, want 20x40 with a note", m.Cols(), m.Rows(), notes)
	}
	// Decode (eval, apply) turns it the same way, as OpenCV's own imread.
	for _, flags := range []gocv.IMReadFlag{gocv.IMReadColor, gocv.IMReadGrayScale} {
		d, err := (Decoder{}).Decode("o.jpg", b, flags)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := gocv.IMDecode(b, flags)
		if d.Cols() != 20 || d.Rows() != 40 || ref.Cols() != d.Cols() || ref.Rows() != d.Rows() {
			t.Errorf("Decode %v: %dx%d, OpenCV %dx%d", flags, d.Cols(), d.Rows(), ref.Cols(), ref.Rows())
		}
		d.Close()
		ref.Close()
	}
	if o := Orientation(exifJPEG(t, 4, 4, 9)); o != 0 {
		t.Errorf("orientation 9 read as %d", o)
	}
}

// TestOrientationMatchesOpenCV compares the upright pixels of all eight
// orientations with OpenCV's IMREAD_COLOR.
func TestOrientationMatchesOpenCV(t *testing.T) {
	for o := uint16(1); o <= 8; o++ {
		b := exifJPEG(t, 24, 16, o)
		ours, err := (Decoder{}).Decode("o.jpg", b, gocv.IMReadGrayScale)
		if err != nil {
			t.Fatal(err)
		}
		ref, _ := gocv.IMDecode(b, gocv.IMReadGrayScale)
		diff := gocv.NewMat()
		gocv.AbsDiff(ours, ref, &diff)
		if n := gocv.CountNonZero(diff); n != 0 {
			t.Errorf("orientation %d: %d pixels differ from OpenCV", o, n)
		}
		diff.Close()
		ours.Close()
		ref.Close()
	}
}

func TestCheckHeaderGarbage(t *testing.T) {
	for name, b := range map[string][]byte{
		"text":      []byte("hello"),
		"png magic": []byte("\x89PNG\r\n\x1a\n"),
		"jpeg soi":  {0xFF, 0xD8, 0xFF},
		"bmp short": []byte("BM"),
	} {
		if _, _, err := (Decoder{}).CheckHeader(name, b); err == nil || CodeOf(err, "") == "" {
			t.Errorf("%s: %v, want a coded refusal", name, err)
		}
	}
	if CodeOf(errors.New("plain"), "f") != "f" {
		t.Error("CodeOf fallback")
	}
}

// FuzzImageHeader: CheckHeader and Orientation never panic, and whatever
// passes CheckHeader is within the limit.
func FuzzImageHeader(f *testing.F) {
	f.Add(fixture.PNGHeaderBomb(60000, 60000))
	f.Add(fixture.PNGHeaderBomb(3, 2))
	f.Add(fixture.JPEGHeaderBomb(f, 30000, 30000))
	f.Add(exifJPEG(f, 4, 2, 6))
	var buf bytes.Buffer
	png.Encode(&buf, image.NewGray(image.Rect(0, 0, 2, 2)))
	f.Add(buf.Bytes())
	f.Add([]byte("BM\x00\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00\x28\x00\x00\x00\xff\xff\x00\x00\x00\x00\x01\x00"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8X"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := Decoder{MaxPixels: 1 << 20}
		_, size, err := d.CheckHeader("f", b)
		if err == nil && int64(size.X)*int64(size.Y) > d.MaxPixels {
			t.Fatalf("passed at %v", size)
		}
		if err != nil && CodeOf(err, "") == "" {
			t.Fatalf("uncoded error %v", err)
		}
		if o := Orientation(b); o < 0 || o > 8 {
			t.Fatalf("orientation %d", o)
		}
	})
}

// TestLoadCandidateOrientation: an oriented JPEG is turned upright; labels
// drawn on the turned image pass, labels of the unturned size are a
// size-mismatch that names the orientation, and a square image is
// ambiguous.
func TestLoadCandidateOrientation(t *testing.T) {
	src := t.TempDir()
	cand := func(name string, w, h int, o uint16, mw, mh int) Candidate {
		if err := writeFileT(filepath.Join(src, name+".jpg"), exifJPEG(t, w, h, o)); err != nil {
			t.Fatal(err)
		}
		return Candidate{Key: name, Image: name + ".jpg", Labels: func(string, Decoder) (Labels, error) {
			return Labels{Mask: gocv.NewMatWithSize(mh, mw, gocv.MatTypeCV8UC1)}, nil
		}}
	}
	for _, tc := range []struct {
		name              string
		w, h              int
		o                 uint16
		mw, mh            int
		mismatch, unclear bool
	}{
		{"upright-labels", 40, 20, 6, 20, 40, false, false},
		{"stored-labels", 40, 20, 6, 40, 20, true, false},
		{"square", 20, 20, 6, 20, 20, false, true},
		{"half-turn", 40, 20, 3, 40, 20, false, true},
		{"none", 40, 20, 1, 40, 20, false, false},
	} {
		s, err := LoadCandidate(src, cand(tc.name, tc.w, tc.h, tc.o, tc.mw, tc.mh), Decoder{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = s.CheckSizes()
		if (err != nil) != tc.mismatch || (err != nil && !strings.Contains(err.Error(), "EXIF orientation 6")) {
			t.Errorf("%s: CheckSizes %v", tc.name, err)
		}
		if s.AmbiguousOrientation() != tc.unclear {
			t.Errorf("%s: ambiguous = %v", tc.name, !tc.unclear)
		}
		s.Close()
	}
}

func writeFileT(path string, b []byte) error { return os.WriteFile(path, b, 0o644) }
