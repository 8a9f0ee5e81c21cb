package onnxbuild_test

import (
	"bytes"
	"encoding/binary"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models/onnxbuild"
	"github.com/x448/float16"
	ort "github.com/yalue/onnxruntime_go"
)

func opCount(info onnxbuild.Info, op string) int {
	for _, o := range info.Ops {
		if o.Op == op {
			return o.Count
		}
	}
	return 0
}

// TestPrecisionInspect pins what each precision writes for the oracle (a
// Conv with weight and bias, a Sigmoid) and for a graph with a Clip and a
// Resize, whose scales must stay float32.
func TestPrecisionInspect(t *testing.T) {
	const f32, f16 = onnxbuild.TypeFloat, onnxbuild.TypeFloat16
	type want struct {
		in, out int32
		casts   int
		inits   map[int32]int
	}
	oracle := map[onnxbuild.Precision]want{
		onnxbuild.FP32:        {f32, f32, 0, map[int32]int{f32: 2}},
		onnxbuild.FP16IO:      {f16, f16, 2, map[int32]int{f32: 2}},
		onnxbuild.FP16Weights: {f32, f32, 2, map[int32]int{f16: 2}},
		onnxbuild.FP16:        {f32, f32, 2, map[int32]int{f16: 2}},
	}
	// clipResize: Conv weight, Clip's two bounds, Resize's scales.
	clipResize := map[onnxbuild.Precision]want{
		onnxbuild.FP32:        {f32, f32, 0, map[int32]int{f32: 4}},
		onnxbuild.FP16IO:      {f16, f16, 2, map[int32]int{f32: 4}},
		onnxbuild.FP16Weights: {f32, f32, 3, map[int32]int{f16: 3, f32: 1}},
		onnxbuild.FP16:        {f32, f32, 2, map[int32]int{f16: 3, f32: 1}},
	}
	for _, p := range onnxbuild.Precisions() {
		m, err := onnxbuild.Build("oracle", onnxbuild.Options{Precision: p})
		if err != nil {
			t.Fatal(err)
		}
		cr, err := clipResizeGraph(p).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			name  string
			model []byte
			w     want
			nodes int
		}{{"oracle", m.Data, oracle[p], 2}, {"clip-resize", cr, clipResize[p], 4}} {
			info, err := onnxbuild.Inspect(c.model)
			if err != nil {
				t.Fatal(err)
			}
			got := want{info.Inputs[0].ElemType, info.Outputs[0].ElemType, opCount(info, "Cast"), info.InitTypes}
			if got.in != c.w.in || got.out != c.w.out || got.casts != c.w.casts || !maps.Equal(got.inits, c.w.inits) {
				t.Errorf("%s %s: input %d output %d, %d Casts, initializers by type %v; want %+v", c.name, p, got.in, got.out, got.casts, got.inits, c.w)
			}
			if info.Nodes != c.nodes+c.w.casts || len(info.Inputs) != 1 || len(info.Outputs) != 1 {
				t.Errorf("%s %s: %d nodes, inputs %v, outputs %v", c.name, p, info.Nodes, info.Inputs, info.Outputs)
			}
			prec, ok := info.Metadata["segtool.precision"]
			if p == onnxbuild.FP32 && ok || p != onnxbuild.FP32 && prec != string(p) {
				t.Errorf("%s %s: metadata segtool.precision %q (set %v)", c.name, p, prec, ok)
			}
		}
	}
}

// clipResizeGraph is image [1,3,4,6] -> 1x1 Conv -> Clip(0, 6) -> Resize to
// 7x9 (linear) -> Sigmoid -> out, in precision p.
func clipResizeGraph(p onnxbuild.Precision) *onnxbuild.Graph {
	g := onnxbuild.NewGraph("clip_resize")
	g.Precision = p
	x := g.Input("image", onnxbuild.Fixed(1), onnxbuild.Fixed(3), onnxbuild.Fixed(4), onnxbuild.Fixed(6))
	w := g.Constant("w", []int64{2, 3, 1, 1}, []float32{0.5, -0.25, 1, 0.125, 2, -1})
	y := g.Resize(g.Clip(g.Conv(x, w, "", onnxbuild.ConvAttrs{}), 0, 6), 7, 9, onnxbuild.ResizeLinear)
	g.Output("out", g.Sigmoid(y))
	return g
}

