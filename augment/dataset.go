package augment

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"maps"
	"math/rand/v2"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/synth"
	"gocv.io/x/gocv"
)

// PreviewFile is the contact sheet WriteDataset writes for
// DatasetOptions.Preview, in the dataset folder, unless PreviewOut says
// otherwise.
const PreviewFile = "preview.png"

// Reject codes of WriteDataset, besides the dataset package's.
const (
	CodeMissingFile   = "missing-file"      // a file a source row names cannot be read
	CodeChecksum      = "checksum-mismatch" // a source file's sha256 differs from its row's
	CodeAugmentFailed = "augment-failed"    // the pipeline failed on this sample
)

// MaxPreviewCopies bounds the copies beside each sample on the preview
// sheet.
const MaxPreviewCopies = 4

var (
	// ErrNothingSelected reports a source dataset with no row in the
	// selected splits.
	ErrNothingSelected = errors.New("no sample selected")
	// ErrNoSamples reports a run in which every selected sample was
	// rejected.
	ErrNoSamples = errors.New("no augmented sample written; see rejects.jsonl for the reasons")
)

// OptionError names the flag at fault in the options (see dataset.OptionError).
type OptionError = dataset.OptionError

// DatasetOptions configure WriteDataset.
type DatasetOptions struct {
	// Config is the pipeline file (YAML, see Parse).
	Config string
	// Dataset is the canonical source dataset; Out the dataset to write.
	// With Out empty only the preview sheet is written (Preview and
	// PreviewOut are then required).
	Dataset, Out string
	// Name is the dataset name (default: the base name of Out); Version
	// the segtool version for dataset.json.
	Name, Version string
	// Copies is the number of augmented copies per sample (default 1);
	// Seed, with the sample id and copy index, seeds every draw.
	Copies int
	Seed   int64
	// Splits selects the source rows by split (default: all).
	Splits []string
	// IncludeOriginals also copies each selected source row, byte for
	// byte, under its own id.
	IncludeOriginals bool
	// JPEGQuality is the quality of JPEG images written (default 95).
	JPEGQuality int
	// Preview > 0 draws a contact sheet of that many samples (spread over
	// the selection), each beside its first min(Copies, 4) copies, to
	// PreviewOut, or to PreviewFile in Out.
	Preview    int
	PreviewOut string
	// Resume keeps rows whose files exist with matching sha256; Force
	// replaces an existing output; FailFast stops at the first reject.
	Resume, Force, FailFast bool
	Workers                 int // default 1
	// Progress, if set, is called after each selected source sample with
	// the number done and the total. It may be called from several
	// goroutines.
	Progress func(done, total int)
}

// Summary is what WriteDataset did.
type Summary struct {
	Out      string
	Pipeline string   // base name of the config
	Ops      []string // its top-level ops
	// Selected counts the source rows in the selected splits; Planned the
	// output rows planned for them (copies, plus originals).
	Selected, Planned int
	Samples           int // rows in the manifest
	Originals         int // of Samples, copied sources (IncludeOriginals)
	Reused            int // rows kept from a previous run (Resume)
	Files             int // files written
	Counts            map[string]int
	Rejects, Flagged  int
	RejectCodes       map[string]int
	// Applied counts, over every copy in the manifest, how often each op
	// (nested ones included) ran.
	Applied map[string]int
	// Dropped counts copies of parents with instance ids or boxes, which
	// the pipeline does not transform and the copies therefore lack.
	Dropped int
	Preview string // path of the contact sheet, if written
	Elapsed time.Duration
}

// output is one planned row: a copy of a source sample, or (copy < 0) the
// source itself.
type output struct {
	id   string
	copy int
}

// CopyID names copy k of the sample id.
func CopyID(id string, k int) string { return fmt.Sprintf("%s_a%d", id, k) }

