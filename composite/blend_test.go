package composite

import (
	"fmt"
	"math"
	"testing"

	"gocv.io/x/gocv"
)

// allAlphas is a 16×16 foreground whose alpha takes every value 0..255, with
// arbitrary colour over an arbitrary background.
func allAlphas() (f, a, b []byte) {
	a = make([]byte, 256)
	for i := range a {
		a[i] = byte(i)
	}
	return pseudo(3*256, 1), a, pseudo(3*256, 2)
}

func TestBlendHandMade(t *testing.T) {
	// One row: alpha 0, 1 (255), 0.5 (128) and 127, 1/255.
	f := []byte{200, 100, 50, 200, 100, 50, 200, 100, 50, 10, 20, 30, 255, 255, 255}
	a := []byte{0, 255, 128, 127, 1}
	b := []byte{0, 50, 250, 0, 50, 250, 0, 50, 250, 90, 80, 70, 0, 0, 0}
	want := []float64{ // a·F + (1−a)·B by hand
		0, 50, 250,
		200, 100, 50,
		128.0/255*200 + 127.0/255*0, 128.0/255*100 + 127.0/255*50, 128.0/255*50 + 127.0/255*250,
		127.0/255*10 + 128.0/255*90, 127.0/255*20 + 128.0/255*80, 127.0/255*30 + 128.0/255*70,
		1, 1, 1,
	}
	fg := mustFg(t, "hand", 1, 5, f, a, false)
	r := mustComposite(t, fg, nil, mustBg(t, 1, 5, gocv.MatTypeCV8UC3, b), 0, Options{})
	got := bytesOf(t, r.Image)
	for i := range want {
		within(t, fmt.Sprintf("pixel %d channel %d", i/3, i%3), got[i], want[i], 1)
	}
	if al := bytesOf(t, r.Alpha); string(al) != string(a) {
		t.Errorf("alpha %v, want %v", al, a)
	}
	if mk := bytesOf(t, r.Mask); string(mk) != string([]byte{0, 255, 255, 0, 0}) {
		t.Errorf("mask %v, want 0 255 255 0 0 (alpha >= 128)", mk)
	}
}

func TestBlendEveryAlpha(t *testing.T) {
	f, a, b := allAlphas()
	r := mustComposite(t, mustFg(t, "all", 16, 16, f, a, false), nil, mustBg(t, 16, 16, gocv.MatTypeCV8UC3, b), 0, Options{Layers: true})
	got := bytesOf(t, r.Image)
	worst := 0.0
	for p := range 256 {
		al := float64(a[p]) / 255
		for c := range 3 {
			want := al*float64(f[3*p+c]) + (1-al)*float64(b[3*p+c])
			within(t, fmt.Sprintf("alpha %d channel %d", a[p], c), got[3*p+c], want, 1)
			worst = math.Max(worst, math.Abs(float64(got[3*p+c])-want))
		}
	}
	// Rounded once: never more than half a level off.
	if worst > 0.5+1e-3 {
		t.Errorf("worst error %.4f: more than one rounding", worst)
	}
	if string(bytesOf(t, r.Alpha)) != string(a) {
		t.Error("alpha differs from the cut-out's")
	}
	if string(bytesOf(t, r.B)) != string(b) || len(bytesOf(t, r.F)) != len(f) {
		t.Error("B layer differs from the background, or F layer missing")
	}
}

func TestBlendLinearLight(t *testing.T) {
	f, a, b := allAlphas()
	r := mustComposite(t, mustFg(t, "all", 16, 16, f, a, false), nil, mustBg(t, 16, 16, gocv.MatTypeCV8UC3, b), 0, Options{LinearLight: true})
	got := bytesOf(t, r.Image)
	diff := 0
	for p := range 256 {
		al := float64(a[p]) / 255
		for c := range 3 {
			lf, lb := srgbDecode(float64(f[3*p+c])/255), srgbDecode(float64(b[3*p+c])/255)
			want := 255 * srgbEncode(al*lf+(1-al)*lb)
			within(t, fmt.Sprintf("alpha %d channel %d", a[p], c), got[3*p+c], want, 1)
			sr := al*float64(f[3*p+c]) + (1-al)*float64(b[3*p+c])
			if math.Abs(want-sr) > 2 && math.Abs(float64(got[3*p+c])-sr) > 1 {
				diff++
			}
		}
	}
	if diff == 0 {
		t.Error("linear-light blend indistinguishable from the sRGB one")
	}
}