// TestPrecisionComputedScales checks FP16 on a Resize whose scales a node
// computes (an Identity of a constant, read at a float16 input, so float16
// in FP16): a Cast back to FLOAT feeds the scales, and ONNX Runtime's type
// checks accept the graph.
func TestPrecisionComputedScales(t *testing.T) {
	g := onnxbuild.NewGraph("computed_scales")
	g.Precision = onnxbuild.FP16
	x := g.Input("x", onnxbuild.Fixed(1), onnxbuild.Fixed(1), onnxbuild.Fixed(2), onnxbuild.Fixed(2))
	sc := g.Identity(g.Constant("sc", []int64{4}, []float32{1, 1, 2, 2}))
	g.Node("Resize", []string{x, "", sc}, 1, onnxbuild.AttrString("mode", "nearest")) // typed only, its output unused
	g.Output("y", g.Relu(x))
	model, info := marshalInspect(t, g)
	// Casts: input to float16, output to float, Identity's output to float.
	if n, types := opCount(info, "Cast"), info.InitTypes; n != 3 || !maps.Equal(types, map[int32]int{onnxbuild.TypeFloat16: 1}) {
		t.Errorf("%d Casts, initializers by type %v; want 3 and one float16", n, types)
	}
	testmodel.InitRuntime(t)
	y := runPrecision(t, onnxbuild.FP16, model, "x", "y", []int64{1, 1, 2, 2}, []int64{1, 1, 2, 2}, []float32{-1, 0.5, 2, -3})
	if !slices.Equal(y, []float32{0, 0.5, 2, 0}) {
		t.Errorf("relu: %v", y)
	}
}

// TestPrecisionGraphUnchanged checks that Marshal converts a copy: the
// float32 bytes are the same before and after an fp16 Marshal, FP32 and ""
// write the same bytes, and the same precision always writes the same bytes.
func TestPrecisionGraphUnchanged(t *testing.T) {
	g := clipResizeGraph("")
	before, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range onnxbuild.Precisions() {
		g.Precision = p
		a, err := g.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		b, err := g.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) || (p == onnxbuild.FP32) != bytes.Equal(a, before) {
			t.Errorf("%s: bytes not deterministic, or fp32 bytes differ (equal to fp32: %v)", p, bytes.Equal(a, before))
		}
	}
	g.Precision = ""
	after, err := g.Marshal()
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("fp32 bytes changed after fp16 marshals (err %v)", err)
	}
	m32, err := onnxbuild.Build("mobilenetv2-unet", onnxbuild.Options{Width: 64, Height: 32})
	if err != nil {
		t.Fatal(err)
	}
	m16, err := onnxbuild.Build("mobilenetv2-unet", onnxbuild.Options{Width: 64, Height: 32, Precision: onnxbuild.FP16Weights})
	if err != nil {
		t.Fatal(err)
	}
	// Half the weight bytes: the file shrinks by about 2 bytes a parameter.
	if d := len(m32.Data) - len(m16.Data); m16.Params != m32.Params || float64(d) < 1.9*float64(m32.Params) || d > 2*int(m32.Params) {
		t.Errorf("fp16-weights: %d bytes for %d params, fp32 %d bytes for %d", len(m16.Data), m16.Params, len(m32.Data), m32.Params)
	}
}

func TestPrecisionErrors(t *testing.T) {
	for s, want := range map[string]onnxbuild.Precision{"": onnxbuild.FP32, "fp32": onnxbuild.FP32, "fp16-io": onnxbuild.FP16IO,
		"fp16-weights": onnxbuild.FP16Weights, "fp16": onnxbuild.FP16} {
		if p, err := onnxbuild.ParsePrecision(s); p != want || err != nil {
			t.Errorf("ParsePrecision(%q) = %q, %v; want %q", s, p, err, want)
		}
	}
	if _, err := onnxbuild.ParsePrecision("half"); err == nil || !strings.Contains(err.Error(), "fp16-weights") {
		t.Errorf("ParsePrecision(half): %v, want an error listing the precisions", err)
	}
	if _, err := onnxbuild.Build("oracle", onnxbuild.Options{Precision: "fp8"}); err == nil {
		t.Error("Build with precision fp8: no error")
	}
	g := clipResizeGraph("fp8")
	if _, err := g.Marshal(); err == nil || !strings.Contains(err.Error(), "fp8") {
		t.Errorf("Marshal in fp8: %v", err)
	}

	// DefaultOracle's bias -130560 does not fit float16: an error, not inf.
	for _, p := range []onnxbuild.Precision{onnxbuild.FP16Weights, onnxbuild.FP16} {
		g := onnxbuild.NewGraph("big")
		g.Precision = p
		x := g.Input("x", onnxbuild.Fixed(2))
		g.Output("y", g.Add(x, g.Constant("b", []int64{2}, []float32{65504, float32(onnxbuild.DefaultOracle().Bias)})))
		if _, err := g.Marshal(); err == nil || !strings.Contains(err.Error(), `"b" value -130560 overflows float16`) {
			t.Errorf("%s: %v, want an overflow error", p, err)
		}
	}
	// FP16IO keeps float32 weights, so the big bias is fine there.
	g = onnxbuild.NewGraph("big")
	g.Precision = onnxbuild.FP16IO
	x := g.Input("x", onnxbuild.Fixed(1))
	g.Output("y", g.Add(x, g.Constant("b", []int64{1}, []float32{-130560})))
	if _, err := g.Marshal(); err != nil {
		t.Errorf("fp16-io with a big float32 weight: %v", err)
	}
}

