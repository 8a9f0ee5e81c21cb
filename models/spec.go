package models

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/segtool/segtool/internal/safeyaml"
)

// Layout is the order of a 4-D image tensor's dimensions.
type Layout string

// Tensor layouts.
const (
	NCHW Layout = "NCHW"
	NHWC Layout = "NHWC"
	// CHW is one image with no batch dimension, [3,H,W], as torchvision's
	// detection exports take it; only instance models use it.
	CHW Layout = "CHW"
)

// OutputKind says how to turn a model's raw output into a probability.
type OutputKind string

// Output kinds.
const (
	// Sigmoid: one channel, already a probability.
	Sigmoid OutputKind = "sigmoid"
	// Logits: one channel of logits; segtool applies the sigmoid.
	Logits OutputKind = "logits"
	// Softmax2: two channels of probabilities; channel Foreground is read.
	Softmax2 OutputKind = "softmax2"
	// Logits2: two channels of logits; segtool applies the softmax and reads
	// channel Foreground.
	Logits2 OutputKind = "logits2"
	// Instances: per-detection boxes, labels, scores and masks, named by
	// Spec.Instance (see InstanceSpec).
	Instances OutputKind = "instances"
)

// Channels returns how many output channels the kind reads (1 or 2), or 0
// for an unknown kind.
func (k OutputKind) Channels() int {
	switch k {
	case Sigmoid, Logits:
		return 1
	case Softmax2, Logits2:
		return 2
	}
	return 0
}

// Spec is everything needed to feed a model one image and read its output.
//
// Preprocessing maps an 8-bit pixel value p (0..255) of model channel c
// (channels already in Order) to
//
//	x = ((p*Scale - Mean[c]) / Std[c]) * PostScale
//
// which covers p/255 (Scale 1/255), (p/255-0.5)/0.5, ImageNet mean/std and
// SINet's ((p-mean)/std)/255 (PostScale 1/255). Normalize evaluates it.
//
// Input, Output, Layout, OutputLayout, Width, Height, Batch and Kind can be
// left empty and filled from the ONNX graph by Detect; the preprocessing
// facts (Order, Scale, Mean, Std, PostScale) cannot be detected.
type Spec struct {
	Name         string     `yaml:"name"`
	Input        string     `yaml:"input"`         // input tensor name
	Output       string     `yaml:"output"`        // output tensor name
	Layout       Layout     `yaml:"layout"`        // input layout
	OutputLayout Layout     `yaml:"output_layout"` // "" = detected from the output shape, else Layout
	Width        int        `yaml:"width"`         // 0 = dynamic (needs a size)
	Height       int        `yaml:"height"`
	Multiple     int        `yaml:"multiple"` // a dynamic size must be a multiple of this; 0/1 = any
	Batch        int        `yaml:"batch"`    // 0 = dynamic batch dimension, N = fixed
	Order        string     `yaml:"order"`    // "RGB" | "BGR": channel order the model expects
	Scale        float32    `yaml:"scale"`
	Mean         [3]float32 `yaml:"mean,flow"` // per model channel (already in Order)
	Std          [3]float32 `yaml:"std,flow"`
	PostScale    float32    `yaml:"post_scale"`
	Kind         OutputKind `yaml:"output_kind"`
	Foreground   int        `yaml:"foreground"` // channel index for softmax2/logits2
	Matte        bool       `yaml:"matte"`      // soft alpha output (matting model) rather than a mask
	// InputType and OutputType are the tensors' element types, float32 or
	// float16 ("" = detected). segtool preprocesses in float32 and converts
	// a float16 input once per batch (Batch.Commit).
	InputType  string `yaml:"input_type,omitempty"`
	OutputType string `yaml:"output_type,omitempty"`
	// Weights is the precision the weights are stored in, fp32 or fp16, as
	// the model's maker says; a model with fp16 weights and float32 inputs
	// needs nothing from segtool, so it is only reported.
	Weights string `yaml:"weights,omitempty"`
	Source  string `yaml:"source,omitempty"`
	// Instance names an instance model's outputs (output_kind instances).
	Instance InstanceSpec `yaml:"instance,omitempty"`
	// OutputRank is the output tensor's rank, 3 ([N,H,W]) or 4, as Detect
	// found it; 0 means 4.
	OutputRank int `yaml:"-" json:"-"`
}

// Channel orders.
const (
	RGB = "RGB"
	BGR = "BGR"
)

