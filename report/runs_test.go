package report

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

// TestGroupsRefusesUnderStrict: a parent folder holding a whole run, a
// shard of it and a re-run after a column was added to the manifest. The
// re-run groups with the whole run; the shard is its own group, named by
// its selection; a strict gate refuses the mix.
func TestGroupsRefusesUnderStrict(t *testing.T) {
	ds := demoDataset(t, 6)
	parent := filepath.Join(t.TempDir(), "runs")
	preds := filepath.Join(t.TempDir(), "preds")
	writePreds(t, ds, preds, 0)
	predsRun(t, ds, preds, filepath.Join(parent, "a", "whole"), eval.Shard{})
	predsRun(t, ds, preds, filepath.Join(parent, "b", "shard"), eval.Shard{Index: 0, Count: 2})
	addNotes(t, ds)
	predsRun(t, ds, preds, filepath.Join(parent, "c", "again"), eval.Shard{})

	dirs, err := FindRuns(parent)
	if err != nil || len(dirs) != 3 {
		t.Fatalf("FindRuns: %v %v, want 3 runs", dirs, err)
	}
	runs, err := LoadAll([]string{parent})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range runs {
		if len(r.Notes) != 0 || r.FG == nil {
			t.Errorf("%s: notes %q, fg %v: the added column must not read as a changed dataset", r.Name, r.Notes, r.FG != nil)
		}
	}
	rep, err := Write(runs, Options{Out: t.TempDir(), Formats: []string{FormatMarkdown, FormatJSON}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range rep.Runs {
		names = append(names, r.Name)
	}
	if !slices.Equal(names, []string{"whole", "again", "shard"}) || len(rep.Groups) != 2 {
		t.Fatalf("runs %v, groups %+v: want whole and again in group 1, shard in 2", names, rep.Groups)
	}
	w := strings.Join(rep.Warnings, "\n")
	if !strings.Contains(w, "group 2 (shard) differs from group 1 in selection all, shard 0 of 2, not all") {
		t.Errorf("warnings %q", rep.Warnings)
	}
	md, _ := os.ReadFile(filepath.Join(rep.opt.Out, MarkdownFile))
	if !strings.Contains(string(md), "| run | model | spec | dataset | split | N | device | group |") {
		t.Errorf("report.md has no runs table:\n%s", md)
	}

	g := NewGate()
	g.Strict = true
	_, err = Write(runs, Options{Out: t.TempDir(), Gate: g, Formats: []string{FormatJSON}})
	if !errors.Is(err, ErrNotComparable) || !strings.Contains(err.Error(), "shard") {
		t.Errorf("strict: %v, want ErrNotComparable naming the shard", err)
	}
	// The same samples are no mix, strict or not.
	if _, err := Write([]*Run{runs[0], runs[2]}, Options{Out: t.TempDir(), Gate: g, Formats: []string{FormatJSON}}); err != nil {
		t.Errorf("strict, same samples: %v", err)
	}
	if _, err := FindRuns(preds); !errors.Is(err, ErrNoRuns) {
		t.Errorf("a folder without runs: %v", err)
	}
}

// addNotes rewrites the manifest with a note on every row, as adding a
// column does: new manifest bytes, the same samples.
func addNotes(t *testing.T, ds string) {
	t.Helper()
	d, err := dataset.Open(ds)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Samples {
		d.Samples[i].Notes = append(d.Samples[i].Notes, "reviewed")
	}
	if err := dataset.WriteManifest(ds, d.Samples); err != nil {
		t.Fatal(err)
	}
}

// TestIncompatibleDatasetAndSpec: runs that recorded the same sample
// identity are one dataset whatever their manifests; other identities, or
// other manifests where one run predates identities, are not. A spec that
// differs warns for the same model file only.
func TestIncompatibleDatasetAndSpec(t *testing.T) {
	dir := t.TempDir()
	vals := map[string]float64{"dice": 0.9}
	load := func(name string, mutate func(*eval.Results)) *Run {
		return mustLoad(t, resultsFile(t, dir, name, vals, 10, mutate))
	}
	base := load("base", func(r *eval.Results) { r.Dataset.SamplesSHA256 = "id1" })
	column := load("column", func(r *eval.Results) { r.Dataset.ManifestSHA256, r.Dataset.SamplesSHA256 = "beef", "id1" })
	other := load("other", func(r *eval.Results) { r.Dataset.SamplesSHA256 = "id2" })
	old := load("old", func(r *eval.Results) { r.Dataset.ManifestSHA256 = "beef" })
	if w := Incompatible(column, base); len(w) != 0 {
		t.Errorf("same samples, new manifest: %q", w)
	}
	if w := Incompatible(other, base); len(w) != 1 || !strings.Contains(w[0], "samples id2") {
		t.Errorf("other samples: %q", w)
	}
	if w := Incompatible(old, base); len(w) != 1 || !strings.Contains(w[0], "manifest beef") {
		t.Errorf("a run without an identity, another manifest: %q", w)
	}

	otherModel := load("m2", func(r *eval.Results) { r.Model.Path, r.Model.SHA256, r.Model.Spec.Width = "m2.onnx", "def", 320 })
	if w := Incompatible(otherModel, base); len(w) != 0 {
		t.Errorf("another model with its own spec: %q", w)
	}
	sameModel := load("m1", func(r *eval.Results) { r.Model.Spec.Width = 320 })
	if w := Incompatible(sameModel, base); len(w) != 1 || !strings.Contains(w[0], "width 320, baseline 0") {
		t.Errorf("the same model with another spec: %q", w)
	}
	c, err := Compare(base, otherModel, "dice", 3)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Warnings) != 0 || len(c.Facts) != 2 || c.Facts[1].Model != "m2.onnx" || c.Facts[0].Spec != "oracle" {
		t.Errorf("compare two models: warnings %q, facts %+v", c.Warnings, c.Facts)
	}
}
