package onnxbuild

import (
	"math"
	"math/rand/v2"
	"strconv"
)

// net adds layers with deterministic random weights to a Graph. Weights are
// drawn in the order layers are added, from one PCG stream, so the same
// seed always gives the same bytes.
type net struct {
	g   *Graph
	rng *rand.Rand
	n   int
	tf  bool // TensorFlow "SAME" padding for strided convs (extra pixel at the end)
}

func newNet(g *Graph, seed uint64, tf bool) *net {
	// The second PCG word is a fixed constant so that Options.Seed alone
	// selects the stream.
	return &net{g: g, rng: rand.New(rand.NewPCG(seed, 0x5e67001)), tf: tf}
}

func (n *net) name(kind string) string {
	n.n++
	return kind + strconv.Itoa(n.n)
}

// he returns a weight tensor drawn from N(0, 2/fanIn), He et al. 2015
// ("Delving Deep into Rectifiers"), which keeps activation variance about
// constant through conv+ReLU stacks so deep random nets stay finite.
func (n *net) he(prefix string, dims []int64, fanIn int64) string {
	w := make([]float32, numel(dims))
	std := math.Sqrt(2 / float64(fanIn))
	for i := range w {
		w[i] = float32(n.rng.NormFloat64() * std)
	}
	return n.g.Constant(prefix, dims, w)
}

// fill returns a constant tensor of c values v.
func (n *net) fill(prefix string, c int64, v float32) string {
	d := make([]float32, c)
	for i := range d {
		d[i] = v
	}
	return n.g.Constant(prefix, []int64{c}, d)
}

// samePads returns the pads of a k x k conv with stride s and dilation d
// that keep size ceil(in/s): PyTorch-style symmetric (k-1)*d/2 unless the
// net is TensorFlow-style and strided, where SAME puts the odd pixel at the
// bottom/right (for even inputs).
func (n *net) samePads(k, s, d int) [4]int {
	total := (k - 1) * d
	if n.tf && s > 1 {
		total = max(k-s, 0)
		b := total / 2
		return [4]int{b, b, total - b, total - b}
	}
	p := total / 2
	return [4]int{p, p, total - p, total - p}
}

// conv adds a k x k conv (stride s, dilation d, groups g) with He weights,
// "same" padding and an optional zero bias.
func (n *net) conv(x string, cout, k, s, d, groups int, bias bool) string {
	cg := int64(n.g.Dim(x, 1) / groups)
	base := n.name("conv")
	w := n.he(base+".weight", []int64{int64(cout), cg, int64(k), int64(k)}, cg*int64(k*k))
	b := ""
	if bias {
		b = n.fill(base+".bias", int64(cout), 0)
	}
	return n.g.Conv(x, w, b, ConvAttrs{Stride: s, Dilation: d, Group: groups, Pads: n.samePads(k, s, d)})
}

// bn adds BatchNormalization with the parameters of a freshly initialised
// layer (scale 1, bias 0, running mean 0, running variance 1, eps 1e-5 as
// in PyTorch; Keras uses 1e-3, which changes nothing that matters here).
func (n *net) bn(x string) string {
	c := int64(n.g.Dim(x, 1))
	base := n.name("bn")
	return n.g.BatchNorm(x, n.fill(base+".scale", c, 1), n.fill(base+".bias", c, 0),
		n.fill(base+".mean", c, 0), n.fill(base+".var", c, 1), 1e-5)
}

// cbr is conv + BatchNormalization + ReLU.
func (n *net) cbr(x string, cout, k, s, d int) string {
	return n.g.Relu(n.bn(n.conv(x, cout, k, s, d, 1, false)))
}

// upT adds a k x k, stride-2 ConvTranspose that doubles H and W: k=2 with no
// padding, or k=3 with TensorFlow SAME padding (one pixel cropped at the
// bottom/right).
func (n *net) upT(x string, cout, k int, bias bool) string {
	cin := int64(n.g.Dim(x, 1))
	base := n.name("deconv")
	// Each output pixel receives cin*k*k/4 products on average.
	w := n.he(base+".weight", []int64{cin, int64(cout), int64(k), int64(k)}, max(cin*int64(k*k)/4, 1))
	b := ""
	if bias {
		b = n.fill(base+".bias", int64(cout), 0)
	}
	a := ConvAttrs{Stride: 2}
	if k == 3 {
		a.Pads = [4]int{0, 0, 1, 1}
	}
	return n.g.ConvTranspose(x, w, b, a)
}
