package temporal

import (
	"math"
	"math/rand"
	"testing"
)

func mustNew(t *testing.T, s string) Filter {
	t.Helper()
	spec, err := Parse(s)
	if err != nil {
		t.Fatalf("Parse(%q): %v", s, err)
	}
	return spec.New()
}

func near(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	for i := range got {
		if math.Abs(float64(got[i]-want[i])) > tol {
			t.Errorf("%s[%d] = %.7f, want %.7f", what, i, got[i], want[i])
		}
	}
}

// one pushes p and wants exactly one final frame back.
func one(t *testing.T, f Filter, p []float32) []float32 {
	t.Helper()
	out := f.Push(p, len(p), 1)
	if len(out) != 1 {
		t.Fatalf("Push returned %d frames, want 1", len(out))
	}
	return out[0]
}

func TestParseKinds(t *testing.T) {
	for _, s := range []string{"none", "ema:0.5", "uncertainty:0.9", "ofd"} {
		spec, err := Parse(s)
		if err != nil || spec.String() != s {
			t.Errorf("Parse(%q) = %v, %v; want it back", s, spec, err)
		}
	}
	for _, s := range []string{"ofd:0.1", "uncertainty", "uncertainty:1.5", "ema:1", "median"} {
		if _, err := Parse(s); err == nil {
			t.Errorf("Parse(%q): no error", s)
		}
	}
	delays := map[string]int{"none": 0, "ema:0.5": 0, "uncertainty:0.9": 0, "ofd": 1}
	for s, d := range delays {
		if got := mustNew(t, s).Delay(); got != d {
			t.Errorf("%s: Delay %d, want %d", s, got, d)
		}
	}
}

// s_t = (1 − d)·p_t + d·s_(t−1) by hand, d = 0.5.
func TestEMAFormula(t *testing.T) {
	f := mustNew(t, "ema:0.5")
	near(t, "frame 0", one(t, f, []float32{0, 1}), []float32{0, 1}, 0)
	near(t, "frame 1", one(t, f, []float32{1, 0}), []float32{0.5, 0.5}, 0)
	near(t, "frame 2", one(t, f, []float32{1, 1}), []float32{0.75, 0.75}, 0)
	f.Reset()
	near(t, "after Reset", one(t, f, []float32{1, 0}), []float32{1, 0}, 0)
}

// Hand-worked with R = 0.5. H(0.25) = 2 − ¾·log₂3 = 0.8112781 bits, so
// u(0.25) = 0.6581722; u(0.5) = 1; u(0) = u(1) = 0.
func TestUncertaintyFormula(t *testing.T) {
	f := mustNew(t, "uncertainty:0.5")
	near(t, "frame 0 passes", one(t, f, []float32{0.2, 0.9, 0, 0.4}), []float32{0.2, 0.9, 0, 0.4}, 0)
	// 0.5 + (0.2 − 0.5)·1·0.5; 0.25 + (0.9 − 0.25)·0.6581722·0.5; confident pixels ignore the past.
	near(t, "frame 1", one(t, f, []float32{0.5, 0.25, 1, 0}), []float32{0.35, 0.4639060, 1, 0}, 1e-6)
	// The previous OUTPUT (0.35) is blended, not the previous input (0.5):
	// 0.5 + (0.35 − 0.5)·0.5 = 0.425.
	near(t, "frame 2", one(t, f, []float32{0.5, 0.25, 1, 0}), []float32{0.425, 0.25 + (0.4639060-0.25)*0.6581722*0.5, 1, 0}, 1e-6)
	// A frame of another size starts afresh.
	out := f.Push([]float32{0.5, 0.5}, 1, 2)
	near(t, "new size", out[0], []float32{0.5, 0.5}, 0)
}

// MediaPipe's shipped polynomial for the uncertainty (constants from
// segmentation_smoothing_calculator.cc) against the exact H(p)².
func TestUncertaintyMatchesMediaPipePolynomial(t *testing.T) {
	mediapipe := func(p float64) float64 {
		const c1, c2, c3, c4, c5 = 5.68842, -0.748699, -57.8051, 291.309, -624.717
		x := (p - 0.5) * (p - 0.5)
		return 1 - math.Min(1, x*(c1+x*(c2+x*(c3+x*(c4+x*c5)))))
	}
	for i := 0; i <= 100; i++ {
		p := float64(i) / 100
		got := float64(entropyUncertainty(float32(p)))
		if d := math.Abs(got - mediapipe(p)); d > 2e-3 {
			t.Errorf("u(%.2f) = %.5f, MediaPipe's polynomial %.5f", p, got, mediapipe(p))
		}
	}
}

// Per-pixel sequences, ξ = 0.1:
//
//	a: 0.2 0.9 0.25 0.2 — frame 1 flickers (neighbours 0.2, 0.25 agree) → 0.225;
//	   frame 2's neighbours are the RAW 0.9 and 0.2, which disagree → kept;
//	b: 0.2 0.35 0.5 0.65 — a ramp: neighbours disagree → kept;
//	c: 0.5 0.55 0.5 0.5 — within ξ of both neighbours → kept;
//	d: 0 1 1 0 — a two-frame spike is not one-frame flicker → kept.
func TestOFDFormula(t *testing.T) {
	frames := [][]float32{
		{0.2, 0.2, 0.5, 0},
		{0.9, 0.35, 0.55, 1},
		{0.25, 0.5, 0.5, 1},
		{0.2, 0.65, 0.5, 0},
	}
	want := [][]float32{
		{0.2, 0.2, 0.5, 0},
		{0.225, 0.35, 0.55, 1},
		{0.25, 0.5, 0.5, 1},
		{0.2, 0.65, 0.5, 0},
	}
	f := mustNew(t, "ofd")
	if out := f.Push(frames[0], 4, 1); len(out) != 0 {
		t.Fatalf("first Push returned %d frames; ofd holds one back", len(out))
	}
	var got [][]float32
	for _, p := range frames[1:] {
		got = append(got, f.Push(p, 4, 1)...)
	}
	got = append(got, f.Flush()...)
	if len(got) != len(want) {
		t.Fatalf("%d frames out, want %d", len(got), len(want))
	}
	for i := range want {
		near(t, "frame", got[i], want[i], 1e-7)
	}
	if out := f.Flush(); len(out) != 0 {
		t.Errorf("second Flush returned %d frames", len(out))
	}
}

