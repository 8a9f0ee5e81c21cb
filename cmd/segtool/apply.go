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
		&cli.StringFlag{Name: "in", Usage: "an image, or a folder of images or video frames (required)"},
		&cli.StringFlag{Name: "out", Usage: "output folder, or a file name for one image and one effect (required)"},
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
		&cli.Float64Flag{Name: "temporal-ema", Usage: "frames: smooth the prediction over frames in name order, s = (1-d)*p + d*s_prev, with decay d in [0,1)"},
		&cli.StringFlag{Name: "tile", Usage: "refine at full resolution with tiles of SIZE or WxH image pixels (high-resolution photos; see --tile-mode)"},
		&cli.IntFlag{Name: "overlap", Value: 32, Usage: "tile overlap in pixels"},
		&cli.StringFlag{Name: "tile-mode", Value: string(models.TileContext), Usage: "with --tile: context (a whole-image pass, refined by tiles only where it is uncertain) or plain (tiles alone, which see no context: a tile of a shirt is no portrait)"},
		&cli.IntFlag{Name: "batch", Value: 1, Usage: "tiles per inference call (models with a dynamic batch dimension)"},
		&cli.BoolFlag{Name: "letterbox", Usage: "keep the aspect ratio and pad, instead of a plain resize to the model size"},
	}, deviceFlags(), []cli.Flag{
		&cli.IntFlag{Name: "jpeg-quality", Value: 95, Usage: "quality of .jpg outputs"},
		&cli.StringFlag{Name: "sheet", Usage: "also write a before/after contact sheet (.png or .jpg) of the first --sheet-rows images"},
		&cli.IntFlag{Name: "sheet-rows", Value: apply.DefaultSheetRows, Usage: "images on the contact sheet"},
		&cli.IntFlag{Name: "sheet-cell", Value: apply.DefaultSheetCell, Usage: "height of a contact-sheet panel in pixels"},
		&cli.BoolFlag{Name: "force", Usage: "replace existing outputs"},
	}, specFlags(), cudaFlags())
	return &cli.Command{
		Name:      "apply",
		Usage:     "blur or replace the background of your photos, or cut the person out, with any segmentation model",
		UsageText: "segtool apply --model FILE.onnx --in PATH|DIR --out PATH|DIR [--effect blur|replace|cutout|matte|all] [options]\n   segtool apply --preds DIR --in DIR --out DIR [options]",
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
--temporal-ema D smooths the prediction across frames before all that.

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
   segtool apply --preds runs/sinet/preds --in ds/images --out look/ --effect all --bg beach.jpg --refine`,
		Flags:  flags,
		Action: runApply,
	}
}

func runApply(c *cli.Context) error {
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
		TemporalEMA: c.Float64("temporal-ema"),
		Workers:     c.Int("workers"), Force: c.Bool("force"), JPEGQuality: c.Int("jpeg-quality"),
		Sheet: c.String("sheet"), SheetRows: c.Int("sheet-rows"), SheetCell: c.Int("sheet-cell"),
	}
	switch {
	case o.Blur.Sigma < 0:
		return usageError("--sigma must be > 0, not %g", o.Blur.Sigma)
	case o.Blur.Kernel < 0 || o.Blur.Kernel > 0 && o.Blur.Kernel%2 == 0:
		return usageError("--kernel must be an odd size, not %d", o.Blur.Kernel)
	case o.Refine.Feather < 0:
		return usageError("--feather must be >= 0 pixels, not %d", o.Refine.Feather)
	case o.Refine.Radius < 0:
		return usageError("--guided-radius must be >= 1, not %d", o.Refine.Radius)
	case !(o.Refine.Eps > 0):
		return usageError("--guided-eps must be > 0, not %g", o.Refine.Eps)
	case o.JPEGQuality < 1 || o.JPEGQuality > 100:
		return usageError("--jpeg-quality must be 1..100, not %d", o.JPEGQuality)
	case o.SheetRows < 1:
		return usageError("--sheet-rows must be at least 1, not %d", o.SheetRows)
	case o.SheetCell < 16:
		return usageError("--sheet-cell must be at least 16 pixels, not %d", o.SheetCell)
	case c.Int("batch") < 1:
		return usageError("--batch must be at least 1, not %d", c.Int("batch"))
	}
	if err := apply.CheckDecay(o.TemporalEMA); err != nil {
		return usageError("--temporal-ema: %v", err)
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

// openPredictor resolves the model spec, opens the session and wraps it
// in a predictor with the geometry flags. The caller closes the session.
func openPredictor(c *cli.Context, log *slog.Logger) (*models.Predictor, *models.Session, error) {
	so, err := sessionOptions(c)
	if err != nil {
		return nil, nil, err
	}
	model := c.String("model")
	spec, how, err := resolveSpec(c, model, true)
	if err != nil {
		return nil, nil, err
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
