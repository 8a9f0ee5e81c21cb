package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"strings"
	"time"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/trimap"
	"gocv.io/x/gocv"
)

// Methods of [TrimapOptions].
const (
	TrimapMethodSuperpixel = "superpixel" // [trimap.FromSuperpixels]
	TrimapMethodErode      = "erode"      // [trimap.Morphological]
)

// Matte sources of [TrimapOptions].From.
const (
	TrimapFromAlpha = "alpha" // the row's alpha matte
	TrimapFromMask  = "mask"  // the row's 0/255 mask
	// TrimapPredsPrefix starts "preds:DIR": DIR/<id>.png, a model's
	// predicted matte or mask (8-bit grey), for automatic matting.
	TrimapPredsPrefix = "preds:"
)

// Names used by [Trimap] in the dataset.
const (
	// TrimapDefaultOutDir is the folder the trimaps go to when none is given.
	TrimapDefaultOutDir = dataset.TrimapsDir
	// TrimapReportFile is the quality report written with TrimapOptions.Report.
	TrimapReportFile = "trimap_report.json"
	// TrimapExtraKey is the key of a row's extra map that records how its
	// trimaps were made: an object from out-dir to [TrimapRecord].
	TrimapExtraKey = "trimap"
	// TrimapCodeFullMatte is the reject code of a matte that is 255
	// everywhere (kept, with an all-foreground trimap). An all-zero matte
	// gets dataset.CodeEmptyMask.
	TrimapCodeFullMatte = "full-matte"
	// trimapRejectStage is the stage of every reject line Trimap writes.
	trimapRejectStage = "trimap"
)

// ErrTrimapWouldOverwrite reports an out-dir holding the rows' existing
// trimaps (the reference for the report), which only Force may replace.
var ErrTrimapWouldOverwrite = errors.New("would overwrite the existing trimaps")

// ErrNoTrimaps reports a run in which every sample was rejected.
var ErrNoTrimaps = errors.New("no trimap made: every sample was rejected; see rejects.jsonl for the reasons")

// TrimapOptions configure [Trimap].
type TrimapOptions struct {
	// Dataset is the canonical dataset folder, updated in place.
	Dataset string
	// Method is TrimapMethodSuperpixel (default) or TrimapMethodErode.
	Method string
	// From is the matte a trimap is built from: "" (the alpha where the
	// row has one, else the mask), TrimapFromAlpha, TrimapFromMask, or
	// "preds:DIR".
	From string
	// OutDir is the folder, inside the dataset, the trimaps go to:
	// OutDir/<id>.png. One folder name; default TrimapDefaultOutDir.
	OutDir string
	// Superpixel configures TrimapMethodSuperpixel. SLIC.Workers is
	// ignored: Trimap spreads Workers over the samples.
	Superpixel trimap.SuperpixelOptions
	// Morph configures TrimapMethodErode.
	Morph trimap.MorphOptions
	// Report computes, per sample, the transition recall and the
	// unknown-area ratio against the row's existing trimap, and writes
	// TrimapReportFile.
	Report bool
	// Force lets the trimaps replace the rows' existing trimaps when
	// OutDir is where those are.
	Force bool
	// Workers is the number of samples processed at once: Workers(n), so
	// 0 means all cores. The output does not depend on it.
	Workers int
	// Progress, if set, is called after each sample with the number done
	// and the total. It may be called from several goroutines.
	Progress func(done, total int)
	// MaxPixels refuses images larger than this (dataset.Decoder); 0
	// means dataset.DefaultMaxPixels.
	MaxPixels int64
}

