package report

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/segtool/segtool/dataset"
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

// Facts is what a run measured, on what: a row of the runs table.
type Facts struct {
	Name string `json:"name"`
	Dir  string `json:"dir,omitempty"`
	// Model is the model file's name, or "preds " and the folder for a run
	// of saved predictions; Spec the spec's name (a preset or spec file).
	Model       string `json:"model"`
	ModelSHA256 string `json:"model_sha256,omitempty"`
	Spec        string `json:"spec,omitempty"`
	Dataset     string `json:"dataset"`
	// Samples is the dataset's identity (dataset.IdentitySHA256), or its
	// manifest sha256 for runs that did not record one.
	Samples   string `json:"samples_sha256"`
	Split     string `json:"split"`
	Selection string `json:"selection"`
	N         int    `json:"n"`
	Device    string `json:"device,omitempty"`
	// Group numbers the runs that measured the same samples, from 1 in
	// the order the runs were given.
	Group int `json:"group"`
}

// Facts returns the run's facts (Group is set by Groups).
func (r *Run) Facts() Facts {
	res := &r.Results
	f := Facts{Name: r.Name, Dir: r.Dir, Dataset: res.Dataset.Path, Samples: datasetID(res),
		Split: strings.Join(res.Dataset.Splits, ","), Selection: selection(res), N: res.Counts.Scored}
	if f.Split == "" {
		f.Split = "all"
	}
	if m := res.Model; m != nil {
		f.Model, f.ModelSHA256, f.Spec = filepath.Base(m.Path), m.SHA256, m.Spec.Name
		f.Device = res.Environment.Provider
		if d := res.Environment.Device; d != "" && d != f.Device {
			f.Device = strings.TrimPrefix(f.Device+" "+d, " ")
		}
	} else {
		f.Model = "preds " + res.Preds
	}
	return f
}

// datasetID is what identifies a run's samples: the identity hash where
// the run recorded one, else the manifest's bytes.
func datasetID(res *eval.Results) string {
	if res.Dataset.SamplesSHA256 != "" {
		return res.Dataset.SamplesSHA256
	}
	return res.Dataset.ManifestSHA256
}

// sameDataset reports whether two runs scored the same dataset: equal
// identities, or equal manifests where either run predates identities.
func sameDataset(a, b *eval.Results) bool {
	if a.Dataset.SamplesSHA256 != "" && b.Dataset.SamplesSHA256 != "" {
		return a.Dataset.SamplesSHA256 == b.Dataset.SamplesSHA256
	}
	return a.Dataset.ManifestSHA256 == b.Dataset.ManifestSHA256
}

// matchesDataset reports whether the dataset as it is now holds the
// samples the run scored: the same manifest, or the same identity (a
// column was added since).
func matchesDataset(res *eval.Results, ds *dataset.Dataset, manifestSHA256 string) bool {
	if res.Dataset.ManifestSHA256 == "" || manifestSHA256 == res.Dataset.ManifestSHA256 {
		return true
	}
	return res.Dataset.SamplesSHA256 != "" && dataset.IdentitySHA256(ds.Samples) == res.Dataset.SamplesSHA256
}

// datasetDiff names both datasets and the hashes that differ: "dataset
// P (samples H), baseline Q (samples G)" with word = "baseline".
func datasetDiff(a, b *eval.Results, word string) string {
	what := "samples"
	if a.Dataset.SamplesSHA256 == "" || b.Dataset.SamplesSHA256 == "" {
		what = "manifest"
	}
	return fmt.Sprintf("dataset %s (%s %s), %s %s (%s %s)", a.Dataset.Path, what, short(datasetID(a)), word, b.Dataset.Path, what, short(datasetID(b)))
}

