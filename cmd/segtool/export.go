package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/jobs"
	"github.com/urfave/cli/v2"
)

// exportOptions are export's flags.
type exportOptions struct {
	Format, Dataset, Split, Out string
	Force, FailFast             bool
}

func exportCommand() *cli.Command {
	var o exportOptions
	return &cli.Command{
		Name:      "export",
		Usage:     "write a dataset's instances as a COCO file (--format coco), for training code and pycocotools",
		UsageText: "segtool export --format coco --dataset DATASET [--split S] --out FILE.json [--force]",
		Description: `Writes the samples of --split (default all), in manifest order, as one COCO
instance-segmentation file:

   images        ids 1..N in that order; file_name is the image path inside
                 DATASET; width and height
   annotations   one per instance id of a row's instances plane (Penn-Fudan),
                 its mask as compressed RLE, bbox [x, y, w, h] of the mask's
                 extent (w = xmax - xmin + 1, as pycocotools' toBbox), area
                 its pixel count, iscrowd 0, category 1
   categories    [{"id": 1, "name": "person"}]

A dataset without instances/ (portrait datasets) exports each sample's
person mask as one annotation; the summary says how many. A COCO results
file scored with segtool eval --preds refers to these image ids, so export
and eval must select the same split.

A sample whose plane cannot be read is left out and listed (its id stays
unused), unless --fail-fast. The file is written atomically and never
replaced without --force.

Examples:

   segtool export --format coco --dataset demo/ds-pennfudan --out demo/pennfudan-coco.json
   segtool export --format coco --dataset ds --split val,test --out val.json --force
   python3 -c "from pycocotools.coco import COCO; COCO('demo/pennfudan-coco.json')"`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "format", Value: jobs.ExportFormatCOCO, Usage: "output format: coco", Destination: &o.Format},
			&cli.StringFlag{Name: "dataset", Usage: "canonical dataset to export (required)", Destination: &o.Dataset},
			&cli.StringFlag{Name: "split", Value: "all", Usage: "split(s) to export: train, val, test, a comma list, or all", Destination: &o.Split},
			&cli.StringFlag{Name: "out", Usage: "JSON file to write (required)", Destination: &o.Out},
			&cli.BoolFlag{Name: "force", Usage: "replace an existing --out", Destination: &o.Force},
			&cli.BoolFlag{Name: "fail-fast", Usage: "stop at the first sample that cannot be read", Destination: &o.FailFast},
		},
		Action: func(c *cli.Context) error { return runExport(c, o) },
	}
}

func runExport(c *cli.Context, o exportOptions) error {
	if err := requireFlags(c, "dataset", "out"); err != nil {
		return err
	}
	jo := jobs.ExportOptions{Dataset: o.Dataset, Format: o.Format, Out: o.Out, Force: o.Force, FailFast: o.FailFast,
		MaxPixels: c.Int64("max-pixels")}
	if o.Split != "all" {
		jo.Split = strings.Split(o.Split, ",")
	}
	update, finish := progress(c, "export")
	jo.Progress = update
	sum, err := jobs.Export(c.Context, jo)
	finish()
	if errors.Is(err, dataset.ErrExists) {
		return usageError("--out: %v: pass --force to replace it", err)
	}
	if err != nil {
		return cliError(err)
	}
	for _, r := range sum.Rejects {
		logger(c).Warn("sample left out", "id", r.ID, "path", strings.Join(r.Source, ","), "code", r.Code, "reason", r.Reason)
	}
	masks := ""
	if sum.FromMasks > 0 {
		masks = fmt.Sprintf(" (%d samples without instances exported as their person mask)", sum.FromMasks)
	}
	summary(c, fmt.Sprintf("export: %d images, %d annotations%s, %d samples left out, written to %s in %.1f s.",
		sum.Images, sum.Annotations, masks, len(sum.Rejects), sum.Out, sum.Elapsed.Seconds()),
		map[string]any{"command": "export", "format": o.Format, "out": sum.Out, "images": sum.Images, "annotations": sum.Annotations,
			"from_masks": sum.FromMasks, "rejects": sum.Rejects})
	return nil
}
