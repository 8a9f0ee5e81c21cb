package onnxbuild_test

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models/onnxbuild"
	ort "github.com/yalue/onnxruntime_go"
)

// opCase is one op applied to the graph's inputs and the values ONNX
// Runtime must return, worked out by hand from the op's definition in
// onnx/docs/Operators.md.
type opCase struct {
	name  string
	build func(g *onnxbuild.Graph, x, y, z string) string
	shape []int64
	want  []float32
	tol   float64
}

// Inputs: x = 1..9 as [1,1,3,3]; y = [1,2,2,2] with channel 0 = 1..4 and
// channel 1 = 10..40; z = 1..4 as [1,1,2,2].
func opCases() []opCase {
	ones := func(g *onnxbuild.Graph, name string, dims ...int64) string {
		n := 1
		for _, d := range dims {
			n *= int(d)
		}
		v := make([]float32, n)
		for i := range v {
			v[i] = 1
		}
		return g.Constant(name, dims, v)
	}
	vec := func(g *onnxbuild.Graph, name string, v ...float32) string {
		return g.Constant(name, []int64{int64(len(v))}, v)
	}
	return []opCase{
		{name: "conv stride 2, pads bottom/right", shape: []int64{1, 1, 2, 2}, want: []float32{12, 9, 15, 9},
			build: func(g *onnxbuild.Graph, x, _, _ string) string {
				return g.Conv(x, ones(g, "w1", 1, 1, 2, 2), "", onnxbuild.ConvAttrs{Stride: 2, Pads: [4]int{0, 0, 1, 1}})
			}},
		{name: "conv dilation 2 with bias", shape: []int64{1, 1, 1, 1}, want: []float32{20.5},
			build: func(g *onnxbuild.Graph, x, _, _ string) string {
				return g.Conv(x, ones(g, "w2", 1, 1, 2, 2), vec(g, "b2", 0.5), onnxbuild.ConvAttrs{Dilation: 2})
			}},
		{name: "depthwise conv (group 2)", shape: []int64{1, 2, 2, 2}, want: []float32{2, 4, 6, 8, 30, 60, 90, 120},
			build: func(g *onnxbuild.Graph, _, y, _ string) string {
				w := g.Constant("w3", []int64{2, 1, 1, 1}, []float32{2, 3})
				return g.Conv(y, w, "", onnxbuild.ConvAttrs{Group: 2})
			}},
		{name: "transpose NCHW->NHWC", shape: []int64{1, 2, 2, 2}, want: []float32{1, 10, 2, 20, 3, 30, 4, 40},
			build: func(g *onnxbuild.Graph, _, y, _ string) string { return g.Transpose(y, 0, 2, 3, 1) }},
		{name: "conv transpose k2 s2", shape: []int64{1, 1, 4, 4},
			want: []float32{1, 10, 2, 20, 100, 1000, 200, 2000, 3, 30, 4, 40, 300, 3000, 400, 4000},
			build: func(g *onnxbuild.Graph, _, _, z string) string {
				w := g.Constant("w4", []int64{1, 1, 2, 2}, []float32{1, 10, 100, 1000})
				return g.ConvTranspose(z, w, "", onnxbuild.ConvAttrs{Stride: 2})
			}},
		// The 5x5 full output of a 3x3 stride-2 transpose with ones, cropped
		// one row and column at the end (TensorFlow SAME).
		{name: "conv transpose k3 s2 pads end", shape: []int64{1, 1, 4, 4},
			want: []float32{1, 1, 3, 2, 1, 1, 3, 2, 4, 4, 10, 6, 3, 3, 7, 4},
			build: func(g *onnxbuild.Graph, _, _, z string) string {
				return g.ConvTranspose(z, ones(g, "w5", 1, 1, 3, 3), "", onnxbuild.ConvAttrs{Stride: 2, Pads: [4]int{0, 0, 1, 1}})
			}},
		// (z - 1) / sqrt(15 + 1) * 2 + 1 = (z + 1) / 2.
		{name: "batchnorm", shape: []int64{1, 1, 2, 2}, want: []float32{1, 1.5, 2, 2.5},
			build: func(g *onnxbuild.Graph, _, _, z string) string {
				return g.BatchNorm(z, vec(g, "s", 2), vec(g, "b", 1), vec(g, "m", 1), vec(g, "v", 15), 1)
			}},
		{name: "add scalar, relu", shape: []int64{1, 1, 2, 2}, want: []float32{0, 0, 0.5, 1.5},
			build: func(g *onnxbuild.Graph, _, _, z string) string {
				return g.Relu(g.Add(z, g.Constant("c", nil, []float32{-2.5})))
			}},
		{name: "mul broadcast over rows", shape: []int64{1, 1, 2, 2}, want: []float32{1, 4, 3, 8},
			build: func(g *onnxbuild.Graph, _, _, z string) string {
				return g.Mul(z, g.Constant("m2", []int64{1, 1, 1, 2}, []float32{1, 2}))
			}},
		{name: "clip", shape: []int64{1, 1, 2, 2}, want: []float32{1.5, 2, 3, 3.5},
			build: func(g *onnxbuild.Graph, _, _, z string) string { return g.Clip(z, 1.5, 3.5) }},
		{name: "sigmoid of zero", shape: []int64{1, 1, 2, 2}, want: []float32{0.5, 0.5, 0.5, 0.5},
			build: func(g *onnxbuild.Graph, _, _, z string) string {
				return g.Sigmoid(g.Mul(z, g.Constant("zero", nil, []float32{0})))
			}},
		// Rows (1,2) and (3,4): softmax of (a, a+1) is (1/(1+e), e/(1+e)).
		{name: "softmax last axis", shape: []int64{1, 1, 2, 2}, tol: 1e-6,
			want:  []float32{float32(1 / (1 + math.E)), float32(math.E / (1 + math.E)), float32(1 / (1 + math.E)), float32(math.E / (1 + math.E))},
			build: func(g *onnxbuild.Graph, _, _, z string) string { return g.Softmax(z, -1) }},
		{name: "maxpool 2 stride 1", shape: []int64{1, 1, 2, 2}, want: []float32{5, 6, 8, 9},
			build: func(g *onnxbuild.Graph, x, _, _ string) string {
				return g.MaxPool(x, onnxbuild.PoolAttrs{Kernel: [2]int{2, 2}, Stride: [2]int{1, 1}})
			}},
		{name: "maxpool 2 stride 2 padded", shape: []int64{1, 1, 2, 2}, want: []float32{1, 3, 7, 9},
			build: func(g *onnxbuild.Graph, x, _, _ string) string {
				return g.MaxPool(x, onnxbuild.PoolAttrs{Kernel: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}})
			}},
		{name: "averagepool 2x3 stride 1", shape: []int64{1, 1, 2, 1}, want: []float32{3.5, 6.5},
			build: func(g *onnxbuild.Graph, x, _, _ string) string {
				return g.AveragePool(x, onnxbuild.PoolAttrs{Kernel: [2]int{2, 3}, Stride: [2]int{1, 1}})
			}},
		{name: "global average pool", shape: []int64{1, 1, 1, 1}, want: []float32{5},
			build: func(g *onnxbuild.Graph, x, _, _ string) string { return g.GlobalAveragePool(x) }},
		{name: "concat channels", shape: []int64{1, 3, 2, 2}, want: []float32{1, 2, 3, 4, 1, 2, 3, 4, 10, 20, 30, 40},
			build: func(g *onnxbuild.Graph, _, y, z string) string { return g.Concat(1, z, y) }},
		{name: "resize nearest 2x", shape: []int64{1, 1, 4, 4},
			want:  []float32{1, 1, 2, 2, 1, 1, 2, 2, 3, 3, 4, 4, 3, 3, 4, 4},
			build: func(g *onnxbuild.Graph, _, _, z string) string { return g.Resize(z, 4, 4, onnxbuild.ResizeNearest) }},
		{name: "resize linear align corners 2->3", shape: []int64{1, 1, 3, 3}, tol: 1e-6,
			want: []float32{1, 1.5, 2, 2, 2.5, 3, 3, 3.5, 4},
			build: func(g *onnxbuild.Graph, _, _, z string) string {
				return g.Resize(z, 3, 3, onnxbuild.ResizeLinearAlignCorners)
			}},
		// half_pixel 2->4: source coordinates -0.25, 0.25, 0.75, 1.25, clamped
		// to 0..1, so weights 0, .25, .75, 1; z = 1 + col + 2*row.
		{name: "resize linear half pixel 2->4", shape: []int64{1, 1, 4, 4}, tol: 1e-6,
			want:  []float32{1, 1.25, 1.75, 2, 1.5, 1.75, 2.25, 2.5, 2.5, 2.75, 3.25, 3.5, 3, 3.25, 3.75, 4},
			build: func(g *onnxbuild.Graph, _, _, z string) string { return g.Resize(z, 4, 4, onnxbuild.ResizeLinear) }},
	}
}

