package composite

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"math"
	"reflect"
	"strings"
	"sync"
	"testing"

	"gocv.io/x/gocv"
)

func meanOf(d []byte, w []byte, c int) float64 {
	var s, n float64
	for p := 0; p < len(w); p++ {
		if w[p] == 255 {
			s += float64(d[3*p+c])
			n++
		}
	}
	return s / n
}

func TestHarmonizeMovesTowardBackground(t *testing.T) {
	// A mid-grey subject on a saturated blue background.
	n := 32 * 32
	f, a, b := make([]byte, 3*n), make([]byte, n), make([]byte, 3*n)
	for p := range n {
		f[3*p], f[3*p+1], f[3*p+2] = byte(100+p%40), 120, byte(130+p%20)
		a[p] = 255
		if p%32 < 8 {
			a[p] = 0
		}
		b[3*p], b[3*p+1], b[3*p+2] = 220, 60, 20
	}
	fg := mustFg(t, "grey", 32, 32, f, a, false)
	bg := mustBg(t, 32, 32, gocv.MatTypeCV8UC3, b)
	plain := bytesOf(t, mustComposite(t, fg, nil, bg, 0, Options{}).Image)
	half := bytesOf(t, mustComposite(t, fg, nil, bg, 0, Options{Harmonize: 0.5}).Image)
	full := bytesOf(t, mustComposite(t, fg, nil, bg, 0, Options{Harmonize: 1}).Image)
	p0, p1, p2 := meanOf(plain, a, 0), meanOf(half, a, 0), meanOf(full, a, 0)
	if !(p0 < p1 && p1 < p2) {
		t.Errorf("blue mean of the subject %.1f -> %.1f -> %.1f: want it rising toward the background's 220", p0, p1, p2)
	}
	if string(bytesOf(t, mustComposite(t, fg, nil, bg, 0, Options{}).Image)) != string(plain) {
		t.Error("harmonize off is not a no-op")
	}
	fl := bytesOf(t, mustComposite(t, fg, nil, bg, 0, Options{Harmonize: 1, Layers: true}).F)
	for p, av := range a {
		if av == 0 && (fl[3*p] != 0 || fl[3*p+1] != 0 || fl[3*p+2] != 0) {
			t.Fatalf("harmonized F layer not zero where alpha is 0 (pixel %d)", p)
		}
	}
}

func TestBlurAndNoise(t *testing.T) {
	a := make([]byte, 64*64) // transparent but for one pixel: the image is B
	a[0] = 255
	fg := mustFg(t, "dot", 64, 64, make([]byte, 3*64*64), a, false)
	bg := mustBg(t, 64, 64, gocv.MatTypeCV8UC3, pseudo(3*64*64, 8))
	plain := bytesOf(t, mustComposite(t, fg, nil, bg, 0, Options{}).Image)
	blur := mustComposite(t, fg, nil, bg, 0, Options{BgBlur: 2, Layers: true})
	if variance(bytesOf(t, blur.Image)) > variance(plain)/4 {
		t.Error("background blur did not smooth the background")
	}
	if blur.Record.Background.Blur != 2 {
		t.Error("blur not recorded")
	}
	noisy := bytesOf(t, mustComposite(t, fg, nil, bg, 0, Options{Noise: 5}).Image)
	var s, s2 float64
	for i := 3; i < len(plain); i++ {
		d := float64(noisy[i]) - float64(plain[i])
		s, s2 = s+d, s2+d*d
	}
	m := float64(len(plain) - 3)
	if sd := math.Sqrt(s2/m - (s/m)*(s/m)); math.Abs(sd-5) > 0.5 || math.Abs(s/m) > 0.3 {
		t.Errorf("noise mean %.2f sd %.2f, want 0 and 5", s/m, sd)
	}
}

func variance(d []byte) float64 {
	var s, s2 float64
	for _, v := range d {
		s, s2 = s+float64(v), s2+float64(v)*float64(v)
	}
	n := float64(len(d))
	return s2/n - (s/n)*(s/n)
}

