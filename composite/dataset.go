package composite

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segtool/segtool/dataset"
	"gocv.io/x/gocv"
)

// Foreground source kinds, as DatasetOptions.Fg is read.
const (
	// FgCutouts is a folder (searched recursively) of RGBA cut-outs, or one
	// cut-out file.
	FgCutouts = "cutouts"
	// FgDataset is a canonical dataset whose rows have an alpha; the
	// foreground colour is the image itself (see LoadImageAlpha).
	FgDataset = "dataset"
	// FgPairs is "folder:DIR": DIR/fg/<stem>.* paired with DIR/alpha/<stem>.*
	// (the Deep Image Matting layout); F is the fg image, as with FgDataset.
	FgPairs = "folder"
)

// pairsPrefix marks a FgPairs source.
const pairsPrefix = "folder:"

// Reject codes of WriteDataset, besides the dataset package's.
const (
	CodeNoAlpha     = "no-alpha"    // a cut-out without an alpha channel, or a dataset row without an alpha
	CodeTransparent = "transparent" // a cut-out whose alpha is 0 everywhere
)

// PreviewFile is the contact sheet WriteDataset writes for
// DatasetOptions.Preview, in the dataset folder.
const PreviewFile = "preview.png"

// ErrNoComposites reports a run in which no composite was made: every
// foreground or every background was rejected.
var ErrNoComposites = errors.New("no composite made; see rejects.jsonl for the reasons")

// OptionError names the flag at fault in the options (see dataset.OptionError).
type OptionError = dataset.OptionError

// cacheBytes bounds the decoded inputs kept in memory between composites.
// Inputs beyond it are decoded again for each composite that uses them,
// so a folder of thousands of backgrounds costs time, not memory. A
// variable so tests can take the decode-again path.
var cacheBytes int64 = 1 << 30

// DatasetOptions configure WriteDataset.
type DatasetOptions struct {
	// Fg: a folder of RGBA cut-outs (PNG or WebP, searched recursively; one
	// file also works), a canonical dataset with alphas, or "folder:DIR"
	// with DIR/fg/<stem>.* and DIR/alpha/<stem>.*.
	Fg string
	// Bg: a folder of background images (searched recursively; one file
	// also works), or "procedural:KIND,..." (see ParseProcedural).
	Bg  string
	Out string
	// Name is the dataset name (default: the base name of Out); Version the
	// segtool version for dataset.json.
	Name, Version string
	// Composite: planning and compositing options. PerFg, AllowRepeat and
	// Multi shape the plan; Layers also writes fg/<id>.png and bg/<id>.png.
	Composite Options
	// Premultiplied: the cut-outs store colour multiplied by alpha (only
	// for FgCutouts).
	Premultiplied bool
	// Protocol is recorded in dataset.json (e.g. "composition-1k"); the
	// caller sets Composite accordingly.
	Protocol string
	// Ratios split foregrounds that have no split of their own (default
	// 0.8, 0.1, 0.1). All composites of one foreground share its split.
	Ratios dataset.Ratios
	// ImageFormat: "png" (default) or "jpg" for images/; JPEGQuality
	// defaults to 95. Alphas, masks and layers are always PNG.
	ImageFormat string
	JPEGQuality int
	// Preview > 0 writes a contact sheet of that many composites, spread
	// over the plan, to PreviewFile.
	Preview int
	// Resume keeps composites whose files exist with matching sha256;
	// Force replaces an existing output; FailFast stops at the first reject.
	Resume, Force, FailFast bool
	Workers                 int // default 1
	// Progress, if set, is called after each planned composite with the
	// number done and the total. It may be called from several goroutines.
	Progress func(done, total int)
}

// Summary is what WriteDataset did.
type Summary struct {
	Out    string
	FgKind string // FgCutouts, FgDataset or FgPairs
	// Foregrounds, Backgrounds: usable inputs (after rejects).
	Foregrounds, Backgrounds int
	Planned                  int // composites planned
	Samples                  int // rows in the manifest
	Reused                   int // rows kept from a previous run (Resume)
	Files                    int // files written
	Counts                   map[string]int
	Rejects, Flagged         int
	RejectCodes              map[string]int
	// Shrunk counts composites whose cut-out was larger than the canvas
	// with no scale range, and was scaled down to fit.
	Shrunk int
	// MultiDropped counts second foregrounds left out because they belong
	// to another split than the first (a person in two splits leaks).
	MultiDropped int
	// LooksPremultiplied lists cut-outs (paths relative to Fg) loaded as
	// straight alpha that look premultiplied: Premultiplied is likely
	// wanted.
	LooksPremultiplied []string
	Preview            string // path of the contact sheet, if written
	Elapsed            time.Duration
}

