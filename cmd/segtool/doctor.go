package main

import (
	"encoding/json"
	"fmt"
	"image"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
	"github.com/urfave/cli/v2"
	"gocv.io/x/gocv"
)

// doctorOptions are doctor's flags.
type doctorOptions struct {
	RequireCUDA bool
	GPU         int
	JSON        bool
}

func doctorCommand() *cli.Command {
	var o doctorOptions
	return &cli.Command{
		Name:  "doctor",
		Usage: "check that OpenCV, ONNX Runtime and the GPU are usable and say how to fix what is missing",
		Description: `Prints the segtool, Go and OpenCV versions, the CPU count, the ONNX Runtime
version and path, and whether its CUDA execution provider can be created.

It then lists the NVIDIA GPUs the driver (NVML) reports: index, name, memory
total and used, compute capability, driver and CUDA driver versions, or
"gpus none: <reason>" on a machine without an NVIDIA driver. When the CUDA
provider can be created it also runs a tiny built-in model (the oracle: a
1x1 conv and a sigmoid whose exact output is known) on --gpu and compares
every output value, so "cuda run ok" means a model really ran on the GPU
and gave the right answer.

Exits 1, with a fix-it line, when something required is missing. With
--require-cuda the CUDA provider, a GPU and a correct cuda run are required
too. --json prints the same facts as one JSON object (for scripts).

   segtool doctor
   segtool doctor --require-cuda --gpu 1
   segtool doctor --json`,
		Flags: []cli.Flag{
			&cli.BoolFlag{Name: "require-cuda", Usage: "fail when the CUDA execution provider, a GPU or the cuda run check is missing or fails", Destination: &o.RequireCUDA},
			&cli.IntFlag{Name: "gpu", Value: 0, Usage: "GPU index (cuda:N) for the cuda run check", Destination: &o.GPU},
			&cli.BoolFlag{Name: "json", Usage: "print the facts as one JSON object instead of text", Destination: &o.JSON},
		},
		Action: func(c *cli.Context) error { return runDoctor(c, o) },
	}
}

func runDoctor(c *cli.Context, o doctorOptions) error {
	if o.GPU < 0 {
		return usageError("--gpu must be a GPU index (0 or more), not %d", o.GPU)
	}
	r := diagnose(o.RequireCUDA, o.GPU)
	if o.JSON {
		enc := json.NewEncoder(c.App.Writer)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		r.print(c.App.Writer)
	}
	if n := len(r.Problems); n > 0 {
		return cli.Exit(fmt.Sprintf("doctor: %d problem(s)", n), 1)
	}
	return nil
}

// doctorReport is everything doctor finds; --json prints it as is.
type doctorReport struct {
	Segtool      string          `json:"segtool"`
	Go           string          `json:"go"`
	CPUs         int             `json:"cpus"`
	OpenCV       string          `json:"opencv"`
	GoCV         string          `json:"gocv"`
	ONNXRuntime  doctorORT       `json:"onnxruntime"`
	CUDAProvider doctorProvider  `json:"cuda_provider"`
	GPUs         []models.GPU    `json:"gpus"`       // empty when none or NVML is unavailable
	GPUsError    string          `json:"gpus_error"` // why there are none, "" when listed
	CUDARun      *doctorRunCheck `json:"cuda_run"`   // null when the CUDA provider is unavailable
	RequireCUDA  bool            `json:"require_cuda"`
	Problems     []string        `json:"problems"` // what makes doctor exit 1
}

type doctorORT struct {
	Path    string `json:"path"`
	Version string `json:"version"`
	Error   string `json:"error,omitempty"`
}

type doctorProvider struct {
	Available bool   `json:"available"`
	Error     string `json:"error,omitempty"`
}

// doctorRunCheck is the outcome of running the oracle model once.
type doctorRunCheck struct {
	OK       bool    `json:"ok"`
	Device   string  `json:"device"`             // cuda:N
	Provider string  `json:"provider,omitempty"` // the execution provider the session got
	Width    int     `json:"width"`
	Height   int     `json:"height"`
	Batch    int     `json:"batch"`
	CreateMS float64 `json:"create_ms"` // session creation
	MS       float64 `json:"ms"`        // the one Run, output copy included
	Error    string  `json:"error,omitempty"`
}

