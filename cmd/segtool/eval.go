package main

import (
	"cmp"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/segtool/segtool/coco"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/temporal"
	"github.com/urfave/cli/v2"
)

func evalCommand() *cli.Command {
	return &cli.Command{
		Name:      "eval",
		Usage:     "benchmark an ONNX segmentation or matting model (or saved predictions) on a dataset: accuracy and speed",
		UsageText: "segtool eval --model FILE.onnx --dataset DATASET [--spec NAME|FILE] [--out runs/NAME] [options]\n   segtool eval --preds DIR|FILE.json --dataset DATASET [--out runs/NAME]",
		Description: `Runs the model on every sample of --split (default test) and scores its
prediction against the ground truth, resized back to the ground-truth size
first (OpenCV linear).

What is measured (results.json lists every metric with its definition):
  segmentation, on prediction > --threshold against the mask: iou (person),
    miou (mean of background and person IoU), dice, accuracy, precision,
    recall, f1, and boundary_iou (Cheng et al. 2021) and boundary_f (DAVIS);
    each both accumulated over the dataset (sum intersections and unions,
    then divide, as MMSegmentation does) and as the mean of per-image values;
    plus Dice and IoU at thresholds 0.05..0.95.
  matting, on the soft prediction against the alpha (the mask when there is
    none): mad (= L1), mse, sad, grad, conn (Deep Image Matting's evaluation
    code), and the same over the trimap's unknown region (*_unknown) when the
    dataset has trimaps.
  --metrics segmentation (or segmentation,boundary) leaves out the boundary
    and/or matting groups, which cost several times the segmentation pass.
  speed: per-image decode, preprocess, inference, postprocess and metrics ms;
    p50/p90/p99 latency, images/s, session creation, peak RSS; per session
    call p50/p90/p99 and images/s of call time; on CUDA peak GPU memory and
    utilisation (NVML).

The model spec (input name, NCHW/NHWC, size, batch, RGB/BGR, normalisation
x = ((p*scale - mean)/std)*post_scale, output kind) comes from --spec (a preset:
` + "`segtool models presets`" + `, or a YAML file like configs/models/*.yaml), else from a
preset whose name matches the file name, else is detected from the model's
inputs and outputs; the flags below override single fields.
` + "`segtool models inspect FILE`" + ` shows what would be used.

The run folder (--out, default runs/<model or preds name>) gets per_image.jsonl
(appended as images finish), per_image.csv, results.json (written atomically
at the end), run.json (what the run measures), and with --save-preds and
--save-overlays preds/<id>.png and overlays/<id>.jpg (image | truth |
prediction | error). --resume continues a killed run without redoing finished
images; an existing run is not replaced without --force.

Clip datasets (rows with clip and frame, e.g. from build-dataset --format
videomatte): each clip's frames run in frame order through the model (its
recurrent state, or its prior mask, carried from frame to frame) and
--temporal none|ema:D|uncertainty:R|ofd (--temporal-ema D is ema:D); clips
run in parallel. Besides the per-frame metrics, per_clip.csv gives each
clip's mad and mse (means over its frames, alpha in [0, 1]), dtssd
(RobustVideoMatting's dtSSD, x100, mean over frames t >= 1), flicker (the
share of pixels whose binarised prediction changes where the truth does
not) and iou and dice (over the clip's frames); results.json has dtssd and
flicker as means over clips. Shards take whole clips; --resume redoes a
clip that was cut short.

Instance models (output kind instances, e.g. --spec torchvision-maskrcnn) and
COCO results files (--preds FILE.json: image_id as segtool export --format coco
numbers the selection, category_id 1, score, bbox [x,y,w,h], segmentation as
RLE or polygons) get COCOeval's box and mask AP/AR (box_ap, box_ap50, ..,
mask_ar_l, equal to pycocotools; null where no object is in the area range),
per-image TP/FP/FN at IoU 0.5, and the metrics above on the union of the
detections scoring >= --score-threshold. --save-preds writes detections.json
(COCO results) instead of preds/.

An unreadable image, a missing or wrong-sized prediction and a NaN/Inf output
are per-image rows (status error / nonfinite) and never averaged in; a sample
without ground truth is skipped with a reason. --fail-fast stops at the first.

Examples:

   segtool eval --model unet_aspp.onnx --dataset ds
   segtool eval --model SINet.onnx --spec sinet --dataset p3m --split all --save-overlays
   segtool eval --model modnet.onnx --spec modnet --size 512x512 --dataset ds --letterbox
   segtool eval --model prisma_nchw.onnx --spec prisma --dataset ds --batch 4 --tile 256 --overlap 32
   segtool eval --preds torch_out/ --dataset ds --out runs/torch
   segtool eval --model big.onnx --dataset ds --out runs/big --resume     # after a kill
   segtool eval --model rvm.onnx --spec rvm --dataset clips --temporal ema:0.5 --out runs/rvm-ema   # a clip dataset
   segtool eval --model m.onnx --dataset ds --shard /8 --out runs/m-$JOB_COMPLETION_INDEX   # one of 8 machines

   segtool eval --model maskrcnn.onnx --spec torchvision-maskrcnn --dataset pennfudan --save-preds
   segtool eval --preds detections.json --dataset pennfudan --out runs/torch-maskrcnn`,
		Flags: slices.Concat([]cli.Flag{
			&cli.StringFlag{Name: "model", Usage: "ONNX model file"},
			&cli.StringFlag{Name: "preds", Usage: "folder of <id>.png predictions (8-bit matte or mask), or a COCO results file (.json), to score instead of a model"},
			&cli.StringFlag{Name: "dataset", Usage: "canonical dataset (required)"},
			&cli.StringFlag{Name: "split", Value: "test", Usage: "split(s) to score: test, val, train, a comma list, or all"},
			&cli.IntFlag{Name: "limit", Usage: "score only the first N samples of the selection"},
			&cli.StringFlag{Name: "shard", Usage: "score shard i of n (every n-th sample from the i-th, 0-based): i/n, or /n to take i from $JOB_COMPLETION_INDEX (Kubernetes Indexed Job) or $SLURM_ARRAY_TASK_ID; join the runs with segtool report merge"},
			&cli.StringFlag{Name: "out", DefaultText: "runs/<model or preds name>", Usage: "run folder"},
		}, specFlags(), deviceFlags(), []cli.Flag{
			&cli.IntFlag{Name: "batch", Value: 1, Usage: "images per inference call (models with a dynamic batch dimension)"},
			&cli.BoolFlag{Name: "letterbox", Usage: "keep the aspect ratio and pad, instead of a plain resize to the model size"},
			&cli.StringFlag{Name: "tile", Usage: "refine at full resolution with tiles of SIZE or WxH image pixels (see --tile-mode)"},
			&cli.IntFlag{Name: "overlap", Value: 32, Usage: "tile overlap in pixels"},
			&cli.StringFlag{Name: "tile-mode", Value: string(models.TileContext), Usage: "with --tile: context (a whole-image pass, refined by tiles only where it is uncertain) or plain (tiles alone, which see no context: a tile of a shirt is no portrait)"},
			&cli.Float64Flag{Name: "threshold", Value: 0.5, Usage: "binarise the prediction at this value for the segmentation metrics"},
			&cli.StringFlag{Name: "temporal", Value: "none", Usage: "clip datasets: filter each clip's predictions in frame order: none, ema:D (s = (1-D)*p + D*s_prev), uncertainty:R (MediaPipe's smoothing) or ofd (MODNet's one-frame delay)"},
			&cli.Float64Flag{Name: "temporal-ema", Usage: "same as --temporal ema:D"},
			&cli.Float64Flag{Name: "score-threshold", Value: eval.DefaultScoreThreshold, Usage: "instance runs: detections scoring at least this make the union mask the segmentation metrics score"},
			&cli.StringFlag{Name: "metrics", Value: "all", Usage: "metric groups to compute: all, or a comma list of segmentation (always), boundary, matting; fewer groups make a throughput run on a fast GPU cheaper"},
			&cli.IntFlag{Name: "warmup", Value: 1, Usage: "untimed inference calls before timing starts"},
			&cli.BoolFlag{Name: "save-preds", Usage: "write preds/<id>.png (8-bit); for an instance model detections.json (COCO results)"},
			&cli.BoolFlag{Name: "save-overlays", Usage: "write overlays/<id>.jpg panels"},
			&cli.BoolFlag{Name: "resume", Usage: "continue an interrupted run in --out"},
			&cli.BoolFlag{Name: "force", Usage: "replace an existing run in --out"},
			&cli.BoolFlag{Name: "fail-fast", Usage: "stop at the first per-image error"},
		}, cudaFlags()),
		Action: runEval,
	}
}