// sourceResult is what one source sample gave.
type sourceResult struct {
	rows    []dataset.Sample // new rows, journalled by the worker
	kept    []dataset.Sample // rows reused from a previous run
	rejects []dataset.Reject
	err     error
}

// loaded is a validated configuration: the pipeline and its file's hash.
type loaded struct {
	p   *Pipeline
	sum string
}

func loadConfig(file string) (loaded, error) {
	if file == "" {
		return loaded{}, &OptionError{Option: "--config", Err: errors.New("no pipeline file given")}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		return loaded{}, &OptionError{Option: "--config", Err: err}
	}
	p, err := Parse(file, data)
	if err != nil {
		return loaded{}, err
	}
	h := sha256.Sum256(data)
	return loaded{p, hex.EncodeToString(h[:])}, nil
}

// selectSplits checks and orders the split names (default: all).
func selectSplits(splits []string) ([]string, error) {
	if len(splits) == 0 {
		return dataset.SplitNames(), nil
	}
	var out []string
	for _, want := range dataset.SplitNames() {
		if slices.Contains(splits, want) {
			out = append(out, want)
		}
	}
	for _, s := range splits {
		if !slices.Contains(dataset.SplitNames(), s) {
			return nil, &OptionError{Option: "--splits", Err: fmt.Errorf("unknown split %q (want %s)", s, strings.Join(dataset.SplitNames(), ", "))}
		}
	}
	return out, nil
}

// openSelection opens the source dataset and returns its rows in splits.
func openSelection(dir string, splits []string) (*dataset.Dataset, []dataset.Sample, error) {
	if dir == "" {
		return nil, nil, &OptionError{Option: "--dataset", Err: errors.New("no source dataset given")}
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, &OptionError{Option: "--dataset", Err: err}
	}
	d, err := dataset.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	var rows []dataset.Sample
	have := map[string]int{}
	for _, s := range d.Samples {
		have[s.Split]++
		if slices.Contains(splits, s.Split) {
			rows = append(rows, s)
		}
	}
	if len(rows) == 0 {
		var parts []string
		for _, sp := range dataset.SplitNames() {
			parts = append(parts, fmt.Sprintf("%d %s", have[sp], sp))
		}
		return d, nil, fmt.Errorf("%s has no sample in split %s (it has %s): %w",
			dir, strings.Join(splits, ", "), strings.Join(parts, ", "), ErrNothingSelected)
	}
	return d, rows, nil
}

// outputOptions are the options that decide the output's bytes; Resume
// only continues a dataset written with the same ones.
func (o *DatasetOptions) outputOptions(cfg loaded, src string, splits []string) map[string]any {
	return map[string]any{
		"config": cfg.p.Name, "config_sha256": cfg.sum, "dataset": src, "copies": o.Copies, "seed": o.Seed,
		"splits": splits, "include_originals": o.IncludeOriginals, "jpeg_quality": o.JPEGQuality,
	}
}

