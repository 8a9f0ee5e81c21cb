package augment

import (
	"bytes"
	"math"
	"testing"

	"gocv.io/x/gocv"
)

// pixels builds a one-row image from BGR triples.
func pixels(t *testing.T, bgr ...byte) *Sample {
	t.Helper()
	return &Sample{Image: matFrom(t, 1, len(bgr)/3, gocv.MatTypeCV8UC3, bgr)}
}

func runOn(t *testing.T, yaml string, s *Sample) []byte {
	t.Helper()
	c, _ := apply(t, mustParse(t, yaml), s, 0, "x", 0)
	defer c.Close()
	return bytesOf(t, &c.Image)
}

func TestAddByHand(t *testing.T) {
	s := pixels(t, 0, 100, 250, 5, 128, 255)
	defer s.Close()
	for _, tc := range []struct {
		yaml string
		want []byte
	}{
		{`ops: [{add: {value: 10}}]`, []byte{10, 110, 255, 15, 138, 255}},
		{`ops: [{add: {value: -30}}]`, []byte{0, 70, 220, 0, 98, 225}},
		{`ops: [{add: {value: 0}}]`, []byte{0, 100, 250, 5, 128, 255}},
	} {
		if got := runOn(t, tc.yaml, s); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.yaml, got, tc.want)
		}
	}
}

func TestAddPerChannel(t *testing.T) {
	s := pixels(t, 100, 100, 100, 100, 100, 100)
	defer s.Close()
	c, log := apply(t, mustParse(t, `ops: [{add: {value: [-50, 50], per_channel: true}}]`), s, 3, "x", 0)
	defer c.Close()
	vs := log[0].Params["value"].([]float64)
	got := bytesOf(t, &c.Image)
	for i, b := range got {
		if want := byte(100 + vs[i%3]); b != want {
			t.Fatalf("byte %d: got %d, want %d (drawn %v)", i, b, want, vs)
		}
	}
	if vs[0] == vs[1] && vs[1] == vs[2] {
		t.Errorf("per_channel drew one value %v", vs)
	}
}

func TestGammaByHand(t *testing.T) {
	s := pixels(t, 0, 64, 128, 200, 255, 0)
	defer s.Close()
	for _, tc := range []struct {
		yaml string
		want []byte
	}{
		// 255*(x/255)^2: 16.06, 64.25, 156.86
		{`ops: [{gamma: {gamma: 2}}]`, []byte{0, 16, 64, 157, 255, 0}},
		// 255*(x/255)^0.5: 127.75, 180.67, 225.83
		{`ops: [{gamma: {gamma: 0.5}}]`, []byte{0, 128, 181, 226, 255, 0}},
		// 128 + 1.5*(x-128): -64, 32, 128, 236, 318.5
		{`ops: [{contrast: {alpha: 1.5}}]`, []byte{0, 32, 128, 236, 255, 0}},
	} {
		if got := runOn(t, tc.yaml, s); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.yaml, got, tc.want)
		}
	}
}

func TestBrightnessByHand(t *testing.T) {
	s := pixels(t, 40, 100, 200, 100, 200, 250, 0, 0, 0)
	defer s.Close()
	for _, tc := range []struct {
		yaml string
		want []byte
	}{
		// V 200 -> 240: every channel x1.2; V 250 -> 255 (clipped): x1.02;
		// black stays black.
		{`ops: [{brightness_hsv: {scale: 1.2}}]`, []byte{48, 120, 240, 102, 204, 255, 0, 0, 0}},
		// V 200 -> 230: x1.15; V 250 -> 255; black has no hue: grey 30.
		{`ops: [{brightness_hsv: {shift: 30}}]`, []byte{46, 115, 230, 102, 204, 255, 30, 30, 30}},
	} {
		if got := runOn(t, tc.yaml, s); !bytes.Equal(got, tc.want) {
			t.Errorf("%s: got %v, want %v", tc.yaml, got, tc.want)
		}
	}
}