// fgInput is one foreground found in the source.
type fgInput struct {
	id    string // seeds its draws and prefixes its composites' ids
	rel   string // colour (or RGBA) file, relative to the source root
	image string // paths to load
	alpha string // "" for a cut-out
	split string // official split (FgDataset), else ""
	src   []string
}

// bgInput is one background found in the source.
type bgInput struct {
	id   string // path relative to the source root, or procedural:KIND
	path string // path to load
}

// outputOptions are the options that decide the output's bytes; Resume
// only continues a dataset written with the same ones.
func (o *DatasetOptions) outputOptions(kind, fgRoot, bgSpec string) map[string]any {
	c := o.Composite
	m := map[string]any{
		"fg": fgRoot, "fg_kind": kind, "bg": bgSpec, "seed": c.Seed, "per_fg": max(1, c.PerFg),
		"allow_repeat": c.AllowRepeat, "position": string(c.Position), "flip": c.Flip, "fit": string(c.Fit),
		"multi": c.Multi, "linear": c.LinearLight, "premultiplied": o.Premultiplied, "harmonize": c.Harmonize,
		"bg_blur": c.BgBlur, "noise": c.Noise, "save_layers": c.Layers, "split": o.Ratios[:],
		"image_format": o.ImageFormat, "jpeg_quality": o.JPEGQuality,
	}
	if c.Width > 0 {
		m["size"] = fmt.Sprintf("%dx%d", c.Width, c.Height)
	}
	if c.ScaleHi > 0 {
		m["scale"] = []float64{c.ScaleLo, c.ScaleHi}
	}
	if o.Protocol != "" {
		m["protocol"] = o.Protocol
	}
	return m
}

// itemResult is what one planned composite gave.
type itemResult struct {
	row     *dataset.Sample
	rejects []dataset.Reject
	reused  bool
	shrunk  bool
	err     error
}

