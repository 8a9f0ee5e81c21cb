package main

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/jobs"
	"github.com/urfave/cli/v2"
)

// The flags and summary parts of the commands that write a new dataset
// through jobs' runner: build-dataset, composite and augment.

// nameFlag names the dataset written to --out.
func nameFlag() cli.Flag {
	return &cli.StringFlag{Name: "name", Usage: "dataset name (default: the --out folder's name)"}
}

// jpegQualityFlag is the quality of the JPEG images a dataset gets.
func jpegQualityFlag() cli.Flag {
	return &cli.IntFlag{Name: "jpeg-quality", Value: 95, Usage: "quality for JPEG images written"}
}

// outputFlags close the flag list: items names what --resume keeps and
// rejected what --fail-fast stops at.
func outputFlags(items, rejected string) []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "resume", Usage: "continue an interrupted run: keep " + items + " whose outputs exist with matching sha256"},
		&cli.BoolFlag{Name: "force", Usage: "replace an existing output (the old dataset stays until the new one is complete)"},
		&cli.BoolFlag{Name: "fail-fast", Usage: "stop at the first rejected " + rejected},
	}
}

// runOptions reads outputFlags and the global --workers.
func runOptions(c *cli.Context) jobs.RunOptions {
	return jobs.RunOptions{Resume: c.Bool("resume"), Force: c.Bool("force"), FailFast: c.Bool("fail-fast"), Workers: c.Int("workers"), MaxPixels: c.Int64("max-pixels")}
}

// warnRejects points to rejects.jsonl in dir when a job rejected or
// flagged any of its inputs (what names them).
func warnRejects(c *cli.Context, what string, t jobs.Tally, dir string) {
	if t.Rejects+t.Flagged > 0 {
		logger(c).Warn("some "+what+" were rejected or flagged", "rejected", t.Rejects, "flagged", t.Flagged,
			"details", filepath.Join(dir, dataset.RejectsFile))
	}
}

// splitCounts renders rows per split: "8 train, 1 val, 1 test".
func splitCounts(counts map[string]int) string {
	var parts []string
	for _, sp := range dataset.SplitNames() {
		parts = append(parts, fmt.Sprintf("%d %s", counts[sp], sp))
	}
	return strings.Join(parts, ", ")
}

// rejectReasons is the summary's sentence on reject codes; empty when
// nothing was rejected.
func rejectReasons(codes map[string]int) string {
	if len(codes) == 0 {
		return ""
	}
	return " Reasons: " + countList(codes) + " (details in rejects.jsonl)."
}