// TestOpsInORT builds one graph holding every op case as an output and
// checks ONNX Runtime's values and shapes against the hand-worked ones, and
// the builder's tracked shapes against ONNX Runtime's.
func TestOpsInORT(t *testing.T) {
	testmodel.InitRuntime(t)
	g := onnxbuild.NewGraph("ops")
	x := g.Input("x", onnxbuild.Fixed(1), onnxbuild.Fixed(1), onnxbuild.Fixed(3), onnxbuild.Fixed(3))
	y := g.Input("y", onnxbuild.Fixed(1), onnxbuild.Fixed(2), onnxbuild.Fixed(2), onnxbuild.Fixed(2))
	z := g.Input("z", onnxbuild.Fixed(1), onnxbuild.Fixed(1), onnxbuild.Fixed(2), onnxbuild.Fixed(2))
	cases := opCases()
	var names []string
	for i, c := range cases {
		out := c.build(g, x, y, z)
		if got := g.Shape(out); !slices.Equal(got, c.shape) {
			t.Errorf("%s: tracked shape %v, want %v", c.name, got, c.shape)
		}
		names = append(names, fmt.Sprintf("out%d", i))
		g.Output(names[i], out)
	}
	model, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	res := runModel(t, model, names,
		feed{"x", []int64{1, 1, 3, 3}, []float32{1, 2, 3, 4, 5, 6, 7, 8, 9}},
		feed{"y", []int64{1, 2, 2, 2}, []float32{1, 2, 3, 4, 10, 20, 30, 40}},
		feed{"z", []int64{1, 1, 2, 2}, []float32{1, 2, 3, 4}})
	for i, c := range cases {
		if !slices.Equal(res[i].shape, c.shape) {
			t.Errorf("%s: ORT shape %v, want %v", c.name, res[i].shape, c.shape)
			continue
		}
		if j, ok := closeTo(res[i].data, c.want, c.tol); !ok {
			t.Errorf("%s: got %v, want %v (first difference at %d)", c.name, res[i].data, c.want, j)
		}
	}
}

