package eval_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/jobs"
	"github.com/segtool/segtool/models"
)

// copyFile copies a shared file into a test's temp dir (the dataset
// scanner takes regular files only, not symlinks).
func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, to, b)
}

// realDataset builds a canonical dataset (all samples in the test split)
// from a shared folder of images and labels, copied as a plain folder
// source into a temp dir.
func realDataset(t *testing.T, rel, labels, as string) string {
	t.Helper()
	src := shareddata.Dir(t, rel)
	dir := t.TempDir()
	for _, pair := range [][2]string{{"images", "images"}, {labels, as}} {
		if err := os.MkdirAll(filepath.Join(dir, "src", pair[1]), 0o755); err != nil {
			t.Fatal(err)
		}
		es, err := os.ReadDir(filepath.Join(src, pair[0]))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			copyFile(t, filepath.Join(src, pair[0], e.Name()), filepath.Join(dir, "src", pair[1], e.Name()))
		}
	}
	out := filepath.Join(dir, "ds")
	_, err := jobs.Build(context.Background(), jobs.BuildOptions{
		Format: "folder", Src: filepath.Join(dir, "src"), Out: out,
		Ratios: dataset.Ratios{0, 0, 1}, Link: true,
		RunOptions: jobs.RunOptions{Workers: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func realSpec(t *testing.T, model, preset string) models.Spec {
	t.Helper()
	info, err := models.ReadModelInfo(model)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := models.Detect(models.Presets()[preset], info.Inputs, info.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// TestRealModels evaluates SINet and prisma from ../shared/models on the
// P3M portraits (truth: alpha >= 128) and the hand-labelled people-parts
// photos. The shared models README gives the P3M ballparks: IoU about 0.8
// (SINet) and 0.9 (prisma); a preprocessing mistake drops them far lower
// (SINet without its /255: IoU 0.06).
func TestRealModels(t *testing.T) {
	needORT(t)
	mdir := shareddata.Dir(t, "models")
	sets := map[string]string{
		"p3m":          realDataset(t, "data/p3m", "alphas", "alphas"),
		"people-parts": realDataset(t, "data/people-parts", "labels", "masks"),
	}
	cases := []struct {
		file, preset, data string
		minIoU             float64
	}{
		{"SINet.onnx", "sinet", "p3m", 0.75},
		{"prisma_nchw.onnx", "prisma", "p3m", 0.85},
		{"SINet.onnx", "sinet", "people-parts", 0.5},
		{"prisma_nchw.onnx", "prisma", "people-parts", 0.5},
	}
	for _, c := range cases {
		t.Run(c.preset+"/"+c.data, func(t *testing.T) {
			model := filepath.Join(mdir, c.file)
			res, err := eval.Run(context.Background(), eval.Config{
				Dataset: sets[c.data], Model: model, Spec: realSpec(t, model, c.preset),
				Batch: 1, Fit: models.FitResize, Metrics: eval.DefaultOptions(),
				Out: filepath.Join(t.TempDir(), "run"), Workers: 2,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Counts.Scored != res.Counts.Selected || res.Counts.Scored == 0 {
				t.Fatalf("counts %+v: every image should score", res.Counts)
			}
			m := metricMap(res)
			iou, dice := m["iou"], m["dice"]
			t.Logf("%s on %s (%d images): IoU mean %.3f accumulated %.3f, Dice mean %.3f, boundary IoU %.3f, MAD %.4f",
				c.file, c.data, res.Counts.Scored, *iou.Mean, *iou.Accumulated, *dice.Mean, *m["boundary_iou"].Mean, *m["mad"].Mean)
			if *iou.Mean < c.minIoU {
				t.Errorf("IoU %.3f below %.2f: the preprocessing is probably wrong", *iou.Mean, c.minIoU)
			}
		})
	}
}

// TestRealDeterminism: prisma (dynamic batch) on P3M gives identical
// metrics for workers 1 and 2 and for batch 1 and 4.
func TestRealDeterminism(t *testing.T) {
	needORT(t)
	if testing.Short() {
		t.Skip("skipping in -short mode")
	}
	model := filepath.Join(shareddata.Dir(t, "models"), "prisma_nchw.onnx")
	ds := realDataset(t, "data/p3m", "alphas", "alphas")
	spec := realSpec(t, model, "prisma")
	var first string
	for _, c := range []struct{ workers, batch int }{{1, 1}, {2, 4}} {
		res, err := eval.Run(context.Background(), eval.Config{
			Dataset: ds, Model: model, Spec: spec, Batch: c.batch, Fit: models.FitResize,
			Metrics: eval.DefaultOptions(), Out: filepath.Join(t.TempDir(), "run"), Workers: c.workers,
		})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal([]any{res.Metrics, res.Sweep, res.Totals})
		if first == "" {
			first = string(b)
		} else if string(b) != first {
			t.Errorf("workers %d batch %d: metrics differ from workers 1 batch 1", c.workers, c.batch)
		}
	}
}

// TestDIMPredictions scores the shared DIM predictions with --preds
// against the ground-truth alphas and human trimaps: every matting metric
// is reported over the whole image and over the unknown region, and the
// unknown region, a subset of the image, cannot hold more absolute error.
func TestDIMPredictions(t *testing.T) {
	dim := shareddata.Dir(t, "data/dim")
	dir := t.TempDir()
	for _, d := range []string{"images", "alphas", "trimaps"} {
		os.MkdirAll(filepath.Join(dir, "src", d), 0o755)
		es, _ := os.ReadDir(filepath.Join(dim, d))
		for _, e := range es {
			copyFile(t, filepath.Join(dim, d, e.Name()), filepath.Join(dir, "src", d, e.Name()))
		}
	}
	out := filepath.Join(dir, "ds")
	if _, err := jobs.Build(context.Background(), jobs.BuildOptions{
		Format: "folder", Src: filepath.Join(dir, "src"), Out: out, Ratios: dataset.Ratios{0, 0, 1}, Link: true,
		RunOptions: jobs.RunOptions{Workers: 2},
	}); err != nil {
		t.Fatal(err)
	}
	d, err := dataset.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	// The predictions are named like the images; eval reads <id>.png.
	preds := filepath.Join(dir, "preds")
	os.MkdirAll(preds, 0o755)
	for _, s := range d.Samples {
		stem := strings.TrimSuffix(filepath.Base(s.Source[0]), filepath.Ext(s.Source[0]))
		matches, _ := filepath.Glob(filepath.Join(dim, "predictions", stem+".*"))
		if len(matches) != 1 {
			t.Fatalf("no prediction for %s", stem)
		}
		copyFile(t, matches[0], filepath.Join(preds, s.ID+".png"))
	}
	res, err := eval.Run(context.Background(), eval.Config{
		Dataset: out, Preds: preds, Batch: 1, Metrics: eval.DefaultOptions(),
		Out: filepath.Join(dir, "run"), Workers: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	m := metricMap(res)
	for _, n := range []string{"sad", "mse", "grad", "conn", "sad_unknown", "mse_unknown", "grad_unknown", "conn_unknown"} {
		v := m[n]
		if v.Mean == nil || v.MeanImages != len(d.Samples) {
			t.Errorf("%s over %d images, want all %d", n, v.MeanImages, len(d.Samples))
			continue
		}
		t.Logf("%s = %.4f", n, *v.Mean)
	}
	if *m["sad_unknown"].Mean > *m["sad"].Mean {
		t.Errorf("SAD over the unknown region %.3f exceeds SAD over the image %.3f", *m["sad_unknown"].Mean, *m["sad"].Mean)
	}
}
