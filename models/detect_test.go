package models

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/shareddata"
	ort "github.com/yalue/onnxruntime_go"
)

func tensor(name string, dims ...int64) ort.InputOutputInfo {
	return ort.InputOutputInfo{Name: name, OrtValueType: ort.ONNXTypeTensor, Dimensions: dims, DataType: ort.TensorElementDataTypeFloat}
}

func half(i ort.InputOutputInfo) ort.InputOutputInfo {
	i.DataType = ort.TensorElementDataTypeFloat16
	return i
}

func infos(list ...ort.InputOutputInfo) []ort.InputOutputInfo { return list }

func TestDetect(t *testing.T) {
	base := Spec{Name: "t", Order: RGB, Scale: 1, Std: [3]float32{1, 1, 1}, PostScale: 1}
	with := func(edit func(*Spec)) Spec {
		s := base
		edit(&s)
		return s
	}
	for _, c := range []struct {
		name     string
		base     Spec
		in, out  []ort.InputOutputInfo
		want     func(*Spec) // the fields Detect sets, applied to base
		complete bool        // the result passes Validate
	}{
		{"fixed NCHW, 2-channel output", base,
			infos(tensor("data", 1, 3, 320, 320)), infos(tensor("classifier/1", 1, 2, 320, 320)),
			func(s *Spec) {
				s.Input, s.Output, s.Layout, s.OutputLayout, s.Width, s.Height, s.Batch = "data", "classifier/1", NCHW, NCHW, 320, 320, 1
				s.Kind, s.Foreground = Softmax2, 1
			}, true},
		{"Keras NHWC, dynamic batch", base,
			infos(tensor("input_1", -1, 600, 800, 3)), infos(tensor("output", -1, 600, 800, 1)),
			func(s *Spec) {
				s.Input, s.Output, s.Layout, s.OutputLayout, s.Width, s.Height = "input_1", "output", NHWC, NHWC, 800, 600
				s.Kind = Sigmoid
			}, true},
		{"dynamic size keeps the spec's", with(func(s *Spec) { s.Width, s.Height, s.Multiple = 512, 384, 32 }),
			infos(tensor("input", -1, 3, -1, -1)), infos(tensor("output", -1, 1, -1, -1)),
			func(s *Spec) {
				s.Input, s.Output, s.Layout, s.OutputLayout, s.Kind = "input", "output", NCHW, NCHW, Sigmoid
			}, true},
		{"dynamic size, none given", base,
			infos(tensor("image", -1, 3, -1, -1)), infos(tensor("prob", -1, 1, -1, -1)),
			func(s *Spec) {
				s.Input, s.Output, s.Layout, s.OutputLayout, s.Kind = "image", "prob", NCHW, NCHW, Sigmoid
			}, false},
		{"rank-3 output", base,
			infos(tensor("x", -1, 3, 64, 64)), infos(tensor("y", -1, 64, 64)),
			func(s *Spec) {
				s.Input, s.Output, s.Layout, s.Width, s.Height, s.Kind = "x", "y", NCHW, 64, 64, Sigmoid
				s.OutputRank = 3
			}, true},
		{"float16 input and output", base,
			infos(half(tensor("x", -1, 3, 64, 64))), infos(half(tensor("y", -1, 1, 64, 64))),
			func(s *Spec) {
				s.Input, s.Output, s.Layout, s.OutputLayout, s.Width, s.Height, s.Kind = "x", "y", NCHW, NCHW, 64, 64, Sigmoid
				s.InputType, s.OutputType = Float16, Float16
			}, true},
		{"float16 input, float32 output", with(func(s *Spec) { s.InputType = Float16 }),
			infos(half(tensor("x", -1, 3, 64, 64))), infos(tensor("y", -1, 1, 64, 64)),
			func(s *Spec) {
				s.Input, s.Output, s.Layout, s.OutputLayout, s.Width, s.Height, s.Kind = "x", "y", NCHW, NCHW, 64, 64, Sigmoid
				s.InputType = Float16
			}, true},
		{"several outputs: the first", base,
			infos(tensor("x", 1, 3, 32, 32)), infos(tensor("d1", 1, 1, 32, 32), tensor("d2", 1, 1, 32, 32)),
			func(s *Spec) {
				s.Input, s.Output, s.Layout, s.OutputLayout, s.Width, s.Height, s.Batch, s.Kind = "x", "d1", NCHW, NCHW, 32, 32, 1, Sigmoid
			}, true},
		{"several outputs: the named one, kind kept", with(func(s *Spec) { s.Output, s.Kind = "logits", Logits2 }),
			infos(tensor("x", 1, 3, 32, 32)), infos(tensor("prob", 1, 2, 32, 32), tensor("logits", 1, 2, 32, 32)),
			func(s *Spec) {
				s.Input, s.Layout, s.OutputLayout, s.Width, s.Height, s.Batch = "x", NCHW, NCHW, 32, 32, 1
			}, true},
		{"NHWC 2-channel output by its shape", with(func(s *Spec) { s.Layout = NCHW }),
			infos(tensor("x", -1, 3, 96, 128)), infos(tensor("y", -1, 96, 128, 2)),
			func(s *Spec) {
				s.Input, s.Output, s.OutputLayout, s.Width, s.Height, s.Kind, s.Foreground = "x", "y", NHWC, 128, 96, Softmax2, 1
			}, true},
		{"[N,3,H,3] needs the spec's layout", with(func(s *Spec) { s.Layout = NHWC }),
			infos(tensor("x", 1, 3, 3, 3)), infos(tensor("y", 1, 3, 3, 1)),
			func(s *Spec) {
				s.Input, s.Output, s.OutputLayout, s.Width, s.Height, s.Batch, s.Kind = "x", "y", NHWC, 3, 3, 1, Sigmoid
			}, true},
	} {
		got, err := Detect(c.base, c.in, c.out)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		want := c.base
		want.InputType, want.OutputType, want.OutputRank = Float32, Float32, 4
		c.want(&want)
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, want)
		}
		if err := got.Validate(); (err == nil) != c.complete {
			t.Errorf("%s: Validate = %v, complete %v", c.name, err, c.complete)
		}
	}
}

