package jobs

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/apply"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/temporal"
)

// ApplyOptions configure Apply.
type ApplyOptions struct {
	// In is an image file or a folder of images (not recursive; other
	// files and dot-files are ignored). A folder is processed in natural
	// name order, which is frame order for extracted video frames.
	In string
	// Out is a folder, or with one input file and one effect a file name
	// with an image extension. With several effects each gets a sub-folder
	// named after it.
	Out string
	// Preds, instead of a model, is a folder of saved predictions: an
	// 8-bit grey PNG per input named after its stem (<stem>.png, as eval
	// saves them), the size of the image.
	Preds   string
	Effects []apply.Effect
	Blur    apply.BlurOptions
	// Background is the replace effect's background: an image file, or a
	// folder whose images are used in turn (input i gets background i mod
	// n, in natural name order).
	Background string
	// Harmonize, 0..1, moves the foreground's colour toward the
	// background's in replace (composite.Harmonize).
	Harmonize float64
	Refine    apply.RefineOptions
	// Temporal filters the predictions over the frames, in name order
	// (temporal.Parse); the zero Spec is none.
	Temporal temporal.Spec
	// Workers is the number of images in flight (Workers(n)).
	Workers int
	// Force replaces existing outputs; without it any existing output is
	// an error (dataset.ErrExists) before any work.
	Force bool
	// JPEGQuality for .jpg outputs; 0 means 95.
	JPEGQuality int
	// MaxPixels refuses larger input images (dataset.Decoder); 0 means
	// dataset.DefaultMaxPixels.
	MaxPixels int64
	// Sheet, if set, is the path of a before/after contact sheet of the
	// first SheetRows images (0: apply.DefaultSheetRows), panels SheetCell
	// high.
	Sheet     string
	SheetRows int
	SheetCell int
	// Progress is called after each image with the number done.
	Progress func(done, total int)
	// Report is called once per image when it is finished or skipped,
	// one call at a time.
	Report func(ApplyImage)
}

// The statuses of an ApplyImage.
const (
	ApplyOK      = "ok"
	ApplySkipped = "skipped"
)

// ApplyImage is what Apply did with one input image.
type ApplyImage struct {
	Index   int
	Input   string
	Outputs []string
	Status  string
	Reason  string   // why it was skipped
	Notes   []string // what was adapted, e.g. a background of another aspect
	Width   int
	Height  int
	// Milliseconds spent predicting, refining the alpha and making and
	// writing the effects.
	PredictMS, RefineMS, EffectMS float64
}

// ApplySummary is the outcome of Apply. Of the Tally, apply fills Out,
// Files (written, the sheet not counted), Preview (the contact sheet
// written, if any) and Elapsed: it writes a folder of images, not a
// dataset.
type ApplySummary struct {
	Tally
	Inputs  int // images found
	Done    int // images whose outputs were all written
	Skipped int
	Ignored int // files in the input folder that are not images
	// Megapixels of the images done.
	Megapixels float64
	// Summed per-image stage times, in seconds.
	PredictS, RefineS, EffectS float64
	Images                     []ApplyImage
}

// applyJob is one Apply run.
type applyJob struct {
	o      ApplyOptions
	model  apply.Model
	inputs []string
	outs   [][]string // per input, per effect
	bgs    []string
	sheet  *apply.Sheet
	turn   []chan struct{} // frame i's filter step is done; nil without a filter
	filter temporal.Filter
	// final[i] receives frame i's filtered plane (nil for a skipped frame),
	// from whichever frame's step the filter released it in; pending are
	// the frames pushed and not yet released, oldest first. Only the
	// holder of the turn touches pending.
	final   []chan []float32
	pending []int
	refine  apply.RefineOptions
	mu      sync.Mutex
	images  []ApplyImage
	quality int
	// sheetRows: inputs 0..sheetRows-1 go on the sheet.
	sheetRows int
}

