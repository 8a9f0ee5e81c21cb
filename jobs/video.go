package jobs

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/apply"
	"github.com/segtool/segtool/augment"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/temporal"
)

// videoExts are the containers Video reads as files.
var videoExts = []string{".mp4", ".mkv", ".avi", ".mov", ".webm"}

// IsVideoFile reports whether path names a video file by its extension.
func IsVideoFile(path string) bool {
	return slices.Contains(videoExts, strings.ToLower(filepath.Ext(path)))
}

// IsVideoSource reports whether in is something Video reads rather than
// an image or a folder of them: a video file, camera:N, an OpenCV image
// sequence pattern (frame_%04d.png), a URL (rtsp://…) or a GStreamer
// pipeline (elements joined by " ! ").
func IsVideoSource(in string) bool {
	return IsVideoFile(in) || IsLiveSource(in) || isSequence(in)
}

// IsLiveSource reports whether in is a live source (a camera, a GStreamer
// pipeline or a stream URL), whose frames come whether or not the model
// is ready.
func IsLiveSource(in string) bool {
	_, isCam := cameraIndex(in)
	return isCam || isPipeline(in) || strings.Contains(in, "://")
}

func cameraIndex(in string) (int, bool) {
	s, ok := strings.CutPrefix(in, "camera:")
	if !ok {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n >= 0
}

func isPipeline(in string) bool {
	return strings.Contains(in, " ! ") || strings.HasSuffix(in, "appsink")
}

func isSequence(in string) bool {
	i := strings.Index(in, "%")
	return i >= 0 && strings.Contains(in[i:], "d") && dataset.IsImageFile(in)
}

// VideoOptions configure Video.
type VideoOptions struct {
	// In is a video file (mp4, mkv, avi, mov, webm), camera:N, an image
	// sequence pattern or any other OpenCV capture string, GStreamer
	// pipelines included (IsVideoSource).
	In string
	// Out is a video file for one effect, or a folder: OUT/<name><ext>,
	// in a sub-folder per effect when there are several (as Apply does).
	// In a folder, ext is the input's container (.mp4 for live sources
	// and other containers). With Show, Out may be empty: nothing is
	// written.
	Out        string
	Effects    []apply.Effect
	Blur       apply.BlurOptions
	Background string // replace: one image, cover-fitted once
	Harmonize  float64
	Refine     apply.RefineOptions
	Temporal   temporal.Spec
	// Codec, a FourCC such as mp4v, is tried before the container's own
	// list (videoCodecs); "" uses the list.
	Codec string
	// FPS, when > 0, is the outputs' frame rate; 0 takes the source's
	// (25 when it reports none).
	FPS float64
	// Frames, when > 0, stops after that many frames are processed;
	// Duration, when > 0, after that long.
	Frames   int
	Duration time.Duration
	// Force replaces existing outputs; without it an existing output is
	// dataset.ErrExists before any work.
	Force bool
	// Show, if set, is called with each finished frame of the first
	// effect, from one goroutine (a preview window).
	Show func(frame gocv.Mat)
	// Progress is called after each frame written, with an estimate of
	// the total (0 when unknown: live sources).
	Progress func(done, total int)
	// Sheet, if set, is the path (.png or .jpg) of a before/after strip:
	// SheetFrames frames (0: apply.DefaultSheetRows) evenly spaced over
	// the clip, one column each, the input above each effect's frame;
	// panels SheetCell pixels high (0: apply.DefaultSheetCell).
	Sheet       string
	SheetFrames int
	SheetCell   int
	// Calls is how many model calls run at once, each on its own
	// consecutive frame (0 or 1: one at a time). Only a whole-image
	// model without state runs its frames side by side; the frames
	// still leave inference in order. On a CPU a session of fewer
	// threads per call keeps more of the cores busy (see VideoCalls).
	Calls int
}

// VideoCalls is the number of model calls a video run makes at once by
// default: two for a file on the CPU (each call on half the cores: see
// Calls), one for a live source (the newest frame first, its latency
// lowest) or a GPU. On a CPU one call on every thread leaves cores idle
// where the model's operators are too small to split and while each
// call waits for its slowest thread; two calls on two frames fill those
// gaps.
func VideoCalls(live, cpu bool, cores int) int {
	if live || !cpu || cores < 2 {
		return 1
	}
	return 2
}

// ErrSourceLost is a live source that stopped sending frames before the
// run was told to stop (a camera unplugged). The outputs hold the frames
// written up to then.
var ErrSourceLost = errors.New("the live source stopped")

// VideoOpenError is a source no backend could open, or whose first frame
// none could decode (Reason says so: a codec without a decoder).
type VideoOpenError struct {
	Source   string
	Backends []string
	Reason   string
}

func (e *VideoOpenError) Error() string {
	why := ""
	if e.Reason != "" {
		why = ": " + e.Reason
	}
	return fmt.Sprintf("cannot open %s as video%s (backends tried: %s)", e.Source, why, strings.Join(e.Backends, ", "))
}

// VideoWriterError is an output no codec could open.
type VideoWriterError struct {
	Path   string
	Codecs []string
}

func (e *VideoWriterError) Error() string {
	return fmt.Sprintf("cannot write %s: OpenCV opened no encoder (codecs tried: %s)", e.Path, strings.Join(e.Codecs, ", "))
}

// StageStats are per-frame latencies of one pipeline stage, in ms.
type StageStats struct {
	P50MS  float64 `json:"p50_ms"`
	P95MS  float64 `json:"p95_ms"`
	MeanMS float64 `json:"mean_ms"`
}

func stageStats(ms []float64) StageStats {
	if len(ms) == 0 {
		return StageStats{}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	rank := func(p float64) float64 { // nearest rank
		k := int(math.Ceil(p*float64(len(s)))) - 1
		return s[min(max(k, 0), len(s)-1)]
	}
	var sum float64
	for _, v := range s {
		sum += v
	}
	return StageStats{P50MS: rank(0.5), P95MS: rank(0.95), MeanMS: sum / float64(len(s))}
}

// VideoSummary is the outcome of Video.
type VideoSummary struct {
	Source  string   `json:"source"`
	Live    bool     `json:"live"`
	Outputs []string `json:"outputs"`
	Codecs  []string `json:"codecs"` // the codec each output was written with
	Width   int      `json:"width"`
	Height  int      `json:"height"`
	FPS     float64  `json:"fps"` // of the outputs
	// Decoded frames read from the source; Written frames written to each
	// output (Decoded + Corrupt, less Dropped, in a finished file).
	Decoded int `json:"decoded"`
	Written int `json:"written"`
	// Corrupt frames the decoder lost mid-file, each replaced by the last
	// good result so the output keeps its timing; Failed frames whose
	// prediction failed, replaced the same way (FirstFailure says why).
	Corrupt      int    `json:"corrupt"`
	Failed       int    `json:"failed"`
	FirstFailure string `json:"first_failure,omitempty"`
	// Dropped live frames that came while the model was busy.
	Dropped int `json:"dropped"`
	// Preview is the before/after strip written (Sheet), if any.
	Preview string `json:"preview,omitempty"`
	// Per-frame latency of each stage, and for live sources from capture
	// to the frame written (Latency).
	Decode, Infer, Temporal, Effect, Encode, Latency StageStats
	Elapsed                                          time.Duration `json:"-"`
}

// FramesPerSecond is the frames written per second of the run.
func (s VideoSummary) FramesPerSecond() float64 {
	return float64(s.Written) / max(s.Elapsed.Seconds(), 1e-9)
}

// vframe is one frame on its way through the pipeline.
type vframe struct {
	idx      int
	img      gocv.Mat
	lost     int // frames lost just before this one (corrupt), to repeat
	captured time.Time
	prob     []float32
	failed   string // why the prediction failed; prob is the last good one
	outs     []gocv.Mat
	// On the staged predictor's way: the model input and its output,
	// an error so far and the time spent.
	ins     []models.Input
	batch   *models.Batch // the pool's batch ins[0] lives in, if any
	err     error
	inferMS float64
}

func (f *vframe) close() {
	f.img.Close()
	for _, m := range f.outs {
		m.Close()
	}
	f.outs = nil
}

// videoJob is one Video run.
type videoJob struct {
	o       VideoOptions
	model   apply.Model
	live    bool
	cap     *gocv.VideoCapture
	outs    []string // final paths, per effect
	tmps    []string // what is written until the end
	writers []*gocv.VideoWriter
	bg      gocv.Mat // replace's background fitted to the frame
	sheet   *apply.Sheet
	picks   map[int]int // frame index -> its column on the sheet
	sum     VideoSummary
	srcFPS  float64 // as the source reports it

	mu       sync.Mutex
	err      error // the first fatal error
	stageMS  [5][]float64
	latency  []float64
	estimate int
}

// Video runs the model (m is called from one goroutine with the frames in
// order, so a models.Stream fits; an untiled *models.Predictor of a model
// without state has its steps staged, see inferStaged, and must not be
// used elsewhere meanwhile) over a video file or a live source and
// writes one video per effect. Decoding, inference, the temporal filter,
// the effects and encoding each run on their own goroutine, joined by
// small bounded channels, so the stages overlap and frames stay in order.
// A file's every frame is processed; a live source's frames that come
// while the model is busy are dropped and counted. Cancelling ctx, or
// Frames or Duration, ends the run with the outputs finalised. Each
// output is written under a temporary name beside it and renamed at the
// end. The cut-out effect is written as its matte: video has no alpha
// channel.
func Video(ctx context.Context, m apply.Model, o VideoOptions) (VideoSummary, error) {
	r := &videoJob{o: o, model: m, live: IsLiveSource(o.In)}
	r.sum.Source, r.sum.Live = o.In, r.live
	if err := r.plan(); err != nil {
		return r.sum, err
	}
	r.sum.Outputs = r.outs
	if o.Out != "" {
		lock, err := dataset.LockOutput(o.Out)
		if err != nil {
			return r.sum, err
		}
		defer lock.Release()
	}
	var err error
	var backends []string
	if r.cap, backends, err = openCapture(o.In); err != nil {
		return r.sum, err
	}
	defer r.cap.Close()
	defer r.bg.Close()
	start := time.Now()
	first := gocv.NewMat()
	t := time.Now()
	if !r.cap.Read(&first) || first.Empty() {
		first.Close()
		return r.sum, &VideoOpenError{Source: o.In, Backends: backends, Reason: "no frame could be decoded (a codec without a decoder?)"}
	}
	r.stageMS[0] = append(r.stageMS[0], msSince(t))
	captured := time.Now()
	toBGR(&first)
	r.sum.Width, r.sum.Height = first.Cols(), first.Rows()
	r.srcFPS = r.cap.Get(gocv.VideoCaptureFPS)
	r.sum.FPS = o.FPS
	if r.sum.FPS <= 0 {
		r.sum.FPS = r.srcFPS
	}
	if !(r.sum.FPS > 0 && r.sum.FPS < 1000) {
		r.sum.FPS = 25
	}
	if !r.live {
		r.estimate = int(r.cap.Get(gocv.VideoCaptureFrameCount)) // a header's guess
	}
	if o.Frames > 0 && (r.estimate <= 0 || o.Frames < r.estimate) {
		r.estimate = o.Frames
	}
	r.planSheet()
	if err := r.openBackground(); err != nil {
		first.Close()
		return r.sum, err
	}
	if err := r.openWriters(); err != nil {
		first.Close()
		return r.sum, err
	}
	// The stages are the run's parallelism and the model's session has
	// the cores' threads: OpenCV's own pool (TBB here) would oversubscribe
	// them, and its workers spin (sched_yield) after each resize or blur,
	// taking CPU time from the model. As in Augment.
	threads := augment.OpenCVThreads()
	augment.SetOpenCVThreads(1)
	runErr := r.pipeline(ctx, vframe{img: first, captured: captured})
	augment.SetOpenCVThreads(threads)
	// Finalise: close every writer, then keep what was written.
	for _, w := range r.writers {
		w.Close()
	}
	r.sum.Elapsed = time.Since(start)
	keep := r.sum.Written > 0 && (runErr == nil || !errors.As(runErr, new(videoFatal)))
	for k, tmp := range r.tmps {
		if !keep {
			os.Remove(tmp)
			continue
		}
		if err := os.Rename(tmp, r.outs[k]); err != nil && runErr == nil {
			runErr = err
		}
	}
	if !keep {
		r.sum.Outputs = nil
	}
	if keep { // the strip goes with the outputs
		if err := r.writeSheet(); err != nil && runErr == nil {
			runErr = err
		}
	}
	r.sum.Decode, r.sum.Infer, r.sum.Temporal = stageStats(r.stageMS[0]), stageStats(r.stageMS[1]), stageStats(r.stageMS[2])
	r.sum.Effect, r.sum.Encode = stageStats(r.stageMS[3]), stageStats(r.stageMS[4])
	r.sum.Latency = stageStats(r.latency)
	var fatal videoFatal
	if errors.As(runErr, &fatal) {
		runErr = fatal.err
	}
	return r.sum, runErr
}

// videoFatal marks an error after which the outputs are not kept (a
// failed write); other errors (a lost source, a cancel) keep them.
type videoFatal struct{ err error }

func (f videoFatal) Error() string { return f.err.Error() }
func (f videoFatal) Unwrap() error { return f.err }

func msSince(t time.Time) float64 { return float64(time.Since(t).Microseconds()) / 1000 }

// CheckVideo runs Video's checks of the options and outputs without
// opening anything, so a caller can report a fault before it loads a
// model.
func CheckVideo(o VideoOptions) error {
	r := &videoJob{o: o, live: IsLiveSource(o.In)}
	return r.plan()
}

// plan checks the options, names the outputs and refuses existing ones
// without Force.
func (r *videoJob) plan() error {
	o := r.o
	optErr := func(field, format string, args ...any) error {
		return &dataset.OptionError{Field: field, Err: fmt.Errorf(format, args...)}
	}
	switch {
	case len(o.Effects) == 0:
		return optErr("Effects", "no effect given")
	case o.In == "":
		return optErr("In", "no input given")
	case o.Out == "" && o.Show == nil:
		return optErr("Out", "no output given")
	case o.Harmonize < 0 || o.Harmonize > 1:
		return optErr("Harmonize", "%g: want 0..1", o.Harmonize)
	case o.Frames < 0:
		return optErr("Frames", "%d: want >= 0", o.Frames)
	case o.Duration < 0:
		return optErr("Duration", "%v: want >= 0", o.Duration)
	case !(o.FPS >= 0) || math.IsInf(o.FPS, 0):
		return optErr("FPS", "%g: want > 0", o.FPS)
	case o.Codec != "" && len(o.Codec) != 4:
		return optErr("Codec", "%q: want a FourCC of 4 characters, such as avc1, mp4v or MJPG", o.Codec)
	}
	if err := o.Blur.Check(); err != nil {
		return optErr("Blur.Sigma", "%v", err)
	}
	if err := o.Refine.Check(); err != nil {
		return optErr("Refine.Feather", "%v", err)
	}
	if err := o.Temporal.Check(); err != nil {
		return optErr("Temporal", "%v", err)
	}
	replace := slices.Contains(o.Effects, apply.EffectReplace)
	switch {
	case replace && o.Background == "":
		return optErr("Background", "the replace effect needs a background image")
	case !replace && o.Background != "":
		return optErr("Background", "a background is only used by the replace effect")
	}
	if replace {
		if st, err := os.Stat(o.Background); err != nil {
			return optErr("Background", "%v", err)
		} else if st.IsDir() {
			return optErr("Background", "%s is a folder: a video takes one background image", o.Background)
		}
	}
	if !r.live && !strings.Contains(o.In, "%") {
		if st, err := os.Stat(o.In); err != nil {
			return optErr("In", "%v", err)
		} else if st.IsDir() {
			return optErr("In", "%s is a folder, not a video", o.In)
		}
	}
	if o.SheetFrames < 0 {
		return optErr("SheetFrames", "%d: want >= 0", o.SheetFrames)
	}
	if o.SheetCell < 0 {
		return optErr("SheetCell", "%d: want >= 0", o.SheetCell)
	}
	if o.Sheet != "" {
		if e := strings.ToLower(filepath.Ext(o.Sheet)); e != ".png" && e != ".jpg" && e != ".jpeg" {
			return optErr("Sheet", "%s: want a .png or .jpg file", o.Sheet)
		}
		if filepath.Clean(o.Sheet) == filepath.Clean(o.In) {
			return optErr("Sheet", "%s would overwrite the input", o.Sheet)
		}
		if _, err := os.Stat(o.Sheet); err == nil && !o.Force {
			return fmt.Errorf("the strip %s exists: %w", o.Sheet, dataset.ErrExists)
		}
	}
	if o.Out == "" {
		return nil // shown only
	}
	single := IsVideoFile(o.Out)
	if single && len(o.Effects) > 1 {
		return optErr("Out", "%s names a file, but %d effects need a folder (one video each)", o.Out, len(o.Effects))
	}
	if single {
		r.outs = []string{o.Out}
	} else {
		name, ext := videoOutName(o.In)
		for _, e := range o.Effects {
			dir := o.Out
			if len(o.Effects) > 1 {
				dir = filepath.Join(o.Out, string(e))
			}
			r.outs = append(r.outs, filepath.Join(dir, name+ext))
		}
	}
	var existing []string
	for _, p := range r.outs {
		if filepath.Clean(p) == filepath.Clean(o.In) {
			return optErr("Out", "%s would overwrite the input", p)
		}
		if _, err := os.Stat(p); err == nil {
			existing = append(existing, p)
		}
	}
	if len(existing) > 0 && !o.Force {
		return fmt.Errorf("%d of %d outputs exist, e.g. %s: %w", len(existing), len(r.outs), existing[0], dataset.ErrExists)
	}
	return nil
}

// videoOutName is the name and container of in's outputs in a folder.
func videoOutName(in string) (string, string) {
	if n, ok := cameraIndex(in); ok {
		return fmt.Sprintf("camera%d", n), ".mp4"
	}
	if IsLiveSource(in) {
		return "live", ".mp4"
	}
	base := filepath.Base(in)
	ext := strings.ToLower(filepath.Ext(base))
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	if isSequence(in) {
		stem, _, _ = strings.Cut(stem, "%")
		stem = strings.TrimRight(stem, "_-. ")
		if stem == "" {
			stem = "frames"
		}
		ext = ".mp4"
	}
	if ext == ".webm" || !IsVideoFile(base) {
		ext = ".mp4"
	}
	return stem, ext
}

// openCapture opens in with the backends that suit it, in turn, and
// returns the backends tried.
func openCapture(in string) (*gocv.VideoCapture, []string, error) {
	type try struct {
		name string
		open func() (*gocv.VideoCapture, error)
	}
	var tries []try
	if n, ok := cameraIndex(in); ok {
		tries = []try{
			{"V4L2", func() (*gocv.VideoCapture, error) { return gocv.VideoCaptureDeviceWithAPI(n, gocv.VideoCaptureV4L2) }},
			{"ANY", func() (*gocv.VideoCapture, error) { return gocv.VideoCaptureDevice(n) }},
		}
	} else if isPipeline(in) {
		tries = []try{{"GSTREAMER", func() (*gocv.VideoCapture, error) {
			return gocv.VideoCaptureFileWithAPI(in, gocv.VideoCaptureGstreamer)
		}}}
	} else {
		tries = []try{
			{"FFMPEG", func() (*gocv.VideoCapture, error) { return gocv.VideoCaptureFileWithAPI(in, gocv.VideoCaptureFFmpeg) }},
			{"ANY", func() (*gocv.VideoCapture, error) { return gocv.VideoCaptureFile(in) }},
		}
	}
	var names []string
	for _, t := range tries {
		names = append(names, t.name)
		c, err := t.open()
		if err == nil && c.IsOpened() {
			if _, ok := cameraIndex(in); ok {
				// A camera's own compression and a one-frame buffer keep
				// its latency low.
				c.Set(gocv.VideoCaptureFOURCC, c.ToCodec("MJPG"))
				c.Set(gocv.VideoCaptureBufferSize, 1)
			}
			return c, names, nil
		}
		if c != nil {
			c.Close()
		}
	}
	return nil, names, &VideoOpenError{Source: in, Backends: names}
}

// videoCodecs are the FourCCs tried for a container, best first: H.264
// where there is an encoder, then MPEG-4 part 2, then Motion JPEG, which
// every OpenCV build writes; AVI prefers MJPG.
func videoCodecs(path string) []string {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".avi":
		return []string{"MJPG", "XVID", "mp4v"}
	case ".webm":
		return []string{"VP90", "VP80"}
	}
	return []string{"avc1", "mp4v", "MJPG"}
}

// OpenVideoWriter opens path for frames of w x h BGR at fps with the
// first of codecs (FourCCs) that OpenCV opens, and returns it and that
// codec: VideoWriterFile does not fail on a codec it cannot open, so
// IsOpened decides. When none opens the error is a *VideoWriterError.
func OpenVideoWriter(path string, codecs []string, fps float64, w, h int) (*gocv.VideoWriter, string, error) {
	for _, c := range codecs {
		vw, err := gocv.VideoWriterFile(path, c, fps, w, h, true)
		if err == nil && vw.IsOpened() {
			return vw, c, nil
		}
		if vw != nil {
			vw.Close()
		}
	}
	return nil, "", &VideoWriterError{Path: path, Codecs: codecs}
}

// openWriters opens one writer per output under a temporary name beside
// it (OpenVideoWriter).
func (r *videoJob) openWriters() error {
	for _, p := range r.outs {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return &dataset.OptionError{Field: "Out", Err: err}
		}
		tmp := filepath.Join(filepath.Dir(p), "."+strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))+".segtool-partial"+filepath.Ext(p))
		codecs := videoCodecs(p)
		if r.o.Codec != "" {
			codecs = append([]string{r.o.Codec}, slices.DeleteFunc(codecs, func(c string) bool { return c == r.o.Codec })...)
		}
		w, used, err := OpenVideoWriter(tmp, codecs, r.sum.FPS, r.sum.Width, r.sum.Height)
		if err != nil {
			os.Remove(tmp)
			r.closeWriters()
			return &VideoWriterError{Path: p, Codecs: codecs} // the output's name, not the temporary one
		}
		r.writers = append(r.writers, w)
		r.tmps = append(r.tmps, tmp)
		r.sum.Codecs = append(r.sum.Codecs, used)
	}
	return nil
}

