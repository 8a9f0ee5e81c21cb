package main

import (
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"

	"github.com/segtool/segtool/apply"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/jobs"
	"github.com/segtool/segtool/models"
	"github.com/urfave/cli/v2"
)

func applyCommand() *cli.Command {
	flags := slices.Concat([]cli.Flag{
		&cli.StringFlag{Name: "model", Usage: "ONNX model file"},
		&cli.StringFlag{Name: "preds", Usage: "instead of a model: a folder of saved predictions, <name>.png (8-bit grey, image size), e.g. eval's preds/"},
		&cli.StringFlag{Name: "in", Usage: "an image, a folder of images or video frames, a video (mp4, mkv, avi, mov, webm), camera:N, or an OpenCV capture string such as a GStreamer pipeline (required)"},
		&cli.StringFlag{Name: "out", Usage: "output folder, or a file name for one image or video and one effect (required)"},
		&cli.StringFlag{Name: "effect", Value: "blur", Usage: "blur, replace, cutout, matte, a comma list, or all (several: one sub-folder each)"},
		&cli.Float64Flag{Name: "sigma", DefaultText: "1% of the longer side", Usage: "blur: Gaussian sigma in pixels"},
		&cli.IntFlag{Name: "kernel", DefaultText: "2*ceil(3*sigma)+1", Usage: "blur: odd Gaussian kernel size"},
		&cli.BoolFlag{Name: "blur-fg-edge", Usage: "blur: normalise the blur by the background weight, so the subject's colour does not halo into the background"},
		&cli.StringFlag{Name: "bg", Usage: "replace: background image, or a folder of them used in turn (cover-fitted: scaled to cover, centred crop)"},
		&cli.Float64Flag{Name: "harmonize", Usage: "replace: 0..1, move the subject's colour statistics toward the background's (as composite does)"},
		&cli.BoolFlag{Name: "refine", Usage: "keep the soft prediction as alpha instead of thresholding it at 0.5"},
		&cli.IntFlag{Name: "feather", Usage: "soften the alpha's edge over about 2*PX+1 pixels (box filter), last"},
		&cli.BoolFlag{Name: "trimap-refine", Usage: "superpixel trimap of the mask; inside its unknown band, the alpha of a guided filter on the image"},
		&cli.IntFlag{Name: "guided-radius", DefaultText: "2% of the shorter side", Usage: "--trimap-refine: guided filter window radius in pixels"},
		&cli.Float64Flag{Name: "guided-eps", Value: apply.DefaultEps, Usage: "--trimap-refine: guided filter regularisation (colours in 0..1)"},
		&cli.StringFlag{Name: "temporal", Value: "none", Usage: "video and frames: filter the prediction over frames: none, ema:D (s = (1-D)*p + D*s_prev), uncertainty:R or ofd (one frame late)"},
		&cli.Float64Flag{Name: "temporal-ema", Usage: "the same as --temporal ema:D"},
		&cli.Float64Flag{Name: "fps", DefaultText: "the source's, else 25", Usage: "video: the output frame rate (image sequences, pipelines that report none)"},
		&cli.IntFlag{Name: "frames", Usage: "video: stop after N frames"},
		&cli.StringFlag{Name: "codec", DefaultText: "avc1, else mp4v, else MJPG (.avi: MJPG first)", Usage: "video: the FourCC to write with first, e.g. mp4v (cheaper to encode than avc1) or MJPG"},
		&cli.DurationFlag{Name: "duration", Usage: "video: stop after this long, e.g. 30s"},
		&cli.BoolFlag{Name: "show", Usage: "video: show the first effect in a window as it is made"},
		&cli.IntFlag{Name: "calls", DefaultText: "2 of half the cores each for a file on the CPU, else 1", Usage: "video: model calls at once, each on its own frame (a whole-frame model without state); with --threads unset each call gets cores/N threads"},
		&cli.StringFlag{Name: "tile", Usage: "refine at full resolution with tiles of SIZE or WxH image pixels (high-resolution photos; see --tile-mode)"},
		&cli.IntFlag{Name: "overlap", Value: 32, Usage: "tile overlap in pixels"},
		&cli.StringFlag{Name: "tile-mode", Value: string(models.TileContext), Usage: "with --tile: context (a whole-image pass, refined by tiles only where it is uncertain) or plain (tiles alone, which see no context: a tile of a shirt is no portrait)"},
		&cli.IntFlag{Name: "batch", Value: 1, Usage: "tiles per inference call (models with a dynamic batch dimension)"},
		&cli.BoolFlag{Name: "letterbox", Usage: "keep the aspect ratio and pad, instead of a plain resize to the model size"},
	}, deviceFlags(), []cli.Flag{
		&cli.IntFlag{Name: "jpeg-quality", Value: 95, Usage: "quality of .jpg outputs"},
		&cli.StringFlag{Name: "sheet", Usage: "also write a before/after contact sheet (.png or .jpg) of the first --sheet-rows images"},
		&cli.IntFlag{Name: "sheet-rows", Value: apply.DefaultSheetRows, Usage: "images on the contact sheet (a video: frames, evenly spaced, input above output)"},
		&cli.IntFlag{Name: "sheet-cell", Value: apply.DefaultSheetCell, Usage: "height of a contact-sheet panel in pixels"},
		&cli.BoolFlag{Name: "force", Usage: "replace existing outputs"},
	}, specFlags(), cudaFlags())
	return &cli.Command{
		Name:      "apply",
		Usage:     "blur or replace the background of your photos and videos, or cut the person out, with any segmentation model",
		UsageText: "segtool apply --model FILE.onnx --in PATH|DIR --out PATH|DIR [--effect blur|replace|cutout|matte|all] [options]\n   segtool apply --model FILE.onnx --in VIDEO|camera:N|PIPELINE --out VIDEO|DIR [--frames N] [--duration D] [--show] [options]\n   segtool apply --preds DIR --in DIR --out DIR [options]",
		Description: `Runs the model on each image (or each frame of a folder of video frames, in
name order: frame2 before frame10) and writes, per --effect:

  blur     a·I + (1 − a)·G(I): the background Gaussian-blurred (--sigma,
           --kernel). --blur-fg-edge blurs by normalised convolution,
           G((1 − a)·I) / G(1 − a), so the subject's colour does not bleed
           into the blurred background as a halo.
  replace  a·I + (1 − a)·B with B from --bg cover-fitted to the image (scaled
           to cover it, centred crop; a background of another aspect ratio
           is noted); --harmonize moves the subject's colours toward B's.
  cutout   an RGBA PNG: the image with alpha a.
  matte    the alpha as a grey PNG.

The alpha a is the prediction thresholded at 0.5, or with --refine the soft
prediction itself; --trimap-refine builds a superpixel trimap from the mask
(as segtool trimap does) and inside its unknown band takes the alpha from a
guided filter (He et al. 2010) of the mask on the image, which pulls the
edge onto hair and shoulders; --feather PX softens the edge last.
--temporal smooths the prediction across frames before all that: ema:D
is an exponential moving average, uncertainty:R MediaPipe's smoothing
(uncertain pixels lean on the past), ofd MODNet's one-frame delay
(--temporal-ema D is ema:D).

Video: with --in a video file (mp4, mkv, avi, mov, webm), camera:N (V4L2,
MJPG, a one-frame buffer), an image sequence (frames/img_%04d.png) or any
OpenCV capture string, a GStreamer pipeline included ('videotestsrc
is-live=true ! videoconvert ! appsink'), apply writes a video per effect
at the source's size and frame rate: --out FILE.mp4 for one effect, else
a folder with a sub-folder per effect. Video has no alpha channel, so
cutout writes the matte. Decoding, inference, the temporal filter, the
effects and encoding run as a pipeline of concurrent stages, frames in
order; every frame of a file is processed, and a frame the decoder loses
is replaced by the last result so the timing holds. From a live source
frames that come while the model is busy are dropped and counted;
--frames, --duration or Ctrl-C stop it and the file is finalised. The
codec is avc1, else mp4v, else MJPG (MJPG first for .avi; --codec picks one to try first). OpenCV writes
no audio. The summary gives frames/s and each stage's p50/p95 latency.
On the CPU a file's frames go through the model two at a time, each call
on half the cores (--calls, --threads), which keeps the cores busier than
one call on all of them; a live source has one call on every core, so the
newest frame waits least.

The model spec comes from --spec, a preset named like the file, or the model
itself, as for segtool eval; --tile and --overlap run high-resolution photos
in tiles so a 4000x3000 photo keeps its detail. Outputs keep the input's
name (blur and replace stay JPEG for JPEG inputs; cutout and matte are PNG);
with several effects each gets a sub-folder. --preds DIR takes the
prediction of each image from DIR/<name>.png instead of running a model
(eval --save-preds writes such a folder; so does any other tool). An
unreadable image is skipped with a message and the batch goes on; existing
outputs are not replaced without --force.

Examples:

   segtool apply --model SINet.onnx --in me.jpg --out me-blur.jpg
   segtool apply --model SINet.onnx --in photos/ --out out/ --effect all --bg beach.jpg --sheet out/sheet.png
   segtool apply --model SINet.onnx --in photos/ --out cut/ --effect cutout --trimap-refine
   segtool apply --model modnet.onnx --spec modnet --size 512x512 --in frames/ --out blurred/ --temporal-ema 0.5 --blur-fg-edge
   segtool apply --model prisma_nchw.onnx --in big.jpg --out big-bg.jpg --effect replace --bg office.jpg --tile 256 --overlap 32
   segtool apply --preds runs/sinet/preds --in ds/images --out look/ --effect all --bg beach.jpg --refine
   segtool apply --model SINet.onnx --in talk.mp4 --out talk-blur.mp4 --blur-fg-edge --temporal ema:0.5
   segtool apply --model SINet.onnx --in camera:0 --out cam.mp4 --show --duration 30s
   segtool apply --model SINet.onnx --in 'videotestsrc is-live=true ! videoconvert ! appsink' --out test.avi --frames 100`,
		Flags:  flags,
		Action: runApply,
	}
}