func TestBlendPremultiplied(t *testing.T) {
	f, a, b := allAlphas()
	prem := make([]byte, len(f))
	for p := range 256 {
		for c := range 3 {
			prem[3*p+c] = byte(math.Round(float64(f[3*p+c]) * float64(a[p]) / 255))
		}
	}
	for _, linear := range []bool{false, true} {
		r := mustComposite(t, mustFg(t, "prem", 16, 16, prem, a, true), nil, mustBg(t, 16, 16, gocv.MatTypeCV8UC3, b), 0, Options{LinearLight: linear})
		got := bytesOf(t, r.Image)
		for p := range 256 {
			al := float64(a[p]) / 255
			for c := range 3 {
				want := float64(prem[3*p+c]) + (1-al)*float64(b[3*p+c])
				tol := 1.0
				if linear {
					// F = P/a, exact only to the premultiplied file's precision:
					// at alpha k, a one-level step in P is 255/k levels of F.
					fl := 0.0
					if a[p] > 0 {
						fl = math.Min(1, float64(prem[3*p+c])/float64(a[p]))
					}
					want = 255 * srgbEncode(al*srgbDecode(fl)+(1-al)*srgbDecode(float64(b[3*p+c])/255))
				}
				within(t, fmt.Sprintf("linear %v alpha %d channel %d", linear, a[p], c), got[3*p+c], want, tol)
			}
		}
	}
}

// TestLinearRoundTrip: the uncovered fast path copies the background, which
// must equal what decoding and encoding it gives.
func TestLinearRoundTrip(t *testing.T) {
	tb := srgbTables()
	for v := range 256 {
		if got := Round8(tb.enc[encIdx(tb.dec[v])]); int(got) != v {
			t.Errorf("code %d comes back as %d", v, got)
		}
		if want := 255 * srgbEncode(srgbDecode(float64(v)/255)); math.Abs(want-float64(v)) > 1e-9 {
			t.Errorf("reference round trip of %d gives %f", v, want)
		}
	}
}

func TestBlendTwoForegrounds(t *testing.T) {
	f1, a1, b := allAlphas()
	f2 := pseudo(3*256, 3)
	a2 := pseudo(256, 4)
	for i := range 16 { // include 0 and 255 in the second layer too
		a2[i], a2[16+i] = 0, 255
	}
	fg1, fg2 := mustFg(t, "one", 16, 16, f1, a1, false), mustFg(t, "two", 16, 16, f2, a2, false)
	r := mustComposite(t, fg1, fg2, mustBg(t, 16, 16, gocv.MatTypeCV8UC3, b), 0, Options{Layers: true})
	if n := len(r.Record.Layers); n != 2 {
		t.Fatalf("%d layers recorded, want 2", n)
	}
	img, al, fl, bl := bytesOf(t, r.Image), bytesOf(t, r.Alpha), bytesOf(t, r.F), bytesOf(t, r.B)
	for p := range 256 {
		x, y := float64(a1[p])/255, float64(a2[p])/255
		within(t, fmt.Sprintf("alpha %d,%d", a1[p], a2[p]), al[p], 255*(1-(1-x)*(1-y)), 0.5)
		for c := range 3 {
			under := x*float64(f1[3*p+c]) + (1-x)*float64(b[3*p+c])
			want := y*float64(f2[3*p+c]) + (1-y)*under
			within(t, fmt.Sprintf("pixel %d channel %d", p, c), img[3*p+c], want, 1)
			// The saved layers reproduce the image.
			A := float64(al[p]) / 255
			within(t, fmt.Sprintf("layers pixel %d channel %d", p, c), img[3*p+c], A*float64(fl[3*p+c])+(1-A)*float64(bl[3*p+c]), 1.5)
		}
	}
}