func (r *videoJob) closeWriters() {
	for k, w := range r.writers {
		w.Close()
		os.Remove(r.tmps[k])
	}
	r.writers, r.tmps = nil, nil
}

// openBackground reads replace's background and fits it to the frame.
func (r *videoJob) openBackground() error {
	if !slices.Contains(r.o.Effects, apply.EffectReplace) {
		return nil
	}
	b, err := os.ReadFile(r.o.Background)
	if err != nil {
		return &dataset.OptionError{Field: "Background", Err: err}
	}
	bg, err := (dataset.Decoder{}).Decode(r.o.Background, b, gocv.IMReadColor)
	if err != nil {
		return &dataset.OptionError{Field: "Background", Err: fmt.Errorf("%s: %w", r.o.Background, err)}
	}
	defer bg.Close()
	fit, _, err := apply.FitCover(bg, r.sum.Width, r.sum.Height)
	if err != nil {
		return &dataset.OptionError{Field: "Background", Err: err}
	}
	r.bg = fit
	return nil
}

// toBGR replaces a grey or BGRA frame with its BGR.
func toBGR(m *gocv.Mat) {
	if m.Channels() == 3 {
		return
	}
	conv := gocv.NewMat()
	if m.Channels() == 1 {
		gocv.CvtColor(*m, &conv, gocv.ColorGrayToBGR)
	} else {
		gocv.CvtColor(*m, &conv, gocv.ColorBGRAToBGR)
	}
	m.Close()
	*m = conv
}