// halfBytes encodes v as little-endian IEEE half floats.
func halfBytes(v []float32) []byte {
	b := make([]byte, 2*len(v))
	for i, x := range v {
		binary.LittleEndian.PutUint16(b[2*i:], float16.Fromfloat32(x).Bits())
	}
	return b
}

// notImplemented reports whether err is ONNX Runtime lacking a kernel.
func notImplemented(err error) bool {
	s := err.Error()
	return strings.Contains(s, "Could not find an implementation") || strings.Contains(s, "NOT_IMPLEMENTED")
}

// runPrecision runs model (precision p) once on CPU, feeding x as float16
// for FP16IO and float32 otherwise, and returns the output as float32.
// It skips the test when ONNX Runtime has no kernel for an fp16 op. The
// FP16IO output tensor is allocated here: onnxruntime_go v1.27.0 copies an
// output ONNX Runtime allocated by its element count, not its byte count,
// so a float16 output it allocates fails with "not enough space".
func runPrecision(t *testing.T, p onnxbuild.Precision, model []byte, in, out string, inShape, outShape []int64, x []float32) []float32 {
	t.Helper()
	skip := func(err error) {
		if p == onnxbuild.FP16 && notImplemented(err) {
			t.Skipf("CPU provider lacks an fp16 kernel (check on the GPU machine): %v", err)
		}
		t.Fatal(err)
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, []string{in}, []string{out}, nil)
	if err != nil {
		skip(err)
	}
	defer func() { _ = s.Destroy() }()
	n := 1
	for _, d := range outShape {
		n *= int(d)
	}
	if p != onnxbuild.FP16IO {
		xt, err := ort.NewTensor(ort.NewShape(inShape...), x)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = xt.Destroy() }()
		yt, err := ort.NewEmptyTensor[float32](ort.NewShape(outShape...))
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = yt.Destroy() }()
		if err := s.Run([]ort.Value{xt}, []ort.Value{yt}); err != nil {
			skip(err)
		}
		return slices.Clone(yt.GetData())
	}
	xt, err := ort.NewCustomDataTensor(ort.NewShape(inShape...), halfBytes(x), ort.TensorElementDataTypeFloat16)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = xt.Destroy() }()
	yt, err := ort.NewCustomDataTensor(ort.NewShape(outShape...), make([]byte, 2*n), ort.TensorElementDataTypeFloat16)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = yt.Destroy() }()
	if err := s.Run([]ort.Value{xt}, []ort.Value{yt}); err != nil {
		skip(err)
	}
	y := make([]float32, n)
	for i := range y {
		y[i] = float16.Frombits(binary.LittleEndian.Uint16(yt.GetData()[2*i:])).Float32()
	}
	return y
}