// WriteDataset applies the pipeline of o.Config to the selected samples of
// the canonical dataset o.Dataset and writes o.Copies augmented copies of
// each as a new canonical dataset at o.Out.
//
// Copy k of sample id has id "<id>_a<k>" (CopyID), the source's split and
// source, parent = id, its image in the source's format (JPEG stays JPEG),
// mask, alpha and trimap as PNG where the source has them, fg_fraction
// recomputed, and Extra["augment"] = the []Applied the pipeline recorded.
// Every draw depends on (Seed, id, k) alone, so the output's bytes do not
// depend on Workers. Instance ids and boxes are not carried over (the ops
// do not transform them). With IncludeOriginals the source rows are copied
// too, files byte for byte.
//
// A bad config (*ConfigError) or bad options (*OptionError) are reported
// before anything is written. A source sample that cannot be read becomes
// a line of rejects.jsonl and never stops the run unless FailFast.
// ErrNothingSelected means no source row is in Splits, ErrNoSamples that
// every one was rejected.
func WriteDataset(ctx context.Context, o DatasetOptions) (Summary, error) {
	start := time.Now()
	sum := Summary{Out: o.Out, Counts: map[string]int{}, RejectCodes: map[string]int{}, Applied: map[string]int{}}
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.JPEGQuality == 0 {
		o.JPEGQuality = 95
	}
	if o.Copies == 0 {
		o.Copies = 1
	}
	switch {
	case o.Copies < 0:
		return sum, &OptionError{Option: "--copies", Err: fmt.Errorf("must be at least 1, not %d", o.Copies)}
	case o.JPEGQuality < 1 || o.JPEGQuality > 100:
		return sum, &OptionError{Option: "--jpeg-quality", Err: fmt.Errorf("must be 1..100, not %d", o.JPEGQuality)}
	case o.Preview < 0:
		return sum, &OptionError{Option: "--preview", Err: fmt.Errorf("must be a count >= 0, not %d", o.Preview)}
	case o.Out == "" && (o.Preview == 0 || o.PreviewOut == ""):
		return sum, &OptionError{Option: "--out", Err: errors.New("no output dataset given (only --preview K with --preview-out FILE may go without one)")}
	case o.Force && o.Resume:
		return sum, &OptionError{Option: "--resume", Err: errors.New("--force and --resume exclude each other")}
	}
	cfg, err := loadConfig(o.Config)
	if err != nil {
		return sum, err
	}
	sum.Pipeline, sum.Ops = cfg.p.Name, cfg.p.Ops()
	splits, err := selectSplits(o.Splits)
	if err != nil {
		return sum, err
	}
	srcAbs, outAbs := absPath(o.Dataset), absPath(o.Out)
	if o.Out != "" && srcAbs == outAbs {
		return sum, &OptionError{Option: "--out", Err: fmt.Errorf("%s is the source dataset; write the copies to another folder", o.Out)}
	}
	d, srcRows, err := openSelection(o.Dataset, splits)
	if err != nil {
		return sum, err
	}
	sum.Selected = len(srcRows)

	if o.Out == "" {
		p, err := writeSheet(ctx, d, srcRows, cfg.p, &o, o.PreviewOut)
		sum.Preview = p
		sum.Elapsed = time.Since(start)
		return sum, err
	}

	// Plan every output id up front: a copy id that clashes with another
	// output (an original named like a copy) keeps the first in id order.
	plans := make([][]output, len(srcRows))
	var rejects []dataset.Reject
	taken := map[string]string{}
	originals := map[string]bool{}
	for i, s := range srcRows {
		var outs []output
		if o.IncludeOriginals {
			outs = append(outs, output{s.ID, -1})
		}
		for k := range o.Copies {
			outs = append(outs, output{CopyID(s.ID, k), k})
		}
		for _, out := range outs {
			if first, dup := taken[out.id]; dup {
				rejects = append(rejects, dataset.Reject{ID: out.id, Source: []string{s.Image}, Stage: "plan", Code: dataset.CodeDuplicateID,
					Reason: fmt.Sprintf("output id %q is already taken by %s", out.id, first)})
				continue
			}
			taken[out.id] = "copy of " + s.ID
			if out.copy < 0 {
				taken[out.id], originals[out.id] = "the original", true
			}
			plans[i] = append(plans[i], out)
			sum.Planned++
		}
	}

	opts := o.outputOptions(cfg, srcAbs, splits)
	w, err := dataset.NewWriter(o.Out, dataset.WriterOptions{Force: o.Force, Resume: o.Resume, Options: opts})
	if err != nil {
		return sum, err
	}
	w.Reject(rejects...)

	// OpenCV's own threads would oversubscribe the pool.
	threads := OpenCVThreads()
	SetOpenCVThreads(1)
	defer SetOpenCVThreads(threads)

	r := &augmenter{o: &o, p: cfg.p, d: d, w: w}
	results := make([]sourceResult, len(srcRows))
	poolErr := dataset.RunPool(ctx, len(srcRows), o.Workers, func(ctx context.Context, j int) error {
		results[j] = r.one(ctx, srcRows[j], plans[j])
		res := &results[j]
		if res.err == nil && len(res.rows) > 0 {
			res.err = w.Add(res.rows...)
		}
		if res.err != nil {
			return res.err
		}
		if o.FailFast {
			return dataset.FailFast(res.rejects)
		}
		return nil
	}, o.Progress)

	for _, res := range results {
		w.Reject(res.rejects...)
		rejects = append(rejects, res.rejects...)
		for _, s := range res.kept {
			w.Keep(s)
		}
		sum.Reused += len(res.kept)
	}
	sum.Rejects, sum.Flagged = dataset.TallyRejects(rejects, sum.RejectCodes)
	sum.Files = w.FilesWritten()
	if poolErr != nil {
		w.Abort()
		sum.Elapsed = time.Since(start)
		if ctx.Err() != nil {
			return sum, dataset.Interrupted(ctx.Err())
		}
		return sum, poolErr
	}
	rows := w.Rows()
	sum.Samples = len(rows)
	for _, s := range rows {
		sum.Counts[s.Split]++
		if originals[s.ID] {
			sum.Originals++
			continue
		}
		var log []Applied
		if err := json.Unmarshal(s.Extra["augment"], &log); err == nil {
			for _, a := range log {
				sum.Applied[a.Op]++
			}
		}
		if slices.Contains(s.Notes, noteDropped) {
			sum.Dropped++
		}
	}
	if len(rows) == 0 {
		w.Abort()
		sum.Elapsed = time.Since(start)
		return sum, ErrNoSamples
	}
	// The sheet goes into the dataset before it is published, or, for
	// PreviewOut, after (a PreviewOut inside a --force'd Out would
	// otherwise go with the old folder).
	if o.Preview > 0 && o.PreviewOut == "" {
		if _, err := writeSheet(ctx, d, srcRows, cfg.p, &o, filepath.Join(w.Dir(), PreviewFile)); err != nil {
			w.Abort()
			return sum, err
		}
		sum.Preview = filepath.Join(o.Out, PreviewFile)
	}
	name := o.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(o.Out))
	}
	info := dataset.Info{Name: name, Version: o.Version, Format: "augment", SourceDir: srcAbs, Options: opts}
	if err := w.Commit(info); err != nil {
		return sum, err
	}
	if o.Preview > 0 && o.PreviewOut != "" {
		if sum.Preview, err = writeSheet(ctx, d, srcRows, cfg.p, &o, o.PreviewOut); err != nil {
			return sum, err
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

func absPath(p string) string {
	if p == "" {
		return ""
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	return a
}

// noteDropped marks a copy whose parent had labels the ops do not carry.
const noteDropped = "instance ids and boxes of the parent not carried over"

// augmenter makes and writes the outputs of single source samples.
type augmenter struct {
	o *DatasetOptions
	p *Pipeline
	d *dataset.Dataset
	w *dataset.Writer
}

// one writes, or under Resume reuses, the planned outputs of source row
// s. Only failures to write (and cancellation) are errors; a source that
// cannot be read is a reject.
func (r *augmenter) one(ctx context.Context, s dataset.Sample, outs []output) (res sourceResult) {
	if err := ctx.Err(); err != nil {
		return sourceResult{err: err}
	}
	var todo []output
	needOriginal, needCopies := false, false
	for _, out := range outs {
		if prev, ok := r.previous(s, out); ok {
			res.kept = append(res.kept, prev)
			continue
		}
		todo = append(todo, out)
		needOriginal = needOriginal || out.copy < 0
		needCopies = needCopies || out.copy >= 0
	}
	if len(todo) == 0 {
		return res
	}
	reject := func(err error, stage, code string) sourceResult {
		var se *dataset.SampleError
		if errors.As(err, &se) {
			code = se.Code
		}
		return sourceResult{rejects: []dataset.Reject{{ID: s.ID, Source: []string{s.Image}, Stage: stage, Code: code, Reason: err.Error()}}}
	}
	files := map[string][]byte{}
	read := func(rel string) ([]byte, error) {
		if b, ok := files[rel]; ok {
			return b, nil
		}
		if !filepath.IsLocal(filepath.FromSlash(rel)) {
			return nil, &dataset.SampleError{Code: dataset.CodeCorrupt, Path: rel, Err: errors.New("path leaves the dataset folder")}
		}
		b, err := os.ReadFile(r.d.Path(rel))
		if err != nil {
			return nil, &dataset.SampleError{Code: CodeMissingFile, Path: rel, Err: err}
		}
		if want, ok := s.SHA256[rel]; ok {
			if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != want {
				return nil, &dataset.SampleError{Code: CodeChecksum, Path: rel,
					Err: errors.New("sha256 does not match the source manifest (the file changed since the dataset was written)")}
			}
		}
		files[rel] = b
		return b, nil
	}

	// Read and decode everything first, so that a bad source leaves no
	// file behind.
	if needOriginal {
		for _, rel := range originalFiles(s) {
			if _, err := read(rel); err != nil {
				return reject(err, "read", dataset.CodeCorrupt)
			}
		}
	}
	var base *Sample
	if needCopies {
		var err error
		if base, err = loadSample(s, read); err != nil {
			return reject(err, "decode", dataset.CodeCorrupt)
		}
		defer base.Close()
	}
	for _, out := range todo {
		if err := ctx.Err(); err != nil {
			return sourceResult{err: err}
		}
		if out.copy < 0 {
			row, err := r.original(s, files)
			if err != nil {
				return sourceResult{err: err}
			}
			res.rows = append(res.rows, row)
			continue
		}
		row, rj, err := r.makeCopy(s, base, out)
		if err != nil {
			return sourceResult{err: err}
		}
		if rj != nil {
			res.rejects = append(res.rejects, *rj)
			if !rj.Kept {
				continue
			}
		}
		res.rows = append(res.rows, row)
	}
	return res
}

// previous returns the row a previous run wrote for out when Resume is on
// and the row is intact and still derives from s.
func (r *augmenter) previous(s dataset.Sample, out output) (dataset.Sample, bool) {
	if !r.o.Resume {
		return dataset.Sample{}, false
	}
	prev, ok := r.w.Previous(out.id)
	if !ok {
		return prev, false
	}
	if out.copy < 0 {
		// An original: the very row, with every file it lists intact.
		return prev, maps.Equal(prev.SHA256, s.SHA256) && extrasIntact(r.w.Dir(), prev)
	}
	return prev, prev.Parent == s.ID && prev.Split == s.Split && slices.Equal(prev.Source, s.Source)
}

// originalFiles lists every file row s references: its planes and
// whatever else its sha256 map lists (composite layers).
func originalFiles(s dataset.Sample) []string {
	rels := s.Files()
	for _, rel := range slices.Sorted(maps.Keys(s.SHA256)) {
		if !slices.Contains(rels, rel) {
			rels = append(rels, rel)
		}
	}
	return rels
}

// original copies row s and the files it lists, already read into files,
// byte for byte.
func (r *augmenter) original(s dataset.Sample, files map[string][]byte) (dataset.Sample, error) {
	row := s
	row.SHA256 = map[string]string{}
	for _, rel := range originalFiles(s) {
		ext := path.Ext(rel)
		got, h, err := r.w.WriteBytes(path.Dir(rel), strings.TrimSuffix(path.Base(rel), ext), ext, files[rel])
		if err != nil {
			return row, fmt.Errorf("sample %s (%s): %w", s.ID, r.d.Path(rel), err)
		}
		row.SHA256[got] = h
	}
	return row, nil
}

// loadSample decodes the planes of row s that the pipeline transforms.
func loadSample(s dataset.Sample, read func(string) ([]byte, error)) (*Sample, error) {
	if s.Mask == "" {
		return nil, &dataset.SampleError{Code: dataset.CodeMissingPartner, Path: s.Image, Err: errors.New("source row has no mask")}
	}
	b, err := read(s.Image)
	if err != nil {
		return nil, err
	}
	img, _, _, err := dataset.DecodeRGB(s.Image, b)
	if err != nil {
		return nil, err
	}
	out := &Sample{Image: img}
	for _, l := range []struct {
		rel string
		dst *gocv.Mat
	}{{s.Mask, &out.Mask}, {s.Alpha, &out.Alpha}, {s.Trimap, &out.Trimap}} {
		if l.rel == "" {
			continue
		}
		b, err := read(l.rel)
		if err == nil {
			*l.dst, _, _, err = dataset.DecodeLabel(l.rel, b)
		}
		if err == nil && (l.dst.Cols() != img.Cols() || l.dst.Rows() != img.Rows()) {
			err = &dataset.SampleError{Code: dataset.CodeSizeMismatch, Path: l.rel,
				Err: fmt.Errorf("label is %dx%d but the image %dx%d", l.dst.Cols(), l.dst.Rows(), img.Cols(), img.Rows())}
		}
		if err != nil {
			out.Close()
			return nil, err
		}
	}
	return out, nil
}

// makeCopy augments a clone of base as output out of s and writes its files.
// A pipeline failure is a reject; an all-background mask a kept, flagged
// row.
func (r *augmenter) makeCopy(s dataset.Sample, base *Sample, out output) (dataset.Sample, *dataset.Reject, error) {
	c := base.Clone()
	defer c.Close()
	log, err := r.p.Apply(c, r.o.Seed, s.ID, out.copy)
	if err != nil {
		return dataset.Sample{}, &dataset.Reject{ID: out.id, Source: []string{s.Image}, Stage: "augment", Code: CodeAugmentFailed,
			Reason: fmt.Sprintf("copy %d: %v", out.copy, err)}, nil
	}
	rec, err := json.Marshal(log)
	if err != nil {
		return dataset.Sample{}, nil, fmt.Errorf("sample %s (%s): %w", out.id, r.d.Path(s.Image), err)
	}
	row := dataset.Sample{ID: out.id, Split: s.Split, Width: c.Image.Cols(), Height: c.Image.Rows(), Source: s.Source,
		SHA256: map[string]string{}, Parent: s.ID, Extra: map[string]json.RawMessage{"augment": rec}}
	if s.Instances != "" || len(s.Boxes) > 0 {
		row.Notes = append(row.Notes, noteDropped)
	}
	ext := ".png"
	if e := strings.ToLower(path.Ext(s.Image)); e == ".jpg" || e == ".jpeg" {
		ext = ".jpg"
	}
	put := func(dst *string, sub, ext string, m *gocv.Mat) error {
		if !present(m) {
			return nil
		}
		rel, h, err := r.w.WriteMat(sub, out.id, ext, *m, r.o.JPEGQuality)
		if err != nil {
			return err
		}
		*dst, row.SHA256[rel] = rel, h
		return nil
	}
	if err := errors.Join(
		put(&row.Image, "images", ext, &c.Image),
		put(&row.Mask, "masks", ".png", &c.Mask),
		put(&row.Alpha, "alphas", ".png", &c.Alpha),
		put(&row.Trimap, "trimaps", ".png", &c.Trimap)); err != nil {
		return row, nil, fmt.Errorf("sample %s (%s): %w", out.id, r.d.Path(s.Image), err)
	}
	fg := gocv.CountNonZero(c.Mask)
	row.FGFrac = float64(fg) / float64(row.Width*row.Height)
	if fg == 0 {
		row.Notes = append(row.Notes, "all-zero mask")
		return row, &dataset.Reject{ID: out.id, Source: []string{s.Image}, Stage: "check", Code: dataset.CodeEmptyMask, Kept: true,
			Reason: "the augmented mask is all background; sample kept but flagged"}, nil
	}
	return row, nil, nil
}

// extrasIntact checks the files a row lists in sha256 beyond its planes,
// which Writer.Previous does not know about.
func extrasIntact(dir string, s dataset.Sample) bool {
	planes := s.Files()
	for rel, want := range s.SHA256 {
		if slices.Contains(planes, rel) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return false
		}
		if h := sha256.Sum256(b); hex.EncodeToString(h[:]) != want {
			return false
		}
	}
	return true
}

// sheetRows picks k rows spread evenly over rows.
func sheetRows(rows []dataset.Sample, k int) []dataset.Sample {
	n := len(rows)
	k = min(k, n)
	out := make([]dataset.Sample, 0, k)
	for i := range k {
		out = append(out, rows[i*n/k])
	}
	return out
}

// writeSheet draws o.Preview of rows, each beside its first copies (the
// very draws WriteDataset writes), and writes the sheet as PNG to dst. A
// row that cannot be read is left out. It returns dst.
func writeSheet(ctx context.Context, d *dataset.Dataset, rows []dataset.Sample, p *Pipeline, o *DatasetOptions, dst string) (string, error) {
	var samples []*Sample
	var ids []string
	defer func() {
		for _, s := range samples {
			s.Close()
		}
	}()
	for _, row := range sheetRows(rows, o.Preview) {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		s, err := loadSample(row, func(rel string) ([]byte, error) { return os.ReadFile(d.Path(rel)) })
		if err != nil {
			continue
		}
		samples = append(samples, s)
		ids = append(ids, row.ID)
	}
	if len(samples) == 0 {
		return "", fmt.Errorf("preview: none of the %d samples picked could be read", min(o.Preview, len(rows)))
	}
	sheet, err := ContactSheet(p, samples, ids, SheetOptions{Copies: min(o.Copies, MaxPreviewCopies), Seed: o.Seed})
	if err != nil {
		return "", fmt.Errorf("preview: %w", err)
	}
	defer sheet.Close()
	buf, err := gocv.IMEncode(gocv.PNGFileExt, sheet)
	if err != nil {
		return "", fmt.Errorf("preview: %w", err)
	}
	data := append([]byte(nil), buf.GetBytes()...)
	buf.Close()
	if dir := filepath.Dir(dst); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return "", fmt.Errorf("preview: %w", err)
		}
	}
	if _, err := dataset.WriteFileIfChanged(dst, data); err != nil {
		return "", fmt.Errorf("preview: %w", err)
	}
	return dst, nil
}

