package report

import (
	"context"
	"encoding/json"
	"image"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/jobs"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/synth"
)

// demoDataset draws n synthetic 64x80 portraits and builds a canonical
// dataset from them.
func demoDataset(t testing.TB, n int) string {
	t.Helper()
	dir := t.TempDir()
	if _, err := synth.Generate(context.Background(), filepath.Join(dir, "src"), synth.Options{Count: n, Seed: 3, Width: 64, Height: 80}); err != nil {
		t.Fatal(err)
	}
	r, err := dataset.ParseRatios("0.8,0.1,0.1")
	if err != nil {
		t.Fatal(err)
	}
	ds := filepath.Join(dir, "ds")
	if _, err := jobs.Build(context.Background(), jobs.BuildOptions{Format: "folder", Src: filepath.Join(dir, "src", "folder"),
		Out: ds, Ratios: r, Seed: 1, JPEGQuality: 95,
		RunOptions: jobs.RunOptions{Workers: 2},
	}); err != nil {
		t.Fatal(err)
	}
	return ds
}

// writePreds writes a prediction per sample: its mask eroded by a few
// pixels that vary with the sample (so Dice varies per image), eroded
// more by extra.
func writePreds(t testing.TB, ds, dir string, extra int) {
	t.Helper()
	d, err := dataset.Open(ds)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for i, s := range d.Samples {
		m := gocv.IMRead(filepath.Join(ds, s.Mask), gocv.IMReadGrayScale)
		k := 1 + i%4 + extra
		kern := gocv.GetStructuringElement(gocv.MorphRect, image.Pt(2*k+1, 2*k+1))
		out := gocv.NewMat()
		gocv.Erode(m, &out, kern)
		if !gocv.IMWrite(filepath.Join(dir, s.ID+".png"), out) {
			t.Fatalf("write pred %s", s.ID)
		}
		m.Close()
		kern.Close()
		out.Close()
	}
}

// predsRun scores saved predictions into out (one shard of them when
// shard.Count > 1), keeping preds/.
func predsRun(t testing.TB, ds, preds, out string, shard eval.Shard) *eval.Results {
	t.Helper()
	cfg := eval.Config{Dataset: ds, Preds: preds, Metrics: eval.DefaultOptions(), Out: out, Workers: 2, Batch: 1,
		Shard: shard, SavePreds: true, Version: "test"}
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// modelRun runs the oracle model (onnxbuild.Oracle: person where the red
// channel is >= 128) at the images' size; it skips without ONNX Runtime.
func modelRun(t testing.TB, ds, out string) *eval.Results {
	t.Helper()
	testmodel.NeedRuntime(t)
	path := testmodel.Oracle(t, t.TempDir())
	base := models.Presets()["oracle"]
	base.Width, base.Height = 64, 80
	spec := testmodel.Detect(t, path, base)
	cfg := eval.Config{Dataset: ds, Model: path, Spec: spec,
		Session: models.SessionOptions{Device: models.Device{Kind: "cpu"}, Threads: 1},
		Batch:   1, Fit: models.FitResize, Metrics: eval.DefaultOptions(), Out: out, Workers: 2, Warmup: 1,
		SavePreds: true, Version: "test"}
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// mustLoad loads a run.
func mustLoad(t testing.TB, path string) *Run {
	t.Helper()
	r, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// resultsFile writes a hand-made results.json with the given headline
// metrics (accumulated for segmentation, mean for the rest, as eval
// reports them) and inference p50, and returns its path.
func resultsFile(t testing.TB, dir, name string, vals map[string]float64, p50 float64, mutate func(*eval.Results)) string {
	t.Helper()
	reg := eval.DefaultRegistry()
	res := eval.Results{
		Model:   &eval.ModelRef{Path: "m.onnx", SHA256: "abc", Spec: models.Presets()["oracle"]},
		Dataset: eval.DatasetRef{Path: "ds", ManifestSHA256: "feed", Splits: []string{"test"}, Samples: 10},
		Options: eval.RunOptions{Threshold: 0.5},
		Counts:  eval.Counts{Selected: 10, Scored: 10},
		Timing:  eval.Timing{Images: 10, Inference: eval.Latency{Mean: p50, P50: p50, P90: p50 * 1.2, P99: p50 * 1.5}, EndToEnd: eval.Latency{Mean: 2 * p50, P50: 2 * p50, P90: 2 * p50, P99: 3 * p50}, Throughput: 1000 / p50},
	}
	for _, m := range reg.Metrics() {
		v, ok := vals[m.Name]
		if !ok {
			continue
		}
		s := eval.MetricSummary{Name: m.Name, Group: m.Group, Definition: m.Definition, Unit: m.Unit, HigherBetter: m.HigherBetter, MeanImages: 10}
		x := v
		if m.Accumulated != nil {
			s.Accumulated = &x
			y := v - 0.001 // a different mean, so tests see which one is read
			s.Mean = &y
		} else {
			s.Mean = &x
		}
		res.Metrics = append(res.Metrics, s)
	}
	if mutate != nil {
		mutate(&res)
	}
	b, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name+".json")
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
