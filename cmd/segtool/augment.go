package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/segtool/segtool/augment"
	"github.com/segtool/segtool/configs"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/jobs"
	"github.com/urfave/cli/v2"
)

// previewOnlyCopies is the copies per sheet row when only previewing and
// --copies is not given.
const previewOnlyCopies = 3

func augmentCommand() *cli.Command {
	return &cli.Command{
		Name:      "augment",
		Usage:     "write N augmented copies of each sample of a canonical dataset, from a YAML pipeline",
		UsageText: "segtool augment --config FILE|PRESET --dataset DATASET --out DATASET2 [--copies N] [--seed S] [--splits train] [options]\nsegtool augment --check FILE|PRESET\nsegtool augment --list",
		Description: `Applies the augmentation pipeline in --config to every sample of --dataset
in the chosen --splits and writes --copies augmented copies of each as a new
canonical dataset: images/ (JPEG sources stay JPEG, at --jpeg-quality),
masks/, alphas/ and trimaps/ as PNG where the source has them,
manifest.jsonl, dataset.json and rejects.jsonl. Geometric ops move image,
mask, alpha and trimap together; masks stay strictly 0/255.

--config is a pipeline file, or the name of a built-in preset (--list shows
them; a file of that name in the current folder wins), so
--config imgaug-portrait works from any folder. Their sources are in the
repository's configs/augment/.

A pipeline is a YAML list of ops, each applied with probability p (default
1), for example:

   description: flips and small rotations
   ops:
     - fliplr: {p: 0.5}
     - rotate: {p: 0.5, angle: [-15, 15], border: constant, fill: 0}
     - some_of:
         n: [0, 2]
         ops: [{gaussian_blur: {sigma: [0, 1.5]}}, {gamma: {gamma: [0.7, 1.4]}}]

A value is a constant, [lo, hi] (drawn uniformly), or a list of three or
more values or {choice: [a, b]} (one of them, drawn).

An unknown op or parameter, lo > hi, an even or negative kernel, or a
probability outside [0, 1] is an error naming the file, line and op, and
nothing is written (exit 2). --check FILE only validates a pipeline.

Copy k of sample <id> is <id>_a<k>, in the source's split, with parent =
<id>, the source's source paths, fg_fraction recomputed and extra.augment =
the ops that ran with the parameters they drew. Every draw depends only on
(--seed, id, k): the same command gives the same bytes whatever --workers.
Instance ids and boxes (Penn-Fudan) are not carried over to copies.
--include-originals also copies the sources under their own ids, byte for
byte. A source file that cannot be read becomes a line in rejects.jsonl and
never stops the run unless --fail-fast.

--preview K draws a contact sheet: K samples spread over the selection,
each beside its first copies (up to 4) with the mask outline in green, to
<out>/preview.png or --preview-out FILE. Without --out, --preview K
--preview-out FILE draws only the sheet (3 copies unless --copies) and
writes no dataset: a quick look at a pipeline before a long run.

Examples:

   segtool augment --list                                      # the built-in presets
   segtool augment --check imgaug-portrait
   segtool augment --config imgaug-portrait --dataset demo/ds \
      --preview 8 --preview-out sheet.png                      # look before you run
   segtool augment --config imgaug-portrait --dataset demo/ds \
      --out demo/aug --copies 4 --seed 1 --splits train --include-originals
   segtool augment --config matting-train --dataset aiseg \
      --out aiseg-crops --copies 8 --preview 6
   segtool augment --config my.yaml --dataset ds --out aug --copies 4 --resume   # continue an interrupted run`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "pipeline YAML file, or a built-in preset's name (required; see --list)"},
			&cli.StringFlag{Name: "check", Usage: `validate the pipeline FILE or preset and exit: "ok: N ops", or exit 2 naming the file, line and op`},
			&cli.BoolFlag{Name: "list", Usage: "print the names of the built-in presets and exit: " + strings.Join(configs.AugmentPresets(), ", ")},
			&cli.StringFlag{Name: "dataset", Usage: "canonical dataset to augment (required)"},
			&cli.StringFlag{Name: "out", Usage: "dataset folder to write (required unless --preview K --preview-out FILE)"},
			nameFlag(),
			&cli.IntFlag{Name: "copies", Value: 1, Usage: "augmented copies per sample"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed for every draw"},
			&cli.StringFlag{Name: "splits", Usage: "comma-separated splits to augment, e.g. train (default: all)"},
			&cli.BoolFlag{Name: "include-originals", Usage: "also copy each selected source sample, byte for byte, under its own id"},
			jpegQualityFlag(),
			&cli.IntFlag{Name: "preview", Usage: "draw a contact sheet of K samples and their copies"},
			&cli.StringFlag{Name: "preview-out", Usage: "write the sheet to FILE instead of <out>/preview.png"},
		}, outputFlags("samples", "sample")...),
		Action: runAugment,
	}
}

// configError turns a pipeline error into a usage error (exit 2): a
// ConfigError already names the file, the line and the op.
func configError(flag string, err error) error {
	var ce *augment.ConfigError
	if errors.As(err, &ce) {
		return usageError("%v", err)
	}
	return usageError("--%s: %v", flag, err)
}

// parseSplits reads --splits train,val.
func parseSplits(s string) ([]string, error) {
	var out []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" {
			continue
		}
		if !slices.Contains(dataset.SplitNames(), p) {
			return nil, usageError("--splits: unknown split %q (want a comma-separated list of %s)", p, strings.Join(dataset.SplitNames(), ", "))
		}
		out = append(out, p)
	}
	return out, nil
}

