package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/apply"
	"github.com/segtool/segtool/jobs"
	"github.com/segtool/segtool/models"
	"github.com/urfave/cli/v2"
)

// runApplyVideo is apply with a video file or a live source as --in.
func runApplyVideo(c *cli.Context) error {
	if c.IsSet("preds") {
		return usageError("--preds reads saved predictions of images; a video needs --model")
	}
	if err := requireFlags(c, "model"); err != nil {
		return err
	}
	if c.IsSet("tile") {
		return usageError("--tile is for images, not video")
	}
	o, err := videoOptions(c)
	if err != nil {
		return err
	}
	if c.Bool("show") {
		// highgui aborts the process without a display; say so instead.
		if os.Getenv("DISPLAY") == "" && os.Getenv("WAYLAND_DISPLAY") == "" {
			return usageError("--show needs a display (DISPLAY is not set); write --out FILE instead")
		}
		var closeShow func()
		o.Show, closeShow = showWindow("segtool apply")
		defer closeShow()
	}
	if err := applyError(jobs.CheckVideo(o)); err != nil {
		return err
	}
	log := logger(c)
	p, sess, err := openPredictorWith(c, log, videoCalls(c, &o))
	if err != nil {
		return err
	}
	defer sess.Close()
	var finish func()
	o.Progress, finish = progress(c, "apply")
	sum, err := jobs.Video(c.Context, videoModel(p), o)
	finish()
	return videoResult(c, o, sess, sum, err)
}

// videoModel is what jobs.Video runs: a stream for a model that carries
// state from frame to frame, else the predictor itself, whose steps the
// video pipeline runs on stages of their own.
func videoModel(p *models.Predictor) apply.Model {
	if p.Session.Spec.Stateful() {
		return p.NewStream()
	}
	return p
}

// videoCalls returns openPredictorWith's tune for a video run: it sets
// o.Calls from --calls, else jobs.VideoCalls's default for the source and
// device, and the session's threads per call from --threads, else the
// cores shared among the calls. A model with state makes one call at a
// time on every core (a video is never run in tiles: apply refuses --tile).
func videoCalls(c *cli.Context, o *jobs.VideoOptions) func(models.Spec, *models.SessionOptions) {
	return func(spec models.Spec, so *models.SessionOptions) {
		calls := jobs.VideoCalls(jobs.IsLiveSource(o.In), so.Device.Kind != "cuda", runtime.NumCPU())
		if c.IsSet("calls") {
			calls = c.Int("calls")
		}
		if spec.Stateful() {
			calls = 1
		}
		o.Calls = calls
		if calls > 1 && !c.IsSet("threads") {
			so.Threads = max(1, runtime.NumCPU()/calls)
		}
	}
}

// callsText says how the model ran: "1 model call at a time, 2 threads"
// or "2 model calls at once, 1 thread each".
func callsText(calls, threads int) string {
	t := fmt.Sprintf("%d thread", threads)
	if threads != 1 {
		t += "s"
	}
	if calls == 1 {
		return "1 model call at a time, " + t
	}
	return fmt.Sprintf("%d model calls at once, %s each", calls, t)
}

// checkCalls refuses a --calls outside 1 to the number of cores.
func checkCalls(c *cli.Context) error {
	if c.IsSet("calls") && (c.Int("calls") < 1 || c.Int("calls") > runtime.NumCPU()) {
		return usageError("--calls: %d: want 1 to %d (the cores)", c.Int("calls"), runtime.NumCPU())
	}
	return nil
}

// videoOptions reads the flags apply shares between images and video.
func videoOptions(c *cli.Context) (jobs.VideoOptions, error) {
	effects, err := apply.ParseEffects(c.String("effect"))
	if err != nil {
		return jobs.VideoOptions{}, usageError("--effect: %v", err)
	}
	o := jobs.VideoOptions{
		In: c.String("in"), Out: c.String("out"), Effects: effects,
		Blur:       apply.BlurOptions{Sigma: c.Float64("sigma"), Kernel: c.Int("kernel"), FgEdge: c.Bool("blur-fg-edge")},
		Background: c.String("bg"), Harmonize: c.Float64("harmonize"),
		Refine: apply.RefineOptions{Soft: c.Bool("refine"), Feather: c.Int("feather"), Trimap: c.Bool("trimap-refine"),
			Radius: c.Int("guided-radius"), Eps: c.Float64("guided-eps")},
		Codec: c.String("codec"), FPS: c.Float64("fps"), Frames: c.Int("frames"), Duration: c.Duration("duration"), Force: c.Bool("force"),
		Sheet: c.String("sheet"), SheetFrames: c.Int("sheet-rows"), SheetCell: c.Int("sheet-cell"),
	}
	if o.Temporal, err = temporalFlags(c); err != nil {
		return o, err
	}
	if err := checkCalls(c); err != nil {
		return o, err
	}
	if err := checkApplyFlags(c, o.Blur, o.Refine); err != nil {
		return o, err
	}
	return o, nil
}

