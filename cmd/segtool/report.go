package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/report"
	"github.com/urfave/cli/v2"
)

func reportCommand() *cli.Command {
	return &cli.Command{
		Name:  "report",
		Usage: "plots, Markdown/HTML/JUnit reports and a CI regression gate for eval runs; compare and merge runs",
		UsageText: `segtool report RUN [RUN2 ...] --out DIR [--baseline RUN_B] [--gate FILE] [--rule EXPR] [--max-drop NAME=X]
                  [--format md,html,junit,json] [--worst K --by dice] [--strict]
   segtool report compare RUN_A RUN_B [--by dice] [--top N]
   segtool report merge RUN_1 ... RUN_K --out RUN [--partial]`,
		Description: `Reads finished eval run folders, folders holding them (runs/), or results.json
files, and writes to --out:

   report.md     summary table, gate verdict, plot links: sized for a PR comment
   report.html   one self-contained page (images embedded), readable offline
   junit.xml     one test case per gate rule, for CI test reporters
   summary.json  everything above as data
   plots/*.png|svg  per-image distribution of each headline metric (histogram
                 and box plot, runs overlaid), Dice and IoU against the
                 threshold, precision against recall, latency histogram and
                 CDF (inference, end to end; p50/p99 marked), foreground
                 fraction against Dice, and with --baseline each metric's
                 change with its max_drop band
   gallery/*.jpg the --worst K images of the first run by --by: image | truth |
                 prediction | errors (false positives orange, false negatives
                 blue); needs the run's preds/ (eval --save-preds)

Values are named as in results.json: a bare metric name (dice, miou, mad) is
its accumulated value over the dataset where there is one (segmentation and
boundary metrics: summed counts, then divided), else the mean of the
per-image values; dice.mean (or dice_mean, as eval's JSON summary names it)
and dice.accumulated pick one. Timing:
inference_p50_ms, inference_p99_ms, end_to_end_p50_ms, images_per_s,
peak_rss_mib, ...; against --baseline: p50_latency_ratio, p99_latency_ratio,
e2e_p50_latency_ratio, throughput_ratio (run / baseline).

The gate (--gate FILE, e.g. configs/regression.yaml, and/or flags):

   rules:                      # floors, ceilings and ratio limits
     - dice >= 0.95
     - mad <= 0.05
     - p50_latency_ratio <= 1.10
   max_drop:                   # the most a value may get worse vs --baseline
     dice: 0.005
     miou: 0.005
   timing_noise: true          # default
   strict: false               # as --strict

Noise-aware timing: when both runs carry at least 5 per-image times, a
latency ratio over its limit counts only if it is beyond the runs' measured
spread: each run's per-image times give a distribution-free 95% interval of
its p50 (or p90, p99; order statistics) or mean, and the rule fails only if
even the fastest plausible ratio breaches the limit.

Runs that measured different samples (a different dataset, splits,
--limit/--shard or sample ids) are grouped in the runs table, with a
warning that says what differs; --strict refuses them (exit 2). A dataset
is its samples (ids, splits, image, mask and alpha hashes): a column added
since, such as segtool trimap's, does not make it another dataset.

A baseline measured differently (metric definitions or threshold, dataset,
splits, --limit/--shard, or the spec of the same model file) is a loud
warning, and with --strict an error. Different models have different specs:
the runs table shows them. A rule naming a value a run lacks is an error.

Exit codes: 0 every rule holds (or no gate), 1 a regression (each failing rule
is printed with its numbers), 2 bad input (unreadable runs or gate, a
missing value, a baseline refused by --strict).

Examples:

   segtool report runs/new --out report/
   segtool report runs/new --baseline baselines/oracle --gate configs/regression.yaml --out report/
   segtool report runs/a runs/b runs/c --out report/ --worst 8 --by boundary_iou
   segtool report runs/new --baseline runs/old --rule "dice >= 0.95" --max-drop miou=0.005 --format junit --out ci/
   segtool report compare runs/old runs/new
   segtool report merge runs/m-0 runs/m-1 runs/m-2 runs/m-3 --out runs/m`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "report folder (required)"},
			&cli.StringFlag{Name: "baseline", Usage: "run to compare with and gate against"},
			&cli.StringFlag{Name: "gate", Usage: "gate file (YAML: rules, max_drop, timing_noise, strict)"},
			&cli.StringSliceFlag{Name: "rule", Usage: "a gate rule, e.g. \"dice >= 0.95\" or \"p50_latency_ratio <= 1.10\" (repeatable)"},
			&cli.StringSliceFlag{Name: "max-drop", Usage: "VALUE=X: the most VALUE may get worse against --baseline (repeatable)"},
			&cli.BoolFlag{Name: "strict", Usage: "a baseline measured differently is an error (exit 2), not a warning"},
			&cli.BoolFlag{Name: "no-timing-noise", Usage: "judge latency ratios without the runs' measured spread"},
			&cli.StringFlag{Name: "format", Value: strings.Join(report.Formats(), ","), Usage: "outputs to write: md, html, junit, json (comma list)"},
			&cli.BoolFlag{Name: "force", Usage: "replace a report already in --out"},
			&cli.IntFlag{Name: "worst", Value: 6, Usage: "gallery of the K worst images of the first run (0: none)"},
			&cli.StringFlag{Name: "by", Value: "dice", Usage: "per-image metric that ranks the gallery"},
		},
		Action: runReport,
		Subcommands: []*cli.Command{
			reportCompareCommand(),
			reportMergeCommand(),
		},
	}
}

