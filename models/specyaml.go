package models

import (
	"fmt"
	"io"
	"strings"

	"gopkg.in/yaml.v3"
)

// Norm names a common input normalisation, for writing a spec.
type Norm string

// Normalisations, each x = ((p*scale - mean)/std)*post_scale of 8-bit p.
const (
	NormUnit     Norm = "unit"     // p/255: Keras, prisma
	NormSigned   Norm = "signed"   // (p/255 - 0.5)/0.5, in [-1, 1]: MODNet, MobileNet
	NormImageNet Norm = "imagenet" // torchvision's ImageNet mean/std on p/255
	NormNone     Norm = "none"     // p as it is, 0..255
)

// NormNames lists the normalisations, for usage text.
func NormNames() []string {
	return []string{string(NormUnit), string(NormSigned), string(NormImageNet), string(NormNone)}
}

// ApplyNorm sets s's scale, mean, std and post_scale to n, with
// ImageNet's RGB statistics reversed for a BGR model.
func (s *Spec) ApplyNorm(n Norm) error {
	unit, half := [3]float32{1, 1, 1}, [3]float32{0.5, 0.5, 0.5}
	s.Scale, s.Mean, s.Std, s.PostScale = 1.0/255, [3]float32{}, unit, 1
	switch n {
	case NormUnit:
	case NormSigned:
		s.Mean, s.Std = half, half
	case NormImageNet:
		s.Mean, s.Std = [3]float32{0.485, 0.456, 0.406}, [3]float32{0.229, 0.224, 0.225}
		if s.Order == BGR {
			s.Mean[0], s.Mean[2] = s.Mean[2], s.Mean[0]
			s.Std[0], s.Std[2] = s.Std[2], s.Std[0]
		}
	case NormNone:
		s.Scale = 1
	default:
		return fmt.Errorf("normalisation %q: want one of %s", n, strings.Join(NormNames(), ", "))
	}
	return nil
}

// specComments explain each key of a written spec.
func specComments() map[string]string {
	return map[string]string{
		"name":          "names the run folder and results",
		"input":         "input tensor",
		"output":        "output tensor segtool reads",
		"layout":        "input layout: NCHW [N,3,H,W], NHWC [N,H,W,3], or CHW [3,H,W] (instance models)",
		"output_layout": "output layout (\"\" = as the shape says)",
		"width":         "input width in pixels",
		"height":        "input height in pixels",
		"multiple":      "a dynamic size must be a multiple of this (0 = any)",
		"batch":         "fixed batch size, 0 = dynamic",
		"order":         "channel order the model was trained on: RGB (PIL, Keras, torchvision) or BGR (OpenCV)",
		"scale":         "x = ((p*scale - mean)/std)*post_scale, p = 0..255",
		"mean":          "per model channel, in order's order",
		"std":           "per model channel",
		"post_scale":    "applied after mean/std (1 = none)",
		"output_kind":   "sigmoid (1-ch probability), logits (1-ch), softmax2 (2-ch probabilities), logits2 (2-ch), instances (detections)",
		"instance":      "instances: output names of boxes [N,4] (x1,y1,x2,y2 input px), labels [N], scores [N], masks [N,1,H,W] (mask_format image) or [N,1,M,M] pasted into the boxes (box); person_label (COCO 1)",
		"foreground":    "person channel of a 2-channel output",
		"matte":         "true: a soft alpha matte, scored as matting",
		"input_type":    "float32 or float16",
		"output_type":   "float32 or float16",
		"source":        "where these facts come from",
	}
}

// WriteSpec writes r.Spec as a YAML spec that LoadSpec reads back, each
// key commented with what it means and where its value came from (From,
// or notes[key] where the caller knows better, e.g. the normalisation
// chosen).
func WriteSpec(w io.Writer, r Resolved, head string, notes map[string]string) error {
	var doc yaml.Node
	if err := doc.Encode(r.Spec); err != nil {
		return err
	}
	doc.HeadComment = head
	m, comments := doc.Content, specComments()
	for i := 0; i+1 < len(m); i += 2 {
		key := m[i].Value
		c := comments[key]
		switch src := r.From[key]; {
		case notes[key] != "":
			c += " [" + notes[key] + "]"
		case src == "":
		case src == FromOverride:
			c += " [given]"
		case src == FromModel:
			c += " [read from the model]"
		default:
			c += " [" + string(src) + "]"
		}
		m[i+1].LineComment = c
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return enc.Close()
}
