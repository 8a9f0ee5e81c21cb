package main

import (
	"encoding/json"
	"fmt"

	"github.com/segtool/segtool/report"
	"github.com/urfave/cli/v2"
)

func runsCommand() *cli.Command {
	return &cli.Command{
		Name:  "runs",
		Usage: "list the eval runs under a folder, or show one run",
		UsageText: `segtool runs ls DIR [DIR2 ...]
   segtool runs show RUN`,
		Subcommands: []*cli.Command{
			{
				Name:      "ls",
				Usage:     "the finished runs under each folder: model, spec, dataset, split, N, device and headline values",
				UsageText: "segtool runs ls DIR [DIR2 ...]",
				Description: `Finds the run folders (those holding results.json) in DIR and up to four
levels below it, and prints one line per run. The group column appears when
the runs measured different samples (dataset, splits, selection): compare
numbers within a group only.

   segtool runs ls runs/`,
				Action: runRunsLs,
			},
			{
				Name:      "show",
				Usage:     "one run's facts and every metric it measured",
				UsageText: "segtool runs show RUN",
				Description: `Prints what the run measured and on what (model, spec, device, dataset,
split, counts), then each metric's accumulated and per-image mean value.

   segtool runs show runs/modnet`,
				Action: runRunsShow,
			},
		},
	}
}

func runRunsLs(c *cli.Context) error {
	if c.NArg() == 0 {
		return usageError("give a DIR holding runs (see `%s --help`)", c.Command.HelpName)
	}
	runs, err := report.LoadAll(c.Args().Slice())
	if err != nil {
		return usageError("DIR: %v", cliError(err))
	}
	if c.String("log-format") == "json" {
		facts, groups := report.FactsOf(runs)
		b, _ := json.Marshal(map[string]any{"command": "runs ls", "runs": facts, "groups": groups})
		fmt.Fprintln(c.App.Writer, string(b))
		return nil
	}
	h, rows := report.ListTable(runs, report.ListHeadline())
	table(c.App.Writer, h, rows)
	return nil
}

func runRunsShow(c *cli.Context) error {
	if c.NArg() != 1 {
		return usageError("give one RUN folder (see `%s --help`)", c.Command.HelpName)
	}
	r, err := loadRun("RUN", c.Args().First())
	if err != nil {
		return err
	}
	out := c.App.Writer
	if c.String("log-format") == "json" {
		b, _ := json.Marshal(map[string]any{"command": "runs show", "facts": r.Facts(), "results": r.Results, "notes": r.Notes})
		fmt.Fprintln(out, string(b))
		return nil
	}
	for _, l := range r.Describe() {
		fmt.Fprintf(out, "%-13s %s\n", l[0]+":", l[1])
	}
	fmt.Fprintln(out)
	h, rows := r.MetricsTable()
	table(out, h, rows)
	return nil
}
