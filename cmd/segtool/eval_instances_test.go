package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/fixture"
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
	code, out = run(t, "eval", "--preds", preds, "--dataset", ds, "--out", filepath.Join(dir, "run2"), "--score-threshold", "1.5")
	if code != 2 || !strings.Contains(out, "--score-threshold") {
		t.Errorf("--score-threshold 1.5: exit %d: %s", code, out)
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
