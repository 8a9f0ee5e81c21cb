package onnxbuild

import "fmt"

// Tensor names of the toy instance model, those of torchvision's Mask
// R-CNN export (pytorch test/onnx test_mask_rcnn: output_names boxes,
// labels, scores, masks).
const (
	ToyInstancesInput  = "images" // float32 [3,H,W], RGB in 0..1, H and W dynamic
	ToyInstancesBoxes  = "boxes"  // float32 [N,4], x1, y1, x2, y2 in input pixels
	ToyInstancesLabels = "labels" // int64 [N]
	ToyInstancesScores = "scores" // float32 [N]
	ToyInstancesMasks  = "masks"  // float32 [N,1,H,W], 0 or 1
)

// toyInstancesLabels are the labels of the detections the toy
// instance model reads from input channels R, G and B: COCO person (1)
// twice, then COCO dog (18), so that a test sees a non-person label.
var toyInstancesLabels = [3]int64{1, 1, 18}

// ToyInstancesLabel returns the label of the toy model's detection from
// input channel c (0 R, 1 G, 2 B).
func ToyInstancesLabel(c int) int64 { return toyInstancesLabels[c] }

// ToyInstancesMinScore is the score a channel needs for its detection to
// be kept, torchvision's box_score_thresh default (0.05).
const ToyInstancesMinScore = 0.05

// ToyInstances builds the toy instance model. It has the signature of
// torchvision's Mask R-CNN export and outputs that follow exactly from the
// input: each input channel c (R, G, B) is one candidate detection with
//
//	masks[c]  = 1 where images[c] > 0, else 0 (at the input's size)
//	boxes[c]  = the extent of that mask: x1 = min x, y1 = min y, x2 = max x + 1,
//	            y2 = max y + 1 (pixel edges, as torchvision's boxes)
//	scores[c] = the channel's largest value
//	labels[c] = 1, 1, 18 for R, G, B (ToyInstancesLabel)
//
// and a candidate is output only where its score is > 0.05
// (ToyInstancesMinScore), in channel order, not sorted by score. Fed
// x = p/255, an image whose channel c is v > 12 inside a region and 0
// elsewhere yields one detection with score v/255 and that region as its
// mask; an all-black image yields none.
func ToyInstances() ([]byte, error) {
	g := NewGraph("maskrcnn_toy")
	g.Doc = toyInstancesDoc
	buildToyInstances(g)
	return g.Marshal()
}

const toyInstancesDoc = "maskrcnn-toy: torchvision Mask R-CNN's signature (images [3,H,W] RGB 0..1 -> boxes, labels, scores, masks); " +
	"one detection per input channel c whose largest value is > 0.05: mask = images[c] > 0, box = the mask's extent (x2 = max x + 1), " +
	"score = the channel's largest value, label 1, 1, 18 for R, G, B"

func buildToyInstances(g *Graph) {
	x := g.Input(ToyInstancesInput, Fixed(3), Dynamic("H", 1), Dynamic("W", 1))
	one := func(op string, attrs []Attr, in ...string) string {
		out := g.Node(op, in, 1, attrs...)
		if out == nil {
			return ""
		}
		return out[0]
	}
	i64 := func(name string, dims []int64, v ...int64) string {
		return g.ConstantInt64(g.fresh(name), dims, v)
	}
	f32 := func(name string, v float32) string { return g.Constant(g.fresh(name), nil, []float32{v}) }
	toFloat := []Attr{AttrInt("to", TypeFloat)}
	reduce := func(in string, axes ...int64) string {
		return one("ReduceMax", []Attr{AttrInts("axes", axes...), AttrInt("keepdims", 0)}, in)
	}

	bin := one("Cast", toFloat, one("Greater", nil, x, f32("zero", 0))) // [3,H,W]
	shape := one("Shape", nil, x)
	// extent returns (min, max + 1) of the mask along input axis dim (1 = y,
	// 2 = x): the mask's profile along it times the coordinate, reduced.
	extent := func(dim int64) (lo, hi string) {
		n := one("Gather", []Attr{AttrInt("axis", 0)}, shape, i64("dim", nil, dim))
		nf := one("Cast", toFloat, n)
		coord := one("Cast", toFloat, one("Range", nil, i64("start", nil, 0), n, i64("step", nil, 1)))
		other := 3 - dim // the axis reduced away to get the profile
		profile := reduce(bin, other)
		hi = reduce(one("Mul", nil, profile, one("Add", nil, coord, f32("one", 1))), 1)
		lo = one("Sub", nil, nf, reduce(one("Mul", nil, profile, one("Sub", nil, nf, coord)), 1))
		return lo, hi
	}
	x1, x2 := extent(2)
	y1, y2 := extent(1)
	axis1 := i64("axis1", []int64{1}, 1)
	col := func(v string) string { return one("Unsqueeze", nil, v, axis1) }
	boxes := one("Concat", []Attr{AttrInt("axis", 1)}, col(x1), col(y1), col(x2), col(y2)) // [3,4]
	scores := reduce(x, 1, 2)                                                              // [3]
	keep := one("Greater", nil, scores, f32("min_score", ToyInstancesMinScore))
	labels := g.ConstantInt64("labels_all", []int64{3}, toyInstancesLabels[:])
	masks := one("Unsqueeze", nil, bin, axis1) // [3,1,H,W]

	n := Dynamic("detections", 1)
	for _, o := range []struct {
		name, x string
		elem    int32
		dims    []Dim
	}{
		{ToyInstancesBoxes, boxes, TypeFloat, []Dim{n, Fixed(4)}},
		{ToyInstancesLabels, labels, TypeInt64, []Dim{n}},
		{ToyInstancesScores, scores, TypeFloat, []Dim{n}},
		{ToyInstancesMasks, masks, TypeFloat, []Dim{n, Fixed(1), Dynamic("H", 1), Dynamic("W", 1)}},
	} {
		g.outputAs(o.name, one("Compress", []Attr{AttrInt("axis", 0)}, o.x, keep), o.elem, o.dims)
	}
}

// outputAs declares the output of a node added by Node (whose shape is not
// tracked) as graph output name with element type elem and dims: an
// Identity from x to name.
func (g *Graph) outputAs(name, x string, elem int32, dims []Dim) {
	if g.err != nil || !g.claim(name) {
		return
	}
	if !g.uses[x] {
		g.fail("output %q: unknown tensor %q", name, x)
		return
	}
	g.nodes = append(g.nodes, node{op: "Identity", name: fmt.Sprintf("Identity_%d", len(g.nodes)), inputs: []string{x}, outputs: []string{name}})
	g.outputs = append(g.outputs, valueInfo{name: name, elem: elem, dims: dims})
}

func toyInstancesArch() Arch {
	return Arch{
		Name:    "maskrcnn-toy",
		Doc:     toyInstancesDoc,
		Dynamic: true, Multiple: 1, MinSize: 1,
		Input: ToyInstancesInput, Layout: "CHW", Order: "RGB",
		Scale: 1.0 / 255, Mean: [3]float32{0, 0, 0}, Std: [3]float32{1, 1, 1},
		Kind: "instances",
		build: func(g *Graph, _ *net, _, _ int, batch Dim) {
			if !fp32Only(g, "maskrcnn-toy") {
				return
			}
			if batch.Param == "" {
				g.fail("maskrcnn-toy has no batch dimension (one [3,H,W] image, as torchvision's export)")
				return
			}
			buildToyInstances(g)
		},
	}
}