// TestResizeOddSizes checks that the scales Resize writes make ONNX Runtime
// land exactly on targets that are not integer multiples of the input.
func TestResizeOddSizes(t *testing.T) {
	testmodel.InitRuntime(t)
	g := onnxbuild.NewGraph("resize")
	x := g.Input("x", onnxbuild.Dynamic("N", 1), onnxbuild.Fixed(2), onnxbuild.Fixed(3), onnxbuild.Fixed(7))
	targets := [][2]int{{16, 37}, {75, 100}, {1, 1}, {2, 3}, {299, 511}, {37, 50}}
	var names []string
	for i, tg := range targets {
		mode := []string{onnxbuild.ResizeNearest, onnxbuild.ResizeLinear, onnxbuild.ResizeLinearAlignCorners}[i%3]
		names = append(names, fmt.Sprintf("r%d", i))
		g.Output(names[i], g.Resize(x, tg[0], tg[1], mode),
			onnxbuild.Dynamic("N", 1), onnxbuild.Fixed(2), onnxbuild.Fixed(int64(tg[0])), onnxbuild.Fixed(int64(tg[1])))
	}
	model, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	res := runModel(t, model, names, feed{"x", []int64{3, 2, 3, 7}, make([]float32, 3*2*3*7)})
	for i, tg := range targets {
		want := []int64{3, 2, int64(tg[0]), int64(tg[1])}
		if !slices.Equal(res[i].shape, want) {
			t.Errorf("resize 3x7 -> %dx%d: ORT shape %v, want %v", tg[0], tg[1], res[i].shape, want)
		}
	}
}

