package onnxbuild_test

import (
	"bytes"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models/onnxbuild"
	ort "github.com/yalue/onnxruntime_go"
)

// TestArchFacts pins what the models presets rely on.
func TestArchFacts(t *testing.T) {
	type facts struct {
		w, h                 int
		in, out, layout, ord string
		kind                 string
		fg, ch               int
		scale                float32
		mean, std            [3]float32
	}
	raw, half := [3]float32{0, 0, 0}, [3]float32{0.5, 0.5, 0.5}
	one := [3]float32{1, 1, 1}
	inMean, inStd := [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
	want := map[string]facts{
		"unet-aspp":        {800, 600, "input_1", "output", "NHWC", "BGR", "sigmoid", 0, 1, 1, raw, one},
		"mobilenetv2-unet": {224, 224, "input_1", "output", "NHWC", "RGB", "sigmoid", 0, 1, 1.0 / 255, half, half},
		"resnet50-unet":    {512, 512, "input", "output", "NCHW", "RGB", "sigmoid", 0, 1, 1.0 / 255, inMean, inStd},
		"fast-scnn":        {512, 512, "input", "output", "NCHW", "RGB", "logits2", 1, 2, 1.0 / 255, inMean, inStd},
		"oracle":           {0, 0, "image", "prob", "NCHW", "RGB", "sigmoid", 0, 1, 1, raw, one},
		"maskrcnn-toy":     {0, 0, "images", "", "CHW", "RGB", "instances", 0, 0, 1.0 / 255, raw, one},
	}
	names := onnxbuild.ArchNames()
	if !slices.Equal(names, []string{"fast-scnn", "maskrcnn-toy", "mobilenetv2-unet", "oracle", "resnet50-unet", "unet-aspp"}) {
		t.Errorf("ArchNames %v", names)
	}
	for _, a := range onnxbuild.Archs() {
		got := facts{a.Width, a.Height, a.Input, a.Output, a.Layout, a.Order, a.Kind, a.Foreground, a.OutputChannels, a.Scale, a.Mean, a.Std}
		if got != want[a.Name] {
			t.Errorf("%s: %+v, want %+v", a.Name, got, want[a.Name])
		}
	}
	if _, err := onnxbuild.LookupArch("unet"); err == nil || !strings.Contains(err.Error(), "unet-aspp") {
		t.Errorf("unknown arch: %v, want an error listing the known ones", err)
	}
}

// smallSize is each arch's test size: small, and non-square where the
// arch allows it, to catch width/height mix-ups.
func smallSize(name string) (w, h int) {
	switch name {
	case "unet-aspp":
		return 64, 48
	case "fast-scnn":
		return 224, 192
	default:
		return 64, 32
	}
}

// TestArchsInORT builds each architecture at a small size, runs it in ONNX
// Runtime at batch 2 and checks names, shapes, value ranges, that batch
// items are independent, and which ops the graph uses.
func TestArchsInORT(t *testing.T) {
	testmodel.InitRuntime(t)
	allOps := map[string]bool{}
	for _, a := range onnxbuild.Archs() {
		if a.Dynamic {
			continue
		}
		t.Run(a.Name, func(t *testing.T) {
			w, h := smallSize(a.Name)
			m, err := a.Build(onnxbuild.Options{Width: w, Height: h, Seed: 7})
			if err != nil {
				t.Fatal(err)
			}
			inShape := []int64{-1, 3, int64(h), int64(w)}
			outShape := []int64{-1, int64(a.OutputChannels), int64(h), int64(w)}
			if a.Layout == "NHWC" {
				inShape = []int64{-1, int64(h), int64(w), 3}
				outShape = []int64{-1, int64(h), int64(w), int64(a.OutputChannels)}
			}
			ins, outs, err := ort.GetInputOutputInfoWithONNXData(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if len(ins) != 1 || ins[0].Name != a.Input || !slices.Equal([]int64(ins[0].Dimensions), inShape) {
				t.Errorf("inputs %v, want %s %v", ins, a.Input, inShape)
			}
			if len(outs) != 1 || outs[0].Name != a.Output || !slices.Equal([]int64(outs[0].Dimensions), outShape) {
				t.Errorf("outputs %v, want %s %v", outs, a.Output, outShape)
			}

			// Pixels drawn uniformly in 0..255 and normalised as the arch says.
			rng := rand.New(rand.NewPCG(1, 2))
			item := w * h * 3
			x := make([]float32, 2*item)
			for i := range x {
				c := i % 3 // NHWC channel
				if a.Layout == "NCHW" {
					c = (i / (w * h)) % 3
				}
				x[i] = (float32(rng.IntN(256))*a.Scale - a.Mean[c]) / a.Std[c]
			}
			s := session(t, m.Data, []string{a.Input}, []string{a.Output})
			inShape[0], outShape[0] = 2, 2
			two := runSession(t, s, 1, feed{a.Input, inShape, x})[0]
			if !slices.Equal(two.shape, outShape) {
				t.Fatalf("output shape %v, want %v", two.shape, outShape)
			}
			for i, v := range two.data {
				if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) || (a.Kind == "sigmoid" && (v < 0 || v > 1)) {
					t.Fatalf("output %d = %g, want finite (and in [0,1] for %s)", i, v, a.Kind)
				}
			}
			inShape[0] = 1
			one := runSession(t, s, 1, feed{a.Input, inShape, x[item:]})[0]
			n := len(one.data)
			if j, ok := closeTo(one.data, two.data[n:], 1e-4*maxAbs(one.data)+1e-6); !ok {
				t.Errorf("batch item 1 alone differs from it in a batch of 2 at %d: %g vs %g", j, one.data[j], two.data[n+j])
			}

			info, err := onnxbuild.Inspect(m.Data)
			if err != nil {
				t.Fatal(err)
			}
			if info.Metadata["segtool.arch"] != a.Name || info.Params != m.Params || m.FLOPs <= 0 {
				t.Errorf("inspect: metadata %v params %d (built %d), FLOPs %d", info.Metadata, info.Params, m.Params, m.FLOPs)
			}
			for _, oc := range info.Ops {
				allOps[oc.Op] = true
			}
			t.Logf("%dx%d: %.3f GFLOPs, %.2fM params, %d nodes", w, h, float64(m.FLOPs)/1e9, float64(m.Params)/1e6, info.Nodes)
		})
	}
	// The op list, plus what the Keras-style graphs need.
	for _, op := range []string{"Conv", "ConvTranspose", "BatchNormalization", "Relu", "MaxPool", "Concat", "Resize",
		"Sigmoid", "Add", "Clip", "Transpose", "GlobalAveragePool", "AveragePool"} {
		if !allOps[op] && !t.Failed() {
			t.Errorf("no architecture uses %s", op)
		}
	}
}

func maxAbs(v []float32) float64 {
	m := 0.0
	for _, x := range v {
		m = max(m, math.Abs(float64(x)))
	}
	return m
}

func TestArchDeterminism(t *testing.T) {
	for _, name := range []string{"unet-aspp", "fast-scnn", "mobilenetv2-unet"} {
		w, h := smallSize(name)
		build := func(seed uint64) []byte {
			m, err := onnxbuild.Build(name, onnxbuild.Options{Width: w, Height: h, Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			return m.Data
		}
		a, b, c := build(3), build(3), build(4)
		if !bytes.Equal(a, b) {
			t.Errorf("%s: two builds with seed 3 differ", name)
		}
		if bytes.Equal(a, c) || len(a) != len(c) {
			t.Errorf("%s: seeds 3 and 4 give equal bytes or different lengths (%d, %d)", name, len(a), len(c))
		}
	}
}

func TestArchOptions(t *testing.T) {
	for _, c := range []struct {
		name string
		o    onnxbuild.Options
	}{
		{"unet-aspp", onnxbuild.Options{Width: 804, Height: 600}},
		{"fast-scnn", onnxbuild.Options{Width: 160, Height: 256}},
		{"resnet50-unet", onnxbuild.Options{Width: 500}},
		{"mobilenetv2-unet", onnxbuild.Options{Batch: -1}},
	} {
		if _, err := onnxbuild.Build(c.name, c.o); err == nil {
			t.Errorf("%s %+v: no error", c.name, c.o)
		}
	}
	testmodel.InitRuntime(t)
	m, err := onnxbuild.Build("unet-aspp", onnxbuild.Options{Width: 32, Height: 16, Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(m.Data)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal([]int64(ins[0].Dimensions), []int64{3, 16, 32, 3}) || !slices.Equal([]int64(outs[0].Dimensions), []int64{3, 16, 32, 1}) {
		t.Errorf("fixed batch 3: input %v output %v", ins[0].Dimensions, outs[0].Dimensions)
	}
}