func runAugment(c *cli.Context) error {
	if c.Bool("list") {
		for _, n := range configs.AugmentPresets() {
			fmt.Fprintln(c.App.Writer, n)
		}
		return nil
	}
	if c.IsSet("check") {
		p, err := jobs.AugmentPipeline(c.String("check"))
		var oe *dataset.OptionError
		if errors.As(err, &oe) {
			err = oe.Err // the fault is in --check's FILE, not in --config
		}
		if err != nil {
			return configError("check", err)
		}
		summary(c, fmt.Sprintf("ok: %d ops (%s) in %s", len(p.Ops()), strings.Join(p.Ops(), ", "), c.String("check")),
			map[string]any{"command": "augment --check", "config": c.String("check"), "ops": p.Ops()})
		return nil
	}
	if err := requireFlags(c, "config", "dataset"); err != nil {
		return err
	}
	o := jobs.AugmentOptions{
		Config: c.String("config"), Dataset: c.String("dataset"), Out: c.String("out"), Name: c.String("name"), Version: version,
		Copies: c.Int("copies"), Seed: c.Int64("seed"), IncludeOriginals: c.Bool("include-originals"),
		JPEGQuality: c.Int("jpeg-quality"), Preview: c.Int("preview"), PreviewOut: c.String("preview-out"),
		RunOptions: runOptions(c),
	}
	previewOnly := !c.IsSet("out")
	switch {
	case previewOnly && (o.Preview <= 0 || o.PreviewOut == ""):
		return usageError("--out is required, unless you only want a contact sheet: --preview K --preview-out FILE (see `segtool augment --help`)")
	case o.Copies < 1:
		return usageError("--copies must be at least 1, not %d", o.Copies)
	case o.JPEGQuality < 1 || o.JPEGQuality > 100:
		return usageError("--jpeg-quality must be 1..100, not %d", o.JPEGQuality)
	case o.Preview < 0:
		return usageError("--preview must be a count >= 0, not %d", o.Preview)
	case o.PreviewOut != "" && o.Preview == 0:
		return usageError("--preview-out needs --preview K (the number of samples on the sheet)")
	case o.Force && o.Resume:
		return usageError("--force and --resume exclude each other")
	}
	if previewOnly && !c.IsSet("copies") {
		o.Copies = previewOnlyCopies
	}
	var err error
	if o.Splits, err = parseSplits(c.String("splits")); err != nil {
		return err
	}
	var finish func()
	if !previewOnly {
		o.Progress, finish = progress(c, "augment")
	} else {
		finish = func() {}
	}
	sum, err := jobs.Augment(c.Context, o)
	finish()
	var ce *augment.ConfigError
	switch {
	case errors.As(err, &ce):
		return usageError("%v", err)
	case err != nil && !errors.Is(err, jobs.ErrAugmentNoSamples):
		return err // cliError names the flag of an option fault
	}
	if previewOnly {
		summary(c, fmt.Sprintf("augment: contact sheet of %d samples, each with %d copies (%s), written to %s; no dataset written.",
			min(o.Preview, sum.Selected), min(o.Copies, jobs.AugmentMaxPreviewCopies), sum.Pipeline, sum.Preview),
			map[string]any{"command": "augment", "preview": sum.Preview, "pipeline": sum.Pipeline, "selected": sum.Selected})
		return nil
	}
	warnRejects(c, "samples", sum.Tally, o.Out)
	printAugmentSummary(c, o, sum)
	return err
}

func printAugmentSummary(c *cli.Context, o jobs.AugmentOptions, s jobs.AugmentSummary) {
	splits := "all splits"
	if len(o.Splits) > 0 {
		splits = strings.Join(o.Splits, ", ")
	}
	copies := fmt.Sprintf("%d copies", o.Copies)
	if o.Copies == 1 {
		copies = "1 copy"
	}
	text := fmt.Sprintf("augment: %d of %d planned samples (%s of each of %d samples in %s of %s, %s%s) in %s (%s); %d rejected, %d kept but flagged; %d files written, %d samples reused; %.1fs, %.1f samples/s.",
		s.Samples, s.Planned, copies, s.Selected, splits, o.Dataset, s.Pipeline, map[bool]string{true: ", plus originals"}[o.IncludeOriginals],
		s.Out, splitCounts(s.Counts), s.Rejects, s.Flagged, s.Files, s.Reused,
		s.Elapsed.Seconds(), float64(s.Planned)/max(s.Elapsed.Seconds(), 1e-9))
	text += rejectReasons(s.RejectCodes)
	if len(s.Applied) > 0 {
		text += " Ops applied: " + countList(s.Applied) + "."
	}
	if s.Dropped > 0 {
		text += fmt.Sprintf(" %d copies lack their parent's instance ids and boxes, which augmentation does not transform.", s.Dropped)
	}
	if s.Preview != "" {
		text += " Preview: " + s.Preview + "."
	}
	summary(c, text, map[string]any{
		"command": "augment", "out": s.Out, "dataset": o.Dataset, "pipeline": s.Pipeline, "ops": s.Ops, "copies": o.Copies,
		"selected": s.Selected, "planned": s.Planned, "samples": s.Samples, "originals": s.Originals, "splits": s.Counts,
		"rejects": s.Rejects, "flagged": s.Flagged, "reject_codes": s.RejectCodes, "applied": s.Applied, "dropped": s.Dropped,
		"files_written": s.Files, "reused": s.Reused, "preview": s.Preview, "wall_s": s.Elapsed.Seconds(),
		"samples_per_s": float64(s.Planned) / max(s.Elapsed.Seconds(), 1e-9),
	})
}