// WriteDataset composites the foregrounds of o.Fg over the backgrounds of
// o.Bg as Plan says and writes a canonical dataset to o.Out: images/,
// alphas/, masks/ (alpha >= 128), manifest.jsonl, dataset.json and
// rejects.jsonl, plus fg/ and bg/ with Composite.Layers.
//
// Rows have id "<fg id>__<index>", the foreground's split, source
// [foreground, background, second foreground if any] (paths relative to
// Fg and Bg), parent = the foreground id, and Extra["composite"] = the
// Record. Bad inputs become rejects and never stop the run unless
// FailFast. Option faults (including ErrTooFewBackgrounds) are
// *OptionError and leave no output behind; ErrNoComposites means every
// foreground or every background was rejected.
func WriteDataset(ctx context.Context, o DatasetOptions) (Summary, error) {
	start := time.Now()
	sum := Summary{Out: o.Out, Counts: map[string]int{}, RejectCodes: map[string]int{}}
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.JPEGQuality == 0 {
		o.JPEGQuality = 95
	}
	if o.Ratios == (dataset.Ratios{}) {
		o.Ratios = dataset.Ratios{0.8, 0.1, 0.1}
	}
	switch o.ImageFormat {
	case "":
		o.ImageFormat = "png"
	case "png", "jpg":
	default:
		return sum, &OptionError{Option: "--image-format", Err: fmt.Errorf("%q: want png or jpg", o.ImageFormat)}
	}
	if err := o.Composite.Validate(); err != nil {
		return sum, &OptionError{Option: "composite options", Err: err}
	}
	kind, fgRoot, fgs, rejects, err := scanForegrounds(ctx, o.Fg)
	if err != nil {
		return sum, err
	}
	sum.FgKind = kind
	if o.Premultiplied && kind != FgCutouts {
		return sum, &OptionError{Option: "--premultiplied", Err: fmt.Errorf("applies to RGBA cut-outs only; %s is a %s source, whose colour is the image itself", o.Fg, kind)}
	}
	bgSpec, bgs, bgRejects, err := scanBackgrounds(ctx, o.Bg)
	if err != nil {
		return sum, err
	}
	rejects = append(rejects, bgRejects...)

	// Decode every input once: the plan must only draw usable ones. What
	// fits the memory budget stays decoded for the composites.
	var budget atomic.Int64
	budget.Store(cacheBytes)
	fgStore := &store[*Foreground]{budget: &budget, load: func(i int) (*Foreground, int64, error) {
		fg, err := loadForeground(fgs[i], o.Premultiplied)
		if err != nil {
			return nil, 0, err
		}
		sz := fg.Size()
		return fg, int64(sz.X) * int64(sz.Y) * 4, nil
	}}
	bgStore := &store[*Background]{budget: &budget, load: func(i int) (*Background, int64, error) {
		bg, err := loadBackground(bgs[i])
		if err != nil {
			return nil, 0, err
		}
		if bg.Procedural() {
			return bg, 0, nil
		}
		return bg, int64(bg.bgr.Cols()) * int64(bg.bgr.Rows()) * 3, nil
	}}
	defer fgStore.close()
	defer bgStore.close()
	fgErr, looksPrem, bgErr, err := checkInputs(ctx, o.Workers, fgStore, len(fgs), bgStore, len(bgs))
	if err != nil {
		return sum, fmt.Errorf("interrupted while reading inputs: %w", err)
	}
	var goodFg, goodBg []int
	for i, in := range fgs {
		if fgErr[i] != nil {
			rejects = append(rejects, fgReject(in, fgErr[i]))
			continue
		}
		goodFg = append(goodFg, i)
		if looksPrem[i] {
			sum.LooksPremultiplied = append(sum.LooksPremultiplied, in.rel)
		}
	}
	for i, in := range bgs {
		if bgErr[i] != nil {
			rejects = append(rejects, dataset.Reject{Source: []string{in.id}, Stage: "background", Code: dataset.CodeCorrupt, Reason: bgErr[i].Error()})
			continue
		}
		goodBg = append(goodBg, i)
	}
	sum.Foregrounds, sum.Backgrounds = len(goodFg), len(goodBg)

	var items []Item
	if len(goodFg) > 0 && len(goodBg) > 0 {
		fgIDs := make([]string, len(goodFg))
		for k, i := range goodFg {
			fgIDs[k] = fgs[i].id
		}
		bgIDs := make([]string, len(goodBg))
		for k, i := range goodBg {
			bgIDs[k] = bgs[i].id
		}
		items, err = Plan(fgIDs, bgIDs, o.Composite)
		if errors.Is(err, ErrTooFewBackgrounds) {
			return sum, &OptionError{Option: "--per-fg", Err: fmt.Errorf("%d backgrounds per foreground, but only %d usable backgrounds: %w",
				max(1, o.Composite.PerFg), len(goodBg), ErrTooFewBackgrounds)}
		}
		if err != nil {
			return sum, err
		}
		// Plan indexes the usable lists; map back to the inputs.
		for k := range items {
			items[k].Fg, items[k].Bg = goodFg[items[k].Fg], goodBg[items[k].Bg]
			if items[k].Second >= 0 {
				items[k].Second = goodFg[items[k].Second]
			}
		}
	}
	splits := make([]string, len(fgs))
	for _, i := range goodFg {
		splits[i] = dataset.SplitFor(fgs[i].id, fgs[i].split, o.Ratios, 0, o.Composite.Seed)
	}
	for k, it := range items {
		if it.Second >= 0 && splits[it.Second] != splits[it.Fg] {
			items[k].Second = -1
			sum.MultiDropped++
		}
	}
	sum.Planned = len(items)

	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return a
	}
	opts := o.outputOptions(kind, abs(fgRoot), bgSpec)
	w, err := dataset.NewWriter(o.Out, dataset.WriterOptions{Force: o.Force, Resume: o.Resume, Options: opts})
	if err != nil {
		return sum, err
	}
	w.Reject(rejects...)
	tally := func() { sum.Rejects, sum.Flagged = dataset.TallyRejects(rejects, sum.RejectCodes) }
	if o.FailFast && len(rejects) > 0 {
		w.Abort()
		tally()
		r := rejects[0]
		return sum, fmt.Errorf("--fail-fast: %s: %s", strings.Join(r.Source, ", "), r.Reason)
	}
	if len(items) == 0 {
		w.Abort()
		tally()
		sum.Elapsed = time.Since(start)
		return sum, fmt.Errorf("%d usable foregrounds, %d usable backgrounds: %w", len(goodFg), len(goodBg), ErrNoComposites)
	}

	r := &runner{o: &o, w: w, fgs: fgs, bgs: bgs, splits: splits, fgStore: fgStore, bgStore: bgStore}
	results := make([]itemResult, len(items))
	poolErr := dataset.RunPool(ctx, len(items), o.Workers, func(ctx context.Context, j int) error {
		results[j] = r.one(ctx, items[j])
		res := &results[j]
		if res.err == nil && res.row != nil && !res.reused {
			res.err = w.Add(*res.row)
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
		if res.reused {
			w.Keep(*res.row)
			sum.Reused++
		}
		if res.shrunk {
			sum.Shrunk++
		}
	}
	tally()
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
	}
	if len(rows) == 0 {
		w.Abort()
		sum.Elapsed = time.Since(start)
		return sum, ErrNoComposites
	}
	if o.Preview > 0 {
		p, err := writePreview(w.Dir(), results, o.Preview)
		if err != nil {
			w.Abort()
			return sum, err
		}
		if p != "" {
			sum.Preview = filepath.Join(o.Out, p)
		}
	}
	name := o.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(o.Out))
	}
	info := dataset.Info{Name: name, Version: o.Version, Format: "composite", SourceDir: abs(fgRoot), Options: opts}
	if err := w.Commit(info); err != nil {
		return sum, err
	}
	sum.Elapsed = time.Since(start)
	return sum, nil
}

