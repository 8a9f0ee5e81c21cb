package main

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/internal/testmodel"
)

// eval --preds FILE.json on the hand-worked instance case
// (internal/fixture): the AP table (mask AP 45/101 = 0.4455, null ranges
// as -) and the summary line.
func TestEvalInstancesCommand(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "ds")
	fixture.WriteInstanceDataset(t, ds)
	preds := filepath.Join(dir, "det.json")
	fixture.WriteJSON(t, preds, fixture.InstanceDetections())
	code, out := run(t, "eval", "--preds", preds, "--dataset", ds, "--out", filepath.Join(dir, "run"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, out)
	}
	for _, want := range []string{"COCO box_ mask_", "ap 0.4455 0.4455", "ap50 0.5545 0.5545", "ap_m - -", "3 detections of 3 objects", "1 FP, 1 FN (masks)"} {
		if !strings.Contains(flat(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, bad := range [][]string{{"--score-threshold", "1.5"}, {"--save-overlays"}, {"--batch", "2"}} {
		code, out = run(t, append([]string{"eval", "--preds", preds, "--dataset", ds, "--out", filepath.Join(dir, "run2")}, bad...)...)
		if code != 2 || !strings.Contains(out, bad[0]) {
			t.Errorf("%s: exit %d, want 2 naming it: %s", strings.Join(bad, " "), code, out)
		}
	}
}

// Bad results files exit 2 naming the problem.
func TestEvalBadResultsFiles(t *testing.T) {
	dir := t.TempDir()
	ds := filepath.Join(dir, "ds")
	fixture.WriteInstanceDataset(t, ds)
	good, err := json.Marshal(fixture.InstanceDetections())
	if err != nil {
		t.Fatal(err)
	}
	spoil := func(f func([]map[string]any)) string {
		d := fixture.InstanceDetections()
		f(d)
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	for i, tc := range []struct {
		name, text, want string
	}{
		{"unknown image", spoil(func(d []map[string]any) { d[1]["image_id"] = 3 }), "image id not in the image list"},
		{"unknown category", spoil(func(d []map[string]any) { d[0]["category_id"] = 18 }), "unknown category"},
		{"RLE counts short of h·w", spoil(func(d []map[string]any) {
			d[2]["segmentation"] = map[string]any{"size": []int{30, 40}, "counts": []int{5, 10}}
		}), "RLE"},
		{"polygon of 2 points", spoil(func(d []map[string]any) { d[0]["segmentation"] = [][]float64{{0, 0, 5, 5}} }), "polygon"},
		{"NaN score", strings.Replace(string(good), `"score":0.9`, `"score":NaN`, 1), "score"},
		{"not JSON", "{", "results file"},
	} {
		p := filepath.Join(dir, "bad.json")
		if err := os.WriteFile(p, []byte(tc.text), 0o644); err != nil {
			t.Fatal(err)
		}
		code, out := run(t, "eval", "--preds", p, "--dataset", ds, "--out", filepath.Join(dir, "run", string(rune('a'+i))))
		if code != 2 || !strings.Contains(out, "--preds") || !strings.Contains(out, tc.want) {
			t.Errorf("%s: exit %d, want 2 naming --preds and %q: %s", tc.name, code, tc.want, out)
		}
	}
}

// The toy Mask R-CNN through the command line: eval --save-preds's
// detections.json refers to the images of `segtool export --format coco`
// (ids 1..N in manifest order), and pycocotools' COCOeval on the exported
// file and detections.json gives results.json's 24 figures to 1e-9 (-1
// as null).
func TestEvalInstancesMatchExportAndPycocotools(t *testing.T) {
	shareddata.Pycocotools(t)
	testmodel.NeedRuntime(t)
	dir := t.TempDir()
	ds := filepath.Join(dir, "ds")
	fixture.WriteInstanceDataset(t, ds)
	gt, model, out := filepath.Join(dir, "gt.json"), filepath.Join(dir, "toy.onnx"), filepath.Join(dir, "run")
	for _, args := range [][]string{
		{"export", "--format", "coco", "--dataset", ds, "--split", "test", "--out", gt},
		{"models", "build", "maskrcnn-toy", "--out", model},
		{"eval", "--model", model, "--spec", "maskrcnn-toy", "--dataset", ds, "--save-preds", "--out", out},
	} {
		if code, text := run(t, args...); code != 0 {
			t.Fatalf("segtool %s: exit %d: %s", strings.Join(args, " "), code, text)
		}
	}
	var file, dets any
	for _, f := range []struct {
		path string
		dst  *any
	}{{gt, &file}, {filepath.Join(out, eval.DetectionsFile), &dets}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, f.dst); err != nil {
			t.Fatal(err)
		}
	}
	var ref fixture.PycocoStats
	shareddata.PycocoJSON(t, "../../coco/testdata/pycoco.py", map[string]any{"op": "eval", "gt": file, "dt_bbox": dets, "dt_segm": dets}, &ref)
	b, err := os.ReadFile(filepath.Join(out, eval.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	var res eval.Results
	if err := json.Unmarshal(b, &res); err != nil {
		t.Fatal(err)
	}
	got := map[string]*float64{}
	for _, m := range res.Metrics {
		got[m.Name] = m.Accumulated
	}
	for _, d := range fixture.COCOStatsDiffer(got, ref.Map(), 1e-9) {
		t.Error(d)
	}
	if v := got["mask_ap"]; v == nil || math.Abs(*v-45.0/101) > 1e-12 {
		t.Errorf("mask_ap %v, want the hand-worked 45/101", v)
	}
}
