package temporal

import "math"

// Uncertainty is MediaPipe's SegmentationSmoothingCalculator
// (mediapipe/calculators/image/segmentation_smoothing_calculator.cc):
//
//	s_t = p_t + (s_(t−1) − p_t)·u(p_t)·R,   u(p) = H(p)²
//
// with H the binary entropy in bits, H(p) = −p·log₂p − (1−p)·log₂(1−p),
// H(0) = H(1) = 0, so u is 1 at p = 0.5 and 0 at p ∈ {0, 1}: confident
// pixels ignore the past. MediaPipe evaluates u with a polynomial in
// (p − 0.5)² fitted to 1 − (1 − c)², c = 1 − H its certainty (its comment's
// "H"), and then takes u = 1 − that; both reduce to H², which this computes
// exactly (within 1e-3 of the polynomial, see the test). s_(t−1) is the
// previous OUTPUT: MediaPipe's pose graph loops the filtered mask back as
// MASK_PREVIOUS (tfjs pose-detection's poseSegmentationFiltering keeps
// prevFilteredSegmentationMask). The first frame, or one of another size,
// passes through, as MediaPipe does without a previous mask; so does a
// pixel whose history is NaN, which would otherwise stay NaN for the rest
// of the clip.
type uncertaintyFilter struct {
	history
	ratio float32
}

// entropyUncertainty is u(p) = H(p)², H in bits; p is clamped to [0, 1].
func entropyUncertainty(p float32) float32 {
	if !(p > 0 && p < 1) { // NaN too
		return 0
	}
	q := float64(p)
	h := -(q*math.Log2(q) + (1-q)*math.Log2(1-q))
	return float32(h * h)
}

func (f *uncertaintyFilter) Push(p []float32, w, h int) [][]float32 {
	if f.restart(p, w, h) {
		return f.out()
	}
	for i, v := range p {
		if prev := f.s[i]; prev == prev { // a NaN history restarts at the new value
			f.s[i] = v + (prev-v)*entropyUncertainty(v)*f.ratio
		} else {
			f.s[i] = v
		}
	}
	return f.out()
}
