package eval_test

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
)

// instanceRun scores the hand-worked instance case (internal/fixture) from
// a results file with cfg's options.
func instanceRun(t *testing.T, dets []map[string]any, edit func(*eval.Config)) (*eval.Results, []eval.Row, string) {
	t.Helper()
	dir := t.TempDir()
	ds := filepath.Join(dir, "ds")
	fixture.WriteInstanceDataset(t, ds)
	preds := filepath.Join(dir, "detections.json")
	fixture.WriteJSON(t, preds, dets)
	cfg := eval.Config{Dataset: ds, Preds: preds, Out: filepath.Join(dir, "run"), Metrics: eval.DefaultOptions(), Batch: 1, Workers: 2}
	if edit != nil {
		edit(&cfg)
	}
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows := journalRows(t, cfg.Out)
	return res, rows, cfg.Out
}

// The COCO figures of the case, worked by hand. Detections by score: A
// (TP), B (FP), C (TP while the IoU threshold t <= 0.7125, else FP), 3
// objects, all small (area < 32²).
//
//	t in .50...70 (5 thresholds): recall 1/3, 1/3, 2/3, precision 1, 1/2,
//	  2/3; interpolated 1, 2/3, 2/3: recall points 0...33 (34) get 1,
//	  .34...66 (33) get 2/3, the rest 0: AP = (34 + 22)/101 = 56/101.
//	t in .75...95: recall 1/3 throughout, precision 1, 1/2, 1/3: AP = 34/101.
//	AP = (5·56 + 5·34)/(10·101) = 45/101; AP50 = 56/101; AP75 = 34/101.
//	AR: the best detection per image is A and C, so 1, 10 and 100
//	  detections find 2 of 3 at t <= .70 and 1 of 3 above: (2/3 + 1/3)/2 = 1/2.
//	small = all; medium and large have no object: pycocotools' -1, null.
//
// Boxes are the rectangles, so box and mask figures are equal.
func TestInstanceAPHandWorked(t *testing.T) {
	res, rows, out := instanceRun(t, fixture.InstanceDetections(), nil)
	want := map[string]float64{
		"ap": 45.0 / 101, "ap50": 56.0 / 101, "ap75": 34.0 / 101, "ap_s": 45.0 / 101,
		"ar1": 0.5, "ar10": 0.5, "ar100": 0.5, "ar_s": 0.5,
	}
	got := map[string]eval.MetricSummary{}
	for _, m := range res.Metrics {
		got[m.Name] = m
	}
	for _, pre := range []string{"box_", "mask_"} {
		for _, st := range []string{"ap", "ap50", "ap75", "ap_s", "ap_m", "ap_l", "ar1", "ar10", "ar100", "ar_s", "ar_m", "ar_l"} {
			m, ok := got[pre+st]
			if !ok {
				t.Errorf("results.json has no %s", pre+st)
				continue
			}
			w, defined := want[st]
			switch {
			case !defined && m.Accumulated != nil:
				t.Errorf("%s = %v, want null (no object in the range)", m.Name, *m.Accumulated)
			case defined && (m.Accumulated == nil || math.Abs(*m.Accumulated-w) > 1e-12):
				t.Errorf("%s = %s, want %v", m.Name, text(m.Accumulated), w)
			}
			if m.Mean != nil || m.Group != eval.GroupInstances || m.Definition == "" {
				t.Errorf("%s: mean %v, group %q, definition %q", m.Name, m.Mean, m.Group, m.Definition)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(out, eval.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"name": "mask_ap_m",`) || !strings.Contains(string(b), `"accumulated": null`) {
		t.Errorf("results.json does not write mask_ap_m's accumulated as null")
	}

	// Per image at IoU 0.5: a has A (TP), B (FP) and misses person 2; b has C.
	wantMatch := map[string]eval.MatchCounts{"a": {TP: 1, FP: 1, FN: 1}, "b": {TP: 1}}
	wantID := map[string]int{"a": 1, "b": 2}
	for _, r := range rows {
		if r.Instances == nil {
			t.Fatalf("row %s has no instance record", r.ID)
		}
		if r.MS.Total <= 0 {
			t.Errorf("row %s: total time %v ms", r.ID, r.MS.Total)
		}
		in := r.Instances
		if in.ImageID != wantID[r.ID] || in.Box != wantMatch[r.ID] || in.Mask != wantMatch[r.ID] {
			t.Errorf("row %s: image %d, box %+v, mask %+v; want %d, %+v", r.ID, in.ImageID, in.Box, in.Mask, wantID[r.ID], wantMatch[r.ID])
		}
	}
	if s := res.Instances; s == nil || s.Images != 2 || s.Objects != 3 || s.Detections != 3 || s.Mask != (eval.MatchCounts{TP: 2, FP: 1, FN: 1}) {
		t.Errorf("instances summary %+v", s)
	}
	if s := res.Instances; len(s.PR) != 4 {
		t.Errorf("%d PR curves, want box and mask at 0.5 and 0.75", len(s.PR))
	}
	csv, err := os.ReadFile(filepath.Join(out, eval.CSVFile))
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(string(csv), "\n"); !strings.Contains(lines[0], ",box_tp,box_fp,box_fn,mask_tp,mask_fp,mask_fn,") ||
		!strings.HasPrefix(lines[1], "a,") || !strings.Contains(lines[1], ",1,1,1,1,1,1,") {
		t.Errorf("per_image.csv lacks the matches:\n%s", csv)
	}
}

// The semantic metrics score the union of the detections scoring at least
// the score threshold: at 0.5, a's union is A and B (TP 100: person 1; FP
// 100: B; FN 600: person 2), IoU 100/800; b's is C (TP 285, FN 115), IoU
// 285/400; accumulated (100+285)/(800+400). At 0.75 C drops out: b's IoU
// is 0/400.
func TestInstanceUnionMetrics(t *testing.T) {
	for _, tc := range []struct {
		thr         float64
		iouA, iouB  float64
		accumulated float64
	}{
		{0, 100.0 / 800, 285.0 / 400, 385.0 / 1200},
		{0.75, 100.0 / 800, 0, 100.0 / 1200},
	} {
		res, rows, _ := instanceRun(t, fixture.InstanceDetections(), func(c *eval.Config) { c.ScoreThreshold = tc.thr })
		iou := map[string]float64{}
		for _, r := range rows {
			if r.Score == nil {
				t.Fatalf("row %s not scored: %s", r.ID, r.Reason)
			}
			iou[r.ID] = float64(r.Score.TP) / float64(r.Score.TP+r.Score.FP+r.Score.FN)
		}
		if math.Abs(iou["a"]-tc.iouA) > 1e-12 || math.Abs(iou["b"]-tc.iouB) > 1e-12 {
			t.Errorf("score threshold %v: IoU a %v, b %v; want %v, %v", tc.thr, iou["a"], iou["b"], tc.iouA, tc.iouB)
		}
		for _, m := range res.Metrics {
			if m.Name == "iou" && (m.Accumulated == nil || math.Abs(*m.Accumulated-tc.accumulated) > 1e-12) {
				t.Errorf("score threshold %v: accumulated IoU %s, want %v", tc.thr, text(m.Accumulated), tc.accumulated)
			}
		}
	}
}

// A semantic run's results.json lists no COCO metric.
func TestSemanticRunHasNoInstanceMetrics(t *testing.T) {
	var res eval.Results
	if err := eval.Rebuild(&res, nil); err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Metrics {
		if m.Group == eval.GroupInstances {
			t.Errorf("semantic run lists %s", m.Name)
		}
	}
	if res.Instances != nil {
		t.Errorf("semantic run has an instances summary")
	}
	if _, err := json.Marshal(res); err != nil {
		t.Fatal(err)
	}
}

// toyInstanceConfig writes the instance case's dataset and the toy Mask
// R-CNN in a temporary folder and returns a run of the model over it, to
// folder run beside them, saving its detections.
func toyInstanceConfig(t *testing.T) eval.Config {
	t.Helper()
	dir := t.TempDir()
	ds := filepath.Join(dir, "ds")
	fixture.WriteInstanceDataset(t, ds)
	path := testmodel.Built(t, dir, "maskrcnn-toy", onnxbuild.Options{})
	r, err := models.ResolveSpec(models.SpecRequest{Model: path, Spec: "maskrcnn-toy"})
	if err != nil {
		t.Fatal(err)
	}
	return eval.Config{Dataset: ds, Model: path, Spec: r.Spec, Session: models.SessionOptions{Threads: 1},
		Out: filepath.Join(dir, "run"), Metrics: eval.DefaultOptions(), Batch: 1, Workers: 2, SavePreds: true}
}

// The toy Mask R-CNN (onnxbuild.ToyInstances) reads the case's detections
// from its images (see internal/fixture), the dog on b left out, so it
// gets the hand-worked figures of TestInstanceAPHandWorked; its
// detections.json, scored as a results file, gives them again.
func TestInstanceModelToy(t *testing.T) {
	needORT(t)
	cfg := toyInstanceConfig(t)
	ds, dir := cfg.Dataset, filepath.Dir(cfg.Out)
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Model == nil || res.Instances == nil || res.Instances.Detections != 3 {
		t.Fatalf("model %v, instances %+v (want 3 person detections)", res.Model, res.Instances)
	}
	check := func(res *eval.Results, what string) {
		for _, m := range res.Metrics {
			want, ok := map[string]float64{"box_ap": 45.0 / 101, "mask_ap": 45.0 / 101, "mask_ap50": 56.0 / 101, "mask_ar100": 0.5, "iou": 385.0 / 1200}[m.Name]
			if ok && (m.Accumulated == nil || math.Abs(*m.Accumulated-want) > 1e-12) {
				t.Errorf("%s: %s = %s, want %v", what, m.Name, text(m.Accumulated), want)
			}
		}
	}
	check(res, "model")
	rows := journalRows(t, cfg.Out)
	merged := *res
	if err := eval.Rebuild(&merged, rows); err != nil {
		t.Fatal(err)
	}
	if merged.Timing.Inference != res.Timing.Inference {
		t.Errorf("report merge's inference latency %+v, the run's %+v", merged.Timing.Inference, res.Timing.Inference)
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, eval.PredsDir)); err == nil {
		t.Errorf("an instance run made %s/", eval.PredsDir)
	}
	cfg2 := eval.Config{Dataset: ds, Preds: filepath.Join(cfg.Out, eval.DetectionsFile), Out: filepath.Join(dir, "again"),
		Metrics: eval.DefaultOptions(), Batch: 1, Workers: 1}
	res2, err := eval.Run(context.Background(), cfg2)
	if err != nil {
		t.Fatal(err)
	}
	check(res2, "its detections.json")
}

// A killed instance run resumes from its journal, the finished image's
// record kept, to the same figures.
func TestInstanceResume(t *testing.T) {
	res, _, out := instanceRun(t, fixture.InstanceDetections(), nil)
	journal := filepath.Join(out, eval.JournalFile)
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if err := os.WriteFile(journal, []byte(first+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(out, eval.ResultsFile))
	cfg := eval.Config{Dataset: res.Dataset.Path, Preds: res.Preds, Out: out, Metrics: eval.DefaultOptions(), Batch: 1, Workers: 1, Resume: true}
	again, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if again.Counts.Resumed != 1 {
		t.Errorf("resumed %d rows, want 1", again.Counts.Resumed)
	}
	want, got := map[string]*float64{}, map[string]*float64{}
	for _, m := range res.Metrics {
		want[m.Name] = m.Accumulated
	}
	for _, m := range again.Metrics {
		got[m.Name] = m.Accumulated
		if w := want[m.Name]; (w == nil) != (m.Accumulated == nil) || w != nil && *w != *m.Accumulated {
			t.Errorf("%s: resumed %s, whole %s", m.Name, text(m.Accumulated), text(w))
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d metrics after the resume, %d before", len(got), len(want))
	}
}

// text prints a value that may be null.
func text(p *float64) string {
	if p == nil {
		return "null"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

// A detection reaching outside its image is clipped and counted: B's box
// [10,20] 40x15 becomes 30x10, still a false positive, so the figures
// stay the hand-worked ones.
func TestInstanceClipped(t *testing.T) {
	dets := fixture.InstanceDetections()
	dets[1]["bbox"] = []float64{10, 20, 40, 15}
	res, rows, _ := instanceRun(t, dets, nil)
	if res.Instances.Clipped != 1 {
		t.Errorf("clipped %d, want 1", res.Instances.Clipped)
	}
	for _, r := range rows { // the journal's order is the order images finished
		if b := r.Instances.Dets; r.ID == "a" && (len(b) != 2 || b[1].BBox != [4]float64{10, 20, 30, 10}) {
			t.Errorf("a's detections %+v, want B's box clipped to [10 20 30 10]", b)
		}
	}
	for _, m := range res.Metrics {
		if m.Name == "box_ap" && (m.Accumulated == nil || math.Abs(*m.Accumulated-45.0/101) > 1e-12) {
			t.Errorf("box_ap %s, want 45/101", text(m.Accumulated))
		}
	}
}

// The inference latency counts the rows that made a model call, the
// scored ones and the NaN ones, whether Run or Rebuild (report merge)
// computes it: 10 and 30 ms give mean 20, p50 10 (nearest rank ceil(0.5·2)
// = 1), p90 and p99 30; the error and skipped rows made no call.
func TestRebuildInferenceLatency(t *testing.T) {
	rows := []eval.Row{
		{ID: "a", Status: eval.StatusOK, MS: eval.Times{Inference: 10}},
		{ID: "b", Status: eval.StatusNonFinite, MS: eval.Times{Inference: 30}},
		{ID: "c", Status: eval.StatusError, MS: eval.Times{Inference: 99}},
		{ID: "d", Status: eval.StatusSkipped},
	}
	res := eval.Results{Model: &eval.ModelRef{Path: "m.onnx"}}
	if err := eval.Rebuild(&res, rows); err != nil {
		t.Fatal(err)
	}
	if want := (eval.Latency{Mean: 20, P50: 10, P90: 30, P99: 30}); res.Timing.Inference != want {
		t.Errorf("inference latency %+v, want %+v", res.Timing.Inference, want)
	}
}
