package composite

import (
	"context"
	"fmt"
	"math"
	"os"
	"testing"

	"github.com/segtool/segtool/internal/fixture"
	"gocv.io/x/gocv"
)

// The Mat helpers the jobs tests share.
var (
	mat     = fixture.Mat
	bytesOf = fixture.BytesOf
	pseudo  = fixture.Pseudo
)

func mustFg(t testing.TB, id string, rows, cols int, bgr, alpha []byte, prem bool) *Foreground {
	t.Helper()
	fg, err := NewForeground(id, mat(t, rows, cols, gocv.MatTypeCV8UC3, bgr), mat(t, rows, cols, gocv.MatTypeCV8UC1, alpha), prem)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { fg.Close() })
	return fg
}

func mustBg(t testing.TB, rows, cols int, mt gocv.MatType, data []byte) *Background {
	t.Helper()
	bg, err := NewBackground("bg", mat(t, rows, cols, mt, data))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bg.Close() })
	return bg
}

func mustComposite(t testing.TB, fg, second *Foreground, bg *Background, k int, o Options) *Result {
	t.Helper()
	r, err := Composite(context.Background(), fg, second, bg, k, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// Reference sRGB transfer, IEC 61966-2-1, in float64.
func srgbDecode(c float64) float64 {
	if c <= 0.04045 {
		return c / 12.92
	}
	return math.Pow((c+0.055)/1.055, 2.4)
}

func srgbEncode(l float64) float64 {
	if l <= 0.0031308 {
		return 12.92 * l
	}
	return 1.055*math.Pow(l, 1/2.4) - 0.055
}

// within fails the test when got is farther than tol from want.
func within(t testing.TB, what string, got uint8, want, tol float64) {
	t.Helper()
	if math.Abs(float64(got)-want) > tol {
		t.Errorf("%s: got %d, want %.3f ±%g", what, got, want, tol)
	}
}

// loadCutout reads and decodes the cut-out file at path.
func loadCutout(path string, premultiplied bool) (*Foreground, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	return DecodeCutout(path, data, premultiplied)
}

// loadBackground reads and decodes the background file at id, or makes
// the pattern of a procedural id.
func loadBackground(id string) (*Background, error) {
	if IsProcedural(id) {
		return ProceduralBackground(id)
	}
	data, err := os.ReadFile(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %w: %w", ErrBadBackground, ErrUnreadable, err)
	}
	return DecodeBackground(id, data)
}

// loadImageAlpha reads and decodes an image and its separate matte.
func loadImageAlpha(imagePath, alphaPath string) (*Foreground, error) {
	img, err := os.ReadFile(imagePath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	alpha, err := os.ReadFile(alphaPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	return DecodeImageAlpha(imagePath, img, alphaPath, alpha)
}
