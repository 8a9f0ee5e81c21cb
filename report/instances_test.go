package report

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
)

// toyInstanceRun runs the toy Mask R-CNN on the hand-worked instance case
// (internal/fixture; mask AP 45/101) with detections.json.
func toyInstanceRun(t *testing.T, ds, model, out string, shard eval.Shard) *eval.Results {
	t.Helper()
	r, err := models.ResolveSpec(models.SpecRequest{Model: model, Spec: "maskrcnn-toy"})
	if err != nil {
		t.Fatal(err)
	}
	cfg := eval.Config{Dataset: ds, Model: model, Spec: r.Spec, Session: models.SessionOptions{Threads: 1},
		Out: out, Metrics: eval.DefaultOptions(), Batch: 1, Workers: 2, Shard: shard, SavePreds: true, Version: "test"}
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func instanceCase(t *testing.T) (ds, model string) {
	t.Helper()
	testmodel.NeedRuntime(t)
	dir := t.TempDir()
	ds = filepath.Join(dir, "ds")
	fixture.WriteInstanceDataset(t, ds)
	return ds, testmodel.Built(t, dir, "maskrcnn-toy", onnxbuild.Options{})
}

// AP is not a sum over images: merge recomputes it from the shards'
// per-image records, and gets the unsharded run's figures exactly.
func TestMergeInstancesExact(t *testing.T) {
	ds, model := instanceCase(t)
	dir := t.TempDir()
	whole := toyInstanceRun(t, ds, model, filepath.Join(dir, "whole"), eval.Shard{})
	s0 := toyInstanceRun(t, ds, model, filepath.Join(dir, "s0"), eval.Shard{Index: 0, Count: 2})
	toyInstanceRun(t, ds, model, filepath.Join(dir, "s1"), eval.Shard{Index: 1, Count: 2})
	for _, m := range s0.Metrics {
		if m.Name == "mask_ap" && m.Accumulated != nil && *m.Accumulated == 45.0/101 {
			t.Fatal("shard 0 alone has the whole run's AP: the test would not tell")
		}
	}
	out := filepath.Join(dir, "merged")
	got, _, err := Merge([]string{filepath.Join(dir, "s1"), filepath.Join(dir, "s0")}, MergeOptions{Out: out})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Metrics, whole.Metrics) || !reflect.DeepEqual(got.Instances, whole.Instances) {
		t.Errorf("merged metrics or instances differ from the unsharded run's:\n%+v\n%+v", got.Instances, whole.Instances)
	}
	back := mustLoad(t, out)
	if !reflect.DeepEqual(back.Results.Metrics, whole.Metrics) {
		t.Error("merged results.json does not read back equal")
	}
	for _, m := range back.Results.Metrics {
		if m.Name == "mask_ap" && (m.Accumulated == nil || math.Abs(*m.Accumulated-45.0/101) > 1e-12) {
			t.Errorf("merged mask_ap %v, want 45/101", m.Accumulated)
		}
	}
	a, _ := os.ReadFile(filepath.Join(dir, "whole", eval.DetectionsFile))
	b, err := os.ReadFile(filepath.Join(out, eval.DetectionsFile))
	if err != nil || !bytes.Equal(a, b) {
		t.Errorf("merged detections.json differs from the unsharded one (%v)", err)
	}
}

// The report of an instance run: the AP table in Markdown, HTML, JUnit
// and summary.json, the COCO precision/recall plot, and gate rules on the
// COCO metrics (mask_ap is 45/101 = 0.4455, mask_ap_m null).
func TestInstanceReport(t *testing.T) {
	ds, model := instanceCase(t)
	dir := t.TempDir()
	toyInstanceRun(t, ds, model, filepath.Join(dir, "toy"), eval.Shard{})
	run := mustLoad(t, filepath.Join(dir, "toy"))
	g, err := ParseGate("gate.yaml", []byte("rules:\n  - mask_ap >= 0.5\n  - box_ap50 >= 0.55\n  - mask_ap_m >= 0.1\n"))
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "report")
	rep, err := Write([]*Run{run}, Options{Out: out, Gate: g, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	status := map[string]string{}
	for _, c := range rep.Verdicts[0].Checks {
		status[c.Rule] = c.Status
	}
	// 56/101 = 0.5545 passes 0.55; a null statistic cannot pass.
	if status["mask_ap >= 0.5"] != Fail || status["box_ap50 >= 0.55"] != Pass || status["mask_ap_m >= 0.1"] == Pass || rep.ExitCode() == 0 {
		t.Errorf("gate %v, exit %d", status, rep.ExitCode())
	}
	md, _ := os.ReadFile(filepath.Join(out, MarkdownFile))
	for _, want := range []string{"| ap | 0.4455 | 0.4455 |", "| ap50 | 0.5545 | 0.5545 |", "| ap_m | – | – |", "| ar100 | 0.5000 | 0.5000 |"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %q:\n%s", want, md)
		}
	}
	html, _ := os.ReadFile(filepath.Join(out, HTMLFile))
	if !strings.Contains(string(html), "<h2>COCO AP</h2>") || !strings.Contains(string(html), "<code>ap75</code>") {
		t.Error("report.html has no AP table")
	}
	junit, _ := os.ReadFile(filepath.Join(out, JUnitFile))
	for _, want := range []string{`<property name="mask_ap" value="0.445545">`, `<property name="box_ap_l" value="null">`} {
		if !strings.Contains(string(junit), want) {
			t.Errorf("junit.xml lacks %s", want)
		}
	}
	js, _ := os.ReadFile(filepath.Join(out, SummaryFile))
	if !strings.Contains(string(js), `"coco_ap"`) {
		t.Error("summary.json has no coco_ap")
	}
	found := false
	for _, f := range rep.Figures {
		if f.Kind == "coco-pr" {
			found = true
			if _, err := os.Stat(filepath.Join(out, f.PNG)); err != nil {
				t.Error(err)
			}
		}
	}
	if !found {
		t.Error("no COCO precision/recall figure")
	}
}
