package models

import (
	"fmt"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// Detect completes base from the model's input and output descriptions (as
// ort.GetInputOutputInfo returns them; dynamic dimensions are <= 0):
//
//   - input: the one the spec names, else the model's only input;
//   - layout: NCHW when dimension 1 is 3, NHWC when dimension 3 is 3;
//   - width/height: fixed dimensions are taken from the model (a spec that
//     asks for another size is an error); dynamic ones keep the spec's;
//   - batch: the fixed batch size, or 0 when dynamic;
//   - output: the one the spec names, else the model's first output (every
//     reference inference script for multi-output models, such as ISNet's
//     six side outputs, reads the first);
//   - output layout and channel count; with no output kind set, 1 channel
//     means sigmoid and 2 channels softmax2 with foreground 1 (DetectModel
//     reads the graph instead).
//
// It also records the input and output element types (float32 or float16)
// and the output rank.
//
// It fails, before any work, when a named input or output is missing, the
// input is not a float32 or float16 rank-4 tensor with 3 channels, or the output's
// channel count does not fit the output kind. It does not require a
// complete spec (a dynamic size without one stays 0): call Validate on the
// result before running.
func Detect(base Spec, inputs, outputs []ort.InputOutputInfo) (Spec, error) {
	return DetectModel(base, ModelInfo{Inputs: inputs, Outputs: outputs})
}

// DetectModel is Detect that, when info.Heads knows the output's head op,
// decides an unset output kind by it rather than by the channel count: a
// Softmax feeding the output means probabilities (softmax2, or sigmoid
// for one channel), a Sigmoid (or HardSigmoid, Clip) means sigmoid (or
// softmax2 for two channels, read as they are), anything else logits (or
// logits2). A DeepLab export ends in a convolution and a resize: its two
// channels are logits, and reading them as probabilities would be wrong.
//
// An instance model (output kind instances, an instance block in the spec,
// or with neither torchvision's signature: see looksInstances) is
// detected by detectInstances instead.
func DetectModel(base Spec, info ModelInfo) (Spec, error) {
	if base.Kind == Instances || (base.Kind == "" && (base.Instance != InstanceSpec{} || looksInstances(info))) {
		return detectInstances(base, info)
	}
	outputs := info.Outputs
	s := base
	fail := func(format string, a ...any) (Spec, error) {
		return base, fmt.Errorf("model spec %s does not fit the model: %s", specName(base), fmt.Sprintf(format, a...))
	}

	inputs, err := s.fitStream(info)
	if err != nil {
		return base, fmt.Errorf("model spec %s does not fit the model: %w", specName(base), err)
	}
	if len(inputs) > 1 {
		return fail("the model has %d inputs (%s); segtool feeds a single image input (a video model names the others under recurrent: states and constants)", len(inputs), ioNames(inputs))
	}
	in, inType, err := pickTensor("input", base.Input, inputs, false, 4, 4, base.InputType)
	if err != nil {
		return fail("%v", err)
	}
	s.Input, s.InputType = in.Name, inType
	d := in.Dimensions
	layout, err := inputLayout(d, base.Layout, int64(s.InputChannels()))
	if err != nil {
		return fail("input %q %v: %v", in.Name, d, err)
	}
	s.Layout = layout
	hi, wi := 2, 3
	if layout == NHWC {
		hi, wi = 1, 2
	}
	if err := fillSize(&s, in.Name, d[hi], d[wi]); err != nil {
		return fail("%v", err)
	}
	s.Batch = 0
	if d[0] > 0 {
		s.Batch = int(d[0])
	}

	out, outType, err := pickTensor("output", base.Output, outputs, true, 3, 4, base.OutputType)
	if err != nil {
		return fail("%v", err)
	}
	s.Output, s.OutputType = out.Name, outType
	od := out.Dimensions
	s.OutputRank = len(od)
	channels := int64(1) // a rank-3 output [N,H,W] is one plane
	var oh, ow int64
	if len(od) == 3 {
		oh, ow = od[1], od[2]
	} else {
		if s.OutputLayout == "" {
			s.OutputLayout = outputLayout(od, s)
		}
		if s.OutputLayout == NHWC {
			oh, ow, channels = od[1], od[2], od[3]
		} else {
			channels, oh, ow = od[1], od[2], od[3]
		}
	}
	if (oh > 0 && s.Height > 0 && oh != int64(s.Height)) || (ow > 0 && s.Width > 0 && ow != int64(s.Width)) {
		return fail("output %q %v is not at the input size %dx%d (WxH); segtool reads outputs at input resolution",
			out.Name, od, s.Width, s.Height)
	}
	switch {
	case s.Kind == "" && (channels == 1 || channels == 2):
		s.Kind = headKind(int(channels), info.Heads, out.Name)
		if channels == 2 {
			s.Foreground = 1
		}
	case s.Kind == "" && channels <= 0:
		return fail("output %q %v has a dynamic channel count; set output_kind", out.Name, od)
	case s.Kind == "":
		return fail("output %q %v has %d channels; segtool reads 1 (sigmoid, logits) or 2 (softmax2, logits2)", out.Name, od, channels)
	case s.Kind.Channels() == 0:
		return fail("output_kind %q is not sigmoid, logits, softmax2 or logits2", s.Kind)
	case channels > 0 && channels != int64(s.Kind.Channels()):
		return fail("output %q %v has %d channels, but output_kind %s reads %d", out.Name, od, channels, s.Kind, s.Kind.Channels())
	}
	if n := s.Kind.Channels(); n == 2 && (s.Foreground < 0 || s.Foreground >= n) {
		return fail("foreground %d is not a channel of the 2-channel output %q", s.Foreground, out.Name)
	}
	if s.Stateful() && (s.InputType != Float32 || s.OutputType != Float32) {
		return fail("a video model's image input and output are fed as float32; %q is %s and %q %s", s.Input, s.InputType, s.Output, s.OutputType)
	}
	return s, nil
}

// headKind is the output kind of a 1- or 2-channel output whose values
// the head op produced; with no graph read, the channel count decides.
func headKind(channels int, heads map[string]string, output string) OutputKind {
	head, known := heads[output]
	probs := !known
	switch head {
	case "Softmax", "Sigmoid", "HardSigmoid", "Clip":
		probs = true
	}
	switch {
	case channels == 1 && probs:
		return Sigmoid
	case channels == 1:
		return Logits
	case probs:
		return Softmax2
	}
	return Logits2
}

func specName(s Spec) string {
	if s.Name == "" {
		return "(unnamed)"
	}
	return s.Name
}

func ioNames(infos []ort.InputOutputInfo) string {
	var names []string
	for _, i := range infos {
		names = append(names, fmt.Sprintf("%q %v", i.Name, i.Dimensions))
	}
	return strings.Join(names, ", ")
}

// pickTensor picks the input or output (pickIO), checks its rank and
// returns it with its element type.
func pickTensor(what, name string, infos []ort.InputOutputInfo, first bool, minRank, maxRank int, wantType string) (ort.InputOutputInfo, string, error) {
	info, err := pickIO(what, name, infos, first)
	if err != nil {
		return info, "", err
	}
	if err := checkTensor(what, info, minRank, maxRank); err != nil {
		return info, "", err
	}
	t, err := elemType(what, info, wantType)
	return info, t, err
}

// pickIO finds the named tensor, or the only (or, with first, the first)
// one when no name is given.
func pickIO(what, name string, infos []ort.InputOutputInfo, first bool) (ort.InputOutputInfo, error) {
	if len(infos) == 0 {
		return ort.InputOutputInfo{}, fmt.Errorf("the model has no %ss", what)
	}
	if name != "" {
		for _, i := range infos {
			if i.Name == name {
				return i, nil
			}
		}
		return ort.InputOutputInfo{}, fmt.Errorf("the model has no %s %q (it has %s)", what, name, ioNames(infos))
	}
	if len(infos) > 1 && !first {
		return ort.InputOutputInfo{}, fmt.Errorf("the model has %d %ss (%s); name one", len(infos), what, ioNames(infos))
	}
	return infos[0], nil
}

func checkTensor(what string, i ort.InputOutputInfo, minRank, maxRank int) error {
	if i.OrtValueType != ort.ONNXTypeTensor {
		return fmt.Errorf("%s %q is a %v, not a tensor", what, i.Name, i.OrtValueType)
	}
	if i.DataType != ort.TensorElementDataTypeFloat && i.DataType != ort.TensorElementDataTypeFloat16 {
		return fmt.Errorf("%s %q holds %v; segtool exchanges float32 or float16 tensors", what, i.Name, i.DataType)
	}
	if r := len(i.Dimensions); r < minRank || r > maxRank {
		want := fmt.Sprintf("rank %d", minRank)
		if maxRank != minRank {
			want = fmt.Sprintf("rank %d or %d", minRank, maxRank)
		}
		return fmt.Errorf("%s %q has shape %v, want %s", what, i.Name, i.Dimensions, want)
	}
	return nil
}

// elemType names the tensor's element type, and checks it against the
// spec's (want, "" = any).
func elemType(what string, i ort.InputOutputInfo, want string) (string, error) {
	got := Float32
	if i.DataType == ort.TensorElementDataTypeFloat16 {
		got = Float16
	}
	if want != "" && want != got {
		return "", fmt.Errorf("%s %q holds %s, but the spec's %s_type says %s", what, i.Name, got, what, want)
	}
	return got, nil
}

// inputLayout reads the layout from which dimension is c (3, or 4 with a
// prior-mask channel). A shape that does not tell (both c, or dynamic)
// keeps the spec's layout.
func inputLayout(d []int64, want Layout, c int64) (Layout, error) {
	nchw := d[1] == c || d[1] <= 0
	nhwc := d[3] == c || d[3] <= 0
	switch {
	case d[1] == c && d[3] != c:
		nhwc = false
	case d[3] == c && d[1] != c:
		nchw = false
	}
	switch {
	case !nchw && !nhwc:
		return "", fmt.Errorf("has no %d-channel dimension (dimension 1 or 3); segtool feeds %d-channel images", c, c)
	case want == NCHW && !nchw, want == NHWC && !nhwc:
		return "", fmt.Errorf("is not %s, as the spec's layout says", want)
	case want != "":
		return want, nil
	case nchw && nhwc:
		return "", fmt.Errorf("does not tell its layout; set layout (NCHW or NHWC)")
	case nchw:
		return NCHW, nil
	}
	return NHWC, nil
}

// outputLayout guesses a rank-4 output's layout: the side whose dimension
// is 1 or 2 (a channel count segtool reads) is the channel axis; failing
// that, the side whose spatial dimensions match the input's; failing that,
// the input's layout.
func outputLayout(od []int64, s Spec) Layout {
	ch := func(v int64) bool { return v == 1 || v == 2 }
	switch {
	case ch(od[1]) && !ch(od[3]):
		return NCHW
	case ch(od[3]) && !ch(od[1]):
		return NHWC
	}
	h, w := int64(s.Height), int64(s.Width)
	if h > 0 && w > 0 {
		if od[2] == h && od[3] == w && !(od[1] == h && od[2] == w) {
			return NCHW
		}
		if od[1] == h && od[2] == w && !(od[2] == h && od[3] == w) {
			return NHWC
		}
	}
	return s.Layout
}

// fillSize takes s's height and width from the input's fixed dimensions
// hdim and wdim (a dynamic one, <= 0, leaves the spec's), refusing a size
// asked for that differs.
func fillSize(s *Spec, inName string, hdim, wdim int64) error {
	for _, f := range []struct {
		name string
		dim  int64
		v    *int
	}{{"height", hdim, &s.Height}, {"width", wdim, &s.Width}} {
		if f.dim <= 0 {
			continue
		}
		if *f.v != 0 && int64(*f.v) != f.dim {
			return fmt.Errorf("%s %d asked for, but the input %q has a fixed %s of %d", f.name, *f.v, inName, f.name, f.dim)
		}
		*f.v = int(f.dim)
	}
	return nil
}
