package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/segtool/segtool/augment"
	"github.com/segtool/segtool/configs"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/safeyaml"
	"gocv.io/x/gocv"
)

// AugmentPreviewFile is the contact sheet Augment writes for
// AugmentOptions.Preview, in the dataset folder, unless PreviewOut says
// otherwise.
const AugmentPreviewFile = "preview.png"

// Reject codes of Augment, besides the dataset package's.
const (
	AugmentCodeMissingFile = "missing-file"      // a file a source row names cannot be read
	AugmentCodeChecksum    = "checksum-mismatch" // a source file's sha256 differs from its row's
	AugmentCodeFailed      = "augment-failed"    // the pipeline failed on this sample
)

// AugmentMaxPreviewCopies bounds the copies beside each sample on the
// preview sheet.
const AugmentMaxPreviewCopies = 4

var (
	// ErrAugmentNothingSelected reports a source dataset with no row in
	// the selected splits.
	ErrAugmentNothingSelected = errors.New("no sample selected")
	// ErrAugmentNoSamples reports a run in which every selected sample was
	// rejected.
	ErrAugmentNoSamples = errors.New("no augmented sample written; see rejects.jsonl for the reasons")
)

// AugmentOptions configure Augment.
type AugmentOptions struct {
	// Config is the pipeline file (YAML, see augment.Parse), or the name
	// of a built-in preset (see AugmentPipeline).
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
	// PreviewOut, or to AugmentPreviewFile in Out.
	Preview    int
	PreviewOut string
	RunOptions // one item per selected source sample
}

// AugmentSummary is what Augment did. Tally.Samples counts the rows in
// the manifest, Tally.Files the files written.
type AugmentSummary struct {
	Tally
	Pipeline string   // base name of the config
	Ops      []string // its top-level ops
	// Selected counts the source rows in the selected splits; Planned the
	// output rows planned for them (copies, plus originals).
	Selected, Planned int
	Originals         int // of Samples, copied sources (IncludeOriginals)
	// Applied counts, over every copy in the manifest, how often each op
	// (nested ones included) ran.
	Applied map[string]int
	// Dropped counts copies of parents with instance ids or boxes, which
	// the pipeline does not transform and the copies therefore lack.
	Dropped int
}

// AugmentCopyID names copy k of the sample id.
func AugmentCopyID(id string, k int) string { return fmt.Sprintf("%s_a%d", id, k) }

// augmentOutput is one planned row: a copy of a source sample, or
// (copy < 0) the source itself.
type augmentOutput struct {
	id   string
	copy int
}

// augmentConfig is a validated configuration: the pipeline and its file's
// hash.
type augmentConfig struct {
	p   *augment.Pipeline
	sum string
}