func runEval(c *cli.Context) error {
	if err := requireFlags(c, "dataset"); err != nil {
		return err
	}
	cfg := eval.Config{
		MaxPixels: c.Int64("max-pixels"),
		Dataset:   c.String("dataset"), Model: c.String("model"), Preds: c.String("preds"),
		Limit: c.Int("limit"), Batch: c.Int("batch"), Overlap: c.Int("overlap"),
		Metrics:   eval.DefaultOptions(),
		SavePreds: c.Bool("save-preds"), SaveOverlays: c.Bool("save-overlays"),
		Warmup: c.Int("warmup"), Workers: c.Int("workers"), FailFast: c.Bool("fail-fast"),
		Resume: c.Bool("resume"), Force: c.Bool("force"),
		Version: version, Commit: commit,
	}
	cfg.Metrics.Threshold = c.Float64("threshold")
	cfg.ScoreThreshold = c.Float64("score-threshold")
	skip, err := parseMetricGroups(c.String("metrics"))
	if err != nil {
		return err
	}
	cfg.Metrics.Skip = skip
	if cfg.Temporal, err = temporalFlags(c); err != nil {
		return err
	}
	if (cfg.Model == "") == (cfg.Preds == "") {
		return usageError("give exactly one of --model FILE and --preds DIR (see `%s --help`)", c.Command.HelpName)
	}
	if s := c.String("shard"); s != "" {
		sh, err := parseShard(s)
		if err != nil {
			return usageError("--shard: %v", err)
		}
		cfg.Shard = sh
	}
	if s := c.String("split"); s != "all" {
		cfg.Splits = strings.Split(s, ",")
	}
	name := cfg.Model
	if name == "" {
		name = cfg.Preds
	}
	cfg.Out = c.String("out")
	if cfg.Out == "" {
		cfg.Out = filepath.Join("runs", strings.TrimSuffix(filepath.Base(filepath.Clean(name)), ".onnx"))
		if cfg.Shard.Count > 1 {
			cfg.Out += fmt.Sprintf("-shard-%d-of-%d", cfg.Shard.Index, cfg.Shard.Count)
		}
	}
	if cfg.Model != "" {
		so, err := sessionOptions(c)
		if err != nil {
			return err
		}
		cfg.Session = so
		spec, how, err := resolveSpec(c, cfg.Model, true)
		if err != nil {
			return err
		}
		cfg.Spec = spec
		logger(c).Info("model spec", "spec", spec.Name, "from", how)
		if cfg.Fit, cfg.Tile, err = geometry(c); err != nil {
			return err
		}
		if cfg.TileMode, err = tileMode(c, cfg.Tile); err != nil {
			return err
		}
	}
	var finish func()
	cfg.Progress, finish = progress(c, "eval")
	res, err := eval.Run(c.Context, cfg)
	finish()
	var oe *dataset.OptionError
	switch {
	case errors.As(err, &oe) && oe.Field == "Splits": // eval's flag is --split, augment's --splits
		return usageError("--split: %v", oe.Err)
	case errors.Is(err, eval.ErrNothingScored):
		printEvalSummary(c, cfg, res) // then exit 1, saying why
		return err
	case err != nil:
		return err
	}
	printEvalSummary(c, cfg, res)
	return nil
}

