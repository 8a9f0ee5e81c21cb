package composite

import (
	"math"
	"testing"
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
