package trimap

import "math"

// Quality compares a trimap with the ground truth of one sample.
type Quality struct {
	// TransitionRecall is the share of transition pixels (0 < alpha < 255)
	// that fall in the unknown region; 1 when there are none.
	TransitionRecall float64
	// UnknownAreaRatio is the unknown area divided by the unknown area of
	// the human-drawn trimap (see [UnknownAreaRatio]).
	UnknownAreaRatio float64
	// Transition, Unknown and HumanUnknown are the pixel counts behind the
	// ratios.
	Transition, Unknown, HumanUnknown int
}

// TransitionRecall returns the share of the pixels with 0 < alpha < 255
// that the trimap marks unknown (128), and the number of such pixels. With
// no transition pixel the recall is 1. Trimap pixels other than 0 and 255
// count as unknown.
func TransitionRecall(trimap, alpha Gray) (recall float64, transition int, err error) {
	if err := sameSize(trimap, alpha, "trimap", "alpha"); err != nil {
		return 0, 0, err
	}
	hit := 0
	for p, v := range alpha.Pix {
		if v > 0 && v < 255 {
			transition++
			if isUnknown(trimap.Pix[p]) {
				hit++
			}
		}
	}
	if transition == 0 {
		return 1, 0, nil
	}
	return float64(hit) / float64(transition), transition, nil
}

// UnknownAreaRatio returns the unknown area of trimap divided by the
// unknown area of the human-drawn trimap human. It is 1 when both are
// empty and +Inf when only the human one is.
func UnknownAreaRatio(trimap, human Gray) (float64, error) {
	if err := sameSize(trimap, human, "trimap", "human trimap"); err != nil {
		return 0, err
	}
	u, hu := CountUnknown(trimap), CountUnknown(human)
	return areaRatio(u, hu), nil
}

// Evaluate computes both measures for one sample.
func Evaluate(trimap, alpha, human Gray) (Quality, error) {
	r, n, err := TransitionRecall(trimap, alpha)
	if err != nil {
		return Quality{}, err
	}
	if err := sameSize(trimap, human, "trimap", "human trimap"); err != nil {
		return Quality{}, err
	}
	u, hu := CountUnknown(trimap), CountUnknown(human)
	return Quality{TransitionRecall: r, UnknownAreaRatio: areaRatio(u, hu), Transition: n, Unknown: u, HumanUnknown: hu}, nil
}

func isUnknown(v uint8) bool { return v != Background && v != Foreground }

// CountUnknown returns the number of unknown pixels of g: those neither
// background nor foreground.
func CountUnknown(g Gray) int {
	n := 0
	for _, v := range g.Pix {
		if isUnknown(v) {
			n++
		}
	}
	return n
}

func areaRatio(u, hu int) float64 {
	switch {
	case hu > 0:
		return float64(u) / float64(hu)
	case u == 0:
		return 1
	}
	return math.Inf(1)
}
