package onnxbuild

func fastSCNNArch() Arch {
	return Arch{
		Name:      "fast-scnn",
		Framework: "pytorch",
		Doc: "Fast-SCNN (Poudel et al. 2019; layout of Tramac/Fast-SCNN-pytorch): learning to downsample (conv, 2 DSConv, /8), " +
			"global feature extractor (3x3 bottleneck stages t=6: 64 /2, 96 /2, 128; pyramid pooling 1,2,3,6), " +
			"feature fusion (4x bilinear, depthwise conv, 1x1 convs, add), classifier (2 DSConv, 1x1 conv) " +
			"to 2-class logits, 8x bilinear upsampling (align_corners)",
		Width: 512, Height: 512, Multiple: 32, MinSize: 192,
		Input: "input", Output: "output", Layout: "NCHW", Order: "RGB",
		Scale: 1.0 / 255, Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225},
		Kind: "logits2", Foreground: 1, OutputChannels: 2,
		build: buildFastSCNN,
	}
}

// dsconv is a depthwise separable conv: 3x3 depthwise (stride s) + BN +
// ReLU, then 1x1 pointwise + BN + ReLU.
func dsconv(g *Graph, n *net, x string, cout, s int) string {
	c := g.Dim(x, 1)
	y := g.Relu(n.bn(n.conv(x, c, 3, s, 1, c, false)))
	return g.Relu(n.bn(n.conv(y, cout, 1, 1, 1, 1, false)))
}

// linearBottleneck is Fast-SCNN's MobileNetV2-style block with ReLU.
func linearBottleneck(g *Graph, n *net, x string, cout, t, s int) string {
	cin := g.Dim(x, 1)
	y := n.cbr(x, cin*t, 1, 1, 1)
	y = g.Relu(n.bn(n.conv(y, cin*t, 3, s, 1, cin*t, false)))
	y = n.bn(n.conv(y, cout, 1, 1, 1, 1, false))
	if s == 1 && cin == cout {
		y = g.Add(x, y)
	}
	return y
}

// pyramidPooling pools x to b x b for each bin (as an AveragePool with the
// kernel and stride that PyTorch's export of adaptive pooling uses), 1x1
// conv to C/4 + BN + ReLU, bilinear back up, concat with x, 1x1 conv.
func pyramidPooling(g *Graph, n *net, x string, cout int) string {
	c, h, w := g.Dim(x, 1), g.Dim(x, 2), g.Dim(x, 3)
	if g.Err() != nil {
		return ""
	}
	parts := []string{x}
	for _, b := range []int{1, 2, 3, 6} {
		var p string
		if b == 1 {
			p = g.GlobalAveragePool(x)
		} else {
			// adaptive_avg_pool2d(b) as a fixed AveragePool, the usual
			// export workaround: stride floor(in/b), kernel in-(b-1)*stride
			// per axis; the same bins as adaptive pooling when b divides in.
			sy, sx := h/b, w/b
			k := [2]int{h - (b-1)*sy, w - (b-1)*sx}
			p = g.AveragePool(x, PoolAttrs{Kernel: k, Stride: [2]int{sy, sx}})
		}
		p = n.cbr(p, c/4, 1, 1, 1)
		parts = append(parts, g.Resize(p, h, w, ResizeLinearAlignCorners))
	}
	return n.cbr(g.Concat(1, parts...), cout, 1, 1, 1)
}

func buildFastSCNN(g *Graph, n *net, w, h int, batch Dim) {
	in := nchwIn(g, "input", batch, w, h)
	// Learning to downsample: /8.
	x := n.cbr(in, 32, 3, 2, 1)
	x = dsconv(g, n, x, 48, 2)
	high := dsconv(g, n, x, 64, 2)
	// Global feature extractor: /32.
	x = high
	for _, st := range [][3]int{{64, 3, 2}, {96, 3, 2}, {128, 3, 1}} {
		for i := range st[1] {
			s := 1
			if i == 0 {
				s = st[2]
			}
			x = linearBottleneck(g, n, x, st[0], 6, s)
		}
	}
	x = pyramidPooling(g, n, x, 128)
	// Feature fusion at /8.
	low := g.Resize(x, g.Dim(high, 2), g.Dim(high, 3), ResizeLinearAlignCorners)
	low = g.Relu(n.bn(n.conv(low, 128, 3, 1, 1, 128, false)))
	low = n.bn(n.conv(low, 128, 1, 1, 1, 1, true))
	hi := n.bn(n.conv(high, 128, 1, 1, 1, 1, true))
	x = g.Relu(g.Add(hi, low))
	// Classifier and upsampling to the input size.
	x = dsconv(g, n, x, 128, 1)
	x = dsconv(g, n, x, 128, 1)
	x = n.conv(x, 2, 1, 1, 1, 1, true)
	x = g.Resize(x, h, w, ResizeLinearAlignCorners)
	g.Output("output", x, outDims(g, x, batch)...)
}