func augmentLoadConfig(file string) (augmentConfig, error) {
	if file == "" {
		return augmentConfig{}, &dataset.OptionError{Field: "Config", Err: errors.New("no pipeline file given")}
	}
	name := file
	data, err := safeyaml.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		// A file of that name wins; else a bare name is a built-in preset,
		// parsed under its file's name so the output options (and resume)
		// match those of a run given configs/augment/NAME.yaml.
		if b, ok := configs.AugmentPreset(file); ok {
			name, data, err = strings.TrimSuffix(file, ".yaml")+".yaml", b, nil
		} else if !strings.ContainsAny(file, `/\`) {
			err = fmt.Errorf("%w, and no built-in preset is named %q (built in: %s)", err, file, strings.Join(configs.AugmentPresets(), ", "))
		}
	}
	if errors.Is(err, safeyaml.ErrTooLarge) {
		return augmentConfig{}, &augment.ConfigError{File: file, Err: err}
	}
	if err != nil {
		return augmentConfig{}, &dataset.OptionError{Field: "Config", Err: err}
	}
	p, err := augment.Parse(name, data)
	if err != nil {
		return augmentConfig{}, err
	}
	return augmentConfig{p, dataset.SHA256(data)}, nil
}

// AugmentPipeline loads and checks the pipeline config: a YAML file, or
// the name of a built-in preset (configs.AugmentPresets) when no file of
// that name exists. Errors are those of Augment: a *augment.ConfigError
// for a bad pipeline, a *dataset.OptionError for Config otherwise.
func AugmentPipeline(config string) (*augment.Pipeline, error) {
	cfg, err := augmentLoadConfig(config)
	return cfg.p, err
}

// augmentSelectSplits checks and orders the split names (default: all).
func augmentSelectSplits(splits []string) ([]string, error) {
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
			return nil, &dataset.OptionError{Field: "Splits", Err: fmt.Errorf("unknown split %q (want %s)", s, strings.Join(dataset.SplitNames(), ", "))}
		}
	}
	return out, nil
}

// augmentOpenSelection opens the source dataset and returns its rows in
// splits.
func augmentOpenSelection(dir string, splits []string, maxPixels int64) (*dataset.Dataset, []dataset.Sample, error) {
	if dir == "" {
		return nil, nil, &dataset.OptionError{Field: "Dataset", Err: errors.New("no source dataset given")}
	}
	if _, err := os.Stat(dir); err != nil {
		return nil, nil, &dataset.OptionError{Field: "Dataset", Err: err}
	}
	d, err := dataset.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	d.Decoder.MaxPixels = maxPixels
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
			dir, strings.Join(splits, ", "), strings.Join(parts, ", "), ErrAugmentNothingSelected)
	}
	return d, rows, nil
}

// outputOptions are the options that decide the output's bytes; Resume
// only continues a dataset written with the same ones.
func (o *AugmentOptions) outputOptions(cfg augmentConfig, src string, splits []string) map[string]any {
	return map[string]any{
		"config": cfg.p.Name, "config_sha256": cfg.sum, "dataset": src, "copies": o.Copies, "seed": o.Seed,
		"splits": splits, "include_originals": o.IncludeOriginals, "jpeg_quality": o.JPEGQuality,
	}
}

// Augment applies the pipeline of o.Config to the selected samples of the
// canonical dataset o.Dataset and writes o.Copies augmented copies of each
// as a new canonical dataset at o.Out.
//
// Copy k of sample id has id "<id>_a<k>" (AugmentCopyID), the source's
// split and source, parent = id, its image in the source's format (JPEG
// stays JPEG), mask, alpha and trimap as PNG where the source has them,
// fg_fraction recomputed, and Extra["augment"] = the []augment.Applied the
// pipeline recorded. Every draw depends on (Seed, id, k) alone, so the
// output's bytes do not depend on Workers. Instance ids and boxes are not
// carried over (the ops do not transform them). With IncludeOriginals the
// source rows are copied too, files byte for byte.
//
// A bad config (*augment.ConfigError) or bad options
// (*dataset.OptionError) are reported before anything is written. A source
// sample that cannot be read becomes a line of rejects.jsonl and never
// stops the run unless FailFast. ErrAugmentNothingSelected means no source
// row is in Splits, ErrAugmentNoSamples that every one was rejected.
func Augment(ctx context.Context, o AugmentOptions) (AugmentSummary, error) {
	start := time.Now()
	sum := AugmentSummary{Tally: newTally(o.Out), Applied: map[string]int{}}
	if o.JPEGQuality == 0 {
		o.JPEGQuality = 95
	}
	if o.Copies == 0 {
		o.Copies = 1
	}
	switch {
	case o.Copies < 0:
		return sum, &dataset.OptionError{Field: "Copies", Err: fmt.Errorf("must be at least 1, not %d", o.Copies)}
	case o.JPEGQuality < 1 || o.JPEGQuality > 100:
		return sum, &dataset.OptionError{Field: "JPEGQuality", Err: fmt.Errorf("must be 1..100, not %d", o.JPEGQuality)}
	case o.Preview < 0:
		return sum, &dataset.OptionError{Field: "Preview", Err: fmt.Errorf("must be a count >= 0, not %d", o.Preview)}
	case o.Out == "" && (o.Preview == 0 || o.PreviewOut == ""):
		return sum, &dataset.OptionError{Field: "Out", Err: errors.New("no output dataset given (only a preview sheet, with Preview and PreviewOut, may go without one)")}
	case o.Force && o.Resume:
		return sum, &dataset.OptionError{Field: "Force/Resume", Err: errors.New("exclude each other")}
	}
	cfg, err := augmentLoadConfig(o.Config)
	if err != nil {
		return sum, err
	}
	sum.Pipeline, sum.Ops = cfg.p.Name, cfg.p.Ops()
	splits, err := augmentSelectSplits(o.Splits)
	if err != nil {
		return sum, err
	}
	srcAbs, outAbs := augmentAbs(o.Dataset), augmentAbs(o.Out)
	if o.Out != "" && srcAbs == outAbs {
		return sum, &dataset.OptionError{Field: "Out", Err: fmt.Errorf("%s is the source dataset; write the copies to another folder", o.Out)}
	}
	d, srcRows, err := augmentOpenSelection(o.Dataset, splits, o.MaxPixels)
	if err != nil {
		return sum, err
	}
	sum.Selected = len(srcRows)
	r := &augmentRun{o: &o, p: cfg.p, d: d}

	if o.Out == "" {
		p, err := r.sheet(ctx, srcRows, o.PreviewOut)
		sum.Preview = p
		sum.Elapsed = time.Since(start)
		return sum, err
	}

	// Plan every output id up front: a copy id that clashes with another
	// output (an original named like a copy) keeps the first in id order.
	plans := make([][]augmentOutput, len(srcRows))
	var rejects []dataset.Reject
	taken := map[string]string{}
	originals := map[string]bool{}
	for i, s := range srcRows {
		var outs []augmentOutput
		if o.IncludeOriginals {
			outs = append(outs, augmentOutput{s.ID, -1})
		}
		for k := range o.Copies {
			outs = append(outs, augmentOutput{AugmentCopyID(s.ID, k), k})
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

	// OpenCV's own threads would oversubscribe the pool.
	threads := augment.OpenCVThreads()
	augment.SetOpenCVThreads(1)
	defer augment.SetOpenCVThreads(threads)

	job := Dataset{
		Out: o.Out, RunOptions: o.RunOptions,
		Options: o.outputOptions(cfg, srcAbs, splits),
		Info:    dataset.Info{Name: o.Name, Version: o.Version, Format: "augment", SourceDir: srcAbs},
		Inputs:  []string{o.Dataset},
		Rejects: rejects,
		NoRows:  ErrAugmentNoSamples,
	}
	// The sheet goes into the dataset before it is published, or, for
	// PreviewOut, after (a PreviewOut inside a replaced Out would
	// otherwise go with the old folder).
	if o.Preview > 0 && o.PreviewOut == "" {
		job.Preview = func(ctx context.Context, dir string, _ []Outcome) (string, error) {
			if _, err := r.sheet(ctx, srcRows, filepath.Join(dir, AugmentPreviewFile)); err != nil {
				return "", err
			}
			return AugmentPreviewFile, nil
		}
	}
	t, outs, err := job.Run(ctx, len(srcRows), func(ctx context.Context, w *dataset.Writer, i int) (Outcome, error) {
		return r.one(ctx, w, srcRows[i], plans[i])
	})
	sum.Tally = t
	if err != nil {
		sum.Elapsed = time.Since(start)
		return sum, err
	}
	for _, out := range outs {
		for _, s := range slices.Concat(out.Rows, out.Kept) {
			if originals[s.ID] {
				sum.Originals++
				continue
			}
			var log []augment.Applied
			if err := json.Unmarshal(s.Extra["augment"], &log); err == nil {
				for _, a := range log {
					sum.Applied[a.Op]++
				}
			}
			if slices.Contains(s.Notes, augmentNoteDropped) {
				sum.Dropped++
			}
		}
	}
	if o.Preview > 0 && o.PreviewOut != "" {
		if sum.Preview, err = r.sheet(ctx, srcRows, o.PreviewOut); err != nil {
			sum.Elapsed = time.Since(start)
			return sum, err
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

func augmentAbs(p string) string {
	if p == "" {
		return ""
	}
	a, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	return a
}

// augmentNoteDropped marks a copy whose parent had labels the ops do not
// carry.
const augmentNoteDropped = "instance ids and boxes of the parent not carried over"

// augmentRun makes and writes the outputs of single source samples.
type augmentRun struct {
	o *AugmentOptions
	p *augment.Pipeline
	d *dataset.Dataset
}

// one writes through w, or under Resume reuses, the planned outputs of
// source row s. Only failures to write (and cancellation) are errors; a
// source that cannot be read is a reject.
func (r *augmentRun) one(ctx context.Context, w *dataset.Writer, s dataset.Sample, outs []augmentOutput) (res Outcome, err error) {
	if err := ctx.Err(); err != nil {
		return Outcome{}, err
	}
	var todo []augmentOutput
	needOriginal, needCopies := false, false
	for _, out := range outs {
		if prev, ok := r.previous(w, s, out); ok {
			res.Kept = append(res.Kept, prev)
			continue
		}
		todo = append(todo, out)
		needOriginal = needOriginal || out.copy < 0
		needCopies = needCopies || out.copy >= 0
	}
	if len(todo) == 0 {
		return res, nil
	}
	reject := func(err error, stage, code string) (Outcome, error) {
		var se *dataset.SampleError
		if errors.As(err, &se) {
			code = se.Code
		}
		return Outcome{Rejects: []dataset.Reject{{ID: s.ID, Source: []string{s.Image}, Stage: stage, Code: code, Reason: err.Error()}}}, nil
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
			return nil, &dataset.SampleError{Code: AugmentCodeMissingFile, Path: rel, Err: err}
		}
		if want, ok := s.SHA256[rel]; ok {
			if dataset.SHA256(b) != want {
				return nil, &dataset.SampleError{Code: AugmentCodeChecksum, Path: rel,
					Err: errors.New("sha256 does not match the source manifest (the file changed since the dataset was written)")}
			}
		}
		files[rel] = b
		return b, nil
	}

	// Read and decode everything first, so that a bad source leaves no
	// file behind.
	if needOriginal {
		for _, rel := range augmentOriginalFiles(s) {
			if _, err := read(rel); err != nil {
				return reject(err, "read", dataset.CodeCorrupt)
			}
		}
	}
	var base *augment.Sample
	if needCopies {
		var err error
		if base, err = augmentLoadSample(r.d.Decoder, s, read); err != nil {
			return reject(err, "decode", dataset.CodeCorrupt)
		}
		defer base.Close()
	}
	for _, out := range todo {
		if err := ctx.Err(); err != nil {
			return Outcome{}, err
		}
		if out.copy < 0 {
			row, err := r.original(w, s, files)
			if err != nil {
				return Outcome{}, err
			}
			res.Rows = append(res.Rows, row)
			continue
		}
		row, rj, err := r.makeCopy(w, s, base, out)
		if err != nil {
			return Outcome{}, err
		}
		if rj != nil {
			res.Rejects = append(res.Rejects, *rj)
			if !rj.Kept {
				continue
			}
		}
		res.Rows = append(res.Rows, row)
	}
	return res, nil
}

// previous returns the row a previous run wrote for out when Resume is on
// and the row is intact and still derives from s.
func (r *augmentRun) previous(w *dataset.Writer, s dataset.Sample, out augmentOutput) (dataset.Sample, bool) {
	if !r.o.Resume {
		return dataset.Sample{}, false
	}
	prev, ok := w.Previous(out.id)
	if !ok {
		return prev, false
	}
	if out.copy < 0 {
		// An original: the very row, with every file it lists intact.
		return prev, maps.Equal(prev.SHA256, s.SHA256)
	}
	return prev, prev.Parent == s.ID && prev.Split == s.Split && slices.Equal(prev.Source, s.Source)
}

// augmentOriginalFiles lists every file row s references: its planes and
// whatever else its sha256 map lists (composite layers).
func augmentOriginalFiles(s dataset.Sample) []string {
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
func (r *augmentRun) original(w *dataset.Writer, s dataset.Sample, files map[string][]byte) (dataset.Sample, error) {
	row := s
	row.SHA256 = map[string]string{}
	for _, rel := range augmentOriginalFiles(s) {
		ext := path.Ext(rel)
		got, h, err := w.WriteBytes(path.Dir(rel), strings.TrimSuffix(path.Base(rel), ext), ext, files[rel])
		if err != nil {
			return row, fmt.Errorf("sample %s (%s): %w", s.ID, r.d.Path(rel), err)
		}
		row.SHA256[got] = h
	}
	return row, nil
}

// augmentLoadSample decodes the planes of row s that the pipeline
// transforms.
func augmentLoadSample(dec dataset.Decoder, s dataset.Sample, read func(string) ([]byte, error)) (*augment.Sample, error) {
	if s.Mask == "" {
		return nil, &dataset.SampleError{Code: dataset.CodeMissingPartner, Path: s.Image, Err: errors.New("source row has no mask")}
	}
	b, err := read(s.Image)
	if err != nil {
		return nil, err
	}
	img, _, _, err := dec.RGB(s.Image, b)
	if err != nil {
		return nil, err
	}
	out := &augment.Sample{Image: img}
	for _, l := range []struct {
		rel string
		dst *gocv.Mat
	}{{s.Mask, &out.Mask}, {s.Alpha, &out.Alpha}, {s.Trimap, &out.Trimap}} {
		if l.rel == "" {
			continue
		}
		b, err := read(l.rel)
		if err == nil {
			*l.dst, _, _, err = dec.Label(l.rel, b)
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

// makeCopy augments a clone of base as output out of s and writes its
// files. A pipeline failure is a reject; an all-background mask a kept,
// flagged row.
func (r *augmentRun) makeCopy(w *dataset.Writer, s dataset.Sample, base *augment.Sample, out augmentOutput) (dataset.Sample, *dataset.Reject, error) {
	c := base.Clone()
	defer c.Close()
	log, err := r.p.Apply(c, r.o.Seed, s.ID, out.copy)
	if err != nil {
		return dataset.Sample{}, &dataset.Reject{ID: out.id, Source: []string{s.Image}, Stage: "augment", Code: AugmentCodeFailed,
			Reason: fmt.Sprintf("copy %d: %v", out.copy, err)}, nil
	}
	rec, err := json.Marshal(log)
	if err != nil {
		return dataset.Sample{}, nil, fmt.Errorf("sample %s (%s): %w", out.id, r.d.Path(s.Image), err)
	}
	row := dataset.Sample{ID: out.id, Split: s.Split, Width: c.Image.Cols(), Height: c.Image.Rows(), Source: s.Source,
		SHA256: map[string]string{}, Parent: s.ID, Extra: map[string]json.RawMessage{"augment": rec}}
	if s.Instances != "" || len(s.Boxes) > 0 {
		row.Notes = append(row.Notes, augmentNoteDropped)
	}
	ext := ".png"
	if e := strings.ToLower(path.Ext(s.Image)); e == ".jpg" || e == ".jpeg" {
		ext = ".jpg"
	}
	put := func(dst *string, sub, ext string, m *gocv.Mat) error {
		if !augment.Present(m) {
			return nil
		}
		rel, h, err := w.WriteMat(sub, out.id, ext, *m, r.o.JPEGQuality)
		if err != nil {
			return err
		}
		*dst, row.SHA256[rel] = rel, h
		return nil
	}
	if err := errors.Join(
		put(&row.Image, dataset.ImagesDir, ext, &c.Image),
		put(&row.Mask, dataset.MasksDir, ".png", &c.Mask),
		put(&row.Alpha, dataset.AlphasDir, ".png", &c.Alpha),
		put(&row.Trimap, dataset.TrimapsDir, ".png", &c.Trimap)); err != nil {
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

// augmentSheetRows picks k rows spread evenly over rows.
func augmentSheetRows(rows []dataset.Sample, k int) []dataset.Sample {
	n := len(rows)
	k = min(k, n)
	out := make([]dataset.Sample, 0, k)
	for i := range k {
		out = append(out, rows[i*n/k])
	}
	return out
}

// augmentReadSamples decodes up to k of rows of d, spread evenly over
// them, leaving out those that cannot be read, and returns them with their
// ids. The caller closes the samples.
func augmentReadSamples(ctx context.Context, d *dataset.Dataset, rows []dataset.Sample, k int) ([]*augment.Sample, []string, error) {
	var samples []*augment.Sample
	var ids []string
	for _, row := range augmentSheetRows(rows, k) {
		if err := ctx.Err(); err != nil {
			augmentCloseAll(samples)
			return nil, nil, err
		}
		s, err := augmentLoadSample(d.Decoder, row, func(rel string) ([]byte, error) { return os.ReadFile(d.Path(rel)) })
		if err != nil {
			continue
		}
		samples = append(samples, s)
		ids = append(ids, row.ID)
	}
	return samples, ids, nil
}

func augmentCloseAll(samples []*augment.Sample) {
	for _, s := range samples {
		s.Close()
	}
}

// sheet draws o.Preview of rows, each beside its first copies (the very
// draws Augment writes), and writes the sheet as PNG to dst. A row that
// cannot be read is left out. It returns dst.
func (r *augmentRun) sheet(ctx context.Context, rows []dataset.Sample, dst string) (string, error) {
	samples, ids, err := augmentReadSamples(ctx, r.d, rows, r.o.Preview)
	if err != nil {
		return "", err
	}
	defer augmentCloseAll(samples)
	if len(samples) == 0 {
		return "", fmt.Errorf("preview: none of the %d samples picked could be read", min(r.o.Preview, len(rows)))
	}
	sheet, err := augment.ContactSheet(r.p, samples, ids, augment.SheetOptions{Copies: min(r.o.Copies, AugmentMaxPreviewCopies), Seed: r.o.Seed})
	if err != nil {
		return "", fmt.Errorf("preview: %w", err)
	}
	defer sheet.Close()
	if err := writePreview(dst, sheet); err != nil {
		return "", err
	}
	return dst, nil
}

// AugmentBenchOptions configure AugmentBench.
type AugmentBenchOptions struct {
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
	// Workers for the parallel pass over the dataset (Workers(n)).
	Workers int
}

// AugmentBench times the pipeline of o.Config with augment.BenchSamples:
// op by op on one sample and one worker, and, given a dataset, over its
// samples on one worker and on o.Workers. Decoding is not timed.
func AugmentBench(ctx context.Context, o AugmentBenchOptions) (augment.BenchReport, error) {
	if o.N == 0 {
		o.N = 200
	}
	if o.N < 0 {
		return augment.BenchReport{}, &dataset.OptionError{Field: "N", Err: fmt.Errorf("must be at least 1, not %d", o.N)}
	}
	if o.Size == (image.Point{}) {
		o.Size = image.Pt(512, 512)
	}
	cfg, err := augmentLoadConfig(o.Config)
	if err != nil {
		return augment.BenchReport{}, err
	}
	bo := augment.BenchOptions{N: o.N, Seed: o.Seed, Workers: Workers(o.Workers)}
	if o.Dataset == "" {
		s, err := augment.SyntheticSample(o.Size, o.Seed)
		if err != nil {
			return augment.BenchReport{}, &dataset.OptionError{Field: "Size", Err: err}
		}
		defer s.Close()
		return augment.BenchSamples(ctx, cfg.p, []*augment.Sample{s}, []string{"synthetic portrait"}, bo)
	}
	d, rows, err := augmentOpenSelection(o.Dataset, dataset.SplitNames(), 0)
	if err != nil {
		return augment.BenchReport{}, err
	}
	samples, ids, err := augmentReadSamples(ctx, d, rows, o.N)
	if err != nil {
		return augment.BenchReport{}, err
	}
	defer augmentCloseAll(samples)
	if len(samples) == 0 {
		return augment.BenchReport{}, fmt.Errorf("bench: no sample of %s could be read", o.Dataset)
	}
	bo.Throughput = true
	return augment.BenchSamples(ctx, cfg.p, samples, ids, bo)
}
