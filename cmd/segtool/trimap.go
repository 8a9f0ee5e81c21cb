package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/jobs"
	"github.com/segtool/segtool/trimap"
	"github.com/urfave/cli/v2"
)

// Flags that only one --method reads.
var (
	superpixelFlags = []string{"superpixels", "region-size", "compactness", "iterations", "fg-thresh", "bg-thresh", "min-band", "max-band"}
	erodeFlags      = []string{"width", "width-range", "seed"}
)

func trimapCommand() *cli.Command {
	return &cli.Command{
		Name:      "trimap",
		Usage:     "build a trimap (0 / 128 / 255) for every sample of a dataset, from its alpha, mask or a model's predictions",
		UsageText: "segtool trimap --dataset DATASET [--method superpixel|erode] [--from alpha|mask|preds:DIR] [--out-dir trimaps] [--report] [options]",
		Description: `Writes OUT-DIR/<id>.png for every row of DATASET (0 background, 128 unknown,
255 foreground), puts its sha256 in the row's sha256 map and how it was made
(method, matte, options, widths drawn, superpixel count, flag) in
extra.trimap[OUT-DIR], and rewrites manifest.jsonl atomically. A row without
a trimap gets this one as its trimap; a row that has one (a human trimap from
build-dataset, say) keeps it, and the new one is recorded beside it.

--method superpixel (default) follows Gupta & Raman 2017: SLIC superpixels
(Achanta et al. 2012) that are not pure foreground or pure background become
unknown, plus a band of --min-band pixels around the 0.5 contour, so the
unknown region is wide in hair and thin along a clean shoulder.
--method erode is the trimap of matting training code (Deep Image Matting):
alpha == 255 and alpha == 0 eroded by an ellipse of --width pixels, or of a
random width per sample and per side drawn from --width-range with --seed.

--from picks the matte: alpha, mask, or preds:DIR (DIR/<id>.png, a model's
8-bit grey matte or mask: trimaps for automatic matting). Default: the
alpha where a row has one, else the mask.

A second run with the same options writes nothing: a row whose trimap exists
with the recorded sha256 and was made with the same options from the same
inputs is skipped. When --out-dir is where the rows' own trimaps are (the
default, trimaps), the run stops unless --force, since those are the reference
of --report; pick another --out-dir (e.g. trimaps-sp) to keep both.

--report prints, per sample and on average, the transition recall (share of
pixels with 0 < alpha < 255 that are unknown; against the row's alpha) and
the unknown-area ratio (unknown area / unknown area of the row's existing
trimap, the human one; recall only where a row has none), and writes
DATASET/trimap_report.json.

A missing or unreadable image or matte, or one of the wrong size, is a line
in rejects.jsonl and the row is left as it was. An all-zero (all-255) matte
gives an all-background (all-foreground) trimap, kept and flagged.
Samples run on --workers cores; the same options give the same bytes
whatever --workers.

Examples:

   segtool trimap --dataset ds                                  # superpixel trimaps in ds/trimaps
   segtool trimap --dataset dim --out-dir trimaps-sp --report   # compare with the human trimaps
   segtool trimap --dataset ds --method erode --width-range 1,30 --seed 3 --out-dir trimaps-train
   segtool trimap --dataset ds --from preds:runs/modnet/ds --out-dir trimaps-auto
   segtool trimap --dataset ds --superpixels 2000 --compactness 20 --max-band 40
   segtool trimap --dataset dim --force                         # replace the human trimaps`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dataset", Usage: "canonical dataset to update (required)"},
			&cli.StringFlag{Name: "method", Value: jobs.TrimapMethodSuperpixel, Usage: "superpixel or erode"},
			&cli.StringFlag{Name: "from", Usage: "matte: alpha, mask or preds:DIR (default: the alpha where a row has one, else the mask)"},
			&cli.StringFlag{Name: "out-dir", Value: jobs.TrimapDefaultOutDir, Usage: "folder inside the dataset for <id>.png"},
			&cli.IntFlag{Name: "superpixels", DefaultText: "one per 400 pixels, at most 5000", Usage: "SLIC superpixel count N"},
			&cli.IntFlag{Name: "region-size", DefaultText: "off", Usage: "SLIC grid step S in pixels, instead of --superpixels"},
			&cli.Float64Flag{Name: "compactness", Value: trimap.DefaultCompactness, Usage: "SLIC compactness m: larger gives more regular superpixels"},
			&cli.IntFlag{Name: "iterations", Value: trimap.DefaultIterations, Usage: "SLIC iterations"},
			&cli.Float64Flag{Name: "fg-thresh", Value: trimap.DefaultFGThresh, Usage: "a superpixel is foreground when its mean alpha (0..1) is at least this and no pixel is below 0.5"},
			&cli.Float64Flag{Name: "bg-thresh", Value: trimap.DefaultBGThresh, Usage: "a superpixel is background when its mean alpha is at most this and no pixel is above 0.5"},
			&cli.IntFlag{Name: "min-band", Value: trimap.DefaultMinBand, Usage: "pixels either side of the 0.5 contour always unknown (0: no band)"},
			&cli.IntFlag{Name: "max-band", DefaultText: "0, no cap", Usage: "resolve unknown pixels farther than this from the contour and from soft alpha"},
			&cli.IntFlag{Name: "width", Value: trimap.DefaultMorphWidth, Usage: "erode: erosion width in pixels, both sides"},
			&cli.StringFlag{Name: "width-range", Usage: "erode: lo,hi: a random width per sample and per side (e.g. 1,30)"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "erode: seed of the random widths"},
			&cli.BoolFlag{Name: "report", Usage: "print transition recall and unknown-area ratio per sample; write trimap_report.json"},
			&cli.BoolFlag{Name: "force", Usage: "let --out-dir replace the rows' existing trimaps"},
		},
		Action: runTrimap,
	}
}

