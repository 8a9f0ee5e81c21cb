package jobs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segtool/segtool/composite"
	"github.com/segtool/segtool/dataset"
	"gocv.io/x/gocv"
)

// Foreground source kinds, as CompositeOptions.Fg is read.
const (
	// CompositeFgCutouts is a folder (searched recursively) of RGBA
	// cut-outs, or one cut-out file.
	CompositeFgCutouts = "cutouts"
	// CompositeFgDataset is a canonical dataset whose rows have an alpha;
	// the foreground colour is the image itself (see
	// composite.DecodeImageAlpha).
	CompositeFgDataset = "dataset"
	// CompositeFgPairs is "folder:DIR": DIR/fg/<stem>.* paired with
	// DIR/alpha/<stem>.* (the Deep Image Matting layout); F is the fg
	// image, as with CompositeFgDataset.
	CompositeFgPairs = "folder"
)

// compositePairsPrefix marks a CompositeFgPairs source.
const compositePairsPrefix = "folder:"

// Reject codes of Composite, besides the dataset package's.
const (
	CompositeCodeNoAlpha     = "no-alpha"    // a cut-out without an alpha channel, or a dataset row without an alpha
	CompositeCodeTransparent = "transparent" // a cut-out whose alpha is 0 everywhere
)

// CompositePreviewFile is the contact sheet Composite writes for
// CompositeOptions.Preview, in the dataset folder.
const CompositePreviewFile = "preview.png"

// ErrNoComposites reports a run in which no composite was made: every
// foreground or every background was rejected.
var ErrNoComposites = errors.New("no composite made; see rejects.jsonl for the reasons")

// compositeCacheBytes bounds the decoded inputs kept in memory between
// composites. Inputs beyond it are decoded again for each composite that
// uses them, so a folder of thousands of backgrounds costs time, not
// memory. CompositeOptions.cacheBytes overrides it in tests.
const compositeCacheBytes int64 = 1 << 30

// CompositeOptions configure Composite.
type CompositeOptions struct {
	// Fg: a folder of RGBA cut-outs (PNG or WebP, searched recursively; one
	// file also works), a canonical dataset with alphas, or "folder:DIR"
	// with DIR/fg/<stem>.* and DIR/alpha/<stem>.*.
	Fg string
	// Bg: a folder of background images (searched recursively; one file
	// also works), or "procedural:KIND,..." (see composite.ParseProcedural).
	Bg  string
	Out string
	// Name is the dataset name (default: the base name of Out); Version the
	// segtool version for dataset.json.
	Name, Version string
	// Composite: planning and compositing options. PerFg, AllowRepeat and
	// Multi shape the plan; Layers also writes fg/<id>.png and bg/<id>.png.
	Composite composite.Options
	// Premultiplied: the cut-outs store colour multiplied by alpha (only
	// for CompositeFgCutouts).
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
	// over the plan, to CompositePreviewFile.
	Preview    int
	RunOptions // one item per planned composite

	cacheBytes int64 // 0: compositeCacheBytes; < 0: keep nothing
}

// CompositeSummary is what Composite did.
type CompositeSummary struct {
	Tally
	FgKind string // CompositeFgCutouts, CompositeFgDataset or CompositeFgPairs
	// Foregrounds, Backgrounds: usable inputs (after rejects).
	Foregrounds, Backgrounds int
	Planned                  int // composites planned
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
}

// compositeFg is one foreground found in the source.
type compositeFg struct {
	id    string // seeds its draws and prefixes its composites' ids
	rel   string // colour (or RGBA) file, relative to the source root
	image string // paths to load
	alpha string // "" for a cut-out
	split string // official split (CompositeFgDataset), else ""
	src   []string
}

// compositeBg is one background found in the source.
type compositeBg struct {
	id   string // path relative to the source root, or procedural:KIND
	path string // path to load
}

