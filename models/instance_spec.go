package models

import (
	"fmt"
	"slices"

	ort "github.com/yalue/onnxruntime_go"
)

// MaskFormat says what an instance model's masks output holds.
type MaskFormat string

// Mask formats.
const (
	// MaskImage: one probability plane per detection at the model input's
	// size, [N,1,H,W], as torchvision's Mask R-CNN returns after its
	// paste_masks_in_image.
	MaskImage MaskFormat = "image"
	// MaskBox: one fixed M x M probability grid per detection, [N,1,M,M],
	// covering the detection's box (the raw mask head's output); segtool
	// pastes it into the box.
	MaskBox MaskFormat = "box"
)

// BoxXYXY is the one box format: x1, y1, x2, y2 in model input pixels,
// torchvision's convention.
const BoxXYXY = "xyxy"

// COCOPerson is the person category of COCO, the label torchvision's
// COCO-trained detectors give a person.
const COCOPerson = 1

// InstanceSpec names an instance model's outputs and their formats. Labels
// other than PersonLabel are kept in the predictions; eval scores the
// person category.
type InstanceSpec struct {
	Boxes  string `yaml:"boxes"`  // [N,4] float
	Labels string `yaml:"labels"` // [N] int64 (int32 and float are read too)
	Scores string `yaml:"scores"` // [N] float
	Masks  string `yaml:"masks"`  // [N,1,H,W] or [N,1,M,M] float, per MaskFormat
	// BoxFormat is xyxy ("" = xyxy).
	BoxFormat  string     `yaml:"box_format,omitempty"`
	MaskFormat MaskFormat `yaml:"mask_format,omitempty"`
	// PersonLabel is the label of a person; 0 means COCO's 1.
	PersonLabel int `yaml:"person_label,omitempty"`
}

// Person returns the person label, COCOPerson when unset.
func (i InstanceSpec) Person() int {
	if i.PersonLabel == 0 {
		return COCOPerson
	}
	return i.PersonLabel
}

// outputNames lists the four outputs in the order the session asks for
// them.
func (i InstanceSpec) outputNames() []string { return []string{i.Boxes, i.Labels, i.Scores, i.Masks} }

func (i InstanceSpec) check(complete bool, bad func(string, ...any)) {
	if complete {
		for _, o := range []struct{ key, v string }{{"boxes", i.Boxes}, {"labels", i.Labels}, {"scores", i.Scores}, {"masks", i.Masks}} {
			if o.v == "" {
				bad("instance.%s: no output tensor name", o.key)
			}
		}
		if i.MaskFormat == "" {
			bad("instance.mask_format: not set (image or box)")
		}
	}
	if i.BoxFormat != "" && i.BoxFormat != BoxXYXY {
		bad("instance.box_format: %q, want xyxy (x1, y1, x2, y2 in input pixels)", i.BoxFormat)
	}
	if i.MaskFormat != "" && i.MaskFormat != MaskImage && i.MaskFormat != MaskBox {
		bad("instance.mask_format: %q, want image ([N,1,H,W] at the input size) or box ([N,1,M,M] pasted into each box)", i.MaskFormat)
	}
	if i.PersonLabel < 0 {
		bad("instance.person_label: %d is negative", i.PersonLabel)
	}
}

// sessionOutputs are the outputs a session for s asks ONNX Runtime for.
func (s Spec) sessionOutputs() []string {
	if s.Kind == Instances {
		return s.Instance.outputNames()
	}
	return []string{s.Output}
}

// looksInstances reports whether a model has the signature of
// torchvision's detection exports: one image input of rank 3 ([3,H,W]) and
// outputs that include boxes [N,4], labels [N], scores [N] and masks of
// rank 4.
func looksInstances(info ModelInfo) bool {
	if len(info.Inputs) != 1 || len(info.Inputs[0].Dimensions) != 3 {
		return false
	}
	_, err := instanceOutputs(InstanceSpec{}, info.Outputs)
	return err == nil
}