// geometry reads --letterbox and --tile: how an image (or each tile of
// it) becomes model input.
func geometry(c *cli.Context) (models.Fit, image.Point, error) {
	fit := models.FitResize
	if c.Bool("letterbox") {
		fit = models.FitLetterbox
	}
	var tile image.Point
	if t := c.String("tile"); t != "" {
		p, err := parseTile(t)
		if err != nil {
			return fit, tile, usageError("--tile: %v", err)
		}
		tile = p
	}
	return fit, tile, nil
}

// tileMode reads --tile-mode, and warns when tiles run without context.
func tileMode(c *cli.Context, tile image.Point) (models.TileMode, error) {
	m, err := models.ParseTileMode(c.String("tile-mode"))
	if err != nil {
		return m, usageError("--tile-mode: %v", err)
	}
	if m == models.TilePlain && tile != (image.Point{}) {
		logger(c).Warn("--tile-mode plain: each tile is predicted without the rest of the image, so a portrait model can miss the person; --tile-mode context refines a whole-image prediction instead")
	}
	return m, nil
}

// parseShard reads --shard i/n, or /n (or n) with i from the job array's
// index variable.
func parseShard(s string) (eval.Shard, error) {
	is, ns, ok := strings.Cut(s, "/")
	if !ok {
		is, ns = "", s
	}
	n, err := strconv.Atoi(ns)
	if err != nil || n < 1 {
		return eval.Shard{}, fmt.Errorf("%q: want i/n with n >= 1", s)
	}
	if is == "" {
		for _, env := range []string{"JOB_COMPLETION_INDEX", "SLURM_ARRAY_TASK_ID"} {
			if v := os.Getenv(env); v != "" {
				is = v
				break
			}
		}
		if is == "" {
			return eval.Shard{}, fmt.Errorf("%q names no shard index and neither $JOB_COMPLETION_INDEX nor $SLURM_ARRAY_TASK_ID is set", s)
		}
	}
	i, err := strconv.Atoi(is)
	if err != nil || i < 0 || i >= n {
		return eval.Shard{}, fmt.Errorf("shard index %q: want 0 <= i < %d", is, n)
	}
	return eval.Shard{Index: i, Count: n}, nil
}