// fail keeps the first fatal error and stops the pipeline.
func (r *videoJob) fail(err error, cancel context.CancelFunc) {
	r.mu.Lock()
	if r.err == nil {
		r.err = err
	}
	r.mu.Unlock()
	cancel()
}

func (r *videoJob) record(stage int, ms float64) {
	r.mu.Lock()
	r.stageMS[stage] = append(r.stageMS[stage], ms)
	r.mu.Unlock()
}

// pipeline runs the stages until the source ends, a stop condition is
// met, ctx is cancelled or a stage fails. Every stage drains its input
// to the end, closing the Mats of what it does not process, so nothing
// leaks and no stage blocks another at a stop.
func (r *videoJob) pipeline(ctx context.Context, first vframe) error {
	pctx, cancel := context.WithCancel(ctx)
	defer cancel()
	decoded := make(chan vframe)
	predicted := make(chan vframe, 2)
	filtered := make(chan vframe, 2)
	made := make(chan vframe, 2)
	var wg sync.WaitGroup
	var srcErr error
	wg.Add(5)
	go func() { defer wg.Done(); defer close(decoded); srcErr = r.decode(pctx, first, decoded) }()
	go func() {
		defer wg.Done()
		defer close(predicted)
		if p, ok := stageable(r.model); ok {
			r.inferStaged(pctx, p, decoded, predicted)
		} else {
			r.infer(pctx, decoded, predicted)
		}
	}()
	go func() { defer wg.Done(); defer close(filtered); r.filter(pctx, cancel, predicted, filtered) }()
	go func() { defer wg.Done(); defer close(made); r.effects(pctx, cancel, filtered, made) }()
	go func() { defer wg.Done(); r.encode(pctx, cancel, made) }()
	wg.Wait()
	if r.err != nil {
		return r.err
	}
	if srcErr != nil {
		return srcErr
	}
	return ctx.Err()
}

