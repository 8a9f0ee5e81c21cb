package models

import (
	"slices"
)

// presetList holds the built-in specs. Adding a model is one entry here;
// `go test ./models -run TestPresetFiles -update` then writes its
// configs/models/<name>.yaml.
func presetList() []Spec {
	// Per-channel constants in the model's channel order.
	var (
		unit = [3]float32{1, 1, 1}
		half = [3]float32{0.5, 0.5, 0.5}
		inv  = float32(1.0 / 255)
		// torchvision's ImageNet statistics, on p/255.
		imagenetMean = [3]float32{0.485, 0.456, 0.406}
		imagenetStd  = [3]float32{0.229, 0.224, 0.225}
		sinet        = Spec{
			Input: "data", Layout: NCHW, Width: 320, Height: 320, Batch: 1,
			// ((p - mean) / std) / 255 in BGR: the division by 255 comes after
			// the standardisation, as the exported model was fed.
			Order: BGR, Scale: 1, PostScale: inv,
			Mean:       [3]float32{102.890434, 111.25247, 126.91212},
			Std:        [3]float32{62.93292, 62.82138, 66.355705},
			Foreground: 1,
		}
	)
	sinetSource := "../shared/models/README.md; anilsathyan7/Portrait-Segmentation SINet/sinet.cpp and SINet/SINet.py " +
		"(resize 320x320, BGR, x = ((p - mean) / std) / 255, mean/std B,G,R; output channel 1 = person)"

	logits := sinet
	logits.Name, logits.Output, logits.Kind = "sinet", "classifier/1", Logits2
	logits.Source = sinetSource + "; output classifier/1 holds logits"
	soft := sinet
	soft.Name, soft.Output, soft.Kind = "sinet-softmax", "Softmax/1", Softmax2
	soft.Source = sinetSource + "; output Softmax/1 holds probabilities"

	return []Spec{
		logits,
		soft,
		{
			Name: "prisma", Input: "input_3", Output: "permute_2",
			Layout: NCHW, Width: 256, Height: 256,
			Order: RGB, Scale: inv, Std: unit, PostScale: 1, Kind: Sigmoid,
			Source: "../shared/models/README.md; anilsathyan7/Portrait-Segmentation " +
				"(resize 256x256, RGB, x = p/255; [-1,1] scored close, so this is the best-known guess)",
		},
		{
			Name: "unet-aspp", Input: "input_1", Output: "output",
			Layout: NHWC, OutputLayout: NHWC, Width: 800, Height: 600,
			Order: BGR, Scale: 1, Std: unit, PostScale: 1, Kind: Sigmoid,
			Source: "issue 6: TensorFlow U-Net+ASPP portrait model, NHWC 800x600, OpenCV BGR, 0..255 unnormalised, " +
				"sigmoid; names as built by models/onnxbuild",
		},
		{
			// The reference resizes the short side towards 512 keeping the
			// aspect, rounds both sides down to a multiple of 32 and uses
			// INTER_AREA; segtool's fixed default is 512x512, linear.
			Name: "modnet", Input: "input", Output: "output",
			Layout: NCHW, Width: 512, Height: 512, Multiple: 32,
			Order: RGB, Scale: inv, Mean: half, Std: half, PostScale: 1, Kind: Sigmoid, Matte: true,
			Source: "ZHKKKe/MODNet onnx/export_onnx.py (input 'input' [N,3,H,W] dynamic, output 'output' [N,1,H,W]) and " +
				"onnx/inference_onnx.py (RGB, (p - 127.5) / 127.5, ref_size 512, sides multiple of 32, matte in [0,1])",
		},
		{
			// Paddle exports name the input x and the output after an
			// internal tensor: left empty, Detect takes the only ones.
			Name:   "pp-humanseg",
			Layout: NCHW, Width: 256, Height: 144,
			Order: RGB, Scale: inv, Mean: half, Std: half, PostScale: 1, Kind: Softmax2, Foreground: 1,
			Source: "PaddlePaddle/PaddleSeg contrib/PP-HumanSeg: PP-HumanSegV2-Lite portrait, 256x144 (W x H) " +
				"inference model with softmax (README; configs/portrait_pp_humansegv2_lite.yml: Resize [256,144] + Normalize); " +
				"paddleseg/transforms: Compose to_rgb, Normalize mean 0.5 std 0.5 after /255, linear resize; " +
				"src/infer.py reads channel 1 as the person. opencv/opencv_zoo human_segmentation_pphumanseg " +
				"(input x, 192x192) uses the same normalisation",
		},
		{
			// ISNet returns six side outputs; the first (d1) is the prediction,
			// and Detect takes the first output when none is named.
			Name:   "isnet",
			Layout: NCHW, Width: 1024, Height: 1024,
			Order: RGB, Scale: inv, Mean: half, Std: unit, PostScale: 1, Kind: Sigmoid,
			Source: "xuebinqin/DIS IS-Net/Inference.py (RGB, bilinear resize to 1024x1024, p/255, normalize mean 0.5 std 1.0; " +
				"reads result[0][0]) and IS-Net/models/isnet.py (outputs sigmoid(d1..d6)); the reference also " +
				"min-max stretches each prediction, which segtool does not",
		},
		{
			Name: "oracle", Input: "image", Output: "prob",
			Layout: NCHW,
			Order:  RGB, Scale: 1, Std: unit, PostScale: 1, Kind: Sigmoid,
			Source: "models/onnxbuild Oracle: input image [N,3,H,W] any size, raw RGB 0..255 (x = p), output prob [N,1,H,W] = sigmoid(1024*(R-127.5)): exactly 1 where R >= 128, else 0",
		},
		{
			// The input is left unnamed: torchvision's own ONNX test names it
			// images_tensors, most export scripts images; Detect takes the only one.
			Name:   "torchvision-maskrcnn",
			Layout: CHW,
			Order:  RGB, Scale: inv, Std: unit, PostScale: 1, Kind: Instances,
			Instance: InstanceSpec{Boxes: "boxes", Labels: "labels", Scores: "scores", Masks: "masks",
				BoxFormat: BoxXYXY, MaskFormat: MaskImage, PersonLabel: COCOPerson},
			Source: "torchvision models/detection (GeneralizedRCNNTransform normalises and resizes inside the graph, so the input is " +
				"RGB p/255 [3,H,W] at the image's own size; roi_heads paste_masks_in_image returns masks [N,1,H,W] at the input size; " +
				"COCO labels, person = 1) and pytorch test/onnx test_mask_rcnn (output_names boxes, labels, scores, masks; " +
				"dynamic input and detection axes)",
		},
		{
			Name: "maskrcnn-toy", Input: "images",
			Layout: CHW,
			Order:  RGB, Scale: inv, Std: unit, PostScale: 1, Kind: Instances,
			Instance: InstanceSpec{Boxes: "boxes", Labels: "labels", Scores: "scores", Masks: "masks",
				BoxFormat: BoxXYXY, MaskFormat: MaskImage, PersonLabel: COCOPerson},
			Source: "segtool models build maskrcnn-toy (onnxbuild.ToyInstances: torchvision Mask R-CNN's signature; one detection " +
				"per RGB channel whose largest value is > 0.05: mask = channel > 0, box = its extent, score = its largest value, labels 1, 1, 18)",
		},
		// The benchmark architectures of segtool models build: random weights,
		// the preprocessing convention of each original framework.
		{
			Name: "mobilenetv2-unet", Input: "input_1", Output: "output",
			Layout: NHWC, OutputLayout: NHWC, Width: 224, Height: 224,
			Order: RGB, Scale: inv, Mean: half, Std: half, PostScale: 1, Kind: Sigmoid,
			Source: "segtool models build mobilenetv2-unet (Keras MobileNetV2 encoder, TensorFlow segmentation tutorial taps; x = (p/255 - 0.5)/0.5)",
		},
		{
			Name: "resnet50-unet", Input: "input", Output: "output",
			Layout: NCHW, Width: 512, Height: 512,
			Order: RGB, Scale: inv, Mean: imagenetMean, Std: imagenetStd, PostScale: 1, Kind: Sigmoid,
			Source: "segtool models build resnet50-unet (torchvision ResNet-50 encoder, segmentation_models_pytorch-style Unet decoder; ImageNet mean/std)",
		},
		{
			Name: "fast-scnn", Input: "input", Output: "output",
			Layout: NCHW, Width: 512, Height: 512,
			Order: RGB, Scale: inv, Mean: imagenetMean, Std: imagenetStd, PostScale: 1, Kind: Logits2, Foreground: 1,
			Source: "segtool models build fast-scnn (Poudel et al. 2019, Tramac/Fast-SCNN-pytorch; ImageNet mean/std; 2-class logits, channel 1 = person)",
		},
	}
}

// Presets returns the built-in model specs by name.
func Presets() map[string]Spec {
	m := map[string]Spec{}
	for _, s := range presetList() {
		m[s.Name] = s
	}
	return m
}

// PresetNames returns the preset names, sorted.
func PresetNames() []string {
	var names []string
	for _, s := range presetList() {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	return names
}