// outputOptions are the options that decide the output's bytes; Resume
// only continues a dataset written with the same ones.
func (o *CompositeOptions) outputOptions(kind, fgRoot, bgSpec string) map[string]any {
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

// Composite composites the foregrounds of o.Fg over the backgrounds of
// o.Bg as composite.Plan says and writes a canonical dataset to o.Out:
// images/, alphas/, masks/ (alpha >= 128), manifest.jsonl, dataset.json
// and rejects.jsonl, plus fg/ and bg/ with Composite.Layers.
//
// Rows have id "<fg id>__<index>", the foreground's split, source
// [foreground, background, second foreground if any] (paths relative to
// Fg and Bg), parent = the foreground id, and Extra["composite"] = the
// composite.Record. Bad inputs become rejects and never stop the run
// unless FailFast. Option faults (including composite.ErrTooFewBackgrounds)
// are *dataset.OptionError and leave no output behind; ErrNoComposites
// means every foreground or every background was rejected.
func Composite(ctx context.Context, o CompositeOptions) (CompositeSummary, error) {
	start := time.Now()
	sum := CompositeSummary{Tally: newTally(o.Out)}
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
		return sum, &dataset.OptionError{Field: "ImageFormat", Err: fmt.Errorf("%q: want png or jpg", o.ImageFormat)}
	}
	if err := o.Composite.Validate(); err != nil {
		return sum, &dataset.OptionError{Field: "Composite", Err: err}
	}
	kind, fgRoot, fgs, rejects, err := compositeScanForegrounds(ctx, o.Fg)
	if err != nil {
		return sum, err
	}
	sum.FgKind = kind
	if o.Premultiplied && kind != CompositeFgCutouts {
		return sum, &dataset.OptionError{Field: "Premultiplied", Err: fmt.Errorf("applies to RGBA cut-outs only; %s is a %s source, whose colour is the image itself", o.Fg, kind)}
	}
	bgSpec, bgs, bgRejects, err := compositeScanBackgrounds(ctx, o.Bg)
	if err != nil {
		return sum, err
	}
	rejects = append(rejects, bgRejects...)

	// Decode every input once: the plan must only draw usable ones. What
	// fits the memory budget stays decoded for the composites.
	var budget atomic.Int64
	switch {
	case o.cacheBytes == 0:
		budget.Store(compositeCacheBytes)
	case o.cacheBytes > 0:
		budget.Store(o.cacheBytes)
	}
	dec := dataset.Decoder{MaxPixels: o.MaxPixels}
	fgStore := &compositeStore[*composite.Foreground]{budget: &budget, load: func(i int) (*composite.Foreground, int64, error) {
		fg, err := compositeLoadForeground(dec, fgs[i], o.Premultiplied)
		if err != nil {
			return nil, 0, err
		}
		sz := fg.Size()
		return fg, int64(sz.X) * int64(sz.Y) * 4, nil
	}}
	bgStore := &compositeStore[*composite.Background]{budget: &budget, load: func(i int) (*composite.Background, int64, error) {
		bg, err := compositeLoadBackground(dec, bgs[i])
		if err != nil {
			return nil, 0, err
		}
		if bg.Procedural() {
			return bg, 0, nil
		}
		sz := bg.Size()
		return bg, int64(sz.X) * int64(sz.Y) * 3, nil
	}}
	defer fgStore.close()
	defer bgStore.close()
	fgErr, looksPrem, bgErr, err := compositeCheckInputs(ctx, o.Workers, fgStore, len(fgs), bgStore, len(bgs))
	if err != nil {
		return sum, fmt.Errorf("interrupted while reading inputs: %w", err)
	}
	var goodFg, goodBg []int
	for i, in := range fgs {
		if fgErr[i] != nil {
			rejects = append(rejects, compositeFgReject(in, fgErr[i]))
			continue
		}
		goodFg = append(goodFg, i)
		if looksPrem[i] {
			sum.LooksPremultiplied = append(sum.LooksPremultiplied, in.rel)
		}
	}
	for i, in := range bgs {
		if bgErr[i] != nil {
			rejects = append(rejects, dataset.Reject{Source: []string{in.id}, Stage: "background", Code: compositeCode(bgErr[i]), Reason: bgErr[i].Error()})
			continue
		}
		goodBg = append(goodBg, i)
	}
	sum.Foregrounds, sum.Backgrounds = len(goodFg), len(goodBg)

	var plan []composite.Planned
	if len(goodFg) > 0 && len(goodBg) > 0 {
		fgIDs := make([]string, len(goodFg))
		for k, i := range goodFg {
			fgIDs[k] = fgs[i].id
		}
		bgIDs := make([]string, len(goodBg))
		for k, i := range goodBg {
			bgIDs[k] = bgs[i].id
		}
		plan, err = composite.Plan(fgIDs, bgIDs, o.Composite)
		if errors.Is(err, composite.ErrTooFewBackgrounds) {
			return sum, &dataset.OptionError{Field: "PerFg", Err: fmt.Errorf("%d backgrounds per foreground, but only %d usable backgrounds: %w",
				max(1, o.Composite.PerFg), len(goodBg), composite.ErrTooFewBackgrounds)}
		}
		if err != nil {
			return sum, err
		}
		// Plan indexes the usable lists; map back to the inputs.
		for k := range plan {
			plan[k].Fg, plan[k].Bg = goodFg[plan[k].Fg], goodBg[plan[k].Bg]
			if plan[k].Second >= 0 {
				plan[k].Second = goodFg[plan[k].Second]
			}
		}
	}
	splits := make([]string, len(fgs))
	for _, i := range goodFg {
		splits[i] = dataset.SplitFor(fgs[i].id, fgs[i].split, o.Ratios, 0, o.Composite.Seed)
	}
	for k, it := range plan {
		if it.Second >= 0 && splits[it.Second] != splits[it.Fg] {
			plan[k].Second = -1
			sum.MultiDropped++
		}
	}
	sum.Planned = len(plan)

	abs := func(p string) string {
		a, err := filepath.Abs(p)
		if err != nil {
			return p
		}
		return a
	}
	job := Dataset{
		Out: o.Out, RunOptions: o.RunOptions,
		Options: o.outputOptions(kind, abs(fgRoot), bgSpec),
		Info:    dataset.Info{Name: o.Name, Version: o.Version, Format: "composite", SourceDir: abs(fgRoot)},
		Inputs:  []string{o.Fg, o.Bg},
		Rejects: rejects,
		// An unusable input changes the plan of every composite.
		FailFastBefore: true,
		NoRows:         fmt.Errorf("%d usable foregrounds, %d usable backgrounds: %w", len(goodFg), len(goodBg), ErrNoComposites),
	}
	if o.Preview > 0 {
		job.Preview = func(ctx context.Context, dir string, outs []Outcome) (string, error) {
			return compositePreview(dir, outs, o.Preview)
		}
	}
	r := &compositeRun{o: &o, fgs: fgs, bgs: bgs, splits: splits, fgStore: fgStore, bgStore: bgStore}
	tally, outs, err := job.Run(ctx, len(plan), func(ctx context.Context, w *dataset.Writer, i int) (Outcome, error) {
		return r.one(ctx, w, plan[i])
	})
	sum.Tally = tally
	sum.Elapsed = time.Since(start) // scanning and planning included
	for _, out := range outs {
		for _, s := range slices.Concat(out.Rows, out.Kept) {
			if compositeShrunk(s) {
				sum.Shrunk++
			}
		}
	}
	return sum, err
}

