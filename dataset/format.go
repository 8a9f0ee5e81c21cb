package dataset

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"gocv.io/x/gocv"
)

// Format reads one raw source layout.
type Format interface {
	// Name is the --format value.
	Name() string
	// Recognise says how auto-detection knows this layout (for --help and
	// README).
	Recognise() string
	// Detect reports whether src looks like this layout.
	Detect(src string) bool
	// Scan pairs the source files into candidates. Files it cannot pair
	// become rejects; err is for a source it cannot read at all.
	Scan(ctx context.Context, src string) ([]Candidate, []Reject, error)
}

// Candidate is one source sample before it is decoded.
type Candidate struct {
	// Key is the image path relative to the format's image root; the
	// sample id is ID(Key).
	Key string
	// Split is the source's official split, or "" when it has none.
	Split string
	// Image is the image path relative to the source folder.
	Image string
	// Sources lists every source file of the sample, relative to src.
	Sources []string
	// Labels loads the sample's labels.
	Labels LabelLoader
	// Boxes are 0-based [xmin, ymin, xmax, ymax] boxes, if the source has
	// them.
	Boxes [][4]float64
}

// LabelLoader reads a candidate's labels from the source folder.
type LabelLoader func(src string) (Labels, error)

// Labels are a sample's label planes, all 8UC1 and the image's size. Mask
// is required; the others may be empty Mats. The caller closes them.
type Labels struct {
	Mask, Alpha, Instances, Trimap gocv.Mat
	Notes                          []string
	// Thresholded reports that the mask was not strictly 0/255 and was
	// thresholded at 128.
	Thresholded bool
}

// Close releases the label planes.
func (l *Labels) Close() {
	for _, m := range []*gocv.Mat{&l.Mask, &l.Alpha, &l.Instances, &l.Trimap} {
		if m.Ptr() != nil {
			m.Close()
		}
	}
}

// formatConstructors is the format registry: --format NAME maps to a
// constructor. The order is the auto-detection order (most specific first).
func formatConstructors() []func() Format {
	return []func() Format{
		func() Format { return pennFudan{} },
		func() Format { return aiSegment{} },
		func() Format { return pfcnEG{} },
		func() Format { return pfcnMatting{} },
		func() Format { return folder{} },
	}
}

// Formats returns every registered format in detection order.
func Formats() []Format {
	var fs []Format
	for _, c := range formatConstructors() {
		fs = append(fs, c())
	}
	return fs
}

// LookupFormat returns the format named name, or detects it when name is
// "auto". A name it does not know, or a layout it cannot recognise, is an
// *OptionError on Format.
func LookupFormat(name, src string) (Format, error) {
	if name == "auto" || name == "" {
		for _, f := range Formats() {
			if f.Detect(src) {
				return f, nil
			}
		}
		return nil, &OptionError{Field: "Format", Err: fmt.Errorf("could not recognise the layout of %s; name it (one of %s)", src, strings.Join(FormatNames(), ", "))}
	}
	for _, f := range Formats() {
		if f.Name() == name {
			return f, nil
		}
	}
	return nil, &OptionError{Field: "Format", Err: fmt.Errorf("unknown format %q (known: auto, %s)", name, strings.Join(FormatNames(), ", "))}
}

// FormatNames lists the registered format names.
func FormatNames() []string {
	var ns []string
	for _, f := range Formats() {
		ns = append(ns, f.Name())
	}
	return ns
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

// listFiles walks root (relative to src) and returns the regular files'
// paths relative to src, sorted. Files that cannot be images (AppleDouble
// "._*" files, other extensions) become rejects instead: nothing is dropped
// without a word.
func listFiles(ctx context.Context, src, root string) (files []string, rejects []Reject, err error) {
	base := filepath.Join(src, root)
	err = filepath.WalkDir(base, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(src, p)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		switch {
		case strings.HasPrefix(name, "._"):
			rejects = append(rejects, Reject{Source: []string{rel}, Stage: "scan", Code: CodeAppleDouble, Reason: "macOS AppleDouble metadata file (._*), not an image"})
		case !IsImageFile(name):
			rejects = append(rejects, Reject{Source: []string{rel}, Stage: "scan", Code: CodeNotImage, Reason: fmt.Sprintf("not an image file (extension %q)", filepath.Ext(name))})
		case !d.Type().IsRegular():
			rejects = append(rejects, Reject{Source: []string{rel}, Stage: "scan", Code: CodeNotImage, Reason: "not a regular file"})
		default:
			files = append(files, rel)
		}
		return nil
	})
	sort.Strings(files)
	return files, rejects, err
}

// stemOf returns the file name without directory and extension.
func stemOf(p string) string {
	b := filepath.Base(p)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// readFile reads a source file for a loader, as a SampleError when missing.
func readFile(src, rel string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(src, rel))
	if err != nil {
		return nil, &SampleError{Code: CodeMissingPartner, Path: rel, Err: err}
	}
	return b, nil
}

// maskFromAlpha returns alpha >= 128 as 0/255.
func maskFromAlpha(alpha gocv.Mat) gocv.Mat {
	m := gocv.NewMat()
	gocv.Threshold(alpha, &m, 127, 255, gocv.ThresholdBinary)
	return m
}

// maskNonZero returns label > 0 as 0/255.
func maskNonZero(label gocv.Mat) gocv.Mat {
	m := gocv.NewMat()
	gocv.Threshold(label, &m, 0, 255, gocv.ThresholdBinary)
	return m
}

// binariseMask thresholds a mask at 128 unless it is already strictly 0/255
// and reports whether it had to.
func binariseMask(m gocv.Mat) (gocv.Mat, bool) {
	px, _ := m.DataPtrUint8()
	strict := true
	for _, v := range px {
		if v != 0 && v != 255 {
			strict = false
			break
		}
	}
	if strict {
		return m, false
	}
	out := maskFromAlpha(m)
	m.Close()
	return out, true
}
