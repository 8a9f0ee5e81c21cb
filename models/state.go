package models

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	ort "github.com/yalue/onnxruntime_go"
	"gopkg.in/yaml.v3"
)

// StatePair is one recurrent state of a video model: the tensor the model
// returns as Output for frame t is fed to Input for frame t+1, whatever
// shape it has; frame 0 (and every clip's start) gets zeros of Shape.
// RobustVideoMatting's r1i → r1o … r4i → r4o start as zeros of
// [1,1,1,1] (its docs/inference.md).
type StatePair struct {
	Input  string  `yaml:"input"`
	Output string  `yaml:"output"`
	Shape  []int64 `yaml:"shape,flow"`
	// Where is the spec line it was read from ("rvm.yaml:9"), for errors.
	Where string `yaml:"-" json:"-"`
}

// ConstInput is an extra model input fed the same float32 values every
// frame, such as RobustVideoMatting's downsample_ratio (shape [1]).
type ConstInput struct {
	Name  string    `yaml:"name"`
	Value []float32 `yaml:"value,flow"`
	// Shape defaults to [len(Value)].
	Shape []int64 `yaml:"shape,flow,omitempty"`
	Where string  `yaml:"-" json:"-"`
}

// Recurrent lists a recurrent model's state pairs and the constant inputs
// it takes besides the image.
type Recurrent struct {
	States    []StatePair  `yaml:"states"`
	Constants []ConstInput `yaml:"constants,omitempty"`
}

// states and constants are s.Recurrent's, nil without one.
func (s Spec) states() []StatePair {
	if s.Recurrent == nil {
		return nil
	}
	return s.Recurrent.States
}

func (s Spec) constants() []ConstInput {
	if s.Recurrent == nil {
		return nil
	}
	return s.Recurrent.Constants
}

// ErrStreamSpec is wrapped by DetectModel's error when a spec's state
// pairs, constants or prior-mask channel do not fit the model: a fault of
// the spec, which the error names by line.
var ErrStreamSpec = errors.New("the spec's video inputs do not fit the model")

// Stateful reports whether the model carries something from frame to
// frame (state pairs or a prior-mask channel), so its frames must run in
// order through one Stream.
func (s Spec) Stateful() bool { return len(s.states()) > 0 || s.PriorMask }

// InputChannels is the image input's channel count: 3 colour channels,
// and a 4th holding the previous frame's prediction for a prior-mask
// model.
func (s Spec) InputChannels() int {
	if s.PriorMask {
		return 4
	}
	return 3
}

func (p StatePair) label(i int) string {
	l := "states[" + strconv.Itoa(i) + "]"
	if p.Where != "" {
		l = p.Where + ": " + l
	}
	return l
}

func (c ConstInput) label(i int) string {
	l := "constants[" + strconv.Itoa(i) + "]"
	if c.Where != "" {
		l = c.Where + ": " + l
	}
	return l
}

// shape is c's tensor shape.
func (c ConstInput) shape() []int64 {
	if len(c.Shape) == 0 {
		return []int64{int64(len(c.Value))}
	}
	return c.Shape
}

// checkStream checks the state pairs and constants on their own: names
// given and distinct, shapes positive, a constant's values filling its
// shape.
func (s Spec) checkStream() []error {
	var errs []error
	seen := map[string]string{}
	name := func(label, what, n string) {
		switch {
		case n == "":
			errs = append(errs, fmt.Errorf("%s: no %s tensor name", label, what))
		case seen[n] != "":
			errs = append(errs, fmt.Errorf("%s: tensor %q is already used by %s", label, n, seen[n]))
		case n == s.Input && what != "output" || n == s.Output && what == "output":
			errs = append(errs, fmt.Errorf("%s: tensor %q is the image's", label, n))
		default:
			seen[n] = label
		}
	}
	positive := func(label string, shape []int64) {
		for _, d := range shape {
			if d < 1 {
				errs = append(errs, fmt.Errorf("%s: shape %v: every dimension must be at least 1", label, shape))
				return
			}
		}
	}
	if s.Recurrent != nil && len(s.Recurrent.States) == 0 {
		errs = append(errs, fmt.Errorf("recurrent: no states"))
	}
	for i, p := range s.states() {
		l := p.label(i)
		name(l, "input", p.Input)
		name(l, "output", p.Output)
		positive(l, p.Shape)
	}
	for i, c := range s.constants() {
		l := c.label(i)
		name(l, "input", c.Name)
		if len(c.Value) == 0 {
			errs = append(errs, fmt.Errorf("%s: no value", l))
			continue
		}
		positive(l, c.Shape)
		if n := ort.Shape(c.shape()).FlattenedSize(); n != int64(len(c.Value)) {
			errs = append(errs, fmt.Errorf("%s: %d values do not fill shape %v", l, len(c.Value), c.shape()))
		}
	}
	return errs
}

// streamLines maps "states"/"constants" to the line of each list entry
// under a spec's recurrent key.
func streamLines(data []byte) map[string][]int {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil
	}
	lines := map[string][]int{}
	top := doc.Content[0].Content
	for i := 0; i+1 < len(top); i += 2 {
		if top[i].Value != "recurrent" || top[i+1].Kind != yaml.MappingNode {
			continue
		}
		m := top[i+1].Content
		for j := 0; j+1 < len(m); j += 2 {
			k, v := m[j].Value, m[j+1]
			if (k == "states" || k == "constants") && v.Kind == yaml.SequenceNode {
				for _, e := range v.Content {
					lines[k] = append(lines[k], e.Line)
				}
			}
		}
	}
	return lines
}