// diagnose gathers the facts; with requireCUDA the GPU facts count as
// problems too.
func diagnose(requireCUDA bool, gpu int) doctorReport {
	r := doctorReport{
		Segtool: version,
		Go:      fmt.Sprintf("%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH),
		CPUs:    runtime.NumCPU(),
		OpenCV:  gocv.OpenCVVersion(),
		GoCV:    gocv.Version(),
		GPUs:    []models.GPU{},
		// Empty, not null, in JSON when all is well.
		Problems: []string{},
	}
	r.RequireCUDA = requireCUDA
	problem := func(format string, a ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, a...)) }
	rt, err := models.InitRuntime()
	r.ONNXRuntime = doctorORT{Path: rt.Path, Version: rt.Version}
	if err != nil {
		r.ONNXRuntime.Error = err.Error()
		r.CUDAProvider.Error = "ONNX Runtime is not loaded"
		problem("onnxruntime: %s", firstLine(err.Error()))
	} else if err := models.CUDAProviderError(); err != nil {
		r.CUDAProvider.Error = err.Error()
		if requireCUDA {
			problem("cuda provider: %s", firstLine(err.Error()))
		}
	} else {
		r.CUDAProvider.Available = true
	}

	gpus, err := models.GPUs()
	switch {
	case err != nil:
		r.GPUsError = err.Error()
	case len(gpus) == 0:
		r.GPUsError = "NVML lists no GPU"
	default:
		r.GPUs = gpus
	}
	if r.GPUsError != "" && requireCUDA {
		problem("gpus: %s", r.GPUsError)
	}

	if r.CUDAProvider.Available {
		run := oracleCheck(models.Device{Kind: "cuda", ID: gpu})
		r.CUDARun = &run
		if !run.OK && requireCUDA {
			problem("cuda run: %s", firstLine(run.Error))
		}
	}
	return r
}

// print writes the report as doctor's aligned text lines.
func (r doctorReport) print(w io.Writer) {
	fmt.Fprintf(w, "segtool        %s\n", r.Segtool)
	fmt.Fprintf(w, "go             %s\n", r.Go)
	fmt.Fprintf(w, "cpus           %d\n", r.CPUs)
	fmt.Fprintf(w, "opencv         %s (gocv %s)\n", r.OpenCV, r.GoCV)
	if r.ONNXRuntime.Error != "" {
		fmt.Fprintf(w, "onnxruntime    MISSING: %s\n               fix: run `make deps`, or point %s at libonnxruntime.so.1\n", r.ONNXRuntime.Error, models.LibEnv)
	} else {
		fmt.Fprintf(w, "onnxruntime    %s (%s)\n", r.ONNXRuntime.Version, r.ONNXRuntime.Path)
		if !r.CUDAProvider.Available {
			fmt.Fprintf(w, "cuda provider  no: %s\n", firstLine(r.CUDAProvider.Error))
			fmt.Fprintf(w, "               fix: %s\n", models.CUDAFix(r.CUDAProvider.Error))
		} else {
			fmt.Fprintf(w, "cuda provider  yes\n")
		}
	}
	if r.GPUsError != "" {
		fmt.Fprintf(w, "gpus           none: %s\n", firstLine(r.GPUsError))
		if r.RequireCUDA {
			fmt.Fprintf(w, "               fix: install the NVIDIA driver; in a container, give it the GPU and the driver's utility libraries (docker run --gpus all)\n")
		}
	} else {
		g := r.GPUs[0]
		fmt.Fprintf(w, "gpus           %d (driver %s, CUDA driver %s)\n", len(r.GPUs), g.Driver, g.CUDAVersion)
		for _, g := range r.GPUs {
			fmt.Fprintf(w, "%-15s%s, %.0f MiB, %.0f MiB used, compute capability %s\n", fmt.Sprintf("gpu %d", g.Index), g.Name, g.MemTotalMiB, g.MemUsedMiB, g.ComputeCap)
		}
	}
	if run := r.CUDARun; run != nil {
		if run.OK {
			fmt.Fprintf(w, "cuda run       ok: oracle %dx%d on %s in %.1f ms (provider %s)\n", run.Width, run.Height, run.Device, run.MS, run.Provider)
		} else {
			fmt.Fprintf(w, "cuda run       FAILED: %s\n", firstLine(run.Error))
		}
	}
}

