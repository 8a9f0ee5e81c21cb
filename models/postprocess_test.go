package models

import (
	"math"
	"strings"
	"testing"
)

func kindSpec(kind OutputKind, fg int, layout Layout) Spec {
	return Spec{Layout: layout, Kind: kind, Foreground: fg}
}

func probs(t *testing.T, s Spec, out []float32, dims ...int64) []float32 {
	t.Helper()
	n := 1
	for _, d := range dims {
		n *= int(d)
	}
	c := 1
	if s.Kind.Channels() == 2 {
		c = 2
	}
	prob := make([]float32, n/c)
	if err := s.Probability(out, dims, prob); err != nil {
		t.Fatalf("%s %v: %v", s.Kind, dims, err)
	}
	return prob
}

// sameBits compares float32 slices, NaN equal to NaN.
func sameBits(t *testing.T, what string, got, want []float32) {
	t.Helper()
	for i := range want {
		g, w := got[i], want[i]
		if g != w && !(math.IsNaN(float64(g)) && math.IsNaN(float64(w))) {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
	}
}

func TestProbabilitySigmoid(t *testing.T) {
	inf := float32(math.Inf(1))
	nan := float32(math.NaN())
	// Values a hair outside [0,1] (float rounding) are clamped; NaN and Inf
	// pass through for the caller to count.
	got := probs(t, kindSpec(Sigmoid, 0, NCHW), []float32{0, 0.25, 1.0000001, -0.0000001, nan, inf}, 1, 2, 3)
	sameBits(t, "sigmoid", got, []float32{0, 0.25, 1, 0, nan, inf})
	got = probs(t, kindSpec(Sigmoid, 0, NHWC), []float32{0.5, 0.75}, 1, 2, 1)
	sameBits(t, "sigmoid NHWC", got, []float32{0.5, 0.75})
	got = probs(t, kindSpec(Sigmoid, 0, NCHW), []float32{0.5, 0.75}, 2, 1)
	sameBits(t, "sigmoid [H,W]", got, []float32{0.5, 0.75})

	err := kindSpec(Sigmoid, 0, NCHW).Probability([]float32{0.5, 3.2}, []int64{1, 1, 2}, make([]float32, 2))
	if err == nil || !strings.Contains(err.Error(), "logits") {
		t.Errorf("sigmoid output holding 3.2: %v, want an error suggesting logits", err)
	}
}

func TestProbabilityLogits(t *testing.T) {
	inf := float32(math.Inf(-1))
	nan := float32(math.NaN())
	// 1/(1+e^-2) = 0.8807970779778823, 1/(1+e^0.5) = 0.3775406687981454.
	got := probs(t, kindSpec(Logits, 0, NCHW), []float32{2, 0, -0.5, 1000, inf, nan}, 1, 3, 2)
	sameBits(t, "logits", got, []float32{float32(0.8807970779778823), 0.5, float32(0.3775406687981454), 1, inf, nan})
}

func TestProbabilitySoftmax2(t *testing.T) {
	// NCHW: channel 0 = background plane, channel 1 = person plane.
	out := []float32{0.9, 0.2, 0.1, 0.8}
	sameBits(t, "softmax2 fg 1", probs(t, kindSpec(Softmax2, 1, NCHW), out, 2, 1, 2), []float32{0.1, 0.8})
	sameBits(t, "softmax2 fg 0", probs(t, kindSpec(Softmax2, 0, NCHW), out, 2, 1, 2), []float32{0.9, 0.2})
	// NHWC: channels interleaved per pixel.
	nhwc := []float32{0.9, 0.1, 0.2, 0.8}
	sameBits(t, "softmax2 NHWC", probs(t, kindSpec(Softmax2, 1, NHWC), nhwc, 1, 2, 2), []float32{0.1, 0.8})
	// The output layout wins over the input's.
	s := kindSpec(Softmax2, 1, NCHW)
	s.OutputLayout = NHWC
	sameBits(t, "softmax2 output_layout NHWC", probs(t, s, nhwc, 1, 2, 2), []float32{0.1, 0.8})
}

func TestProbabilityLogits2(t *testing.T) {
	nan := float32(math.NaN())
	inf := float32(math.Inf(1))
	// Pixel 0: bg 1, fg 3 -> 1/(1+e^(1-3)) = 0.8807970779778823;
	// pixel 1: bg 3, fg 1 -> 1/(1+e^2) = 0.11920292202211755;
	// pixel 2: fg NaN; pixel 3: bg +Inf (passed through).
	out := []float32{1, 3, 0, inf, 3, 1, nan, 0}
	want := []float32{float32(0.8807970779778823), float32(0.11920292202211755), nan, inf}
	sameBits(t, "logits2", probs(t, kindSpec(Logits2, 1, NCHW), out, 2, 2, 2), want)
	// Foreground 0 swaps the roles: p0 = 1/(1+e^2).
	got := probs(t, kindSpec(Logits2, 0, NCHW), []float32{1, 3}, 2, 1, 1)
	sameBits(t, "logits2 fg 0", got, []float32{float32(0.11920292202211755)})
	// Huge logits saturate instead of overflowing.
	got = probs(t, kindSpec(Logits2, 1, NCHW), []float32{-1e30, 1e30}, 2, 1, 1)
	sameBits(t, "logits2 saturated", got, []float32{1})
}

func TestProbabilityErrors(t *testing.T) {
	s := kindSpec(Sigmoid, 0, NCHW)
	for _, c := range []struct {
		name string
		s    Spec
		out  []float32
		dims []int64
		n    int
	}{
		{"2 channels for sigmoid", s, make([]float32, 8), []int64{2, 2, 2}, 4},
		{"1 channel for softmax2", kindSpec(Softmax2, 1, NCHW), make([]float32, 4), []int64{1, 2, 2}, 4},
		{"values do not match dims", s, make([]float32, 5), []int64{1, 2, 2}, 4},
		{"plane too short", s, make([]float32, 4), []int64{1, 2, 2}, 3},
		{"rank 4 item", s, make([]float32, 4), []int64{1, 1, 2, 2}, 4},
		{"no kind", kindSpec("", 0, NCHW), make([]float32, 4), []int64{1, 2, 2}, 4},
		{"output not at input size", Spec{Layout: NCHW, Kind: Sigmoid, Width: 4, Height: 4}, make([]float32, 4), []int64{1, 2, 2}, 4},
	} {
		if err := c.s.Probability(c.out, c.dims, make([]float32, c.n)); err == nil {
			t.Errorf("%s: no error", c.name)
		}
	}
}

// BenchmarkProbabilityLogits2 reads an 800x600 two-channel logit output.
func BenchmarkProbabilityLogits2(b *testing.B) {
	const w, h = 800, 600
	out := make([]float32, 2*w*h)
	for i := range out {
		out[i] = float32(i%17) - 8
	}
	prob := make([]float32, w*h)
	s := Spec{Layout: NCHW, Kind: Logits2, Foreground: 1, Width: w, Height: h}
	b.ResetTimer()
	for range b.N {
		if err := s.Probability(out, []int64{2, h, w}, prob); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkProbabilitySigmoid reads an 800x600 NHWC sigmoid output.
func BenchmarkProbabilitySigmoid(b *testing.B) {
	const w, h = 800, 600
	out := make([]float32, w*h)
	for i := range out {
		out[i] = float32(i%101) / 100
	}
	prob := make([]float32, w*h)
	s := Spec{Layout: NHWC, Kind: Sigmoid, Width: w, Height: h}
	b.ResetTimer()
	for range b.N {
		if err := s.Probability(out, []int64{h, w, 1}, prob); err != nil {
			b.Fatal(err)
		}
	}
}