// Apply applies the effects to every input image and writes them, with
// the model's prediction (m), or with o.Preds's when m is nil. Bad
// options and existing outputs (without Force) are reported before any
// work, as *dataset.OptionError and dataset.ErrExists. An image that
// cannot be read or predicted is skipped with a reason and the batch goes
// on; a failed write stops it.
func Apply(ctx context.Context, m apply.Model, o ApplyOptions) (ApplySummary, error) {
	start := time.Now()
	r := &applyJob{o: o, model: m, refine: o.Refine, quality: o.JPEGQuality}
	sum := ApplySummary{Tally: Tally{Out: o.Out}}
	if (m == nil) == (o.Preds == "") {
		return sum, &dataset.OptionError{Field: "Preds", Err: errors.New("give exactly one of a model and a folder of predictions")}
	}
	if err := r.plan(&sum); err != nil {
		return sum, err
	}
	lock, err := dataset.LockOutput(o.Out)
	if err != nil {
		return sum, err
	}
	defer lock.Release()
	if err := r.makeDirs(); err != nil {
		return sum, err
	}
	workers := Workers(o.Workers)
	if r.refine.Superpixels.SLIC.Workers == 0 {
		r.refine.Superpixels.SLIC.Workers = max(1, runtime.GOMAXPROCS(0)/workers)
	}
	if r.quality == 0 {
		r.quality = 95
	}
	if !o.Temporal.Off() {
		r.filter = o.Temporal.New()
		r.turn = make([]chan struct{}, len(r.inputs))
		r.final = make([]chan []float32, len(r.inputs))
		for i := range r.turn {
			r.turn[i] = make(chan struct{})
			r.final[i] = make(chan []float32, 1)
		}
		// A filter that holds frames back hands frame i its plane in a
		// later frame's step, so that many frames must be in flight.
		workers = max(workers, r.filter.Delay()+1)
	}
	if o.Sheet != "" {
		cols := []string{"input"}
		for _, e := range o.Effects {
			cols = append(cols, string(e))
		}
		r.sheet = apply.NewSheet(cols, o.SheetCell)
		r.sheetRows = o.SheetRows
		if r.sheetRows <= 0 {
			r.sheetRows = apply.DefaultSheetRows
		}
	}
	r.images = make([]ApplyImage, len(r.inputs))
	err = Pool(ctx, len(r.inputs), workers, r.one, o.Progress)
	for _, it := range r.images {
		if it.Input == "" {
			continue // not reached: the pool stopped
		}
		sum.Images = append(sum.Images, it)
		switch it.Status {
		case ApplyOK:
			sum.Done++
			sum.Files += len(it.Outputs)
			sum.Megapixels += float64(it.Width*it.Height) / 1e6
		case ApplySkipped:
			sum.Skipped++
			sum.Files += len(it.Outputs)
		}
		sum.PredictS += it.PredictMS / 1000
		sum.RefineS += it.RefineMS / 1000
		sum.EffectS += it.EffectMS / 1000
	}
	if err == nil && r.sheet != nil && r.sheet.Rows() > 0 {
		if serr := writeSheet(r.sheet, o.Sheet); serr != nil {
			err = fmt.Errorf("contact sheet: %w", serr)
		} else {
			sum.Preview = o.Sheet
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, err
}

// CheckApply runs Apply's checks of the options, the inputs and the
// outputs without doing anything, so a caller can report a fault before
// it loads a model.
func CheckApply(o ApplyOptions) error {
	r := &applyJob{o: o}
	var sum ApplySummary
	return r.plan(&sum)
}

// plan checks the options, lists the inputs and backgrounds, names every
// output and refuses existing ones without Force.
func (r *applyJob) plan(sum *ApplySummary) error {
	o := r.o
	optErr := func(field, format string, args ...any) error {
		return &dataset.OptionError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	if len(o.Effects) == 0 {
		return optErr("Effects", "no effect given")
	}
	if err := o.Blur.Check(); err != nil {
		field := "Blur.Sigma"
		if o.Blur.Kernel != 0 {
			field = "Blur.Kernel"
		}
		return optErr(field, "%v", err)
	}
	if err := o.Refine.Check(); err != nil {
		field := "Refine.Feather"
		switch {
		case o.Refine.Radius < 0:
			field = "Refine.Radius"
		case !(o.Refine.Eps >= 0) || math.IsInf(o.Refine.Eps, 0):
			field = "Refine.Eps"
		}
		return optErr(field, "%v", err)
	}
	if err := o.Temporal.Check(); err != nil {
		return optErr("Temporal", "%v", err)
	}
	if o.Harmonize < 0 || o.Harmonize > 1 {
		return optErr("Harmonize", "%g: want 0..1", o.Harmonize)
	}
	if o.JPEGQuality < 0 || o.JPEGQuality > 100 {
		return optErr("JPEGQuality", "%d: want 1..100", o.JPEGQuality)
	}
	replace := false
	for _, e := range o.Effects {
		replace = replace || e == apply.EffectReplace
	}
	if o.In == "" {
		return optErr("In", "no input given")
	}
	if o.Out == "" {
		return optErr("Out", "no output given")
	}
	if o.Preds != "" {
		if st, err := os.Stat(o.Preds); err != nil || !st.IsDir() {
			return optErr("Preds", "%s is not a folder", o.Preds)
		}
	}
	st, err := os.Stat(o.In)
	if err != nil {
		return optErr("In", "%v", err)
	}
	inDir := st.IsDir()
	if inDir {
		files, ignored, err := applyListImages(o.In)
		if err != nil {
			return optErr("In", "%v", err)
		}
		if len(files) == 0 {
			return optErr("In", "%s holds no images (%s)", o.In, applyExtList())
		}
		r.inputs, sum.Ignored = files, ignored
	} else {
		r.inputs = []string{o.In}
	}
	sum.Inputs = len(r.inputs)

	switch {
	case replace && o.Background == "":
		return optErr("Background", "the replace effect needs a background image or folder")
	case !replace && o.Background != "":
		return optErr("Background", "a background is only used by the replace effect")
	case !replace && o.Harmonize > 0:
		return optErr("Harmonize", "harmonising is only done by the replace effect")
	}
	if replace {
		st, err := os.Stat(o.Background)
		if err != nil {
			return optErr("Background", "%v", err)
		}
		if st.IsDir() {
			bgs, _, err := applyListImages(o.Background)
			if err != nil {
				return optErr("Background", "%v", err)
			}
			if len(bgs) == 0 {
				return optErr("Background", "%s holds no images (%s)", o.Background, applyExtList())
			}
			r.bgs = bgs
		} else {
			r.bgs = []string{o.Background}
		}
	}

	outExt := strings.ToLower(filepath.Ext(o.Out))
	single := !inDir && len(o.Effects) == 1 && dataset.IsImageFile(o.Out)
	if dataset.IsImageFile(o.Out) && !single {
		what := "a folder of images"
		if !inDir {
			what = fmt.Sprintf("%d effects", len(o.Effects))
		}
		return optErr("Out", "%s names a file, but %s need a folder", o.Out, what)
	}
	if single {
		switch {
		case o.Effects[0] == apply.EffectCutout && outExt != ".png":
			return optErr("Out", "%s: a cut-out has transparency: write it as .png", o.Out)
		case o.Effects[0] != apply.EffectMatte && o.Effects[0] != apply.EffectCutout && outExt != ".png" && outExt != ".jpg" && outExt != ".jpeg":
			return optErr("Out", "%s: write .jpg or .png", o.Out)
		}
		r.outs = [][]string{{o.Out}}
	} else {
		r.outs = applyOutputNames(r.inputs, o.Effects, o.Out)
	}

	// Refuse to overwrite inputs at all, and existing outputs without Force.
	isInput := map[string]bool{}
	for _, in := range r.inputs {
		isInput[filepath.Clean(in)] = true
	}
	for _, b := range r.bgs {
		isInput[filepath.Clean(b)] = true
	}
	var existing []string
	total := 0
	check := func(p string) error {
		total++
		if isInput[filepath.Clean(p)] {
			return optErr("Out", "%s would overwrite an input", p)
		}
		if _, err := os.Stat(p); err == nil {
			existing = append(existing, p)
		}
		return nil
	}
	for _, outs := range r.outs {
		for _, p := range outs {
			if err := check(p); err != nil {
				return err
			}
		}
	}
	if o.Sheet != "" {
		if err := check(o.Sheet); err != nil {
			return optErr("Sheet", "%s would overwrite an input", o.Sheet)
		}
	}
	if len(existing) > 0 && !o.Force {
		return fmt.Errorf("%d of %d outputs exist, e.g. %s: %w", len(existing), total, existing[0], dataset.ErrExists)
	}
	return nil
}

// makeDirs makes the output folders.
func (r *applyJob) makeDirs() error {
	dirs := map[string]bool{}
	for _, outs := range r.outs {
		for _, p := range outs {
			dirs[filepath.Dir(p)] = true
		}
	}
	if r.o.Sheet != "" {
		dirs[filepath.Dir(r.o.Sheet)] = true
	}
	for d := range dirs {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return &dataset.OptionError{Field: "Out", Err: err}
		}
	}
	return nil
}

func applyExtList() string {
	es := dataset.ImageExts()
	sort.Strings(es)
	return strings.Join(es, " ")
}

// applyListImages returns the image files of dir in natural name order
// and the number of other entries (not folders) ignored.
func applyListImages(dir string) ([]string, int, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, err
	}
	var files []string
	ignored := 0
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		n := e.Name()
		if strings.HasPrefix(n, ".") || !dataset.IsImageFile(n) {
			ignored++
			continue
		}
		files = append(files, filepath.Join(dir, n))
	}
	sort.SliceStable(files, func(i, j int) bool {
		return applyNaturalLess(filepath.Base(files[i]), filepath.Base(files[j]))
	})
	return files, ignored, nil
}