// parseWidthRange reads --width-range lo,hi.
func parseWidthRange(s string) (lo, hi int, err error) {
	if scanPair(s, "%d", &lo, &hi) && lo >= 0 && lo <= hi && hi <= 1000 && fmt.Sprintf("%d,%d", lo, hi) == strings.ReplaceAll(s, " ", "") {
		return lo, hi, nil
	}
	return 0, 0, usageError("--width-range must be lo,hi with 0 <= lo <= hi (e.g. 1,30), not %q", s)
}

// trimapOptions turns the flags into jobs.TrimapOptions.
func trimapOptions(c *cli.Context) (jobs.TrimapOptions, error) {
	o := jobs.TrimapOptions{MaxPixels: c.Int64("max-pixels"), Dataset: c.String("dataset"), Method: c.String("method"), From: c.String("from"),
		OutDir: c.String("out-dir"), Report: c.Bool("report"), Force: c.Bool("force"), Workers: c.Int("workers")}
	var other []string
	switch o.Method {
	case jobs.TrimapMethodSuperpixel:
		other = erodeFlags
	case jobs.TrimapMethodErode:
		other = superpixelFlags
	default:
		return o, usageError("--method must be superpixel or erode, not %q", o.Method)
	}
	for _, f := range other {
		if c.IsSet(f) {
			return o, usageError("--%s does not apply to --method %s", f, o.Method)
		}
	}
	if f := o.From; f != "" && f != jobs.TrimapFromAlpha && f != jobs.TrimapFromMask && !strings.HasPrefix(f, jobs.TrimapPredsPrefix) {
		return o, usageError("--from must be alpha, mask or preds:DIR, not %q", f)
	}
	if o.Method == jobs.TrimapMethodErode {
		if c.IsSet("width") && c.IsSet("width-range") {
			return o, usageError("--width and --width-range exclude each other")
		}
		if c.IsSet("width-range") {
			lo, hi, err := parseWidthRange(c.String("width-range"))
			if err != nil {
				return o, err
			}
			o.Morph = trimap.MorphOptions{MinWidth: lo, MaxWidth: hi, Seed: uint64(c.Int64("seed"))}
		} else if c.IsSet("seed") {
			return o, usageError("--seed draws the widths of --width-range; with a fixed --width it does nothing")
		} else if o.Morph.Width = c.Int("width"); o.Morph.Width < 0 {
			return o, usageError("--width must be >= 0, not %d", o.Morph.Width)
		}
		return o, nil
	}
	sp := trimap.SuperpixelOptions{FGThresh: c.Float64("fg-thresh"), BGThresh: c.Float64("bg-thresh"), MaxBand: c.Int("max-band"),
		SLIC: trimap.SLICOptions{Compactness: c.Float64("compactness"), Iterations: c.Int("iterations")}}
	switch {
	case c.IsSet("superpixels") && c.IsSet("region-size"):
		return o, usageError("--superpixels and --region-size exclude each other")
	case c.IsSet("superpixels") && c.Int("superpixels") < 1:
		return o, usageError("--superpixels must be at least 1 and at most an image's pixel count, not %d", c.Int("superpixels"))
	case c.IsSet("region-size") && c.Int("region-size") < 1:
		return o, usageError("--region-size must be at least 1 pixel, not %d", c.Int("region-size"))
	case !(sp.SLIC.Compactness > 0) || sp.SLIC.Compactness > 1e6:
		return o, usageError("--compactness must be > 0, not %g", sp.SLIC.Compactness)
	case sp.SLIC.Iterations < 1:
		return o, usageError("--iterations must be at least 1, not %d", sp.SLIC.Iterations)
	case !(sp.FGThresh > 0 && sp.FGThresh <= 1):
		return o, usageError("--fg-thresh must be in (0, 1], not %g", sp.FGThresh)
	case !(sp.BGThresh >= 0 && sp.BGThresh < sp.FGThresh):
		return o, usageError("--bg-thresh must be in [0, --fg-thresh), not %g", sp.BGThresh)
	case c.Int("min-band") < 0:
		return o, usageError("--min-band must be >= 0 (0: no band), not %d", c.Int("min-band"))
	case sp.MaxBand < 0:
		return o, usageError("--max-band must be >= 0 (0: no cap), not %d", sp.MaxBand)
	}
	sp.SLIC.Superpixels, sp.SLIC.RegionSize = c.Int("superpixels"), c.Int("region-size")
	if sp.MinBand = c.Int("min-band"); sp.MinBand == 0 {
		sp.MinBand = -1 // the library's 0 is the default band
	}
	o.Superpixel = sp
	return o, nil
}