func runApply(c *cli.Context) error {
	if jobs.IsVideoSource(c.String("in")) && (c.IsSet("out") || c.Bool("show")) {
		return runApplyVideo(c) // --show alone is an output for video
	}
	if err := requireFlags(c, "in", "out"); err != nil {
		return err
	}
	if c.IsSet("model") == c.IsSet("preds") {
		return usageError("give exactly one of --model FILE and --preds DIR (see `%s --help`)", c.Command.HelpName)
	}
	effects, err := apply.ParseEffects(c.String("effect"))
	if err != nil {
		return usageError("--effect: %v", err)
	}
	o := jobs.ApplyOptions{
		MaxPixels: c.Int64("max-pixels"),
		In:        c.String("in"), Out: c.String("out"), Preds: c.String("preds"), Effects: effects,
		Blur:       apply.BlurOptions{Sigma: c.Float64("sigma"), Kernel: c.Int("kernel"), FgEdge: c.Bool("blur-fg-edge")},
		Background: c.String("bg"), Harmonize: c.Float64("harmonize"),
		Refine: apply.RefineOptions{Soft: c.Bool("refine"), Feather: c.Int("feather"), Trimap: c.Bool("trimap-refine"),
			Radius: c.Int("guided-radius"), Eps: c.Float64("guided-eps")},
		Workers: c.Int("workers"), Force: c.Bool("force"), JPEGQuality: c.Int("jpeg-quality"),
		Sheet: c.String("sheet"), SheetRows: c.Int("sheet-rows"), SheetCell: c.Int("sheet-cell"),
	}
	if o.Temporal, err = temporalFlags(c); err != nil {
		return err
	}
	if err := checkApplyFlags(c, o.Blur, o.Refine); err != nil {
		return err
	}
	switch {
	case o.JPEGQuality < 1 || o.JPEGQuality > 100:
		return usageError("--jpeg-quality must be 1..100, not %d", o.JPEGQuality)
	case o.SheetRows < 1:
		return usageError("--sheet-rows must be at least 1, not %d", o.SheetRows)
	case o.SheetCell < 16:
		return usageError("--sheet-cell must be at least 16 pixels, not %d", o.SheetCell)
	}
	// Usage errors about the inputs and outputs come before loading the model.
	if err := applyError(jobs.CheckApply(o)); err != nil {
		return err
	}

	log := logger(c)
	var pred apply.Model
	source := "saved predictions"
	if c.IsSet("model") {
		p, sess, err := openPredictor(c, log)
		if err != nil {
			return err
		}
		defer sess.Close()
		pred, source = p, sess.Provider
	}

	o.Report = func(it jobs.ApplyImage) {
		if it.Status == jobs.ApplySkipped {
			log.Warn("skipped", "image", it.Input, "reason", it.Reason)
		}
		for _, n := range it.Notes {
			log.Info("note", "image", it.Input, "note", n)
		}
	}
	var finish func()
	o.Progress, finish = progress(c, "apply")
	sum, err := jobs.Apply(c.Context, pred, o)
	finish()
	if err := applyError(err); err != nil {
		return err
	}
	printApplySummary(c, o, source, sum)
	if sum.Done == 0 {
		return cli.Exit(fmt.Sprintf("apply: none of the %d images could be processed", sum.Inputs), 1)
	}
	return nil
}

