package models

import (
	"errors"
	"image"

	"gocv.io/x/gocv"
)

// Instance is one detection of an instance model, in the image's pixels.
type Instance struct {
	// Box is x1, y1, x2, y2 in image pixels.
	Box   [4]float64
	Label int
	Score float32
	// Mask is the detection's probability plane at the image's size,
	// row-major.
	Mask []float32
}

// InstancePredictor runs an instance model (a spec whose output kind is
// instances) on one image at a time and returns its detections in the
// image's pixels. Predict is safe for concurrent use.
type InstancePredictor struct {
	Session *Session
	// Size, when non-zero, is the size the image is resized to before the
	// model sees it; boxes and masks are mapped back.
	Size image.Point
}

// NewInstancePredictor returns a predictor for s.
func NewInstancePredictor(s *Session, size image.Point) *InstancePredictor {
	return &InstancePredictor{Session: s, Size: size}
}

// Predict returns img's detections, highest score first. Zero detections
// is a valid result.
func (p *InstancePredictor) Predict(img gocv.Mat) ([]Instance, error) {
	return nil, errors.New("instance models: not implemented yet")
}