// TestFLOPs checks the counter on a hand-worked graph.
func TestFLOPs(t *testing.T) {
	g := onnxbuild.NewGraph("flops")
	x := g.Input("x", onnxbuild.Dynamic("N", 1), onnxbuild.Fixed(3), onnxbuild.Fixed(10), onnxbuild.Fixed(12))
	w := g.Constant("w", []int64{8, 3, 3, 3}, make([]float32, 8*3*3*3))
	c := make([]float32, 8)
	y := g.Conv(x, w, "", onnxbuild.ConvAttrs{Pads: [4]int{1, 1, 1, 1}}) // 2*8*10*12*(3*3*3) = 51840
	y = g.BatchNorm(y, g.Constant("s", []int64{8}, c), g.Constant("b", []int64{8}, c),
		g.Constant("m", []int64{8}, c), g.Constant("v", []int64{8}, c), 1e-5) // 2*960 = 1920
	y = g.Relu(y)                                                         // 960
	y = g.MaxPool(y, onnxbuild.PoolAttrs{Kernel: [2]int{2, 2}})           // 8*5*6 outputs * 4 = 960
	wt := g.Constant("wt", []int64{8, 4, 2, 2}, make([]float32, 8*4*2*2)) // 8 in, 4 out, 2x2
	y = g.ConvTranspose(y, wt, "", onnxbuild.ConvAttrs{Stride: 2})        // 2*(8*5*6)*(4*2*2) = 7680
	y = g.Concat(1, y, y)                                                 // 0
	g.Output("y", y, onnxbuild.Dynamic("N", 1), onnxbuild.Fixed(8), onnxbuild.Fixed(10), onnxbuild.Fixed(12))
	if err := g.Err(); err != nil {
		t.Fatal(err)
	}
	if got, want := g.FLOPs(), int64(51840+1920+960+960+7680); got != want {
		t.Errorf("FLOPs %d, want %d", got, want)
	}
	if got, want := g.Params(), int64(216+4*8+128); got != want {
		t.Errorf("Params %d, want %d", got, want)
	}
}