// checkApplyFlags checks the effect and refinement flags that images and
// video share.
func checkApplyFlags(c *cli.Context, b apply.BlurOptions, r apply.RefineOptions) error {
	switch {
	case b.Sigma < 0:
		return usageError("--sigma must be > 0, not %g", b.Sigma)
	case b.Kernel < 0 || b.Kernel > 0 && b.Kernel%2 == 0:
		return usageError("--kernel must be an odd size, not %d", b.Kernel)
	case r.Feather < 0:
		return usageError("--feather must be >= 0 pixels, not %d", r.Feather)
	case r.Radius < 0:
		return usageError("--guided-radius must be >= 1, not %d", r.Radius)
	case !(r.Eps > 0):
		return usageError("--guided-eps must be > 0, not %g", r.Eps)
	case c.Int("batch") < 1:
		return usageError("--batch must be at least 1, not %d", c.Int("batch"))
	}
	return nil
}

// openPredictor resolves the model spec, opens the session and wraps it
// in a predictor with the geometry flags. The caller closes the session.
func openPredictor(c *cli.Context, log *slog.Logger) (*models.Predictor, *models.Session, error) {
	return openPredictorWith(c, log, nil)
}

// openPredictorWith is openPredictor with tune, when not nil, called with
// the resolved spec to adjust the session options before the session
// opens (video picks its threads per call by the model's kind).
func openPredictorWith(c *cli.Context, log *slog.Logger, tune func(models.Spec, *models.SessionOptions)) (*models.Predictor, *models.Session, error) {
	so, err := sessionOptions(c)
	if err != nil {
		return nil, nil, err
	}
	model := c.String("model")
	spec, how, err := resolveSpec(c, model, true)
	if err != nil {
		return nil, nil, err
	}
	if tune != nil {
		tune(spec, &so)
	}
	fit, tile, err := geometry(c)
	if err != nil {
		return nil, nil, err
	}
	mode, err := tileMode(c, tile)
	if err != nil {
		return nil, nil, err
	}
	log.Info("model spec", "spec", spec.Name, "from", how)
	sess, err := models.Open(model, spec, so)
	if err != nil {
		return nil, nil, err
	}
	if sess.Fallback != "" {
		log.Warn("CUDA unavailable, running on the CPU", "reason", sess.Fallback)
	}
	p := models.NewPredictor(sess, fit, tile, c.Int("overlap"))
	p.Batch = c.Int("batch")
	p.TileMode = mode
	return p, sess, nil
}