// Size of the oracle check's input: tiny, so it tests that a model runs
// on the device, not how fast.
const oracleCheckW, oracleCheckH = 16, 8

// oracleCheck builds the oracle model (prob exactly 1 where red >= 128,
// else 0; see onnxbuild.DefaultOracle), opens it on dev without falling
// back, runs one batch of two images through the spec's own preprocessing,
// and compares every output value with the exact answer.
func oracleCheck(dev models.Device) doctorRunCheck {
	res := doctorRunCheck{Device: dev.String(), Width: oracleCheckW, Height: oracleCheckH, Batch: 2}
	if err := runOracle(dev, &res); err != nil {
		res.Error = cliError(err).Error() // with the flags that fix it
		return res
	}
	res.OK = true
	return res
}

func runOracle(dev models.Device, res *doctorRunCheck) error {
	const w, h = oracleCheckW, oracleCheckH
	b, err := onnxbuild.Oracle(onnxbuild.DefaultOracle())
	if err != nil {
		return err
	}
	f, err := os.CreateTemp("", "segtool-doctor-*.onnx")
	if err != nil {
		return err
	}
	path := f.Name()
	defer os.Remove(path)
	_, err = f.Write(b)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}

	// Resolve the spec as eval does: the preset, the size (the oracle takes
	// any), then what the model declares.
	r, err := models.ResolveSpec(models.SpecRequest{Model: path, Spec: "oracle", Overrides: models.SpecOverrides{Size: &image.Point{X: w, Y: h}}})
	if err != nil {
		return err
	}
	spec := r.Spec

	sess, err := models.Open(path, spec, models.SessionOptions{Device: dev, Threads: 1})
	if err != nil {
		return err
	}
	defer sess.Close()
	res.Provider = sess.Provider
	res.CreateMS = ms(sess.Created)
	if dev.Kind == "cuda" && sess.Provider != models.ProviderCUDA {
		return fmt.Errorf("the session runs on %s, not %s", sess.Provider, models.ProviderCUDA)
	}

	// Item k has red 200 (oracle: 1) in its left half for k = 0, its right
	// half for k = 1, and red 50 (oracle: 0) in the other half; blue and
	// green vary, which the oracle must ignore.
	const n = 2
	in := make([]float32, n*spec.ItemLen())
	want := make([]float32, n*w*h)
	place := models.Place(models.FitResize, w, h, w, h)
	for k := range n {
		img := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
		px, err := img.DataPtrUint8()
		if err != nil {
			img.Close()
			return err
		}
		for y := range h {
			for x := range w {
				i := y*w + x
				red := uint8(50)
				if (x < w/2) == (k == 0) {
					red, want[k*w*h+i] = 200, 1
				}
				px[3*i], px[3*i+1], px[3*i+2] = uint8(x*37+k*101), uint8(y*23+7), red
			}
		}
		err = spec.Preprocess(img, place, in[k*spec.ItemLen():(k+1)*spec.ItemLen()])
		img.Close()
		if err != nil {
			return err
		}
	}

	start := time.Now()
	out, shape, err := sess.Run(in, n)
	res.MS = ms(time.Since(start))
	if err != nil {
		return fmt.Errorf("run on %s: %w", dev, err)
	}
	if len(out) != len(want) {
		return fmt.Errorf("output %v holds %d values, want %d (%dx1x%dx%d)", shape, len(out), len(want), n, h, w)
	}
	var bad []string
	for i, v := range out {
		if v != want[i] {
			bad = append(bad, fmt.Sprintf("item %d pixel (%d,%d) = %g, want %g", i/(w*h), i%w, i%(w*h)/w, v, want[i]))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("wrong output on %s: %d of %d values differ (%s)", dev, len(bad), len(out), strings.Join(bad[:min(3, len(bad))], "; "))
	}
	return nil
}

// ms is d in milliseconds.
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func firstLine(s string) string {
	for i, r := range s {
		if r == '\n' || r == '\x1b' {
			return s[:i]
		}
	}
	return s
}