// TestPrecisionOracleORT runs the oracle arch in every precision through
// ONNX Runtime on CPU: prob is exactly 1 where red >= 128 and exactly 0
// elsewhere (fp16 weights use FP16Oracle, which keeps that contract).
func TestPrecisionOracleORT(t *testing.T) {
	testmodel.InitRuntime(t)
	reds := []float32{0, 1, 126, 127, 128, 129, 200, 254, 255}
	w := len(reds)
	// Green and blue get values the oracle must ignore, 0..255.
	x := make([]float32, 3*w)
	for i, r := range reds {
		x[i], x[w+i], x[2*w+i] = r, float32((i*97+13)%256), 255-r
	}
	for _, p := range onnxbuild.Precisions() {
		t.Run(string(p), func(t *testing.T) {
			m, err := onnxbuild.Build("oracle", onnxbuild.Options{Precision: p})
			if err != nil {
				t.Fatal(err)
			}
			y := runPrecision(t, p, m.Data, onnxbuild.OracleInput, onnxbuild.OracleOutput,
				[]int64{1, 3, 1, int64(w)}, []int64{1, 1, 1, int64(w)}, x)
			for i, r := range reds {
				want := float32(0)
				if r >= 128 {
					want = 1
				}
				if y[i] != want {
					t.Errorf("red %g: prob %g, want exactly %g", r, y[i], want)
				}
			}
		})
	}
	// The same contract from FP16Oracle's formula, in float32.
	o := onnxbuild.FP16Oracle()
	for r := float32(0); r <= 255; r++ {
		want := float32(0)
		if r >= 128 {
			want = 1
		}
		z := o.Logit(r)
		if o.Prob(r) != want || float16.Fromfloat32(z).Float32() != z || float16.Fromfloat32(o.Gain*r).Float32() != o.Gain*r {
			t.Fatalf("FP16Oracle red %g: logit %g (exact in float16: %v), prob %g", r, z, float16.Fromfloat32(z).Float32() == z, o.Prob(r))
		}
	}
}

// TestPrecisionClipResizeORT runs the Clip+Resize graph in every precision:
// the outputs agree with float32 within float16's rounding.
func TestPrecisionClipResizeORT(t *testing.T) {
	testmodel.InitRuntime(t)
	x := make([]float32, 3*4*6)
	for i := range x {
		x[i] = float32(i%17)/4 - 1 // -1..3 in quarters, exact in float16
	}
	inShape, outShape := []int64{1, 3, 4, 6}, []int64{1, 2, 7, 9}
	var ref []float32
	for _, p := range onnxbuild.Precisions() {
		t.Run(string(p), func(t *testing.T) {
			model, err := clipResizeGraph(p).Marshal()
			if err != nil {
				t.Fatal(err)
			}
			y := runPrecision(t, p, model, "image", "out", inShape, outShape, x)
			if p == onnxbuild.FP32 {
				ref = y
				return
			}
			// The weights and inputs are exact in float16; float16 compute
			// rounds the conv, the interpolation and the sigmoid (each within
			// 2^-11 relative); the float16 output rounds a value <= 1 to
			// within 2^-12.
			if i, ok := closeTo(y, ref, 2e-3); !ok {
				t.Errorf("output %d: %g, fp32 %g", i, y[i], ref[i])
			}
		})
	}
}

// archInput returns one image of random 0..255 pixels normalised as arch a
// says, in its layout, with the input and output shapes at batch 1.
func archInput(a onnxbuild.Arch, w, h int, seed uint64) (x []float32, in, out []int64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	x = make([]float32, h*w*3)
	for i := range x {
		c := i % 3 // NHWC channel
		if a.Layout == "NCHW" {
			c = i / (w * h)
		}
		x[i] = (float32(rng.IntN(256))*a.Scale - a.Mean[c]) / a.Std[c]
	}
	in = []int64{1, int64(h), int64(w), 3}
	out = []int64{1, int64(h), int64(w), int64(a.OutputChannels)}
	if a.Layout == "NCHW" {
		in = []int64{1, 3, int64(h), int64(w)}
		out = []int64{1, int64(a.OutputChannels), int64(h), int64(w)}
	}
	return x, in, out
}

// diffStats returns the largest and the mean absolute difference of y
// from ref (NaN counts as +Inf).
func diffStats(y, ref []float32) (worst int, maxDiff, mean float64) {
	for i := range y {
		d := math.Abs(float64(y[i]) - float64(ref[i]))
		if math.IsNaN(d) {
			d = math.Inf(1)
		}
		if d > maxDiff || i == 0 {
			worst, maxDiff = i, d
		}
		mean += d
	}
	return worst, maxDiff, mean / float64(len(y))
}

