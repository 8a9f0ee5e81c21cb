package models

import (
	"bytes"
	"strings"
	"testing"

	"github.com/segtool/segtool/models/onnxbuild"
)

// A model with no spec at all resolves with the defaults, each marked.
func TestResolveSpecDefaults(t *testing.T) {
	fixed := &ModelInfo{Inputs: infos(tensor("in", 1, 3, 64, 48)), Outputs: infos(tensor("out", 1, 1, 64, 48))}
	r, err := ResolveSpec(SpecRequest{Model: "/models/my_model.onnx", Info: fixed})
	if err != nil {
		t.Fatal(err)
	}
	s := r.Spec
	if s.Order != RGB || s.Scale != float32(1.0/255) || s.Mean != ([3]float32{}) || s.Std != ([3]float32{1, 1, 1}) || s.PostScale != 1 || s.Name != "my_model" {
		t.Errorf("defaults: %+v", s)
	}
	for _, k := range []string{"order", "scale", "mean", "std", "post_scale"} {
		if r.From[k] != FromDefault {
			t.Errorf("%s from %q, want %q", k, r.From[k], FromDefault)
		}
	}
	// What a flag gives is not a default; nor is a preset's mean of 0.
	bgr := BGR
	r, err = ResolveSpec(SpecRequest{Model: "/models/my_model.onnx", Info: fixed, Overrides: SpecOverrides{Order: &bgr}})
	if err != nil || r.Spec.Order != BGR || r.From["order"] != FromOverride || r.From["scale"] != FromDefault {
		t.Errorf("--order BGR: %+v, %v", r, err)
	}
	prisma := &ModelInfo{Inputs: infos(tensor("input_3", 1, 3, 256, 256)), Outputs: infos(tensor("permute_2", 1, 1, 256, 256))}
	r, err = ResolveSpec(SpecRequest{Model: "prisma_nchw.onnx", Info: prisma})
	if err != nil {
		t.Fatal(err)
	}
	for k, src := range r.From {
		if src == FromDefault {
			t.Errorf("prisma preset: %s took a default", k)
		}
	}
	// A partial YAML leaves order and scale to the defaults.
	file := writeFile(t, "part.yaml", "mean: [0.5, 0.5, 0.5]\nstd: [0.5, 0.5, 0.5]\n")
	r, err = ResolveSpec(SpecRequest{Model: "m.onnx", Spec: file, Info: fixed})
	if err != nil || r.From["order"] != FromDefault || r.From["scale"] != FromDefault || r.From["mean"] != FromFile || r.Spec.Mean[0] != 0.5 {
		t.Errorf("partial YAML: %+v, %v", r, err)
	}
	// A real contradiction stays an error: std 0 divides by zero.
	zero := [3]float32{}
	if _, err := ResolveSpec(SpecRequest{Model: "m.onnx", Info: fixed, Overrides: SpecOverrides{Std: &zero}}); err == nil || !strings.Contains(err.Error(), "std") {
		t.Errorf("std 0: %v, want an error naming std", err)
	}
}

// headGraph builds a 3-channel 8x8 input, a 1x1 conv to channels, then
// tail, and returns Detect's output kind with the graph's heads.
func headKindOf(t *testing.T, channels int64, tail func(g *onnxbuild.Graph, x string) string) (OutputKind, int) {
	t.Helper()
	g := onnxbuild.NewGraph("head")
	x := g.Input("x", onnxbuild.Fixed(1), onnxbuild.Fixed(3), onnxbuild.Fixed(8), onnxbuild.Fixed(8))
	w := g.Constant("w", []int64{channels, 3, 1, 1}, make([]float32, channels*3))
	y := tail(g, g.Conv(x, w, "", onnxbuild.ConvAttrs{}))
	g.Output("y", y)
	data, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	gi, err := onnxbuild.Inspect(data)
	if err != nil {
		t.Fatal(err)
	}
	shape := g.Shape("y")
	info := ModelInfo{Inputs: infos(tensor("x", 1, 3, 8, 8)), Outputs: infos(tensor("y", shape...)), Heads: gi.Heads}
	s, err := DetectModel(Spec{}, info)
	if err != nil {
		t.Fatal(err)
	}
	return s.Kind, s.Foreground
}

func TestDetectKindFromGraph(t *testing.T) {
	none := func(_ *onnxbuild.Graph, x string) string { return x }
	for _, c := range []struct {
		name     string
		channels int64
		tail     func(g *onnxbuild.Graph, x string) string
		want     OutputKind
	}{
		// A DeepLab-style export: conv then resize, no Softmax.
		{"2 channels, conv and resize", 2, func(g *onnxbuild.Graph, x string) string { return g.Resize(x, 8, 8, "linear") }, Logits2},
		{"2 channels, conv", 2, none, Logits2},
		{"2 channels, softmax", 2, func(g *onnxbuild.Graph, x string) string { return g.Softmax(x, 1) }, Softmax2},
		{"2 channels, softmax then transpose", 2, func(g *onnxbuild.Graph, x string) string {
			return g.Transpose(g.Transpose(g.Softmax(x, 1), 0, 2, 3, 1), 0, 3, 1, 2)
		}, Softmax2},
		{"1 channel, conv", 1, none, Logits},
		{"1 channel, sigmoid", 1, func(g *onnxbuild.Graph, x string) string { return g.Sigmoid(x) }, Sigmoid},
		{"1 channel, sigmoid then identity", 1, func(g *onnxbuild.Graph, x string) string { return g.Identity(g.Sigmoid(x)) }, Sigmoid},
	} {
		kind, fg := headKindOf(t, c.channels, c.tail)
		if kind != c.want || (c.channels == 2 && fg != 1) {
			t.Errorf("%s: kind %s foreground %d, want %s", c.name, kind, fg, c.want)
		}
	}
	// Without the graph, the channel count decides as before.
	s, err := Detect(Spec{}, infos(tensor("x", 1, 3, 8, 8)), infos(tensor("y", 1, 2, 8, 8)))
	if err != nil || s.Kind != Softmax2 {
		t.Errorf("no graph, 2 channels: %s, %v", s.Kind, err)
	}
}

func TestWriteSpecRoundTrip(t *testing.T) {
	info := &ModelInfo{Inputs: infos(tensor("in", -1, 3, 64, 48)), Outputs: infos(tensor("out", -1, 2, 64, 48)), Heads: map[string]string{"out": "Conv"}}
	r, err := ResolveSpec(SpecRequest{Model: "/m/my_model.onnx", Info: info})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Spec.ApplyNorm(NormImageNet); err != nil {
		t.Fatal(err)
	}
	if err := r.Spec.ApplyNorm("zscore"); err == nil {
		t.Error("norm zscore accepted")
	}
	var b bytes.Buffer
	if err := WriteSpec(&b, r, "my model", map[string]string{"mean": "norm imagenet"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"# my model", "output_kind: logits2 # ", "[read from the model]", "[norm imagenet]", "order: RGB # channel order", "[default]"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("written spec lacks %q:\n%s", want, b.String())
		}
	}
	p := writeFile(t, "my.yaml", b.String())
	back, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	back.OutputRank = r.Spec.OutputRank
	if back != r.Spec {
		t.Errorf("read back:\n got %+v\nwant %+v", back, r.Spec)
	}
	if err := back.Validate(); err != nil {
		t.Errorf("written spec incomplete: %v", err)
	}
}