// TestBrightnessMatchesHSV: scale 1 is the identity within ±1, and other
// draws match a float HSV -> scale V -> RGB reference within ±1.
func TestBrightnessMatchesHSV(t *testing.T) {
	s := textureSample(t, 64, 64)
	defer s.Close()
	in := bytesOf(t, &s.Image)
	for _, tc := range []struct{ scale, shift float64 }{{1, 0}, {0.6, 0}, {1.4, 0}, {1.1, -20}, {0.9, 25}} {
		p := mustParse(t, "ops: [{brightness_hsv: {scale: "+ftoa(tc.scale)+", shift: "+ftoa(tc.shift)+"}}]")
		c, _ := apply(t, p, s, 0, "x", 0)
		got := bytesOf(t, &c.Image)
		c.Close()
		for i := 0; i < len(in); i += 3 {
			want := hsvBrightness(in[i:i+3], tc.scale, tc.shift)
			for k := range 3 {
				if d := int(got[i+k]) - int(want[k]); d < -1 || d > 1 {
					t.Fatalf("scale %g shift %g: pixel %v -> %v, reference %v", tc.scale, tc.shift, in[i:i+3], got[i:i+3], want)
				}
			}
		}
	}
}

func ftoa(v float64) string { return Const(v).String() }

// hsvBrightness is the textbook float HSV round trip with V scaled.
func hsvBrightness(bgr []byte, scale, shift float64) [3]byte {
	b, g, r := float64(bgr[0]), float64(bgr[1]), float64(bgr[2])
	v := math.Max(b, math.Max(g, r))
	mn := math.Min(b, math.Min(g, r))
	sat, h := 0.0, 0.0
	if v > 0 {
		sat = (v - mn) / v
	}
	if d := v - mn; d > 0 {
		switch v {
		case r:
			h = math.Mod((g-b)/d+6, 6)
		case g:
			h = (b-r)/d + 2
		default:
			h = (r-g)/d + 4
		}
	}
	v = math.Min(255, math.Max(0, math.Round(v*scale+shift)))
	c := v * sat
	x := c * (1 - math.Abs(math.Mod(h, 2)-1))
	var rr, gg, bb float64
	switch int(h) % 6 {
	case 0:
		rr, gg = c, x
	case 1:
		rr, gg = x, c
	case 2:
		gg, bb = c, x
	case 3:
		gg, bb = x, c
	case 4:
		rr, bb = x, c
	default:
		rr, bb = c, x
	}
	m := v - c
	return [3]byte{clip8(bb + m), clip8(gg + m), clip8(rr + m)}
}

func psnr(a, b []byte) float64 {
	var se float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		se += d * d
	}
	if se == 0 {
		return math.Inf(1)
	}
	return 10 * math.Log10(255*255/(se/float64(len(a))))
}

func TestJPEGQuality(t *testing.T) {
	s := textureSample(t, 128, 160)
	defer s.Close()
	in := bytesOf(t, &s.Image)
	hi := psnr(in, runOn(t, `ops: [{jpeg_quality: {quality: 100}}]`, s))
	lo := psnr(in, runOn(t, `ops: [{jpeg_quality: {quality: 5}}]`, s))
	if hi <= 40 {
		t.Errorf("quality 100: PSNR %.1f dB, want > 40", hi)
	}
	if lo >= hi-5 {
		t.Errorf("quality 5: PSNR %.1f dB, not clearly below quality 100's %.1f", lo, hi)
	}
	t.Logf("PSNR q100 %.1f dB, q5 %.1f dB", hi, lo)
}

func greySample(t *testing.T, rows, cols int, v byte) *Sample {
	return &Sample{Image: matFrom(t, rows, cols, gocv.MatTypeCV8UC3, bytes.Repeat([]byte{v}, 3*rows*cols))}
}

func TestGaussianNoiseStatistics(t *testing.T) {
	s := greySample(t, 256, 256, 128)
	defer s.Close()
	for _, perChannel := range []bool{false, true} {
		y := `ops: [{gaussian_noise: {sigma: 10, per_channel: false}}]`
		if perChannel {
			y = `ops: [{gaussian_noise: {sigma: 10, per_channel: true}}]`
		}
		got := runOn(t, y, s)
		var sum, sum2 float64
		for i, b := range got {
			d := float64(b) - 128
			sum, sum2 = sum+d, sum2+d*d
			if !perChannel && i%3 == 0 && (got[i+1] != b || got[i+2] != b) {
				t.Fatalf("per_channel false: pixel %v differs across channels", got[i:i+3])
			}
		}
		n := float64(len(got))
		mean, sd := sum/n, math.Sqrt(sum2/n-(sum/n)*(sum/n))
		if math.Abs(mean) > 0.3 || math.Abs(sd-10) > 0.3 {
			t.Errorf("per_channel %v: mean %.3f sd %.3f, want 0 and 10", perChannel, mean, sd)
		}
	}
}

