package main

import (
	"errors"
	"fmt"
	"image"
	"strings"

	"github.com/segtool/segtool/augment"
	"github.com/segtool/segtool/jobs"
	"github.com/urfave/cli/v2"
)

// benchCommand groups the timing subcommands; each measures one part of
// segtool on this machine (models, augment pipelines, SLIC).
func benchCommand() *cli.Command {
	subs := []*cli.Command{benchModelCommand(), benchAugmentCommand(), benchSlicCommand(), benchVideoCommand()}
	names := subcommandNames(subs)
	return &cli.Command{
		Name:      "bench",
		Usage:     "time parts of segtool on this machine: " + strings.Join(names, ", "),
		UsageText: "segtool bench SUBCOMMAND [options]   (segtool bench --model FILE is bench model)",
		Description: `Each subcommand times one stage and prints images per second, so you can
tell where a run's time goes and what more cores buy.

   segtool bench --model unet_aspp.onnx --batch 1 --device cpu
   segtool bench augment --config imgaug-portrait
   segtool bench augment --config imgaug-portrait --dataset demo/ds`,
		Subcommands: subs,
		Flags:       benchModelFlags(),
		Action: func(c *cli.Context) error {
			if c.IsSet("model") {
				return runBenchModel(c)
			}
			return subcommandMissing(c, names)
		},
	}
}

func benchAugmentCommand() *cli.Command {
	return &cli.Command{
		Name:      "augment",
		Usage:     "images/s of an augmentation pipeline, whole and per top-level op",
		UsageText: "segtool bench augment --config FILE [--dataset DATASET | --size WxH] [-n 200] [--seed S]",
		Description: `Applies the pipeline -n times to one sample on one worker with OpenCV
single-threaded (as segtool augment runs each worker), and prints images/s
for the whole pipeline and for each top-level op, with its share of the
time. The sample is the first one of --dataset, or a synthetic portrait of
--size (default 512x512). An op with p < 1 is timed over every image,
including those it skipped.

With --dataset it also applies the pipeline -n times over up to n of the
dataset's samples, on one worker and on --workers (default: all cores), and
prints both rates: what parallel augmentation gains here. Decoding and
encoding files are not timed (segtool augment's summary reports the whole
run's rate).

Examples:

   segtool bench augment --config imgaug-portrait
   segtool bench augment --config matting-train --size 1024x1024 -n 50
   segtool --workers 8 bench augment --config imgaug-portrait --dataset demo/ds`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "config", Usage: "pipeline YAML file (required)"},
			&cli.StringFlag{Name: "dataset", Usage: "canonical dataset whose samples are augmented"},
			&cli.StringFlag{Name: "size", Usage: "synthetic portrait WxH, without --dataset (default 512x512)"},
			&cli.IntFlag{Name: "n", Value: 200, Usage: "images per timing"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed for the draws"},
		},
		Action: runBenchAugment,
	}
}

func runBenchAugment(c *cli.Context) error {
	if !c.IsSet("config") {
		return usageError("--config is required (see `segtool bench augment --help`)")
	}
	o := jobs.AugmentBenchOptions{Config: c.String("config"), Dataset: c.String("dataset"), N: c.Int("n"), Seed: c.Int64("seed"),
		Workers: c.Int("workers")}
	if c.IsSet("size") {
		if o.Dataset != "" {
			return usageError("--size and --dataset exclude each other: the dataset's samples have their own sizes")
		}
		var err error
		if o.Size, err = parseSize("size", c.String("size")); err != nil {
			return err
		}
	}
	if o.N < 1 {
		return usageError("-n must be at least 1, not %d", o.N)
	}
	rep, err := jobs.AugmentBench(c.Context, o)
	var ce *augment.ConfigError
	switch {
	case errors.As(err, &ce):
		return usageError("%v", err)
	case err != nil:
		return err // cliError names the flag of an option fault
	}
	if c.String("log-format") == "json" {
		steps := map[string]float64{}
		for _, s := range rep.Single.Steps {
			steps[s.Op] = s.ImagesPerSecond(rep.Single.Images)
		}
		fields := map[string]any{"command": "bench augment", "pipeline": rep.Pipeline, "sample": rep.Sample,
			"size": sizeString(rep.Size), "images": rep.Single.Images, "images_per_s": rep.Single.ImagesPerSecond(),
			"ops_images_per_s": steps}
		if t := rep.Dataset; t != nil {
			fields["dataset"] = map[string]any{"samples": t.Samples, "images": t.Images, "workers": t.Workers,
				"serial_images_per_s": t.SerialPerSecond(), "parallel_images_per_s": t.ParallelPerSecond()}
		}
		summary(c, "", fields)
		return nil
	}
	w := c.App.Writer
	r := rep.Single
	fmt.Fprintf(w, "bench augment: %s on %s (%s), %d images, 1 worker, OpenCV single-threaded\n\n",
		rep.Pipeline, rep.Sample, sizeString(rep.Size), r.Images)
	var rows [][]string
	for _, s := range r.Steps {
		share := 0.0
		if r.Total > 0 {
			share = 100 * s.Total.Seconds() / r.Total.Seconds()
		}
		rows = append(rows, []string{s.Op, fmt.Sprintf("%.1f", s.ImagesPerSecond(r.Images)),
			fmt.Sprintf("%.3f", 1000*s.Total.Seconds()/float64(r.Images)), fmt.Sprintf("%.0f%%", share)})
	}
	rows = append(rows, []string{"pipeline", fmt.Sprintf("%.1f", r.ImagesPerSecond()),
		fmt.Sprintf("%.3f", 1000*r.Total.Seconds()/float64(r.Images)), "100%"})
	table(w, []string{"op", "images/s", "ms/image", "share"}, rows)
	if t := rep.Dataset; t != nil {
		fmt.Fprintf(w, "\nall cores: %.1f images/s on %d workers over %d samples of %s (%.1f images/s on 1 worker, %.2fx)\n",
			t.ParallelPerSecond(), t.Workers, t.Samples, o.Dataset, t.SerialPerSecond(),
			t.ParallelPerSecond()/max(t.SerialPerSecond(), 1e-9))
	}
	return nil
}

func sizeString(p image.Point) string { return fmt.Sprintf("%dx%d", p.X, p.Y) }
