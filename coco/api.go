package coco

import (
	"errors"
	"io"
)

// ErrNotImplemented marks a contract body not yet written.
var ErrNotImplemented = errors.New("coco: not implemented yet")

// IoUType says what Evaluate overlaps: boxes or masks.
type IoUType string

// The IoU types, named as pycocotools names them.
const (
	BoxIoU  IoUType = "bbox"
	MaskIoU IoUType = "segm"
)

// StatNames are the 12 summary statistics in pycocotools' summarize order.
var StatNames = [12]string{"ap", "ap50", "ap75", "ap_s", "ap_m", "ap_l", "ar1", "ar10", "ar100", "ar_s", "ar_m", "ar_l"}

// Params are COCOeval's parameters.
type Params struct {
	IoUThrs  []float64    // .50:.05:.95
	RecThrs  []float64    // 0:.01:1, 101 points
	MaxDets  []int        // 1, 10, 100
	AreaRngs [][2]float64 // all, small, medium, large
	AreaLbls []string
}

// DefaultParams are COCOeval's defaults for instance segmentation and
// detection.
func DefaultParams() Params { return Params{} }

// Result is one evaluation's outcome.
type Result struct {
	// Stats in StatNames order; -1 where pycocotools gives -1 (no ground
	// truth in that range).
	Stats [12]float64
}

// Evaluate scores dets against gts over images as COCOeval does for t.
func Evaluate(images []Image, gts []Annotation, dets []Detection, t IoUType, p Params) (*Result, error) {
	return nil, ErrNotImplemented
}

// PR is the precision at each of Params.RecThrs at one IoU threshold
// (area all, the largest maxDets, averaged over categories); -1 where
// undefined.
func (r *Result) PR(iouThr float64) (recall, precision []float64) { return nil, nil }

// ImageMatches is one image's greedy matches at one IoU threshold (area
// all, the largest maxDets), crowd and ignored objects left out.
type ImageMatches struct {
	ImageID    int
	TP, FP, FN int
}

// Matches returns every image's matches at iouThr, in image id order.
func (r *Result) Matches(iouThr float64) []ImageMatches { return nil }

// ReadResults reads a COCO results file (a list of detections with
// image_id, category_id, score, bbox [x,y,w,h] and optional segmentation
// as compressed or uncompressed RLE or polygons) against the images and
// categories it must refer to. Detections reaching outside their image
// are clipped and counted in clipped.
func ReadResults(r io.Reader, images []Image, cats []Category) (dets []Detection, clipped int, err error) {
	return nil, 0, ErrNotImplemented
}

// File is a COCO dataset file as segtool exports it.
type File struct {
	Images      []Image          `json:"images"`
	Annotations []FileAnnotation `json:"annotations"`
	Categories  []Category       `json:"categories"`
}

// FileAnnotation is an annotation as written in a File: the mask as
// compressed RLE.
type FileAnnotation struct {
	ID           int        `json:"id"`
	ImageID      int        `json:"image_id"`
	CategoryID   int        `json:"category_id"`
	Segmentation FileRLE    `json:"segmentation"`
	BBox         [4]float64 `json:"bbox"`
	Area         float64    `json:"area"`
	IsCrowd      int        `json:"iscrowd"`
}

// FileRLE is a compressed RLE as JSON: size is [h, w].
type FileRLE struct {
	Size   [2]int `json:"size"`
	Counts string `json:"counts"`
}