// decode reads frames and sends them on. From a file every frame is sent
// (waiting for the model); from a live source a frame is sent only if
// the model is waiting for one, else dropped. A gap in a file's
// timestamps is frames the decoder lost: they are counted and the next
// good frame carries them, to be filled with the last result.
func (r *videoJob) decode(ctx context.Context, first vframe, out chan<- vframe) error {
	start := time.Now()
	frameMS := 0.0 // a source frame's duration, for the gaps in a file
	if r.srcFPS > 0 && r.srcFPS < 1000 {
		frameMS = 1000 / r.srcFPS
	}
	lastPos := r.cap.Get(gocv.VideoCapturePosMsec)
	n := 0
	send := func(f vframe) bool {
		f.idx = n
		if r.live {
			select {
			case out <- f:
			default:
				f.close()
				r.sum.Dropped++
				return true
			}
		} else {
			select {
			case out <- f:
			case <-ctx.Done():
				f.close()
				return false
			}
		}
		n++
		return true
	}
	r.sum.Decoded = 1
	if r.live {
		out <- first // the model is not busy yet
		n++
	} else if !send(first) {
		return nil
	}
	misses := 0
	for {
		if ctx.Err() != nil {
			return nil
		}
		if r.o.Frames > 0 && n >= r.o.Frames {
			return nil
		}
		if r.o.Duration > 0 && time.Since(start) >= r.o.Duration {
			return nil
		}
		img := gocv.NewMat()
		t := time.Now()
		ok := r.cap.Read(&img)
		if !ok || img.Empty() {
			img.Close()
			if r.live {
				if ctx.Err() != nil {
					return nil
				}
				return fmt.Errorf("%s after %d frames: %w", r.o.In, r.sum.Decoded, ErrSourceLost)
			}
			// A file's decoder may fail on a frame and read the next;
			// a few misses in a row is the end.
			misses++
			if misses > 8 {
				return nil
			}
			continue
		}
		r.record(0, msSince(t))
		r.sum.Decoded++
		f := vframe{img: img, captured: time.Now()}
		if !r.live {
			lost := misses
			misses = 0
			if pos := r.cap.Get(gocv.VideoCapturePosMsec); pos > lastPos && lastPos >= 0 && frameMS > 0 {
				gap := int(math.Round((pos-lastPos)/frameMS)) - 1
				lost = max(lost, min(gap, 10*int(r.srcFPS+1)))
				lastPos = pos
			}
			f.lost = lost
			r.sum.Corrupt += lost
		}
		toBGR(&f.img)
		if f.img.Cols() != r.sum.Width || f.img.Rows() != r.sum.Height {
			// A frame of another size (a stream that changed): fit it.
			fit := gocv.NewMat()
			gocv.Resize(f.img, &fit, image.Pt(r.sum.Width, r.sum.Height), 0, 0, gocv.InterpolationLinear)
			f.img.Close()
			f.img = fit
		}
		if !send(f) {
			return nil
		}
	}
}