// sampleDiff says how b's samples differ from a's, b's first: the dataset, the
// splits, the selection (--limit, --shard) or the ids scored; nil when they
// are the same samples.
func sampleDiff(a, b *Run) []string {
	ra, rb := &a.Results, &b.Results
	var out []string
	if !sameDataset(ra, rb) {
		out = append(out, datasetDiff(rb, ra, "not"))
	}
	if !slices.Equal(ra.Dataset.Splits, rb.Dataset.Splits) {
		out = append(out, fmt.Sprintf("splits %v, not %v", rb.Dataset.Splits, ra.Dataset.Splits))
	}
	if selection(ra) != selection(rb) {
		out = append(out, fmt.Sprintf("selection %s, not %s", selection(rb), selection(ra)))
	}
	if len(out) == 0 && a.Rows != nil && b.Rows != nil {
		ia, ib := rowIDs(a), rowIDs(b)
		if !slices.Equal(ia, ib) {
			out = append(out, fmt.Sprintf("sample ids (%d, not %d; %d in common)", len(ib), len(ia), common(ia, ib)))
		}
	}
	return out
}

func rowIDs(r *Run) []string {
	ids := make([]string, len(r.Rows))
	for i, row := range r.Rows {
		ids[i] = row.ID
	}
	slices.Sort(ids)
	return ids
}

// common counts the ids in both sorted lists.
func common(a, b []string) int {
	n := 0
	for _, id := range a {
		if _, ok := slices.BinarySearch(b, id); ok {
			n++
		}
	}
	return n
}

// Group is runs that measured the same samples.
type Group struct {
	Runs []string `json:"runs"`
	// Differs says how the group's samples differ from the first group's
	// (empty for the first group).
	Differs []string `json:"differs,omitempty"`
}

// Groups sorts runs into groups of the same samples (dataset identity,
// splits, selection, ids scored), in the order the runs come, and sets
// each run's group number in facts (one per run, in the same order).
func Groups(runs []*Run, facts []Facts) []Group {
	var groups []Group
	var heads []*Run
	for i, r := range runs {
		g := slices.IndexFunc(heads, func(h *Run) bool { return len(sampleDiff(h, r)) == 0 })
		if g < 0 {
			g = len(heads)
			heads = append(heads, r)
			var d []string
			if g > 0 {
				d = sampleDiff(heads[0], r)
			}
			groups = append(groups, Group{Differs: d})
		}
		groups[g].Runs = append(groups[g].Runs, r.Name)
		if facts != nil {
			facts[i].Group = g + 1
		}
	}
	return groups
}

// FactsOf returns the facts of runs, grouped (Groups).
func FactsOf(runs []*Run) ([]Facts, []Group) {
	facts := make([]Facts, len(runs))
	for i, r := range runs {
		facts[i] = r.Facts()
	}
	return facts, Groups(runs, facts)
}

// groupWarning says in one line per group which runs measured other
// samples than the first group; nil for one group.
func groupWarnings(groups []Group) []string {
	if len(groups) < 2 {
		return nil
	}
	out := []string{fmt.Sprintf("the runs measured %d different sets of samples; compare numbers within a group only (the runs table's group column). Group 1: %s", len(groups), strings.Join(groups[0].Runs, ", "))}
	for i, g := range groups[1:] {
		out = append(out, fmt.Sprintf("group %d (%s) differs from group 1 in %s", i+2, strings.Join(g.Runs, ", "), strings.Join(g.Differs, "; ")))
	}
	return out
}

// FactsTable is the runs table: run, model, spec, dataset, split, N and
// device, with the group column when the runs fall into several groups.
// The baseline's group is 0, shown as "baseline".
func FactsTable(facts []Facts) (header []string, rows [][]string) {
	header = []string{"run", "model", "spec", "dataset", "split", "N", "device"}
	grouped := slices.ContainsFunc(facts, func(f Facts) bool { return f.Group > 1 })
	if grouped {
		header = append(header, "group")
	}
	for _, f := range facts {
		ds := filepath.Base(f.Dataset)
		if f.Samples != "" {
			ds += " (" + short(f.Samples)[:min(8, len(short(f.Samples)))] + ")"
		}
		split := f.Split
		if f.Selection != "all" {
			split += ", " + f.Selection
		}
		row := []string{f.Name, f.Model, dash(f.Spec), ds, split, fmt.Sprint(f.N), dash(f.Device)}
		if grouped {
			g := fmt.Sprint(f.Group)
			if f.Group == 0 {
				g = "baseline"
			}
			row = append(row, g)
		}
		rows = append(rows, row)
	}
	return header, rows
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
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