// fgReject turns a foreground's load error into a reject line.
func fgReject(in fgInput, err error) dataset.Reject {
	code := dataset.CodeCorrupt
	switch {
	case errors.Is(err, ErrNoAlpha):
		code = CodeNoAlpha
	case errors.Is(err, ErrTransparent):
		code = CodeTransparent
	case errors.Is(err, ErrSizeMismatch):
		code = dataset.CodeSizeMismatch
	}
	return dataset.Reject{ID: in.id, Source: in.src, Stage: "foreground", Code: code, Reason: err.Error()}
}

func loadForeground(in fgInput, premultiplied bool) (*Foreground, error) {
	var fg *Foreground
	var err error
	if in.alpha == "" {
		fg, err = LoadCutout(in.image, premultiplied)
	} else {
		fg, err = LoadImageAlpha(in.image, in.alpha)
	}
	if err != nil {
		return nil, err
	}
	// The id, not the file name, seeds the draws: two cut-outs of one name
	// in different folders must not draw alike.
	fg.ID = in.id
	return fg, nil
}

func loadBackground(in bgInput) (*Background, error) {
	bg, err := LoadBackground(in.path)
	if err != nil {
		return nil, err
	}
	bg.ID = in.id // relative, so records do not depend on where the folder is
	return bg, nil
}

// checkInputs loads every foreground and background once, in parallel,
// offering each to its store. It returns the load errors by index and
// which cut-outs look premultiplied.
func checkInputs(ctx context.Context, workers int, fgs *store[*Foreground], nFg int, bgs *store[*Background], nBg int) (fgErr []error, looksPrem []bool, bgErr []error, err error) {
	fgErr, looksPrem, bgErr = make([]error, nFg), make([]bool, nFg), make([]error, nBg)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if j < nFg {
					fg, release, err := fgs.get(j)
					if fgErr[j] = err; err == nil {
						looksPrem[j] = fg.LooksPremultiplied
						release()
					}
					continue
				}
				_, release, err := bgs.get(j - nFg)
				if bgErr[j-nFg] = err; err == nil {
					release()
				}
			}
		}()
	}
feed:
	for j := range nFg + nBg {
		select {
		case jobs <- j:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	return fgErr, looksPrem, bgErr, ctx.Err()
}

// store hands out decoded inputs by index, keeping what fits a memory
// budget shared between stores and decoding the rest afresh for each use.
// Kept values are only read, so workers share them.
type store[T interface{ Close() error }] struct {
	load   func(i int) (T, int64, error)
	budget *atomic.Int64

	mu   sync.Mutex
	kept map[int]T
}

// get returns input i and a function to call when done with it.
func (s *store[T]) get(i int) (T, func(), error) {
	s.mu.Lock()
	v, ok := s.kept[i]
	s.mu.Unlock()
	if ok {
		return v, func() {}, nil
	}
	v, n, err := s.load(i)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.kept[i]; !dup && s.budget.Add(-n) >= 0 {
		if s.kept == nil {
			s.kept = map[int]T{}
		}
		s.kept[i] = v
		return v, func() {}, nil
	} else if !dup {
		s.budget.Add(n)
	}
	return v, func() { v.Close() }, nil
}

func (s *store[T]) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.kept {
		v.Close()
	}
	s.kept = nil
}

