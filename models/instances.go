package models

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