// BenchOptions configure BenchDataset.
type BenchOptions struct {
	Config string
	// Dataset, if set, supplies the samples: its first readable one is
	// timed op by op, and up to N of them, spread over it, are augmented on
	// one worker and on Workers.
	Dataset string
	// Size is the synthetic portrait timed without a Dataset (default
	// 512x512).
	Size image.Point
	N    int // images per timing (default 200)
	Seed int64
	// Workers for the all-cores pass over the dataset (default 1).
	Workers int
}

// BenchReport is what BenchDataset measured. Decoding and encoding are
// not timed: only the pipeline.
type BenchReport struct {
	Pipeline string      // base name of the config
	Sample   string      // id of the sample timed op by op, or "synthetic portrait"
	Size     image.Point // its size
	Single   BenchResult // one worker, op by op
	// Dataset is the pass over the dataset's samples; nil without one.
	Dataset *Throughput
}

// Throughput is the pipeline's speed over several samples, on one worker
// and on several.
type Throughput struct {
	Samples, Images, Workers int
	Serial, Parallel         time.Duration
}

// SerialPerSecond is images per second on one worker.
func (t Throughput) SerialPerSecond() float64 { return perSecond(t.Images, t.Serial) }

// ParallelPerSecond is images per second on Workers workers.
func (t Throughput) ParallelPerSecond() float64 { return perSecond(t.Images, t.Parallel) }