// operands returns the command's operands and sets the flags written after
// them (segtool report RUN --out DIR): urfave/cli stops reading flags at
// the first operand.
func operands(c *cli.Context) ([]string, error) {
	args := c.Args().Slice()
	var ops []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			ops = append(ops, args[i+1:]...)
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			ops = append(ops, a)
			continue
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		var flag cli.Flag
		for _, f := range c.Command.Flags {
			for _, n := range f.Names() {
				if n == name {
					flag = f
				}
			}
		}
		if flag == nil {
			return nil, usageError("flag provided but not defined: -%s (see `%s --help`)", name, c.Command.HelpName)
		}
		if _, isBool := flag.(*cli.BoolFlag); isBool && !hasVal {
			val = "true"
		} else if !hasVal {
			if i+1 >= len(args) {
				return nil, usageError("flag needs an argument: -%s (see `%s --help`)", name, c.Command.HelpName)
			}
			i++
			val = args[i]
		}
		if err := c.Set(name, val); err != nil {
			return nil, usageError("--%s %s: %v", name, val, err)
		}
	}
	return ops, nil
}

func loadRun(flag, path string) (*report.Run, error) {
	r, err := report.Load(path)
	if err != nil {
		return nil, usageError("%s: %v", flag, cliError(err))
	}
	return r, nil
}

func runReport(c *cli.Context) error {
	ops, err := operands(c)
	if err != nil {
		return err
	}
	if len(ops) == 0 {
		return usageError("give at least one RUN folder (see `%s --help`)", c.Command.HelpName)
	}
	if err := requireFlags(c, "out"); err != nil {
		return err
	}
	if !c.Bool("force") {
		for _, f := range []string{"report.md", "report.html", "junit.xml", "summary.json", "plots"} {
			if _, err := os.Stat(filepath.Join(c.String("out"), f)); err == nil {
				return usageError("--out %s already holds a report (%s); pass --force to replace it", c.String("out"), f)
			}
		}
	}
	if _, ok := eval.DefaultRegistry().Lookup(c.String("by")); !ok {
		return usageError("--by %s: not a per-image metric (%s)", c.String("by"), strings.Join(eval.DefaultRegistry().Names(), ", "))
	}
	if c.Int("worst") < 0 {
		return usageError("--worst %d: want K >= 0", c.Int("worst"))
	}
	var formats []string
	for _, f := range strings.Split(c.String("format"), ",") {
		f = strings.TrimSpace(f)
		found := false
		for _, k := range report.Formats() {
			found = found || k == f
		}
		if !found {
			return usageError("--format: %q: want a comma list of %s", f, strings.Join(report.Formats(), ", "))
		}
		formats = append(formats, f)
	}
	gate := report.NewGate()
	if p := c.String("gate"); p != "" {
		if gate, err = report.LoadGate(p); err != nil {
			return usageError("--gate: %v", err)
		}
	}
	for _, s := range c.StringSlice("rule") {
		r, err := report.ParseRule(s, "--rule")
		if err != nil {
			return usageError("%v", err)
		}
		gate.Rules = append(gate.Rules, r)
	}
	for _, s := range c.StringSlice("max-drop") {
		d, err := report.ParseDrop(s, "--max-drop")
		if err != nil {
			return usageError("%v", err)
		}
		gate.MaxDrop = append(gate.MaxDrop, d)
	}
	if c.Bool("strict") {
		gate.Strict = true
	}
	if c.Bool("no-timing-noise") {
		gate.TimingNoise = false
	}
	runs, err := report.LoadAll(ops)
	if err != nil {
		return usageError("RUN: %v", cliError(err))
	}
	var base *report.Run
	if p := c.String("baseline"); p != "" {
		if base, err = loadRun("--baseline", p); err != nil {
			return err
		}
	}
	rep, err := report.Write(runs, report.Options{
		Out: c.String("out"), Formats: formats, Baseline: base, Gate: gate,
		Worst: c.Int("worst"), By: c.String("by"), Version: version,
	})
	if errors.Is(err, report.ErrNotComparable) {
		return cli.Exit(fmt.Sprintf("report: %v (without --strict the report shows them in groups)", err), 2)
	}
	if err != nil { // exit 2, never 1: 1 means a regression to CI
		return cli.Exit(fmt.Sprintf("report: %v", cliError(err)), 2)
	}
	var hints []string
	if base == nil && gate.NeedsBaseline() {
		hints = append(hints, "rules that compare with a baseline need --baseline RUN")
	}
	return printReport(c, rep, hints...)
}

