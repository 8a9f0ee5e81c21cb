package apply

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

	"github.com/segtool/segtool/dataset"
)

// Model predicts the person probability of every pixel of an 8-bit BGR
// image, row-major (models.Predictor does). Predict is called from several
// goroutines at once.
type Model interface {
	Predict(img gocv.Mat) ([]float32, error)
}

// OptionError is a fault in the options; Option names the flag.
type OptionError = dataset.OptionError

// ErrExists reports outputs that exist while Force is off.
var ErrExists = errors.New("output exists: pass --force to replace it")

// Options configure Run.
type Options struct {
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
	// --save-preds writes them), the size of the image.
	Preds   string
	Effects []Effect
	Blur    BlurOptions
	// Background is the replace effect's background: an image file, or a
	// folder whose images are used in turn (input i gets background i mod
	// n, in natural name order).
	Background string
	// Harmonize, 0..1, moves the foreground's colour toward the
	// background's in replace (composite.Harmonize).
	Harmonize float64
	Refine    RefineOptions
	// TemporalEMA is the decay of the moving average over frames (see
	// EMA); 0 is off.
	TemporalEMA float64
	// Workers is the number of images in flight; 0 means GOMAXPROCS.
	Workers int
	// Force replaces existing outputs; without it any existing output is
	// an error (ErrExists) before any work.
	Force bool
	// JPEGQuality for .jpg outputs; 0 means 95.
	JPEGQuality int
	// Sheet, if set, is the path of a before/after contact sheet of the
	// first SheetRows images (0: DefaultSheetRows), panels SheetCell high.
	Sheet     string
	SheetRows int
	SheetCell int
	// Progress is called after each image with the number done.
	Progress func(done, total int)
	// Report is called once per image when it is finished or skipped,
	// one call at a time.
	Report func(Item)
}

// DefaultSheetRows is the number of images on a contact sheet.
const DefaultSheetRows = 8

// Item statuses.
const (
	StatusOK      = "ok"
	StatusSkipped = "skipped"
)

