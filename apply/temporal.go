package apply

import "fmt"

// EMA smooths the probability planes of consecutive video frames with an
// exponential moving average: s_t = (1 − Decay)·p_t + Decay·s_(t−1), and
// s_0 = p_0. Decay 0 is no smoothing; 0.5 gives frame t half its own
// prediction and half the history. A frame of another size restarts the
// average. Frames must be fed in order; an EMA is not safe for concurrent
// use.
type EMA struct {
	Decay float32

	state []float32
	w, h  int
}

// CheckDecay reports a decay outside [0, 1).
func CheckDecay(d float64) error {
	if !(d >= 0 && d < 1) {
		return fmt.Errorf("temporal EMA %g: want 0 <= decay < 1 (0: off)", d)
	}
	return nil
}

// Next folds frame p (w x h) into the average and returns the smoothed
// plane, a new slice.
func (e *EMA) Next(p []float32, w, h int) []float32 {
	if e.state == nil || e.w != w || e.h != h || len(e.state) != len(p) {
		e.state = append(e.state[:0], p...)
		e.w, e.h = w, h
		return append([]float32(nil), p...)
	}
	d := e.Decay
	k := 1 - d
	for i, v := range p {
		e.state[i] = k*v + d*e.state[i]
	}
	return append([]float32(nil), e.state...)
}

// Reset forgets the history.
func (e *EMA) Reset() { e.state = e.state[:0] }