// parseTile reads --tile: SIZE or WxH.
func parseTile(s string) (image.Point, error) {
	if n, err := strconv.Atoi(s); err == nil {
		if n < 16 {
			return image.Point{}, fmt.Errorf("%d px is too small a tile", n)
		}
		return image.Pt(n, n), nil
	}
	return parseSize("tile", s)
}

// resolveSpec resolves model's spec from the flags (models.ResolveSpec);
// how says where it came from, for the log. With notes, each default the
// spec took is logged, naming the flag that changes it.
func resolveSpec(c *cli.Context, model string, notes bool) (models.Spec, string, error) {
	req, err := specRequest(c, model)
	if err != nil {
		return models.Spec{}, "", err
	}
	r, err := models.ResolveSpec(req)
	if err != nil {
		return models.Spec{}, "", err
	}
	if notes {
		log := logger(c)
		for _, d := range defaultNotes(r) {
			log.Warn(d)
		}
	}
	return r.Spec, specHow(r), nil
}

// defaultNotes says, one line per spec key that took models.Defaults,
// what was taken and the flag that changes it.
func defaultNotes(r models.Resolved) []string {
	s := r.Spec
	var notes []string
	for _, d := range []struct{ key, text string }{
		{"order", fmt.Sprintf("channel order %s; change it with --order BGR (models trained on OpenCV images)", s.Order)},
		{"scale", fmt.Sprintf("scale %g (x = p/255); change it with --scale 1 for a model fed 0..255", s.Scale)},
		{"mean", fmt.Sprintf("mean %s; change it with --mean, e.g. --mean 0.485,0.456,0.406 (ImageNet)", triple(s.Mean))},
		{"std", fmt.Sprintf("std %s; change it with --std, e.g. --std 0.229,0.224,0.225 (ImageNet)", triple(s.Std))},
		{"post_scale", fmt.Sprintf("post-scale %g; change it with --post-scale", s.PostScale)},
	} {
		if r.From[d.key] == models.FromDefault {
			notes = append(notes, "model spec default: "+d.text+"; or give --spec FILE (segtool models spec writes one)")
		}
	}
	return notes
}

// triple prints a per-channel value as a flag takes it: one number when
// all three are equal.
func triple(v [3]float32) string {
	if v[0] == v[1] && v[1] == v[2] {
		return fmt.Sprint(v[0])
	}
	return fmt.Sprintf("%g,%g,%g", v[0], v[1], v[2])
}

// specHow says where a resolved spec started from, naming the flag.
func specHow(r models.Resolved) string {
	switch r.Base {
	case models.FromFile, models.FromPreset:
		return "--spec " + r.BaseName
	case models.FromFileName:
		return "preset " + r.BaseName + " (matched by file name; --spec overrides)"
	}
	return "detected from the model"
}

