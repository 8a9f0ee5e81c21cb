//go:build matprofile

package eval_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/matleak"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
)

// TestMatProfileInstances runs the instance path (the toy Mask R-CNN, an
// unreadable image, a results file) and checks that every Mat it opens is
// closed. Run with go test -tags matprofile -run MatProfile ./eval/.
func TestMatProfileInstances(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	ds := filepath.Join(dir, "ds")
	fixture.WriteInstanceDataset(t, ds)
	model := testmodel.Built(t, dir, "maskrcnn-toy", onnxbuild.Options{})
	r, err := models.ResolveSpec(models.SpecRequest{Model: model, Spec: "maskrcnn-toy"})
	if err != nil {
		t.Fatal(err)
	}
	leaks := matleak.Start(t)
	run := func(cfg eval.Config) {
		cfg.Dataset, cfg.Metrics, cfg.Batch, cfg.Workers = ds, eval.DefaultOptions(), 1, 2
		if _, err := eval.Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	run(eval.Config{Model: model, Spec: r.Spec, Session: models.SessionOptions{Threads: 1}, Out: filepath.Join(dir, "toy"), SavePreds: true})
	leaks.Check("toy model")
	if err := os.WriteFile(filepath.Join(ds, "images", "b.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	run(eval.Config{Model: model, Spec: r.Spec, Session: models.SessionOptions{Threads: 1}, Out: filepath.Join(dir, "broken")})
	leaks.Check("an unreadable image")
	run(eval.Config{Preds: filepath.Join(dir, "toy", eval.DetectionsFile), Out: filepath.Join(dir, "preds")})
	leaks.Check("results file")
}