func TestAddElementwiseRange(t *testing.T) {
	s := greySample(t, 128, 128, 128)
	defer s.Close()
	got := runOn(t, `ops: [{add_elementwise: {value: [-20, 20], per_channel: true}}]`, s)
	seen := map[int]int{}
	for _, b := range got {
		seen[int(b)-128]++
	}
	for v := -20; v <= 20; v++ {
		if n := seen[v]; n < len(got)/41/2 {
			t.Errorf("value %d drawn %d times of %d", v, n, len(got))
		}
	}
	if len(seen) != 41 {
		t.Errorf("drew %d distinct values, want 41", len(seen))
	}
}

func TestOcclusionClearsLabels(t *testing.T) {
	s := personSample(t, 100, 80)
	defer s.Close()
	c, log := apply(t, mustParse(t, `ops: [{occlusion: {count: 1, size: 0.5, fill: constant, value: 7, occlude_mask: true}}]`), s, 0, "x", 0)
	defer c.Close()
	r := log[0].Params["rects"].([]map[string]any)[0]
	x, y, w, h := r["x"].(int), r["y"].(int), r["w"].(int), r["h"].(int)
	if w != 40 || h != 50 {
		t.Fatalf("rect %v, want 40x50", r)
	}
	img, mask, alpha, tri := bytesOf(t, &c.Image), bytesOf(t, &c.Mask), bytesOf(t, &c.Alpha), bytesOf(t, &c.Trimap)
	for yy := y; yy < y+h; yy++ {
		for xx := x; xx < x+w; xx++ {
			i := yy*80 + xx
			if img[3*i] != 7 || img[3*i+1] != 7 || img[3*i+2] != 7 || mask[i] != 0 || alpha[i] != 0 || tri[i] != 0 {
				t.Fatalf("pixel %d,%d not occluded", xx, yy)
			}
		}
	}
	for _, fill := range []string{"noise", "patch"} {
		c, _ := apply(t, mustParse(t, `ops: [{occlusion: {count: 3, fill: `+fill+`}}]`), s, 0, "x", 0)
		if bytes.Equal(bytesOf(t, &c.Image), bytesOf(t, &s.Image)) {
			t.Errorf("fill %s changed nothing", fill)
		}
		if !bytes.Equal(bytesOf(t, &c.Mask), bytesOf(t, &s.Mask)) {
			t.Errorf("fill %s without occlude_mask changed the mask", fill)
		}
		c.Close()
	}
}

func TestBlursAndHue(t *testing.T) {
	s := textureSample(t, 64, 64)
	defer s.Close()
	in := bytesOf(t, &s.Image)
	if got := runOn(t, `ops: [{gaussian_blur: {sigma: 0}}]`, s); !bytes.Equal(got, in) {
		t.Error("gaussian_blur with sigma 0 changed the image")
	}
	for _, y := range []string{
		`ops: [{mean_blur: {kernel: 5}}]`,
		`ops: [{median_blur: {kernel: [3, 7]}}]`,
		`ops: [{gaussian_blur: {sigma: 2}}]`,
		`ops: [{gaussian_blur: {kernel: 7}}]`,
		`ops: [{hue_saturation: {hue: 40, saturation: 0.5}}]`,
	} {
		got := runOn(t, y, s)
		if p := psnr(in, got); p > 60 || p < 15 {
			t.Errorf("%s: PSNR %.1f dB against the input, want a visible but modest change", y, p)
		}
	}
	// Hue 0, saturation 1 is OpenCV's 8-bit HSV round trip: within 5 levels.
	got := runOn(t, `ops: [{hue_saturation: {hue: 0, saturation: 1}}]`, s)
	for i := range got {
		if d := int(got[i]) - int(in[i]); d < -5 || d > 5 {
			t.Fatalf("hue 0: byte %d moved %d", i, d)
		}
	}
}
