package dataset

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/segtool/segtool/cvguard"
	"github.com/segtool/segtool/internal/fixture"
	"gocv.io/x/gocv"
)

// TestGuardDecodeBomb: with MaxPixels raised past OpenCV's own limit
// (CV_IO_MAX_IMAGE_PIXELS, 2^30), a 60000x60000 header passes CheckHeader
// and OpenCV throws; every Decoder path returns a corrupt SampleError.
// Unguarded, the exception aborts the process, so the decodes run in a
// child test process and the parent reads its exit.
func TestGuardDecodeBomb(t *testing.T) {
	if os.Getenv("SEGTOOL_GUARD_CHILD") == "1" {
		guardDecodeBombChild(t)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestGuardDecodeBomb$", "-test.v")
	cmd.Env = append(os.Environ(), "SEGTOOL_GUARD_CHILD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "--- PASS: TestGuardDecodeBomb") {
		t.Fatalf("child did not pass:\n%s", out)
	}
}

func guardDecodeBombChild(t *testing.T) {
	d := Decoder{MaxPixels: 4_000_000_000}
	for name, b := range map[string][]byte{
		"png": fixture.PNGHeaderBomb(60000, 60000),
		"jpg": fixture.JPEGHeaderBomb(t, 60000, 60000),
	} {
		if _, _, err := d.CheckHeader(name, b); err != nil {
			t.Fatalf("%s: the header should pass a 4e9 limit: %v", name, err)
		}
		check := func(how string, m gocv.Mat, err error) {
			t.Helper()
			if err == nil {
				m.Close()
				t.Fatalf("%s %s: no error", name, how)
			}
			if CodeOf(err, "") != CodeCorrupt || !errors.Is(err, cvguard.ErrOpenCV) || !strings.Contains(err.Error(), "CV_IO_MAX_IMAGE_PIXELS") {
				t.Errorf("%s %s: %v", name, how, err)
			}
		}
		m, err := d.Decode(name, b, gocv.IMReadColor)
		check("Decode", m, err)
		m, _, _, err = d.RGB(name, b)
		check("RGB", m, err)
		m, _, _, err = d.Label(name, b)
		check("Label", m, err)
		m, err = cvguard.IMDecode(b, gocv.IMReadUnchanged)
		if err == nil || !errors.Is(err, cvguard.ErrOpenCV) {
			m.Close()
			t.Errorf("%s IMDecode: %v", name, err)
		}
	}
}

// guardTestImage is a w x h BGR image with varied pixels.
func guardTestImage(w, h int) gocv.Mat {
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	p, _ := m.DataPtrUint8()
	for i := range p {
		p[i] = uint8((i*7 + i/(3*w)*13) % 251)
	}
	return m
}

// gocvEncode is m encoded by gocv itself, the bytes copied out.
func gocvEncode(tb testing.TB, ext gocv.FileExt, m gocv.Mat) []byte {
	tb.Helper()
	nb, err := gocv.IMEncode(ext, m)
	if err != nil {
		tb.Fatal(err)
	}
	defer nb.Close()
	return append([]byte(nil), nb.GetBytes()...)
}

// TestGuardMatchesGocv: the guarded decode and encode give gocv's bytes.
func TestGuardMatchesGocv(t *testing.T) {
	img := guardTestImage(37, 23)
	defer img.Close()
	for _, ext := range []gocv.FileExt{gocv.PNGFileExt, gocv.JPEGFileExt} {
		want := gocvEncode(t, ext, img)
		got, err := cvguard.IMEncode(ext, img, nil)
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("%s: imencode differs from gocv (%v)", ext, err)
		}
		for _, flags := range []gocv.IMReadFlag{gocv.IMReadUnchanged, gocv.IMReadColor, gocv.IMReadGrayScale} {
			a, err := gocv.IMDecode(want, flags)
			if err != nil {
				t.Fatal(err)
			}
			b, err := cvguard.IMDecode(want, flags)
			if err != nil {
				t.Fatal(err)
			}
			if a.Rows() != b.Rows() || a.Cols() != b.Cols() || a.Type() != b.Type() || !bytes.Equal(a.ToBytes(), b.ToBytes()) {
				t.Errorf("%s flags %d: IMDecode differs from gocv", ext, flags)
			}
			a.Close()
			b.Close()
		}
	}
	// Bytes that are no image: an empty Mat and no error, as gocv gives.
	m, err := cvguard.IMDecode([]byte("not an image"), gocv.IMReadColor)
	if err != nil || !m.Empty() {
		t.Errorf("garbage: empty %v, err %v", m.Empty(), err)
	}
	m.Close()
}

// TestGuardEncodeResize: OpenCV asserts on an empty Mat in imencode and
// resize, and on a zero size; each is an error here (unguarded, an abort).
func TestGuardEncodeResize(t *testing.T) {
	empty := gocv.NewMat()
	defer empty.Close()
	if _, err := cvguard.IMEncode(gocv.PNGFileExt, empty, nil); !errors.Is(err, cvguard.ErrOpenCV) || !strings.Contains(err.Error(), "empty") {
		t.Errorf("imencode of an empty Mat: %v", err)
	}
	if _, err := encode(empty, ".png", 0); err == nil {
		t.Error("encode of an empty Mat: no error")
	}
	dst := gocv.NewMat()
	defer dst.Close()
	if err := cvguard.Resize(empty, &dst, image.Pt(4, 4), gocv.InterpolationLinear); !errors.Is(err, cvguard.ErrOpenCV) {
		t.Errorf("Resize of an empty Mat: %v", err)
	}
	img := guardTestImage(8, 6)
	defer img.Close()
	for _, size := range []image.Point{{0, 5}, {5, 0}, {-3, 4}} {
		if err := cvguard.Resize(img, &dst, size, gocv.InterpolationLinear); !errors.Is(err, cvguard.ErrOpenCV) {
			t.Errorf("Resize to %v: %v", size, err)
		}
		p, err := Planes{Image: img}.Resize(size)
		if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%dx%d", size.X, size.Y)) {
			p.Close()
			t.Errorf("Planes.Resize to %v: %v", size, err)
		}
	}
	if err := cvguard.Resize(img, &dst, image.Pt(4, 3), gocv.InterpolationArea); err != nil || dst.Cols() != 4 || dst.Rows() != 3 {
		t.Errorf("Resize to 4x3: %v, %dx%d", err, dst.Cols(), dst.Rows())
	}
}

// BenchmarkGuardDecode compares the guarded decode with gocv's on 800x600
// and 4000x3000 JPEG and PNG.
func BenchmarkGuardDecode(b *testing.B) {
	for _, sz := range []image.Point{{800, 600}, {4000, 3000}} {
		img := guardTestImage(sz.X, sz.Y)
		for _, ext := range []gocv.FileExt{gocv.JPEGFileExt, gocv.PNGFileExt} {
			data := gocvEncode(b, ext, img)
			name := fmt.Sprintf("%dx%d%s", sz.X, sz.Y, ext)
			b.Run(name+"/gocv", func(b *testing.B) {
				for range b.N {
					m, _ := gocv.IMDecode(data, gocv.IMReadColor)
					m.Close()
				}
			})
			b.Run(name+"/guarded", func(b *testing.B) {
				for range b.N {
					m, _ := cvguard.IMDecode(data, gocv.IMReadColor)
					m.Close()
				}
			})
		}
		img.Close()
	}
}
