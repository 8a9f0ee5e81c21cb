package main

import (
	"fmt"

	"github.com/segtool/segtool/dataset"
	"github.com/urfave/cli/v2"
)

func inspectCommand() *cli.Command {
	return datasetCommand("inspect", "print counts, sizes, foreground fractions, soft-alpha share and rejects of a dataset",
		`Reads a canonical dataset and prints: counts per split and per source folder,
an image-size histogram, fg_fraction quantiles (share of person pixels per
image), the share of soft alpha pixels (0 < a < 255) over all mattes, and a
table of reject reasons from rejects.jsonl.

   segtool inspect demo/ds`, openDataset, runInspect)
}

// datasetCommand is a command over one DATASET argument, which it opens
// with open before run; problems are the rows open reports instead of
// refusing the dataset.
func datasetCommand(name, usage, description string,
	open func(dir string) (*dataset.Dataset, []dataset.Problem, error),
	run func(c *cli.Context, d *dataset.Dataset, problems []dataset.Problem) error) *cli.Command {
	return &cli.Command{
		Name:        name,
		Usage:       usage,
		UsageText:   "segtool " + name + " DATASET",
		Description: description,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("%s takes one DATASET argument", name)
			}
			d, problems, err := open(c.Args().First())
			if err != nil {
				return err
			}
			d.Decoder.MaxPixels = c.Int64("max-pixels")
			return run(c, d, problems)
		},
	}
}

// openDataset is dataset.Open for datasetCommand: it refuses a dataset
// with unreadable rows, so it reports no problems.
func openDataset(dir string) (*dataset.Dataset, []dataset.Problem, error) {
	d, err := dataset.Open(dir)
	return d, nil, err
}

func runInspect(c *cli.Context, d *dataset.Dataset, _ []dataset.Problem) error {
	st, err := dataset.Inspect(c.Context, d)
	if err != nil {
		return err
	}
	if c.String("log-format") == "json" {
		summary(c, "", map[string]any{"command": "inspect", "dataset": d.Dir, "stats": st})
		return nil
	}
	w := c.App.Writer
	fmt.Fprintf(w, "dataset %s (%s, from %s): %d samples\n\n", d.Info.Name, d.Dir, d.Info.Format, st.Samples)
	var rows [][]string
	for _, s := range dataset.SplitNames() {
		rows = append(rows, []string{s, fmt.Sprint(st.Splits[s])})
	}
	table(w, []string{"split", "samples"}, rows)
	fmt.Fprintln(w)
	table(w, []string{"source", "samples"}, sortedCounts(st.Sources))
	fmt.Fprintln(w)
	table(w, []string{"image size", "samples"}, sortedCounts(st.Sizes))
	fmt.Fprintln(w)
	rows = nil
	for _, q := range dataset.FGQuantileNames() {
		rows = append(rows, []string{q, fmt.Sprintf("%.4f", st.FGQuant[q])})
	}
	table(w, []string{"fg_fraction", "value"}, rows)
	fmt.Fprintln(w)
	if st.AlphaPix > 0 {
		fmt.Fprintf(w, "soft alpha pixels (0 < a < 255): %.4f of %d alpha pixels\n\n", st.SoftAlpha, st.AlphaPix)
	} else {
		fmt.Fprintf(w, "soft alpha pixels: no alphas in this dataset\n\n")
	}
	rows = nil
	for _, r := range sortedCounts(st.Rejects) {
		rows = append(rows, []string{r[0], r[1], "rejected"})
	}
	for _, r := range sortedCounts(st.Flagged) {
		rows = append(rows, []string{r[0], r[1], "kept, flagged"})
	}
	if len(rows) == 0 {
		fmt.Fprintln(w, "rejects: none")
		return nil
	}
	table(w, []string{"reject reason", "count", "outcome"}, rows)
	return nil
}