// Item is the outcome for one input image.
type Item struct {
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

// Summary is the outcome of a Run.
type Summary struct {
	Inputs  int // images found
	Done    int // images whose outputs were all written
	Skipped int
	Ignored int // files in the input folder that are not images
	Files   int // files written, the sheet not counted
	// Megapixels of the images done.
	Megapixels float64
	Elapsed    time.Duration
	// Summed per-image stage times, in seconds.
	PredictS, RefineS, EffectS float64
	Sheet                      string // the sheet written, if any
	Items                      []Item
}

// imageExts are the input extensions read (lower case).
var imageExts = map[string]bool{".jpg": true, ".jpeg": true, ".png": true, ".bmp": true, ".tif": true, ".tiff": true, ".webp": true}

type runner struct {
	o       Options
	model   Model
	inputs  []string
	outs    [][]string // per input, per effect
	bgs     []string
	sheet   *Sheet
	turn    []chan struct{} // frame i's EMA step is done; nil without EMA
	ema     *EMA
	refine  RefineOptions
	mu      sync.Mutex
	items   []Item
	quality int
	// sheetRows: inputs 0..sheetRows-1 go on the sheet.
	sheetRows int
}

// Run applies the effects to every input image and writes them, with the
// model's prediction (m), or with o.Preds's when m is nil. Bad
// options and existing outputs (without Force) are reported before any
// work, as *OptionError and ErrExists. An image that cannot be read or
// predicted is skipped with a reason and the batch goes on; a failed write
// stops it.
func Run(ctx context.Context, m Model, o Options) (Summary, error) {
	start := time.Now()
	r := &runner{o: o, model: m, refine: o.Refine, quality: o.JPEGQuality}
	var sum Summary
	if (m == nil) == (o.Preds == "") {
		return sum, &OptionError{Option: "--preds", Err: errors.New("give exactly one of a model and a folder of predictions")}
	}
	if err := r.plan(&sum); err != nil {
		return sum, err
	}
	if err := r.makeDirs(); err != nil {
		return sum, err
	}
	workers := o.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	if r.refine.Superpixels.SLIC.Workers == 0 {
		r.refine.Superpixels.SLIC.Workers = max(1, runtime.GOMAXPROCS(0)/workers)
	}
	if r.quality == 0 {
		r.quality = 95
	}
	if o.TemporalEMA > 0 {
		r.ema = &EMA{Decay: float32(o.TemporalEMA)}
		r.turn = make([]chan struct{}, len(r.inputs))
		for i := range r.turn {
			r.turn[i] = make(chan struct{})
		}
	}
	if o.Sheet != "" {
		cols := []string{"input"}
		for _, e := range o.Effects {
			cols = append(cols, string(e))
		}
		r.sheet = NewSheet(cols, o.SheetCell)
		r.sheetRows = o.SheetRows
		if r.sheetRows <= 0 {
			r.sheetRows = DefaultSheetRows
		}
	}
	r.items = make([]Item, len(r.inputs))
	err := dataset.RunPool(ctx, len(r.inputs), workers, r.one, o.Progress)
	for _, it := range r.items {
		if it.Input == "" {
			continue // not reached: the pool stopped
		}
		sum.Items = append(sum.Items, it)
		switch it.Status {
		case StatusOK:
			sum.Done++
			sum.Files += len(it.Outputs)
			sum.Megapixels += float64(it.Width*it.Height) / 1e6
		case StatusSkipped:
			sum.Skipped++
			sum.Files += len(it.Outputs)
		}
		sum.PredictS += it.PredictMS / 1000
		sum.RefineS += it.RefineMS / 1000
		sum.EffectS += it.EffectMS / 1000
	}
	if err == nil && r.sheet != nil && r.sheet.Rows() > 0 {
		ext := gocv.PNGFileExt
		if e := strings.ToLower(filepath.Ext(o.Sheet)); e == ".jpg" || e == ".jpeg" {
			ext = gocv.JPEGFileExt
		}
		b, serr := r.sheet.Encode(ext)
		if serr == nil {
			serr = dataset.WriteFileAtomic(o.Sheet, b)
		}
		if serr != nil {
			err = fmt.Errorf("contact sheet: %w", serr)
		} else {
			sum.Sheet = o.Sheet
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, err
}

// plan checks the options, lists the inputs and backgrounds, names every
// output and refuses existing ones without Force.
func (r *runner) plan(sum *Summary) error {
	o := r.o
	optErr := func(flag, format string, args ...any) error {
		return &OptionError{Option: flag, Err: fmt.Errorf(format, args...)}
	}
	if len(o.Effects) == 0 {
		return optErr("--effect", "no effect given")
	}
	if err := o.Blur.Check(); err != nil {
		flag := "--sigma"
		if o.Blur.Kernel != 0 {
			flag = "--kernel"
		}
		return optErr(flag, "%v", err)
	}
	if err := o.Refine.Check(); err != nil {
		flag := "--feather"
		switch {
		case o.Refine.Radius < 0:
			flag = "--guided-radius"
		case !(o.Refine.Eps >= 0) || math.IsInf(o.Refine.Eps, 0):
			flag = "--guided-eps"
		}
		return optErr(flag, "%v", err)
	}
	if err := CheckDecay(o.TemporalEMA); err != nil {
		return optErr("--temporal-ema", "%v", err)
	}
	if o.Harmonize < 0 || o.Harmonize > 1 {
		return optErr("--harmonize", "%g: want 0..1", o.Harmonize)
	}
	if o.JPEGQuality < 0 || o.JPEGQuality > 100 {
		return optErr("--jpeg-quality", "%d: want 1..100", o.JPEGQuality)
	}
	replace := false
	for _, e := range o.Effects {
		replace = replace || e == EffectReplace
	}
	if o.In == "" {
		return optErr("--in", "no input given")
	}
	if o.Out == "" {
		return optErr("--out", "no output given")
	}
	if o.Preds != "" {
		if st, err := os.Stat(o.Preds); err != nil || !st.IsDir() {
			return optErr("--preds", "%s is not a folder", o.Preds)
		}
	}
	st, err := os.Stat(o.In)
	if err != nil {
		return optErr("--in", "%v", err)
	}
	inDir := st.IsDir()
	if inDir {
		files, ignored, err := listImages(o.In)
		if err != nil {
			return optErr("--in", "%v", err)
		}
		if len(files) == 0 {
			return optErr("--in", "%s holds no images (%s)", o.In, extList())
		}
		r.inputs, sum.Ignored = files, ignored
	} else {
		r.inputs = []string{o.In}
	}
	sum.Inputs = len(r.inputs)

	switch {
	case replace && o.Background == "":
		return optErr("--bg", "the replace effect needs --bg FILE|DIR")
	case !replace && o.Background != "":
		return optErr("--bg", "a background is only used by --effect replace")
	case !replace && o.Harmonize > 0:
		return optErr("--harmonize", "harmonising is only done by --effect replace")
	}
	if replace {
		st, err := os.Stat(o.Background)
		if err != nil {
			return optErr("--bg", "%v", err)
		}
		if st.IsDir() {
			bgs, _, err := listImages(o.Background)
			if err != nil {
				return optErr("--bg", "%v", err)
			}
			if len(bgs) == 0 {
				return optErr("--bg", "%s holds no images (%s)", o.Background, extList())
			}
			r.bgs = bgs
		} else {
			r.bgs = []string{o.Background}
		}
	}

	outExt := strings.ToLower(filepath.Ext(o.Out))
	single := !inDir && len(o.Effects) == 1 && imageExts[outExt]
	if imageExts[outExt] && !single {
		what := "a folder of images"
		if !inDir {
			what = fmt.Sprintf("%d effects", len(o.Effects))
		}
		return optErr("--out", "%s names a file, but %s need a folder", o.Out, what)
	}
	if single {
		switch {
		case o.Effects[0] == EffectCutout && outExt != ".png":
			return optErr("--out", "%s: a cut-out has transparency: write it as .png", o.Out)
		case o.Effects[0] != EffectMatte && o.Effects[0] != EffectCutout && outExt != ".png" && outExt != ".jpg" && outExt != ".jpeg":
			return optErr("--out", "%s: write .jpg or .png", o.Out)
		}
		r.outs = [][]string{{o.Out}}
	} else {
		r.outs = outputNames(r.inputs, o.Effects, o.Out)
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
			return optErr("--out", "%s would overwrite an input", p)
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
			return optErr("--sheet", "%s would overwrite an input", o.Sheet)
		}
	}
	if len(existing) > 0 && !o.Force {
		return fmt.Errorf("%d of %d outputs exist, e.g. %s: %w", len(existing), total, existing[0], ErrExists)
	}
	return nil
}

// makeDirs makes the output folders.
func (r *runner) makeDirs() error {
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
			return &OptionError{Option: "--out", Err: err}
		}
	}
	return nil
}