func TestOFDResetAndSizeChange(t *testing.T) {
	f := mustNew(t, "ofd")
	f.Push([]float32{0.3}, 1, 1)
	f.Reset()
	if out := f.Flush(); len(out) != 0 {
		t.Errorf("Flush after Reset returned %d frames", len(out))
	}
	f.Push([]float32{0.3, 0.3}, 2, 1)
	out := f.Push([]float32{0.9}, 1, 1)
	if len(out) != 1 || len(out[0]) != 2 {
		t.Fatalf("size change: got %v, want the held 2-pixel frame", out)
	}
	if out := f.Flush(); len(out) != 1 || out[0][0] != 0.9 {
		t.Errorf("Flush after size change = %v, want [[0.9]]", out)
	}
}

// A static plane of 0.3 with one frame spiking to 0.95: ofd returns 0.3
// for every frame.
func TestOFDRemovesOneFrameSpike(t *testing.T) {
	const n, px = 7, 6
	f := mustNew(t, "ofd")
	var got [][]float32
	for i := 0; i < n; i++ {
		p := make([]float32, px)
		for j := range p {
			p[j] = 0.3
			if i == 3 {
				p[j] = 0.95
			}
		}
		got = append(got, f.Push(p, px, 1)...)
	}
	got = append(got, f.Flush()...)
	if len(got) != n {
		t.Fatalf("%d frames out, want %d", len(got), n)
	}
	for i, p := range got {
		for j, v := range p {
			if v != 0.3 {
				t.Fatalf("frame %d pixel %d = %v, want 0.3 exactly", i, j, v)
			}
		}
	}
}

// frameChange is dtSSD (RVM's evaluate_lr.py) against a static truth:
// 100·sqrt(Σ(s_t − s_(t−1))²/N), averaged over t ≥ 1.
func frameChange(frames [][]float32) float64 {
	var sum float64
	for t := 1; t < len(frames); t++ {
		var ss float64
		for i, v := range frames[t] {
			d := float64(v - frames[t-1][i])
			ss += d * d
		}
		sum += 100 * math.Sqrt(ss/float64(len(frames[t])))
	}
	return sum / float64(len(frames)-1)
}

// On a static clip (noise around a constant), ema and uncertainty lower the
// frame-to-frame change against none.
func TestStaticClipSmoothing(t *testing.T) {
	rng := rand.New(rand.NewSource(16))
	const n, px = 40, 256
	clip := make([][]float32, n)
	for i := range clip {
		clip[i] = make([]float32, px)
		for j := range clip[i] {
			clip[i][j] = 0.6 + 0.1*(rng.Float32()-0.5)
		}
	}
	run := func(s string) float64 {
		f := mustNew(t, s)
		var out [][]float32
		for _, p := range clip {
			out = append(out, f.Push(p, px, 1)...)
		}
		out = append(out, f.Flush()...)
		if len(out) != n {
			t.Fatalf("%s: %d frames out, want %d", s, len(out), n)
		}
		return frameChange(out)
	}
	none := run("none")
	for _, s := range []string{"ema:0.5", "uncertainty:0.9"} {
		if got := run(s); !(got < 0.8*none) {
			t.Errorf("%s: frame change %.3f, none %.3f; want a clear drop", s, got, none)
		} else {
			t.Logf("%s: frame change %.3f against none %.3f", s, got, none)
		}
	}
}

// Returned planes are the caller's: writing to one leaves the filter's
// state alone.
func TestReturnedPlanesAreNew(t *testing.T) {
	for _, s := range []string{"none", "ema:0.5", "uncertainty:0.9", "ofd"} {
		f := mustNew(t, s)
		in := []float32{0.5}
		var out [][]float32
		out = append(out, f.Push(in, 1, 1)...)
		in[0] = 0.5
		out = append(out, f.Push(in, 1, 1)...)
		out = append(out, f.Flush()...)
		for _, p := range out {
			p[0] = -1
		}
		f.Reset()
		if got := append(f.Push([]float32{0.5}, 1, 1), f.Flush()...); len(got) != 1 || got[0][0] != 0.5 {
			t.Errorf("%s: after writing to its outputs, got %v, want [[0.5]]", s, got)
		}
		if len(out) != 2 {
			t.Errorf("%s: %d frames out of 2", s, len(out))
		}
	}
}

// One NaN frame (a model's bad output, counted by the caller) does not
// poison a pixel for the rest of the clip: the next finite frame restarts
// its history.
func TestNaNDoesNotPersist(t *testing.T) {
	nan := float32(math.NaN())
	for _, s := range []string{"ema:0.5", "uncertainty:0.9"} {
		f := mustNew(t, s)
		one(t, f, []float32{0.5, 0.5})
		if got := one(t, f, []float32{nan, 0.5}); got[0] == got[0] || got[1] != 0.5 {
			t.Errorf("%s: NaN frame gave %v, want [NaN 0.5]", s, got)
		}
		near(t, s+" after NaN", one(t, f, []float32{0.25, 0.5}), []float32{0.25, 0.5}, 0)
	}
}