// BenchDataset times the pipeline of o.Config: op by op on one sample and
// one worker (Bench), and, given a dataset, over its samples on one worker
// and on o.Workers. OpenCV runs single-threaded throughout, as it does
// under WriteDataset.
func BenchDataset(ctx context.Context, o BenchOptions) (BenchReport, error) {
	var rep BenchReport
	if o.N == 0 {
		o.N = 200
	}
	if o.N < 0 {
		return rep, &OptionError{Option: "-n", Err: fmt.Errorf("must be at least 1, not %d", o.N)}
	}
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.Size == (image.Point{}) {
		o.Size = image.Pt(512, 512)
	}
	cfg, err := loadConfig(o.Config)
	if err != nil {
		return rep, err
	}
	rep.Pipeline = cfg.p.Name
	var samples []*Sample
	defer func() {
		for _, s := range samples {
			s.Close()
		}
	}()
	if o.Dataset == "" {
		s, err := syntheticSample(o.Size, o.Seed)
		if err != nil {
			return rep, &OptionError{Option: "--size", Err: err}
		}
		samples = append(samples, s)
		rep.Sample = "synthetic portrait"
	} else {
		d, rows, err := openSelection(o.Dataset, dataset.SplitNames())
		if err != nil {
			return rep, err
		}
		for _, row := range sheetRows(rows, o.N) {
			s, err := loadSample(row, func(rel string) ([]byte, error) { return os.ReadFile(d.Path(rel)) })
			if err != nil {
				continue
			}
			if len(samples) == 0 {
				rep.Sample = row.ID
			}
			samples = append(samples, s)
		}
		if len(samples) == 0 {
			return rep, fmt.Errorf("bench: no sample of %s could be read", o.Dataset)
		}
	}
	rep.Size = image.Pt(samples[0].Image.Cols(), samples[0].Image.Rows())

	threads := OpenCVThreads()
	SetOpenCVThreads(1)
	defer SetOpenCVThreads(threads)
	if rep.Single, err = Bench(cfg.p, samples[0], o.N, o.Seed); err != nil {
		return rep, fmt.Errorf("bench %s: %w", rep.Sample, err)
	}
	if o.Dataset == "" {
		return rep, nil
	}
	t := Throughput{Samples: len(samples), Images: o.N, Workers: o.Workers}
	if t.Serial, err = throughput(ctx, cfg.p, samples, o.N, 1, o.Seed); err != nil {
		return rep, err
	}
	if t.Parallel, err = throughput(ctx, cfg.p, samples, o.N, o.Workers, o.Seed); err != nil {
		return rep, err
	}
	rep.Dataset = &t
	return rep, nil
}

// syntheticSample draws a portrait of size with its mask (alpha >= 128).
func syntheticSample(size image.Point, seed int64) (*Sample, error) {
	p, err := synth.Portrait(rand.New(rand.NewPCG(uint64(seed), 0x5e97001)), size.X, size.Y)
	if err != nil {
		return nil, err
	}
	p.Person.Close()
	mask := gocv.NewMat()
	gocv.Threshold(p.Alpha, &mask, 127, 255, gocv.ThresholdBinary)
	return &Sample{Image: p.Image, Alpha: p.Alpha, Mask: mask}, nil
}

// throughput applies p n times over samples (image i is sample i mod
// len, copy i / len) on workers goroutines and returns the wall time.
func throughput(ctx context.Context, p *Pipeline, samples []*Sample, n, workers int, seed int64) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	t0 := time.Now()
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				c := samples[i%len(samples)].Clone()
				_, err := p.Apply(c, seed, "bench", i/len(samples))
				c.Close()
				if err != nil {
					errs[g] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	if err := ctx.Err(); err != nil {
		return d, err
	}
	return d, errors.Join(errs...)
}
