package dataset

import (
	"path/filepath"
	"slices"
	"strings"
)

// The canonical layout's sample folders, relative to the dataset root.
const (
	ImagesDir    = "images"
	MasksDir     = "masks"
	AlphasDir    = "alphas"
	TrimapsDir   = "trimaps"
	InstancesDir = "instances"
)

// ImageExts lists the extensions segtool reads as images or labels, in
// lower case.
func ImageExts() []string {
	return []string{".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
}

// IsImageFile reports whether name has one of ImageExts, in any case.
func IsImageFile(name string) bool {
	return slices.Contains(ImageExts(), strings.ToLower(filepath.Ext(name)))
}