// compositeCode is an unreadable input's reject code: too-large from the
// header check, else corrupt.
func compositeCode(err error) string {
	if dataset.CodeOf(err, "") == dataset.CodeTooLarge {
		return dataset.CodeTooLarge
	}
	return dataset.CodeCorrupt
}

// compositeFgReject turns a foreground's load error into a reject line.
func compositeFgReject(in compositeFg, err error) dataset.Reject {
	code := compositeCode(err)
	switch {
	case errors.Is(err, composite.ErrNoAlpha):
		code = CompositeCodeNoAlpha
	case errors.Is(err, composite.ErrTransparent):
		code = CompositeCodeTransparent
	case errors.Is(err, composite.ErrSizeMismatch):
		code = dataset.CodeSizeMismatch
	}
	return dataset.Reject{ID: in.id, Source: in.src, Stage: "foreground", Code: code, Reason: err.Error()}
}

// compositeRead reads one input image file whole. A truncated file is
// refused here: OpenCV decodes a cut JPEG, grey-filled.
func compositeRead(dec dataset.Decoder, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", composite.ErrUnreadable, err)
	}
	if len(data) == 0 {
		return nil, fmt.Errorf("%s: %w: empty file", path, composite.ErrUnreadable)
	}
	// composite decodes the bytes itself: the header check (size,
	// truncation) must come first.
	if _, _, err := dec.CheckHeader(path, data); err != nil {
		return nil, fmt.Errorf("%w: %w", composite.ErrUnreadable, err)
	}
	return data, nil
}

