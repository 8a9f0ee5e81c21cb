package coco

// RLE is a binary mask run-length encoded in column-major order, as
// pycocotools keeps it: Counts alternate runs of 0s and 1s, starting
// with 0s, and sum to H·W.
type RLE struct {
	H, W   int
	Counts []uint32
}

// Image is one image of a COCO file.
type Image struct {
	ID       int    `json:"id"`
	FileName string `json:"file_name"`
	Width    int    `json:"width"`
	Height   int    `json:"height"`
}

// Category is one category of a COCO file.
type Category struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// Annotation is one ground-truth object. BBox is [x, y, w, h].
type Annotation struct {
	ID         int
	ImageID    int
	CategoryID int
	BBox       [4]float64
	Area       float64
	IsCrowd    bool
	Mask       *RLE // nil for box-only ground truth
}

// Detection is one result of a model. BBox is [x, y, w, h].
type Detection struct {
	ImageID    int
	CategoryID int
	Score      float64
	BBox       [4]float64
	Mask       *RLE // nil for box-only results
	// Area is what the area ranges test, as the area pycocotools' loadRes
	// gives a result: its box's w·h when the file's first result has a
	// bbox (for both IoU types), else its mask's pixel count. 0 leaves it
	// to Evaluate: the box's w·h for boxes, the mask's count for masks.
	Area float64
}
