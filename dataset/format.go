package dataset

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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
	// Clip names the video clip a frame belongs to ("" outside clip
	// formats), and Frame is its index in the clip, from 0.
	Clip  string
	Frame int
}

// SplitKey is what a candidate's split is drawn from: the clip for a
// video frame, so that every frame of a clip lands in one split, else the
// sample id.
func (c Candidate) SplitKey() string {
	if c.Clip != "" {
		return "clip:" + c.Clip
	}
	return ID(c.Key)
}

// LabelLoader reads a candidate's labels from the source folder, decoding
// them with d.
type LabelLoader func(src string, d Decoder) (Labels, error)

// Labels are a sample's label planes, all 8UC1 and the image's size. Mask
// is required; the others may be empty Mats. FG and BG are optional BGR
// colour layers (Planes.FG). The caller closes them.
type Labels struct {
	Mask, Alpha, Instances, Trimap gocv.Mat
	FG, BG                         gocv.Mat
	Notes                          []string
	// Thresholded reports that the mask was not strictly 0/255 and was
	// thresholded at 128.
	Thresholded bool
}

// Close releases the label planes.
func (l *Labels) Close() {
	for _, m := range []*gocv.Mat{&l.Mask, &l.Alpha, &l.Instances, &l.Trimap, &l.FG, &l.BG} {
		if m.Ptr() != nil {
			m.Close()
		}
	}
}

// sourceFormat is one registered layout; only detect and scan differ
// from one to the next.
type sourceFormat struct {
	name, recognise string
	detect          func(src string) bool
	scan            func(ctx context.Context, src string) ([]Candidate, []Reject, error)
}

func (f sourceFormat) Name() string           { return f.name }
func (f sourceFormat) Recognise() string      { return f.recognise }
func (f sourceFormat) Detect(src string) bool { return f.detect(src) }
func (f sourceFormat) Scan(ctx context.Context, src string) ([]Candidate, []Reject, error) {
	return f.scan(ctx, src)
}

// formatRegistry is the format registry: --format NAME maps to its layout.
// The order is the auto-detection order (most specific first).
var formatRegistry = []sourceFormat{
	{name: "videomatte", detect: videoMatteLayout.detect, scan: videoMatteLayout.scan,
		recognise: "clip folders <clip>/com/NNNN.png (or .jpg) with <clip>/pha/NNNN.png, optional fgr/ and bgr/; clips may sit in group folders (RobustVideoMatting's evaluation layout)"},
	{name: "frames", detect: framesLayout.detect, scan: framesLayout.scan,
		recognise: "clip folders <clip>/frames/<name>.jpg|png with <clip>/alphas/<name>.png and/or <clip>/masks/<name>.png"},
	{name: "pennfudan", detect: hasDirs("PNGImages", "PedMasks"), scan: scanPennFudan,
		recognise: "PNGImages/ and PedMasks/ (optional Annotation/): PNGImages/<stem>.png with PedMasks/<stem>_mask.png"},
	{name: "aisegment", detect: hasDirs("clip_img", "matting"), scan: scanAISegment,
		recognise: "clip_img/ and matting/: clip_img/<group>/clip_<k>/<name>.jpg with matting/<group>/matting_<k>/<name>.png (RGBA)"},
	{name: "pfcn-eg", detect: detectPFCNEG, scan: scanPFCNEG,
		recognise: "images_data_crop/ with images_mask/*_mask.mat (+ trainlist.mat, testlist.mat), or Images/ with Labels/ (+ eg1800_train.txt, eg1800_test.txt)"},
	{name: "pfcn-matting", detect: detectPFCNMatting, scan: scanPFCNMatting,
		recognise: "training/ and/or testing/ holding NNNNN.png with NNNNN_matte.png"},
	{name: "folder", detect: detectFolder, scan: scanFolder,
		recognise: "images/ beside masks/ or alphas/ (optional trimaps/), paired by file stem"},
}

// Formats returns every registered format in detection order.
func Formats() []Format {
	var fs []Format
	for _, f := range formatRegistry {
		fs = append(fs, f)
	}
	return fs
}

// LookupFormat returns the format named name, or detects it when name is
// "auto". A name it does not know, or a layout it cannot recognise, is an
// *OptionError on Format.
func LookupFormat(name, src string) (Format, error) {
	if err := checkSource(src); err != nil {
		return nil, err
	}
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

// checkSource tells a missing or empty source folder apart, where format
// detection would only say that it recognises neither.
func checkSource(src string) error {
	st, err := os.Stat(src)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &OptionError{Field: "Src", Err: fmt.Errorf("%s does not exist", src)}
	case err != nil:
		return &OptionError{Field: "Src", Err: err}
	case !st.IsDir():
		return &OptionError{Field: "Src", Err: fmt.Errorf("%s is a file, not a folder", src)}
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return &OptionError{Field: "Src", Err: err}
	}
	if len(entries) == 0 {
		return &OptionError{Field: "Src", Err: fmt.Errorf("%s is an empty folder: nothing to build from", src)}
	}
	return nil
}

// FormatNames lists the registered format names.
func FormatNames() []string {
	var ns []string
	for _, f := range Formats() {
		ns = append(ns, f.Name())
	}
	return ns
}

