package models

import (
	"fmt"
	"math"
)

// rangeSlack is how far outside [0,1] a sigmoid or softmax2 output may
// stray from float rounding before it counts as the wrong output kind.
const rangeSlack = 1e-3

// Probability turns one item of raw model output into a foreground
// probability plane. dims are the item's dimensions without the batch:
// [C,H,W] or [H,W,C] per the output layout (OutputLayout, else Layout), or
// [H,W]. prob receives H*W values in [0,1]:
//
//   - sigmoid: the single channel, as is;
//   - logits: 1 / (1 + exp(-x));
//   - softmax2: channel Foreground, as is;
//   - logits2: the 2-class softmax of channel Foreground,
//     1 / (1 + exp(x_other - x_fg)).
//
// NaN and ±Inf values are passed through unchanged, for the caller to count
// (with logits2, a non-finite foreground logit wins over a non-finite
// other). A sigmoid or softmax2 value further than 1e-3 outside [0,1] is an
// error (the output is probably logits); nearer ones are clamped.
func (s Spec) Probability(out []float32, dims []int64, prob []float32) error {
	var c, h, w int
	switch len(dims) {
	case 2:
		c, h, w = 1, int(dims[0]), int(dims[1])
	case 3:
		ol := s.OutputLayout
		if ol == "" {
			ol = s.Layout
		}
		switch ol {
		case NCHW:
			c, h, w = int(dims[0]), int(dims[1]), int(dims[2])
		case NHWC:
			h, w, c = int(dims[0]), int(dims[1]), int(dims[2])
		default:
			return fmt.Errorf("probability: output layout %q, want NCHW or NHWC", ol)
		}
	default:
		return fmt.Errorf("probability: output item dims %v, want [C,H,W], [H,W,C] or [H,W]", dims)
	}
	if c <= 0 || h <= 0 || w <= 0 {
		return fmt.Errorf("probability: output item dims %v", dims)
	}
	if s.Width > 0 && (w != s.Width || h != s.Height) {
		return fmt.Errorf("probability: output is %dx%d (WxH), the input %dx%d; segtool reads outputs at input resolution", w, h, s.Width, s.Height)
	}
	if len(out) != c*h*w {
		return fmt.Errorf("probability: %d output values for dims %v", len(out), dims)
	}
	if len(prob) != h*w {
		return fmt.Errorf("probability: plane holds %d values, want %dx%d", len(prob), w, h)
	}
	if want := s.Kind.Channels(); want == 0 {
		return fmt.Errorf("probability: output kind %q", s.Kind)
	} else if c != want {
		return fmt.Errorf("probability: output has %d channels, output kind %s reads %d", c, s.Kind, want)
	}
	if c == 2 && (s.Foreground < 0 || s.Foreground > 1) {
		return fmt.Errorf("probability: foreground channel %d of 2", s.Foreground)
	}

	// fg and bg index the foreground and other channel of pixel i as
	// base + i*stride.
	n := h * w
	fgBase, bgBase, stride := 0, 0, 1
	if c == 2 {
		nhwc := len(dims) == 3 && (s.OutputLayout == NHWC || s.OutputLayout == "" && s.Layout == NHWC)
		if nhwc {
			fgBase, bgBase, stride = s.Foreground, 1-s.Foreground, 2
		} else {
			fgBase, bgBase = s.Foreground*n, (1-s.Foreground)*n
		}
	}
	switch s.Kind {
	case Sigmoid, Softmax2:
		for i := range prob {
			v := out[fgBase+i*stride]
			if v >= 0 && v <= 1 { // the common case; false for NaN
				prob[i] = v
				continue
			}
			if !finite32(v) {
				prob[i] = v
				continue
			}
			if v < -rangeSlack || v > 1+rangeSlack {
				return fmt.Errorf("probability: output value %g at pixel %d is outside [0,1]; is the output kind really %s (logits?)", v, i, s.Kind)
			}
			prob[i] = min(1, max(0, v))
		}
	case Logits:
		for i, v := range out[:n] {
			if !finite32(v) {
				prob[i] = v
				continue
			}
			prob[i] = float32(1 / (1 + math.Exp(-float64(v))))
		}
	case Logits2:
		for i := range prob {
			f, o := out[fgBase+i*stride], out[bgBase+i*stride]
			switch {
			case !finite32(f):
				prob[i] = f
			case !finite32(o):
				prob[i] = o
			default:
				prob[i] = float32(1 / (1 + math.Exp(float64(o)-float64(f))))
			}
		}
	}
	return nil
}

func finite32(v float32) bool {
	return !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
}
