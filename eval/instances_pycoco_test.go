package eval_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
)

// eval's 24 COCO figures equal pycocotools' COCOeval on the same ground
// truth (the rows' records, written as a COCO file) and the run's
// detections.json, to 1e-9, -1 being null. The case adds to the
// hand-worked one a duplicate on person 1, a partial hit on person 2 and,
// on b, a false positive whose 25-pixel mask is small but whose box
// (the whole image, 1200 px) is not: loadRes gives a result with a box
// its box's area for the area ranges, in both IoU types.
func TestInstanceAgreesWithPycocotools(t *testing.T) {
	shareddata.Pycocotools(t)
	wide := fixture.Rect{X0: 30, Y0: 25, X1: 35, Y1: 30}.Detection(2, 0.95)
	wide["bbox"] = []float64{0, 0, 40, 30}
	dets := append(fixture.InstanceDetections(),
		fixture.Rect{X0: 1, Y0: 0, X1: 11, Y1: 10}.Detection(1, 0.6),
		fixture.Rect{X0: 20, Y0: 0, X1: 33, Y1: 30}.Detection(1, 0.85), wide)
	res, rows, out := instanceRun(t, dets, func(c *eval.Config) { c.SavePreds = true })
	if n := agreeWithPycocotools(t, res, rows, filepath.Join(out, eval.DetectionsFile)); n != 6 {
		t.Errorf("detections.json has %d detections, want 6", n)
	}
}

// agreeWithPycocotools checks res's 24 COCO figures against pycocotools'
// COCOeval of the detections file on the rows' ground truth (their
// records, as a COCO file) and returns the number of detections.
func agreeWithPycocotools(t *testing.T, res *eval.Results, rows []eval.Row, detections string) int {
	t.Helper()
	type ann struct {
		ID           int        `json:"id"`
		ImageID      int        `json:"image_id"`
		CategoryID   int        `json:"category_id"`
		Segmentation any        `json:"segmentation"`
		BBox         [4]float64 `json:"bbox"`
		Area         float64    `json:"area"`
		IsCrowd      int        `json:"iscrowd"`
	}
	gt := map[string]any{"categories": []map[string]any{{"id": 1, "name": "person"}}}
	var images []map[string]any
	var anns []ann
	for _, r := range rows {
		images = append(images, map[string]any{"id": r.Instances.ImageID, "width": r.Width, "height": r.Height, "file_name": r.ID})
		for _, o := range r.Instances.Truth {
			anns = append(anns, ann{ID: len(anns) + 1, ImageID: r.Instances.ImageID, CategoryID: 1, Segmentation: o.Segmentation, BBox: o.BBox, Area: o.Area})
		}
	}
	gt["images"], gt["annotations"] = images, anns
	var results []any
	b, err := os.ReadFile(detections)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &results); err != nil {
		t.Fatalf("%s: %v", detections, err)
	}
	var ref fixture.PycocoStats
	shareddata.PycocoJSON(t, "../coco/testdata/pycoco.py", map[string]any{"op": "eval", "gt": gt, "dt_bbox": results, "dt_segm": results}, &ref)
	got := map[string]*float64{}
	for _, m := range res.Metrics {
		got[m.Name] = m.Accumulated
	}
	for _, d := range fixture.COCOStatsDiffer(got, ref.Map(), 1e-9) {
		t.Error(d)
	}
	return len(results)
}