// showWindow returns a Show callback drawing frames in a highgui window,
// and its closer. The window is made on the goroutine that draws.
func showWindow(title string) (func(gocv.Mat), func()) {
	var w *gocv.Window
	show := func(m gocv.Mat) {
		if w == nil {
			runtime.LockOSThread()
			w = gocv.NewWindow(title)
		}
		w.IMShow(m)
		w.WaitKey(1)
	}
	return show, func() {
		if w != nil {
			w.Close()
		}
	}
}

// videoResult prints the summary and maps the run's error: a source that
// cannot be opened or an encoder that cannot are failures (exit 1), a lost
// live source exits 1 saying what was written, and Ctrl-C ends a live run
// normally (the file is finalised) but interrupts a file's.
func videoResult(c *cli.Context, o jobs.VideoOptions, sess *models.Session, sum jobs.VideoSummary, err error) error {
	var oe *jobs.VideoOpenError
	var we *jobs.VideoWriterError
	switch {
	case errors.As(err, &oe), errors.As(err, &we):
		return cli.Exit("apply: "+err.Error(), 1)
	case errors.Is(err, jobs.ErrSourceLost):
		printVideoSummary(c, o, sess, sum)
		return cli.Exit(fmt.Sprintf("apply: %v; %d frames were written to %s", err, sum.Written, strings.Join(sum.Outputs, ", ")), 1)
	case errors.Is(err, context.Canceled) && sum.Written > 0:
		printVideoSummary(c, o, sess, sum)
		if sum.Live {
			return nil
		}
		return cli.Exit(fmt.Sprintf("apply: interrupted; the first %d frames were written to %s", sum.Written, strings.Join(sum.Outputs, ", ")), 130)
	case err != nil:
		return applyError(err)
	}
	printVideoSummary(c, o, sess, sum)
	return nil
}

func printVideoSummary(c *cli.Context, o jobs.VideoOptions, sess *models.Session, s jobs.VideoSummary) {
	var names []string
	for _, e := range o.Effects {
		names = append(names, string(e))
	}
	var outs []string
	for k, p := range s.Outputs {
		outs = append(outs, fmt.Sprintf("%s [%s]", filepath.Clean(p), s.Codecs[k]))
	}
	stages, stagesMS := videoStages(s)
	calls := max(o.Calls, 1)
	text := fmt.Sprintf("apply: %d frames written (%s) to %s, %dx%d at %g fps, in %.1f s: %.1f frames/s on %s (%s); per frame p50/p95 ms: %s.",
		s.Written, strings.Join(names, ", "), strings.Join(outs, ", "), s.Width, s.Height, s.FPS, s.Elapsed.Seconds(), s.FramesPerSecond(), sess.Provider, callsText(calls, sess.Threads),
		stages)
	if s.Live {
		text += fmt.Sprintf(" Live: capture to output p50/p95 %.0f/%.0f ms, %d of %d frames dropped while the model was busy.",
			s.Latency.P50MS, s.Latency.P95MS, s.Dropped, s.Decoded)
	}
	if s.Corrupt > 0 {
		text += fmt.Sprintf(" %d corrupt frames skipped (the last result repeated).", s.Corrupt)
	}
	if s.Failed > 0 {
		text += fmt.Sprintf(" %d frames failed to predict (the last prediction reused), first: %s.", s.Failed, s.FirstFailure)
	}
	if s.Preview != "" {
		text += fmt.Sprintf(" Before/after strip: %s.", s.Preview)
	}
	text += " No audio written (OpenCV writes none)."
	summary(c, text, map[string]any{
		"command": "apply", "source": s.Source, "live": s.Live, "outputs": s.Outputs, "codecs": s.Codecs, "effects": names,
		"width": s.Width, "height": s.Height, "fps": s.FPS, "decoded": s.Decoded, "written": s.Written, "corrupt": s.Corrupt,
		"failed": s.Failed, "dropped": s.Dropped, "wall_s": s.Elapsed.Seconds(), "frames_per_s": s.FramesPerSecond(), "provider": sess.Provider,
		"calls": calls, "threads": sess.Threads,
		"stages_ms":  stagesMS,
		"latency_ms": s.Latency, "audio": false, "sheet": s.Preview,
	})
}

// videoStages is each stage's per-frame p50/p95 in ms, as the summary's
// text says it and as its JSON's stages_ms.
func videoStages(s jobs.VideoSummary) (string, map[string]jobs.StageStats) {
	names := []string{"decode", "infer", "temporal", "effect", "encode"}
	stats := []jobs.StageStats{s.Decode, s.Infer, s.Temporal, s.Effect, s.Encode}
	parts := make([]string, len(names))
	byName := make(map[string]jobs.StageStats, len(names))
	for k, n := range names {
		parts[k] = fmt.Sprintf("%s %.1f/%.1f", n, stats[k].P50MS, stats[k].P95MS)
		byName[n] = stats[k]
	}
	return strings.Join(parts, ", "), byName
}