// infer predicts each frame in order. A failed prediction keeps the last
// good one (zeros before any), so the output keeps its timing.
func (r *videoJob) infer(ctx context.Context, in <-chan vframe, out chan<- vframe) {
	var last []float32
	for f := range in {
		if ctx.Err() != nil && !r.stopping() {
			f.close()
			continue
		}
		t := time.Now()
		p, err := r.model.Predict(f.img)
		r.record(1, msSince(t))
		r.settle(&f, p, err, &last)
		out <- f
	}
}

// settle checks a frame's prediction and sets it, or on a failure the
// last good one (zeros before any) with the reason.
func (r *videoJob) settle(f *vframe, p []float32, err error, last *[]float32) {
	switch {
	case err != nil:
		f.failed = err.Error()
	case len(p) != r.sum.Width*r.sum.Height:
		f.failed = fmt.Sprintf("prediction: %d values for a %dx%d frame", len(p), r.sum.Width, r.sum.Height)
	case apply.NonFinite(p) > 0:
		f.failed = fmt.Sprintf("prediction: %d values are NaN or Inf", apply.NonFinite(p))
	}
	if f.failed != "" {
		if *last == nil {
			*last = make([]float32, r.sum.Width*r.sum.Height)
		}
		p = slices.Clone(*last)
	} else {
		*last = p
	}
	f.prob = p
}

