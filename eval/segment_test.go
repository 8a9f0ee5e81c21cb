package eval

import (
	"math"
	"math/rand/v2"
	"testing"
)

// value returns the named metric's per-image value.
func value(t *testing.T, im *ImageScores, name string) (float64, bool) {
	t.Helper()
	m, ok := DefaultRegistry().Lookup(name)
	if !ok {
		t.Fatalf("no metric %q", name)
	}
	return m.PerImage(im)
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol*math.Max(1, math.Abs(b)) }

// wantValues checks metric values to a relative tol (1e-12 for ratios of
// counts; about 1e-6 where float32 planes are involved).
func wantValues(t *testing.T, im *ImageScores, tol float64, want map[string]float64) {
	t.Helper()
	for name, w := range want {
		v, ok := value(t, im, name)
		if !ok || !near(v, w, tol) {
			t.Errorf("%s = %v (defined %v), want %v", name, v, ok, w)
		}
	}
}

func mustScore(t *testing.T, p Pair, o Options) ImageScores {
	t.Helper()
	im, err := Score(p, o)
	if err != nil {
		t.Fatal(err)
	}
	return im
}

// The 4x2 example used by several tests. Binarised at 0.5 (strictly
// greater), the prediction is 1 1 0 0 / 1 1 0 1 against the mask
// 1 1 1 0 / 0 0 0 1: TP = 3 (pixels 0, 1, 7), FP = 2 (4, 5), FN = 1 (2),
// TN = 2 (3, and 6 whose 0.5 is not > 0.5).
func tinyPair() Pair {
	return Pair{W: 4, H: 2,
		Prob: []float32{0.9, 0.6, 0.4, 0.1, 0.8, 0.51, 0.5, 0.7},
		Mask: []uint8{255, 255, 255, 0, 0, 0, 0, 255},
	}
}

func TestSegmentationTiny(t *testing.T) {
	im := mustScore(t, tinyPair(), DefaultOptions())
	if im.TP != 3 || im.FP != 2 || im.FN != 1 || im.TN != 2 {
		t.Fatalf("TP FP FN TN = %d %d %d %d, want 3 2 1 2", im.TP, im.FP, im.FN, im.TN)
	}
	wantValues(t, &im, 1e-12, map[string]float64{
		"iou":       3.0 / 6,             // 3/(3+2+1)
		"miou":      (3.0/6 + 2.0/5) / 2, // background 2/(2+2+1)
		"dice":      6.0 / 9,             // 2*3/(2*3+2+1)
		"f1":        6.0 / 9,             // 2PR/(P+R) with P = 3/5, R = 3/4: 0.9/1.35
		"accuracy":  5.0 / 8,             // (3+2)/8
		"precision": 3.0 / 5,             // 3/(3+2)
		"recall":    3.0 / 4,             // 3/(3+1)
	})
	// No alpha: the matte is the 0/1 mask, |p-g| = .1 .4 .6 .1 / .8 .51 .5 .3.
	wantValues(t, &im, 1e-6, map[string]float64{
		"mad": 3.31 / 8,
		"mse": (0.01 + 0.16 + 0.36 + 0.01 + 0.64 + 0.2601 + 0.25 + 0.09) / 8,
		"sad": 3.31 / 1000,
	})
	if !im.MatteFromMask {
		t.Error("MatteFromMask not set for a pair without alpha")
	}
	// F1 from precision and recall, to show Dice's formula gives the same.
	p, r := 3.0/5, 3.0/4
	if f1, _ := value(t, &im, "f1"); !near(f1, 2*p*r/(p+r), 1e-15) {
		t.Errorf("f1 %v != 2PR/(P+R) %v", f1, 2*p*r/(p+r))
	}
}

