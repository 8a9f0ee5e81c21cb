package temporal

import (
	"fmt"
	"strconv"
	"strings"
)

// The filter kinds of Parse.
const (
	None        = "none"
	EMA         = "ema"
	Uncertainty = "uncertainty"
	OFD         = "ofd"
)

// Spec names a temporal filter and its parameter, as written on
// the command line: "none", "ema:D", "uncertainty:R" or "ofd".
type Spec struct {
	Kind  string
	Param float64
}

// Parse reads a filter as "none", "ema:D", "uncertainty:R" or
// "ofd". "" is none.
func Parse(s string) (Spec, error) {
	kind, arg, hasArg := strings.Cut(strings.TrimSpace(s), ":")
	switch kind {
	case "", None, OFD:
		if hasArg {
			return Spec{}, fmt.Errorf("temporal %q: %s takes no parameter", s, kind)
		}
		if kind == "" {
			kind = None
		}
		return Spec{Kind: kind}, nil
	case EMA, Uncertainty:
		if !hasArg {
			return Spec{}, fmt.Errorf("temporal %q: want %s:VALUE", s, kind)
		}
		v, err := strconv.ParseFloat(arg, 64)
		if err != nil {
			return Spec{}, fmt.Errorf("temporal %q: %s parameter: %w", s, kind, err)
		}
		t := Spec{Kind: kind, Param: v}
		return t, t.Check()
	}
	return Spec{}, fmt.Errorf("temporal %q: want none, ema:D, uncertainty:R or ofd", s)
}

// Check reports a parameter out of its kind's range.
func (t Spec) Check() error {
	switch t.Kind {
	case EMA:
		if !(t.Param >= 0 && t.Param < 1) {
			return fmt.Errorf("temporal ema %g: want 0 <= decay < 1 (0: off)", t.Param)
		}
	case Uncertainty:
		if !(t.Param >= 0 && t.Param <= 1) {
			return fmt.Errorf("temporal uncertainty %g: want 0 <= R <= 1", t.Param)
		}
	}
	return nil
}

// Off reports whether t filters nothing: none, or the zero Spec.
func (t Spec) Off() bool { return t.Kind == "" || t.Kind == None }

// String is the form Parse reads.
func (t Spec) String() string {
	switch t.Kind {
	case EMA, Uncertainty:
		return t.Kind + ":" + strconv.FormatFloat(t.Param, 'g', -1, 64)
	case "":
		return None
	}
	return t.Kind
}

// Filter filters the probability planes of one clip's frames, fed in
// order. A filter may hold frames back (ofd holds one): Push returns the
// frames that are final now, oldest first, and Flush those still held at
// the clip's end. Each returned plane is a new slice. A Filter is not safe
// for concurrent use; use one per clip.
type Filter interface {
	Push(p []float32, w, h int) [][]float32
	Flush() [][]float32
	// Reset forgets the clip (Flush's frames included).
	Reset()
	// Delay is how many frames Push holds back.
	Delay() int
}

// New returns a fresh filter for t.
func (t Spec) New() Filter {
	switch t.Kind {
	case EMA:
		return &emaFilter{decay: float32(t.Param)}
	case Uncertainty:
		return &uncertaintyFilter{ratio: float32(t.Param)}
	case OFD:
		return &ofdFilter{xi: OFDThreshold}
	}
	return passFilter{}
}

type passFilter struct{}

func (passFilter) Push(p []float32, w, h int) [][]float32 {
	return [][]float32{append([]float32(nil), p...)}
}
func (passFilter) Flush() [][]float32 { return nil }
func (passFilter) Reset()             {}
func (passFilter) Delay() int         { return 0 }

// history is the last output of a filter that feeds it back, for the
// frames of one size: a frame of another size restarts it.
type history struct {
	s    []float32
	w, h int
}

// restart starts the history at p, reporting true, when there is none or
// p is of another size.
func (f *history) restart(p []float32, w, h int) bool {
	if len(f.s) != 0 && f.w == w && f.h == h && len(f.s) == len(p) {
		return false
	}
	f.s = append(f.s[:0], p...)
	f.w, f.h = w, h
	return true
}

// out is the history as Push returns it: a new slice.
func (f *history) out() [][]float32 { return [][]float32{append([]float32(nil), f.s...)} }

func (f *history) Flush() [][]float32 { f.Reset(); return nil }
func (f *history) Reset()             { f.s = f.s[:0] }
func (f *history) Delay() int         { return 0 }

// emaFilter is s_t = (1 − d)·p_t + d·s_(t−1), s_0 = p_0; a frame of
// another size restarts it, and a pixel whose history is NaN restarts at
// p_t (else one NaN frame would poison the pixel for the rest of the clip).
type emaFilter struct {
	history
	decay float32
}

func (f *emaFilter) Push(p []float32, w, h int) [][]float32 {
	if f.restart(p, w, h) {
		return f.out()
	}
	d, k := f.decay, 1-f.decay
	for i, v := range p {
		if s := f.s[i]; s == s { // a NaN history restarts at the new value
			f.s[i] = k*v + d*s
		} else {
			f.s[i] = v
		}
	}
	return f.out()
}
