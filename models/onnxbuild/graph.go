package onnxbuild

import (
	"fmt"
	"math"
	"slices"
	"strconv"
)

// Model constants written by Marshal. IR version 8 is the one that goes
// with opset 17 (onnx/docs/Versioning.md); ONNX Runtime 1.30 reads both.
const (
	IRVersion = 8
	Opset     = 17
	Producer  = "segtool-onnxbuild"
)

// Dim is one dimension of a graph input or output. A non-empty Param makes
// it symbolic (dynamic) in the file; Value is then only the size the
// builder assumes for shape tracking and FLOP counting.
type Dim struct {
	Value int64
	Param string
}

// Fixed returns a static dimension.
func Fixed(v int64) Dim { return Dim{Value: v} }

// Dynamic returns a symbolic dimension named param; assume is the size used
// for shape tracking and FLOPs (1 for a batch dimension gives per-image FLOPs).
func Dynamic(param string, assume int64) Dim { return Dim{Value: assume, Param: param} }

func (d Dim) String() string {
	if d.Param != "" {
		return d.Param
	}
	if d.Value <= 0 {
		return "?"
	}
	return strconv.FormatInt(d.Value, 10)
}

// Attribute types, AttributeProto.AttributeType in onnx.proto.
const (
	attrFloat   = 1
	attrInt     = 2
	attrString  = 3
	attrFloats  = 6
	attrInts    = 7
	attrStrings = 8
)

// Attr is one node attribute; build it with AttrInt, AttrInts, AttrFloat,
// AttrFloats or AttrString.
type Attr struct {
	Name   string
	typ    int
	i      int64
	f      float32
	s      string
	ints   []int64
	floats []float32
}

// AttrInt returns an INT attribute.
func AttrInt(name string, v int64) Attr { return Attr{Name: name, typ: attrInt, i: v} }

// AttrInts returns an INTS attribute.
func AttrInts(name string, v ...int64) Attr {
	return Attr{Name: name, typ: attrInts, ints: slices.Clone(v)}
}

// AttrFloat returns a FLOAT attribute.
func AttrFloat(name string, v float32) Attr { return Attr{Name: name, typ: attrFloat, f: v} }

// AttrFloats returns a FLOATS attribute.
func AttrFloats(name string, v ...float32) Attr {
	return Attr{Name: name, typ: attrFloats, floats: slices.Clone(v)}
}

// AttrString returns a STRING attribute.
func AttrString(name, v string) Attr { return Attr{Name: name, typ: attrString, s: v} }

type node struct {
	op      string
	name    string
	inputs  []string
	outputs []string
	attrs   []Attr
}

// Tensor element types, TensorProto.DataType in onnx.proto.
const (
	TypeFloat   = 1
	TypeInt64   = 7
	TypeFloat16 = 10
)

type initializer struct {
	name string
	dims []int64
	f32  []float32 // TypeFloat
	i64  []int64   // TypeInt64
	f16  []uint16  // TypeFloat16 (IEEE half bits); only Marshal's precision conversion sets it
}

type valueInfo struct {
	name string
	elem int32
	dims []Dim
}

type metaEntry struct{ key, value string }

// Graph builds one ONNX graph. Op methods add a node and return the name
// of its output. The builder tracks every tensor's concrete shape (symbolic
// dims at their assumed size) so that it can check shapes, count FLOPs and
// size later ops. The first error sticks: later calls do nothing and
// return "", and Err and Marshal report it, so builders need not check
// every call.
type Graph struct {
	Name      string    // GraphProto.name
	Doc       string    // ModelProto.doc_string (ORT's metadata "description")
	Precision Precision // how Marshal writes it: FP32 (or ""), FP16IO, FP16Weights, FP16

	nodes   []node
	inits   []initializer
	inputs  []valueInfo
	outputs []valueInfo
	meta    []metaEntry
	shapes  map[string][]int64
	uses    map[string]bool // names taken by inputs, initializers and node outputs
	counter int
	flops   int64
	params  int64
	err     error
}