// applyError maps apply's errors to what segtool prints: existing outputs
// are a usage error naming --out and --force (apply has no --resume); the
// rest as cliError maps them.
func applyError(err error) error {
	if errors.Is(err, dataset.ErrExists) {
		return usageError("--out: %v: pass --force to replace it", err)
	}
	return cliError(err)
}

func printApplySummary(c *cli.Context, o jobs.ApplyOptions, source string, s jobs.ApplySummary) {
	var names []string
	for _, e := range o.Effects {
		names = append(names, string(e))
	}
	wall := s.Elapsed.Seconds()
	perImage := func(sec float64) float64 { return 1000 * sec / float64(max(s.Done, 1)) }
	text := fmt.Sprintf("apply: %d of %d images done (%s), %d skipped, %d files written to %s in %.1f s: %.2f images/s, %.2f megapixels/s on %s; per image %.0f ms predicting, %.0f ms refining, %.0f ms making and writing effects.",
		s.Done, s.Inputs, strings.Join(names, ", "), s.Skipped, s.Files, o.Out, wall, float64(s.Done)/max(wall, 1e-9), s.Megapixels/max(wall, 1e-9),
		source, perImage(s.PredictS), perImage(s.RefineS), perImage(s.EffectS))
	if s.Ignored > 0 {
		text += fmt.Sprintf(" %d non-image files ignored.", s.Ignored)
	}
	if s.Preview != "" {
		text += " Contact sheet: " + filepath.Clean(s.Preview) + "."
	}
	// One name per number: results.json's names where it has the number
	// (wall_s, images_per_s, stage_mean_ms), the other jobs' files_written.
	summary(c, text, map[string]any{
		"command": "apply", "out": o.Out, "effects": names, "inputs": s.Inputs, "done": s.Done, "skipped": s.Skipped,
		"files_written": s.Files, "wall_s": wall, "images_per_s": float64(s.Done) / max(wall, 1e-9),
		"megapixels_per_s": s.Megapixels / max(wall, 1e-9), "sheet": s.Preview, "provider": source,
		"stage_mean_ms": map[string]float64{"predict": perImage(s.PredictS), "refine": perImage(s.RefineS), "effects": perImage(s.EffectS)},
	})
}
