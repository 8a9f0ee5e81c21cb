package main

import (
	"errors"
	"fmt"
	"image"
	"strings"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/jobs"
	"github.com/urfave/cli/v2"
)

func buildDatasetCommand() *cli.Command {
	var formats []string
	for _, f := range dataset.Formats() {
		formats = append(formats, fmt.Sprintf("   %-13s %s", f.Name(), f.Recognise()))
	}
	return &cli.Command{
		Name:      "build-dataset",
		Usage:     "turn a raw PFCN, AISegment, Penn-Fudan, plain-folder or video-clip download into a canonical dataset",
		UsageText: "segtool build-dataset --src DIR --out DATASET [--format auto] [options]",
		Description: `Reads a raw source layout, checks every sample, and writes the canonical
dataset (images/, masks/, alphas/, instances/, manifest.jsonl, dataset.json,
rejects.jsonl). Bad inputs (missing partners, size mismatches, truncated or
corrupt files, AppleDouble ._* files, colour labels) become lines in
rejects.jsonl with the path and reason; they never stop the run unless
--fail-fast.

Formats (--format, or auto-detected):
` + strings.Join(formats, "\n") + `

--resize WxH keeps each sample's aspect ratio: by default (--resize-mode pad)
it fits the sample inside WxH and centres it on black bars whose labels are
background, boxes moved with it; --resize-mode crop fills WxH and keeps the
centre; --resize-mode stretch scales each axis on its own. A sample whose
aspect ratio differs gets a note in the manifest ("padded from 600x800").

Ids come from source paths and splits from a hash of (id, --seed), so adding
samples never moves old ones. Clip formats (videomatte, frames) hash the
clip instead, so a clip's frames share one split; their rows get "clip"
and "frame" (the index from 0 in frame order). Examples:

   segtool build-dataset --src PFCN --out pfcn --val-from-train 0.15
   segtool build-dataset --src matting_human_half --out aiseg --resize 320x240
   segtool build-dataset --src PennFudanPed --out pf --crops 5 --crop-size 256
   segtool build-dataset --format videomatte --src videomatte_512x288 --out vm
   segtool build-dataset --src raw --out ds --resume    # continue an interrupted run`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "src", Usage: "raw source folder (required)"},
			&cli.StringFlag{Name: "out", Usage: "dataset folder to write (required)"},
			&cli.StringFlag{Name: "format", Value: "auto", Usage: "source layout: auto, " + strings.Join(dataset.FormatNames(), ", ")},
			nameFlag(),
			&cli.StringFlag{Name: "split", Value: "0.8,0.1,0.1", Usage: "train,val,test ratios for sources without official splits"},
			&cli.Float64Flag{Name: "val-from-train", Usage: "share of an official train split moved to val (e.g. 0.15)"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed for splits and crops"},
			&cli.StringFlag{Name: "resize", Usage: "resize every sample to WxH (e.g. 320x240), keeping its aspect ratio as --resize-mode says"},
			&cli.StringFlag{Name: "resize-mode", Value: string(dataset.ResizePad), Usage: "how --resize meets another aspect ratio: pad (fit inside, black bars, background labels), crop (cover, keep the centre) or stretch"},
			&cli.IntFlag{Name: "max-side", Usage: "downscale so the longer side is at most N pixels"},
			&cli.IntFlag{Name: "crops", Usage: "N random crops per image (ids get _c0.._cN-1, parent = source id)"},
			&cli.IntFlag{Name: "crop-size", Usage: "crop side S in pixels (SxS)"},
			jpegQualityFlag(),
			&cli.BoolFlag{Name: "link", Usage: "hard-link original images whose pixels do not change instead of re-encoding"},
		}, outputFlags("samples", "sample")...),
		Action: runBuildDataset,
	}
}

func parseSize(flag, s string) (image.Point, error) {
	var w, h int
	if n, err := fmt.Sscanf(s, "%dx%d", &w, &h); err != nil || n != 2 || w < 1 || h < 1 || fmt.Sprintf("%dx%d", w, h) != s {
		return image.Point{}, usageError("--%s must be WxH with positive integers (e.g. 320x240), not %q", flag, s)
	}
	return image.Pt(w, h), nil
}