// specRequest reads --spec, the spec overrides and --tile.
func specRequest(c *cli.Context, model string) (models.SpecRequest, error) {
	req := models.SpecRequest{Model: model, Spec: c.String("spec")}
	o := &req.Overrides
	if c.IsSet("input") {
		o.Input = ptr(c.String("input"))
	}
	if c.IsSet("output") {
		o.Output = ptr(c.String("output"))
	}
	if c.IsSet("layout") {
		o.Layout = ptr(models.Layout(strings.ToUpper(c.String("layout"))))
	}
	if c.IsSet("size") {
		p, err := parseSize("size", c.String("size"))
		if err != nil {
			return req, usageError("--size: %v", err)
		}
		o.Size = &p
	}
	if c.IsSet("order") {
		o.Order = ptr(strings.ToUpper(c.String("order")))
	}
	if c.IsSet("scale") {
		o.Scale = ptr(float32(c.Float64("scale")))
	}
	for _, f := range []struct {
		name string
		dst  **[3]float32
	}{{"mean", &o.Mean}, {"std", &o.Std}} {
		if !c.IsSet(f.name) {
			continue
		}
		v, err := parseTriple(c.String(f.name))
		if err != nil {
			return req, usageError("--%s: %v", f.name, err)
		}
		*f.dst = &v
	}
	if c.IsSet("post-scale") {
		o.PostScale = ptr(float32(c.Float64("post-scale")))
	}
	if c.IsSet("output-kind") {
		o.Kind = ptr(models.OutputKind(c.String("output-kind")))
	}
	if c.IsSet("foreground") {
		o.Foreground = ptr(c.Int("foreground"))
	}
	if c.IsSet("matte") {
		o.Matte = ptr(c.Bool("matte"))
	}
	if t := c.String("tile"); t != "" {
		p, err := parseTile(t)
		if err != nil {
			return req, usageError("--tile: %v", err)
		}
		req.Tile = p
	}
	return req, nil
}

func ptr[T any](v T) *T { return &v }

// parseTriple reads "a,b,c" or one number for all three channels.
func parseTriple(s string) ([3]float32, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 1 && len(parts) != 3 {
		return [3]float32{}, fmt.Errorf("%q: want one number or three, comma-separated", s)
	}
	var v [3]float32
	for i := range v {
		p := parts[min(i, len(parts)-1)]
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 32)
		if err != nil {
			return v, fmt.Errorf("%q: %v", p, err)
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return v, fmt.Errorf("%q is not a finite number", p)
		}
		v[i] = float32(f)
	}
	return v, nil
}

// parseMetricGroups reads --metrics into the groups to skip.
func parseMetricGroups(v string) ([]string, error) {
	if v == "all" || v == "" {
		return nil, nil
	}
	want := map[string]bool{}
	for _, g := range strings.Split(v, ",") {
		switch g = strings.TrimSpace(g); g {
		case eval.GroupSegmentation, eval.GroupBoundary, eval.GroupMatting:
			want[g] = true
		default:
			return nil, usageError("--metrics: %q, want all or a comma list of %s, %s, %s", g, eval.GroupSegmentation, eval.GroupBoundary, eval.GroupMatting)
		}
	}
	var skip []string
	for _, g := range []string{eval.GroupBoundary, eval.GroupMatting} {
		if !want[g] {
			skip = append(skip, g)
		}
	}
	return skip, nil
}

// summaryMetrics are the headline numbers of the summary table.
var summaryMetrics = []string{"iou", "miou", "dice", "boundary_iou", "boundary_f", "mad", "mse", "sad", "grad", "conn", "sad_unknown", "mse_unknown", "dtssd", "flicker"}