func runTrimap(c *cli.Context) error {
	if err := requireFlags(c, "dataset"); err != nil {
		return err
	}
	o, err := trimapOptions(c)
	if err != nil {
		return err
	}
	var finish func()
	o.Progress, finish = progress(c, "trimap")
	sum, err := jobs.Trimap(c.Context, o)
	finish()
	var oe *dataset.OptionError
	switch {
	case errors.Is(err, jobs.ErrTrimapWouldOverwrite) && errors.As(err, &oe):
		return usageError("%s: %v, the reference for --report; write to another --out-dir (e.g. %s-sp) to keep them, or pass --force to replace them",
			flagOf(oe.Field), oe.Err, sum.OutDir)
	case err != nil && !errors.Is(err, jobs.ErrNoTrimaps):
		return err
	}
	warnRejects(c, "samples", sum.Tally, o.Dataset)
	if sum.Report != nil && !c.Bool("quiet") && c.String("log-format") != "json" {
		printTrimapReport(c, sum.Report)
	}
	printTrimapSummary(c, sum)
	return err
}

func printTrimapReport(c *cli.Context, r *jobs.TrimapReport) {
	ratio := func(v *float64) string {
		if v == nil {
			return "-"
		}
		return fmt.Sprintf("%.3f", *v)
	}
	var rows [][]string
	for _, q := range r.Samples {
		ref := q.Reference
		if ref == "" {
			ref = "(none)"
		}
		if q.Note != "" {
			ref += " (" + q.Note + ")"
		}
		rows = append(rows, []string{q.ID, fmt.Sprintf("%.4f", q.TransitionRecall), ratio(q.UnknownAreaRatio),
			fmt.Sprint(q.Transition), fmt.Sprint(q.Unknown), ref})
	}
	rows = append(rows, []string{fmt.Sprintf("mean (%d)", r.Mean.Samples), fmt.Sprintf("%.4f", r.Mean.TransitionRecall),
		ratio(r.Mean.UnknownAreaRatio), "", "", fmt.Sprintf("%d with a reference", r.Mean.WithRatio)})
	table(c.App.Writer, []string{"sample", "recall", "area ratio", "transition px", "unknown px", "reference"}, rows)
	fmt.Fprintln(c.App.Writer)
}

func printTrimapSummary(c *cli.Context, s jobs.TrimapSummary) {
	changed := "unchanged"
	if s.ManifestChanged {
		changed = "rewritten"
	}
	from := countList(s.From)
	if from == "" {
		from = "no usable matte"
	}
	text := fmt.Sprintf("trimap: %d samples of %s, %s trimaps in %s/ (from %s): %d made (%d files written), %d up to date; %d rejected, %d kept but flagged; manifest %s; %.1fs",
		s.Samples, s.Out, s.Method, s.OutDir, from, s.Made, s.Written, s.Reused, s.Rejects, s.Flagged,
		changed, s.Elapsed.Seconds())
	if s.Made > 0 {
		text += fmt.Sprintf(", %.1f images/s", s.ImagesPerSecond())
	}
	text += "."
	text += rejectReasons(s.RejectCodes)
	fields := map[string]any{
		"command": "trimap", "dataset": s.Out, "method": s.Method, "out_dir": s.OutDir, "samples": s.Samples,
		"from": s.From, "made": s.Made, "files_written": s.Written, "reused": s.Reused, "rejects": s.Rejects,
		"flagged": s.Flagged, "reject_codes": s.RejectCodes, "manifest_changed": s.ManifestChanged,
		"wall_s": s.Elapsed.Seconds(), "images_per_s": s.ImagesPerSecond(),
	}
	if r := s.Report; r != nil {
		text += fmt.Sprintf(" Mean transition recall %.4f", r.Mean.TransitionRecall)
		if m := r.Mean.UnknownAreaRatio; m != nil {
			text += fmt.Sprintf(", mean unknown-area ratio %.3f over %d samples with a reference", *m, r.Mean.WithRatio)
		}
		text += "; report in " + s.ReportPath + "."
		fields["report"] = r
		fields["report_path"] = s.ReportPath
	}
	summary(c, text, fields)
}
