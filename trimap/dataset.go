package trimap

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/segtool/segtool/dataset"
	"gocv.io/x/gocv"
)

// Methods of [DatasetOptions].
const (
	MethodSuperpixel = "superpixel" // [FromSuperpixels]
	MethodErode      = "erode"      // [Morphological]
)

// Matte sources of [DatasetOptions].From.
const (
	FromAlpha = "alpha" // the row's alpha matte
	FromMask  = "mask"  // the row's 0/255 mask
	// PredsPrefix starts "preds:DIR": DIR/<id>.png, a model's predicted
	// matte or mask (8-bit grey), for automatic matting.
	PredsPrefix = "preds:"
)

// Names used by [UpdateDataset] in the dataset.
const (
	// DefaultOutDir is the folder the trimaps go to when none is given.
	DefaultOutDir = "trimaps"
	// ReportFile is the quality report written with DatasetOptions.Report.
	ReportFile = "trimap_report.json"
	// ExtraKey is the key of a row's extra map that records how its
	// trimaps were made: an object from out-dir to [Record].
	ExtraKey = "trimap"
	// CodeFullMatte is the reject code of a matte that is 255 everywhere
	// (kept, with an all-foreground trimap). An all-zero matte gets
	// dataset.CodeEmptyMask.
	CodeFullMatte = "full-matte"
	// rejectStage is the stage of every reject line UpdateDataset writes.
	rejectStage = "trimap"
)

// ErrWouldOverwrite reports an out-dir holding the rows' existing trimaps
// (the reference for the report), which only Force may replace.
var ErrWouldOverwrite = errors.New("would overwrite the existing trimaps")

// ErrNoTrimaps reports a run in which every sample was rejected.
var ErrNoTrimaps = errors.New("no trimap made: every sample was rejected; see rejects.jsonl for the reasons")

// OptionError names the flag at fault in the options (see dataset.OptionError).
type OptionError = dataset.OptionError

// DatasetOptions configure [UpdateDataset].
type DatasetOptions struct {
	// Dataset is the canonical dataset folder, updated in place.
	Dataset string
	// Method is MethodSuperpixel (default) or MethodErode.
	Method string
	// From is the matte a trimap is built from: "" (the alpha where the
	// row has one, else the mask), FromAlpha, FromMask, or "preds:DIR".
	From string
	// OutDir is the folder, inside the dataset, the trimaps go to:
	// OutDir/<id>.png. One folder name; default DefaultOutDir.
	OutDir string
	// Superpixel configures MethodSuperpixel. SLIC.Workers is ignored:
	// UpdateDataset spreads Workers over the samples.
	Superpixel SuperpixelOptions
	// Morph configures MethodErode.
	Morph MorphOptions
	// Report computes, per sample, the transition recall and the
	// unknown-area ratio against the row's existing trimap, and writes
	// ReportFile.
	Report bool
	// Force lets the trimaps replace the rows' existing trimaps when
	// OutDir is where those are.
	Force bool
	// Workers is the number of samples processed at once; 0 means
	// runtime.GOMAXPROCS(0). The output does not depend on it.
	Workers int
	// Progress, if set, is called after each sample with the number done
	// and the total. It may be called from several goroutines.
	Progress func(done, total int)
}

// Record is what a row's extra.trimap holds per out-dir: the options
// that made the trimap (a later run with the same ones skips the sample),
// the inputs' digests, and what the run drew or found.
type Record struct {
	Method string `json:"method"`
	// From is the matte used: "alpha", "mask" or "preds:DIR" (DIR absolute).
	From string `json:"from"`
	// Path is the trimap, relative to the dataset.
	Path string `json:"path"`
	// Matte is the matte file read (relative to the dataset, or the
	// prediction's path); MatteSHA256 and ImageSHA256 (superpixel only)
	// digest the inputs.
	Matte       string `json:"matte"`
	MatteSHA256 string `json:"matte_sha256"`
	ImageSHA256 string `json:"image_sha256,omitempty"`

	// Superpixel options, with the defaults filled in (Superpixels 0 is
	// the default count, MinBand -1 no band, MaxBand 0 no cap).
	Superpixels int     `json:"superpixels,omitempty"`
	RegionSize  int     `json:"region_size,omitempty"`
	Compactness float64 `json:"compactness,omitempty"`
	Iterations  int     `json:"iterations,omitempty"`
	FGThresh    float64 `json:"fg_thresh,omitempty"`
	BGThresh    float64 `json:"bg_thresh,omitempty"`
	MinBand     int     `json:"min_band,omitempty"`
	MaxBand     int     `json:"max_band,omitempty"`

	// Erode options: a fixed Width, or WidthRange [lo, hi] with Seed.
	Width      int    `json:"width,omitempty"`
	WidthRange []int  `json:"width_range,omitempty"`
	Seed       uint64 `json:"seed,omitempty"`

	// Results: the erosion widths drawn (fg, bg), the number of
	// superpixels SLIC made (0 when a uniform matte skipped it), and the
	// trimap's Flag.
	Widths          []int  `json:"widths,omitempty"`
	SuperpixelCount int    `json:"superpixel_count,omitempty"`
	Flag            string `json:"flag"`
}

