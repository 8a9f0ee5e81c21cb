package composite

import (
	"math"
	"testing"

	"github.com/segtool/segtool/internal/fixture"
)

// TestOverByteAlpha works a 2x1 blend by hand: α = 51/255 = 0.2 and
// α = 128/255 ≈ 0.50196.
func TestOverByteAlpha(t *testing.T) {
	f := []byte{200, 100, 0, 10, 20, 30}
	b := []byte{0, 100, 200, 250, 250, 250}
	dst := make([]byte, 6)
	Over(dst, f, b, []uint8{51, 128})
	// 0.2·200 = 40, 0.2·100+0.8·100 = 100, 0.8·200 = 160;
	// 250 − 240·α = 129.53 → 130, 250 − 230·α = 134.55 → 135,
	// 250 − 220·α = 139.57 → 140.
	want := []byte{40, 100, 160, 130, 135, 140}
	for i := range want {
		if dst[i] != want[i] {
			t.Fatalf("Over = %v, want %v", dst, want)
		}
	}
	// In place over b, and the ends exact.
	Over(b, f, b, []uint8{255, 0})
	if want := []byte{200, 100, 0, 250, 250, 250}; string(b) != string(want) {
		t.Fatalf("in place: %v, want %v", b, want)
	}
}

// TestOverFloatAlpha checks halves round up, saturation and NaN.
func TestOverFloatAlpha(t *testing.T) {
	f := []byte{1, 2, 255, 9, 9, 9}
	b := []byte{0, 0, 255, 9, 9, 9}
	dst := make([]byte, 6)
	nan := float32(math.NaN())
	Over(dst, f, b, []float32{0.5, nan})
	// 0.5·1 = 0.5 → 1, 0.5·2 = 1, 255; NaN → 0.
	if want := []byte{1, 1, 255, 0, 0, 0}; string(dst) != string(want) {
		t.Fatalf("Over = %v, want %v", dst, want)
	}
	Over(dst[:3], []byte{255, 255, 255}, []byte{0, 0, 0}, []float32{1.2})
	if dst[0] != 255 {
		t.Fatalf("α > 1 gives %d, want 255", dst[0])
	}
}

// TestOverByteAlphaIsIntegerRounding checks every (A, F, B) against the
// integer formula synth used before Over: (A·F + (255−A)·B + 127) / 255.
func TestOverByteAlphaIsIntegerRounding(t *testing.T) {
	if testing.Short() {
		t.Skip("16.7M cases")
	}
	f, b := make([]byte, 3*256), make([]byte, 3*256)
	al, dst := make([]uint8, 256), make([]byte, 3*256)
	for a := range 256 {
		for i := range al {
			al[i] = uint8(a)
		}
		for fv := range 256 {
			for bv := range 256 {
				f[3*bv], b[3*bv] = uint8(fv), uint8(bv)
			}
			Over(dst, f, b, al)
			for bv := range 256 {
				want := uint8((uint32(a)*uint32(fv) + (255-uint32(a))*uint32(bv) + 127) / 255)
				if dst[3*bv] != want {
					t.Fatalf("A=%d F=%d B=%d: %d, want %d", a, fv, bv, dst[3*bv], want)
				}
			}
		}
	}
}

// TestOverRunsAreTheFormula checks Over, which copies runs of α = 0 and
// α = 1, against the formula applied to every pixel, for byte and float
// alpha mixing runs, single pixels, −0 and NaN.
func TestOverRunsAreTheFormula(t *testing.T) {
	const n = 4096
	f, b := fixture.Pseudo(3*n, 1), fixture.Pseudo(3*n, 2)
	sel := fixture.Pseudo(n, 3)
	nan, negZero := float32(math.NaN()), float32(math.Copysign(0, -1))
	ab, af := make([]uint8, n), make([]float32, n)
	// Runs of 1 to 8 pixels of one kind.
	for p := 0; p < n; {
		kind, run := sel[p]%6, 1+int(sel[p]>>3)%8
		for end := min(p+run, n); p < end; p++ {
			switch kind {
			case 0, 1:
				ab[p], af[p] = 0, 0
			case 2:
				ab[p], af[p] = 0, negZero
			case 3, 4:
				ab[p], af[p] = 255, 1
			default:
				ab[p], af[p] = f[p], float32(f[p])/255
				if f[p] == 7 {
					af[p] = nan
				}
			}
		}
	}
	check := func(name string, got []byte, a func(p int) float32) {
		t.Helper()
		want := make([]byte, 3*n)
		for p := range n {
			over3(want, f, b, 3*p, a(p))
		}
		if string(got) != string(want) {
			t.Fatalf("%s alpha: Over differs from the per-pixel formula", name)
		}
	}
	dst := make([]byte, 3*n)
	Over(dst, f, b, ab)
	check("byte", dst, func(p int) float32 { return float32(ab[p]) / 255 })
	Over(dst, f, b, af)
	check("float", dst, func(p int) float32 { return af[p] })
}
