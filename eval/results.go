package eval

import (
	"bufio"
	"os"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/segtool/segtool/models"
)

// Results is results.json: what was measured, on what, how, and the
// numbers.
type Results struct {
	Segtool     Build           `json:"segtool"`
	Environment Environment     `json:"environment"`
	Model       *ModelRef       `json:"model,omitempty"`
	Preds       string          `json:"preds,omitempty"`
	Dataset     DatasetRef      `json:"dataset"`
	Options     RunOptions      `json:"options"`
	Counts      Counts          `json:"counts"`
	Metrics     []MetricSummary `json:"metrics"`
	Sweep       []SweepPoint    `json:"sweep,omitempty"`
	Totals      Totals          `json:"totals"`
	Problems    []Problem       `json:"problems,omitempty"`
	// Instances is an instance run's summary (instances.go).
	Instances *InstanceSummary `json:"instances,omitempty"`
	Timing    Timing           `json:"timing"`
}

// Build identifies the segtool that measured.
type Build struct {
	Version string `json:"version"`
	Commit  string `json:"commit,omitempty"`
}

// Environment is where it ran.
type Environment struct {
	ONNXRuntime string `json:"onnxruntime,omitempty"`
	Provider    string `json:"provider,omitempty"`
	Fallback    string `json:"fallback,omitempty"` // why CUDA was not used
	Device      string `json:"device,omitempty"`
	CPU         string `json:"cpu"`
	GPU         string `json:"gpu,omitempty"`
	Cores       int    `json:"cores"`
	Threads     int    `json:"threads,omitempty"` // ONNX Runtime intra-op threads
	Go          string `json:"go"`
	OS          string `json:"os"`
	// CUDA is the CUDA provider's options, on a CUDA run.
	CUDA *models.CUDAOptions `json:"cuda,omitempty"`
}

// ModelRef is the model and the spec it ran with.
type ModelRef struct {
	Path   string      `json:"path"`
	SHA256 string      `json:"sha256"`
	Spec   models.Spec `json:"spec"`
}

// DatasetRef is the dataset and the selection scored.
type DatasetRef struct {
	Path           string   `json:"path"`
	ManifestSHA256 string   `json:"manifest_sha256"`
	Splits         []string `json:"splits"`
	Shard          *Shard   `json:"shard,omitempty"`
	Samples        int      `json:"samples"`

	// SamplesSHA256 is dataset.IdentitySHA256 of the manifest: equal for
	// the same samples after a column was added (absent in older runs).
	SamplesSHA256 string `json:"samples_sha256,omitempty"`
	// TrimapsSHA256 fingerprints the trimaps the *_unknown metrics were
	// scored against (only when the matting metrics were computed and
	// the dataset has trimaps): runs with equal samples but
	// other trimaps agree on everything but *_unknown.
	TrimapsSHA256 string `json:"trimaps_sha256,omitempty"`
	// TrimapsNote says why trimaps in the dataset were not used: they
	// were added after the run began, and a resume keeps its trimaps.
	TrimapsNote string `json:"trimaps_note,omitempty"`
}

// RunOptions are the run's options as given.
type RunOptions struct {
	Threshold    float64   `json:"threshold"`
	Sweep        []float64 `json:"sweep"`
	Skip         []string  `json:"skip_metrics,omitempty"` // metric groups not computed
	Fit          string    `json:"fit,omitempty"`
	Tile         [2]int    `json:"tile,omitempty"`
	Overlap      int       `json:"overlap,omitempty"`
	TileMode     string    `json:"tile_mode,omitempty"`
	Batch        int       `json:"batch,omitempty"`
	Workers      int       `json:"workers"`
	Warmup       int       `json:"warmup,omitempty"`
	Limit        int       `json:"limit,omitempty"`
	SavePreds    bool      `json:"save_preds,omitempty"`
	SaveOverlays bool      `json:"save_overlays,omitempty"`
	Temporal     string    `json:"temporal,omitempty"` // clip datasets: the temporal filter (temporal.Spec)
}

// Counts says what happened to the selected samples.
type Counts struct {
	Selected  int `json:"selected"`
	Scored    int `json:"scored"`
	Errors    int `json:"errors"`
	Skipped   int `json:"skipped"`
	NonFinite int `json:"nonfinite"`       // images with NaN or Inf output, not scored
	Resumed   int `json:"resumed"`         // rows kept from an interrupted run
	Clips     int `json:"clips,omitempty"` // clips among the selected samples (clip datasets)
}

// Problem is an image that was not scored, and why.
type Problem struct {
	ID     string `json:"id"`
	Status string `json:"status"`
	Path   string `json:"path,omitempty"`
	Reason string `json:"reason"`
}

// Latency is a distribution of per-image times in milliseconds.
type Latency struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
}

// Timing is the run's speed. The latencies cover every row (resumed ones
// included); throughput and wall time cover this invocation only.
type Timing struct {
	SessionMS  float64            `json:"session_ms,omitempty"`
	WarmupRuns int                `json:"warmup_runs,omitempty"`
	Images     int                `json:"images"` // images timed in this invocation
	WallS      float64            `json:"wall_s"`
	Throughput float64            `json:"images_per_s"`
	Calls      int                `json:"inference_calls,omitempty"`
	Inference  Latency            `json:"inference_ms"`
	EndToEnd   Latency            `json:"end_to_end_ms"`
	Stages     map[string]float64 `json:"stage_mean_ms"`
	PeakRSSMiB float64            `json:"peak_rss_mib"`
	// InferenceCall is the time of one session call (a batch), measured
	// around Run alone after the warm-up, and InferenceThroughput the
	// model inputs (images, or tiles) per second of call time: what
	// segtool bench model measures,
	// so eval's images_per_s over it is the harness's efficiency.
	InferenceCall       Latency `json:"inference_call_ms"`
	InferenceThroughput float64 `json:"inference_images_per_s,omitempty"`
	// PeakGPUMemMiB is GPU.PeakMemMiB(): the process's peak GPU memory,
	// or the device's rise over its baseline where NVML cannot see the
	// process. GPU has NVML's figures; GPUError why there are none.
	PeakGPUMemMiB float64          `json:"peak_gpu_mem_mib,omitempty"`
	GPU           *models.GPUStats `json:"gpu,omitempty"`
	GPUError      string           `json:"gpu_error,omitempty"`
}