// sameInputs reports whether r and o were made by the same options from
// the same inputs (their results aside).
func (r Record) sameInputs(o Record) bool {
	r.Widths, r.SuperpixelCount, r.Flag = nil, 0, ""
	o.Widths, o.SuperpixelCount, o.Flag = nil, 0, ""
	return reflect.DeepEqual(r, o)
}

// Report is the quality report of a run with DatasetOptions.Report, as
// written to ReportFile.
type Report struct {
	Method  string          `json:"method"`
	OutDir  string          `json:"out_dir"`
	Samples []SampleQuality `json:"samples"`
	Mean    MeanQuality     `json:"mean"`
}

// SampleQuality is one sample's line of the report.
type SampleQuality struct {
	ID     string `json:"id"`
	Trimap string `json:"trimap"`
	// Reference is the human trimap compared with: the row's trimap
	// before the run, unless segtool trimap wrote it. Empty when none.
	Reference string `json:"reference,omitempty"`
	// TransitionRecall is measured against the row's alpha, or against
	// the matte the trimap was made from when the row has none.
	TransitionRecall float64 `json:"transition_recall"`
	// UnknownAreaRatio is nil without a reference, or when the
	// reference has no unknown pixel and the trimap has some.
	UnknownAreaRatio *float64 `json:"unknown_area_ratio"`
	Transition       int      `json:"transition_pixels"`
	Unknown          int      `json:"unknown_pixels"`
	HumanUnknown     int      `json:"reference_unknown_pixels,omitempty"`
	Note             string   `json:"note,omitempty"`
}

// MeanQuality holds the means over the report's samples; the ratio's
// over those with a ratio (nil when none has one).
type MeanQuality struct {
	TransitionRecall float64  `json:"transition_recall"`
	UnknownAreaRatio *float64 `json:"unknown_area_ratio"`
	Samples          int      `json:"samples"`
	WithRatio        int      `json:"samples_with_ratio"`
}

// Summary is what UpdateDataset did.
type Summary struct {
	Dataset, OutDir, Method string
	Samples                 int // manifest rows
	Made                    int // trimaps computed this run
	Written                 int // trimap files whose bytes changed
	Reused                  int // rows skipped: trimap up to date for these options
	// Rejects are samples left without a trimap; Flagged kept ones with
	// an all-background or all-foreground trimap. RejectCodes counts both
	// by code; NewRejectLines is how many lines rejects.jsonl gained (a
	// line already there is not repeated).
	Rejects, Flagged int
	RejectCodes      map[string]int
	NewRejectLines   int
	// From counts rows by the matte their trimap came from: alpha, mask
	// or preds.
	From map[string]int
	// ManifestChanged: manifest.jsonl was rewritten.
	ManifestChanged bool
	Report          *Report // with DatasetOptions.Report
	ReportPath      string
	Elapsed         time.Duration
}

// ImagesPerSecond is the rate of trimaps made (0 when none was).
func (s Summary) ImagesPerSecond() float64 {
	if s.Made == 0 {
		return 0
	}
	return float64(s.Made) / max(s.Elapsed.Seconds(), 1e-9)
}

// checkedOptions are DatasetOptions validated, with defaults filled in.
type checkedOptions struct {
	DatasetOptions
	sp       SuperpixelOptions
	predsDir string // absolute, for preds:
	record   Record // the option fields of every row's record
}