// TestPrecisionArchsInORT builds every architecture at its small test size
// in every precision and runs it on CPU: the fp16 variants load, have the
// right I/O element types and stay close to the float32 build of the same
// seed. The bounds are loose on purpose (random deep nets amplify
// rounding; measured: mean abs difference <= 5e-4 for the sigmoid archs,
// 2.3e-4 of the largest logit for fast-scnn, 20x below the bounds) and
// catch what a broken conversion does: NaN, inf, swapped or unconverted
// tensors, differences of order the output itself.
func TestPrecisionArchsInORT(t *testing.T) {
	testmodel.InitRuntime(t)
	for _, a := range onnxbuild.Archs() {
		if a.Dynamic {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			if testing.Short() && a.Name == "resnet50-unet" {
				t.Skip("skipping resnet50-unet in -short mode (about 4 s)")
			}
			w, h := smallSize(a.Name)
			x, in, out := archInput(a, w, h, 9)
			var ref []float32
			for _, p := range onnxbuild.Precisions() {
				m, err := a.Build(onnxbuild.Options{Width: w, Height: h, Seed: 3, Precision: p})
				if err != nil {
					t.Fatal(err)
				}
				info, err := onnxbuild.Inspect(m.Data)
				if err != nil {
					t.Fatal(err)
				}
				elem := int32(onnxbuild.TypeFloat)
				if p == onnxbuild.FP16IO {
					elem = onnxbuild.TypeFloat16
				}
				if info.Inputs[0].ElemType != elem || info.Outputs[0].ElemType != elem {
					t.Errorf("%s: input %+v output %+v, want element type %d", p, info.Inputs[0], info.Outputs[0], elem)
				}
				y := runPrecision(t, p, m.Data, a.Input, a.Output, in, out, x)
				if p == onnxbuild.FP32 {
					ref = y
					continue
				}
				scale := max(1, maxAbs(ref))
				i, maxDiff, mean := diffStats(y, ref)
				t.Logf("%s: mean abs diff %.3g, max %.3g at %d (%g vs fp32 %g), largest fp32 output %.3g", p, mean, maxDiff, i, y[i], ref[i], scale)
				if !(maxDiff < 0.1*scale && mean < 0.01*scale) || (a.Kind == "sigmoid" && (slices.Min(y) < 0 || slices.Max(y) > 1)) {
					t.Errorf("%s: mean abs diff %g, max %g at %d (%g vs fp32 %g), outputs %g..%g; want below %g and %g",
						p, mean, maxDiff, i, y[i], ref[i], slices.Min(y), slices.Max(y), 0.01*scale, 0.1*scale)
				}
			}
		})
	}
}

// TestPrecisionArchClose compares mobilenetv2-unet at its 224x224 default,
// with fp16 weights and in fp16, against the float32 build of the same seed.
func TestPrecisionArchClose(t *testing.T) {
	testmodel.InitRuntime(t)
	start := time.Now()
	m32, err := onnxbuild.Build("mobilenetv2-unet", onnxbuild.Options{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	x, in, out := archInput(m32.Arch, m32.Width, m32.Height, 9)
	ref := runPrecision(t, onnxbuild.FP32, m32.Data, m32.Arch.Input, m32.Arch.Output, in, out, x)
	if d := time.Since(start); d > 5*time.Second {
		t.Skipf("skipping: the fp32 build and run took %v", d)
	}
	for _, p := range []onnxbuild.Precision{onnxbuild.FP16Weights, onnxbuild.FP16} {
		m, err := onnxbuild.Build("mobilenetv2-unet", onnxbuild.Options{Seed: 5, Precision: p})
		if err != nil {
			t.Fatal(err)
		}
		y := runPrecision(t, p, m.Data, m32.Arch.Input, m32.Arch.Output, in, out, x)
		// Each weight moves by at most 2^-11 relative (round to nearest
		// half). Through 55 convs of random He weights that moves the
		// logits by about 1% (median 0.6-0.9% for seeds 1, 5, 7, measured),
		// so the sigmoid moves by up to 0.024 where its slope is near 1/4,
		// and by 2e-3 on average (seed 5: max 0.021 and 0.024, mean 1.9e-3
		// and 2.1e-3). The bounds leave 2x margin and still catch a broken
		// conversion (differences of order 0.1-1). On CPU, FP16 computes in
		// float32 behind Casts that ONNX Runtime inserts for the ops without
		// a float16 kernel, so it lands next to FP16Weights.
		i, maxDiff, mean := diffStats(y, ref)
		t.Logf("%s: mean abs diff %.3g, max %.3g at %d (%g vs fp32 %g)", p, mean, maxDiff, i, y[i], ref[i])
		if !(maxDiff < 0.05 && mean < 5e-3) {
			t.Errorf("%s: mean abs diff %g, max %g at %d (%g vs fp32 %g), want below 5e-3 and 0.05", p, mean, maxDiff, i, y[i], ref[i])
		}
	}
}