// NewGraph returns an empty graph.
func NewGraph(name string) *Graph {
	return &Graph{Name: name, shapes: map[string][]int64{}, uses: map[string]bool{}}
}

// Err returns the first error any builder call hit.
func (g *Graph) Err() error { return g.err }

func (g *Graph) fail(format string, args ...any) string {
	if g.err == nil {
		g.err = fmt.Errorf("onnxbuild: graph %q: %s", g.Name, fmt.Sprintf(format, args...))
	}
	return ""
}

// FLOPs returns the FLOPs of one pass with every symbolic dim at its
// assumed size: 2 per multiply-add in Conv and ConvTranspose (bias adds not
// counted), the window size per output element of a pool, 2 per element
// for BatchNormalization and 1 per output element for every other op
// (Add, Mul, Relu, Clip, Sigmoid, Softmax, Resize); Concat, Transpose and
// Identity count 0.
func (g *Graph) FLOPs() int64 { return g.flops }

// Params returns the number of elements in all initializers.
func (g *Graph) Params() int64 { return g.params }

// Shape returns the tracked shape of a tensor (nil when unknown).
func (g *Graph) Shape(name string) []int64 { return slices.Clone(g.shapes[name]) }

// Dim returns dimension i of x's tracked shape, or 0 (and the graph's
// error set) when x has no tracked shape or rank <= i.
func (g *Graph) Dim(x string, i int) int {
	sh, ok := g.shapes[x]
	if !ok || i < 0 || i >= len(sh) {
		if g.err == nil {
			g.fail("no dim %d for tensor %q (shape %v)", i, x, sh)
		}
		return 0
	}
	return int(sh[i])
}

// SetMeta adds a metadata_props entry (kept in call order).
func (g *Graph) SetMeta(key, value string) { g.meta = append(g.meta, metaEntry{key, value}) }

func (g *Graph) claim(name string) bool {
	if name == "" {
		g.fail("empty tensor name")
		return false
	}
	if g.uses[name] {
		g.fail("tensor name %q used twice", name)
		return false
	}
	g.uses[name] = true
	return true
}

// fresh returns an unused name with the given prefix.
func (g *Graph) fresh(prefix string) string {
	for {
		g.counter++
		n := prefix + "_" + strconv.Itoa(g.counter)
		if !g.uses[n] {
			return n
		}
	}
}

// Input declares a float32 graph input.
func (g *Graph) Input(name string, dims ...Dim) string {
	if g.err != nil || !g.claim(name) {
		return ""
	}
	shape := make([]int64, len(dims))
	for i, d := range dims {
		if d.Value <= 0 {
			return g.fail("input %q dim %d: assumed size %d, want > 0", name, i, d.Value)
		}
		shape[i] = d.Value
	}
	g.inputs = append(g.inputs, valueInfo{name: name, elem: TypeFloat, dims: slices.Clone(dims)})
	g.shapes[name] = shape
	return name
}

// Output declares tensor x as a graph output called name, renaming x when
// the names differ (x must then not be a graph input or initializer).
// Without dims the tracked shape is written as static dims.
func (g *Graph) Output(name, x string, dims ...Dim) {
	if g.err != nil {
		return
	}
	shape, ok := g.shapes[x]
	if !ok {
		g.fail("output %q: unknown tensor %q", name, x)
		return
	}
	if x != name {
		if !g.claim(name) {
			return
		}
		produced := false
		for i := range g.nodes {
			for j, in := range g.nodes[i].inputs {
				if in == x {
					g.nodes[i].inputs[j] = name
				}
			}
			for j, out := range g.nodes[i].outputs {
				if out == x {
					g.nodes[i].outputs[j] = name
					produced = true
				}
			}
		}
		if !produced {
			g.fail("output %q: tensor %q is not a node output", name, x)
			return
		}
		delete(g.shapes, x)
		delete(g.uses, x)
		g.shapes[name] = shape
	}
	if dims == nil {
		for _, v := range shape {
			dims = append(dims, Fixed(v))
		}
	}
	if len(dims) != len(shape) {
		g.fail("output %q: %d dims declared, tensor has rank %d", name, len(dims), len(shape))
		return
	}
	for i, d := range dims {
		if d.Value != shape[i] {
			g.fail("output %q dim %d: declared %d, tracked %d", name, i, d.Value, shape[i])
			return
		}
	}
	g.outputs = append(g.outputs, valueInfo{name: name, elem: TypeFloat, dims: slices.Clone(dims)})
}

