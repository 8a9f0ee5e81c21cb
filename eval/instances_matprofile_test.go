//go:build matprofile

package eval_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/matleak"
)

// TestMatProfileInstances runs the instance path (the toy Mask R-CNN, an
// unreadable image, a results file) and checks that every Mat it opens is
// closed. Run with go test -tags matprofile -run MatProfile ./eval/.
func TestMatProfileInstances(t *testing.T) {
	needORT(t)
	toy := toyInstanceConfig(t)
	ds, dir := toy.Dataset, filepath.Dir(toy.Out)
	leaks := matleak.Start(t)
	run := func(cfg eval.Config) {
		if _, err := eval.Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	run(toy)
	leaks.Check("toy model")
	if err := os.WriteFile(filepath.Join(ds, "images", "b.png"), []byte("not a png"), 0o644); err != nil {
		t.Fatal(err)
	}
	broken := toy
	broken.Out, broken.SavePreds = filepath.Join(dir, "broken"), false
	run(broken)
	leaks.Check("an unreadable image")
	run(eval.Config{Dataset: ds, Preds: filepath.Join(toy.Out, eval.DetectionsFile), Out: filepath.Join(dir, "preds"),
		Metrics: eval.DefaultOptions(), Batch: 1, Workers: 2})
	leaks.Check("results file")
}
