package eval

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
)

func TestOptionsValidate(t *testing.T) {
	d := DefaultOptions()
	if err := d.Validate(); err != nil || d.Threshold != 0.5 || len(d.Sweep) != 19 || d.Sweep[0] != 0.05 || d.Sweep[18] != 0.95 || d.Sweep[9] != 0.5 {
		t.Fatalf("defaults %+v: %v", d, err)
	}
	for _, o := range []Options{
		{},             // zero threshold: not a silent default
		{Threshold: 1}, // nothing could be person
		{Threshold: math.NaN()},
		{Threshold: 0.5, Sweep: []float64{0.2, 0.2}},
		{Threshold: 0.5, Sweep: []float64{0.5, 0.3}},
		{Threshold: 0.5, Sweep: []float64{0}},
	} {
		if err := o.Validate(); err == nil {
			t.Errorf("%+v accepted", o)
		}
		if _, err := Score(tinyPair(), o); err == nil {
			t.Errorf("Score with %+v accepted", o)
		}
	}
}

func TestScoreRejectsBadPairs(t *testing.T) {
	nan := tinyPair()
	nan.Prob[3] = float32(math.NaN())
	nan.Prob[4] = float32(math.Inf(1))
	if _, err := Score(nan, DefaultOptions()); !errors.Is(err, ErrNonFinite) {
		t.Errorf("NaN prediction: %v", err)
	}
	if n := NonFinite(nan.Prob); n != 2 {
		t.Errorf("NonFinite = %d, want 2", n)
	}
	for name, mod := range map[string]func(*Pair){
		"short prediction":  func(p *Pair) { p.Prob = p.Prob[:7] },
		"short mask":        func(p *Pair) { p.Mask = p.Mask[:7] },
		"short alpha":       func(p *Pair) { p.Alpha = make([]uint8, 3) },
		"short trimap":      func(p *Pair) { p.Trimap = make([]uint8, 9) },
		"no ground truth":   func(p *Pair) { p.Mask = nil },
		"zero size":         func(p *Pair) { p.W = 0 },
		"value above 1":     func(p *Pair) { p.Prob[2] = 1.5 },
		"negative value":    func(p *Pair) { p.Prob[2] = -0.01 },
		"size mismatch W*H": func(p *Pair) { p.W, p.H = 3, 3 },
	} {
		p := tinyPair()
		mod(&p)
		if _, err := Score(p, DefaultOptions()); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !strings.HasPrefix(err.Error(), "eval: ") {
			t.Errorf("%s: error %q lacks the package prefix", name, err)
		}
	}
}

// TestAlphaOnlyPair: without a mask, alpha >= 128 is the mask.
func TestAlphaOnlyPair(t *testing.T) {
	p := Pair{W: 4, H: 1, Prob: []float32{1, 1, 0, 0}, Alpha: []uint8{255, 128, 127, 0}}
	im := mustScore(t, p, DefaultOptions())
	if im.TP != 2 || im.FP != 0 || im.FN != 0 || im.TN != 2 || im.MatteFromMask {
		t.Errorf("%+v", im)
	}
}

// TestScorerReuse: a Scorer reused across sizes gives what fresh ones do.
func TestScorerReuse(t *testing.T) {
	rng := rand.New(rand.NewPCG(13, 14))
	s := NewScorer()
	defer s.Close()
	for i, sz := range [][2]int{{30, 20}, {7, 9}, {30, 20}, {64, 48}} {
		p := synthPair(rng, sz[0], sz[1], i%2 == 0, 0.05)
		got, err := s.Score(p, DefaultOptions())
		if err != nil {
			t.Fatal(err)
		}
		if want := mustScore(t, p, DefaultOptions()); !reflect.DeepEqual(got, want) {
			t.Errorf("%dx%d: reused scorer %+v, fresh %+v", sz[0], sz[1], got, want)
		}
	}
}

// synthPair draws a portrait-like pair: a soft elliptical person matte,
// and a prediction that is the matte with a wavy, softer edge, a false
// positive blob, and uniform per-pixel noise of the given amplitude (0 for
// a smooth model output); optionally a trimap around the soft edge.
func synthPair(rng *rand.Rand, w, h int, trimap bool, noise float64) Pair {
	p := Pair{W: w, H: h, Prob: make([]float32, w*h), Mask: make([]uint8, w*h), Alpha: make([]uint8, w*h)}
	if trimap {
		p.Trimap = make([]uint8, w*h)
	}
	cx, cy := float64(w)*(0.45+0.1*rng.Float64()), float64(h)*(0.55+0.1*rng.Float64())
	rx, ry := float64(w)*0.25, float64(h)*0.4
	edge := math.Max(2, float64(min(w, h))/60)
	bx, by, br := float64(w)*0.85, float64(h)*0.2, float64(min(w, h))*0.05
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			i := y*w + x
			dx, dy := (float64(x)-cx)/rx, (float64(y)-cy)/ry
			r := (math.Sqrt(dx*dx+dy*dy) - 1) * math.Min(rx, ry) // signed distance-ish, px
			a := math.Min(1, math.Max(0, 0.5-r/edge))
			p.Alpha[i] = uint8(math.Round(255 * a))
			if a >= 0.5 {
				p.Mask[i] = 255
			}
			if trimap {
				switch {
				case r < -2*edge:
					p.Trimap[i] = 255
				case r > 2*edge:
					p.Trimap[i] = 0
				default:
					p.Trimap[i] = 128
				}
			}
			wave := 0.5 * edge * math.Sin(7*math.Atan2(dy, dx))
			q := 1 / (1 + math.Exp((r+wave+1.5)/(1.5*edge)))
			if d := math.Hypot(float64(x)-bx, float64(y)-by); d < br {
				q = math.Max(q, 0.7*(1-d/br))
			}
			q += noise * (rng.Float64() - 0.5)
			p.Prob[i] = float32(math.Min(1, math.Max(0, q)))
		}
	}
	return p
}