// runner makes and writes single composites.
type runner struct {
	o       *DatasetOptions
	w       *dataset.Writer
	fgs     []fgInput
	bgs     []bgInput
	splits  []string
	fgStore *store[*Foreground]
	bgStore *store[*Background]
}

// sampleID names composite index of a foreground. The index is padded so
// that a foreground's rows sort in order up to 1000 per foreground.
func sampleID(fgID string, index int) string { return fmt.Sprintf("%s__%03d", fgID, index) }

// one makes, or under Resume reuses, one planned composite. Only failures
// to write the output (and cancellation) are errors; bad input is a reject.
func (r *runner) one(ctx context.Context, it Item) itemResult {
	if err := ctx.Err(); err != nil {
		return itemResult{err: err}
	}
	in := r.fgs[it.Fg]
	id := sampleID(in.id, it.Index)
	source := []string{in.rel, r.bgs[it.Bg].id}
	if it.Second >= 0 {
		source = append(source, r.fgs[it.Second].rel)
	}
	if r.o.Resume {
		// The sources must match too: with inputs added or removed since,
		// the plan may pair this foreground with another background.
		if s, ok := r.w.Previous(id); ok && slices.Equal(s.Source, source) && extrasIntact(r.w.Dir(), s) {
			return itemResult{row: &s, reused: true, shrunk: recordShrunk(s)}
		}
	}
	reject := func(err error) itemResult {
		return itemResult{rejects: []dataset.Reject{{ID: id, Source: source, Stage: "composite", Code: dataset.CodeCorrupt, Reason: err.Error()}}}
	}
	// The inputs were read once already; failing now means they changed.
	fg, release, err := r.fgStore.get(it.Fg)
	if err != nil {
		return reject(err)
	}
	defer release()
	var second *Foreground
	if it.Second >= 0 {
		s, release, err := r.fgStore.get(it.Second)
		if err != nil {
			return reject(err)
		}
		defer release()
		second = s
	}
	bg, releaseBg, err := r.bgStore.get(it.Bg)
	if err != nil {
		return reject(err)
	}
	defer releaseBg()

	res, err := Composite(ctx, fg, second, bg, it.Index, r.o.Composite)
	if err != nil {
		if ctx.Err() != nil {
			return itemResult{err: ctx.Err()}
		}
		return itemResult{err: fmt.Errorf("sample %s (%s over %s): %w", id, in.image, r.bgs[it.Bg].path, err)}
	}
	defer res.Close()
	rec, err := json.Marshal(res.Record)
	if err != nil {
		return itemResult{err: fmt.Errorf("sample %s: %w", id, err)}
	}
	s := dataset.Sample{ID: id, Split: r.splits[it.Fg], Width: res.Image.Cols(), Height: res.Image.Rows(),
		Source: source, SHA256: map[string]string{}, Parent: in.id,
		Extra: map[string]json.RawMessage{"composite": rec}}
	put := func(dst *string, sub, ext string, m gocv.Mat) error {
		rel, h, err := r.w.WriteMat(sub, id, ext, m, r.o.JPEGQuality)
		if err != nil {
			return err
		}
		if dst != nil {
			*dst = rel
		}
		s.SHA256[rel] = h
		return nil
	}
	errs := []error{
		put(&s.Image, "images", "."+r.o.ImageFormat, res.Image),
		put(&s.Alpha, "alphas", ".png", res.Alpha),
		put(&s.Mask, "masks", ".png", res.Mask),
	}
	if r.o.Composite.Layers {
		errs = append(errs, put(nil, "fg", ".png", res.F), put(nil, "bg", ".png", res.B))
	}
	if err := errors.Join(errs...); err != nil {
		return itemResult{err: fmt.Errorf("sample %s (%s): %w", id, in.image, err)}
	}
	out := itemResult{row: &s, shrunk: res.Record.Shrunk}
	if res.Record.Shrunk {
		s.Notes = append(s.Notes, "cut-out larger than the canvas, scaled down to fit")
	}
	fgPix := gocv.CountNonZero(res.Mask)
	s.FGFrac = float64(fgPix) / float64(s.Width*s.Height)
	if fgPix == 0 {
		s.Notes = append(s.Notes, "all-zero mask")
		out.rejects = []dataset.Reject{{ID: id, Source: source, Stage: "check", Code: dataset.CodeEmptyMask, Kept: true,
			Reason: "no pixel of the composite has alpha >= 128; sample kept but flagged"}}
	}
	return out
}