// applyNaturalLess orders names with digit runs compared as numbers, so
// frame2.png comes before frame10.png; names that tie that way are
// ordered bytewise.
func applyNaturalLess(a, b string) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if applyIsDigit(ca) && applyIsDigit(cb) {
			si, sj := i, j
			for i < len(a) && applyIsDigit(a[i]) {
				i++
			}
			for j < len(b) && applyIsDigit(b[j]) {
				j++
			}
			na := strings.TrimLeft(a[si:i], "0")
			nb := strings.TrimLeft(b[sj:j], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			continue
		}
		if ca != cb {
			return ca < cb
		}
		i++
		j++
	}
	if len(a)-i != len(b)-j {
		return len(a)-i < len(b)-j
	}
	return a < b
}

func applyIsDigit(c byte) bool { return c >= '0' && c <= '9' }

// applyOutputNames names the outputs in folder out: <stem><ext>, in a
// sub-folder per effect when there are several. Blur and replace keep JPEG
// for JPEG inputs and write PNG otherwise; cut-outs and mattes are PNG.
// Inputs that share a stem (a.jpg, a.png) keep their extension in the
// name (a_jpg, a_png).
func applyOutputNames(inputs []string, effects []apply.Effect, out string) [][]string {
	stems := map[string]int{}
	for _, in := range inputs {
		stems[applyStem(in)]++
	}
	names := make([][]string, len(inputs))
	for i, in := range inputs {
		stem := applyStem(in)
		inExt := strings.ToLower(filepath.Ext(in))
		if stems[stem] > 1 {
			stem += "_" + strings.TrimPrefix(inExt, ".")
		}
		for _, e := range effects {
			ext := ".png"
			if (e == apply.EffectBlur || e == apply.EffectReplace) && (inExt == ".jpg" || inExt == ".jpeg") {
				ext = ".jpg"
			}
			dir := out
			if len(effects) > 1 {
				dir = filepath.Join(out, string(e))
			}
			names[i] = append(names[i], filepath.Join(dir, stem+ext))
		}
	}
	return names
}