// TestDeterministicAcrossWorkers runs the same composites in order on one
// goroutine and in reverse on four: the bytes must not change.
func TestDeterministicAcrossWorkers(t *testing.T) {
	n := 48 * 40
	f, a := pseudo(3*n, 1), pseudo(n, 2)
	fgs := []*Foreground{mustFg(t, "a", 40, 48, f, a, false), mustFg(t, "b", 40, 48, pseudo(3*n, 3), pseudo(n, 4), false)}
	blobs, _ := loadBackground("procedural:blobs")
	defer blobs.Close()
	bgs := []*Background{mustBg(t, 30, 50, gocv.MatTypeCV8UC3, pseudo(4500, 5)), blobs}
	o := Options{Seed: 9, Width: 64, Height: 56, ScaleLo: 0.4, ScaleHi: 1.2, Position: Random, Flip: true,
		Harmonize: 0.3, BgBlur: 1, Noise: 3, LinearLight: true, Layers: true}
	const jobs = 16
	run := func(k int) [32]byte {
		var second *Foreground
		if k%3 == 0 {
			second = fgs[(k+1)%2]
		}
		r, err := Composite(context.Background(), fgs[k%2], second, bgs[k%2], k, o)
		if err != nil {
			t.Error(err)
			return [32]byte{}
		}
		defer r.Close()
		h := sha256.New()
		for _, m := range []gocv.Mat{r.Image, r.Alpha, r.F, r.B} {
			d, _ := m.DataPtrUint8()
			h.Write(d)
		}
		return [32]byte(h.Sum(nil))
	}
	var want, got [jobs][32]byte
	for k := range jobs {
		want[k] = run(k)
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for range 4 {
		wg.Go(func() {
			for k := range next {
				got[k] = run(k)
			}
		})
	}
	for k := jobs - 1; k >= 0; k-- {
		next <- k
	}
	close(next)
	wg.Wait()
	if got != want {
		t.Error("composites differ between one worker in order and four in reverse")
	}
}

func TestRecordJSON(t *testing.T) {
	fg := opaque(t, 4, 6)
	bg := mustBg(t, 20, 20, gocv.MatTypeCV8UC3, pseudo(1200, 2))
	r := mustComposite(t, fg, fg, bg, 3, Options{Seed: 8, Width: 10, Height: 12, ScaleLo: 0.5, ScaleHi: 1, Flip: true, Noise: 1})
	js, err := json.Marshal(r.Record)
	if err != nil {
		t.Fatal(err)
	}
	var back Record
	if err := json.Unmarshal(js, &back); err != nil || !reflect.DeepEqual(back, r.Record) {
		t.Errorf("record does not round-trip through JSON: %s (%v)", js, err)
	}
	for _, key := range []string{`"fg":"opaque"`, `"bg":"bg"`, `"index":3`, `"seed":8`, `"layers":[{`, `"scale":`, `"flip":`, `"fit":"cover-random"`, `"noise":1`} {
		if !strings.Contains(string(js), key) {
			t.Errorf("record JSON lacks %s: %s", key, js)
		}
	}
}

func TestCompositeRejectsBadOptionsAndCancel(t *testing.T) {
	fg := opaque(t, 4, 4)
	bg := mustBg(t, 4, 4, gocv.MatTypeCV8UC3, make([]byte, 48))
	for _, o := range []Options{
		{Width: 10}, {Width: 1 << 20, Height: 10}, {ScaleLo: 0.5}, {ScaleLo: 1, ScaleHi: 100}, {ScaleLo: 0.9, ScaleHi: 0.5}, {Position: "top"}, {Fit: "contain"},
		{Multi: 2}, {Harmonize: -1}, {Noise: math.NaN()}, {PerFg: -1},
	} {
		if _, err := Composite(context.Background(), fg, nil, bg, 0, o); err == nil {
			t.Errorf("%+v accepted", o)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Composite(ctx, fg, nil, bg, 0, Options{}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}
