package apply

import (
	"fmt"
	"strconv"
	"strings"
)

// The temporal filter kinds of ParseTemporal.
const (
	TemporalNone        = "none"
	TemporalEMA         = "ema"
	TemporalUncertainty = "uncertainty"
	TemporalOFD         = "ofd"
)

// TemporalSpec names a temporal filter and its parameter, as written on
// the command line: "none", "ema:D", "uncertainty:R" or "ofd".
type TemporalSpec struct {
	Kind  string
	Param float64
}

// ParseTemporal reads a filter as "none", "ema:D", "uncertainty:R" or
// "ofd". "" is none.
func ParseTemporal(s string) (TemporalSpec, error) {
	kind, arg, hasArg := strings.Cut(strings.TrimSpace(s), ":")
	switch kind {
	case "", TemporalNone, TemporalOFD:
		if hasArg {
			return TemporalSpec{}, fmt.Errorf("temporal %q: %s takes no parameter", s, kind)
		}
		if kind == "" {
			kind = TemporalNone
		}
		return TemporalSpec{Kind: kind}, nil
	case TemporalEMA, TemporalUncertainty:
		if !hasArg {
			return TemporalSpec{}, fmt.Errorf("temporal %q: want %s:VALUE", s, kind)
		}
		v, err := strconv.ParseFloat(arg, 64)
		if err != nil {
			return TemporalSpec{}, fmt.Errorf("temporal %q: %s parameter: %w", s, kind, err)
		}
		t := TemporalSpec{Kind: kind, Param: v}
		return t, t.Check()
	}
	return TemporalSpec{}, fmt.Errorf("temporal %q: want none, ema:D, uncertainty:R or ofd", s)
}

// Check reports a parameter out of its kind's range.
func (t TemporalSpec) Check() error {
	switch t.Kind {
	case TemporalEMA:
		return CheckDecay(t.Param)
	case TemporalUncertainty:
		if !(t.Param >= 0 && t.Param <= 1) {
			return fmt.Errorf("temporal uncertainty %g: want 0 <= R <= 1", t.Param)
		}
	}
	return nil
}

// String is the form ParseTemporal reads.
func (t TemporalSpec) String() string {
	switch t.Kind {
	case TemporalEMA, TemporalUncertainty:
		return t.Kind + ":" + strconv.FormatFloat(t.Param, 'g', -1, 64)
	case "":
		return TemporalNone
	}
	return t.Kind
}

// Temporal filters the probability planes of one clip's frames, fed in
// order. A filter may hold frames back (ofd holds one): Push returns the
// frames that are final now, oldest first, and Flush those still held at
// the clip's end. Each returned plane is a new slice. A Temporal is not safe
// for concurrent use; use one per clip.
type Temporal interface {
	Push(p []float32, w, h int) [][]float32
	Flush() [][]float32
	// Reset forgets the clip (Flush's frames included).
	Reset()
	// Delay is how many frames Push holds back.
	Delay() int
}

// New returns a fresh filter for t.
func (t TemporalSpec) New() Temporal {
	switch t.Kind {
	case TemporalEMA:
		return &emaFilter{e: EMA{Decay: float32(t.Param)}}
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

type emaFilter struct{ e EMA }

func (f *emaFilter) Push(p []float32, w, h int) [][]float32 { return [][]float32{f.e.Next(p, w, h)} }
func (f *emaFilter) Flush() [][]float32                     { f.e.Reset(); return nil }
func (f *emaFilter) Reset()                                 { f.e.Reset() }
func (f *emaFilter) Delay() int                             { return 0 }
