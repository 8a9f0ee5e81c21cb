package report

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/segtool/segtool/eval"
)

// TestMergeExact: two shards made by eval.Run with Config.Shard (every
// second sample each), merged, give exactly the aggregates of one unsharded
// run of the same predictions: counts, every metric (accumulated and mean),
// the sweep and the totals compare equal bit for bit, run.json byte for
// byte, and the rows are the same rows.
func TestMergeExact(t *testing.T) {
	ds := demoDataset(t, 7)
	preds := filepath.Join(t.TempDir(), "preds")
	writePreds(t, ds, preds, 0)
	dir := t.TempDir()
	whole := predsRun(t, ds, preds, filepath.Join(dir, "whole"), eval.Shard{})
	predsRun(t, ds, preds, filepath.Join(dir, "s0"), eval.Shard{Index: 0, Count: 2})
	predsRun(t, ds, preds, filepath.Join(dir, "s1"), eval.Shard{Index: 1, Count: 2})

	out := filepath.Join(dir, "merged")
	got, info, err := Merge([]string{filepath.Join(dir, "s1"), filepath.Join(dir, "s0")}, MergeOptions{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if info.Rows != 7 || info.Files != 7 || !strings.Contains(info.Order, "manifest") {
		t.Errorf("merge info %+v, want 7 rows and 7 preds in manifest order", info)
	}
	if !reflect.DeepEqual(got.Counts, whole.Counts) {
		t.Errorf("counts %+v, unsharded %+v", got.Counts, whole.Counts)
	}
	if !reflect.DeepEqual(got.Metrics, whole.Metrics) {
		for i := range whole.Metrics {
			if !reflect.DeepEqual(got.Metrics[i], whole.Metrics[i]) {
				t.Errorf("%s: merged %+v, unsharded %+v", whole.Metrics[i].Name, got.Metrics[i], whole.Metrics[i])
			}
		}
	}
	if !reflect.DeepEqual(got.Sweep, whole.Sweep) || !reflect.DeepEqual(got.Totals, whole.Totals) {
		t.Error("sweep or totals differ from the unsharded run")
	}
	if got.Dataset.Shard != nil || got.Dataset.Samples != whole.Dataset.Samples {
		t.Errorf("merged dataset %+v", got.Dataset)
	}
	// Read back from disk, as report and gate do.
	back := mustLoad(t, out)
	if !reflect.DeepEqual(back.Results.Metrics, whole.Metrics) {
		t.Error("merged results.json does not read back equal")
	}
	wk, _ := os.ReadFile(filepath.Join(dir, "whole", eval.RunFile))
	if !bytes.Equal(back.Key, wk) {
		t.Errorf("merged run.json\n%s\nunsharded\n%s", back.Key, wk)
	}
	wr := mustLoad(t, filepath.Join(dir, "whole")).Rows
	gr := back.Rows
	for _, rs := range [][]eval.Row{wr, gr} {
		sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
		for i := range rs {
			rs[i].MS = eval.Times{} // timings are measured, not merged
		}
	}
	if !reflect.DeepEqual(wr, gr) {
		t.Error("merged rows differ from the unsharded run's")
	}
	// The merged run's per_image.jsonl is in manifest (= id) order.
	ids := []string{}
	for _, r := range mustLoad(t, out).Rows {
		ids = append(ids, r.ID)
	}
	if !sort.StringsAreSorted(ids) {
		t.Errorf("merged rows not in manifest order: %v", ids)
	}
	// The gate sees no difference between the merged and the unsharded run.
	if w := Incompatible(back, mustLoad(t, filepath.Join(dir, "whole"))); len(w) != 0 {
		t.Errorf("merged vs unsharded warnings %v", w)
	}
}

// TestMergeRefuses: overlapping or mismatched runs and a missing shard.
func TestMergeRefuses(t *testing.T) {
	ds := demoDataset(t, 5)
	preds := filepath.Join(t.TempDir(), "preds")
	writePreds(t, ds, preds, 0)
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	predsRun(t, ds, preds, p("whole"), eval.Shard{})
	predsRun(t, ds, preds, p("a0"), eval.Shard{Index: 0, Count: 3})
	predsRun(t, ds, preds, p("a1"), eval.Shard{Index: 1, Count: 3})
	predsRun(t, ds, preds, p("b1"), eval.Shard{Index: 1, Count: 2})
	// The same shard measured at another threshold.
	cfg := eval.Config{Dataset: ds, Preds: preds, Metrics: eval.DefaultOptions(), Out: p("t1"), Workers: 1, Batch: 1, Shard: eval.Shard{Index: 1, Count: 3}}
	cfg.Metrics.Threshold = 0.3
	if _, err := eval.Run(t.Context(), cfg); err != nil {
		t.Fatal(err)
	}
	if err := os.CopyFS(p("a0copy"), os.DirFS(p("a0"))); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		runs    []string
		partial bool
		want    string
	}{
		{[]string{"a0", "a1"}, false, "shards 2 of 3 are missing"},
		{[]string{"a0", "t1"}, true, "threshold"},
		{[]string{"a0", "b1"}, true, "different shardings"},
		{[]string{"a0", "a0copy"}, true, "both shard 0"},
		{[]string{"a0", "whole"}, true, "not a shard"},
		{[]string{"a0"}, true, "at least two"},
	} {
		var runs []string
		for _, r := range tc.runs {
			runs = append(runs, p(r))
		}
		_, _, err := Merge(runs, MergeOptions{Out: filepath.Join(t.TempDir(), "m"), Partial: tc.partial})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("merge %v: %v, want an error naming %q", tc.runs, err, tc.want)
		}
	}
	// Overlapping ids without shard fields (two copies of one run with
	// their shards taken out of run.json).
	for _, n := range []string{"x", "y"} {
		if err := os.CopyFS(p(n), os.DirFS(p("a1"))); err != nil {
			t.Fatal(err)
		}
		k, _ := os.ReadFile(p(n) + "/" + eval.RunFile)
		k2, _, err := stripShard(k)
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(p(n)+"/"+eval.RunFile, k2, 0o644)
	}
	if _, _, err := Merge([]string{p("x"), p("y")}, MergeOptions{Out: filepath.Join(t.TempDir(), "m")}); err == nil || !strings.Contains(err.Error(), "overlap") {
		t.Errorf("overlapping runs: %v", err)
	}
	// A partial merge is allowed when asked for, and the folder must be new.
	out := filepath.Join(t.TempDir(), "m")
	if _, info, err := Merge([]string{p("a0"), p("a1")}, MergeOptions{Out: out, Partial: true}); err != nil || info.Rows != 4 {
		t.Errorf("partial merge: %+v %v", info, err)
	}
	if _, _, err := Merge([]string{p("a0"), p("a1")}, MergeOptions{Out: out, Partial: true}); err == nil {
		t.Error("merge into an existing run folder succeeded")
	}
}

func TestStripShard(t *testing.T) {
	in := []byte("{\n  \"dataset\": \"d\",\n  \"splits\": [],\n  \"shard\": {\n    \"index\": 1,\n    \"count\": 4\n  },\n  \"sweep\": [\n    0.5\n  ],\n  \"x\": \"<&>\"\n}\n")
	out, sh, err := stripShard(in)
	if err != nil {
		t.Fatal(err)
	}
	want := "{\n  \"dataset\": \"d\",\n  \"splits\": [],\n  \"sweep\": [\n    0.5\n  ],\n  \"x\": \"<&>\"\n}\n"
	if string(out) != want || sh == nil || *sh != (eval.Shard{Index: 1, Count: 4}) {
		t.Errorf("stripShard = %q %+v, want %q", out, sh, want)
	}
}