// printReport prints the warnings loudly, the gate's checks, and where the
// report is; and returns the gate's exit code, with hints on how to fix a
// failed gate.
func printReport(c *cli.Context, rep *report.Report, hints ...string) error {
	out := c.App.Writer
	errw := c.App.ErrWriter
	if errw == nil {
		errw = os.Stderr
	}
	for _, w := range rep.Warnings {
		if jsonLog(c) {
			logger(c).Warn(w)
			continue
		}
		fmt.Fprintln(errw, "WARNING: "+w)
	}
	quiet := c.Bool("quiet")
	jsonOut := c.String("log-format") == "json"
	if !quiet && !jsonOut && len(rep.Facts) > 1 {
		h, rows := report.FactsTable(rep.Facts)
		table(out, h, rows)
		fmt.Fprintln(out)
	}
	if !quiet && !jsonOut && len(rep.Table.Rows) > 0 {
		var rows [][]string
		for _, r := range rep.Table.Rows {
			row := []string{r.Name}
			for _, v := range r.Cells {
				row = append(row, fmtValue(v))
			}
			if rep.Baseline != nil {
				d := ""
				if r.Delta != nil {
					d = fmt.Sprintf("%+.4g", *r.Delta)
				}
				row = append(row, d)
			}
			rows = append(rows, row)
		}
		table(out, rep.Table.Header, rows)
		fmt.Fprintln(out)
	}
	if !quiet && !jsonOut {
		for _, v := range rep.Verdicts {
			var rows [][]string
			for _, ch := range v.Checks {
				rows = append(rows, []string{v.Run, strings.ToUpper(ch.Status), ch.Rule, ch.Message})
			}
			table(out, []string{"run", "status", "rule", "result"}, rows)
		}
	}
	var failed []string
	for _, v := range rep.Verdicts {
		for _, ch := range v.Checks {
			if ch.Status != report.Pass {
				failed = append(failed, fmt.Sprintf("%s: %s %s: %s (%s)", v.Run, strings.ToUpper(ch.Status), ch.Rule, ch.Message, ch.Source))
			}
		}
		if v.Refused {
			failed = append(failed, fmt.Sprintf("%s: ERROR --strict: the baseline is not comparable (see the warnings)", v.Run))
		}
	}
	failed = append(failed, hints...)
	where := filepath.Join(c.String("out"), report.MarkdownFile)
	status := rep.Status()
	text := fmt.Sprintf("report: %d run(s), %d plots", len(rep.Runs), len(rep.Figures))
	if rep.Gallery != nil {
		text += fmt.Sprintf(", %d worst images", len(rep.Gallery.Items))
	}
	text += fmt.Sprintf(" in %s (%s).", c.String("out"), strings.Join(rep.Files[len(rep.Files)-min(len(rep.Files), 4):], ", "))
	if status != "" {
		text += " Gate: " + strings.ToUpper(status) + "."
	}
	summary(c, text, map[string]any{"command": "report", "out": c.String("out"), "status": status,
		"exit_code": rep.ExitCode(), "files": rep.Files, "verdicts": rep.Verdicts, "warnings": rep.Warnings})
	switch rep.ExitCode() {
	case 1:
		return cli.Exit(fmt.Sprintf("gate FAIL (see %s):\n  %s", where, strings.Join(failed, "\n  ")), 1)
	case 2:
		return cli.Exit(fmt.Sprintf("gate ERROR, bad input (see %s):\n  %s", where, strings.Join(failed, "\n  ")), 2)
	}
	return nil
}

