package onnxbuild_test

import (
	"math"
	"slices"
	"testing"

	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models/onnxbuild"
)

// oracleInput returns an [n,3,h,w] batch whose channel ch holds values(i)
// and whose other channels hold noise the oracle must ignore.
func oracleInput(n, h, w, ch int, values func(i int) float32) []float32 {
	x := make([]float32, n*3*h*w)
	plane := h * w
	for b := range n {
		for c := range 3 {
			for i := range plane {
				v := float32((b*7919 + c*104729 + i*31) % 256)
				if c == ch {
					v = values(b*plane + i)
				}
				x[(b*3+c)*plane+i] = v
			}
		}
	}
	return x
}

// TestOracleDefaultExact feeds every 0..255 value of the red channel and
// expects exactly 1 from 128 up and exactly 0 below, at two sizes in one
// session (H and W are dynamic) and batch 2.
func TestOracleDefaultExact(t *testing.T) {
	testmodel.InitRuntime(t)
	o := onnxbuild.DefaultOracle()
	model, err := onnxbuild.Oracle(o)
	if err != nil {
		t.Fatal(err)
	}
	s := session(t, model, []string{onnxbuild.OracleInput}, []string{onnxbuild.OracleOutput})
	for _, sz := range [][2]int{{16, 16}, {8, 64}, {3, 5}} {
		h, w := sz[0], sz[1]
		val := func(i int) float32 { return float32((i * 37) % 256) } // a permutation of 0..255 per 256 pixels
		in := oracleInput(2, h, w, 0, val)
		res := runSession(t, s, 1, feed{onnxbuild.OracleInput, []int64{2, 3, int64(h), int64(w)}, in})[0]
		if want := []int64{2, 1, int64(h), int64(w)}; !slices.Equal(res.shape, want) {
			t.Fatalf("%dx%d: output shape %v, want %v", h, w, res.shape, want)
		}
		for i, got := range res.data {
			v := val(i)
			want := float32(0)
			if v >= 128 {
				want = 1
			}
			if got != want || o.Prob(v) != want {
				t.Fatalf("%dx%d pixel %d: red %g gives %g (Prob %g), want exactly %g", h, w, i, v, got, o.Prob(v), want)
			}
		}
	}
}

// TestOracleSoft checks a non-saturating oracle on another channel against
// the documented contract: exact logits, ORT's sigmoid within 2e-7 of the
// exact logistic, exactly 0.5 at a zero logit, exactly 0 or 1 beyond +-18.
func TestOracleSoft(t *testing.T) {
	testmodel.InitRuntime(t)
	for _, c := range []struct {
		o   onnxbuild.OracleOptions
		val func(i int) float32
		n   int
	}{
		{onnxbuild.OracleOptions{Channel: 2, Gain: 1.0 / 16, Bias: -8}, func(i int) float32 { return float32(i % 256) }, 256},
		// Logits -40..40 in steps of 1/64.
		{onnxbuild.OracleOptions{Channel: 1, Gain: 1, Bias: 0}, func(i int) float32 { return -40 + float32(i)/64 }, 80*64 + 1},
	} {
		model, err := onnxbuild.Oracle(c.o)
		if err != nil {
			t.Fatal(err)
		}
		in := oracleInput(1, 1, c.n, c.o.Channel, c.val)
		res := runModel(t, model, []string{onnxbuild.OracleOutput}, feed{onnxbuild.OracleInput, []int64{1, 3, 1, int64(c.n)}, in})[0]
		for i, got := range res.data {
			x := c.val(i)
			z := c.o.Logit(x)
			if want := float32(float64(x)*float64(c.o.Gain) + float64(c.o.Bias)); z != want {
				t.Fatalf("%+v: Logit(%g) = %g, want the exact %g", c.o, x, z, want)
			}
			want := c.o.Prob(x)
			switch {
			case math.Abs(float64(got)-float64(want)) > 2e-7:
				t.Errorf("%+v: x %g (logit %g): ORT %g, want %g within 2e-7", c.o, x, z, got, want)
			case (got >= 0.5) != (z >= 0):
				t.Errorf("%+v: logit %g gives %g, on the wrong side of 0.5", c.o, z, got)
			case z == 0 && got != 0.5:
				t.Errorf("%+v: logit 0 gives %g, want exactly 0.5", c.o, got)
			case z >= 18 && got != 1, z <= -18 && got != 0:
				t.Errorf("%+v: logit %g gives %g, want exactly 0 or 1", c.o, z, got)
			}
		}
	}
}

func TestOracleArchAndErrors(t *testing.T) {
	if _, err := onnxbuild.Oracle(onnxbuild.OracleOptions{Channel: 3, Gain: 1}); err == nil {
		t.Error("channel 3: no error")
	}
	m, err := onnxbuild.Build("oracle", onnxbuild.Options{Width: 123})
	if err != nil {
		t.Fatal(err)
	}
	info, err := onnxbuild.Inspect(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Inputs) != 1 || info.Inputs[0].Name != onnxbuild.OracleInput || len(info.Outputs) != 1 ||
		info.Outputs[0].Name != onnxbuild.OracleOutput || info.Metadata["segtool.size"] != "dynamic" {
		t.Errorf("oracle arch: %+v", info)
	}
}