func applyStem(p string) string {
	b := filepath.Base(p)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

// applyUndecodable says why an image or a prediction was not read.
const applyUndecodable = "cannot decode it as an image"

// applyReadImage reads a file as 8-bit BGR through dec (size from the
// header first, cut JPEG and PNG files refused, EXIF orientation applied).
func applyReadImage(dec dataset.Decoder, path string) (gocv.Mat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return gocv.Mat{}, err
	}
	m, err := dec.Decode(path, b, gocv.IMReadColor)
	return m, applyDecodeErr(err)
}

// applyDecodeErr names the reject code of a decode error, keeping the
// old wording for files the decoder could not read.
func applyDecodeErr(err error) error {
	switch code := dataset.CodeOf(err, dataset.CodeCorrupt); {
	case err == nil:
		return nil
	case code == dataset.CodeCorrupt:
		return errors.New(applyUndecodable)
	default:
		return fmt.Errorf("%s: %w", code, err)
	}
}

// applyReadPred reads a saved 8-bit prediction of a w x h image as [0, 1].
func applyReadPred(dec dataset.Decoder, path string, w, h int) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	m, err := dec.Decode(path, b, gocv.IMReadGrayScale)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, applyDecodeErr(err))
	}
	defer m.Close()
	if m.Cols() != w || m.Rows() != h {
		return nil, fmt.Errorf("%s is %dx%d, the image %dx%d", path, m.Cols(), m.Rows(), w, h)
	}
	return apply.AlphaFromBytes(m.ToBytes()), nil
}

func applyMSSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// one processes input i. It returns an error only for what stops the
// batch (a failed write, a cancelled context).
func (r *applyJob) one(ctx context.Context, i int) error {
	it := ApplyImage{Index: i, Input: r.inputs[i]}
	released := false
	// Frame i's filter turn is taken after frame i-1's, on every path, so
	// a skipped frame never lets a later one overtake an earlier one; the
	// last frame's turn flushes the filter.
	take := func(prob []float32, w, h int) {
		if r.turn == nil || released {
			return
		}
		released = true
		if i > 0 {
			select {
			case <-r.turn[i-1]:
			case <-ctx.Done():
			}
		}
		if ctx.Err() == nil {
			r.step(i, prob, w, h)
		}
		close(r.turn[i])
	}
	release := func() { take(nil, 0, 0) }
	defer release()
	var stop error
	var fatal applyFatal
	switch err := r.process(ctx, i, &it, take); {
	case err == nil:
	case errors.As(err, &fatal):
		it.Status, it.Reason = ApplySkipped, err.Error()
		stop = fatal.err
	case ctx.Err() != nil:
		stop = ctx.Err()
	default:
		it.Status, it.Reason = ApplySkipped, err.Error()
	}
	release()
	r.mu.Lock()
	r.images[i] = it
	if r.o.Report != nil && it.Status != "" {
		r.o.Report(it)
	}
	r.mu.Unlock()
	return stop
}

// step is frame i's turn at the filter, taken in frame order: it pushes
// prob (nil: frame i was skipped and pushes nothing), hands the planes the
// filter releases to their frames, and at the last frame flushes the
// filter and releases what is left.
func (r *applyJob) step(i int, prob []float32, w, h int) {
	var out [][]float32
	if prob != nil {
		r.pending = append(r.pending, i)
		out = r.filter.Push(prob, w, h)
	}
	if i == len(r.inputs)-1 {
		out = append(out, r.filter.Flush()...)
	}
	for _, p := range out {
		if len(r.pending) == 0 {
			break // not reached: a filter releases only what it was given
		}
		r.final[r.pending[0]] <- p
		r.pending = r.pending[1:]
	}
	if i == len(r.inputs)-1 {
		for _, j := range r.pending {
			r.final[j] <- nil
		}
		r.pending = nil
	}
}

// applyFatal marks an error that stops the batch; one unwraps it.
type applyFatal struct{ err error }

func (f applyFatal) Error() string { return f.err.Error() }
func (f applyFatal) Unwrap() error { return f.err }