func TestDetectErrors(t *testing.T) {
	base := Spec{Name: "t", Order: RGB, Scale: 1, Std: [3]float32{1, 1, 1}, PostScale: 1}
	in := infos(tensor("x", 1, 3, 32, 32))
	out := infos(tensor("y", 1, 1, 32, 32))
	intIn := tensor("x", 1, 3, 32, 32)
	intIn.DataType = ort.TensorElementDataTypeUint8
	for _, c := range []struct {
		name    string
		edit    func(*Spec)
		in, out []ort.InputOutputInfo
		want    string
	}{
		{"named input missing", func(s *Spec) { s.Input = "data" }, in, out, `no input "data"`},
		{"named output missing", func(s *Spec) { s.Output = "prob" }, in, out, `no output "prob"`},
		{"two inputs", nil, infos(tensor("x", 1, 3, 32, 32), tensor("y", 1, 3, 32, 32)), out, "2 inputs"},
		{"no outputs", nil, in, nil, "no outputs"},
		{"rank-3 input", nil, infos(tensor("x", 3, 32, 32)), out, "rank 4"},
		{"4-channel input", nil, infos(tensor("x", 1, 4, 32, 32)), out, "3-channel"},
		{"uint8 input", nil, infos(intIn), out, "float32"},
		{"ambiguous layout", nil, infos(tensor("x", 1, 3, 3, 3)), infos(tensor("y", 1, 1, 3, 3)), "set layout"},
		{"layout conflict", func(s *Spec) { s.Layout = NHWC }, in, out, "not NHWC"},
		{"fixed size conflict", func(s *Spec) { s.Width, s.Height = 64, 64 }, in, out, "fixed height of 32"},
		{"3-channel output", nil, in, infos(tensor("y", 1, 3, 32, 32)), "3 channels"},
		{"dynamic channel count", nil, in, infos(tensor("y", 1, -1, 32, 32)), "dynamic channel count"},
		{"logits2 on 1 channel", func(s *Spec) { s.Kind = Logits2 }, in, out, "reads 2"},
		{"sigmoid on 2 channels", func(s *Spec) { s.Kind = Sigmoid }, in, infos(tensor("y", 1, 2, 32, 32)), "reads 1"},
		{"unknown kind", func(s *Spec) { s.Kind = "softmax" }, in, out, "output_kind"},
		{"foreground out of range", func(s *Spec) { s.Kind, s.Foreground = Softmax2, 2 }, in, infos(tensor("y", 1, 2, 32, 32)), "foreground 2"},
		{"output at another size", nil, in, infos(tensor("y", 1, 1, 16, 16)), "input resolution"},
		{"spec says float32, model float16", func(s *Spec) { s.InputType = Float32 }, infos(half(tensor("x", 1, 3, 32, 32))), out, "input_type says float32"},
		{"spec says float16, model float32", func(s *Spec) { s.OutputType = Float16 }, in, out, "output_type says float16"},
	} {
		s := base
		if c.edit != nil {
			c.edit(&s)
		}
		if _, err := Detect(s, c.in, c.out); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one saying %q", c.name, err, c.want)
		}
	}
}

// TestDetectShared reads the real models' inputs and outputs through ONNX
// Runtime and checks each against its preset (../shared/models/README.md).
func TestDetectShared(t *testing.T) {
	dir := shareddata.Dir(t, "models")
	if _, err := LibraryPath(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	if _, err := InitRuntime(); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		file, preset string
		batch        int
		blank        Spec // what Detect makes of an empty spec
	}{
		{"SINet.onnx", "sinet", 1, Spec{Input: "data", Output: "classifier/1", Layout: NCHW, OutputLayout: NCHW,
			Width: 320, Height: 320, Batch: 1, Kind: Softmax2, Foreground: 1}},
		{"SINet_Softmax.onnx", "sinet-softmax", 1, Spec{Input: "data", Output: "Softmax/1", Layout: NCHW, OutputLayout: NCHW,
			Width: 320, Height: 320, Batch: 1, Kind: Softmax2, Foreground: 1}},
		{"prisma_nchw.onnx", "prisma", 0, Spec{Input: "input_3", Output: "permute_2", Layout: NCHW, OutputLayout: NCHW,
			Width: 256, Height: 256, Kind: Sigmoid}},
	} {
		in, out, err := ort.GetInputOutputInfo(filepath.Join(dir, c.file))
		if err != nil {
			t.Fatal(err)
		}
		p := Presets()[c.preset]
		got, err := Detect(p, in, out)
		if err != nil {
			t.Errorf("%s with preset %s: %v", c.file, c.preset, err)
			continue
		}
		want := p
		want.Batch = c.batch
		want.InputType, want.OutputType, want.OutputRank = Float32, Float32, 4
		if want.OutputLayout == "" {
			want.OutputLayout = NCHW
		}
		if got != want {
			t.Errorf("%s:\n got %+v\nwant %+v", c.file, got, want)
		}
		if err := got.Validate(); err != nil {
			t.Errorf("%s: %v", c.file, err)
		}
		c.blank.InputType, c.blank.OutputType, c.blank.OutputRank = Float32, Float32, 4
		if blank, err := Detect(Spec{}, in, out); err != nil || blank != c.blank {
			t.Errorf("%s with an empty spec:\n got %+v, %v\nwant %+v", c.file, blank, err, c.blank)
		}
	}
}
