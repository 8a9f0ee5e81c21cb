package onnxbuild

func resNet50UNetArch() Arch {
	return Arch{
		Name:      "resnet50-unet",
		Framework: "pytorch",
		Doc: "ResNet-50 U-Net (PyTorch, NCHW): torchvision ResNet-50 v1.5 encoder (He et al. 2016; stride in the 3x3 conv), " +
			"U-Net decoder as segmentation_models_pytorch's Unet (channels 256,128,64,32,16; nearest 2x upsampling, " +
			"skip concat, 2x(3x3 conv+BN+ReLU)), 3x3 conv head to 1 channel + sigmoid",
		Width: 512, Height: 512, Multiple: 32, MinSize: 32,
		Input: "input", Output: "output", Layout: "NCHW", Order: "RGB",
		// torchvision ImageNet normalisation.
		Scale: 1.0 / 255, Mean: [3]float32{0.485, 0.456, 0.406}, Std: [3]float32{0.229, 0.224, 0.225},
		Kind: "sigmoid", OutputChannels: 1,
		build: buildResNet50UNet,
	}
}

// bottleneck is torchvision's Bottleneck: 1x1 to width, 3x3 with the
// stride, 1x1 to 4*width, each with BN, ReLU after the residual add; the
// shortcut is a strided 1x1 conv + BN when the shape changes.
func bottleneck(g *Graph, n *net, x string, width, stride int) string {
	y := n.cbr(x, width, 1, 1, 1)
	y = n.cbr(y, width, 3, stride, 1)
	y = n.bn(n.conv(y, 4*width, 1, 1, 1, 1, false))
	short := x
	if stride != 1 || g.Dim(x, 1) != 4*width {
		short = n.bn(n.conv(x, 4*width, 1, stride, 1, 1, false))
	}
	return g.Relu(g.Add(y, short))
}

func buildResNet50UNet(g *Graph, n *net, w, h int, batch Dim) {
	x := nchwIn(g, "input", batch, w, h)
	stem := n.cbr(x, 64, 7, 2, 1)
	x = g.MaxPool(stem, PoolAttrs{Kernel: [2]int{3, 3}, Stride: [2]int{2, 2}, Pads: [4]int{1, 1, 1, 1}})
	skips := []string{stem}
	for i, l := range [][2]int{{64, 3}, {128, 4}, {256, 6}, {512, 3}} {
		for j := range l[1] {
			s := 1
			if j == 0 && i > 0 {
				s = 2
			}
			x = bottleneck(g, n, x, l[0], s)
		}
		skips = append(skips, x)
	}
	// skips: stem /2, layer1 /4, layer2 /8, layer3 /16, layer4 /32 (= x).
	for i, f := range []int{256, 128, 64, 32, 16} {
		x = g.Resize(x, 2*g.Dim(x, 2), 2*g.Dim(x, 3), ResizeNearest)
		if k := len(skips) - 2 - i; k >= 0 {
			x = g.Concat(1, x, skips[k])
		}
		x = n.cbr(n.cbr(x, f, 3, 1, 1), f, 3, 1, 1)
	}
	x = g.Sigmoid(n.conv(x, 1, 3, 1, 1, 1, true))
	g.Output("output", x, outDims(g, x, batch)...)
}
