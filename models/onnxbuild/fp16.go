package onnxbuild

import (
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/x448/float16"
)

// Precision is how Graph.Marshal writes a graph's float tensors. The
// fp16 variants model the half-precision files found in the wild, so that
// segtool's handling of them can be tested without downloading any: the
// graph is built in float32 as usual and converted on the way out, with
// Cast nodes at the float32/float16 boundaries.
type Precision string

const (
	// FP32 is float32 throughout (the default; "" means the same).
	FP32 Precision = "fp32"
	// FP16IO makes the graph inputs and outputs FLOAT16, with a Cast to
	// FLOAT after each input and a Cast to FLOAT16 before each output;
	// weights and compute stay float32. It models a model with float16
	// inputs: the caller must feed and read float16 tensors.
	FP16IO Precision = "fp16-io"
	// FP16Weights stores every float initializer as FLOAT16, each read
	// through a Cast to FLOAT; inputs, outputs and compute stay float32. It
	// models fp16 weights on disk (half the file size) behind fp32 I/O.
	FP16Weights Precision = "fp16-weights"
	// FP16 is onnxconverter-common's float16 conversion with
	// keep_io_types=True: float32 inputs and outputs, a Cast to FLOAT16
	// after each input and a Cast to FLOAT before each output, float16
	// initializers, and every op computing in float16. It is what a GPU
	// fp16 export looks like; execution providers without float16 kernels
	// for some op may refuse it or fall back.
	FP16 Precision = "fp16"
)

// Precisions returns the precisions Marshal knows, FP32 first.
func Precisions() []Precision { return []Precision{FP32, FP16IO, FP16Weights, FP16} }

// ParsePrecision returns the Precision named s ("" is FP32).
func ParsePrecision(s string) (Precision, error) {
	if s == "" {
		return FP32, nil
	}
	if p := Precision(s); slices.Contains(Precisions(), p) {
		return p, nil
	}
	return "", fmt.Errorf("onnxbuild: unknown precision %q (want %s, %s, %s or %s)", s, FP32, FP16IO, FP16Weights, FP16)
}

// halfWeights reports whether p stores the weights as float16, so values
// beyond float16's range (65504) cannot be written.
func (p Precision) halfWeights() bool { return p == FP16Weights || p == FP16 }

// FP16Oracle is DefaultOracle rescaled so that every weight, product and
// logit fits float16 (largest finite 65504): gain 256, bias -32640 (=
// -256*127.5). DefaultOracle's bias -130560 overflows float16, and so
// would 1024*R. For raw R in 0..255, 256*R <= 65280 and the logit
// 256*(R-127.5) = 128*(2R-255) are exact in float16 (at most 8 significant
// bits), and |logit| >= 128 drives the sigmoid to exactly 0 or 1 in float16
// as in float32: the same masks as DefaultOracle. The oracle arch uses it
// for FP16Weights and FP16.
func FP16Oracle() OracleOptions { return OracleOptions{Channel: 0, Gain: 256, Bias: -32640} }

// keepFloat32 lists, per op, the inputs that ONNX types as float32 whatever
// the op computes in, so FP16 must not make them float16: Resize's roi and
// scales (Resize-13: roi is T2, scales tensor(float); onnxconverter-common
// keeps them float too). The same inputs keep float32 initializers in
// FP16Weights: a scale rounded to float16 can change the output size,
// and they are shape parameters, not weights.
var keepFloat32 = map[string][]int{"Resize": {1, 2}}

func keepsFloat32(n *node, i int) bool { return slices.Contains(keepFloat32[n.op], i) }

// halfConv rewrites a copy of a graph for one precision: head holds the
// Casts that run before the graph's nodes (after inputs and initializers),
// tail those after them (before outputs).
type halfConv struct {
	h          *Graph
	nodeNames  map[string]bool
	head, tail []node
}

