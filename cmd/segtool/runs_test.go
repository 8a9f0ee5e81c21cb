package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// predsEval scores the dataset's own masks as predictions into out, with
// extra eval flags.
func predsEval(t *testing.T, ds, out string, extra ...string) {
	t.Helper()
	args := append([]string{"--quiet", "eval", "--preds", filepath.Join(ds, "masks"), "--dataset", ds, "--split", "all", "--out", out}, extra...)
	if code, text := run(t, args...); code != 0 {
		t.Fatalf("eval: exit %d: %s", code, text)
	}
}

// TestReportStrictAfterTrimap: segtool trimap rewrites the manifest with a
// new trimap column between two identical evaluations; the second still
// passes report --strict against the first.
func TestReportStrictAfterTrimap(t *testing.T) {
	_, ds := trimapDataset(t)
	runs := filepath.Join(t.TempDir(), "runs")
	predsEval(t, ds, filepath.Join(runs, "before"))
	if code, text := run(t, "--quiet", "trimap", "--dataset", ds, "--out-dir", "trimaps-sp"); code != 0 {
		t.Fatalf("trimap: exit %d: %s", code, text)
	}
	predsEval(t, ds, filepath.Join(runs, "after"))
	code, text := run(t, "report", filepath.Join(runs, "after"), "--baseline", filepath.Join(runs, "before"), "--strict",
		"--rule", "dice >= 0.99", "--out", filepath.Join(t.TempDir(), "rep"))
	if code != 0 || strings.Contains(text, "WARNING") || !strings.Contains(text, "Gate: PASS") {
		t.Errorf("report --strict after trimap: exit %d:\n%s", code, text)
	}
}

// TestReportParentFolderGroups: report takes a folder of runs, groups the
// run on fewer samples apart with a warning saying why, and --strict
// refuses the mix (exit 2).
func TestReportParentFolderGroups(t *testing.T) {
	_, ds := trimapDataset(t)
	runs := filepath.Join(t.TempDir(), "runs")
	predsEval(t, ds, filepath.Join(runs, "all"))
	predsEval(t, ds, filepath.Join(runs, "first2"), "--limit", "2")
	code, text := run(t, "report", runs, "--out", filepath.Join(t.TempDir(), "rep"), "--worst", "0")
	for _, want := range []string{"report: 2 run(s)", "group 2 (first2) differs from group 1 in selection the first 2, not all", "first2  preds "} {
		if code != 0 || !strings.Contains(text, want) {
			t.Errorf("report runs/: exit %d, want %q:\n%s", code, want, text)
		}
	}
	code, text = run(t, "report", runs, "--strict", "--out", filepath.Join(t.TempDir(), "rep"))
	if code != 2 || !strings.Contains(text, "runs are not comparable") || !strings.Contains(text, "without --strict") {
		t.Errorf("report runs/ --strict: exit %d:\n%s", code, text)
	}
}

// TestRunsLsShow: runs ls lists every run below a folder with its facts
// and headline values; runs show prints one run; a folder without runs is
// a usage error.
func TestRunsLsShow(t *testing.T) {
	_, ds := trimapDataset(t)
	runs := filepath.Join(t.TempDir(), "runs")
	predsEval(t, ds, filepath.Join(runs, "m", "all"))
	predsEval(t, ds, filepath.Join(runs, "m", "first2"), "--limit", "2")
	code, text := run(t, "runs", "ls", runs)
	for _, want := range []string{"run     model", "dice", "all     preds ", "first2  preds ", "all, the first 2  2", "group", "1.0000"} {
		if code != 0 || !strings.Contains(text, want) {
			t.Errorf("runs ls: exit %d, want %q:\n%s", code, want, text)
		}
	}
	code, text = run(t, "--log-format", "json", "runs", "ls", runs)
	if code != 0 || !strings.Contains(text, `"command":"runs ls"`) || !strings.Contains(text, `"selection":"the first 2"`) {
		t.Errorf("runs ls, json: exit %d:\n%s", code, text)
	}
	code, text = run(t, "runs", "show", filepath.Join(runs, "m", "first2"))
	for _, want := range []string{"run:          first2", "split:        all, the first 2", "2 selected, 2 scored", "metric", "boundary_f", "accumulated"} {
		if code != 0 || !strings.Contains(text, want) {
			t.Errorf("runs show: exit %d, want %q:\n%s", code, want, text)
		}
	}
	if code, text := run(t, "runs", "ls", ds); code != 2 || !strings.Contains(text, "no finished eval runs") {
		t.Errorf("runs ls on a dataset: exit %d:\n%s", code, text)
	}
	unfinished := filepath.Join(runs, "m", "killed")
	os.MkdirAll(unfinished, 0o755)
	os.WriteFile(filepath.Join(unfinished, "run.json"), []byte("{}\n"), 0o644)
	if code, text := run(t, "runs", "ls", unfinished); code != 2 || !strings.Contains(text, "killed has no results.json") {
		t.Errorf("runs ls on an unfinished run: exit %d:\n%s", code, text)
	}
	if code, text := run(t, "runs", "show"); code != 2 || !strings.Contains(text, "give one RUN") {
		t.Errorf("runs show without a run: exit %d:\n%s", code, text)
	}
}