func compositeLoadForeground(dec dataset.Decoder, in compositeFg, premultiplied bool) (*composite.Foreground, error) {
	img, err := compositeRead(dec, in.image)
	if err != nil {
		return nil, err
	}
	var fg *composite.Foreground
	if in.alpha == "" {
		fg, err = composite.DecodeCutout(in.image, img, premultiplied)
	} else {
		var alpha []byte
		if alpha, err = compositeRead(dec, in.alpha); err == nil {
			fg, err = composite.DecodeImageAlpha(in.image, img, in.alpha, alpha)
		}
	}
	if err != nil {
		return nil, err
	}
	// The id, not the file name, seeds the draws: two cut-outs of one name
	// in different folders must not draw alike.
	fg.ID = in.id
	return fg, nil
}

func compositeLoadBackground(dec dataset.Decoder, in compositeBg) (*composite.Background, error) {
	if composite.IsProcedural(in.path) {
		return composite.ProceduralBackground(in.path)
	}
	data, err := compositeRead(dec, in.path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", composite.ErrBadBackground, err)
	}
	bg, err := composite.DecodeBackground(in.path, data)
	if err != nil {
		return nil, err
	}
	bg.ID = in.id // relative, so records do not depend on where the folder is
	return bg, nil
}

// compositeCheckInputs loads every foreground and background once, in
// parallel, offering each to its store. It returns the load errors by
// index and which cut-outs look premultiplied.
func compositeCheckInputs(ctx context.Context, workers int, fgs *compositeStore[*composite.Foreground], nFg int, bgs *compositeStore[*composite.Background], nBg int) (fgErr []error, looksPrem []bool, bgErr []error, err error) {
	fgErr, looksPrem, bgErr = make([]error, nFg), make([]bool, nFg), make([]error, nBg)
	err = Pool(ctx, nFg+nBg, workers, func(ctx context.Context, j int) error {
		if j < nFg {
			fg, release, err := fgs.get(j)
			if fgErr[j] = err; err == nil {
				looksPrem[j] = fg.LooksPremultiplied
				release()
			}
			return nil
		}
		_, release, err := bgs.get(j - nFg)
		if bgErr[j-nFg] = err; err == nil {
			release()
		}
		return nil
	}, nil)
	return fgErr, looksPrem, bgErr, err
}

// compositeStore hands out decoded inputs by index, keeping what fits a
// memory budget shared between stores and decoding the rest afresh for
// each use. Kept values are only read, so workers share them.
type compositeStore[T interface{ Close() error }] struct {
	load   func(i int) (T, int64, error)
	budget *atomic.Int64

	mu   sync.Mutex
	kept map[int]T
}

// get returns input i and a function to call when done with it.
func (s *compositeStore[T]) get(i int) (T, func(), error) {
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

func (s *compositeStore[T]) close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range s.kept {
		v.Close()
	}
	s.kept = nil
}

// compositeRun makes and writes single composites.
type compositeRun struct {
	o       *CompositeOptions
	fgs     []compositeFg
	bgs     []compositeBg
	splits  []string
	fgStore *compositeStore[*composite.Foreground]
	bgStore *compositeStore[*composite.Background]
}

// compositeSampleID names composite index of a foreground. The index is
// padded so that a foreground's rows sort in order up to 1000 per
// foreground.
func compositeSampleID(fgID string, index int) string { return fmt.Sprintf("%s__%03d", fgID, index) }

