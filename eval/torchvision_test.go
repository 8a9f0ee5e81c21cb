package eval_test

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/models"
)

// A real torchvision Mask R-CNN export (random weights; Debian's
// python3-torchvision) runs through eval, and pycocotools on its
// detections.json gives results.json's figures. The export takes about a
// minute and a half on two cores, so -short skips it.
func TestTorchvisionMaskRCNN(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: exports torchvision's Mask R-CNN")
	}
	shareddata.Pycocotools(t)
	needORT(t)
	if err := exec.Command(shareddata.Python, "-c", "import torch, torchvision").Run(); err != nil {
		t.Skipf("skipping: %s cannot import torch and torchvision (Debian's python3-torchvision): %v", shareddata.Python, err)
	}
	dir := t.TempDir()
	model := filepath.Join(dir, "maskrcnn.onnx")
	if out, err := exec.Command(shareddata.Python, "testdata/torchvision_maskrcnn.py", model).CombinedOutput(); err != nil {
		t.Fatalf("export: %v\n%s", err, out)
	}
	r, err := models.ResolveSpec(models.SpecRequest{Model: model, Spec: "torchvision-maskrcnn"})
	if err != nil {
		t.Fatal(err)
	}
	ds := filepath.Join(dir, "ds")
	fixture.WriteInstanceDataset(t, ds)
	cfg := eval.Config{Dataset: ds, Model: model, Spec: r.Spec, Session: models.SessionOptions{Threads: 2},
		Out: filepath.Join(dir, "run"), Metrics: eval.DefaultOptions(), Batch: 1, Workers: 1, SavePreds: true}
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	rows := journalRows(t, cfg.Out)
	if n := agreeWithPycocotools(t, res, rows, filepath.Join(cfg.Out, eval.DetectionsFile)); n == 0 {
		t.Error("the export detected nothing: the comparison would not tell")
	}
}
