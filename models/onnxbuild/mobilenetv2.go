package onnxbuild

func mobileNetV2UNetArch() Arch {
	return Arch{
		Name:      "mobilenetv2-unet",
		Framework: "tensorflow",
		Doc: "MobileNetV2 U-Net (Keras layout, NHWC I/O): MobileNetV2 encoder (Sandler et al. 2018, keras.applications, alpha 1) " +
			"tapped at block_1/3/6/13_expand_relu and block_16_project, decoder of 3x3 stride-2 ConvTranspose+BN+ReLU " +
			"(512, 256, 128, 64) with skip concats and a final 3x3 stride-2 ConvTranspose to 1 channel + sigmoid " +
			"(the TensorFlow image segmentation tutorial's U-Net)",
		Width: 224, Height: 224, Multiple: 32, MinSize: 32,
		Input: "input_1", Output: "output", Layout: "NHWC", Order: "RGB",
		// keras.applications.mobilenet_v2.preprocess_input: p/127.5 - 1.
		Scale: 1.0 / 255, Mean: [3]float32{0.5, 0.5, 0.5}, Std: [3]float32{0.5, 0.5, 0.5},
		Kind: "sigmoid", OutputChannels: 1,
		build: buildMobileNetV2UNet,
	}
}

// relu6 is Keras's ReLU(max_value=6), exported as Clip(0, 6).
func relu6(g *Graph, x string) string { return g.Clip(x, 0, 6) }

// invertedResidual is MobileNetV2's block: 1x1 expansion by t (skipped when
// t is 1) + BN + ReLU6, 3x3 depthwise with stride s + BN + ReLU6, linear 1x1
// projection + BN, and a residual add when shapes allow. It also returns the
// expansion's activation (Keras "block_i_expand_relu"), used as U-Net skip.
func invertedResidual(g *Graph, n *net, x string, t, cout, s int) (out, expanded string) {
	cin := g.Dim(x, 1)
	y := x
	if t != 1 {
		y = relu6(g, n.bn(n.conv(x, cin*t, 1, 1, 1, 1, false)))
	}
	expanded = y
	c := g.Dim(y, 1)
	y = relu6(g, n.bn(n.conv(y, c, 3, s, 1, c, false)))
	y = n.bn(n.conv(y, cout, 1, 1, 1, 1, false))
	if s == 1 && cin == cout {
		y = g.Add(x, y)
	}
	return y, expanded
}

func buildMobileNetV2UNet(g *Graph, n *net, w, h int, batch Dim) {
	x := nhwcIn(g, "input_1", batch, w, h)
	x = relu6(g, n.bn(n.conv(x, 32, 3, 2, 1, 1, false)))
	// (t, c, n, s) rows of Sandler et al. 2018, table 2.
	rows := [][4]int{{1, 16, 1, 1}, {6, 24, 2, 2}, {6, 32, 3, 2}, {6, 64, 4, 2}, {6, 96, 3, 1}, {6, 160, 3, 2}, {6, 320, 1, 1}}
	taps := map[int]bool{1: true, 3: true, 6: true, 13: true} // blocks whose expand_relu feeds the decoder
	var skips []string
	block := 0
	for _, r := range rows {
		for i := range r[2] {
			s := 1
			if i == 0 {
				s = r[3]
			}
			var e string
			x, e = invertedResidual(g, n, x, r[0], r[1], s)
			if taps[block] {
				skips = append(skips, e)
			}
			block++
		}
	}
	// x is block_16_project at 1/32.
	for i, f := range []int{512, 256, 128, 64} {
		x = g.Relu(n.bn(n.upT(x, f, 3, false)))
		x = g.Concat(1, x, skips[len(skips)-1-i])
	}
	x = g.Sigmoid(n.upT(x, 1, 3, true))
	nhwcOut(g, "output", x, batch)
}