// one makes, or under Resume reuses, one planned composite. Only failures
// to write the output (and cancellation) are errors; bad input is a reject.
func (r *compositeRun) one(ctx context.Context, w *dataset.Writer, it composite.Planned) (Outcome, error) {
	if err := ctx.Err(); err != nil {
		return Outcome{}, err
	}
	in := r.fgs[it.Fg]
	id := compositeSampleID(in.id, it.Index)
	source := []string{in.rel, r.bgs[it.Bg].id}
	if it.Second >= 0 {
		source = append(source, r.fgs[it.Second].rel)
	}
	if r.o.Resume {
		// The sources must match too: with inputs added or removed since,
		// the plan may pair this foreground with another background.
		if s, ok := w.Previous(id); ok && slices.Equal(s.Source, source) {
			return Outcome{Kept: []dataset.Sample{s}}, nil
		}
	}
	reject := func(err error) (Outcome, error) {
		return Outcome{Rejects: []dataset.Reject{{ID: id, Source: source, Stage: "composite", Code: dataset.CodeCorrupt, Reason: err.Error()}}}, nil
	}
	// The inputs were read once already; failing now means they changed.
	fg, release, err := r.fgStore.get(it.Fg)
	if err != nil {
		return reject(err)
	}
	defer release()
	var second *composite.Foreground
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

	res, err := composite.Composite(ctx, fg, second, bg, it.Index, r.o.Composite)
	if err != nil {
		if ctx.Err() != nil {
			return Outcome{}, ctx.Err()
		}
		return Outcome{}, fmt.Errorf("sample %s (%s over %s): %w", id, in.image, r.bgs[it.Bg].path, err)
	}
	defer res.Close()
	rec, err := json.Marshal(res.Record)
	if err != nil {
		return Outcome{}, fmt.Errorf("sample %s: %w", id, err)
	}
	s := dataset.Sample{ID: id, Split: r.splits[it.Fg], Width: res.Image.Cols(), Height: res.Image.Rows(),
		Source: source, SHA256: map[string]string{}, Parent: in.id,
		Extra: map[string]json.RawMessage{"composite": rec}}
	put := func(dst *string, sub, ext string, m gocv.Mat) error {
		rel, h, err := w.WriteMat(sub, id, ext, m, r.o.JPEGQuality)
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
		put(&s.Image, dataset.ImagesDir, "."+r.o.ImageFormat, res.Image),
		put(&s.Alpha, dataset.AlphasDir, ".png", res.Alpha),
		put(&s.Mask, dataset.MasksDir, ".png", res.Mask),
	}
	if r.o.Composite.Layers {
		errs = append(errs, put(nil, "fg", ".png", res.F), put(nil, "bg", ".png", res.B))
	}
	if err := errors.Join(errs...); err != nil {
		return Outcome{}, fmt.Errorf("sample %s (%s): %w", id, in.image, err)
	}
	if res.Record.Shrunk {
		s.Notes = append(s.Notes, "cut-out larger than the canvas, scaled down to fit")
	}
	var out Outcome
	fgPix := gocv.CountNonZero(res.Mask)
	s.FGFrac = float64(fgPix) / float64(s.Width*s.Height)
	if fgPix == 0 {
		s.Notes = append(s.Notes, "all-zero mask")
		out.Rejects = []dataset.Reject{{ID: id, Source: source, Stage: "check", Code: dataset.CodeEmptyMask, Kept: true,
			Reason: "no pixel of the composite has alpha >= 128; sample kept but flagged"}}
	}
	out.Rows = []dataset.Sample{s}
	return out, nil
}

// compositeShrunk reads the Shrunk flag of a row's composite record.
func compositeShrunk(s dataset.Sample) bool {
	var rec composite.Record
	return json.Unmarshal(s.Extra["composite"], &rec) == nil && rec.Shrunk
}

// compositeRow is the row an item wrote or kept, or nil.
func compositeRow(o Outcome) *dataset.Sample {
	if len(o.Rows) > 0 {
		return &o.Rows[0]
	}
	if len(o.Kept) > 0 {
		return &o.Kept[0]
	}
	return nil
}