// stageable reports whether m is a predictor whose steps the pipeline may
// run on stages of their own: a whole-image (untiled) models.Predictor of
// a model that carries nothing between frames.
func stageable(m apply.Model) (*models.Predictor, bool) {
	p, ok := m.(*models.Predictor)
	if !ok || p.Session == nil || p.Tile != (image.Point{}) || p.Session.Spec.Stateful() {
		return nil, false
	}
	return p, true
}

// inferStaged is infer with the predictor's three steps, the ones
// models.Predictor.Predict makes for a whole image in the same order
// (Spec.Inputs, RunInputs, Spec.Assemble), on stages of their own: the
// next frame's input is prepared and the last one's output read back
// while the session runs, so the session waits on neither. With
// o.Calls > 1 that many model calls run at once on consecutive frames
// (ONNX Runtime's Run may be called concurrently on one session), and
// the read-back takes them in order. The infer time of a frame is the
// sum of its three steps.
//
// Each frame has a batch of its own from a pool of one per step and
// call: the input is preprocessed straight into the batch's tensor and
// the output read where the session wrote it, where Session.Run
// allocates and copies both (1.2 MB in, 0.8 MB out for SINet) every
// call. The values are the same. A model with a fixed batch above one
// keeps Session.Run's padding, one call at a time.
func (r *videoJob) inferStaged(ctx context.Context, p *models.Predictor, in <-chan vframe, out chan<- vframe) {
	spec := p.Session.Spec
	calls := max(r.o.Calls, 1)
	var pool *models.BatchPool
	if spec.Batch <= 1 {
		pool = p.Session.NewBatchPool(2 + calls)
	} else {
		calls = 1
	}
	// A slot is one frame between prepare and read-back; done is closed
	// when its call has run. order carries the slots in frame order.
	type slot struct {
		f    vframe
		done chan struct{}
	}
	prepared := make(chan *slot, calls)
	order := make(chan *slot, calls+1)
	var wg sync.WaitGroup
	wg.Add(1 + calls)
	go func() { // prepare
		defer wg.Done()
		defer close(prepared)
		defer close(order)
		for f := range in {
			if ctx.Err() != nil && !r.stopping() {
				f.close()
				continue
			}
			t := time.Now()
			var data func() []float32
			if pool != nil {
				// Never abandoned: every batch taken is released below,
				// so one is always coming back.
				if f.batch, f.err = pool.Get(1, nil); f.err == nil {
					data = func() []float32 { return f.batch.In }
				}
			}
			if f.err == nil {
				f.ins, f.err = spec.InputsWith(f.img, p.Fit, image.Point{}, 0, data)
			}
			f.inferMS = msSince(t)
			s := &slot{f: f, done: make(chan struct{})}
			order <- s
			prepared <- s
		}
	}()
	for range calls { // run
		go func() {
			defer wg.Done()
			for s := range prepared {
				f := &s.f
				if f.err == nil && (ctx.Err() == nil || r.stopping()) {
					t := time.Now()
					if f.batch != nil {
						f.err = runBatch(p.Session, f.batch, f.ins)
					} else {
						f.err = p.RunInputs(f.ins)
					}
					f.inferMS += msSince(t)
				}
				close(s.done)
			}
		}()
	}
	var last []float32
	for s := range order { // read back
		<-s.done
		f := s.f
		if ctx.Err() != nil && !r.stopping() {
			f.releaseBatch()
			f.close()
			continue
		}
		var plane []float32
		err := f.err
		if err == nil {
			t := time.Now()
			plane, err = spec.Assemble(f.ins, f.img.Cols(), f.img.Rows(), false, 0)
			f.inferMS += msSince(t)
		}
		f.releaseBatch()
		f.ins, f.err = nil, nil
		r.record(1, f.inferMS)
		r.settle(&f, plane, err, &last)
		out <- f
	}
	wg.Wait()
	if pool != nil {
		pool.Close()
	}
}

