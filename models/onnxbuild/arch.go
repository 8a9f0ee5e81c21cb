package onnxbuild

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Options select one build of an architecture.
type Options struct {
	Width, Height int       // input size; 0 = the arch's default
	Seed          uint64    // weight stream; the same seed gives the same bytes
	Batch         int       // 0 = dynamic batch dimension "N"; n > 0 = fixed n
	Precision     Precision // "" = FP32; FP16IO, FP16Weights or FP16 write an fp16 variant
}

// Arch describes one buildable architecture: how to feed it and read its
// output. Layout, Order, Scale, Mean, Std and Kind use the same words and
// formula as models.Spec: x = (p*Scale - Mean[c]) / Std[c] for a pixel p in
// 0..255, c the model channel (already in Order). The weights are random, so
// the preprocessing is the convention of the original framework and model
// family, not something the weights depend on.
type Arch struct {
	Name      string
	Framework string // "tensorflow" (Keras via tf2onnx: NHWC I/O, SAME pads), "pytorch", or "" (oracle)
	Doc       string // one line: what the graph is, with its reference

	Width, Height int  // default input size
	Multiple      int  // Width and Height must be multiples of this
	MinSize       int  // and at least this
	Dynamic       bool // input H and W are symbolic (Width, Height 0; the oracle)

	Input          string // input tensor name
	Output         string // output tensor name
	Layout         string // "NHWC" or "NCHW", input and output alike
	Order          string // "RGB" or "BGR"
	Scale          float32
	Mean, Std      [3]float32
	Kind           string // "sigmoid" or "logits2" (models.OutputKind values)
	Foreground     int    // channel of the person class for logits2
	OutputChannels int

	build func(g *Graph, n *net, w, h int, batch Dim) // declares the input, adds the layers, declares the output
}

// Model is one built architecture.
type Model struct {
	Arch          Arch
	Width, Height int
	Data          []byte // the ONNX file
	FLOPs         int64  // per image (per pixel when Arch.Dynamic), see Graph.FLOPs
	Params        int64
}

// Archs returns the buildable architectures, sorted by name.
func Archs() []Arch {
	as := []Arch{oracleArch(), unetASPPArch(), mobileNetV2UNetArch(), resNet50UNetArch(), fastSCNNArch(), stateSumArch(), priorMixArch(), toyInstancesArch()}
	sort.Slice(as, func(i, j int) bool { return as[i].Name < as[j].Name })
	return as
}

// ArchNames returns the names Archs knows, sorted.
func ArchNames() []string {
	var ns []string
	for _, a := range Archs() {
		ns = append(ns, a.Name)
	}
	return ns
}

// LookupArch returns the architecture called name.
func LookupArch(name string) (Arch, error) {
	for _, a := range Archs() {
		if a.Name == name {
			return a, nil
		}
	}
	return Arch{}, fmt.Errorf("onnxbuild: unknown architecture %q (known: %s)", name, strings.Join(ArchNames(), ", "))
}

// Build builds the architecture called name.
func Build(name string, o Options) (Model, error) {
	a, err := LookupArch(name)
	if err != nil {
		return Model{}, err
	}
	return a.Build(o)
}

// Size returns the input size o asks for, defaults filled, or an error when
// it breaks the arch's Multiple or MinSize.
func (a Arch) Size(o Options) (w, h int, err error) {
	w, h = o.Width, o.Height
	if w == 0 {
		w = a.Width
	}
	if h == 0 {
		h = a.Height
	}
	if a.Dynamic {
		return w, h, nil
	}
	for _, v := range []int{w, h} {
		if v < a.MinSize || (a.Multiple > 1 && v%a.Multiple != 0) {
			return 0, 0, fmt.Errorf("onnxbuild: %s: size %dx%d: width and height must be multiples of %d and at least %d",
				a.Name, w, h, a.Multiple, a.MinSize)
		}
	}
	return w, h, nil
}

// Build builds the architecture with o.
func (a Arch) Build(o Options) (Model, error) {
	w, h, err := a.Size(o)
	if err != nil {
		return Model{}, err
	}
	if o.Batch < 0 {
		return Model{}, fmt.Errorf("onnxbuild: %s: batch %d", a.Name, o.Batch)
	}
	if _, err := ParsePrecision(string(o.Precision)); err != nil {
		return Model{}, err
	}
	batch := Dynamic("N", 1)
	if o.Batch > 0 {
		batch = Fixed(int64(o.Batch))
	}
	g := NewGraph(strings.ReplaceAll(a.Name, "-", "_"))
	g.Doc = a.Doc
	g.Precision = o.Precision // before build: the oracle picks float16-safe weights
	g.SetMeta("segtool.arch", a.Name)
	g.SetMeta("segtool.seed", strconv.FormatUint(o.Seed, 10))
	if a.Dynamic {
		g.SetMeta("segtool.size", "dynamic")
	} else {
		g.SetMeta("segtool.size", fmt.Sprintf("%dx%d", w, h))
	}
	a.build(g, newNet(g, o.Seed, a.Framework == "tensorflow"), w, h, batch)
	data, err := g.Marshal()
	if err != nil {
		return Model{}, err
	}
	// FLOPs are counted with the batch dimension at 1 or at its fixed size.
	flops := g.FLOPs()
	if o.Batch > 0 {
		flops /= int64(o.Batch)
	}
	return Model{Arch: a, Width: w, Height: h, Data: data, FLOPs: flops, Params: g.Params()}, nil
}

// fp32Only fails g, for the toy arch, unless it is built in fp32 (the
// default), and reports whether the build may go on.
func fp32Only(g *Graph, arch string) bool {
	if g.Precision == "" || g.Precision == FP32 {
		return true
	}
	g.fail("%s is built in fp32 only", arch)
	return false
}

// nhwcIn declares an NHWC float input and transposes it to NCHW, as tf2onnx
// does for Keras models (ONNX Runtime's transpose optimizer then moves or
// fuses the transposes, as it would in a real export).
func nhwcIn(g *Graph, name string, batch Dim, w, h int) string {
	x := g.Input(name, batch, Fixed(int64(h)), Fixed(int64(w)), Fixed(3))
	return g.Transpose(x, 0, 3, 1, 2)
}

// nhwcOut transposes NCHW x back to NHWC and declares it as output name.
func nhwcOut(g *Graph, name, x string, batch Dim) {
	y := g.Transpose(x, 0, 2, 3, 1)
	g.Output(name, y, outDims(g, y, batch)...)
}

// nchwIn declares an NCHW float input.
func nchwIn(g *Graph, name string, batch Dim, w, h int) string {
	return g.Input(name, batch, Fixed(3), Fixed(int64(h)), Fixed(int64(w)))
}

// outDims returns x's tracked shape as dims with batch as the first one.
func outDims(g *Graph, x string, batch Dim) []Dim {
	sh := g.shapes[x]
	if len(sh) == 0 {
		return nil
	}
	dims := []Dim{batch}
	for _, v := range sh[1:] {
		dims = append(dims, Fixed(v))
	}
	return dims
}