func (r *applyJob) process(ctx context.Context, i int, it *ApplyImage, take func(prob []float32, w, h int)) error {
	img, err := applyReadImage(r.dec(), it.Input)
	if err != nil {
		return err
	}
	defer img.Close()
	w, h := img.Cols(), img.Rows()
	it.Width, it.Height = w, h

	t := time.Now()
	var prob []float32
	if r.o.Preds != "" {
		prob, err = applyReadPred(r.dec(), filepath.Join(r.o.Preds, applyStem(it.Input)+".png"), w, h)
	} else {
		prob, err = r.model.Predict(img)
	}
	if err != nil {
		return fmt.Errorf("prediction: %w", err)
	}
	if len(prob) != w*h {
		return fmt.Errorf("prediction: %d values for a %dx%d image", len(prob), w, h)
	}
	if n := apply.NonFinite(prob); n > 0 {
		return fmt.Errorf("prediction: %d of %d values are NaN or Inf", n, len(prob))
	}
	it.PredictMS = applyMSSince(t)
	if r.filter != nil {
		take(prob, w, h)
		select {
		case prob = <-r.final[i]:
		case <-ctx.Done():
			return ctx.Err()
		}
		if prob == nil {
			return errors.New("temporal filter: no plane for this frame")
		}
	}

	t = time.Now()
	alpha, err := apply.Refine(ctx, img, prob, r.refine)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("refine: %w", err)
	}
	it.RefineMS = applyMSSince(t)

	t = time.Now()
	row := -1
	if r.sheet != nil && i < r.sheetRows {
		row = i
		if err := r.sheet.Add(row, 0, filepath.Base(it.Input), img); err != nil {
			return err
		}
	}
	for k, e := range r.o.Effects {
		out, note, err := r.effect(e, img, alpha, i)
		if err != nil {
			return fmt.Errorf("%s: %w", e, err)
		}
		if note != "" {
			it.Notes = append(it.Notes, note)
		}
		path := r.outs[i][k]
		b, err := applyEncode(path, out, r.quality)
		if err == nil && row >= 0 {
			err = r.sheet.Add(row, k+1, "", out)
		}
		out.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", e, err)
		}
		if err := dataset.WriteFileAtomic(path, b); err != nil {
			return applyFatal{err}
		}
		it.Outputs = append(it.Outputs, path)
	}
	it.EffectMS = applyMSSince(t)
	it.Status = ApplyOK
	return nil
}

// effect makes one effect's image with apply's effects, reading input
// i's background for replace; the caller closes it.
func (r *applyJob) effect(e apply.Effect, img gocv.Mat, alpha []float32, i int) (gocv.Mat, string, error) {
	switch e {
	case apply.EffectBlur:
		m, err := apply.Blur(img, alpha, r.o.Blur)
		return m, "", err
	case apply.EffectReplace:
		path := r.bgs[i%len(r.bgs)]
		bg, err := applyReadImage(r.dec(), path)
		if err != nil {
			return gocv.Mat{}, "", fmt.Errorf("background %s: %w", path, err)
		}
		defer bg.Close()
		fit, f, err := apply.FitCover(bg, img.Cols(), img.Rows())
		if err != nil {
			return gocv.Mat{}, "", err
		}
		defer fit.Close()
		note := ""
		if f.AspectDiffers() {
			note = filepath.Base(path) + ": " + f.String()
		}
		m, err := apply.Replace(img, fit, alpha, r.o.Harmonize)
		return m, note, err
	case apply.EffectCutout:
		m, err := apply.Cutout(img, alpha)
		return m, "", err
	case apply.EffectMatte:
		m, err := apply.Matte(alpha, img.Cols(), img.Rows())
		return m, "", err
	}
	return gocv.Mat{}, "", fmt.Errorf("unknown effect %q", e)
}

// applyEncode encodes m in the format of path's extension.
func applyEncode(path string, m gocv.Mat, quality int) ([]byte, error) {
	ext := strings.ToLower(filepath.Ext(path))
	var params []int
	switch ext {
	case ".jpg", ".jpeg":
		ext = ".jpg"
		params = []int{gocv.IMWriteJpegQuality, quality}
	case ".png":
		params = []int{gocv.IMWritePngCompression, 3}
	}
	var buf *gocv.NativeByteBuffer
	var err error
	if len(params) > 0 {
		buf, err = gocv.IMEncodeWithParams(gocv.FileExt(ext), m, params)
	} else {
		buf, err = gocv.IMEncode(gocv.FileExt(ext), m)
	}
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", path, err)
	}
	defer buf.Close()
	return bytes.Clone(buf.GetBytes()), nil
}

// dec is the guarded decoder of the job's inputs.
func (r *applyJob) dec() dataset.Decoder { return dataset.Decoder{MaxPixels: r.o.MaxPixels} }

// writeSheet encodes a contact sheet as JPEG for a .jpg or .jpeg path,
// else PNG, and writes it to path atomically, making its folder first.
// Apply and Video write their sheets through it.
func writeSheet(s *apply.Sheet, path string) error {
	ext := gocv.PNGFileExt
	if e := strings.ToLower(filepath.Ext(path)); e == ".jpg" || e == ".jpeg" {
		ext = gocv.JPEGFileExt
	}
	b, err := s.Encode(ext)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return dataset.WriteFileAtomic(path, b)
}
