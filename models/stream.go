package models

import (
	"errors"
	"fmt"
	"image"
	"slices"

	ort "github.com/yalue/onnxruntime_go"
	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
)

// ErrStatefulTile is wrapped (in a *dataset.OptionError for Tile) when a
// video model is asked to run in tiles: its state belongs to whole frames.
var ErrStatefulTile = errors.New("a video model (state pairs or a prior-mask channel) runs on whole frames, not tiles")

// ErrStatefulBatch is wrapped when a video model is given to the batch
// path (Session.NewBatch, Session.Run): its frames run in order through a
// Stream.
var ErrStatefulBatch = errors.New("a video model (state pairs or a prior-mask channel) runs frame by frame through a stream, not in batches")

// Stream runs a model over one clip's frames in order. It carries what a
// video model keeps between frames: a recurrent model's state tensors and a
// prior-mask model's previous prediction. Reset starts a new clip. A Stream
// is not safe for concurrent use; use one per clip (several streams may
// share one Predictor).
//
// For a model that is not Stateful, Predict is Predictor.Predict.
type Stream struct {
	p *Predictor
	// states[i] holds state pair i's tensor for the next frame, shapes[i]
	// its shape: the initial zeros, then what the model last returned.
	states [][]float32
	shapes [][]int64
	// prior is the previous frame's probability plane at the model's
	// input size; nil at a clip's start (zeros).
	prior    []float32
	rgb, in4 []float32 // preprocessing scratch
}

// NewStream returns a stream at the start of a clip.
func (p *Predictor) NewStream() *Stream {
	s := &Stream{p: p}
	s.Reset()
	return s
}

// Reset forgets the clip: states back to their initial values, the prior
// mask to zeros.
func (s *Stream) Reset() {
	s.states, s.shapes, s.prior = s.states[:0], s.shapes[:0], nil
	if s.p == nil || s.p.Session == nil {
		return
	}
	for _, st := range s.p.Session.Spec.states() {
		// Not FlattenedSize: a rank-0 state holds one value, not none.
		n := int64(1)
		for _, d := range st.Shape {
			n *= d
		}
		s.states = append(s.states, make([]float32, n))
		s.shapes = append(s.shapes, slices.Clone(st.Shape))
	}
}

// CheckStream reports, before any frame runs, what Stream.Predict would
// refuse: a video model asked to run in tiles (an OptionError for Tile
// wrapping ErrStatefulTile). Any other model is fine.
func (p *Predictor) CheckStream() error {
	if p.Session != nil && p.Session.Spec.Stateful() && p.Tile != (image.Point{}) {
		return &dataset.OptionError{Field: "Tile", Err: ErrStatefulTile}
	}
	return nil
}

// Predict runs frame t of the clip and returns its probability plane at
// the frame's size, as Predictor.Predict does. A video model gets the
// whole frame placed by the predictor's Fit, its state tensors as the
// previous frame left them (output of frame t−1 fed as input of frame t,
// whatever shape it has), its constants, and, for a prior-mask model, the
// previous frame's probability at the model's input size as the 4th
// channel (values in [0, 1]; zeros at the clip's start).
func (s *Stream) Predict(img gocv.Mat) ([]float32, error) {
	p := s.p
	if p == nil || p.Session == nil {
		return nil, fmt.Errorf("predict: no session")
	}
	spec := p.Session.Spec
	if !spec.Stateful() {
		return p.Predict(img)
	}
	if err := p.CheckStream(); err != nil {
		return nil, err
	}
	w, h := img.Cols(), img.Rows()
	if w <= 0 || h <= 0 {
		return nil, fmt.Errorf("predict: empty image")
	}
	place := Place(p.Fit, w, h, spec.Width, spec.Height)
	n := spec.Width * spec.Height
	if len(s.rgb) != 3*n {
		s.rgb = make([]float32, 3*n)
	}
	if err := spec.Preprocess(img, place, s.rgb); err != nil {
		return nil, err
	}
	x := s.rgb
	if spec.PriorMask {
		x = s.withPrior(spec.Layout, n)
	}

	ins := make([]ort.Value, 0, 1+len(s.states)+len(spec.constants()))
	defer func() {
		for _, v := range ins {
			v.Destroy()
		}
	}()
	add := func(what string, shape []int64, data []float32) error {
		t, err := ort.NewTensor(ort.NewShape(shape...), data)
		if err != nil {
			return fmt.Errorf("predict: %s tensor %v: %w", what, shape, err)
		}
		ins = append(ins, t)
		return nil
	}
	if err := add("image", spec.InputShape(1), x); err != nil {
		return nil, err
	}
	for i, st := range spec.states() {
		if err := add("state "+st.Input, s.shapes[i], s.states[i]); err != nil {
			return nil, err
		}
	}
	for _, c := range spec.constants() {
		if err := add("constant "+c.Name, c.shape(), c.Value); err != nil {
			return nil, err
		}
	}
	outs := make([]ort.Value, 1+len(s.states)) // nil: ONNX Runtime allocates them
	p.mu.Lock()
	err := p.Session.sess.Run(ins, outs)
	p.mu.Unlock()
	defer func() {
		for _, v := range outs {
			if v != nil {
				v.Destroy()
			}
		}
	}()
	if err != nil {
		return nil, fmt.Errorf("inference: %w", err)
	}
	alpha, ok := outs[0].(*ort.Tensor[float32])
	if !ok {
		return nil, fmt.Errorf("inference: output %q is a %T, want a float32 tensor", spec.Output, outs[0])
	}
	plane := make([]float32, n)
	if err := spec.Probability(alpha.GetData(), alpha.GetShape()[1:], plane); err != nil {
		return nil, err
	}
	for i, st := range spec.states() {
		t, ok := outs[1+i].(*ort.Tensor[float32])
		if !ok {
			return nil, fmt.Errorf("inference: state output %q is a %T, want a float32 tensor", st.Output, outs[1+i])
		}
		// ONNX Runtime's output was copied into Go memory, which outlives
		// the tensor; GetShape returns a copy.
		s.states[i], s.shapes[i] = t.GetData(), []int64(t.GetShape())
	}
	if spec.PriorMask {
		s.prior = plane
	}
	return Restore(plane, place, w, h)
}

// withPrior lays out the 3 preprocessed colour channels and the prior
// plane (zeros when there is none) as one 4-channel item.
func (s *Stream) withPrior(layout Layout, n int) []float32 {
	if len(s.in4) != 4*n {
		s.in4 = make([]float32, 4*n)
	}
	prior := s.prior
	if layout == NHWC {
		for i := range n {
			copy(s.in4[4*i:4*i+3], s.rgb[3*i:3*i+3])
			s.in4[4*i+3] = 0
			if prior != nil {
				s.in4[4*i+3] = prior[i]
			}
		}
		return s.in4
	}
	copy(s.in4, s.rgb)
	if prior != nil {
		copy(s.in4[3*n:], prior)
	} else {
		clear(s.in4[3*n:])
	}
	return s.in4
}
