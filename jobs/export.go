package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/segtool/segtool/coco"
	"github.com/segtool/segtool/dataset"
)

// ExportFormatCOCO is the one export format today: a COCO instance file.
const ExportFormatCOCO = "coco"

// ExportOptions are the options of Export.
type ExportOptions struct {
	Dataset string
	Format  string   // ExportFormatCOCO
	Split   []string // splits to export, in manifest order; empty: all
	Out     string   // the JSON file to write
	Force   bool     // replace an existing Out
	// FailFast stops at the first sample that cannot be read.
	FailFast  bool
	MaxPixels int64
	// Progress, if set, is called after each sample with the number done
	// and the total.
	Progress func(done, total int)
}

// ExportSummary is what Export did.
type ExportSummary struct {
	Out         string
	Images      int // images written
	Annotations int // annotations written
	// FromMasks counts samples without an instances plane, exported as one
	// annotation: their person mask.
	FromMasks int
	// Rejects are samples left out (their plane could not be read); their
	// image ids stay unused.
	Rejects []dataset.Reject
	Elapsed time.Duration
}

// ExportImages is the images list of a COCO export of rows, the selected
// rows in manifest order: image id i+1 for rows[i], file_name the
// dataset-relative image path. A results file's image_id refers to these.
func ExportImages(rows []dataset.Sample) []coco.Image {
	sampleIDs := make([]string, len(rows))
	for i, s := range rows {
		sampleIDs[i] = s.ID
	}
	ids := coco.ImageIDs(sampleIDs) // eval numbers a results file's images the same way
	out := make([]coco.Image, len(rows))
	for i, s := range rows {
		out[i] = coco.Image{ID: ids[s.ID], FileName: s.Image, Width: s.Width, Height: s.Height}
	}
	return out
}

// Export writes the selected samples of o.Dataset as a COCO instance file
// at o.Out: images as ExportImages; one annotation per instance id (in id
// order) of each row's instances plane (0 is background), its mask as
// compressed RLE, bbox the mask's extent ([x, y, w, h], w = xmax − xmin +
// 1 as pycocotools' toBbox), area its pixel count, iscrowd 0, category 1
// (person). A row without instances is exported as one annotation, its
// person mask (counted in FromMasks); an empty plane gives none. A sample
// whose plane cannot be read is a reject (left out, its id unused) unless
// FailFast, which stops with dataset.ErrFailFast. The file is written
// atomically, and an existing one only replaced with Force
// (dataset.ErrExists otherwise). Bad options are *dataset.OptionError.
func Export(ctx context.Context, o ExportOptions) (*ExportSummary, error) {
	start := time.Now()
	if o.Format != ExportFormatCOCO {
		return nil, &dataset.OptionError{Field: "Format", Err: fmt.Errorf("unknown format %q (want %s)", o.Format, ExportFormatCOCO)}
	}
	if o.Out == "" {
		return nil, &dataset.OptionError{Field: "Out", Err: errors.New("no output file given")}
	}
	if st, err := os.Stat(o.Out); err == nil {
		if st.IsDir() {
			return nil, &dataset.OptionError{Field: "Out", Err: fmt.Errorf("%s is a folder; give a file name", o.Out)}
		}
		if !o.Force {
			return nil, fmt.Errorf("%s: %w", o.Out, dataset.ErrExists)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, &dataset.OptionError{Field: "Out", Err: err}
	}
	for _, s := range o.Split {
		if !slices.Contains(dataset.SplitNames(), s) {
			return nil, &dataset.OptionError{Field: "Split", Err: fmt.Errorf("unknown split %q (want %s)", s, strings.Join(dataset.SplitNames(), ", "))}
		}
	}
	if o.Dataset == "" {
		return nil, &dataset.OptionError{Field: "Dataset", Err: errors.New("no dataset given")}
	}
	if _, err := os.Stat(o.Dataset); err != nil {
		return nil, &dataset.OptionError{Field: "Dataset", Err: err}
	}
	d, err := dataset.Open(o.Dataset)
	if err != nil {
		return nil, err
	}
	d.Decoder.MaxPixels = o.MaxPixels
	var rows []dataset.Sample
	for _, s := range d.Samples {
		if len(o.Split) == 0 || slices.Contains(o.Split, s.Split) {
			rows = append(rows, s)
		}
	}
	if len(rows) == 0 {
		return nil, &dataset.OptionError{Field: "Split", Err: fmt.Errorf("%s has no sample in split %s", o.Dataset, strings.Join(o.Split, ", "))}
	}
	sum := &ExportSummary{Out: o.Out}
	f := coco.File{Images: []coco.Image{}, Annotations: []coco.FileAnnotation{}, Categories: coco.Categories()}
	for i, img := range ExportImages(rows) {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrInterrupted, err)
		}
		s := &rows[i]
		masks, fromMask, err := exportMasks(d, s)
		if err != nil {
			if o.FailFast {
				return nil, fmt.Errorf("sample %s: %w: %w", s.ID, dataset.ErrFailFast, err)
			}
			path := s.Instances
			if path == "" {
				path = s.Mask
			}
			sum.Rejects = append(sum.Rejects, dataset.Reject{ID: s.ID, Source: []string{path}, Stage: "export",
				Code: dataset.CodeOf(err, dataset.CodeCorrupt), Reason: err.Error()})
			continue
		}
		if fromMask {
			sum.FromMasks++
		}
		f.Images = append(f.Images, img)
		for _, m := range masks {
			f.Annotations = append(f.Annotations, coco.FileAnnotation{
				ID: len(f.Annotations) + 1, ImageID: img.ID, CategoryID: 1, Segmentation: m.ToFile(),
				BBox: m.BBox(), Area: float64(m.Area()),
			})
		}
		if o.Progress != nil {
			o.Progress(i+1, len(rows))
		}
	}
	b, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	if err := dataset.WriteFileAtomic(o.Out, append(b, '\n')); err != nil {
		return nil, err
	}
	sum.Images, sum.Annotations, sum.Elapsed = len(f.Images), len(f.Annotations), time.Since(start)
	return sum, nil
}

// exportMasks reads row s's instances plane (or, without one, its mask)
// and returns one RLE per instance id, in id order.
func exportMasks(d *dataset.Dataset, s *dataset.Sample) (masks []coco.RLE, fromMask bool, err error) {
	rel := s.Instances
	if rel == "" {
		rel, fromMask = s.Mask, true
	}
	if rel == "" {
		return nil, false, errors.New("row has neither instances nor mask")
	}
	path := d.Path(rel)
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("sample %s: %w", s.ID, err)
	}
	m, _, _, err := d.Decoder.Label(path, b)
	if err != nil {
		return nil, false, fmt.Errorf("sample %s: %w", s.ID, err)
	}
	w, h := m.Cols(), m.Rows()
	plane, err := m.DataPtrUint8()
	if err == nil {
		plane = slices.Clone(plane)
	}
	m.Close()
	if err != nil {
		return nil, false, fmt.Errorf("sample %s: %s: %w", s.ID, path, err)
	}
	if w != s.Width || h != s.Height {
		return nil, false, &dataset.SampleError{Code: dataset.CodeSizeMismatch, Path: path,
			Err: fmt.Errorf("sample %s: plane is %dx%d, the row says %dx%d", s.ID, w, h, s.Width, s.Height)}
	}
	if fromMask {
		if r := coco.Encode(plane, w, h); r.Area() > 0 {
			masks = append(masks, r)
		}
		return masks, true, nil
	}
	return coco.InstanceMasks(plane, w, h), false, nil
}