func TestInspect(t *testing.T) {
	g := onnxbuild.NewGraph("tiny")
	g.Doc = "a tiny test graph"
	g.SetMeta("k1", "v1")
	g.SetMeta("k2", "v2")
	x := g.Input("image", onnxbuild.Dynamic("N", 1), onnxbuild.Fixed(3), onnxbuild.Dynamic("H", 4), onnxbuild.Dynamic("W", 5))
	w := g.Constant("w", []int64{2, 3, 1, 1}, make([]float32, 6))
	y := g.Relu(g.Conv(x, w, "", onnxbuild.ConvAttrs{}))
	y = g.Relu(g.Add(y, g.Constant("b", []int64{1, 2, 1, 1}, []float32{1, 2})))
	g.Output("out", g.Softmax(y, 1), onnxbuild.Dynamic("N", 1), onnxbuild.Fixed(2), onnxbuild.Dynamic("H", 4), onnxbuild.Dynamic("W", 5))
	model, info := marshalInspect(t, g)
	dyn := func(p string) onnxbuild.Dim { return onnxbuild.Dim{Param: p} }
	want := onnxbuild.Info{
		IRVersion: 8, Producer: onnxbuild.Producer, ProducerVersion: "1", ModelVersion: 1, Doc: "a tiny test graph",
		Opsets:   []onnxbuild.OpsetImport{{Domain: "", Version: 17}},
		Metadata: map[string]string{"k1": "v1", "k2": "v2"},
		Graph:    "tiny", Nodes: 5,
		Ops:          []onnxbuild.OpCount{{Op: "Relu", Count: 2}, {Op: "Add", Count: 1}, {Op: "Conv", Count: 1}, {Op: "Softmax", Count: 1}},
		Initializers: 2, InitTypes: map[int32]int{onnxbuild.TypeFloat: 2}, Params: 8,
		Inputs:  []onnxbuild.ValueInfo{{Name: "image", ElemType: 1, Dims: []onnxbuild.Dim{dyn("N"), {Value: 3}, dyn("H"), dyn("W")}}},
		Outputs: []onnxbuild.ValueInfo{{Name: "out", ElemType: 1, Dims: []onnxbuild.Dim{dyn("N"), {Value: 2}, dyn("H"), dyn("W")}}},
		Heads:   map[string]string{"out": "Softmax"},
	}
	if got, exp := fmt.Sprintf("%+v", info), fmt.Sprintf("%+v", want); got != exp {
		t.Errorf("Inspect:\n got %s\nwant %s", got, exp)
	}

	// ONNX Runtime reads the same facts from the same bytes.
	testmodel.InitRuntime(t)
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(model)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 || ins[0].Name != "image" || !slices.Equal([]int64(ins[0].Dimensions), []int64{-1, 3, -1, -1}) {
		t.Errorf("ORT inputs %v", ins)
	}
	if len(outs) != 1 || outs[0].Name != "out" || !slices.Equal([]int64(outs[0].Dimensions), []int64{-1, 2, -1, -1}) {
		t.Errorf("ORT outputs %v", outs)
	}
	md, err := ort.GetModelMetadataWithONNXData(model)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = md.Destroy() }()
	producer, _ := md.GetProducerName()
	graph, _ := md.GetGraphName()
	desc, _ := md.GetDescription()
	v1, ok, _ := md.LookupCustomMetadataMap("k1")
	if producer != onnxbuild.Producer || graph != "tiny" || desc != g.Doc || v1 != "v1" || !ok {
		t.Errorf("ORT metadata: producer %q graph %q description %q k1 %q", producer, graph, desc, v1)
	}
}

func TestInspectRejects(t *testing.T) {
	g := onnxbuild.NewGraph("tiny")
	g.Output("y", g.Relu(g.Input("x", onnxbuild.Fixed(1))))
	model, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"empty":     nil,
		"text":      []byte("not a model at all"),
		"truncated": model[:len(model)-3],
	} {
		if _, err := onnxbuild.Inspect(data); !errors.Is(err, onnxbuild.ErrNotONNX) {
			t.Errorf("%s: err %v, want ErrNotONNX", name, err)
		}
	}
}

