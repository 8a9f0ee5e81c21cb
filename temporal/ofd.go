package temporal

// OFDThreshold is ξ of MODNet's one-frame delay.
const OFDThreshold = 0.1

// ofdFilter is MODNet's one-frame delay (Ke et al., "MODNet: Real-Time
// Trimap-Free Portrait Matting via Objective Decomposition", AAAI 2022,
// arXiv:2011.11961, section "One-Frame Delay"): a pixel of frame t
// flickers when its neighbours agree and it differs from both,
//
//	|α(t−1) − α(t+1)| ≤ ξ  and  |α(t) − α(t−1)| > ξ  and  |α(t) − α(t+1)| > ξ,
//
// and is then replaced by (α(t−1) + α(t+1))/2, ξ = 0.1. MODNet's repository
// ships no code for it (its video demos say they do not support the OFD
// trick), so this follows the paper, where the neighbours are the model's
// predictions: they are the unfiltered planes here, so each output frame
// depends on raw frames t−1, t, t+1 only. The first frame (no t−1) and the
// last (no t+1, returned by Flush) are unchanged. Frame t is returned when
// t+1 arrives: Delay is 1. A frame of another size ends the clip's run: the
// held frame is returned unchanged and the new one starts afresh.
type ofdFilter struct {
	xi       float32
	prev     []float32 // raw α(t−1); empty at the clip's start
	held     []float32 // raw α(t), waiting for t+1
	w, h     int
	haveHeld bool
}

func abs32(v float32) float32 {
	if v < 0 {
		return -v
	}
	return v
}

func (f *ofdFilter) Push(p []float32, w, h int) [][]float32 {
	if !f.haveHeld {
		f.start(p, w, h)
		return nil
	}
	if f.w != w || f.h != h || len(f.held) != len(p) {
		out := f.held
		f.prev, f.held = nil, nil
		f.start(p, w, h)
		return [][]float32{out}
	}
	out := append([]float32(nil), f.held...)
	if len(f.prev) == len(p) {
		xi := f.xi
		for i, cur := range f.held {
			before, after := f.prev[i], p[i]
			if abs32(before-after) <= xi && abs32(cur-before) > xi && abs32(cur-after) > xi {
				out[i] = (before + after) / 2
			}
		}
	}
	// The raw planes move along: the held frame becomes t−1.
	f.prev, f.held = f.held, append(f.prev[:0], p...)
	return [][]float32{out}
}

func (f *ofdFilter) start(p []float32, w, h int) {
	f.held = append(f.held[:0], p...)
	f.w, f.h = w, h
	f.haveHeld = true
}

func (f *ofdFilter) Flush() [][]float32 {
	if !f.haveHeld {
		return nil
	}
	out := f.held
	f.prev, f.held, f.haveHeld = nil, nil, false
	return [][]float32{out}
}

func (f *ofdFilter) Reset()     { f.prev, f.held, f.haveHeld = f.prev[:0], f.held[:0], false }
func (f *ofdFilter) Delay() int { return 1 }
