package onnxbuild

func unetASPPArch() Arch {
	return Arch{
		Name:      "unet-aspp",
		Framework: "tensorflow",
		Doc: "U-Net with ASPP (Keras layout, tf2onnx-style NHWC I/O): 4 encoder blocks of 2x(3x3 conv+BN+ReLU) " +
			"with 2x2 max-pool between them, ASPP at 1/8 (1x1 and 3x3 rates 6/12/18 + image pooling, concat, 1x1), " +
			"3 decoder stages of 2x2 stride-2 ConvTranspose + skip concat + 2x(3x3 conv+BN+ReLU), 1x1 conv + sigmoid " +
			"(Ronneberger et al. 2015; Chen et al. 2017, DeepLabv3 ASPP)",
		Width: 800, Height: 600, Multiple: 8, MinSize: 8,
		Input: "input_1", Output: "output", Layout: "NHWC", Order: "BGR",
		Scale: 1, Mean: [3]float32{0, 0, 0}, Std: [3]float32{1, 1, 1},
		Kind: "sigmoid", OutputChannels: 1,
		build: buildUNetASPP,
	}
}

func buildUNetASPP(g *Graph, n *net, w, h int, batch Dim) {
	// Encoder block widths; the ASPP and the decoder follow from them.
	filters := []int{32, 64, 128, 256}
	x := nhwcIn(g, "input_1", batch, w, h)
	var skips []string
	for i, f := range filters {
		if i > 0 {
			x = g.MaxPool(x, PoolAttrs{Kernel: [2]int{2, 2}})
		}
		x = n.cbr(n.cbr(x, f, 3, 1, 1), f, 3, 1, 1)
		skips = append(skips, x)
	}
	x = aspp(g, n, x, filters[3], []int{6, 12, 18})
	for i := len(filters) - 2; i >= 0; i-- {
		f := filters[i]
		x = g.Relu(n.bn(n.upT(x, f, 2, true)))
		x = g.Concat(1, x, skips[i])
		x = n.cbr(n.cbr(x, f, 3, 1, 1), f, 3, 1, 1)
	}
	x = g.Sigmoid(n.conv(x, 1, 1, 1, 1, 1, true))
	nhwcOut(g, "output", x, batch)
}

// aspp is DeepLabv3's atrous spatial pyramid pooling: a 1x1 conv, 3x3 convs
// at the given dilation rates and an image-pooling branch (global average,
// 1x1 conv, bilinear upsampling), concatenated and fused by a 1x1 conv.
func aspp(g *Graph, n *net, x string, f int, rates []int) string {
	branches := []string{n.cbr(x, f, 1, 1, 1)}
	for _, r := range rates {
		branches = append(branches, n.cbr(x, f, 3, 1, r))
	}
	p := n.cbr(g.GlobalAveragePool(x), f, 1, 1, 1)
	branches = append(branches, g.Resize(p, g.Dim(x, 2), g.Dim(x, 3), ResizeLinear))
	return n.cbr(g.Concat(1, branches...), f, 1, 1, 1)
}