// releaseBatch gives the frame's batch back to its pool.
func (f *vframe) releaseBatch() {
	if f.batch != nil {
		f.batch.Release()
		f.batch = nil
	}
}

// runBatch runs the session on b, into which the one whole-image input
// was preprocessed, and points the input's Out at the batch's output
// (valid until b runs again).
func runBatch(s *models.Session, b *models.Batch, ins []models.Input) error {
	if len(ins) != 1 {
		return fmt.Errorf("inference: %d inputs for a whole image", len(ins))
	}
	b.Commit()
	if err := s.RunBatch(b); err != nil {
		return fmt.Errorf("inference: %w", err)
	}
	ins[0].Out, ins[0].Dims = b.Item(0), b.ItemDims()
	return nil
}

// filter runs the temporal filter; frames it holds back wait in a queue
// and leave in order when it releases their planes. With none, each plane
// goes on as it is, uncopied: Refine, its only reader, does not change it.
func (r *videoJob) filter(ctx context.Context, cancel context.CancelFunc, in <-chan vframe, out chan<- vframe) {
	var flt temporal.Filter
	if !r.o.Temporal.Off() {
		flt = r.o.Temporal.New()
	}
	var queue []vframe
	emit := func(planes [][]float32) {
		for _, p := range planes {
			if len(queue) == 0 {
				r.fail(errors.New("temporal filter released more frames than it was given"), cancel)
				return
			}
			f := queue[0]
			queue = queue[1:]
			f.prob = p
			out <- f
		}
	}
	for f := range in {
		if ctx.Err() != nil && !r.stopping() {
			f.close()
			continue
		}
		t := time.Now()
		queue = append(queue, f)
		planes := [][]float32{f.prob}
		if flt != nil {
			planes = flt.Push(f.prob, r.sum.Width, r.sum.Height)
		}
		r.record(2, msSince(t))
		emit(planes)
	}
	if flt != nil {
		emit(flt.Flush())
	}
	for _, f := range queue { // not reached with a correct filter
		f.close()
	}
}

// stopping reports whether ctx ended as a normal stop (the caller's
// cancel of a live run) rather than a failure: frames in flight are then
// finished and written.
func (r *videoJob) stopping() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err == nil
}

