package main

import (
	"fmt"

	"github.com/segtool/segtool/models"
	"github.com/urfave/cli/v2"
)

func benchModelFlags() []cli.Flag {
	fs := []cli.Flag{
		&cli.StringFlag{Name: "model", Usage: "ONNX model file (required)"},
		&cli.IntFlag{Name: "batch", Value: 1, Usage: "images per call (models with a dynamic batch dimension)"},
		&cli.StringFlag{Name: "device", Value: "cpu", Usage: "cpu, cuda or cuda:N"},
		&cli.StringFlag{Name: "fallback", Usage: "cpu: run on the CPU when the CUDA provider is unavailable"},
		&cli.IntFlag{Name: "threads", DefaultText: "all cores", Usage: "ONNX Runtime intra-op threads"},
		&cli.IntFlag{Name: "runs", Aliases: []string{"n"}, Value: 20, Usage: "timed calls"},
		&cli.IntFlag{Name: "warmup", Value: 2, Usage: "untimed calls first"},
		&cli.Uint64Flag{Name: "seed", Value: 1, Usage: "seed of the random input"},
	}
	fs = append(fs, specFlags()...)
	return append(fs, cudaFlags()...)
}

func benchModelCommand() *cli.Command {
	return &cli.Command{
		Name:      "model",
		Usage:     "inference alone on random input: the model's speed without segtool around it",
		UsageText: "segtool bench model --model FILE.onnx [--batch N] [--device cpu|cuda[:N]] [-n 20] [spec flags of eval]",
		Description: `Runs the model --runs times on one random batch (uniform noise, --seed),
after --warmup untimed calls, as ONNX Runtime's perf_test does: no
decoding, preprocessing or metrics. It prints latency per call
(mean, p50, p90, p99) and images/s. Divide segtool eval's images/s by this
to read eval's harness overhead. The model spec is resolved as eval does
(--spec, a preset named like the file, or the model's shapes; --size for
models that take any size). Also reachable as segtool bench --model FILE.

Examples:

   segtool bench model --model unet_aspp.onnx -n 10
   segtool bench --model prisma_nchw.onnx --batch 8 --threads 1`,
		Flags:  benchModelFlags(),
		Action: runBenchModel,
	}
}

func runBenchModel(c *cli.Context) error {
	if err := requireFlags(c, "model"); err != nil {
		return err
	}
	if c.Int("runs") < 1 || c.Int("batch") < 1 {
		return usageError("--runs and --batch must be at least 1")
	}
	so, err := sessionOptions(c)
	if err != nil {
		return err
	}
	// Random input needs no normalisation: defaults are taken silently.
	spec, _, err := resolveSpec(c, c.String("model"), false)
	if err != nil {
		return err
	}
	if spec.Batch > 0 && c.IsSet("batch") && c.Int("batch") != spec.Batch {
		return usageError("--batch: the model's batch dimension is fixed at %d", spec.Batch)
	}
	// GPU memory is watched from before the session, so the baseline
	// excludes the CUDA context and the arena.
	var memMon *models.GPUMonitor
	var gpuErr string
	if so.Device.Kind == "cuda" {
		if memMon, err = models.StartCUDAMonitor(so.Device.ID, 0); err != nil {
			gpuErr = err.Error()
		}
		defer memMon.Stop()
	}
	sess, err := models.Open(c.String("model"), spec, so)
	if err != nil {
		return err
	}
	defer sess.Close()
	r, err := models.Bench(c.Context, sess, c.Int("batch"), c.Int("runs"), c.Int("warmup"), c.Uint64("seed"))
	if err != nil {
		return err
	}
	gpu := ""
	var peak float64
	if memMon != nil && r.GPU != nil {
		g := memMon.Stop().WithUtil(*r.GPU)
		r.GPU, peak = &g, g.PeakMemMiB()
		gpu = fmt.Sprintf(" %s: peak GPU memory %.0f MiB, utilisation %.0f%% mean.", g.Device, peak, g.MeanUtilPct)
	}
	summary(c, fmt.Sprintf("bench model: %s %dx%d batch %d on %s (%d threads): %d calls, mean %.1f ms, p50 %.1f ms, p90 %.1f ms, p99 %.1f ms per call; %.2f images/s; session created in %.0f ms.%s",
		c.String("model"), spec.Width, spec.Height, r.Batch, sess.Provider, sess.Threads, r.Runs, r.MeanMS, r.P50MS, r.P90MS, r.P99MS, r.Throughput, float64(sess.Created.Microseconds())/1000, gpu),
		map[string]any{"command": "bench model", "model": c.String("model"), "provider": sess.Provider, "threads": sess.Threads,
			"input_type": sess.Spec.InputType, "cuda": cudaReport(so), "result": r, "peak_gpu_mem_mib": peak, "gpu_error": gpuErr})
	return nil
}

// cudaReport is the CUDA options a run used, or nil off CUDA.
func cudaReport(o models.SessionOptions) *models.CUDAOptions {
	if o.Device.Kind != "cuda" {
		return nil
	}
	return &o.CUDA
}