func fmtValue(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.4g", *v)
}

func reportCompareCommand() *cli.Command {
	return &cli.Command{
		Name:      "compare",
		Usage:     "two runs side by side, which images got better or worse, and whether the change is noise",
		UsageText: "segtool report compare RUN_A RUN_B [--by dice] [--top N]",
		Description: `Prints every metric and timing figure of RUN_A and RUN_B with the change
B - A, then pairs the images scored in both by id and counts those whose
--by value (default dice) got better, worse or stayed equal, and lists the
--top largest changes each way.

Whether the change is more than noise: the exact two-sided sign test on the
pairs (Dixon and Mood 1946; Conover, Practical Nonparametric Statistics,
1999, §3.4): ties dropped, p = min(1, 2·P(X <= min(better, worse))) for X ~
Binomial(better + worse, 1/2). p < 0.05 says more images moved one way than
chance explains; it says nothing of how much (see the mean change).

   segtool report compare runs/old runs/new
   segtool report compare runs/old runs/new --by boundary_iou --top 10`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "by", Value: "dice", Usage: "per-image metric to pair"},
			&cli.IntFlag{Name: "top", Value: 5, Usage: "largest per-image changes to list each way"},
		},
		Action: runCompare,
	}
}

func runCompare(c *cli.Context) error {
	ops, err := operands(c)
	if err != nil {
		return err
	}
	if len(ops) != 2 {
		return usageError("give two runs: RUN_A RUN_B (see `%s --help`)", c.Command.HelpName)
	}
	if _, ok := eval.DefaultRegistry().Lookup(c.String("by")); !ok {
		return usageError("--by %s: not a per-image metric (%s)", c.String("by"), strings.Join(eval.DefaultRegistry().Names(), ", "))
	}
	a, err := loadRun("RUN_A", ops[0])
	if err != nil {
		return err
	}
	b, err := loadRun("RUN_B", ops[1])
	if err != nil {
		return err
	}
	cmp, err := report.Compare(a, b, c.String("by"), max(c.Int("top"), 0))
	if err != nil {
		return usageError("%v", cliError(err))
	}
	errw := c.App.ErrWriter
	if errw == nil {
		errw = os.Stderr
	}
	for _, w := range cmp.Warnings {
		if jsonLog(c) {
			logger(c).Warn(w, "a", cmp.A, "b", cmp.B)
			continue
		}
		fmt.Fprintf(errw, "WARNING: %s against %s: %s\n", cmp.B, cmp.A, strings.Replace(w, "the baseline's", cmp.A+"'s", 1))
	}
	if c.Bool("quiet") {
		return nil
	}
	out := c.App.Writer
	if c.String("log-format") == "json" {
		b, _ := json.Marshal(map[string]any{"command": "report compare", "a": cmp.A, "b": cmp.B, "runs": cmp.Facts, "rows": cmp.Rows,
			"paired": cmp.Paired, "warnings": cmp.Warnings, "notes": cmp.Notes})
		fmt.Fprintln(out, string(b))
		return nil
	}
	h, frows := report.FactsTable(cmp.Facts)
	table(out, h, frows)
	fmt.Fprintln(out)
	var rows [][]string
	for _, r := range cmp.Rows {
		mark := ""
		switch r.Better {
		case 1:
			mark = "better"
		case -1:
			mark = "worse"
		}
		d := ""
		if r.Delta != nil {
			d = fmt.Sprintf("%+.4g", *r.Delta)
		}
		rows = append(rows, []string{r.Name, fmtValue(r.A), fmtValue(r.B), d, mark})
	}
	table(out, []string{"value", "A: " + cmp.A, "B: " + cmp.B, "B - A", ""}, rows)
	for _, n := range cmp.Notes {
		fmt.Fprintln(out, "note: "+n)
	}
	if p := cmp.Paired; p != nil {
		fmt.Fprintf(out, "\n%s per image, %d images scored in both (%d only in A, %d only in B): %d better, %d worse, %d equal; mean change %+.4g.\n",
			p.Metric, p.N, p.OnlyA, p.OnlyB, p.Better, p.Worse, p.Tied, p.MeanDelta)
		fmt.Fprintf(out, "Sign test (exact, two-sided): %s.\n", p.Verdict())
		for _, l := range []struct {
			title string
			ds    []report.ImageDelta
		}{{"better", p.Improved}, {"worse", p.Regressed}} {
			if len(l.ds) == 0 {
				continue
			}
			var rows [][]string
			for _, d := range l.ds {
				rows = append(rows, []string{d.ID, fmt.Sprintf("%.4f", d.A), fmt.Sprintf("%.4f", d.B), fmt.Sprintf("%+.4f", d.Delta)})
			}
			fmt.Fprintf(out, "\nmost %s in B:\n", l.title)
			table(out, []string{"id", "A", "B", "B - A"}, rows)
		}
	}
	return nil
}