func TestSegmentationEmptyConventions(t *testing.T) {
	zeros := make([]float32, 6)
	ones := []float32{1, 1, 1, 1, 1, 1}
	empty := make([]uint8, 6)
	full := []uint8{255, 255, 255, 255, 255, 255}
	for _, tc := range []struct {
		name string
		prob []float32
		mask []uint8
		want map[string]float64
	}{
		// Nothing to find and nothing found: every ratio is a perfect 1.
		{"both empty", zeros, empty, map[string]float64{"iou": 1, "dice": 1, "f1": 1, "miou": 1, "precision": 1, "recall": 1, "accuracy": 1, "boundary_iou": 1, "boundary_f": 1}},
		// A person missed entirely.
		{"prediction empty", zeros, full, map[string]float64{"iou": 0, "dice": 0, "f1": 0, "miou": 0, "precision": 0, "recall": 0, "accuracy": 0}},
		// A person invented on an empty mask.
		{"mask empty", ones, empty, map[string]float64{"iou": 0, "dice": 0, "f1": 0, "miou": 0, "precision": 0, "recall": 0, "accuracy": 0}},
		// Both full: the background IoU is 0/0 and counts as 1.
		{"both full", ones, full, map[string]float64{"iou": 1, "dice": 1, "f1": 1, "miou": 1, "precision": 1, "recall": 1, "accuracy": 1, "boundary_iou": 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			im := mustScore(t, Pair{W: 3, H: 2, Prob: tc.prob, Mask: tc.mask}, DefaultOptions())
			wantValues(t, &im, 1e-12, tc.want)
		})
	}
}

func TestSweepCounts(t *testing.T) {
	o := Options{Threshold: 0.5, Sweep: []float64{0.25, 0.5, 0.75}}
	im := mustScore(t, tinyPair(), o)
	// Prediction 0.9 0.6 0.4 0.1 / 0.8 0.51 0.5 0.7, mask 1 1 1 0 / 0 0 0 1.
	want := []SweepCounts{
		{0.25, 4, 3, 0}, // > 0.25: all but 0.1
		{0.5, 3, 2, 1},  // the main threshold's counts
		{0.75, 1, 1, 3}, // > 0.75: 0.9 (person) and 0.8 (background)
	}
	if len(im.Sweep) != len(want) {
		t.Fatalf("sweep %v", im.Sweep)
	}
	for i, w := range want {
		if im.Sweep[i] != w {
			t.Errorf("sweep[%d] = %+v, want %+v", i, im.Sweep[i], w)
		}
	}
}

// TestSweepMatchesDirect checks the histogram shortcut against comparing
// every pixel with every default threshold, on values that sit exactly on
// and next to the thresholds.
func TestSweepMatchesDirect(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	o := DefaultOptions()
	w, h := 37, 23
	p := Pair{W: w, H: h, Prob: make([]float32, w*h), Mask: make([]uint8, w*h)}
	for i := range p.Prob {
		switch rng.IntN(4) {
		case 0: // on a threshold
			p.Prob[i] = float32(o.Sweep[rng.IntN(len(o.Sweep))])
		case 1: // one float32 step either side of one
			v := float32(o.Sweep[rng.IntN(len(o.Sweep))])
			p.Prob[i] = math.Nextafter32(v, float32(rng.IntN(2)))
		case 2:
			p.Prob[i] = float32(rng.IntN(256)) / 255
		default:
			p.Prob[i] = rng.Float32()
		}
		p.Mask[i] = uint8(255 * rng.IntN(2))
	}
	p.Prob[0], p.Prob[1] = 0, 1
	im := mustScore(t, p, o)
	for k, th := range o.Sweep {
		var want SweepCounts
		want.Threshold = th
		for i, v := range p.Prob {
			pred, fg := float64(v) > th, p.Mask[i] == 255
			switch {
			case pred && fg:
				want.TP++
			case pred:
				want.FP++
			case fg:
				want.FN++
			}
		}
		if im.Sweep[k] != want {
			t.Errorf("threshold %v: %+v, want %+v", th, im.Sweep[k], want)
		}
	}
}