// compositePreview lays k composites, spread evenly over the plan, on a
// contact sheet read back from the written files, so a resumed run shows
// the same sheet. It returns the sheet's path relative to dir.
func compositePreview(dir string, outs []Outcome, k int) (string, error) {
	var rs []*composite.Result
	defer func() {
		for _, r := range rs {
			r.Image.Close()
			r.Alpha.Close()
		}
	}()
	n := len(outs)
	for i := range min(k, n) {
		row := compositeRow(outs[i*n/min(k, n)])
		if row == nil {
			continue
		}
		img, err := compositeReadBack(dir, row.Image, dataset.Decoder.RGB)
		if err != nil {
			return "", fmt.Errorf("preview: cannot read back sample %s: %w", row.ID, err)
		}
		al, err := compositeReadBack(dir, row.Alpha, dataset.Decoder.Label)
		rs = append(rs, &composite.Result{Image: img, Alpha: al})
		if err != nil {
			return "", fmt.Errorf("preview: cannot read back sample %s: %w", row.ID, err)
		}
	}
	if len(rs) == 0 {
		return "", nil
	}
	tile := 240
	for _, r := range rs {
		tile = min(tile, r.Image.Rows())
	}
	sheet, err := composite.ContactSheet(rs, tile)
	if err != nil {
		return "", fmt.Errorf("preview: %w", err)
	}
	defer sheet.Close()
	if err := writePreview(filepath.Join(dir, CompositePreviewFile), sheet); err != nil {
		return "", err
	}
	return CompositePreviewFile, nil
}

// compositeScanForegrounds finds the foregrounds of spec. Ids that clash keep the
// first path in order; the others become rejects.
func compositeScanForegrounds(ctx context.Context, spec string) (kind, root string, ins []compositeFg, rejects []dataset.Reject, err error) {
	if spec == "" {
		return "", "", nil, nil, &dataset.OptionError{Field: "Fg", Err: errors.New("no foreground source given")}
	}
	if dir, ok := strings.CutPrefix(spec, compositePairsPrefix); ok {
		ins, rejects, err = compositeScanPairs(ctx, dir)
		return CompositeFgPairs, dir, ins, rejects, err
	}
	st, err := os.Stat(spec)
	if err != nil {
		return "", "", nil, nil, &dataset.OptionError{Field: "Fg", Err: err}
	}
	if !st.IsDir() {
		dir, base := filepath.Split(spec)
		ins, rejects := compositeDedupeFg([]compositeFg{{id: dataset.ID(base), rel: base, image: spec, src: []string{base}}})
		return CompositeFgCutouts, dir, ins, rejects, nil
	}
	if dataset.IsFile(filepath.Join(spec, dataset.InfoFile)) || dataset.IsFile(filepath.Join(spec, dataset.ManifestFile)) {
		ins, rejects, err = compositeScanDataset(spec)
		return CompositeFgDataset, spec, ins, rejects, err
	}
	files, rejects, err := dataset.ListImageFiles(ctx, spec, "", "foreground")
	if err != nil {
		return "", "", nil, nil, fmt.Errorf("scan %s: %w", spec, err)
	}
	for _, f := range files {
		ins = append(ins, compositeFg{id: dataset.ID(f), rel: f, image: filepath.Join(spec, filepath.FromSlash(f)), src: []string{f}})
	}
	ins, dups := compositeDedupeFg(ins)
	return CompositeFgCutouts, spec, ins, append(rejects, dups...), nil
}

// compositeScanPairs reads the folder: layout, DIR/fg and DIR/alpha paired by the
// path stem below each.
func compositeScanPairs(ctx context.Context, dir string) ([]compositeFg, []dataset.Reject, error) {
	fgDir, alphaDir := filepath.Join(dir, "fg"), filepath.Join(dir, "alpha")
	if !dataset.IsDir(fgDir) || !dataset.IsDir(alphaDir) {
		return nil, nil, &dataset.OptionError{Field: "Fg", Err: fmt.Errorf("%s%s needs the folders %s and %s", compositePairsPrefix, dir, fgDir, alphaDir)}
	}
	fgFiles, rejects, err := dataset.ListImageFiles(ctx, fgDir, "", "foreground")
	if err != nil {
		return nil, nil, fmt.Errorf("scan %s: %w", fgDir, err)
	}
	alphaFiles, rj, err := dataset.ListImageFiles(ctx, alphaDir, "", "foreground")
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
	var ins []compositeFg
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
		ins = append(ins, compositeFg{id: dataset.ID(f), rel: "fg/" + f, image: filepath.Join(fgDir, filepath.FromSlash(f)),
			alpha: filepath.Join(alphaDir, filepath.FromSlash(a)), src: []string{"fg/" + f, "alpha/" + a}})
	}
	for _, f := range alphaFiles {
		if s := stem(f); !used[s] && alphas[s] == f {
			rejects = append(rejects, dataset.Reject{Source: []string{"alpha/" + f}, Stage: "scan", Code: dataset.CodeMissingPartner,
				Reason: fmt.Sprintf("no foreground for this alpha (looked for fg/%s.*)", s)})
		}
	}
	ins, dups := compositeDedupeFg(ins)
	return ins, append(rejects, dups...), nil
}