// scanPair reads "lo,hi" (spaces allowed around each) into lo and hi
// with the Sscanf verb; false unless both parse.
func scanPair(s, verb string, lo, hi any) bool {
	parts := strings.Split(s, ",")
	if len(parts) != 2 {
		return false
	}
	_, e1 := fmt.Sscanf(strings.TrimSpace(parts[0]), verb, lo)
	_, e2 := fmt.Sscanf(strings.TrimSpace(parts[1]), verb, hi)
	return e1 == nil && e2 == nil
}

func runBuildDataset(c *cli.Context) error {
	if err := requireFlags(c, "src", "out"); err != nil {
		return err
	}
	o := jobs.BuildOptions{
		Format: c.String("format"), Src: c.String("src"), Out: c.String("out"), Name: c.String("name"),
		ValFromTrain: c.Float64("val-from-train"), Seed: c.Int64("seed"), MaxSide: c.Int("max-side"),
		Crops: c.Int("crops"), CropSize: c.Int("crop-size"), JPEGQuality: c.Int("jpeg-quality"),
		Link: c.Bool("link"), Version: version,
		RunOptions: runOptions(c),
	}
	var err error
	if o.Ratios, err = dataset.ParseRatios(c.String("split")); err != nil {
		return usageError("--split: %v", err)
	}
	if o.ValFromTrain < 0 || o.ValFromTrain >= 1 {
		return usageError("--val-from-train must be in [0, 1), not %g", o.ValFromTrain)
	}
	if s := c.String("resize"); s != "" {
		if o.Resize, err = parseSize("resize", s); err != nil {
			return err
		}
	}
	o.ResizeMode = dataset.ResizeMode(c.String("resize-mode"))
	if c.IsSet("resize-mode") && o.Resize == (image.Point{}) {
		return usageError("--resize-mode needs --resize WxH")
	}
	switch {
	case o.Resize != (image.Point{}) && o.MaxSide > 0:
		return usageError("--resize and --max-side exclude each other")
	case o.MaxSide < 0:
		return usageError("--max-side must be positive")
	case o.Crops < 0 || (o.Crops > 0 && o.CropSize < 1):
		return usageError("--crops N needs a positive --crop-size S")
	case o.JPEGQuality < 1 || o.JPEGQuality > 100:
		return usageError("--jpeg-quality must be 1..100, not %d", o.JPEGQuality)
	case o.Force && o.Resume:
		return usageError("--force and --resume exclude each other")
	}
	if _, err := dataset.LookupFormat(o.Format, o.Src); err != nil {
		return err
	}
	var finish func()
	o.Progress, finish = progress(c, "build-dataset")
	sum, err := jobs.Build(c.Context, o)
	finish()
	if err != nil && !errors.Is(err, jobs.ErrNoRows) {
		return err
	}
	warnRejects(c, "inputs", sum.Tally, o.Out)
	printBuildSummary(c, sum)
	return err
}

func printBuildSummary(c *cli.Context, s jobs.BuildSummary) {
	text := fmt.Sprintf("build-dataset: %d of %d %s samples kept in %s (%s); %d rejected, %d kept but flagged; %d files written, %d samples reused; %.1fs, %.1f samples/s.",
		s.Samples, s.Candidates, s.Format, s.Out, splitCounts(s.Counts), s.Rejects, s.Flagged, s.Files, s.Reused,
		s.Elapsed.Seconds(), float64(s.Candidates)/max(s.Elapsed.Seconds(), 1e-9))
	text += rejectReasons(s.RejectCodes)
	if s.Thresholded > 0 {
		text += fmt.Sprintf(" %d masks were not strictly 0/255 and were thresholded at 128.", s.Thresholded)
	}
	if len(s.Notes) > 0 {
		text += " Conversions: " + countList(s.Notes) + "."
	}
	// wall_s as results.json names it.
	summary(c, text, map[string]any{
		"command": "build-dataset", "format": s.Format, "out": s.Out, "candidates": s.Candidates, "samples": s.Samples,
		"splits": s.Counts, "rejects": s.Rejects, "flagged": s.Flagged, "reject_codes": s.RejectCodes,
		"conversions": s.Notes, "thresholded": s.Thresholded, "files_written": s.Files, "reused": s.Reused,
		"wall_s": s.Elapsed.Seconds(), "samples_per_s": float64(s.Candidates) / max(s.Elapsed.Seconds(), 1e-9),
	})
}