// Validate checks that s is complete and consistent, ready to preprocess
// images and read outputs: names, layout, size and output kind set (Detect
// fills them from the model), and the preprocessing facts sane. Errors name
// the YAML field.
func (s Spec) Validate() error { return s.check(true) }

// check validates s; when complete is false, the fields Detect can fill
// (input, output, layout, width/height, output_kind) and those Defaults
// fill (order, scale) may be empty.
func (s Spec) check(complete bool) error {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	finite := func(v float32) bool { return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0) }

	if complete {
		if s.Input == "" {
			bad("input: no input tensor name")
		}
		if s.Output == "" && s.Kind != Instances {
			bad("output: no output tensor name")
		}
		if s.Layout == "" {
			bad("layout: not set (NCHW or NHWC)")
		}
		if s.Kind == "" {
			bad("output_kind: not set (sigmoid, logits, softmax2, logits2 or instances)")
		}
		if (s.Width == 0 || s.Height == 0) && s.Kind != Instances {
			bad("width/height: the model's input size is dynamic, so a size is needed")
		}
	}
	for _, l := range []struct {
		field string
		v     Layout
	}{{"layout", s.Layout}, {"output_layout", s.OutputLayout}} {
		// CHW is for instance models; a partial spec may leave the kind to Detect.
		if l.v != "" && l.v != NCHW && l.v != NHWC && (l.v != CHW || (s.Kind != Instances && s.Kind != "")) {
			bad("%s: %q, want NCHW or NHWC (CHW only for output_kind instances)", l.field, l.v)
		}
	}
	if s.Width < 0 || s.Height < 0 {
		bad("width/height: %dx%d is negative", s.Width, s.Height)
	} else if (s.Width == 0) != (s.Height == 0) {
		bad("width/height: %dx%d, give both or neither", s.Width, s.Height)
	}
	if s.Multiple < 0 {
		bad("multiple: %d is negative", s.Multiple)
	} else if s.Multiple > 1 && (s.Width%s.Multiple != 0 || s.Height%s.Multiple != 0) {
		bad("width/height: %dx%d is not a multiple of %d (multiple)", s.Width, s.Height, s.Multiple)
	}
	if s.Batch < 0 {
		bad("batch: %d is negative", s.Batch)
	}
	for _, t := range []struct{ field, v string }{{"input_type", s.InputType}, {"output_type", s.OutputType}} {
		if t.v != "" && t.v != Float32 && t.v != Float16 {
			bad("%s: %q, want float32 or float16", t.field, t.v)
		}
	}
	if s.Weights != "" && s.Weights != "fp32" && s.Weights != "fp16" {
		bad("weights: %q, want fp32 or fp16", s.Weights)
	}
	// Order and scale may be left out of a partial spec: Defaults fill them.
	if (s.Order != "" || complete) && s.Order != RGB && s.Order != BGR {
		bad("order: %q, want RGB or BGR", s.Order)
	}
	if (s.Scale == 0 && complete) || !finite(s.Scale) {
		bad("scale: %g, want a finite non-zero factor (1 for 0..255, 0.003921569 for 1/255)", s.Scale)
	}
	if s.PostScale == 0 || !finite(s.PostScale) {
		bad("post_scale: %g, want a finite non-zero factor (usually 1)", s.PostScale)
	}
	for c := range 3 {
		if !finite(s.Mean[c]) {
			bad("mean[%d]: %g is not finite", c, s.Mean[c])
		}
		if s.Std[c] == 0 || !finite(s.Std[c]) {
			bad("std[%d]: %g, want a finite non-zero value", c, s.Std[c])
		}
	}
	switch n := s.Kind.Channels(); {
	case s.Kind == Instances:
		s.Instance.check(complete, bad)
	case s.Instance != (InstanceSpec{}) && s.Kind != "":
		bad("instance: set, but output_kind is %q, not instances", s.Kind)
	case s.Kind != "" && n == 0:
		bad("output_kind: %q, want sigmoid, logits, softmax2, logits2 or instances", s.Kind)
	case n == 2 && (s.Foreground < 0 || s.Foreground > 1):
		bad("foreground: %d, a %s output has channels 0 and 1", s.Foreground, s.Kind)
	case n != 2 && s.Foreground != 0:
		bad("foreground: %d, only softmax2 and logits2 outputs have a foreground channel", s.Foreground)
	}
	if len(errs) == 0 {
		return nil
	}
	name := s.Name
	if name == "" {
		name = "(unnamed)"
	}
	return fmt.Errorf("model spec %s: %w", name, errors.Join(errs...))
}

