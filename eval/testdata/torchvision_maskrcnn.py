# Exports torchvision's Mask R-CNN (ResNet-50 FPN, random weights: no
# download) to ONNX as torchvision's own ONNX test does, small input sizes
# so that it runs in seconds: python3 torchvision_maskrcnn.py OUT.onnx
import sys

import torch
import torchvision

torch.manual_seed(0)
m = torchvision.models.detection.maskrcnn_resnet50_fpn(
    weights=None, weights_backbone=None, num_classes=2, min_size=48, max_size=64, box_score_thresh=0.0)
m.eval()
x = torch.rand(3, 30, 40)
torch.onnx.export(m, ([x],), sys.argv[1], opset_version=11, input_names=["images"],
                  output_names=["boxes", "labels", "scores", "masks"],
                  dynamic_axes={"images": [1, 2], "boxes": [0], "labels": [0], "scores": [0], "masks": [0, 2, 3]})