// convert returns a copy of g (already checked) rewritten for g.Precision,
// with Precision "" so that Marshal writes it as it is; g is left as it
// was. The writer records no intermediate value_info, so only the graph
// inputs, outputs and initializers carry element types; ONNX Runtime infers
// the rest. FLOAT attributes (BatchNormalization's epsilon) are float32
// whatever the op computes in, and the writer has no TENSOR attributes, so
// float constants are all initializers.
func (g *Graph) convert() (*Graph, error) {
	p, err := ParsePrecision(string(g.Precision))
	if err != nil {
		return nil, fmt.Errorf("onnxbuild: graph %q: %w", g.Name, err)
	}
	h := &Graph{
		Name: g.Name, Doc: g.Doc,
		meta:    slices.Clone(g.meta),
		inits:   slices.Clone(g.inits),
		inputs:  slices.Clone(g.inputs),
		outputs: slices.Clone(g.outputs),
		shapes:  g.shapes,
		uses:    maps.Clone(g.uses),
		counter: g.counter, flops: g.flops, params: g.params,
	}
	c := &halfConv{h: h, nodeNames: map[string]bool{}}
	produced := map[string]bool{}
	for _, n := range g.nodes {
		n.inputs, n.outputs, n.attrs = slices.Clone(n.inputs), slices.Clone(n.outputs), slices.Clone(n.attrs)
		h.nodes = append(h.nodes, n)
		c.nodeNames[n.name] = true
		for _, o := range n.outputs {
			produced[o] = true
		}
	}
	if p == FP32 {
		return h, nil
	}
	for _, v := range h.outputs {
		if !produced[v.name] {
			return nil, fmt.Errorf("onnxbuild: graph %q: precision %s: output %q is a graph input or initializer, not a node output", g.Name, p, v.name)
		}
	}
	if !slices.ContainsFunc(h.meta, func(m metaEntry) bool { return m.key == "segtool.precision" }) {
		h.meta = append(h.meta, metaEntry{"segtool.precision", string(p)})
	}

	switch p {
	case FP16IO:
		for i := range h.inputs {
			v := &h.inputs[i]
			x := c.unique(v.name + "_fp32")
			c.redirect(v.name, x, false)
			c.head = append(c.head, c.cast(v.name, x, TypeFloat))
			v.elem = TypeFloat16
		}
		for i := range h.outputs {
			c.castOutput(&h.outputs[i], "_fp32", TypeFloat16)
		}
	case FP16Weights:
		for i := range h.inits {
			t := &h.inits[i]
			if t.f32 == nil || c.readAtKeep(t.name) {
				continue
			}
			if err := c.toHalf(t); err != nil {
				return nil, err
			}
			if c.read(t.name) {
				x := c.unique(t.name + "_fp32")
				c.redirect(t.name, x, false)
				c.head = append(c.head, c.cast(t.name, x, TypeFloat))
			}
		}
	case FP16:
		// Inputs and float32-only initializers reach the float16 ops
		// through a Cast; float32-only inputs still read the original.
		for i := range h.inputs {
			c.castForHalf(h.inputs[i].name)
		}
		for i := range h.inits {
			t := &h.inits[i]
			switch {
			case t.f32 == nil:
			case c.readAtKeep(t.name):
				c.castForHalf(t.name)
			default:
				if err := c.toHalf(t); err != nil {
					return nil, err
				}
			}
		}
		for i := range h.outputs {
			c.castOutput(&h.outputs[i], "_fp16", TypeFloat)
		}
		// Casts inside the graph to float now go to float16, and node
		// outputs (float16 now) read at a float32-only input are cast back.
		var body []node
		back := map[string]string{}
		known := h.sourceNames()
		for _, n := range h.nodes {
			if n.op == "Cast" {
				for j, a := range n.attrs {
					if a.Name == "to" && a.typ == attrInt && a.i == TypeFloat {
						n.attrs[j].i = TypeFloat16
					}
				}
			}
			for i, x := range n.inputs {
				if x == "" || known[x] || !keepsFloat32(&n, i) {
					continue
				}
				if back[x] == "" {
					back[x] = c.unique(x + "_fp32")
					body = append(body, c.cast(x, back[x], TypeFloat))
				}
				n.inputs[i] = back[x]
			}
			body = append(body, n)
		}
		h.nodes = body
	}
	h.nodes = slices.Concat(c.head, h.nodes, c.tail)
	return h, nil
}