// TrimapRecord is what a row's extra.trimap holds per out-dir: the
// options that made the trimap (a later run with the same ones skips the
// sample), the inputs' digests, and what the run drew or found.
type TrimapRecord struct {
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
func (r TrimapRecord) sameInputs(o TrimapRecord) bool {
	r.Widths, r.SuperpixelCount, r.Flag = nil, 0, ""
	o.Widths, o.SuperpixelCount, o.Flag = nil, 0, ""
	return reflect.DeepEqual(r, o)
}

// TrimapReport is the quality report of a run with TrimapOptions.Report,
// as written to TrimapReportFile.
type TrimapReport struct {
	Method  string                `json:"method"`
	OutDir  string                `json:"out_dir"`
	Samples []TrimapSampleQuality `json:"samples"`
	Mean    TrimapMeanQuality     `json:"mean"`
}

// TrimapSampleQuality is one sample's line of the report.
type TrimapSampleQuality struct {
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

// TrimapMeanQuality holds the means over the report's samples; the
// ratio's over those with a ratio (nil when none has one).
type TrimapMeanQuality struct {
	TransitionRecall float64  `json:"transition_recall"`
	UnknownAreaRatio *float64 `json:"unknown_area_ratio"`
	Samples          int      `json:"samples"`
	WithRatio        int      `json:"samples_with_ratio"`
}

// TrimapSummary is what Trimap did. The UpdateTally's Out is the dataset,
// Samples its manifest rows, Reused the rows skipped because their trimap
// was up to date for these options, Rejects the samples left without a
// trimap and Flagged the kept ones with an all-background or
// all-foreground trimap (RejectCodes counts both by code), NewRejectLines
// how many lines rejects.jsonl gained (a line already there is not
// repeated).
type TrimapSummary struct {
	UpdateTally
	OutDir, Method string
	Made           int // trimaps computed this run
	Written        int // trimap files whose bytes changed (also Files)
	// From counts rows by the matte their trimap came from: alpha, mask
	// or preds.
	From       map[string]int
	Report     *TrimapReport // with TrimapOptions.Report
	ReportPath string
}

// ImagesPerSecond is the rate of trimaps made (0 when none was).
func (s TrimapSummary) ImagesPerSecond() float64 {
	if s.Made == 0 {
		return 0
	}
	return float64(s.Made) / max(s.Elapsed.Seconds(), 1e-9)
}

// trimapChecked are TrimapOptions validated, with defaults filled in.
type trimapChecked struct {
	TrimapOptions
	sp       trimap.SuperpixelOptions
	predsDir string       // absolute, for preds:
	record   TrimapRecord // the option fields of every row's record
}

func trimapCheck(o TrimapOptions) (*trimapChecked, error) {
	c := &trimapChecked{TrimapOptions: o}
	if o.Dataset == "" {
		return nil, &dataset.OptionError{Field: "Dataset", Err: errors.New("no dataset given")}
	}
	if st, err := os.Stat(o.Dataset); err != nil {
		return nil, &dataset.OptionError{Field: "Dataset", Err: err}
	} else if !st.IsDir() {
		return nil, &dataset.OptionError{Field: "Dataset", Err: fmt.Errorf("%s is not a folder", o.Dataset)}
	}
	switch c.Method {
	case "":
		c.Method = TrimapMethodSuperpixel
	case TrimapMethodSuperpixel, TrimapMethodErode:
	default:
		return nil, &dataset.OptionError{Field: "Method", Err: fmt.Errorf("%q: want %s or %s", o.Method, TrimapMethodSuperpixel, TrimapMethodErode)}
	}
	switch f := o.From; {
	case f == "" || f == TrimapFromAlpha || f == TrimapFromMask:
	case strings.HasPrefix(f, TrimapPredsPrefix):
		dir := strings.TrimPrefix(f, TrimapPredsPrefix)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, &dataset.OptionError{Field: "From", Err: fmt.Errorf("%s: %s is not a folder of predictions", f, dir)}
		}
		abs, err := filepath.Abs(dir)
		if err != nil {
			return nil, &dataset.OptionError{Field: "From", Err: err}
		}
		c.predsDir = abs
	default:
		return nil, &dataset.OptionError{Field: "From", Err: fmt.Errorf("%q: want alpha, mask or preds:DIR", f)}
	}
	if c.OutDir == "" {
		c.OutDir = TrimapDefaultOutDir
	}
	if c.OutDir != filepath.Base(c.OutDir) || strings.ContainsAny(c.OutDir, `/\`) || c.OutDir == "." || c.OutDir == ".." {
		return nil, &dataset.OptionError{Field: "OutDir", Err: fmt.Errorf("%q: want one folder name inside the dataset, e.g. trimaps-sp", o.OutDir)}
	}
	switch c.OutDir {
	case dataset.ImagesDir, dataset.MasksDir, dataset.AlphasDir, dataset.InstancesDir:
		return nil, &dataset.OptionError{Field: "OutDir", Err: fmt.Errorf("%q holds the dataset's %s", c.OutDir, c.OutDir)}
	}
	r := TrimapRecord{Method: c.Method}
	switch c.Method {
	case TrimapMethodSuperpixel:
		sp := o.Superpixel
		sl := sp.SLIC
		switch {
		case sl.Superpixels < 0:
			return nil, &dataset.OptionError{Field: "Superpixels", Err: fmt.Errorf("%w: %d", trimap.ErrSuperpixelCount, sl.Superpixels)}
		case sl.RegionSize < 0:
			return nil, &dataset.OptionError{Field: "RegionSize", Err: fmt.Errorf("%d: want a grid step >= 1", sl.RegionSize)}
		case !(sl.Compactness >= 0) || math.IsInf(sl.Compactness, 0):
			return nil, &dataset.OptionError{Field: "Compactness", Err: fmt.Errorf("%v: want > 0", sl.Compactness)}
		case sl.Iterations < 0:
			return nil, &dataset.OptionError{Field: "Iterations", Err: fmt.Errorf("%d: want >= 1", sl.Iterations)}
		case sp.MaxBand < 0:
			return nil, &dataset.OptionError{Field: "MaxBand", Err: fmt.Errorf("%d: want >= 0 (0: no cap)", sp.MaxBand)}
		}
		d, err := sp.WithDefaults()
		if err != nil {
			return nil, &dataset.OptionError{Field: "FGThresh/BGThresh", Err: err}
		}
		if d.SLIC.Compactness == 0 {
			d.SLIC.Compactness = trimap.DefaultCompactness
		}
		if d.SLIC.Iterations == 0 {
			d.SLIC.Iterations = trimap.DefaultIterations
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
	case TrimapMethodErode:
		m := o.Morph
		if _, _, err := trimap.MorphWidths(m, ""); err != nil {
			if m.MaxWidth > 0 {
				return nil, &dataset.OptionError{Field: "WidthRange", Err: err}
			}
			return nil, &dataset.OptionError{Field: "Width", Err: err}
		}
		if m.MaxWidth > 0 {
			r.WidthRange, r.Seed = []int{m.MinWidth, m.MaxWidth}, m.Seed
		} else {
			r.Width = m.Width
			if r.Width == 0 {
				r.Width = trimap.DefaultMorphWidth
			}
		}
	}
	c.record = r
	return c, nil
}

// trimapResult is what one row gave besides its Outcome.
type trimapResult struct {
	made    bool
	written bool
	reused  bool
	from    string
	quality *TrimapSampleQuality
}

// Trimap builds a trimap for every row of the canonical dataset o.Dataset
// and records it in place:
//
//   - it writes OutDir/<id>.png (values 0, 128, 255) and puts its sha256
//     in the row's sha256 map and how it was made in extra.trimap[OutDir]
//     (a [TrimapRecord]);
//   - the row's trimap field is set to it when the row had none, or when
//     it replaces the row's trimap (same path: Force for a trimap that
//     Trimap did not write). Otherwise the row keeps its trimap (a human
//     one, the reference of the report) and the new one is recorded
//     beside it;
//   - a row whose trimap for OutDir exists with the recorded sha256 and
//     was made with the same options from the same inputs is skipped, so a
//     second identical run writes no file;
//   - a missing, unreadable or wrong-size image or matte is a reject line
//     (the row is left as it was); an all-zero or all-255 matte gives an
//     all-background or all-foreground trimap, kept and flagged. New
//     lines are appended to rejects.jsonl;
//   - manifest.jsonl is rewritten atomically at the end, only if its
//     bytes change; with Report so is TrimapReportFile.
//
// It runs on [Update]: samples run on Workers goroutines and results are
// gathered by index, so the output does not depend on Workers. When ctx
// is cancelled (the error wraps ctx.Err()) or a file cannot be
// written, the rows finished so far are still saved and the error is
// returned. Faults in the options are *dataset.OptionError (an out-dir
// holding the rows' own trimaps without Force wraps
// ErrTrimapWouldOverwrite, a superpixel count above an image's pixel
// count wraps trimap.ErrSuperpixelCount). ErrNoTrimaps means every sample
// was rejected.
func Trimap(ctx context.Context, o TrimapOptions) (TrimapSummary, error) {
	start := time.Now()
	sum := TrimapSummary{UpdateTally: UpdateTally{Tally: newTally(o.Dataset)}, From: map[string]int{}}
	c, err := trimapCheck(o)
	if err != nil {
		return sum, err
	}
	sum.OutDir, sum.Method = c.OutDir, c.Method
	w, d, err := dataset.OpenUpdate(c.Dataset)
	if err != nil {
		return sum, err
	}
	defer w.Release()
	d.Decoder.MaxPixels = o.MaxPixels
	rows := d.Samples
	sum.Samples = len(rows)
	if len(rows) == 0 {
		return sum, fmt.Errorf("%s: the manifest has no rows", d.Dir)
	}
	// Options checked against the rows: the superpixel count, and the
	// rows' own trimaps in the way.
	if c.Method == TrimapMethodSuperpixel && c.sp.SLIC.RegionSize == 0 && c.sp.SLIC.Superpixels > 0 {
		for _, s := range rows {
			if s.Width > 0 && s.Height > 0 {
				if err := trimap.CheckSuperpixelCount(c.sp.SLIC.Superpixels, s.Width*s.Height); err != nil {
					return sum, &dataset.OptionError{Field: "Superpixels", Err: fmt.Errorf("sample %s is %dx%d: %w", s.ID, s.Width, s.Height, err)}
				}
			}
		}
	}
	if !c.Force {
		n, first := 0, ""
		for _, s := range rows {
			if ref := trimapReference(s); ref != "" && ref == trimapOutPath(c.OutDir, s.ID) {
				if n == 0 {
					first = ref
				}
				n++
			}
		}
		if n > 0 {
			return sum, &dataset.OptionError{Field: "OutDir/Force", Err: fmt.Errorf("%w: %d rows already have trimaps in %s/ (e.g. %s)",
				ErrTrimapWouldOverwrite, n, c.OutDir, first)}
		}
	}
	if err := dataset.CheckInside(d.Dir, filepath.Join(d.Dir, c.OutDir)); err != nil {
		return sum, &dataset.OptionError{Field: "OutDir", Err: err}
	}
	if err := os.MkdirAll(filepath.Join(d.Dir, c.OutDir), 0o755); err != nil {
		return sum, fmt.Errorf("create %s: %w", filepath.Join(d.Dir, c.OutDir), err)
	}

	// Across images when there are enough of them, within an image when
	// there are few.
	c.sp.SLIC.Workers = max(1, Workers(c.Workers)/len(rows))
	results := make([]trimapResult, len(rows))
	u := &Update{Dir: d.Dir, Workers: c.Workers, Progress: c.Progress}
	t, _, err := u.Run(ctx, w, rows, func(ctx context.Context, i int) (Outcome, error) {
		o, res, err := c.one(ctx, d, rows[i])
		if err == nil {
			results[i] = res
		}
		return o, err
	})
	sum.UpdateTally = t
	for _, res := range results {
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
	}
	sum.Files = sum.Written
	sum.Elapsed = time.Since(start)
	if err != nil {
		return sum, err
	}
	if c.Report {
		rep := &TrimapReport{Method: c.Method, OutDir: c.OutDir, Samples: []TrimapSampleQuality{}}
		for _, res := range results {
			if res.quality != nil {
				rep.Samples = append(rep.Samples, *res.quality)
			}
		}
		rep.Mean = trimapMeanQuality(rep.Samples)
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return sum, err
		}
		sum.ReportPath = filepath.Join(d.Dir, TrimapReportFile)
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

// trimapOutPath is a trimap's path relative to the dataset.
func trimapOutPath(outDir, id string) string { return path.Join(outDir, id+".png") }

// trimapRecords decodes a row's extra.trimap; anything unreadable counts as no
// record.
func trimapRecords(s dataset.Sample) map[string]TrimapRecord {
	m := map[string]TrimapRecord{}
	if raw, ok := s.Extra[TrimapExtraKey]; ok {
		if json.Unmarshal(raw, &m) != nil {
			return map[string]TrimapRecord{}
		}
	}
	return m
}

// trimapReference returns the row's trimap when segtool trimap did not write
// it (a human trimap, say), else "".
func trimapReference(s dataset.Sample) string {
	if s.Trimap == "" {
		return ""
	}
	for _, r := range trimapRecords(s) {
		if r.Path == s.Trimap {
			return ""
		}
	}
	return s.Trimap
}

// trimapCloneRow copies the maps a run changes.
func trimapCloneRow(s dataset.Sample) dataset.Sample {
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

// one builds, or finds up to date, the trimap of one row: a new row in
// the Outcome when it made one. Bad input is a reject in the Outcome;
// only cancellation and failures to write are errors.
func (c *trimapChecked) one(ctx context.Context, d *dataset.Dataset, s dataset.Sample) (Outcome, trimapResult, error) {
	if err := ctx.Err(); err != nil {
		return Outcome{}, trimapResult{}, err
	}
	s = trimapCloneRow(s)
	var res trimapResult
	recs := trimapRecords(s)
	ref := trimapReference(s)
	out := trimapOutPath(c.OutDir, s.ID)

	// Which matte.
	rec := c.record
	rec.Path = out
	var mattePath string
	switch {
	case c.predsDir != "":
		rec.From, res.from = TrimapPredsPrefix+c.predsDir, "preds"
		rec.Matte = filepath.Join(c.predsDir, s.ID+".png")
		mattePath = rec.Matte
	case c.From == TrimapFromMask || (c.From == "" && s.Alpha == ""):
		rec.From, res.from, rec.Matte = TrimapFromMask, TrimapFromMask, s.Mask
		mattePath = d.Path(s.Mask)
	default:
		rec.From, res.from, rec.Matte = TrimapFromAlpha, TrimapFromAlpha, s.Alpha
		mattePath = d.Path(s.Alpha)
	}
	// A rejected row is left as it was, and counts under no matte.
	reject := func(code, source, format string, args ...any) (Outcome, trimapResult, error) {
		return Outcome{Rejects: []dataset.Reject{{ID: s.ID, Source: []string{source}, Stage: trimapRejectStage,
			Code: code, Reason: fmt.Sprintf(format, args...)}}}, trimapResult{}, nil
	}
	if rec.Matte == "" {
		// The reason names the flag: it is data, written as it always was.
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
	rec.MatteSHA256 = dataset.SHA256(matteBytes)
	if c.Method == TrimapMethodSuperpixel {
		rec.ImageSHA256 = s.SHA256[s.Image]
		if rec.ImageSHA256 == "" {
			b, err := os.ReadFile(d.Path(s.Image))
			if err != nil {
				return reject(dataset.CodeMissingPartner, s.Image, "cannot read the image: %v", err)
			}
			rec.ImageSHA256 = dataset.SHA256(b)
		}
	}

	// Up to date?
	if prev, ok := recs[c.OutDir]; ok && prev.sameInputs(rec) && s.SHA256[out] != "" {
		if b, err := os.ReadFile(d.Path(out)); err == nil && dataset.SHA256(b) == s.SHA256[out] {
			res.reused = true
			o := Outcome{Rejects: trimapFlagRejects(s.ID, rec.Matte, prev.Flag)}
			if c.Report {
				tri, err := trimapDecodeGray(d.Decoder, out, b)
				if err != nil {
					return Outcome{}, trimapResult{}, fmt.Errorf("sample %s: %s: %w", s.ID, d.Path(out), err)
				}
				q, err := c.quality(d, s, ref, tri, matteBytes, rec.Matte)
				if err != nil {
					return Outcome{}, trimapResult{}, err
				}
				res.quality = q
			}
			return o, res, nil
		}
	}

	// Read and check the inputs.
	matte, err := trimapDecodeGray(d.Decoder, rec.Matte, matteBytes)
	if err != nil {
		return reject(trimapSampleCode(err, dataset.CodeCorrupt), rec.Matte, "cannot decode the matte: %v", err)
	}
	if matte.W != s.Width || matte.H != s.Height {
		return reject(dataset.CodeSizeMismatch, rec.Matte, "matte is %dx%d but the image is %dx%d", matte.W, matte.H, s.Width, s.Height)
	}
	var tri trimap.Gray
	var flag trimap.Flag
	switch c.Method {
	case TrimapMethodSuperpixel:
		b, err := os.ReadFile(d.Path(s.Image))
		if errors.Is(err, fs.ErrNotExist) {
			return reject(dataset.CodeMissingPartner, s.Image, "the row's image %s is missing", s.Image)
		} else if err != nil {
			return reject(dataset.CodeCorrupt, s.Image, "cannot read the image: %v", err)
		}
		im, err := trimapDecodeImage(d.Decoder, s.Image, b)
		if err != nil {
			return reject(trimapSampleCode(err, dataset.CodeCorrupt), s.Image, "cannot decode the image: %v", err)
		}
		if im.W != matte.W || im.H != matte.H {
			return reject(dataset.CodeSizeMismatch, s.Image, "image is %dx%d but the matte %s is %dx%d", im.W, im.H, rec.Matte, matte.W, matte.H)
		}
		if v, ok := matte.Uniform(); ok && (v == 0 || v == 255) {
			tri, flag, err = trimap.FromSuperpixels(ctx, im, matte, c.sp)
		} else {
			var sp *trimap.Superpixels
			sp, err = trimap.SLIC(ctx, im, c.sp.SLIC)
			if err == nil {
				rec.SuperpixelCount = sp.N
				tri, flag, err = trimap.FromLabels(sp, matte, c.sp)
			}
		}
		if err != nil {
			if ctx.Err() != nil {
				return Outcome{}, trimapResult{}, ctx.Err()
			}
			return Outcome{}, trimapResult{}, fmt.Errorf("sample %s: %s: %w", s.ID, d.Path(s.Image), err)
		}
	case TrimapMethodErode:
		if _, err := os.Stat(d.Path(s.Image)); err != nil {
			return reject(dataset.CodeMissingPartner, s.Image, "the row's image %s is missing", s.Image)
		}
		fg, bg, err := trimap.MorphWidths(c.Morph, s.ID)
		if err != nil {
			return Outcome{}, trimapResult{}, fmt.Errorf("sample %s: %w", s.ID, err)
		}
		rec.Widths = []int{fg, bg}
		if tri, flag, err = trimap.Morphological(matte, fg, bg); err != nil {
			return Outcome{}, trimapResult{}, fmt.Errorf("sample %s: %s: %w", s.ID, mattePath, err)
		}
	}
	rec.Flag = flag.String()
	rejects := trimapFlagRejects(s.ID, rec.Matte, rec.Flag)

	// The report reads the reference before a forced run replaces it.
	if c.Report {
		q, err := c.quality(d, s, ref, tri, matteBytes, rec.Matte)
		if err != nil {
			return Outcome{}, trimapResult{}, err
		}
		res.quality = q
	}

	png, err := trimap.EncodePNG(tri)
	if err != nil {
		return Outcome{}, trimapResult{}, fmt.Errorf("sample %s: encode %s: %w", s.ID, out, err)
	}
	dst, err := dataset.SampleFile(d.Dir, c.OutDir, s.ID, ".png")
	if err != nil {
		return Outcome{}, trimapResult{}, fmt.Errorf("sample %s: %w", s.ID, err)
	}
	wrote, err := dataset.WriteFileIfChanged(dst, png)
	if err != nil {
		return Outcome{}, trimapResult{}, fmt.Errorf("sample %s: %w", s.ID, err)
	}
	// A trimap this command wrote earlier to another path stays, with
	// its own record and digest.
	s.SHA256[out] = dataset.SHA256(png)
	if s.Trimap == "" || s.Trimap == out {
		s.Trimap = out
	}
	recs[c.OutDir] = rec
	raw, err := json.Marshal(recs)
	if err != nil {
		return Outcome{}, trimapResult{}, fmt.Errorf("sample %s: %w", s.ID, err)
	}
	s.Extra[TrimapExtraKey] = raw
	res.made, res.written = true, wrote
	return Outcome{Rows: []dataset.Sample{s}, Rejects: rejects}, res, nil
}

// trimapFlagRejects returns the kept-but-flagged line for a flagged trimap.
func trimapFlagRejects(id, matte, flag string) []dataset.Reject {
	switch flag {
	case trimap.FlagAllBackground.String():
		return []dataset.Reject{{ID: id, Source: []string{matte}, Stage: trimapRejectStage, Code: dataset.CodeEmptyMask, Kept: true,
			Reason: "the matte is 0 everywhere: the trimap is all background; sample kept but flagged"}}
	case trimap.FlagAllForeground.String():
		return []dataset.Reject{{ID: id, Source: []string{matte}, Stage: trimapRejectStage, Code: TrimapCodeFullMatte, Kept: true,
			Reason: "the matte is 255 everywhere: the trimap is all foreground; sample kept but flagged"}}
	}
	return nil
}

// quality measures tri against the row's alpha (else the matte it came
// from) and the reference trimap ref, when there is one.
func (c *trimapChecked) quality(d *dataset.Dataset, s dataset.Sample, ref string, tri trimap.Gray, matteBytes []byte, matteName string) (*TrimapSampleQuality, error) {
	q := &TrimapSampleQuality{ID: s.ID, Trimap: trimapOutPath(c.OutDir, s.ID), Reference: ref}
	alphaName, alphaBytes := matteName, matteBytes
	if s.Alpha != "" && s.Alpha != matteName {
		b, err := os.ReadFile(d.Path(s.Alpha))
		if err != nil {
			return nil, fmt.Errorf("sample %s: report: %w", s.ID, err)
		}
		alphaName, alphaBytes = s.Alpha, b
	}
	alpha, err := trimapDecodeGray(d.Decoder, alphaName, alphaBytes)
	if err != nil {
		return nil, fmt.Errorf("sample %s: report: %w", s.ID, err)
	}
	recall, n, err := trimap.TransitionRecall(tri, alpha)
	if err != nil {
		return nil, fmt.Errorf("sample %s: report: %s: %w", s.ID, alphaName, err)
	}
	q.TransitionRecall, q.Transition, q.Unknown = recall, n, trimap.CountUnknown(tri)
	if ref == "" {
		return q, nil
	}
	b, err := os.ReadFile(d.Path(ref))
	var human trimap.Gray
	if err == nil {
		human, err = trimapDecodeGray(d.Decoder, ref, b)
	}
	if err == nil && (human.W != tri.W || human.H != tri.H) {
		err = fmt.Errorf("%w: reference is %dx%d, trimap %dx%d", trimap.ErrBadInput, human.W, human.H, tri.W, tri.H)
	}
	var r float64
	if err == nil {
		r, err = trimap.UnknownAreaRatio(tri, human)
	}
	if err != nil {
		q.Note = fmt.Sprintf("no ratio: %v", err)
		return q, nil
	}
	q.HumanUnknown = trimap.CountUnknown(human)
	if !math.IsInf(r, 0) {
		q.UnknownAreaRatio = &r
	} else {
		q.Note = "no ratio: the reference has no unknown pixel"
	}
	return q, nil
}

func trimapMeanQuality(qs []TrimapSampleQuality) TrimapMeanQuality {
	m := TrimapMeanQuality{Samples: len(qs)}
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

// trimapSampleCode returns the reject code a dataset decoder attached to err.
func trimapSampleCode(err error, fallback string) string {
	var se *dataset.SampleError
	if errors.As(err, &se) && se.Code != "" {
		return se.Code
	}
	return fallback
}

// trimapDecodeGray decodes a single-channel label file (matte, mask, trimap)
// the way the dataset package does: palette indices kept, 16 bit scaled,
// grey stored as colour taken as grey, truncated files refused.
func trimapDecodeGray(dec dataset.Decoder, name string, b []byte) (trimap.Gray, error) {
	m, _, _, err := dec.Label(name, b)
	return trimapFromMat(m, err, trimap.GrayFromMat)
}

// trimapDecodeImage decodes an RGB image with dec.
func trimapDecodeImage(dec dataset.Decoder, name string, b []byte) (trimap.Image, error) {
	m, _, _, err := dec.RGB(name, b)
	return trimapFromMat(m, err, trimap.ImageFromMat)
}

// trimapFromMat converts a decoded Mat (unless decoding failed) and closes
// it.
func trimapFromMat[T any](m gocv.Mat, err error, conv func(gocv.Mat) (T, error)) (T, error) {
	if err != nil {
		var zero T
		return zero, err
	}
	defer m.Close()
	return conv(m)
}