func checkOptions(o DatasetOptions) (*checkedOptions, error) {
	c := &checkedOptions{DatasetOptions: o}
	if o.Dataset == "" {
		return nil, &OptionError{Option: "--dataset", Err: errors.New("no dataset given")}
	}
	if st, err := os.Stat(o.Dataset); err != nil {
		return nil, &OptionError{Option: "--dataset", Err: err}
	} else if !st.IsDir() {
		return nil, &OptionError{Option: "--dataset", Err: fmt.Errorf("%s is not a folder", o.Dataset)}
	}
	switch c.Method {
	case "":
		c.Method = MethodSuperpixel
	case MethodSuperpixel, MethodErode:
	default:
		return nil, &OptionError{Option: "--method", Err: fmt.Errorf("%q: want %s or %s", o.Method, MethodSuperpixel, MethodErode)}
	}
	switch f := o.From; {
	case f == "" || f == FromAlpha || f == FromMask:
	case strings.HasPrefix(f, PredsPrefix):
		dir := strings.TrimPrefix(f, PredsPrefix)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, &OptionError{Option: "--from", Err: fmt.Errorf("%s: %s is not a folder of predictions", f, dir)}
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, &OptionError{Option: "--from", Err: err}
		}
		c.predsDir = abs
	default:
		return nil, &OptionError{Option: "--from", Err: fmt.Errorf("%q: want alpha, mask or preds:DIR", f)}
	}
	if c.OutDir == "" {
		c.OutDir = DefaultOutDir
	}
	if c.OutDir != filepath.Base(c.OutDir) || strings.ContainsAny(c.OutDir, `/\`) || c.OutDir == "." || c.OutDir == ".." {
		return nil, &OptionError{Option: "--out-dir", Err: fmt.Errorf("%q: want one folder name inside the dataset, e.g. trimaps-sp", o.OutDir)}
	}
	switch c.OutDir {
	case "images", "masks", "alphas", "instances":
		return nil, &OptionError{Option: "--out-dir", Err: fmt.Errorf("%q holds the dataset's %s", c.OutDir, c.OutDir)}
	}
	r := Record{Method: c.Method}
	switch c.Method {
	case MethodSuperpixel:
		sp := o.Superpixel
		sl := sp.SLIC
		switch {
		case sl.Superpixels < 0:
			return nil, &OptionError{Option: "--superpixels", Err: fmt.Errorf("%w: %d", ErrSuperpixelCount, sl.Superpixels)}
		case sl.RegionSize < 0:
			return nil, &OptionError{Option: "--region-size", Err: fmt.Errorf("%d: want a grid step >= 1", sl.RegionSize)}
		case !(sl.Compactness >= 0) || math.IsInf(sl.Compactness, 0):
			return nil, &OptionError{Option: "--compactness", Err: fmt.Errorf("%v: want > 0", sl.Compactness)}
		case sl.Iterations < 0:
			return nil, &OptionError{Option: "--iterations", Err: fmt.Errorf("%d: want >= 1", sl.Iterations)}
		case sp.MaxBand < 0:
			return nil, &OptionError{Option: "--max-band", Err: fmt.Errorf("%d: want >= 0 (0: no cap)", sp.MaxBand)}
		}
		d, err := sp.withDefaults()
		if err != nil {
			return nil, &OptionError{Option: "--fg-thresh/--bg-thresh", Err: err}
		}
		if d.SLIC.Compactness == 0 {
			d.SLIC.Compactness = DefaultCompactness
		}
		if d.SLIC.Iterations == 0 {
			d.SLIC.Iterations = DefaultIterations
		}
		if d.MinBand < 0 {
			d.MinBand = -1
		}
		c.sp = d
		r.Superpixels, r.RegionSize = d.SLIC.Superpixels, d.SLIC.RegionSize
		if r.RegionSize > 0 {
			r.Superpixels = 0
		}
		r.Compactness, r.Iterations = d.SLIC.Compactness, d.SLIC.Iterations
		r.FGThresh, r.BGThresh, r.MinBand, r.MaxBand = d.FGThresh, d.BGThresh, d.MinBand, d.MaxBand
	case MethodErode:
		m := o.Morph
		if _, _, err := MorphWidths(m, ""); err != nil {
			if m.MaxWidth > 0 {
				return nil, &OptionError{Option: "--width-range", Err: err}
			}
			return nil, &OptionError{Option: "--width", Err: err}
		}
		if m.MaxWidth > 0 {
			r.WidthRange, r.Seed = []int{m.MinWidth, m.MaxWidth}, m.Seed
		} else {
			r.Width = m.Width
			if r.Width == 0 {
				r.Width = DefaultMorphWidth
			}
		}
	}
	c.record = r
	return c, nil
}

// itemResult is what one row gave.
type itemResult struct {
	done    bool // row holds the updated row
	row     dataset.Sample
	made    bool
	written bool
	reused  bool
	from    string
	rejects []dataset.Reject
	quality *SampleQuality
}

// UpdateDataset builds a trimap for every row of the canonical dataset
// o.Dataset and records it in place:
//
//   - it writes OutDir/<id>.png (values 0, 128, 255) and puts its sha256
//     in the row's sha256 map and how it was made in extra.trimap[OutDir]
//     (a [Record]);
//   - the row's trimap field is set to it when the row had none, or when
//     it replaces the row's trimap (same path: Force for a trimap that
//     segtool trimap did not write). Otherwise the row keeps its trimap
//     (a human one, the reference of the report) and the new one is
//     recorded beside it;
//   - a row whose trimap for OutDir exists with the recorded sha256 and
//     was made with the same options from the same inputs is skipped, so a
//     second identical run writes no file;
//   - a missing, unreadable or wrong-size image or matte is a reject line
//     (the row is left as it was); an all-zero or all-255 matte gives an
//     all-background or all-foreground trimap, kept and flagged. New
//     lines are appended to rejects.jsonl;
//   - manifest.jsonl is rewritten atomically at the end, only if its
//     bytes change; with Report so is ReportFile.
//
// Samples run on Workers goroutines and results are gathered by index, so
// the output does not depend on Workers. When ctx is cancelled or a file
// cannot be written, the rows finished so far are still saved and the
// error is returned. Faults in the options are *OptionError (an
// out-dir holding the rows' own trimaps without Force wraps
// ErrWouldOverwrite, a superpixel count above an image's pixel count
// wraps ErrSuperpixelCount). ErrNoTrimaps means every sample was rejected.
func UpdateDataset(ctx context.Context, o DatasetOptions) (Summary, error) {
	start := time.Now()
	sum := Summary{Dataset: o.Dataset, RejectCodes: map[string]int{}, From: map[string]int{}}
	c, err := checkOptions(o)
	if err != nil {
		return sum, err
	}
	sum.OutDir, sum.Method = c.OutDir, c.Method
	d, err := dataset.Open(c.Dataset)
	if err != nil {
		return sum, err
	}
	rows := d.Samples
	sum.Samples = len(rows)
	if len(rows) == 0 {
		return sum, fmt.Errorf("%s: the manifest has no rows", d.Dir)
	}
	// Options checked against the rows: the superpixel count, and the
	// rows' own trimaps in the way.
	if c.Method == MethodSuperpixel && c.sp.SLIC.RegionSize == 0 && c.sp.SLIC.Superpixels > 0 {
		for _, s := range rows {
			if s.Width > 0 && s.Height > 0 {
				if err := CheckSuperpixelCount(c.sp.SLIC.Superpixels, s.Width*s.Height); err != nil {
					return sum, &OptionError{Option: "--superpixels", Err: fmt.Errorf("sample %s is %dx%d: %w", s.ID, s.Width, s.Height, err)}
				}
			}
		}
	}
	if !c.Force {
		n, first := 0, ""
		for _, s := range rows {
			if ref := reference(s); ref != "" && ref == outPath(c.OutDir, s.ID) {
				if n == 0 {
					first = ref
				}
				n++
			}
		}
		if n > 0 {
			return sum, &OptionError{Option: "--out-dir/--force", Err: fmt.Errorf("%w: %d rows already have trimaps in %s/ (e.g. %s), the reference for --report; write to another --out-dir (e.g. %s-sp) to keep them, or pass --force to replace them",
				ErrWouldOverwrite, n, c.OutDir, first, c.OutDir)}
		}
	}
	if err := os.MkdirAll(filepath.Join(d.Dir, c.OutDir), 0o755); err != nil {
		return sum, fmt.Errorf("create %s: %w", filepath.Join(d.Dir, c.OutDir), err)
	}
	oldManifest, err := os.ReadFile(filepath.Join(d.Dir, dataset.ManifestFile))
	if err != nil {
		return sum, fmt.Errorf("read manifest: %w", err)
	}

	// Across images when there are enough of them, within an image when
	// there are few.
	workers := c.Workers
	if workers <= 0 {
		workers = defaultWorkers()
	}
	c.sp.SLIC.Workers = max(1, workers/len(rows))
	results := make([]itemResult, len(rows))
	var done atomic.Int64
	loopErr := ForEach(ctx, len(rows), workers, func(ctx context.Context, i int) error {
		res, err := c.one(ctx, d, rows[i])
		if err != nil {
			return err
		}
		results[i] = res
		n := int(done.Add(1))
		if c.Progress != nil {
			c.Progress(n, len(rows))
		}
		return nil
	})

	// Gather by index, so the output is independent of scheduling.
	var rejects []dataset.Reject
	var quality []SampleQuality
	for i, res := range results {
		if !res.done {
			continue
		}
		rows[i] = res.row
		rejects = append(rejects, res.rejects...)
		if res.made {
			sum.Made++
		}
		if res.written {
			sum.Written++
		}
		if res.reused {
			sum.Reused++
		}
		if res.from != "" {
			sum.From[res.from]++
		}
		if res.quality != nil {
			quality = append(quality, *res.quality)
		}
	}
	sum.Rejects, sum.Flagged = dataset.TallyRejects(rejects, sum.RejectCodes)
	// Save what was done even after an error: every finished row matches
	// its files.
	newManifest, err := dataset.EncodeRows(rows)
	if err != nil {
		return sum, err
	}
	sum.ManifestChanged = !bytes.Equal(newManifest, oldManifest)
	saveErr := dataset.WriteManifest(d.Dir, rows)
	n, rerr := appendRejects(d.Dir, rejects)
	sum.NewRejectLines = n
	if err := errors.Join(saveErr, rerr); err != nil {
		return sum, errors.Join(loopErr, err)
	}
	if loopErr != nil {
		sum.Elapsed = time.Since(start)
		if ctx.Err() != nil && errors.Is(loopErr, ctx.Err()) {
			return sum, fmt.Errorf("interrupted after %d of %d samples (those are saved; rerun to finish): %w", done.Load(), len(rows), loopErr)
		}
		return sum, loopErr
	}
	if c.Report {
		rep := &Report{Method: c.Method, OutDir: c.OutDir, Samples: quality}
		if rep.Samples == nil {
			rep.Samples = []SampleQuality{}
		}
		rep.Mean = meanQuality(quality)
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return sum, err
		}
		sum.ReportPath = filepath.Join(d.Dir, ReportFile)
		if _, err := dataset.WriteFileIfChanged(sum.ReportPath, append(b, '\n')); err != nil {
			return sum, err
		}
		sum.Report = rep
	}
	sum.Elapsed = time.Since(start)
	if sum.Made+sum.Reused == 0 {
		return sum, ErrNoTrimaps
	}
	return sum, nil
}

func defaultWorkers() int { return runtime.GOMAXPROCS(0) }

// outPath is a trimap's path relative to the dataset.
func outPath(outDir, id string) string { return path.Join(outDir, id+".png") }

// records decodes a row's extra.trimap; anything unreadable counts as no
// record.
func records(s dataset.Sample) map[string]Record {
	m := map[string]Record{}
	if raw, ok := s.Extra[ExtraKey]; ok {
		if json.Unmarshal(raw, &m) != nil {
			return map[string]Record{}
		}
	}
	return m
}

// reference returns the row's trimap when segtool trimap did not write
// it (a human trimap, say), else "".
func reference(s dataset.Sample) string {
	if s.Trimap == "" {
		return ""
	}
	for _, r := range records(s) {
		if r.Path == s.Trimap {
			return ""
		}
	}
	return s.Trimap
}

// cloneRow copies the maps a run changes.
func cloneRow(s dataset.Sample) dataset.Sample {
	sha := make(map[string]string, len(s.SHA256)+1)
	for k, v := range s.SHA256 {
		sha[k] = v
	}
	s.SHA256 = sha
	extra := make(map[string]json.RawMessage, len(s.Extra)+1)
	for k, v := range s.Extra {
		extra[k] = v
	}
	s.Extra = extra
	return s
}

func sha256Hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// one builds, or finds up to date, the trimap of one row. Bad input is a
// reject in the result; only cancellation and failures to write are
// errors.
func (c *checkedOptions) one(ctx context.Context, d *dataset.Dataset, s dataset.Sample) (itemResult, error) {
	if err := ctx.Err(); err != nil {
		return itemResult{}, err
	}
	s = cloneRow(s)
	res := itemResult{row: s}
	recs := records(s)
	ref := reference(s)
	out := outPath(c.OutDir, s.ID)

	// Which matte.
	rec := c.record
	rec.Path = out
	var mattePath string
	switch {
	case c.predsDir != "":
		rec.From, res.from = PredsPrefix+c.predsDir, "preds"
		rec.Matte = filepath.Join(c.predsDir, s.ID+".png")
		mattePath = rec.Matte
	case c.From == FromMask || (c.From == "" && s.Alpha == ""):
		rec.From, res.from, rec.Matte = FromMask, FromMask, s.Mask
		mattePath = d.Path(s.Mask)
	default:
		rec.From, res.from, rec.Matte = FromAlpha, FromAlpha, s.Alpha
		mattePath = d.Path(s.Alpha)
	}
	reject := func(code, source, format string, args ...any) (itemResult, error) {
		return itemResult{done: true, row: s, rejects: []dataset.Reject{{ID: s.ID, Source: []string{source}, Stage: rejectStage,
			Code: code, Reason: fmt.Sprintf(format, args...)}}}, nil
	}
	if rec.Matte == "" {
		return reject(dataset.CodeMissingPartner, s.Image, "--from alpha: the row has no alpha matte")
	}
	matteBytes, err := os.ReadFile(mattePath)
	if errors.Is(err, fs.ErrNotExist) {
		if c.predsDir != "" {
			return reject(dataset.CodeMissingPartner, rec.Matte, "no prediction for this sample (looked for %s)", rec.Matte)
		}
		return reject(dataset.CodeMissingPartner, rec.Matte, "the row's %s %s is missing", rec.From, rec.Matte)
	}
	if err != nil {
		return reject(dataset.CodeCorrupt, rec.Matte, "cannot read: %v", err)
	}
	rec.MatteSHA256 = sha256Hex(matteBytes)
	if c.Method == MethodSuperpixel {
		rec.ImageSHA256 = s.SHA256[s.Image]
		if rec.ImageSHA256 == "" {
			b, err := os.ReadFile(d.Path(s.Image))
			if err != nil {
				return reject(dataset.CodeMissingPartner, s.Image, "cannot read the image: %v", err)
			}
			rec.ImageSHA256 = sha256Hex(b)
		}
	}

	// Up to date?
	if prev, ok := recs[c.OutDir]; ok && prev.sameInputs(rec) && s.SHA256[out] != "" {
		if b, err := os.ReadFile(d.Path(out)); err == nil && sha256Hex(b) == s.SHA256[out] {
			res.done, res.reused = true, true
			res.rejects = flagRejects(s.ID, rec.Matte, prev.Flag)
			if c.Report {
				tri, err := decodeGray(out, b)
				if err != nil {
					return itemResult{}, fmt.Errorf("sample %s: %s: %w", s.ID, d.Path(out), err)
				}
				q, err := c.quality(d, s, ref, tri, matteBytes, rec.Matte)
				if err != nil {
					return itemResult{}, err
				}
				res.quality = q
			}
			return res, nil
		}
	}

	// Read and check the inputs.
	matte, err := decodeGray(rec.Matte, matteBytes)
	if err != nil {
		return reject(sampleCode(err, dataset.CodeCorrupt), rec.Matte, "cannot decode the matte: %v", err)
	}
	if matte.W != s.Width || matte.H != s.Height {
		return reject(dataset.CodeSizeMismatch, rec.Matte, "matte is %dx%d but the image is %dx%d", matte.W, matte.H, s.Width, s.Height)
	}
	var tri Gray
	var flag Flag
	switch c.Method {
	case MethodSuperpixel:
		b, err := os.ReadFile(d.Path(s.Image))
		if errors.Is(err, fs.ErrNotExist) {
			return reject(dataset.CodeMissingPartner, s.Image, "the row's image %s is missing", s.Image)
		} else if err != nil {
			return reject(dataset.CodeCorrupt, s.Image, "cannot read the image: %v", err)
		}
		im, err := decodeImage(s.Image, b)
		if err != nil {
			return reject(sampleCode(err, dataset.CodeCorrupt), s.Image, "cannot decode the image: %v", err)
		}
		if im.W != matte.W || im.H != matte.H {
			return reject(dataset.CodeSizeMismatch, s.Image, "image is %dx%d but the matte %s is %dx%d", im.W, im.H, rec.Matte, matte.W, matte.H)
		}
		if v, ok := uniform(matte.Pix); ok && (v == 0 || v == 255) {
			tri, flag, err = FromSuperpixels(ctx, im, matte, c.sp)
		} else {
			var sp *Superpixels
			sp, err = SLIC(ctx, im, c.sp.SLIC)
			if err == nil {
				rec.SuperpixelCount = sp.N
				tri, flag, err = FromLabels(sp, matte, c.sp)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return itemResult{}, ctx.Err()
			}
			return itemResult{}, fmt.Errorf("sample %s: %s: %w", s.ID, d.Path(s.Image), err)
		}
	case MethodErode:
		if _, err := os.Stat(d.Path(s.Image)); err != nil {
			return reject(dataset.CodeMissingPartner, s.Image, "the row's image %s is missing", s.Image)
		}
		fg, bg, err := MorphWidths(c.Morph, s.ID)
		if err != nil {
			return itemResult{}, fmt.Errorf("sample %s: %w", s.ID, err)
		}
		rec.Widths = []int{fg, bg}
		if tri, flag, err = Morphological(matte, fg, bg); err != nil {
			return itemResult{}, fmt.Errorf("sample %s: %s: %w", s.ID, mattePath, err)
		}
	}
	rec.Flag = flag.String()
	res.rejects = flagRejects(s.ID, rec.Matte, rec.Flag)

	// The report reads the reference before a forced run replaces it.
	if c.Report {
		q, err := c.quality(d, s, ref, tri, matteBytes, rec.Matte)
		if err != nil {
			return itemResult{}, err
		}
		res.quality = q
	}

	png, err := encodePNG(tri)
	if err != nil {
		return itemResult{}, fmt.Errorf("sample %s: encode %s: %w", s.ID, out, err)
	}
	wrote, err := dataset.WriteFileIfChanged(d.Path(out), png)
	if err != nil {
		return itemResult{}, fmt.Errorf("sample %s: %w", s.ID, err)
	}
	// A trimap this command wrote earlier to another path stays, with
	// its own record and digest.
	s.SHA256[out] = sha256Hex(png)
	if s.Trimap == "" || s.Trimap == out {
		s.Trimap = out
	}
	recs[c.OutDir] = rec
	raw, err := json.Marshal(recs)
	if err != nil {
		return itemResult{}, fmt.Errorf("sample %s: %w", s.ID, err)
	}
	s.Extra[ExtraKey] = raw
	res.row, res.done, res.made, res.written = s, true, true, wrote
	return res, nil
}

// flagRejects returns the kept-but-flagged line for a flagged trimap.
func flagRejects(id, matte, flag string) []dataset.Reject {
	switch flag {
	case FlagAllBackground.String():
		return []dataset.Reject{{ID: id, Source: []string{matte}, Stage: rejectStage, Code: dataset.CodeEmptyMask, Kept: true,
			Reason: "the matte is 0 everywhere: the trimap is all background; sample kept but flagged"}}
	case FlagAllForeground.String():
		return []dataset.Reject{{ID: id, Source: []string{matte}, Stage: rejectStage, Code: CodeFullMatte, Kept: true,
			Reason: "the matte is 255 everywhere: the trimap is all foreground; sample kept but flagged"}}
	}
	return nil
}

// quality measures tri against the row's alpha (else the matte it came
// from) and the reference trimap ref, when there is one.
func (c *checkedOptions) quality(d *dataset.Dataset, s dataset.Sample, ref string, tri Gray, matteBytes []byte, matteName string) (*SampleQuality, error) {
	q := &SampleQuality{ID: s.ID, Trimap: outPath(c.OutDir, s.ID), Reference: ref}
	alphaName, alphaBytes := matteName, matteBytes
	if s.Alpha != "" && s.Alpha != matteName {
		b, err := os.ReadFile(d.Path(s.Alpha))
		if err != nil {
			return nil, fmt.Errorf("sample %s: report: %w", s.ID, err)
		}
		alphaName, alphaBytes = s.Alpha, b
	}
	alpha, err := decodeGray(alphaName, alphaBytes)
	if err != nil {
		return nil, fmt.Errorf("sample %s: report: %w", s.ID, err)
	}
	recall, n, err := TransitionRecall(tri, alpha)
	if err != nil {
		return nil, fmt.Errorf("sample %s: report: %s: %w", s.ID, alphaName, err)
	}
	q.TransitionRecall, q.Transition, q.Unknown = recall, n, countUnknown(tri)
	if ref == "" {
		return q, nil
	}
	b, err := os.ReadFile(d.Path(ref))
	var human Gray
	if err == nil {
		human, err = decodeGray(ref, b)
	}
	if err == nil && (human.W != tri.W || human.H != tri.H) {
		err = fmt.Errorf("%w: reference is %dx%d, trimap %dx%d", ErrBadInput, human.W, human.H, tri.W, tri.H)
	}
	if err != nil {
		q.Note = fmt.Sprintf("no ratio: %v", err)
		return q, nil
	}
	q.HumanUnknown = countUnknown(human)
	if r := areaRatio(q.Unknown, q.HumanUnknown); !math.IsInf(r, 0) {
		q.UnknownAreaRatio = &r
	} else {
		q.Note = "no ratio: the reference has no unknown pixel"
	}
	return q, nil
}

func meanQuality(qs []SampleQuality) MeanQuality {
	m := MeanQuality{Samples: len(qs)}
	ratio := 0.0
	for _, q := range qs {
		m.TransitionRecall += q.TransitionRecall
		if q.UnknownAreaRatio != nil {
			ratio += *q.UnknownAreaRatio
			m.WithRatio++
		}
	}
	if m.Samples > 0 {
		m.TransitionRecall /= float64(m.Samples)
	}
	if m.WithRatio > 0 {
		ratio /= float64(m.WithRatio)
		m.UnknownAreaRatio = &ratio
	}
	return m
}

// sampleCode returns the reject code a dataset decoder attached to err.
func sampleCode(err error, fallback string) string {
	var se *dataset.SampleError
	if errors.As(err, &se) && se.Code != "" {
		return se.Code
	}
	return fallback
}

// decodeGray decodes a single-channel label file (matte, mask, trimap)
// the way the dataset package does: palette indices kept, 16 bit scaled,
// grey stored as colour taken as grey, truncated files refused.
func decodeGray(name string, b []byte) (Gray, error) {
	m, _, _, err := dataset.DecodeLabel(name, b)
	if err != nil {
		return Gray{}, err
	}
	defer m.Close()
	return GrayFromMat(m)
}

// decodeImage decodes an RGB image as dataset.DecodeRGB does.
func decodeImage(name string, b []byte) (Image, error) {
	m, _, _, err := dataset.DecodeRGB(name, b)
	if err != nil {
		return Image{}, err
	}
	defer m.Close()
	return ImageFromMat(m)
}

// encodePNG renders g as PNG bytes with OpenCV's default (fast) settings.
func encodePNG(g Gray) ([]byte, error) {
	m, err := g.Mat()
	if err != nil {
		return nil, err
	}
	defer m.Close()
	buf, err := gocv.IMEncode(gocv.PNGFileExt, m)
	if err != nil {
		return nil, err
	}
	defer buf.Close()
	out := append([]byte(nil), buf.GetBytes()...)
	if len(out) == 0 {
		return nil, errors.New("PNG encoder returned no bytes")
	}
	return out, nil
}

// appendRejects appends to rejects.jsonl the lines it does not already
// hold, atomically, and returns how many it added.
func appendRejects(dir string, rs []dataset.Reject) (int, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	p := filepath.Join(dir, dataset.RejectsFile)
	old, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("read rejects: %w", err)
	}
	have := map[string]bool{}
	for _, line := range bytes.Split(old, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			have[string(line)] = true
		}
	}
	buf := append([]byte(nil), old...)
	if len(buf) > 0 && buf[len(buf)-1] != '\n' {
		buf = append(buf, '\n')
	}
	n := 0
	for _, r := range rs {
		b, err := json.Marshal(r)
		if err != nil {
			return 0, err
		}
		if have[string(b)] {
			continue
		}
		have[string(b)] = true
		buf = append(append(buf, b...), '\n')
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return n, dataset.WriteFileAtomic(p, buf)
}

// SLICTiming is what [TimeSLIC] measured.
type SLICTiming struct {
	W, H        int
	Runs        int
	Workers     int // as given (0: all cores)
	Total       time.Duration
	Superpixels int // labels of the last run
}

// MsPerMegapixel is the mean time of one run per million pixels.
func (t SLICTiming) MsPerMegapixel() float64 {
	if t.Runs == 0 {
		return 0
	}
	return 1000 * t.Total.Seconds() / float64(t.Runs) / (float64(t.W*t.H) / 1e6)
}

// TimeSLIC runs [SLIC] on im once untimed, then n times timed, with
// opt (opt.Workers decides the goroutines within the image). It is the
// measurement of `segtool bench slic`.
func TimeSLIC(ctx context.Context, im Image, opt SLICOptions, n int) (SLICTiming, error) {
	t := SLICTiming{W: im.W, H: im.H, Workers: opt.Workers}
	if n < 1 {
		return t, fmt.Errorf("%w: %d runs", ErrBadInput, n)
	}
	if _, err := SLIC(ctx, im, opt); err != nil {
		return t, err
	}
	start := time.Now()
	for range n {
		sp, err := SLIC(ctx, im, opt)
		if err != nil {
			return t, err
		}
		t.Superpixels = sp.N
		t.Runs++
	}
	t.Total = time.Since(start)
	return t, nil
}
