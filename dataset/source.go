package dataset

import (
	"image"
	"os"
	"path/filepath"

	"gocv.io/x/gocv"
)

// SourceSample is one candidate read from its source folder: the decoded
// image and labels, and what writing them needs to know about the image
// file. Close releases its planes.
type SourceSample struct {
	Planes
	// Path is the image file, Raw its bytes.
	Path string
	Raw  []byte
	// Ext is the extension the image is written with: ".jpg" for a JPEG
	// source, ".png" for every other container.
	Ext string
	// Verbatim reports that Raw decodes to exactly Image: no conversion
	// and no EXIF segment (whose orientation viewers would apply), so the
	// file may stand for the image as it is.
	Verbatim bool
	// Notes are the conversions applied to the image and the labels.
	Notes []string
	// Thresholded reports a mask that was not strictly 0/255.
	Thresholded bool
	// Orientation is the image's EXIF orientation, already applied to
	// Image (0: none).
	Orientation int
	rel         string // the image path relative to the source folder
}

// LoadCandidate reads and decodes c's image and labels from the source
// folder src with d. Bad input is a *SampleError naming the file.
func LoadCandidate(src string, c Candidate, d Decoder) (*SourceSample, error) {
	path := filepath.Join(src, c.Image)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, &SampleError{Code: CodeMissingPartner, Path: c.Image, Err: err}
	}
	img, kind, imgNotes, err := d.RGB(c.Image, raw)
	if err != nil {
		return nil, err
	}
	lab, err := c.Labels(src, d)
	if err != nil {
		img.Close()
		return nil, err
	}
	s := &SourceSample{
		Planes: Planes{Image: img, Mask: lab.Mask, Alpha: lab.Alpha, Instances: lab.Instances, Trimap: lab.Trimap,
			FG: lab.FG, BG: lab.BG, Boxes: c.Boxes},
		Path: path, Raw: raw, Ext: ".png",
		Verbatim:    len(imgNotes) == 0 && !(kind == kindJPEG && hasExif(raw)),
		Notes:       append(append([]string(nil), imgNotes...), lab.Notes...),
		Thresholded: lab.Thresholded,
		Orientation: Orientation(raw),
		rel:         c.Image,
	}
	if kind == kindJPEG {
		s.Ext = ".jpg"
	}
	return s, nil
}

// CheckSizes reports a label plane whose size is not the image's.
func (s *SourceSample) CheckSizes() error {
	size := s.Size()
	for _, p := range []struct {
		name string
		m    gocv.Mat
	}{{"alpha", s.Alpha}, {"mask", s.Mask}, {"instances", s.Instances}, {"trimap", s.Trimap}, {"foreground layer", s.FG}, {"background layer", s.BG}} {
		if !present(p.m) {
			continue
		}
		if ps := image.Pt(p.m.Cols(), p.m.Rows()); ps != size {
			if transposes(s.Orientation) && ps == image.Pt(size.Y, size.X) {
				return sampleErr(CodeSizeMismatch, s.rel, "image is %dx%d after its EXIF orientation %d but its %s is %dx%d, the size before it: labels must match the image as viewers show it",
					size.X, size.Y, s.Orientation, p.name, ps.X, ps.Y)
			}
			return sampleErr(CodeSizeMismatch, s.rel, "image is %dx%d but its %s is %dx%d", size.X, size.Y, p.name, ps.X, ps.Y)
		}
	}
	return nil
}

// AmbiguousOrientation reports an image turned by its EXIF orientation
// where the labels' size cannot tell whether they were drawn on the image
// before or after the turn: a flip or a half turn, or any turn of a square
// image. Call it after CheckSizes.
func (s *SourceSample) AmbiguousOrientation() bool {
	if s.Orientation <= 1 {
		return false
	}
	size := s.Size()
	return !transposes(s.Orientation) || size.X == size.Y
}

// Close releases the image and label planes.
func (s *SourceSample) Close() { s.release() }

// WriteImage encodes m as row s's image (ext ".jpg" at jpegQuality, or
// ".png") and records its path and sha256 in s.
func (w *Writer) WriteImage(s *Sample, m gocv.Mat, ext string, jpegQuality int) error {
	rel, h, err := w.WriteMat(ImagesDir, s.ID, ext, m, jpegQuality)
	s.Image, s.SHA256[rel] = rel, h
	return err
}

// LinkImage hard-links the image file src (content data) as row s's image
// and records its path and sha256 in s.
func (w *Writer) LinkImage(s *Sample, src, ext string, data []byte) error {
	rel, h, err := w.LinkFile(ImagesDir, s.ID, ext, src, data)
	s.Image, s.SHA256[rel] = rel, h
	return err
}

// WriteLabels writes p's label planes as row s's PNGs, skipping absent
// ones, and records their paths and sha256 in s. Every plane is tried; the
// first error is returned.
func (w *Writer) WriteLabels(s *Sample, p Planes) error {
	var first error
	for _, l := range []struct {
		dst *string
		sub string
		m   gocv.Mat
	}{{&s.Mask, MasksDir, p.Mask}, {&s.Alpha, AlphasDir, p.Alpha}, {&s.Instances, InstancesDir, p.Instances}, {&s.Trimap, TrimapsDir, p.Trimap}} {
		if !present(l.m) {
			continue
		}
		rel, h, err := w.WriteMat(l.sub, s.ID, ".png", l.m, 0)
		*l.dst, s.SHA256[rel] = rel, h
		if err != nil && first == nil {
			first = err
		}
	}
	return first
}
