package augment

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
)

// paramKind says how a Param draws.
type paramKind uint8

const (
	kindConst paramKind = iota
	kindRange
	kindChoice
)

// Param is a number drawn afresh on every application of an op: a constant,
// a uniform range [lo, hi] or a choice among listed values. In YAML a scalar
// is a constant, a two-element list is a range, a list of any other length
// is a choice, and {choice: [a, b]} is a choice of any length (needed for
// two values).
type Param struct {
	kind   paramKind
	lo, hi float64
	values []float64
	// integer ranges draw whole numbers; odd ranges draw odd numbers only.
	integer, odd bool
}

// Const returns a Param that always draws v.
func Const(v float64) Param { return Param{kind: kindConst, lo: v, hi: v} }

// Uniform returns a Param drawing uniformly from [lo, hi].
func Uniform(lo, hi float64) Param { return Param{kind: kindRange, lo: lo, hi: hi} }

// Choice returns a Param drawing one of vs with equal probability.
func Choice(vs ...float64) Param {
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	return Param{kind: kindChoice, lo: lo, hi: hi, values: append([]float64(nil), vs...)}
}

// asInt marks p as drawing integers (ranges inclusive of both ends).
func (p Param) asInt() Param { p.integer = true; return p }

// asOdd marks p as drawing odd integers (kernel sizes).
func (p Param) asOdd() Param { p.integer, p.odd = true, true; return p }

// Draw returns one value. Integer params draw whole numbers: a range
// [lo, hi] is inclusive of both ends, and an odd range draws only odd ones.
func (p Param) Draw(r *rand.Rand) float64 {
	switch p.kind {
	case kindRange:
		if p.lo == p.hi {
			return p.lo
		}
		if p.odd {
			lo := int(p.lo)
			return float64(lo + 2*r.IntN((int(p.hi)-lo)/2+1))
		}
		if p.integer {
			lo := int(p.lo)
			return float64(lo + r.IntN(int(p.hi)-lo+1))
		}
		return p.lo + (p.hi-p.lo)*r.Float64()
	case kindChoice:
		return p.values[r.IntN(len(p.values))]
	}
	return p.lo
}

// DrawInt is Draw for integer params.
func (p Param) DrawInt(r *rand.Rand) int { return int(math.Round(p.Draw(r))) }

// quantiles fills t so that t[u] for a uniform random index u follows p's
// distribution rounded to integers. Per-pixel draws then cost one table
// look-up; a range's 65536 cells are spread as evenly as integer division
// allows.
func (p Param) quantiles(t []int16) {
	n := len(t)
	switch p.kind {
	case kindRange:
		lo, span := math.Round(p.lo), math.Round(p.hi)-math.Round(p.lo)+1
		for i := range t {
			t[i] = int16(lo + math.Floor(float64(i)*span/float64(n)))
		}
	case kindChoice:
		for i := range t {
			t[i] = int16(math.Round(p.values[i*len(p.values)/n]))
		}
	default:
		v := int16(math.Round(p.lo))
		for i := range t {
			t[i] = v
		}
	}
}

// String writes p as it would appear in YAML.
func (p Param) String() string {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	switch p.kind {
	case kindRange:
		return "[" + f(p.lo) + ", " + f(p.hi) + "]"
	case kindChoice:
		s := make([]string, len(p.values))
		for i, v := range p.values {
			s[i] = f(v)
		}
		return "{choice: [" + strings.Join(s, ", ") + "]}"
	}
	return f(p.lo)
}

// validate checks every value p can draw against [min, max] and, for
// integer params, wholeness and oddness.
func (p Param) validate(min, max float64) error {
	vals := p.values
	if p.kind != kindChoice {
		if p.lo > p.hi {
			return fmt.Errorf("%w: [%g, %g] has lo > hi", ErrBadRange, p.lo, p.hi)
		}
		vals = []float64{p.lo, p.hi}
	}
	for _, v := range vals {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return fmt.Errorf("%w: %g is not a finite number", ErrBadValue, v)
		}
		if p.integer && v != math.Trunc(v) {
			return fmt.Errorf("%w: %g is not a whole number", ErrBadValue, v)
		}
		if p.odd && (v <= 0 || int(v)%2 == 0) {
			return fmt.Errorf("%w: %g is not odd and positive", ErrBadKernel, v)
		}
		if v < min || v > max {
			return fmt.Errorf("%w: %g is outside [%g, %g]", ErrBadValue, v, min, max)
		}
	}
	return nil
}

// Enum is a choice among named modes, drawn per application when it holds
// more than one.
type Enum []string

// Draw returns one of e's values.
func (e Enum) Draw(r *rand.Rand) string {
	if len(e) == 1 {
		return e[0]
	}
	return e[r.IntN(len(e))]
}

// chance draws a flag that is true with probability p.
func chance(r *rand.Rand, p float64) bool {
	switch p {
	case 0:
		return false
	case 1:
		return true
	}
	return r.Float64() < p
}
