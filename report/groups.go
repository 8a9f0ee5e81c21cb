package report

// A runs table's facts, and the groups of runs that measured the same
// samples: what makes numbers comparable.

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

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
			h := short(f.Samples)
			ds += " (" + h[:min(8, len(h))] + ")"
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