// effects refines each frame's alpha and makes every effect's frame.
func (r *videoJob) effects(ctx context.Context, cancel context.CancelFunc, in <-chan vframe, out chan<- vframe) {
	for f := range in {
		if ctx.Err() != nil && !r.stopping() {
			f.close()
			continue
		}
		t := time.Now()
		if err := r.makeEffects(&f); err != nil {
			f.close()
			r.fail(videoFatal{fmt.Errorf("frame %d: %w", f.idx, err)}, cancel)
			continue
		}
		if err := r.addToSheet(f); err != nil {
			f.close()
			r.fail(fmt.Errorf("strip, frame %d: %w", f.idx, err), cancel)
			continue
		}
		f.img.Close()
		r.record(3, msSince(t))
		out <- f
	}
}

func (r *videoJob) makeEffects(f *vframe) error {
	// Refinement runs to the end even at a stop, so the frames in flight
	// are finished.
	alpha, err := apply.Refine(context.Background(), f.img, f.prob, r.o.Refine)
	if err != nil {
		return fmt.Errorf("refine: %w", err)
	}
	w, h := r.sum.Width, r.sum.Height
	for _, e := range r.o.Effects {
		var m gocv.Mat
		switch e {
		case apply.EffectBlur:
			m, err = apply.Blur(f.img, alpha, r.o.Blur)
		case apply.EffectReplace:
			m, err = apply.Replace(f.img, r.bg, alpha, r.o.Harmonize)
		case apply.EffectCutout, apply.EffectMatte:
			var g gocv.Mat
			if g, err = apply.Matte(alpha, w, h); err == nil {
				m = gocv.NewMat()
				gocv.CvtColor(g, &m, gocv.ColorGrayToBGR)
				g.Close()
			}
		default:
			err = fmt.Errorf("unknown effect %q", e)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", e, err)
		}
		f.outs = append(f.outs, m)
	}
	return nil
}

// planSheet picks the strip's frames: n evenly spaced over the frames the
// run expects (the header's count, or Frames), rounded to the nearest;
// with no estimate (a live source) the first n.
func (r *videoJob) planSheet() {
	if r.o.Sheet == "" {
		return
	}
	n := r.o.SheetFrames
	if n <= 0 {
		n = apply.DefaultSheetRows
	}
	total := r.estimate
	if total <= 0 {
		total = n
	}
	n = min(n, total)
	r.picks = map[int]int{}
	var cols []string
	for k := range n {
		idx := 0
		if n > 1 {
			idx = int(math.Round(float64(k) * float64(total-1) / float64(n-1)))
		}
		r.picks[idx] = k
		cols = append(cols, fmt.Sprintf("frame %d", idx))
	}
	r.sheet = apply.NewSheet(cols, r.o.SheetCell)
}

// addToSheet puts a picked frame's input and effects in its column: the
// input in row 0, effect k in row k+1.
func (r *videoJob) addToSheet(f vframe) error {
	col, ok := r.picks[f.idx]
	if r.sheet == nil || !ok {
		return nil
	}
	if err := r.sheet.Add(0, col, "input", f.img); err != nil {
		return err
	}
	for k, m := range f.outs {
		if err := r.sheet.Add(k+1, col, string(r.o.Effects[k]), m); err != nil {
			return err
		}
	}
	return nil
}

// writeSheet encodes the strip, if any frame reached it, and writes it.
func (r *videoJob) writeSheet() error {
	if r.sheet == nil || r.sheet.Rows() == 0 {
		return nil
	}
	if err := writeSheet(r.sheet, r.o.Sheet); err != nil {
		return fmt.Errorf("strip %s: %w", r.o.Sheet, err)
	}
	r.sum.Preview = r.o.Sheet
	return nil
}

// encode writes each frame's effects, first the frames lost before it as
// copies of the last result (of this frame when there is none yet).
func (r *videoJob) encode(ctx context.Context, cancel context.CancelFunc, in <-chan vframe) {
	var last []gocv.Mat
	defer func() {
		for _, m := range last {
			m.Close()
		}
	}()
	write := func(ms []gocv.Mat) error {
		for k, w := range r.writers {
			if err := w.Write(ms[k]); err != nil {
				return fmt.Errorf("write %s: %w", r.outs[k], err)
			}
		}
		r.sum.Written++
		return nil
	}
	for f := range in {
		if ctx.Err() != nil && !r.stopping() {
			f.close()
			continue
		}
		t := time.Now()
		rep := last
		if rep == nil {
			rep = f.outs
		}
		var err error
		for range f.lost {
			if err = write(rep); err != nil {
				break
			}
		}
		if err == nil {
			err = write(f.outs)
		}
		if err != nil {
			f.close()
			r.fail(videoFatal{err}, cancel)
			continue
		}
		if f.failed != "" {
			r.sum.Failed++
			if r.sum.FirstFailure == "" {
				r.sum.FirstFailure = fmt.Sprintf("frame %d: %s", f.idx, f.failed)
			}
		}
		r.record(4, msSince(t))
		if r.o.Show != nil && len(f.outs) > 0 {
			r.o.Show(f.outs[0])
		}
		if r.live {
			r.mu.Lock()
			r.latency = append(r.latency, msSince(f.captured))
			r.mu.Unlock()
		}
		for _, m := range last {
			m.Close()
		}
		last, f.outs = f.outs, nil
		if r.o.Progress != nil {
			r.o.Progress(r.sum.Written, max(r.estimate, r.sum.Written))
		}
	}
}