func reportMergeCommand() *cli.Command {
	return &cli.Command{
		Name:      "merge",
		Usage:     "join runs made on disjoint shards (eval --shard i/n) into one run with exact aggregates",
		UsageText: "segtool report merge RUN_1 ... RUN_K --out RUN [--partial] [--force]",
		Description: `Joins the per_image.jsonl rows of shard runs, puts them in the dataset
manifest's order and recomputes every count, metric, sweep point and latency
figure as one unsharded eval would: the merged results.json equals the
unsharded run's, and its run.json is the shards' without the shard. preds/
and overlays/ files are linked (or copied) across.

Refused (exit 2): runs whose run.json differ in anything but the shard (a
different model, dataset, threshold), overlapping sample ids, unfinished
runs, different shard counts, and a missing shard unless --partial.

   segtool eval --model m.onnx --dataset ds --shard 0/2 --out runs/m-0
   segtool eval --model m.onnx --dataset ds --shard 1/2 --out runs/m-1
   segtool report merge runs/m-0 runs/m-1 --out runs/m`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "merged run folder (required)"},
			&cli.BoolFlag{Name: "partial", Usage: "merge even when shards are missing"},
			&cli.BoolFlag{Name: "force", Usage: "replace a run already in --out"},
		},
		Action: runMerge,
	}
}

func runMerge(c *cli.Context) error {
	ops, err := operands(c)
	if err != nil {
		return err
	}
	if err := requireFlags(c, "out"); err != nil {
		return err
	}
	if len(ops) < 2 {
		return usageError("give at least two runs to merge (see `%s --help`)", c.Command.HelpName)
	}
	out := c.String("out")
	if c.Bool("force") {
		for _, n := range []string{eval.JournalFile, eval.CSVFile, eval.ResultsFile, eval.RunFile, eval.PredsDir, eval.OverlaysDir} {
			if err := os.RemoveAll(filepath.Join(out, n)); err != nil {
				return err
			}
		}
	}
	res, info, err := report.Merge(ops, report.MergeOptions{Out: out, Partial: c.Bool("partial")})
	switch {
	case errors.Is(err, eval.ErrExists):
		return usageError("%v (pass --force to replace it)", err)
	case errors.Is(err, report.ErrMissingShards):
		return usageError("merge: %v (pass --partial to merge anyway)", err)
	case err != nil:
		return usageError("merge: %v", cliError(err))
	}
	for _, n := range info.Notes {
		logger(c).Warn(n)
	}
	text := fmt.Sprintf("merge: %d runs, %d rows (%d scored) in the order of %s, %d preds/overlays files, into %s.",
		info.Runs, info.Rows, res.Counts.Scored, info.Order, info.Files, filepath.Join(out, eval.ResultsFile))
	fields := map[string]any{"command": "report merge", "out": out, "runs": info.Runs, "rows": info.Rows, "counts": res.Counts}
	for _, m := range res.Metrics {
		if m.Name == "dice" && m.Accumulated != nil {
			text += fmt.Sprintf(" Dice (accumulated) %.4f.", *m.Accumulated)
			fields["dice"] = *m.Accumulated
		}
	}
	summary(c, text, fields)
	return nil
}
