package apply

import "gocv.io/x/gocv"

// Model predicts the person probability of every pixel of an 8-bit BGR
// image, row-major (models.Predictor does). Predict is called from several
// goroutines at once.
type Model interface {
	Predict(img gocv.Mat) ([]float32, error)
}