// InputShape is the input tensor shape for a batch of n images.
func (s Spec) InputShape(n int) []int64 {
	if s.Layout == NHWC {
		return []int64{int64(n), int64(s.Height), int64(s.Width), 3}
	}
	return []int64{int64(n), 3, int64(s.Height), int64(s.Width)}
}

// OutputShape is the output tensor shape for a batch of n images: the
// output is at input resolution with Kind.Channels() channels, laid out
// per OutputLayout (else Layout), or [N,H,W] when OutputRank is 3.
func (s Spec) OutputShape(n int) []int64 {
	h, w, c := int64(s.Height), int64(s.Width), int64(s.Kind.Channels())
	ol := s.OutputLayout
	if ol == "" {
		ol = s.Layout
	}
	switch {
	case s.OutputRank == 3:
		return []int64{int64(n), h, w}
	case ol == NHWC:
		return []int64{int64(n), h, w, c}
	}
	return []int64{int64(n), c, h, w}
}

// ItemLen is the number of float32 values of one image in the input tensor.
func (s Spec) ItemLen() int { return 3 * s.Width * s.Height }

// LoadSpec reads a spec from a YAML file. Keys are the Spec's yaml tags;
// an unknown key is an error naming its line. std defaults to [1, 1, 1],
// post_scale to 1 (order and scale are left for ResolveSpec's Defaults)
// and name to the file's base name without extension; the
// fields Detect fills may be left out.
func LoadSpec(path string) (Spec, error) {
	data, err := safeyaml.ReadFile(path)
	if errors.Is(err, safeyaml.ErrTooLarge) {
		return Spec{}, fmt.Errorf("%s: %w", path, err)
	}
	if err != nil {
		return Spec{}, err
	}
	if _, err := safeyaml.Parse(data); err != nil {
		var le *safeyaml.LineError
		if errors.As(err, &le) {
			return Spec{}, fmt.Errorf("%s:%d: %w", path, le.Line, le.Err)
		}
		// A syntax error: the decoder below words it.
	}
	if err := checkTriples(data); err != nil {
		return Spec{}, fmt.Errorf("%s: %w", path, err)
	}
	s := Spec{Std: [3]float32{1, 1, 1}, PostScale: 1}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&s); err != nil {
		if errors.Is(err, io.EOF) {
			return Spec{}, fmt.Errorf("%s: empty model spec", path)
		}
		// yaml.v3 says "line N: field x not found in type models.Spec".
		msg := strings.TrimPrefix(err.Error(), "yaml: ")
		msg = strings.ReplaceAll(msg, "in type models.Spec", "(not a model spec key)")
		return Spec{}, fmt.Errorf("%s: %s", path, msg)
	}
	if s.Name == "" {
		s.Name = strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	}
	if err := s.check(false); err != nil {
		return Spec{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// checkTriples reports a mean or std that is not a list of 3 with its
// line, which yaml.v3's array error leaves out.
func checkTriples(data []byte) error {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 || doc.Content[0].Kind != yaml.MappingNode {
		return nil // the decoder reports these
	}
	m := doc.Content[0].Content
	for i := 0; i+1 < len(m); i += 2 {
		k, v := m[i], m[i+1]
		if (k.Value == "mean" || k.Value == "std") && (v.Kind != yaml.SequenceNode || len(v.Content) != 3) {
			return fmt.Errorf("line %d: %s: want a list of 3 values, one per model channel", v.Line, k.Value)
		}
	}
	return nil
}

// LookupSpec returns the preset called nameOrFile, else the spec in the
// YAML file at that path.
func LookupSpec(nameOrFile string) (Spec, error) {
	s, _, err := lookupSpec(nameOrFile)
	return s, err
}

// lookupSpec is LookupSpec that also says which it was: FromPreset or
// FromFile.
func lookupSpec(nameOrFile string) (Spec, Source, error) {
	ext := strings.ToLower(filepath.Ext(nameOrFile))
	if ext != ".yaml" && ext != ".yml" {
		if s, ok := Presets()[nameOrFile]; ok {
			return s, FromPreset, nil
		}
	}
	if _, err := os.Stat(nameOrFile); err != nil {
		return Spec{}, "", fmt.Errorf("model spec %q is neither a preset (%s) nor a readable file: %w",
			nameOrFile, strings.Join(PresetNames(), ", "), err)
	}
	s, err := LoadSpec(nameOrFile)
	return s, FromFile, err
}
