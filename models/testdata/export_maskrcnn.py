"""Export torchvision's Mask R-CNN (random weights) to ONNX and run it once.

Usage: python3 export_maskrcnn.py DIR W H

Reads DIR/image.bgr (H*W*3 bytes, 8-bit BGR rows, as OpenCV holds an
image), writes DIR/maskrcnn.onnx (input images [3,H,W] RGB 0..1; outputs
boxes, labels, scores, masks, as pytorch's test_mask_rcnn names them) and
DIR/reference.json: PyTorch's own boxes, labels, scores and the sum of
each mask, for the Go test to compare ONNX Runtime's run with.
"""
import json
import sys

import torch
import torchvision

out, w, h = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
torch.manual_seed(0)
# Random weights and no download; box_score_thresh 0 so that untrained
# class scores (about 1/91 each) still give detections. min_size/max_size
# keep the internal resize at the image's own size.
model = torchvision.models.detection.maskrcnn_resnet50_fpn(
    weights=None, weights_backbone=None, num_classes=91,
    min_size=min(w, h), max_size=max(w, h), box_score_thresh=0.0,
    box_detections_per_img=20)
model.eval()

with open(out + "/image.bgr", "rb") as f:
    bgr = torch.frombuffer(bytearray(f.read()), dtype=torch.uint8).reshape(h, w, 3)
img = bgr.flip(2).permute(2, 0, 1).float().contiguous() / 255

with torch.no_grad():
    torch.onnx.export(model, ([img],), out + "/maskrcnn.onnx", opset_version=11,
                      input_names=["images"], output_names=["boxes", "labels", "scores", "masks"],
                      dynamic_axes={"images": [1, 2], "boxes": [0], "labels": [0], "scores": [0], "masks": [0, 2, 3]})
    ref = model([img])[0]

json.dump({
    "boxes": ref["boxes"].tolist(),
    "labels": ref["labels"].tolist(),
    "scores": ref["scores"].tolist(),
    "mask_sums": ref["masks"].sum(dim=(1, 2, 3)).tolist(),
}, open(out + "/reference.json", "w"))