// Check runs Run's checks of the options, the inputs and the outputs
// without doing anything, so a caller can report a usage error before it
// loads a model.
func Check(o Options) error {
	r := &runner{o: o}
	var sum Summary
	return r.plan(&sum)
}

func extList() string {
	var es []string
	for e := range imageExts {
		es = append(es, e)
	}
	sort.Strings(es)
	return strings.Join(es, " ")
}

// listImages returns the image files of dir in natural name order and the
// number of other entries (not folders) ignored.
func listImages(dir string) ([]string, int, error) {
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
		if strings.HasPrefix(n, ".") || !imageExts[strings.ToLower(filepath.Ext(n))] {
			ignored++
			continue
		}
		files = append(files, filepath.Join(dir, n))
	}
	sort.SliceStable(files, func(i, j int) bool { return NaturalLess(filepath.Base(files[i]), filepath.Base(files[j])) })
	return files, ignored, nil
}

// NaturalLess orders names with digit runs compared as numbers, so
// frame2.png comes before frame10.png; names that tie that way are
// ordered bytewise.
func NaturalLess(a, b string) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ca, cb := a[i], b[j]
		if isDigit(ca) && isDigit(cb) {
			si, sj := i, j
			for i < len(a) && isDigit(a[i]) {
				i++
			}
			for j < len(b) && isDigit(b[j]) {
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

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// outputNames names the outputs in folder out: <stem><ext>, in a
// sub-folder per effect when there are several. Blur and replace keep JPEG
// for JPEG inputs and write PNG otherwise; cut-outs and mattes are PNG.
// Inputs that share a stem (a.jpg, a.png) keep their extension in the
// name (a_jpg, a_png).
func outputNames(inputs []string, effects []Effect, out string) [][]string {
	stems := map[string]int{}
	for _, in := range inputs {
		stems[stemOf(in)]++
	}
	names := make([][]string, len(inputs))
	for i, in := range inputs {
		stem := stemOf(in)
		inExt := strings.ToLower(filepath.Ext(in))
		if stems[stem] > 1 {
			stem += "_" + strings.TrimPrefix(inExt, ".")
		}
		for _, e := range effects {
			ext := ".png"
			if (e == EffectBlur || e == EffectReplace) && (inExt == ".jpg" || inExt == ".jpeg") {
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

func stemOf(p string) string {
	b := filepath.Base(p)
	return strings.TrimSuffix(b, filepath.Ext(b))
}

var errDecode = errors.New("cannot decode it as an image")

// readImage reads a file as 8-bit BGR, refusing JPEG and PNG files cut
// short that OpenCV would decode with only a warning.
func readImage(path string) (gocv.Mat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return gocv.Mat{}, err
	}
	if err := dataset.CheckComplete(b); err != nil {
		return gocv.Mat{}, err
	}
	m, err := gocv.IMDecode(b, gocv.IMReadColor)
	if err != nil || m.Empty() {
		if err == nil {
			m.Close()
		}
		return gocv.Mat{}, errDecode
	}
	return m, nil
}

// readPred reads a saved 8-bit prediction of a w x h image as [0, 1].
func readPred(path string, w, h int) ([]float32, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if err := dataset.CheckComplete(b); err != nil {
		return nil, err
	}
	m, err := gocv.IMDecode(b, gocv.IMReadGrayScale)
	if err != nil || m.Empty() {
		if err == nil {
			m.Close()
		}
		return nil, fmt.Errorf("%s: %w", path, errDecode)
	}
	defer m.Close()
	if m.Cols() != w || m.Rows() != h {
		return nil, fmt.Errorf("%s is %dx%d, the image %dx%d", path, m.Cols(), m.Rows(), w, h)
	}
	px := m.ToBytes()
	p := make([]float32, len(px))
	for i, v := range px {
		p[i] = float32(v) / 255
	}
	return p, nil
}

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// one processes input i. It returns an error only for what stops the
// batch (a failed write, a cancelled context).
func (r *runner) one(ctx context.Context, i int) error {
	it := Item{Index: i, Input: r.inputs[i]}
	released := false
	// Frame i's EMA turn is released after frame i-1's, on every path, so
	// a skipped frame never lets a later one overtake an earlier one.
	release := func() {
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
		close(r.turn[i])
	}
	defer release()
	var stop error
	switch err := r.process(ctx, i, &it, release); {
	case err == nil:
	case errors.Is(err, errFatal):
		it.Status, it.Reason = StatusSkipped, err.Error()
		stop = errors.Unwrap(err)
	case ctx.Err() != nil:
		stop = ctx.Err()
	default:
		it.Status, it.Reason = StatusSkipped, err.Error()
	}
	release()
	r.mu.Lock()
	r.items[i] = it
	if r.o.Report != nil && it.Status != "" {
		r.o.Report(it)
	}
	r.mu.Unlock()
	return stop
}

// errFatal marks errors that stop the batch; one unwraps them.
var errFatal = errors.New("fatal")

type fatalError struct{ err error }

func (f fatalError) Error() string        { return f.err.Error() }
func (f fatalError) Unwrap() error        { return f.err }
func (f fatalError) Is(target error) bool { return target == errFatal }

func (r *runner) process(ctx context.Context, i int, it *Item, release func()) error {
	img, err := readImage(it.Input)
	if err != nil {
		return err
	}
	defer img.Close()
	w, h := img.Cols(), img.Rows()
	it.Width, it.Height = w, h

	t := time.Now()
	var prob []float32
	if r.o.Preds != "" {
		prob, err = readPred(filepath.Join(r.o.Preds, stemOf(it.Input)+".png"), w, h)
	} else {
		prob, err = r.model.Predict(img)
	}
	if err != nil {
		return fmt.Errorf("prediction: %w", err)
	}
	if len(prob) != w*h {
		return fmt.Errorf("prediction: %d values for a %dx%d image", len(prob), w, h)
	}
	if n := nonFinite(prob); n > 0 {
		return fmt.Errorf("prediction: %d of %d values are NaN or Inf", n, len(prob))
	}
	it.PredictMS = msSince(t)
	if r.ema != nil {
		if i > 0 {
			select {
			case <-r.turn[i-1]:
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		prob = r.ema.Next(prob, w, h)
		release()
	}

	t = time.Now()
	alpha, err := Refine(ctx, img, prob, r.refine)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("refine: %w", err)
	}
	it.RefineMS = msSince(t)

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
		b, err := encode(path, out, r.quality)
		if err == nil && row >= 0 {
			err = r.sheet.Add(row, k+1, "", out)
		}
		out.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", e, err)
		}
		if err := dataset.WriteFileAtomic(path, b); err != nil {
			return fatalError{err}
		}
		it.Outputs = append(it.Outputs, path)
	}
	it.EffectMS = msSince(t)
	it.Status = StatusOK
	return nil
}

// effect makes one effect's image; the caller closes it.
func (r *runner) effect(e Effect, img gocv.Mat, alpha []float32, i int) (gocv.Mat, string, error) {
	switch e {
	case EffectBlur:
		m, err := Blur(img, alpha, r.o.Blur)
		return m, "", err
	case EffectReplace:
		path := r.bgs[i%len(r.bgs)]
		bg, err := readImage(path)
		if err != nil {
			return gocv.Mat{}, "", fmt.Errorf("background %s: %w", path, err)
		}
		defer bg.Close()
		fit, f, err := FitCover(bg, img.Cols(), img.Rows())
		if err != nil {
			return gocv.Mat{}, "", err
		}
		defer fit.Close()
		note := ""
		if f.AspectDiffers() {
			note = filepath.Base(path) + ": " + f.String()
		}
		m, err := Replace(img, fit, alpha, r.o.Harmonize)
		return m, note, err
	case EffectCutout:
		m, err := Cutout(img, alpha)
		return m, "", err
	case EffectMatte:
		m, err := Matte(alpha, img.Cols(), img.Rows())
		return m, "", err
	}
	return gocv.Mat{}, "", fmt.Errorf("unknown effect %q", e)
}

// encode encodes m in the format of path's extension.
func encode(path string, m gocv.Mat, quality int) ([]byte, error) {
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

func nonFinite(p []float32) int {
	n := 0
	for _, v := range p {
		if v-v != 0 { // NaN or ±Inf
			n++
		}
	}
	return n
}