func printEvalSummary(c *cli.Context, cfg eval.Config, res *eval.Results) {
	t := res.Timing
	fields := map[string]any{"command": "eval", "out": cfg.Out, "counts": res.Counts, "images_per_s": t.Throughput}
	vals := map[string]eval.MetricSummary{}
	for _, m := range res.Metrics {
		vals[m.Name] = m
	}
	var rows [][]string
	for _, n := range summaryMetrics {
		m, ok := vals[n]
		if !ok || m.Mean == nil {
			continue
		}
		acc := "-"
		if m.Accumulated != nil {
			acc = fmt.Sprintf("%.4f", *m.Accumulated)
		}
		label := n
		if m.Group == eval.GroupVideo {
			label += " (mean over clips)" // and its count is of clips
		}
		rows = append(rows, []string{label, acc, fmt.Sprintf("%.4f", *m.Mean), strconv.Itoa(m.MeanImages)})
		// The names of results.json's values in report and the gate: the
		// bare name is the accumulated value where there is one, else the
		// mean; name_mean is always the mean of per-image values.
		fields[n] = *m.Mean
		if m.Accumulated != nil {
			fields[n] = *m.Accumulated
		}
		fields[n+"_mean"] = *m.Mean
	}
	text := fmt.Sprintf("eval: %d of %d images scored (%d errors, %d skipped, %d NaN/Inf, %d resumed) in %.1f s, %.2f images/s",
		res.Counts.Scored, res.Counts.Selected, res.Counts.Errors, res.Counts.Skipped, res.Counts.NonFinite, res.Counts.Resumed, t.WallS, t.Throughput)
	if res.Model != nil {
		dev := res.Environment.CPU
		if res.Environment.GPU != "" {
			dev = res.Environment.GPU
		}
		text += fmt.Sprintf("; inference p50 %.1f ms, p90 %.1f ms, p99 %.1f ms per image on %s (%s)",
			t.Inference.P50, t.Inference.P90, t.Inference.P99, res.Environment.Provider, dev)
		if t.Calls > 0 { // an instance model runs image by image, untimed per call
			text += fmt.Sprintf("; %d calls of batch %d, p50 %.1f ms, p99 %.1f ms per call, %.2f images/s of call time",
				t.Calls, res.Options.Batch, t.InferenceCall.P50, t.InferenceCall.P99, t.InferenceThroughput)
		}
		fields["inference_images_per_s"] = t.InferenceThroughput
		if t.GPU != nil {
			text += fmt.Sprintf("; peak GPU memory %.0f MiB, GPU utilisation %.0f%% mean", t.PeakGPUMemMiB, t.GPU.MeanUtilPct)
			fields["peak_gpu_mem_mib"], fields["gpu_util_mean_pct"] = t.PeakGPUMemMiB, t.GPU.MeanUtilPct
		}
	}
	if n := res.Counts.Clips; n > 0 {
		text += fmt.Sprintf("; %d clips (temporal %s), per clip in %s", n, cmp.Or(res.Options.Temporal, temporal.None), filepath.Join(cfg.Out, eval.PerClipFile))
	}
	var apRows [][]string
	if res.Instances != nil {
		var s string
		s, apRows = instanceSummary(res, fields)
		text += s
	}
	text += fmt.Sprintf("; peak RSS %.0f MiB. Results in %s.", t.PeakRSSMiB, filepath.Join(cfg.Out, eval.ResultsFile))
	if c.Bool("quiet") {
		return
	}
	if c.String("log-format") != "json" && len(rows) > 0 {
		table(c.App.Writer, []string{"metric", "accumulated (name)", "mean per image (name_mean)", "images"}, rows)
	}
	if c.String("log-format") != "json" && len(apRows) > 0 {
		table(c.App.Writer, []string{"COCO", "box_", "mask_"}, apRows)
	}
	summary(c, text, fields)
}

// instanceSummary returns an instance run's addition to the summary line
// and its AP table (box and mask side by side, "-" for a statistic
// pycocotools gives as -1); fields get every statistic by its metric name.
func instanceSummary(res *eval.Results, fields map[string]any) (string, [][]string) {
	vals := map[string]*float64{}
	for _, m := range res.Metrics {
		if m.Group == eval.GroupInstances {
			vals[m.Name] = m.Accumulated
			if m.Accumulated != nil {
				fields[m.Name] = *m.Accumulated
			} else {
				fields[m.Name] = nil
			}
		}
	}
	cell := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf("%.4f", *v)
	}
	var rows [][]string
	for _, n := range coco.StatNames {
		rows = append(rows, []string{n, cell(vals["box_"+n]), cell(vals["mask_"+n])})
	}
	in := res.Instances
	fields["detections"], fields["objects"] = in.Detections, in.Objects
	text := fmt.Sprintf("; %d detections of %d objects: mask AP %s, AP50 %s; at IoU 0.5 %d TP, %d FP, %d FN (masks)",
		in.Detections, in.Objects, cell(vals["mask_ap"]), cell(vals["mask_ap50"]), in.Mask.TP, in.Mask.FP, in.Mask.FN)
	if in.Clipped > 0 {
		text += fmt.Sprintf("; %d detections reached outside their image and were clipped", in.Clipped)
	}
	return text, rows
}