// instanceOutputs finds the four outputs: by the names spec gives, else by
// torchvision's names (boxes, labels, scores, masks), else by shape and
// element type.
func instanceOutputs(spec InstanceSpec, outs []ort.InputOutputInfo) ([4]ort.InputOutputInfo, error) {
	var found [4]ort.InputOutputInfo
	keys := [4]string{"boxes", "labels", "scores", "masks"}
	given := spec.outputNames()
	isFloat := func(o ort.InputOutputInfo) bool {
		return o.DataType == ort.TensorElementDataTypeFloat || o.DataType == ort.TensorElementDataTypeFloat16
	}
	isInt := func(o ort.InputOutputInfo) bool {
		return o.DataType == ort.TensorElementDataTypeInt64 || o.DataType == ort.TensorElementDataTypeInt32
	}
	// fits says whether o can be output k; unnamed, labels must be integers
	// to be told from scores.
	fits := func(k int, o ort.InputOutputInfo, named bool) bool {
		d := o.Dimensions
		switch k {
		case 0:
			return isFloat(o) && len(d) == 2 && d[1] == 4
		case 1:
			return len(d) == 1 && (isInt(o) || (named && o.DataType == ort.TensorElementDataTypeFloat))
		case 2:
			return isFloat(o) && len(d) == 1
		}
		return isFloat(o) && len(d) == 4 && d[1] <= 1
	}
	used := map[string]bool{}
	for k := range 4 {
		name := given[k]
		if name == "" && slices.ContainsFunc(outs, func(o ort.InputOutputInfo) bool { return o.Name == keys[k] }) {
			name = keys[k]
		}
		idx := -1
		for j, o := range outs {
			if used[o.Name] {
				continue
			}
			if (name != "" && o.Name == name) || (name == "" && fits(k, o, false)) {
				idx = j
				break
			}
		}
		if idx < 0 {
			if name != "" {
				return found, fmt.Errorf("the model has no output %q for the %s (it has %s)", name, keys[k], ioNames(outs))
			}
			return found, fmt.Errorf("no output looks like the %s (outputs %s); name it in the spec's instance.%s", keys[k], ioNames(outs), keys[k])
		}
		o := outs[idx]
		if !fits(k, o, true) {
			return found, fmt.Errorf("output %q %v (%v) cannot be the %s", o.Name, o.Dimensions, o.DataType, keys[k])
		}
		used[o.Name] = true
		found[k] = o
	}
	return found, nil
}

// detectInstances is DetectModel for an instance model: a single float32
// image input [3,H,W] (layout CHW) or [1,3,H,W] (NCHW, batch 1), and the
// four outputs instanceOutputs finds. A mask output of fixed spatial size
// on a model whose input size is dynamic (or differs) is MaskBox, else
// MaskImage. Box format and person label get their defaults.
func detectInstances(base Spec, info ModelInfo) (Spec, error) {
	s := base
	fail := func(format string, a ...any) (Spec, error) {
		return base, fmt.Errorf("model spec %s does not fit the model: %s", specName(base), fmt.Sprintf(format, a...))
	}
	if len(info.Inputs) != 1 {
		return fail("the model has %d inputs (%s); segtool feeds a single image input", len(info.Inputs), ioNames(info.Inputs))
	}
	in, inType, err := pickTensor("input", base.Input, info.Inputs, false, 3, 4, base.InputType)
	if err != nil {
		return fail("%v", err)
	}
	if inType != Float32 {
		return fail("input %q holds %s; instance models take float32", in.Name, inType)
	}
	d := in.Dimensions
	layout := CHW
	if len(d) == 4 {
		layout = NCHW
		if d[0] > 1 {
			return fail("input %q %v has a batch of %d; instance models run one image at a time", in.Name, d, d[0])
		}
		d = d[1:]
	}
	if base.Layout != "" && base.Layout != layout {
		return fail("input %q %v is not %s, as the spec's layout says", in.Name, in.Dimensions, base.Layout)
	}
	if d[0] > 0 && d[0] != 3 {
		return fail("input %q %v has %d channels; segtool feeds 3-channel images", in.Name, in.Dimensions, d[0])
	}
	s.Input, s.InputType, s.Layout, s.Kind, s.Batch = in.Name, inType, layout, Instances, 0
	if layout == NCHW {
		s.Batch = 1
	}
	if err := fillSize(&s, in.Name, d[1], d[2]); err != nil {
		return fail("%v", err)
	}
	outs, err := instanceOutputs(base.Instance, info.Outputs)
	if err != nil {
		return fail("%v", err)
	}
	s.Instance.Boxes, s.Instance.Labels, s.Instance.Scores, s.Instance.Masks = outs[0].Name, outs[1].Name, outs[2].Name, outs[3].Name
	if s.Instance.BoxFormat == "" {
		s.Instance.BoxFormat = BoxXYXY
	}
	if s.Instance.PersonLabel == 0 {
		s.Instance.PersonLabel = COCOPerson
	}
	md := outs[3].Dimensions
	if s.Instance.MaskFormat == "" {
		s.Instance.MaskFormat = MaskImage
		if md[2] > 0 && md[3] > 0 && (s.Width == 0 || md[2] != int64(s.Height) || md[3] != int64(s.Width)) {
			s.Instance.MaskFormat = MaskBox
		}
	}
	return s, nil
}
