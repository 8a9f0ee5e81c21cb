package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/models"
)

func segtoolReport(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return run(t, args...)
}

// handResults writes a hand-made results.json: the given metric values
// (accumulated where eval has an accumulated value, else the mean) and an
// inference p50, and returns its path.
func handResults(t *testing.T, dir, name string, vals map[string]float64, p50 float64, manifest string) string {
	t.Helper()
	res := eval.Results{
		Model:   &eval.ModelRef{Path: "m.onnx", SHA256: "abc", Spec: models.Presets()["oracle"]},
		Dataset: eval.DatasetRef{Path: "ds", ManifestSHA256: manifest, Splits: []string{"test"}, Samples: 10},
		Options: eval.RunOptions{Threshold: 0.5},
		Counts:  eval.Counts{Selected: 10, Scored: 10},
		Timing:  eval.Timing{Images: 10, Inference: eval.Latency{Mean: p50, P50: p50, P90: p50, P99: p50}, EndToEnd: eval.Latency{Mean: p50, P50: p50, P90: p50, P99: p50}, Throughput: 1000 / p50},
	}
	for _, m := range eval.DefaultRegistry().Metrics() {
		v, ok := vals[m.Name]
		if !ok {
			continue
		}
		s := eval.MetricSummary{Name: m.Name, Group: m.Group, Definition: m.Definition, Unit: m.Unit, HigherBetter: m.HigherBetter, MeanImages: 10}
		if m.Accumulated != nil {
			s.Accumulated = &v
		}
		s.Mean = &v
		res.Metrics = append(res.Metrics, s)
	}
	b, _ := json.MarshalIndent(res, "", "  ")
	p := filepath.Join(dir, name, "results.json")
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestReportGateExitCodes runs the gate on hand-made results.json files:
// 0 when the rules hold, 1 on a regression naming the rule and its
// numbers, 2 on bad input.
func TestReportGateExitCodes(t *testing.T) {
	dir := t.TempDir()
	base := handResults(t, dir, "base", map[string]float64{"dice": 0.95, "miou": 0.91}, 10, "aaaa")
	run := handResults(t, dir, "run", map[string]float64{"dice": 0.94, "miou": 0.91}, 10.5, "aaaa")
	other := handResults(t, dir, "other", map[string]float64{"dice": 0.94, "miou": 0.91}, 10, "bbbb")
	gate := filepath.Join(dir, "gate.yaml")
	os.WriteFile(gate, []byte("rules:\n  - dice >= 0.9\n  - p50_latency_ratio <= 1.10\nmax_drop:\n  dice: 0.02\n"), 0o644)
	tight := filepath.Join(dir, "tight.yaml")
	os.WriteFile(tight, []byte("rules:\n  - dice >= 0.9\nmax_drop:\n  dice: 0.005\n"), 0o644)
	badGate := filepath.Join(dir, "bad.yaml")
	os.WriteFile(badGate, []byte("rules:\n  - dice >= 0.9\nceiling: {mad: 1}\n"), 0o644)
	o := func() string { return filepath.Join(t.TempDir(), "report") }
	for _, tc := range []struct {
		args []string
		code int
		want []string
	}{
		// Flags after the run, as CI scripts write them.
		{[]string{"report", run, "--baseline", base, "--gate", gate, "--out", o()}, 0, []string{"PASS", "p50_latency_ratio = 1.05", "Gate: PASS"}},
		{[]string{"report", "--rule", "dice >= 0.94", "--out", o(), run}, 0, []string{"dice = 0.94, >= 0.94"}},
		{[]string{"report", run, "--baseline", base, "--gate", tight, "--out", o()}, 1, []string{"gate FAIL", "max_drop dice 0.005", "dropped by 0.01 (0.95 -> 0.94)", "tight.yaml:4"}},
		{[]string{"report", run, "--rule", "dice >= 0.95", "--out", o()}, 1, []string{"dice = 0.94, not >= 0.95", "--rule"}},
		{[]string{"report", run, "--baseline", base, "--rule", "p50_latency_ratio <= 1.01", "--out", o()}, 1, []string{"p50_latency_ratio = 1.05, not <= 1.01"}},
		{[]string{"report", run, "--rule", "boundary_iou >= 0.5", "--out", o()}, 2, []string{"gate ERROR", "no metric \"boundary_iou\""}},
		{[]string{"report", run, "--rule", "dicee >= 0.5", "--out", o()}, 2, []string{"dicee"}},
		{[]string{"report", run, "--max-drop", "dice=0.01", "--out", o()}, 2, []string{"--baseline"}},
		{[]string{"report", run, "--baseline", other, "--rule", "dice >= 0.9", "--out", o()}, 0, []string{"WARNING", "manifest"}},
		{[]string{"report", run, "--baseline", other, "--rule", "dice >= 0.9", "--strict", "--out", o()}, 2, []string{"WARNING", "--strict"}},
		{[]string{"report", run, "--gate", badGate, "--out", o()}, 2, []string{"--gate", "line 3", "ceiling"}},
		{[]string{"report", run, "--rule", "dice is good", "--out", o()}, 2, []string{"operator \"is\""}},
		{[]string{"report", run, "--rule", "dice", "--out", o()}, 2, []string{"VALUE OP NUMBER"}},
		{[]string{"report", filepath.Join(dir, "missing"), "--out", o()}, 2, []string{"missing"}},
		{[]string{"report", t.TempDir(), "--out", o()}, 2, []string{"no finished eval runs (no results.json"}},
		{[]string{"report", run}, 2, []string{"--out"}},
		{[]string{"report", "--out", o()}, 2, []string{"RUN"}},
		{[]string{"report", run, "--out", o(), "--format", "pdf"}, 2, []string{"--format"}},
		{[]string{"report", run, "--out", o(), "--by", "sharpness"}, 2, []string{"--by"}},
		{[]string{"report", run, "--out", o(), "--bogus"}, 2, []string{"bogus"}},
	} {
		code, out := segtoolReport(t, tc.args...)
		out = strings.Join(strings.Fields(out), " ")
		if code != tc.code {
			t.Errorf("segtool %s: exit %d, want %d:\n%s", strings.Join(tc.args, " "), code, tc.code, out)
			continue
		}
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("segtool %s: output lacks %q:\n%s", strings.Join(tc.args, " "), w, out)
			}
		}
	}
	// A failing gate still writes every report, JUnit included.
	out := o()
	if code, _ := segtoolReport(t, "report", run, "--baseline", base, "--gate", tight, "--out", out); code != 1 {
		t.Fatalf("exit %d", code)
	}
	for _, f := range []string{"report.md", "report.html", "junit.xml", "summary.json"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	junit, _ := os.ReadFile(filepath.Join(out, "junit.xml"))
	if !strings.Contains(string(junit), `<failure message="dice dropped by 0.01`) {
		t.Errorf("junit.xml lacks the failure:\n%s", junit)
	}
}

