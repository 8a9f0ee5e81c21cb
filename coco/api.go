package coco

import (
	"errors"
	"io"
)

// ErrNotImplemented marks a contract body not yet written.
var ErrNotImplemented = errors.New("coco: not implemented yet")

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