// TestGraphErrors checks that a wrong call sticks as the graph's error and
// that Marshal refuses to write the graph.
func TestGraphErrors(t *testing.T) {
	for _, c := range []struct {
		name, want string
		build      func(g *onnxbuild.Graph, x string)
	}{
		{"concat mismatch", "differ off the axis", func(g *onnxbuild.Graph, x string) {
			p := g.MaxPool(x, onnxbuild.PoolAttrs{Kernel: [2]int{2, 2}})
			g.Output("y", g.Concat(1, x, p))
		}},
		{"unknown input", "unknown", func(g *onnxbuild.Graph, _ string) { g.Output("y", g.Relu("nope")) }},
		{"duplicate name", "used twice", func(g *onnxbuild.Graph, x string) {
			g.Constant("x", []int64{1}, []float32{1})
			g.Output("y", g.Relu(x))
		}},
		{"conv channels", "do not match", func(g *onnxbuild.Graph, x string) {
			g.Output("y", g.Conv(x, g.Constant("w", []int64{1, 2, 1, 1}, []float32{1, 1}), "", onnxbuild.ConvAttrs{}))
		}},
		{"conv bias", "bias", func(g *onnxbuild.Graph, x string) {
			w := g.Constant("w", []int64{1, 3, 1, 1}, []float32{1, 1, 1})
			g.Output("y", g.Conv(x, w, g.Constant("b", []int64{2}, []float32{1, 1}), onnxbuild.ConvAttrs{}))
		}},
		{"initializer size", "values for dims", func(g *onnxbuild.Graph, x string) {
			g.Constant("w", []int64{2, 2}, []float32{1})
			g.Output("y", g.Relu(x))
		}},
		{"no output", "at least one input and one output", func(g *onnxbuild.Graph, x string) { g.Relu(x) }},
		{"output dims", "declared", func(g *onnxbuild.Graph, x string) {
			g.Output("y", g.Relu(x), onnxbuild.Fixed(1), onnxbuild.Fixed(3), onnxbuild.Fixed(5), onnxbuild.Fixed(4))
		}},
		{"untracked shape", "without a tracked shape", func(g *onnxbuild.Graph, x string) {
			r := g.Node("Relu", []string{x}, 1)
			g.Output("y", g.Relu(r[0]))
		}},
	} {
		g := onnxbuild.NewGraph("bad")
		c.build(g, g.Input("x", onnxbuild.Fixed(1), onnxbuild.Fixed(3), onnxbuild.Fixed(4), onnxbuild.Fixed(5)))
		_, err := g.Marshal()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: Marshal error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// TestInspectSharedModels reads files written by other exporters and checks
// Inspect's inputs and outputs against ONNX Runtime's.
func TestInspectSharedModels(t *testing.T) {
	dir := shareddata.Dir(t, "models")
	testmodel.InitRuntime(t)
	for _, f := range []string{"SINet.onnx", "SINet_Softmax.onnx", "prisma_nchw.onnx"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		info, err := onnxbuild.Inspect(data)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
		if err != nil {
			t.Fatal(err)
		}
		same := func(vi []onnxbuild.ValueInfo, oi []ort.InputOutputInfo) bool {
			if len(vi) != len(oi) {
				return false
			}
			for i := range vi {
				var dims []int64
				for _, d := range vi[i].Dims {
					v := d.Value
					if d.Param != "" || v == 0 {
						v = -1
					}
					dims = append(dims, v)
				}
				if vi[i].Name != oi[i].Name || !slices.Equal(dims, []int64(oi[i].Dimensions)) {
					return false
				}
			}
			return true
		}
		if !same(info.Inputs, ins) || !same(info.Outputs, outs) {
			t.Errorf("%s: Inspect inputs %+v outputs %+v; ORT %v %v", f, info.Inputs, info.Outputs, ins, outs)
		}
		if info.IRVersion == 0 || len(info.Opsets) == 0 || info.Nodes == 0 || info.Params == 0 {
			t.Errorf("%s: %+v", f, info)
		}
		t.Logf("%s: IR %d, opsets %v, producer %q %q, %d nodes, %d params, top ops %v", f, info.IRVersion, info.Opsets,
			info.Producer, info.ProducerVersion, info.Nodes, info.Params, info.Ops[:min(4, len(info.Ops))])
	}
}
