package main

import (
	"github.com/segtool/segtool/models"
	"github.com/urfave/cli/v2"
)

// deviceFlags pick where eval and apply run the model; sessionOptions
// reads them.
func deviceFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "device", Value: "cpu", Usage: "cpu, cuda or cuda:N"},
		&cli.StringFlag{Name: "fallback", Usage: "cpu: run on the CPU when the CUDA provider is unavailable, instead of failing"},
		&cli.IntFlag{Name: "threads", DefaultText: "all cores", Usage: "ONNX Runtime intra-op threads"},
	}
}

// cudaFlags tune the CUDA execution provider; eval, bench model and apply
// share them (with --device, --fallback and --threads, which each command
// lists where its help reads best).
func cudaFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "cudnn-conv-algo-search", DefaultText: "exhaustive", Usage: "cuda: how cuDNN picks convolution algorithms per input shape: exhaustive (time them all once; best speed, slow first call), heuristic or default"},
		&cli.IntFlag{Name: "gpu-mem-limit", Usage: "cuda: cap ONNX Runtime's GPU memory arena at this many MiB (0: no cap)"},
		&cli.StringFlag{Name: "arena-growth", DefaultText: "power-of-two", Usage: "cuda: how the GPU memory arena grows: power-of-two, or same-as-requested (less memory, more allocations)"},
		&cli.BoolFlag{Name: "tf32", Value: true, Usage: "cuda: allow TF32 matrix maths on Ampere and later GPUs (--tf32=false: full float32, closer to the CPU, slower)"},
	}
}

// sessionOptions reads --device, --fallback, --threads and the CUDA flags.
func sessionOptions(c *cli.Context) (models.SessionOptions, error) {
	dev, err := models.ParseDevice(c.String("device"))
	if err != nil {
		return models.SessionOptions{}, usageError("--device: %v", err)
	}
	switch c.String("fallback") {
	case "", "cpu":
	default:
		return models.SessionOptions{}, usageError("--fallback: %q: the only fallback is cpu", c.String("fallback"))
	}
	o := models.SessionOptions{Device: dev, Threads: c.Int("threads"), FallbackCPU: c.String("fallback") == "cpu"}
	for _, f := range []string{"cudnn-conv-algo-search", "gpu-mem-limit", "arena-growth", "tf32"} {
		if c.IsSet(f) && dev.Kind != "cuda" {
			return o, usageError("--%s tunes the CUDA provider; it needs --device cuda", f)
		}
	}
	switch v := c.String("cudnn-conv-algo-search"); v {
	case "", "exhaustive", "heuristic", "default":
		o.CUDA.ConvAlgoSearch = v
	default:
		return o, usageError("--cudnn-conv-algo-search: %q, want exhaustive, heuristic or default", v)
	}
	if o.CUDA.MemLimitMiB = c.Int("gpu-mem-limit"); o.CUDA.MemLimitMiB < 0 {
		return o, usageError("--gpu-mem-limit: %d MiB is negative", o.CUDA.MemLimitMiB)
	}
	switch v := c.String("arena-growth"); v {
	case "":
	case "power-of-two":
		o.CUDA.ArenaGrowth = "kNextPowerOfTwo"
	case "same-as-requested":
		o.CUDA.ArenaGrowth = "kSameAsRequested"
	default:
		return o, usageError("--arena-growth: %q, want power-of-two or same-as-requested", v)
	}
	o.CUDA.NoTF32 = !c.Bool("tf32")
	return o, nil
}