func numel(dims []int64) int64 {
	n := int64(1)
	for _, d := range dims {
		n *= d
	}
	return n
}

// Constant adds a float32 initializer; data is row-major with len = product
// of dims (a 0-d scalar has no dims and one value). The graph keeps data.
func (g *Graph) Constant(name string, dims []int64, data []float32) string {
	if g.err != nil || !g.claim(name) {
		return ""
	}
	if numel(dims) != int64(len(data)) {
		return g.fail("initializer %q: %d values for dims %v", name, len(data), dims)
	}
	g.inits = append(g.inits, initializer{name: name, dims: slices.Clone(dims), f32: data})
	g.shapes[name] = slices.Clone(dims)
	g.params += int64(len(data))
	return name
}

// ConstantInt64 adds an int64 initializer.
func (g *Graph) ConstantInt64(name string, dims []int64, data []int64) string {
	if g.err != nil || !g.claim(name) {
		return ""
	}
	if numel(dims) != int64(len(data)) {
		return g.fail("initializer %q: %d values for dims %v", name, len(data), dims)
	}
	g.inits = append(g.inits, initializer{name: name, dims: slices.Clone(dims), i64: slices.Clone(data)})
	g.shapes[name] = slices.Clone(dims)
	g.params += int64(len(data))
	return name
}

// Node adds any op without shape tracking: its outputs get fresh names and
// unknown shapes, so ops after it that need shapes fail. Use it for ops the
// typed methods do not cover, near the end of a graph.
func (g *Graph) Node(op string, inputs []string, nOut int, attrs ...Attr) []string {
	if g.err != nil {
		return nil
	}
	for _, in := range inputs {
		if in != "" && !g.uses[in] {
			g.fail("%s: unknown input %q", op, in)
			return nil
		}
	}
	outs := make([]string, nOut)
	for i := range outs {
		outs[i] = g.fresh(op)
		g.uses[outs[i]] = true
	}
	g.nodes = append(g.nodes, node{op: op, name: op + "_" + strconv.Itoa(len(g.nodes)), inputs: slices.Clone(inputs), outputs: outs, attrs: attrs})
	return outs
}

// add appends a node with one output of the given shape.
func (g *Graph) add(op string, inputs []string, shape []int64, flops int64, attrs ...Attr) string {
	out := g.fresh(op)
	g.uses[out] = true
	g.shapes[out] = shape
	g.flops += flops
	g.nodes = append(g.nodes, node{op: op, name: op + "_" + strconv.Itoa(len(g.nodes)), inputs: inputs, outputs: []string{out}, attrs: attrs})
	return out
}