// hasDirs returns a detector that wants every one of dirs below src.
func hasDirs(dirs ...string) func(src string) bool {
	return func(src string) bool {
		for _, d := range dirs {
			if !IsDir(filepath.Join(src, d)) {
				return false
			}
		}
		return true
	}
}

// IsDir reports whether p is a directory.
func IsDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// IsFile reports whether p is a regular file.
func IsFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func listFiles(ctx context.Context, src, root string) ([]string, []Reject, error) {
	return ListImageFiles(ctx, src, root, "scan")
}

// ListImageFiles walks root below src (src itself when root is "") and
// returns the regular files' paths relative to src, slash-separated and
// sorted. Files that cannot be images (AppleDouble "._*" files, other
// extensions) become rejects of stage instead: nothing is dropped without
// a word.
//
// Symbolic links are followed, to folders and to files, wherever they
// lead: the source is the user's choice, unlike a dataset, whose files
// must stay inside it (CheckRel). Paths stay as seen through the links. A
// link that leads nowhere, or to a folder the walk is already inside (a
// loop), is a reject.
func ListImageFiles(ctx context.Context, src, root, stage string) (files []string, rejects []Reject, err error) {
	base := src
	if root != "" {
		base = filepath.Join(src, root)
	}
	relOf := func(p string) string {
		rel, _ := filepath.Rel(src, p)
		return filepath.ToSlash(rel)
	}
	reject := func(p, code, reason string) {
		rejects = append(rejects, Reject{Source: []string{relOf(p)}, Stage: stage, Code: code, Reason: reason})
	}
	// walk lists dir, whose real path is real; above holds the real paths
	// of the folders it lies in.
	var walk func(dir, real string, above []string) error
	walk = func(dir, real string, above []string) error {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		above = append(above, real)
		for _, e := range entries {
			if err := ctx.Err(); err != nil {
				return err
			}
			p := filepath.Join(dir, e.Name())
			typ := e.Type()
			if typ&fs.ModeSymlink != 0 {
				st, err := os.Stat(p)
				if err != nil {
					reject(p, CodeNotImage, "symbolic link that leads nowhere")
					continue
				}
				typ = st.Mode().Type()
			}
			if typ.IsDir() {
				r, err := filepath.EvalSymlinks(p)
				if err != nil {
					return err
				}
				if slices.Contains(above, r) {
					reject(p, CodeNotImage, fmt.Sprintf("symbolic link to %s, a folder it lies in (a loop)", r))
					continue
				}
				if err := walk(p, r, above); err != nil {
					return err
				}
				continue
			}
			name := e.Name()
			switch {
			case strings.HasPrefix(name, "._"):
				reject(p, CodeAppleDouble, "macOS AppleDouble metadata file (._*), not an image")
			case !IsImageFile(name):
				reject(p, CodeNotImage, fmt.Sprintf("not an image file (extension %q)", filepath.Ext(name)))
			case !typ.IsRegular():
				reject(p, CodeNotImage, "not a regular file")
			default:
				files = append(files, relOf(p))
			}
		}
		return nil
	}
	real, err := filepath.EvalSymlinks(base)
	if err == nil {
		err = walk(base, real, nil)
	}
	sort.Strings(files)
	return files, rejects, err
}

// pairing is a layout of two folders, images and labels, whose files pair
// by a key computed from each side's path.
type pairing struct {
	images, labels     string
	imageKey, labelKey func(path string) string
	// missing and orphan are the reasons for an image without its label
	// and a label without its image.
	missing func(key string) string
	orphan  func(key string) string
}

// scan lists both folders and calls pair for each image with its label;
// pair returns the sample's rejects, if any.
func (p pairing) scan(ctx context.Context, src string, pair func(img, label, key string) []Reject) ([]Reject, error) {
	images, rejects, err := listFiles(ctx, src, p.images)
	if err != nil {
		return nil, err
	}
	labels, rj, err := listFiles(ctx, src, p.labels)
	if err != nil {
		return nil, err
	}
	rejects = append(rejects, rj...)
	labelOf := map[string]string{}
	for _, l := range labels {
		labelOf[p.labelKey(l)] = l
	}
	used := map[string]bool{}
	for _, img := range images {
		key := p.imageKey(img)
		label := labelOf[key]
		if label == "" {
			rejects = append(rejects, Reject{Source: []string{img}, Stage: "scan", Code: CodeMissingPartner, Reason: p.missing(key)})
			continue
		}
		used[key] = true
		rejects = append(rejects, pair(img, label, key)...)
	}
	return append(rejects, unpaired(labelOf, used, p.orphan)...), nil
}

// readLabel reads and decodes a label file below src (Decoder.Label,
// without the palette flag).
func readLabel(src, rel string, d Decoder) (gocv.Mat, []string, error) {
	b, err := readFile(src, rel)
	if err != nil {
		return gocv.Mat{}, nil, err
	}
	m, _, notes, err := d.Label(rel, b)
	return m, notes, err
}

// unpaired rejects each label file (by pairing key) that no image used.
func unpaired(labels map[string]string, used map[string]bool, reason func(key string) string) []Reject {
	var rejects []Reject
	for k, f := range labels {
		if !used[k] {
			rejects = append(rejects, Reject{Source: []string{f}, Stage: "scan", Code: CodeMissingPartner, Reason: reason(k)})
		}
	}
	return rejects
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
