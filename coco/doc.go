// Package coco owns the COCO formats and metrics: the run-length encoding
// of masks (RLE, with the compressed counts string), results files, and
// box and mask average precision and recall defined as pycocotools'
// COCOeval defines them.
package coco