// unique returns base if no tensor has that name yet, else a fresh name
// starting with it, and claims it.
func (c *halfConv) unique(base string) string {
	n := base
	if c.h.uses[n] {
		n = c.h.fresh(base)
	}
	c.h.uses[n] = true
	return n
}

// cast returns a Cast node from x to y with element type to.
func (c *halfConv) cast(x, y string, to int64) node {
	name := "Cast_" + y
	for i := 1; c.nodeNames[name]; i++ {
		name = fmt.Sprintf("Cast_%s_%d", y, i)
	}
	c.nodeNames[name] = true
	return node{op: "Cast", name: name, inputs: []string{x}, outputs: []string{y}, attrs: []Attr{AttrInt("to", to)}}
}

// redirect makes the graph's nodes read to where they read from; with
// skipKeep, inputs in keepFloat32 positions keep reading from.
func (c *halfConv) redirect(from, to string, skipKeep bool) {
	for j := range c.h.nodes {
		n := &c.h.nodes[j]
		for i, x := range n.inputs {
			if x == from && !(skipKeep && keepsFloat32(n, i)) {
				n.inputs[i] = to
			}
		}
	}
}

// read reports whether any node reads x; readAtKeep whether one reads it
// in a keepFloat32 position.
func (c *halfConv) read(x string) bool { return c.readsAt(x, func(*node, int) bool { return true }) }

func (c *halfConv) readAtKeep(x string) bool { return c.readsAt(x, keepsFloat32) }

// readsAt reports whether a node reads x as an input i for which at holds.
func (c *halfConv) readsAt(x string, at func(n *node, i int) bool) bool {
	for j := range c.h.nodes {
		n := &c.h.nodes[j]
		for i, in := range n.inputs {
			if in == x && at(n, i) {
				return true
			}
		}
	}
	return false
}

// castForHalf gives the readers of float32 tensor x, except those in
// keepFloat32 positions, a Cast of it to float16.
func (c *halfConv) castForHalf(x string) {
	if !c.readsAt(x, func(n *node, i int) bool { return !keepsFloat32(n, i) }) {
		return
	}
	y := c.unique(x + "_fp16")
	c.redirect(x, y, true)
	c.head = append(c.head, c.cast(x, y, TypeFloat16))
}

// castOutput renames graph output v's tensor inside the graph (name plus
// suffix) and adds a Cast to element type to that writes v.
func (c *halfConv) castOutput(v *valueInfo, suffix string, to int64) {
	x := c.unique(v.name + suffix)
	c.redirect(v.name, x, false)
	for j := range c.h.nodes {
		n := &c.h.nodes[j]
		for i := range n.outputs {
			if n.outputs[i] == v.name {
				n.outputs[i] = x
			}
		}
	}
	c.tail = append(c.tail, c.cast(x, v.name, to))
	v.elem = int32(to)
}

// toHalf stores float initializer t as float16 (round to nearest even),
// failing on a finite value beyond float16's range rather than writing inf.
func (c *halfConv) toHalf(t *initializer) error {
	b := make([]uint16, len(t.f32))
	for i, v := range t.f32 {
		h := float16.Fromfloat32(v)
		if h.IsInf(0) && !math.IsInf(float64(v), 0) {
			return fmt.Errorf("onnxbuild: graph %q: initializer %q value %g overflows float16 (largest finite 65504)", c.h.Name, t.name, v)
		}
		b[i] = h.Bits()
	}
	t.f32, t.f16 = nil, b
	return nil
}