// need returns the tracked shapes of xs, failing on unknown names or
// shapes and on ranks other than rank (rank < 0: any).
func (g *Graph) need(op string, rank int, xs ...string) ([][]int64, bool) {
	if g.err != nil {
		return nil, false
	}
	out := make([][]int64, len(xs))
	for i, x := range xs {
		s, ok := g.shapes[x]
		if !ok {
			g.fail("%s: input %q unknown or without a tracked shape", op, x)
			return nil, false
		}
		if rank >= 0 && len(s) != rank {
			g.fail("%s: input %q has rank %d, want %d", op, x, len(s), rank)
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

// ConvAttrs are the attributes of Conv and ConvTranspose. Zero Stride,
// Dilation and Group mean 1. Pads are [top, left, bottom, right], ONNX's
// [x1_begin, x2_begin, x1_end, x2_end] for NCHW.
type ConvAttrs struct {
	Stride, Dilation, Group int
	Pads                    [4]int
	OutputPadding           [2]int // ConvTranspose only: extra rows, columns at the end
}

func (a ConvAttrs) norm() ConvAttrs {
	if a.Stride == 0 {
		a.Stride = 1
	}
	if a.Dilation == 0 {
		a.Dilation = 1
	}
	if a.Group == 0 {
		a.Group = 1
	}
	return a
}

func (a ConvAttrs) attrs(k [2]int64, transpose bool) []Attr {
	s, d := int64(a.Stride), int64(a.Dilation)
	at := []Attr{
		AttrInts("kernel_shape", k[0], k[1]),
		AttrInts("strides", s, s),
		AttrInts("dilations", d, d),
		AttrInts("pads", int64(a.Pads[0]), int64(a.Pads[1]), int64(a.Pads[2]), int64(a.Pads[3])),
		AttrInt("group", int64(a.Group)),
	}
	if transpose && a.OutputPadding != [2]int{} {
		at = append(at, AttrInts("output_padding", int64(a.OutputPadding[0]), int64(a.OutputPadding[1])))
	}
	return at
}

// Conv adds a 2-D convolution of NCHW x with weights w [M, C/group, kh, kw]
// and optional bias b [M] ("" for none).
func (g *Graph) Conv(x, w, b string, a ConvAttrs) string {
	a = a.norm()
	in := []string{x, w}
	if b != "" {
		in = append(in, b)
	}
	sh, ok := g.need("Conv", -1, in...)
	if !ok {
		return ""
	}
	xs, ws := sh[0], sh[1]
	if len(xs) != 4 || len(ws) != 4 {
		return g.fail("Conv: want rank-4 input and weights, got %v and %v", xs, ws)
	}
	n, c, h, wd := xs[0], xs[1], xs[2], xs[3]
	m, cg, kh, kw := ws[0], ws[1], ws[2], ws[3]
	gr := int64(a.Group)
	if c%gr != 0 || m%gr != 0 || cg != c/gr {
		return g.fail("Conv: input %v, weights %v, group %d do not match", xs, ws, gr)
	}
	if b != "" && (len(sh[2]) != 1 || sh[2][0] != m) {
		return g.fail("Conv: bias %v for %d output channels", sh[2], m)
	}
	d, s := int64(a.Dilation), int64(a.Stride)
	oh := (h+int64(a.Pads[0]+a.Pads[2])-((kh-1)*d+1))/s + 1
	ow := (wd+int64(a.Pads[1]+a.Pads[3])-((kw-1)*d+1))/s + 1
	if oh <= 0 || ow <= 0 {
		return g.fail("Conv: input %v with kernel %dx%d gives %dx%d output", xs, kh, kw, oh, ow)
	}
	flops := 2 * n * m * oh * ow * cg * kh * kw
	return g.add("Conv", in, []int64{n, m, oh, ow}, flops, a.attrs([2]int64{kh, kw}, false)...)
}

// ConvTranspose adds a 2-D transposed convolution of NCHW x with weights
// w [C, M/group, kh, kw] and optional bias b [M].
func (g *Graph) ConvTranspose(x, w, b string, a ConvAttrs) string {
	a = a.norm()
	in := []string{x, w}
	if b != "" {
		in = append(in, b)
	}
	sh, ok := g.need("ConvTranspose", -1, in...)
	if !ok {
		return ""
	}
	xs, ws := sh[0], sh[1]
	if len(xs) != 4 || len(ws) != 4 {
		return g.fail("ConvTranspose: want rank-4 input and weights, got %v and %v", xs, ws)
	}
	n, c, h, wd := xs[0], xs[1], xs[2], xs[3]
	gr := int64(a.Group)
	if ws[0] != c || c%gr != 0 {
		return g.fail("ConvTranspose: input %v, weights %v, group %d do not match", xs, ws, gr)
	}
	mg, kh, kw := ws[1], ws[2], ws[3]
	m := mg * gr
	if b != "" && (len(sh[2]) != 1 || sh[2][0] != m) {
		return g.fail("ConvTranspose: bias %v for %d output channels", sh[2], m)
	}
	d, s := int64(a.Dilation), int64(a.Stride)
	oh := s*(h-1) + int64(a.OutputPadding[0]) + (kh-1)*d + 1 - int64(a.Pads[0]+a.Pads[2])
	ow := s*(wd-1) + int64(a.OutputPadding[1]) + (kw-1)*d + 1 - int64(a.Pads[1]+a.Pads[3])
	if oh <= 0 || ow <= 0 {
		return g.fail("ConvTranspose: input %v gives %dx%d output", xs, oh, ow)
	}
	// Every input pixel scatters into M/group x kh x kw outputs per channel.
	flops := 2 * n * c * h * wd * mg * kh * kw
	return g.add("ConvTranspose", in, []int64{n, m, oh, ow}, flops, a.attrs([2]int64{kh, kw}, true)...)
}

// BatchNorm adds inference-mode BatchNormalization over channel axis 1 with
// per-channel scale, bias, running mean and variance tensors.
func (g *Graph) BatchNorm(x, scale, bias, mean, variance string, eps float32) string {
	sh, ok := g.need("BatchNormalization", -1, x, scale, bias, mean, variance)
	if !ok {
		return ""
	}
	if len(sh[0]) < 2 {
		return g.fail("BatchNormalization: input rank %d", len(sh[0]))
	}
	c := sh[0][1]
	for _, p := range sh[1:] {
		if len(p) != 1 || p[0] != c {
			return g.fail("BatchNormalization: parameter shape %v for %d channels", p, c)
		}
	}
	return g.add("BatchNormalization", []string{x, scale, bias, mean, variance}, slices.Clone(sh[0]),
		2*numel(sh[0]), AttrFloat("epsilon", eps))
}

func (g *Graph) unary(op string, x string, attrs ...Attr) string {
	sh, ok := g.need(op, -1, x)
	if !ok {
		return ""
	}
	return g.add(op, []string{x}, slices.Clone(sh[0]), numel(sh[0]), attrs...)
}

// Relu adds max(x, 0).
func (g *Graph) Relu(x string) string { return g.unary("Relu", x) }

// Sigmoid adds 1/(1+exp(-x)).
func (g *Graph) Sigmoid(x string) string { return g.unary("Sigmoid", x) }

// Softmax adds a softmax over axis.
func (g *Graph) Softmax(x string, axis int) string {
	return g.unary("Softmax", x, AttrInt("axis", int64(axis)))
}

// Identity adds a copy of x (free in ONNX Runtime, which removes it).
func (g *Graph) Identity(x string) string {
	sh, ok := g.need("Identity", -1, x)
	if !ok {
		return ""
	}
	return g.add("Identity", []string{x}, slices.Clone(sh[0]), 0)
}

// Clip adds min(max(x, lo), hi); lo 0, hi 6 is ReLU6. The bounds become
// scalar initializers (Clip takes them as inputs since opset 11).
func (g *Graph) Clip(x string, lo, hi float32) string {
	sh, ok := g.need("Clip", -1, x)
	if !ok {
		return ""
	}
	l := g.scalar(lo)
	h := g.scalar(hi)
	return g.add("Clip", []string{x, l, h}, slices.Clone(sh[0]), numel(sh[0]))
}

// scalar returns a 0-d float initializer holding v, shared per value.
func (g *Graph) scalar(v float32) string {
	name := "const_" + strconv.FormatUint(uint64(math.Float32bits(v)), 16)
	if _, ok := g.shapes[name]; ok {
		return name
	}
	return g.Constant(name, nil, []float32{v})
}

// broadcast returns the numpy-broadcast shape of a and b.
func broadcast(a, b []int64) ([]int64, bool) {
	n := max(len(a), len(b))
	out := make([]int64, n)
	for i := range n {
		da, db := int64(1), int64(1)
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db || db == 1:
			out[i] = da
		case da == 1:
			out[i] = db
		default:
			return nil, false
		}
	}
	return out, true
}

func (g *Graph) binary(op, a, b string) string {
	sh, ok := g.need(op, -1, a, b)
	if !ok {
		return ""
	}
	out, ok := broadcast(sh[0], sh[1])
	if !ok {
		return g.fail("%s: shapes %v and %v do not broadcast", op, sh[0], sh[1])
	}
	return g.add(op, []string{a, b}, out, numel(out))
}

// Add adds a + b with numpy broadcasting.
func (g *Graph) Add(a, b string) string { return g.binary("Add", a, b) }

// Mul adds a * b with numpy broadcasting.
func (g *Graph) Mul(a, b string) string { return g.binary("Mul", a, b) }

// Concat joins xs along axis (negative counts from the end).
func (g *Graph) Concat(axis int, xs ...string) string {
	if len(xs) == 0 {
		return g.fail("Concat: no inputs")
	}
	sh, ok := g.need("Concat", -1, xs...)
	if !ok {
		return ""
	}
	r := len(sh[0])
	ax := axis
	if ax < 0 {
		ax += r
	}
	if ax < 0 || ax >= r {
		return g.fail("Concat: axis %d for rank %d", axis, r)
	}
	out := slices.Clone(sh[0])
	out[ax] = 0
	for _, s := range sh {
		if len(s) != r {
			return g.fail("Concat: ranks differ: %v", sh)
		}
		for i := range s {
			if i != ax && s[i] != out[i] {
				return g.fail("Concat on axis %d: shapes %v differ off the axis", ax, sh)
			}
		}
		out[ax] += s[ax]
	}
	return g.add("Concat", slices.Clone(xs), out, 0, AttrInt("axis", int64(axis)))
}

// Transpose permutes the axes of x: output axis i is input axis perm[i].
func (g *Graph) Transpose(x string, perm ...int) string {
	sh, ok := g.need("Transpose", len(perm), x)
	if !ok {
		return ""
	}
	out := make([]int64, len(perm))
	p := make([]int64, len(perm))
	seen := make([]bool, len(perm))
	for i, a := range perm {
		if a < 0 || a >= len(perm) || seen[a] {
			return g.fail("Transpose: bad perm %v", perm)
		}
		seen[a] = true
		out[i] = sh[0][a]
		p[i] = int64(a)
	}
	return g.add("Transpose", []string{x}, out, 0, AttrInts("perm", p...))
}

// PoolAttrs are the attributes of MaxPool and AveragePool: Kernel and
// Stride are {rows, columns}; a zero Stride means the kernel size. Pads as
// in ConvAttrs. Output sizes round down (ceil_mode 0).
type PoolAttrs struct {
	Kernel, Stride [2]int
	Pads           [4]int
}

func (g *Graph) pool(op string, x string, a PoolAttrs) string {
	sh, ok := g.need(op, 4, x)
	if !ok {
		return ""
	}
	for i := range 2 {
		if a.Stride[i] == 0 {
			a.Stride[i] = a.Kernel[i]
		}
		if a.Kernel[i] <= 0 || a.Stride[i] <= 0 {
			return g.fail("%s: kernel %v stride %v", op, a.Kernel, a.Stride)
		}
	}
	kh, kw := int64(a.Kernel[0]), int64(a.Kernel[1])
	sh0, sw := int64(a.Stride[0]), int64(a.Stride[1])
	xs := sh[0]
	oh := (xs[2]+int64(a.Pads[0]+a.Pads[2])-kh)/sh0 + 1
	ow := (xs[3]+int64(a.Pads[1]+a.Pads[3])-kw)/sw + 1
	if oh <= 0 || ow <= 0 {
		return g.fail("%s: input %v with kernel %v gives %dx%d output", op, xs, a.Kernel, oh, ow)
	}
	out := []int64{xs[0], xs[1], oh, ow}
	return g.add(op, []string{x}, out, numel(out)*kh*kw,
		AttrInts("kernel_shape", kh, kw), AttrInts("strides", sh0, sw),
		AttrInts("pads", int64(a.Pads[0]), int64(a.Pads[1]), int64(a.Pads[2]), int64(a.Pads[3])))
}

// MaxPool adds 2-D max pooling of NCHW x.
func (g *Graph) MaxPool(x string, a PoolAttrs) string { return g.pool("MaxPool", x, a) }

// AveragePool adds 2-D average pooling of NCHW x (padding excluded from
// the average, count_include_pad 0).
func (g *Graph) AveragePool(x string, a PoolAttrs) string { return g.pool("AveragePool", x, a) }

// GlobalAveragePool averages each channel of NCHW x to 1x1.
func (g *Graph) GlobalAveragePool(x string) string {
	sh, ok := g.need("GlobalAveragePool", 4, x)
	if !ok {
		return ""
	}
	xs := sh[0]
	return g.add("GlobalAveragePool", []string{x}, []int64{xs[0], xs[1], 1, 1}, numel(xs))
}

// Resize modes for Graph.Resize.
const (
	// ResizeNearest: PyTorch/Keras nearest upsampling (asymmetric
	// coordinates, floor), exact for integer factors.
	ResizeNearest = "nearest"
	// ResizeLinear: bilinear with half_pixel coordinates (PyTorch
	// align_corners=False, TF2 resize).
	ResizeLinear = "linear"
	// ResizeLinearAlignCorners: bilinear with align_corners coordinates
	// (PyTorch align_corners=True).
	ResizeLinearAlignCorners = "linear_align_corners"
)

// Resize scales NCHW x to outH x outW with the given mode, by per-axis
// scales so that the batch dimension may stay dynamic. Each scale is the
// smallest float32 whose exact product with the input size is at least the
// target, so ONNX Runtime's floor(in*scale) lands on the target size.
func (g *Graph) Resize(x string, outH, outW int, mode string) string {
	sh, ok := g.need("Resize", 4, x)
	if !ok {
		return ""
	}
	xs := sh[0]
	if outH <= 0 || outW <= 0 {
		return g.fail("Resize: target %dx%d", outH, outW)
	}
	var attrs []Attr
	switch mode {
	case ResizeNearest:
		attrs = []Attr{AttrString("mode", "nearest"), AttrString("coordinate_transformation_mode", "asymmetric"), AttrString("nearest_mode", "floor")}
	case ResizeLinear:
		attrs = []Attr{AttrString("mode", "linear"), AttrString("coordinate_transformation_mode", "half_pixel")}
	case ResizeLinearAlignCorners:
		attrs = []Attr{AttrString("mode", "linear"), AttrString("coordinate_transformation_mode", "align_corners")}
	default:
		return g.fail("Resize: unknown mode %q", mode)
	}
	scales := []float32{1, 1, resizeScale(xs[2], int64(outH)), resizeScale(xs[3], int64(outW))}
	sc := g.Constant(g.fresh("resize_scales"), []int64{4}, scales)
	out := []int64{xs[0], xs[1], int64(outH), int64(outW)}
	return g.add("Resize", []string{x, "", sc}, out, numel(out), attrs...)
}

// resizeScale returns the smallest float32 s with in*s >= out exactly.
func resizeScale(in, out int64) float32 {
	s := float32(float64(out) / float64(in))
	for float64(in)*float64(s) < float64(out) {
		s = math.Nextafter32(s, float32(math.Inf(1)))
	}
	for {
		p := math.Nextafter32(s, 0)
		if float64(in)*float64(p) < float64(out) {
			return s
		}
		s = p
	}
}
