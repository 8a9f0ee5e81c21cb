package eval_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/jobs"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
	"github.com/segtool/segtool/synth"
)

// BenchmarkHarnessOverhead measures the target: segtool eval's
// images/s for unet-aspp at 800x600 on the CPU against inference alone on
// random input (segtool bench), reported as eval/bench (want >= 0.9).
// Eight 800x600 demo portraits (the model size, as the issue states the target); each op is one eval run and one bench of
// as many calls.
//
//	go test -run '^$' -bench HarnessOverhead -benchtime 2x ./eval/
func BenchmarkHarnessOverhead(b *testing.B) {
	testmodel.NeedRuntime(b)
	dir := b.TempDir()
	const n = 8
	if _, err := synth.Generate(context.Background(), filepath.Join(dir, "src"), synth.Options{Count: n, Seed: 1, Width: 800, Height: 600}); err != nil {
		b.Fatal(err)
	}
	ds := filepath.Join(dir, "ds")
	if _, err := jobs.Build(context.Background(), jobs.BuildOptions{Format: "folder", Src: filepath.Join(dir, "src", "folder"), Out: ds, Ratios: dataset.Ratios{0, 0, 1}, RunOptions: jobs.RunOptions{Workers: 2}}); err != nil {
		b.Fatal(err)
	}
	model := testmodel.Built(b, dir, "unet-aspp", onnxbuild.Options{Seed: 1})
	spec := testmodel.Detect(b, model, models.Presets()["unet-aspp"])
	var evalIPS, benchIPS float64
	for i := 0; i < b.N; i++ {
		res, err := eval.Run(context.Background(), eval.Config{
			Dataset: ds, Model: model, Spec: spec, Batch: 1, Fit: models.FitResize,
			Metrics: eval.DefaultOptions(), Out: filepath.Join(b.TempDir(), "run"), Workers: 2, Warmup: 1,
		})
		if err != nil {
			b.Fatal(err)
		}
		evalIPS += res.Timing.Throughput
		sess, err := models.Open(model, spec, models.SessionOptions{Device: models.Device{Kind: "cpu"}})
		if err != nil {
			b.Fatal(err)
		}
		r, err := models.Bench(context.Background(), sess, 1, n, 1, 1)
		sess.Close()
		if err != nil {
			b.Fatal(err)
		}
		benchIPS += r.Throughput
	}
	b.ReportMetric(evalIPS/float64(b.N), "eval-img/s")
	b.ReportMetric(benchIPS/float64(b.N), "bench-img/s")
	b.ReportMetric(evalIPS/benchIPS, "eval/bench")
}
