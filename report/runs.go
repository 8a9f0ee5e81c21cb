package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/segtool/segtool/eval"
)

// ErrNoRuns is a folder that holds no finished run.
var ErrNoRuns = errors.New("no finished eval runs")

// ErrNotComparable is runs that measured different samples, refused under
// a strict gate.
var ErrNotComparable = errors.New("runs are not comparable")

// maxRunDepth bounds how deep FindRuns looks below the folder it is given
// (runs/<model>/<dataset> is two levels).
const maxRunDepth = 4

// FindRuns returns dir itself when it is a run folder (it holds
// results.json), else the run folders below it, in path order; a run
// folder that did not finish is eval.ErrUnfinished. It does not
// look inside a run folder, nor into hidden folders or symbolic links.
func FindRuns(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !st.IsDir() || isRun(dir) {
		return []string{dir}, nil
	}
	if _, err := os.Stat(filepath.Join(dir, eval.RunFile)); err == nil {
		return nil, fmt.Errorf("%s has no %s: %w", dir, eval.ResultsFile, eval.ErrUnfinished)
	}
	var out []string
	root := filepath.Clean(dir)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() || p == root {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") || strings.Count(p[len(root):], string(filepath.Separator)) > maxRunDepth {
			return filepath.SkipDir
		}
		if isRun(p) {
			out = append(out, p)
			return filepath.SkipDir
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: %w (no %s in it or in its folders)", dir, ErrNoRuns, eval.ResultsFile)
	}
	return out, nil
}

func isRun(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, eval.ResultsFile))
	return err == nil && st.Mode().IsRegular()
}

// LoadAll loads every run that FindRuns finds under each path, and labels
// them.
func LoadAll(paths []string) ([]*Run, error) {
	var runs []*Run
	for _, p := range paths {
		dirs, err := FindRuns(p)
		if err != nil {
			return nil, err
		}
		for _, d := range dirs {
			r, err := Load(d)
			if err != nil {
				return nil, err
			}
			runs = append(runs, r)
		}
	}
	Label(runs)
	return runs, nil
}

// ListHeadline are the values runs ls shows beside the facts.
func ListHeadline() []string {
	return []string{"dice", "miou", "boundary_f", "mad", "inference_p50_ms"}
}

// ListTable is FactsTable with a column for each of the values that any of
// the runs has ("-" where one lacks it), named as Run.Value names them.
func ListTable(runs []*Run, values []string) (header []string, rows [][]string) {
	facts, _ := FactsOf(runs)
	header, rows = FactsTable(facts)
	for _, n := range values {
		cells := make([]string, len(runs))
		found := false
		for i, r := range runs {
			cells[i] = "-"
			if v, err := r.Value(n); err == nil {
				cells[i], found = fmtCell(&v.V), true
			}
		}
		if !found {
			continue
		}
		header = append(header, n)
		for i := range rows {
			rows[i] = append(rows[i], cells[i])
		}
	}
	return header, rows
}

// Describe is one run's facts as label and value lines, for runs show.
func (r *Run) Describe() [][2]string {
	f, res := r.Facts(), &r.Results
	lines := [][2]string{{"run", f.Name}, {"folder", dash(f.Dir)}}
	if m := res.Model; m != nil {
		lines = append(lines, [2]string{"model", m.Path + " (sha256 " + short(m.SHA256) + ")"},
			[2]string{"spec", fmt.Sprintf("%s: %s %s %dx%d, %s", dash(m.Spec.Name), m.Spec.Layout, m.Spec.Order, m.Spec.Width, m.Spec.Height, m.Spec.Kind)},
			[2]string{"device", dash(f.Device)})
	} else {
		lines = append(lines, [2]string{"predictions", res.Preds})
	}
	sel := f.Split
	if f.Selection != "all" {
		sel += ", " + f.Selection
	}
	c := res.Counts
	lines = append(lines, [2]string{"dataset", fmt.Sprintf("%s (samples %s, manifest %s)", res.Dataset.Path, short(res.Dataset.SamplesSHA256), short(res.Dataset.ManifestSHA256))},
		[2]string{"split", sel},
		[2]string{"images", fmt.Sprintf("%d selected, %d scored, %d errors, %d skipped, %d NaN/Inf", c.Selected, c.Scored, c.Errors, c.Skipped, c.NonFinite)},
		[2]string{"threshold", fmtNum(res.Options.Threshold)},
		[2]string{"segtool", res.Segtool.Version})
	for _, n := range r.Notes {
		lines = append(lines, [2]string{"note", n})
	}
	return lines
}

// MetricsTable is a run's metrics: name, accumulated, mean (over how many
// images), unit.
func (r *Run) MetricsTable() (header []string, rows [][]string) {
	header = []string{"metric", "accumulated", "mean", "images", "unit"}
	cell := func(p *float64) string {
		if p == nil {
			return "-"
		}
		return fmtCell(p)
	}
	for _, m := range r.Results.Metrics {
		rows = append(rows, []string{m.Name, cell(m.Accumulated), cell(m.Mean), strconv.Itoa(m.MeanImages), m.Unit})
	}
	return header, rows
}
