package models_test

import (
	"context"
	"encoding/json"
	"image"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
)

// debianTorchvision returns Debian's python3 when it imports torchvision
// (apt install python3-torchvision), else skips t.
func debianTorchvision(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("skipping the torchvision Mask R-CNN export in -short mode (a 180 MB export, about a minute of CPU)")
	}
	for _, py := range []string{"/usr/bin/python3", "python3"} {
		if exec.Command(py, "-c", "import torchvision").Run() == nil {
			return py
		}
	}
	t.Skip("skipping: no python3 with torchvision (Debian: apt install python3-torchvision)")
	return ""
}

// TestTorchvisionMaskRCNN exports torchvision's maskrcnn_resnet50_fpn
// (random weights, testdata/export_maskrcnn.py), runs it through the
// instance predictor with the torchvision-maskrcnn preset, and compares the
// detections with PyTorch's own on the same image: the same count, scores
// within 1e-4, and for each of PyTorch's detections one of segtool's with
// the same label, a box within 0.05 px and a mask of the same total within
// 0.5%.
func TestTorchvisionMaskRCNN(t *testing.T) {
	py := debianTorchvision(t)
	testmodel.InitRuntime(t)
	dir := t.TempDir()
	const w, h = 128, 96
	img := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	defer img.Close()
	px, err := img.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	for y := range h {
		for x := range w {
			c := [3]uint8{uint8(2 * x), uint8(2 * y), 0}
			if image.Pt(x, y).In(image.Rect(30, 20, 60, 70)) {
				c = [3]uint8{40, 80, 220}
			}
			if image.Pt(x, y).In(image.Rect(80, 50, 120, 90)) {
				c = [3]uint8{200, 200, 30}
			}
			copy(px[3*(y*w+x):], c[:])
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "image.bgr"), px, 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, filepath.Join("testdata", "export_maskrcnn.py"), dir, "128", "96")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	var ref struct {
		Boxes    [][4]float64 `json:"boxes"`
		Labels   []int        `json:"labels"`
		Scores   []float64    `json:"scores"`
		MaskSums []float64    `json:"mask_sums"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "reference.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "maskrcnn.onnx")
	s := testmodel.OpenResolved(t, models.SpecRequest{Model: path, Spec: "torchvision-maskrcnn"}, models.SessionOptions{})
	got, err := models.NewInstancePredictor(s, image.Point{}).Predict(img)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(ref.Scores) || len(got) == 0 {
		t.Fatalf("%d detections, PyTorch gives %d", len(got), len(ref.Scores))
	}
	for i, d := range got {
		if math.Abs(float64(d.Score)-ref.Scores[i]) > 1e-4 {
			t.Errorf("score %d: %g, PyTorch %g", i, d.Score, ref.Scores[i])
		}
	}
	used := make([]bool, len(got))
	for i, b := range ref.Boxes {
		j := slices.IndexFunc(got, func(d models.Instance) bool {
			if d.Label != ref.Labels[i] {
				return false
			}
			for k := range 4 {
				if math.Abs(d.Box[k]-b[k]) > 0.05 {
					return false
				}
			}
			return true
		})
		if j < 0 || used[j] {
			t.Errorf("PyTorch detection %d (label %d, box %v, score %g) has no match", i, ref.Labels[i], b, ref.Scores[i])
			continue
		}
		used[j] = true
		var sum float64
		for _, v := range got[j].Mask {
			sum += float64(v)
		}
		if math.Abs(sum-ref.MaskSums[i]) > 0.005*ref.MaskSums[i]+0.5 {
			t.Errorf("detection %d: mask total %g, PyTorch %g", i, sum, ref.MaskSums[i])
		}
	}
	t.Logf("%d detections agree with PyTorch; top: label %d score %.4f box %.1f", len(got), got[0].Label, got[0].Score, got[0].Box)
}
