package main

import (
	"fmt"

	"github.com/segtool/segtool/dataset"
	"github.com/urfave/cli/v2"
)

func validateCommand() *cli.Command {
	return datasetCommand("validate", "check every manifest row against its files; exit 1 with a list on any mismatch",
		`Checks that each row's files exist, match their sha256 and the row's size,
that masks are strictly 0/255 with the recorded fg_fraction, that trimaps are
0/128/255, and that no file in the sample folders is unreferenced; that ids
are safe file stems (letters, digits, _ - . +, not starting with '.', at most
200 bytes), unique, and that no path leaves the dataset (no absolute path, no
.., no symbolic link out), naming the manifest line; and that dataset.json's
counts match the manifest. Exits 0 when all is well, 1 with one line per
problem otherwise.

   segtool validate demo/ds`,
		// Rows other commands refuse to open (unsafe ids, paths leaving the
		// dataset, duplicates) are problems here, and the rest is checked.
		dataset.Load, runValidate)
}

func runValidate(c *cli.Context, d *dataset.Dataset, refused []dataset.Problem) error {
	update, finish := progress(c, "validate")
	problems, err := dataset.Validate(c.Context, d, c.Int("workers"), update)
	finish()
	if err != nil {
		return err
	}
	problems = append(refused, problems...)
	for _, p := range problems {
		if jsonLog(c) {
			logger(c).Error("problem", "line", p.Line, "id", p.ID, "path", p.Path, "reason", p.Reason)
			continue
		}
		fmt.Fprintln(c.App.ErrWriter, p.String())
	}
	summary(c, fmt.Sprintf("validate: %d samples checked in %s, %d problems.", len(d.Samples), d.Dir, len(problems)),
		map[string]any{"command": "validate", "dataset": d.Dir, "samples": len(d.Samples), "problems": problems})
	if len(problems) > 0 {
		return cli.Exit(fmt.Sprintf("%d problems found", len(problems)), 1)
	}
	return nil
}