// extrasIntact checks the files a row lists in sha256 beyond its planes
// (the fg/ and bg/ layers), which Writer.Previous does not know about.
func extrasIntact(dir string, s dataset.Sample) bool {
	planes := map[string]bool{}
	for _, f := range s.Files() {
		planes[f] = true
	}
	for rel, want := range s.SHA256 {
		if planes[rel] {
			continue
		}
		f, err := os.Open(filepath.Join(dir, rel))
		if err != nil {
			return false
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil || hex.EncodeToString(h.Sum(nil)) != want {
			return false
		}
	}
	return true
}

// recordShrunk reads the Shrunk flag of a row's composite record.
func recordShrunk(s dataset.Sample) bool {
	var rec Record
	return json.Unmarshal(s.Extra["composite"], &rec) == nil && rec.Shrunk
}

// writePreview lays k composites, spread evenly over the plan, on a
// contact sheet read back from the written files, so a resumed run shows
// the same sheet. It returns the sheet's path relative to dir.
func writePreview(dir string, results []itemResult, k int) (string, error) {
	var rs []*Result
	defer func() {
		for _, r := range rs {
			r.Image.Close()
			r.Alpha.Close()
		}
	}()
	n := len(results)
	for i := range min(k, n) {
		res := results[i*n/min(k, n)]
		if res.row == nil {
			continue
		}
		img := gocv.IMRead(filepath.Join(dir, res.row.Image), gocv.IMReadColor)
		al := gocv.IMRead(filepath.Join(dir, res.row.Alpha), gocv.IMReadGrayScale)
		rs = append(rs, &Result{Image: img, Alpha: al})
		if img.Empty() || al.Empty() {
			return "", fmt.Errorf("preview: cannot read back sample %s", res.row.ID)
		}
	}
	if len(rs) == 0 {
		return "", nil
	}
	tile := 240
	for _, r := range rs {
		tile = min(tile, r.Image.Rows())
	}
	sheet, err := ContactSheet(rs, tile)
	if err != nil {
		return "", fmt.Errorf("preview: %w", err)
	}
	defer sheet.Close()
	buf, err := gocv.IMEncode(gocv.PNGFileExt, sheet)
	if err != nil {
		return "", fmt.Errorf("preview: %w", err)
	}
	defer buf.Close()
	data := append([]byte(nil), buf.GetBytes()...)
	if _, err := dataset.WriteFileIfChanged(filepath.Join(dir, PreviewFile), data); err != nil {
		return "", fmt.Errorf("preview: %w", err)
	}
	return PreviewFile, nil
}

// scanForegrounds finds the foregrounds of spec. Ids that clash keep the
// first path in order; the others become rejects.
func scanForegrounds(ctx context.Context, spec string) (kind, root string, ins []fgInput, rejects []dataset.Reject, err error) {
	if spec == "" {
		return "", "", nil, nil, &OptionError{Option: "--fg", Err: errors.New("no foreground source given")}
	}
	if dir, ok := strings.CutPrefix(spec, pairsPrefix); ok {
		ins, rejects, err = scanPairs(ctx, dir)
		return FgPairs, dir, ins, rejects, err
	}
	st, err := os.Stat(spec)
	if err != nil {
		return "", "", nil, nil, &OptionError{Option: "--fg", Err: err}
	}
	if !st.IsDir() {
		dir, base := filepath.Split(spec)
		return FgCutouts, dir, []fgInput{{id: dataset.ID(base), rel: base, image: spec, src: []string{base}}}, nil, nil
	}
	if isRegularFile(filepath.Join(spec, dataset.InfoFile)) || isRegularFile(filepath.Join(spec, dataset.ManifestFile)) {
		ins, rejects, err = scanDataset(spec)
		return FgDataset, spec, ins, rejects, err
	}
	files, rejects, err := listImages(ctx, spec, "foreground")
	if err != nil {
		return "", "", nil, nil, fmt.Errorf("scan %s: %w", spec, err)
	}
	for _, f := range files {
		ins = append(ins, fgInput{id: dataset.ID(f), rel: f, image: filepath.Join(spec, filepath.FromSlash(f)), src: []string{f}})
	}
	ins, dups := dedupeFg(ins)
	return FgCutouts, spec, ins, append(rejects, dups...), nil
}

// scanPairs reads the folder: layout, DIR/fg and DIR/alpha paired by the
// path stem below each.
func scanPairs(ctx context.Context, dir string) ([]fgInput, []dataset.Reject, error) {
	fgDir, alphaDir := filepath.Join(dir, "fg"), filepath.Join(dir, "alpha")
	if !isDirPath(fgDir) || !isDirPath(alphaDir) {
		return nil, nil, &OptionError{Option: "--fg", Err: fmt.Errorf("%s%s needs the folders %s and %s", pairsPrefix, dir, fgDir, alphaDir)}
	}
	fgFiles, rejects, err := listImages(ctx, fgDir, "foreground")
	if err != nil {
		return nil, nil, fmt.Errorf("scan %s: %w", fgDir, err)
	}
	alphaFiles, rj, err := listImages(ctx, alphaDir, "foreground")
	if err != nil {
		return nil, nil, fmt.Errorf("scan %s: %w", alphaDir, err)
	}
	prefix := func(sub string, rs []dataset.Reject) {
		for i := range rs {
			for k, s := range rs[i].Source {
				rs[i].Source[k] = sub + "/" + s
			}
		}
	}
	prefix("fg", rejects)
	prefix("alpha", rj)
	rejects = append(rejects, rj...)
	stem := func(f string) string { return strings.TrimSuffix(f, path.Ext(f)) }
	alphas := map[string]string{}
	for _, f := range alphaFiles {
		if prev, dup := alphas[stem(f)]; dup {
			rejects = append(rejects, dataset.Reject{Source: []string{"alpha/" + f}, Stage: "scan", Code: dataset.CodeDuplicateID,
				Reason: "another alpha with the same stem is used: alpha/" + prev})
			continue
		}
		alphas[stem(f)] = f
	}
	used := map[string]bool{}
	var ins []fgInput
	for _, f := range fgFiles {
		a, ok := alphas[stem(f)]
		if !ok {
			rejects = append(rejects, dataset.Reject{ID: dataset.ID(f), Source: []string{"fg/" + f}, Stage: "scan", Code: dataset.CodeMissingPartner,
				Reason: fmt.Sprintf("no alpha for this foreground (looked for alpha/%s.*)", stem(f))})
			continue
		}
		if used[stem(f)] {
			rejects = append(rejects, dataset.Reject{Source: []string{"fg/" + f}, Stage: "scan", Code: dataset.CodeDuplicateID,
				Reason: fmt.Sprintf("another foreground with the stem %s is used", stem(f))})
			continue
		}
		used[stem(f)] = true
		ins = append(ins, fgInput{id: dataset.ID(f), rel: "fg/" + f, image: filepath.Join(fgDir, filepath.FromSlash(f)),
			alpha: filepath.Join(alphaDir, filepath.FromSlash(a)), src: []string{"fg/" + f, "alpha/" + a}})
	}
	for _, f := range alphaFiles {
		if s := stem(f); !used[s] && alphas[s] == f {
			rejects = append(rejects, dataset.Reject{Source: []string{"alpha/" + f}, Stage: "scan", Code: dataset.CodeMissingPartner,
				Reason: fmt.Sprintf("no foreground for this alpha (looked for fg/%s.*)", s)})
		}
	}
	ins, dups := dedupeFg(ins)
	return ins, append(rejects, dups...), nil
}

// scanDataset takes the rows of a canonical dataset that have an alpha.
func scanDataset(dir string) ([]fgInput, []dataset.Reject, error) {
	d, err := dataset.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	var ins []fgInput
	var rejects []dataset.Reject
	for _, s := range d.Samples {
		if s.Alpha == "" {
			rejects = append(rejects, dataset.Reject{ID: s.ID, Source: []string{s.Image}, Stage: "foreground", Code: CodeNoAlpha,
				Reason: "this sample has a mask but no alpha matte; composites need a soft alpha"})
			continue
		}
		ins = append(ins, fgInput{id: s.ID, rel: s.Image, image: d.Path(s.Image), alpha: d.Path(s.Alpha), split: s.Split,
			src: []string{s.Image, s.Alpha}})
	}
	return ins, rejects, nil
}

// dedupeFg keeps the first foreground (by path) of each id.
func dedupeFg(ins []fgInput) ([]fgInput, []dataset.Reject) {
	sort.SliceStable(ins, func(i, j int) bool { return ins[i].rel < ins[j].rel })
	seen := map[string]string{}
	var out []fgInput
	var rejects []dataset.Reject
	for _, in := range ins {
		if first, dup := seen[in.id]; dup {
			rejects = append(rejects, dataset.Reject{ID: in.id, Source: in.src, Stage: "scan", Code: dataset.CodeDuplicateID,
				Reason: fmt.Sprintf("duplicate foreground id %q, already used by %s", in.id, first)})
			continue
		}
		seen[in.id] = in.rel
		out = append(out, in)
	}
	return out, rejects
}

// scanBackgrounds finds the backgrounds of spec and returns spec as
// recorded in dataset.json (an absolute folder, or the procedural spec).
func scanBackgrounds(ctx context.Context, spec string) (string, []bgInput, []dataset.Reject, error) {
	if spec == "" {
		return "", nil, nil, &OptionError{Option: "--bg", Err: errors.New("no background source given")}
	}
	if strings.HasPrefix(spec, proceduralPrefix) || (spec == strings.TrimSuffix(proceduralPrefix, ":") && !isDirPath(spec)) {
		ids, err := ParseProcedural(spec)
		if err != nil {
			return "", nil, nil, &OptionError{Option: "--bg", Err: err}
		}
		ins := make([]bgInput, len(ids))
		for i, id := range ids {
			ins[i] = bgInput{id: id, path: id}
		}
		return spec, ins, nil, nil
	}
	abs, err := filepath.Abs(spec)
	if err != nil {
		abs = spec
	}
	st, err := os.Stat(spec)
	if err != nil {
		return "", nil, nil, &OptionError{Option: "--bg", Err: err}
	}
	if !st.IsDir() {
		return abs, []bgInput{{id: filepath.Base(spec), path: spec}}, nil, nil
	}
	files, rejects, err := listImages(ctx, spec, "background")
	if err != nil {
		return "", nil, nil, fmt.Errorf("scan %s: %w", spec, err)
	}
	ins := make([]bgInput, len(files))
	for i, f := range files {
		ins[i] = bgInput{id: f, path: filepath.Join(spec, filepath.FromSlash(f))}
	}
	return abs, ins, rejects, nil
}

// sourceImageExts are the extensions taken for images; other files are rejects.
var sourceImageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".bmp": true, ".tif": true, ".tiff": true, ".webp": true}

// listImages walks root and returns the image files' paths relative to it
// (slash-separated, sorted), with rejects for AppleDouble and non-image
// files.
func listImages(ctx context.Context, root, stage string) ([]string, []dataset.Reject, error) {
	var files []string
	var rejects []dataset.Reject
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		name := d.Name()
		switch {
		case strings.HasPrefix(name, "._"):
			rejects = append(rejects, dataset.Reject{Source: []string{rel}, Stage: stage, Code: dataset.CodeAppleDouble,
				Reason: "macOS AppleDouble metadata file (._*), not an image"})
		case !sourceImageExts[strings.ToLower(filepath.Ext(name))]:
			rejects = append(rejects, dataset.Reject{Source: []string{rel}, Stage: stage, Code: dataset.CodeNotImage,
				Reason: fmt.Sprintf("not an image file (extension %q)", filepath.Ext(name))})
		case !d.Type().IsRegular():
			rejects = append(rejects, dataset.Reject{Source: []string{rel}, Stage: stage, Code: dataset.CodeNotImage,
				Reason: "not a regular file"})
		default:
			files = append(files, rel)
		}
		return nil
	})
	sort.Strings(files)
	return files, rejects, err
}

func isDirPath(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

func isRegularFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