// compositeScanDataset takes the rows of a canonical dataset that have an alpha.
func compositeScanDataset(dir string) ([]compositeFg, []dataset.Reject, error) {
	d, err := dataset.Open(dir)
	if err != nil {
		return nil, nil, err
	}
	var ins []compositeFg
	var rejects []dataset.Reject
	for _, s := range d.Samples {
		if s.Alpha == "" {
			rejects = append(rejects, dataset.Reject{ID: s.ID, Source: []string{s.Image}, Stage: "foreground", Code: CompositeCodeNoAlpha,
				Reason: "this sample has a mask but no alpha matte; composites need a soft alpha"})
			continue
		}
		ins = append(ins, compositeFg{id: s.ID, rel: s.Image, image: d.Path(s.Image), alpha: d.Path(s.Alpha), split: s.Split,
			src: []string{s.Image, s.Alpha}})
	}
	return ins, rejects, nil
}

// compositeDedupeFg keeps the first foreground (by path) of each id.
func compositeDedupeFg(ins []compositeFg) ([]compositeFg, []dataset.Reject) {
	sort.SliceStable(ins, func(i, j int) bool { return ins[i].rel < ins[j].rel })
	seen := map[string]string{}
	var out []compositeFg
	var rejects []dataset.Reject
	for _, in := range ins {
		if err := dataset.CheckID(compositeSampleID(in.id, 0)); err != nil {
			rejects = append(rejects, dataset.Reject{ID: in.id, Source: in.src, Stage: "scan", Code: dataset.CodeUnsafeID, Reason: err.Error()})
			continue
		}
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

// compositeScanBackgrounds finds the backgrounds of spec and returns spec as
// recorded in dataset.json (an absolute folder, or the procedural spec).
func compositeScanBackgrounds(ctx context.Context, spec string) (string, []compositeBg, []dataset.Reject, error) {
	if spec == "" {
		return "", nil, nil, &dataset.OptionError{Field: "Bg", Err: errors.New("no background source given")}
	}
	// A bare "procedural" means every kind, unless a folder has that name.
	if composite.IsProcedural(spec) || (composite.IsProcedural(spec+":") && !dataset.IsDir(spec)) {
		ids, err := composite.ParseProcedural(spec)
		if err != nil {
			return "", nil, nil, &dataset.OptionError{Field: "Bg", Err: err}
		}
		ins := make([]compositeBg, len(ids))
		for i, id := range ids {
			ins[i] = compositeBg{id: id, path: id}
		}
		return spec, ins, nil, nil
	}
	abs, err := filepath.Abs(spec)
	if err != nil {
		abs = spec
	}
	st, err := os.Stat(spec)
	if err != nil {
		return "", nil, nil, &dataset.OptionError{Field: "Bg", Err: err}
	}
	if !st.IsDir() {
		return abs, []compositeBg{{id: filepath.Base(spec), path: spec}}, nil, nil
	}
	files, rejects, err := dataset.ListImageFiles(ctx, spec, "", "background")
	if err != nil {
		return "", nil, nil, fmt.Errorf("scan %s: %w", spec, err)
	}
	ins := make([]compositeBg, len(files))
	for i, f := range files {
		ins[i] = compositeBg{id: f, path: filepath.Join(spec, filepath.FromSlash(f))}
	}
	return abs, ins, rejects, nil
}

// compositeReadBack decodes the file rel below dir with decode (a
// dataset.Decoder method), the one guarded decode path.
func compositeReadBack[T any](dir, rel string, decode func(dataset.Decoder, string, []byte) (gocv.Mat, T, []string, error)) (gocv.Mat, error) {
	b, err := os.ReadFile(filepath.Join(dir, rel))
	if err != nil {
		return gocv.Mat{}, err
	}
	m, _, _, err := decode(dataset.Decoder{}, rel, b)
	return m, err
}