// placeStream records in each state pair and constant the file and line
// it was read from.
func (s *Spec) placeStream(path string, lines map[string][]int) {
	if s.Recurrent == nil {
		return
	}
	r := s.Recurrent
	for i := range r.States {
		if i < len(lines["states"]) {
			r.States[i].Where = fmt.Sprintf("%s:%d", path, lines["states"][i])
		}
	}
	for i := range r.Constants {
		if i < len(lines["constants"]) {
			r.Constants[i].Where = fmt.Sprintf("%s:%d", path, lines["constants"][i])
		}
	}
}

// sessionNames are the input and output names a session is opened with:
// the image and its output, then each state pair's input and output, then
// the constants.
func (s Spec) sessionNames() (ins, outs []string) {
	ins, outs = []string{s.Input}, s.sessionOutputs()
	for _, p := range s.states() {
		ins, outs = append(ins, p.Input), append(outs, p.Output)
	}
	for _, c := range s.constants() {
		ins = append(ins, c.Name)
	}
	return ins, outs
}

// fitStream checks a video spec against the model and returns the inputs
// left for the image: every state pair's input and output and every
// constant must exist, be float32 tensors, and a pair's input and output
// must have the same rank and agree wherever both dimensions are fixed; an
// initial shape must fit the input's fixed dimensions (and is taken from
// them when the spec gives none). Errors wrap ErrStreamSpec and name the
// spec line.
func (s *Spec) fitStream(info ModelInfo) ([]ort.InputOutputInfo, error) {
	if s.Recurrent == nil {
		return info.Inputs, nil
	}
	// The initial shapes may be filled in: work on a copy.
	r := &Recurrent{States: slices.Clone(s.Recurrent.States), Constants: s.Recurrent.Constants}
	s.Recurrent = r
	find := func(infos []ort.InputOutputInfo, name string) (ort.InputOutputInfo, bool) {
		for _, i := range infos {
			if i.Name == name {
				return i, true
			}
		}
		return ort.InputOutputInfo{}, false
	}
	bad := func(label, format string, a ...any) error {
		return fmt.Errorf("%s: %s: %w", label, fmt.Sprintf(format, a...), ErrStreamSpec)
	}
	float32Tensor := func(label, what string, i ort.InputOutputInfo) error {
		if i.OrtValueType != ort.ONNXTypeTensor || i.DataType != ort.TensorElementDataTypeFloat {
			return bad(label, "%s %q holds %v; segtool feeds state and constant tensors as float32", what, i.Name, i.DataType)
		}
		return nil
	}
	claimed := map[string]bool{}
	for k := range r.States {
		p := &r.States[k]
		l := p.label(k)
		in, ok := find(info.Inputs, p.Input)
		if !ok {
			return nil, bad(l, "the model has no input %q (it has %s)", p.Input, ioNames(info.Inputs))
		}
		out, ok := find(info.Outputs, p.Output)
		if !ok {
			return nil, bad(l, "the model has no output %q (it has %s)", p.Output, ioNames(info.Outputs))
		}
		if err := float32Tensor(l, "input", in); err != nil {
			return nil, err
		}
		if err := float32Tensor(l, "output", out); err != nil {
			return nil, err
		}
		di, do := in.Dimensions, out.Dimensions
		if len(di) != len(do) {
			return nil, bad(l, "input %q %v and output %q %v differ in rank", p.Input, di, p.Output, do)
		}
		for j := range di {
			if di[j] > 0 && do[j] > 0 && di[j] != do[j] {
				return nil, bad(l, "input %q %v and output %q %v disagree in dimension %d", p.Input, di, p.Output, do, j)
			}
		}
		if len(p.Shape) == 0 {
			if slices.ContainsFunc(di, func(d int64) bool { return d <= 0 }) {
				return nil, bad(l, "input %q %v has dynamic dimensions; give the initial shape", p.Input, di)
			}
			p.Shape = slices.Clone(di)
		}
		if len(p.Shape) != len(di) {
			return nil, bad(l, "initial shape %v does not fit input %q %v", p.Shape, p.Input, di)
		}
		for j := range di {
			if di[j] > 0 && di[j] != p.Shape[j] {
				return nil, bad(l, "initial shape %v does not fit input %q %v", p.Shape, p.Input, di)
			}
		}
		claimed[p.Input] = true
	}
	for k, c := range r.Constants {
		l := c.label(k)
		in, ok := find(info.Inputs, c.Name)
		if !ok {
			return nil, bad(l, "the model has no input %q (it has %s)", c.Name, ioNames(info.Inputs))
		}
		if err := float32Tensor(l, "input", in); err != nil {
			return nil, err
		}
		shape := c.shape()
		if len(shape) != len(in.Dimensions) {
			return nil, bad(l, "shape %v does not fit input %q %v", shape, c.Name, in.Dimensions)
		}
		for j, d := range in.Dimensions {
			if d > 0 && d != shape[j] {
				return nil, bad(l, "shape %v does not fit input %q %v", shape, c.Name, in.Dimensions)
			}
		}
		claimed[c.Name] = true
	}
	var rest []ort.InputOutputInfo
	for _, i := range info.Inputs {
		if !claimed[i.Name] {
			rest = append(rest, i)
		}
	}
	return rest, nil
}