func (r *Results) fill(cfg *Config, key runKey, identity string, st *stages, rows []Row, resumed, timed int, wall time.Duration) error {
	r.Segtool = Build{Version: cfg.Version, Commit: cfg.Commit}
	r.Environment = Environment{
		CPU: cpuName(), Cores: runtime.NumCPU(), Go: runtime.Version(), OS: runtime.GOOS + "/" + runtime.GOARCH,
	}
	if st.sess != nil {
		rt, _ := models.InitRuntime()
		r.Environment.ONNXRuntime = rt.Version
		r.Environment.Provider = st.sess.Provider
		r.Environment.Fallback = st.sess.Fallback
		r.Environment.Device = cfg.Session.Device.String()
		r.Environment.Threads = st.sess.Threads
		if st.sess.Provider == models.ProviderCUDA {
			o := cfg.Session.CUDA
			r.Environment.CUDA = &o
		}
		if st.gpu != nil {
			r.Environment.GPU = st.gpu.Device
		}
		r.Model = &ModelRef{Path: cfg.Model, SHA256: key.ModelSHA256, Spec: cfg.Spec}
	} else {
		r.Preds = cfg.Preds
	}
	r.Dataset = DatasetRef{Path: cfg.Dataset, ManifestSHA256: key.ManifestSHA256, SamplesSHA256: identity, TrimapsSHA256: key.Trimaps, Splits: key.Splits, Shard: key.Shard, Samples: len(rows)}
	if st.noTrimaps {
		r.Dataset.TrimapsNote = "trimaps were added to the dataset after this run began and are not used: so no *_unknown metrics; a fresh run scores them"
	}
	r.Options = RunOptions{
		Threshold: cfg.Metrics.Threshold, Sweep: cfg.Metrics.Sweep, Skip: cfg.Metrics.Skip, Workers: cfg.Workers,
		Limit: cfg.Limit, SavePreds: cfg.SavePreds, SaveOverlays: cfg.SaveOverlays, Temporal: key.Temporal,
	}
	if st.sess != nil {
		r.Options.Fit, r.Options.Tile, r.Options.Overlap = string(cfg.Fit), key.Tile, cfg.Overlap
		r.Options.TileMode = key.TileMode
		r.Options.Batch, r.Options.Warmup = cfg.Batch, cfg.Warmup
	}
	r.Counts = Counts{Resumed: resumed}
	if err := Rebuild(r, rows); err != nil {
		return err
	}
	r.Timing = timing(rows, st, timed, wall)
	return nil
}

func timing(rows []Row, st *stages, timed int, wall time.Duration) Timing {
	t := Timing{Images: timed, WallS: wall.Seconds(), Stages: map[string]float64{}, PeakRSSMiB: peakRSSMiB()}
	if wall > 0 {
		t.Throughput = float64(timed) / wall.Seconds()
	}
	if st.sess != nil {
		t.SessionMS = ms(st.sess.Created)
		t.WarmupRuns = st.cfg.Warmup
		t.Calls = len(st.callMS)
		t.InferenceCall = latency(st.callMS)
		var total float64
		for _, d := range st.callMS {
			total += d
		}
		if total > 0 {
			t.InferenceThroughput = float64(st.items) / (total / 1000)
		}
		if st.gpu != nil {
			t.GPU, t.PeakGPUMemMiB = st.gpu, st.gpu.PeakMemMiB()
		}
		t.GPUError = st.gpuErr
	}
	var inf, e2e []float64
	sums := map[string]float64{}
	n := 0
	for _, r := range rows {
		if r.Status != StatusOK && r.Status != StatusNonFinite {
			continue
		}
		n++
		inf = append(inf, r.MS.Inference)
		e2e = append(e2e, r.MS.Total)
		sums["decode"] += r.MS.Decode
		sums["preprocess"] += r.MS.Preprocess
		sums["batch"] += r.MS.Batch
		sums["inference"] += r.MS.Inference
		sums["postprocess"] += r.MS.Postprocess
		sums["metrics"] += r.MS.Metrics
	}
	for k, v := range sums {
		t.Stages[k] = v / float64(max(n, 1))
	}
	if st.sess != nil {
		t.Inference = latency(inf)
	}
	t.EndToEnd = latency(e2e)
	return t
}

// latency summarises times with nearest-rank percentiles.
func latency(xs []float64) Latency {
	if len(xs) == 0 {
		return Latency{}
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	rank := func(p float64) float64 {
		k := int(p*float64(len(s))+0.999999) - 1 // ceil(p*n) - 1
		return s[min(max(k, 0), len(s)-1)]
	}
	var sum float64
	for _, x := range s {
		sum += x
	}
	return Latency{Mean: sum / float64(len(s)), P50: rank(0.5), P90: rank(0.9), P99: rank(0.99)}
}

// peakRSSMiB is the process's peak resident set size (getrusage ru_maxrss,
// in KiB on Linux).
func peakRSSMiB() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Maxrss) / 1024
}

// cpuName reads the CPU model from /proc/cpuinfo (Linux), else GOARCH.
func cpuName() string {
	f, err := os.Open("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return runtime.GOARCH
}