// TestReportOnEval: eval the oracle into shards and whole, merge the
// shards, report and compare, all through the command line.
func TestReportOnEval(t *testing.T) {
	model, ds := evalFixture(t)
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	common := []string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--save-preds"}
	for _, r := range []struct{ out, shard string }{{"whole", ""}, {"s0", "0/2"}, {"s1", "1/2"}} {
		args := append(append([]string{}, common...), "--out", p(r.out))
		if r.shard != "" {
			args = append(args, "--shard", r.shard)
		}
		if code, out := run(t, args...); code != 0 {
			t.Fatalf("eval %s: exit %d: %s", r.out, code, out)
		}
	}
	code, out := segtoolReport(t, "report", "merge", p("s0"), p("s1"), "--out", p("merged"))
	if code != 0 || !strings.Contains(out, "3 rows") {
		t.Fatalf("report merge: exit %d: %s", code, out)
	}
	w, m := readResults(t, p("whole")), readResults(t, p("merged"))
	if !reflect.DeepEqual(w.Metrics, m.Metrics) || !reflect.DeepEqual(w.Sweep, m.Sweep) || w.Counts != m.Counts {
		t.Error("merged shards differ from the unsharded run")
	}
	if code, out := segtoolReport(t, "report", "merge", p("s0"), p("s1"), "--out", p("merged")); code != 2 || !strings.Contains(out, "--force") {
		t.Errorf("merge into an existing run: exit %d: %s", code, out)
	}
	if code, out := segtoolReport(t, "report", "merge", p("s0"), p("whole"), "--out", p("m2")); code != 2 || !strings.Contains(out, "not a shard") {
		t.Errorf("merge with an unsharded run: exit %d: %s", code, out)
	}

	// The merged run against the whole one: same numbers, so the gate holds.
	rep := p("report")
	code, out = segtoolReport(t, "report", p("merged"), "--baseline", p("whole"), "--gate", "../../configs/regression.yaml",
		"--rule", "dice >= 0", "--out", rep, "--worst", "2")
	if code != 1 { // the example gate's floors are for real models, not the oracle on portraits
		t.Errorf("report with configs/regression.yaml: exit %d: %s", code, out)
	}
	if !strings.Contains(out, "max_drop dice 0.005") || !strings.Contains(out, "dice did not get worse") {
		t.Errorf("report output:\n%s", out)
	}
	for _, f := range []string{"report.md", "report.html", "junit.xml", "summary.json", "plots/latency_inference.png", "plots/delta.svg"} {
		if _, err := os.Stat(filepath.Join(rep, f)); err != nil {
			t.Error(err)
		}
	}
	if g, _ := filepath.Glob(filepath.Join(rep, "gallery", "*.jpg")); len(g) != 2 {
		t.Errorf("gallery files %v, want 2", g)
	}

	code, out = segtoolReport(t, "report", "compare", p("whole"), p("merged"))
	if code != 0 || !strings.Contains(out, "3 equal") || !strings.Contains(out, "no image changed its dice") || !strings.Contains(out, "inference_p50_ms") {
		t.Errorf("report compare: exit %d:\n%s", code, out)
	}
	if code, out := segtoolReport(t, "report", "compare", p("whole")); code != 2 || !strings.Contains(out, "two runs") {
		t.Errorf("compare with one run: exit %d: %s", code, out)
	}
}

func TestReportHelpTeaches(t *testing.T) {
	helpTeaches(t, "report", "--baseline", "--gate", "max_drop", "p50_latency_ratio", "Exit codes", "compare", "merge", "--save-preds", "noise")
	code, out := segtoolReport(t, "report", "compare", "--help")
	if code != 0 || !strings.Contains(out, "sign test") {
		t.Errorf("report compare --help: %d %s", code, out)
	}
}
