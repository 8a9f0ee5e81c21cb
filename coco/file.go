package coco

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

// ToFile is r as JSON.
func (r RLE) ToFile() FileRLE { return FileRLE{Size: [2]int{r.H, r.W}, Counts: r.String()} }

// RLE parses the counts string.
func (f FileRLE) RLE() (RLE, error) { return ParseCounts(f.Counts, f.Size[0], f.Size[1]) }
