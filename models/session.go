package models

import (
	"errors"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	ort "github.com/yalue/onnxruntime_go"

	"github.com/segtool/segtool/models/onnxbuild"
)

// Execution provider names as ONNX Runtime spells them.
const (
	ProviderCPU  = "CPUExecutionProvider"
	ProviderCUDA = "CUDAExecutionProvider"
)

// Device is where a session runs: "cpu", or "cuda" with a device index.
type Device struct {
	Kind string // "cpu" or "cuda"
	ID   int
}

func (d Device) String() string {
	if d.Kind == "cuda" {
		return "cuda:" + strconv.Itoa(d.ID)
	}
	return d.Kind
}

// ParseDevice reads --device: cpu, cuda or cuda:N.
func ParseDevice(s string) (Device, error) {
	switch {
	case s == "cpu":
		return Device{Kind: "cpu"}, nil
	case s == "cuda":
		return Device{Kind: "cuda"}, nil
	case strings.HasPrefix(s, "cuda:"):
		n, err := strconv.Atoi(strings.TrimPrefix(s, "cuda:"))
		if err != nil || n < 0 {
			return Device{}, fmt.Errorf("device %q: want cuda:N with N a GPU index", s)
		}
		return Device{Kind: "cuda", ID: n}, nil
	}
	return Device{}, fmt.Errorf("device %q: want cpu, cuda or cuda:N", s)
}

// SessionOptions says where and how a model runs.
type SessionOptions struct {
	Device Device
	// Threads is ONNX Runtime's intra-op thread count; 0 means one per
	// core, and more than MaxThreads is refused.
	Threads int
	// FallbackCPU runs on the CPU, instead of failing, when the CUDA
	// provider cannot be created.
	FallbackCPU bool
	// CUDA tunes the CUDA provider; zero values keep ONNX Runtime's
	// defaults.
	CUDA CUDAOptions
}

// CUDAOptions are the CUDA execution provider's options that matter for a
// benchmark, named as ONNX Runtime's CUDA provider documents them
// (onnxruntime.ai/docs/execution-providers/CUDA-ExecutionProvider.html).
type CUDAOptions struct {
	// ConvAlgoSearch is cudnn_conv_algo_search: EXHAUSTIVE (ORT's
	// default: time every cuDNN algorithm on first use of a shape),
	// HEURISTIC or DEFAULT.
	ConvAlgoSearch string `json:"cudnn_conv_algo_search,omitempty"`
	// MemLimitMiB is gpu_mem_limit, the arena's cap, in MiB; 0 = no cap.
	MemLimitMiB int `json:"gpu_mem_limit_mib,omitempty"`
	// ArenaGrowth is arena_extend_strategy: kNextPowerOfTwo (ORT's
	// default) or kSameAsRequested, which wastes less memory.
	ArenaGrowth string `json:"arena_extend_strategy,omitempty"`
	// NoTF32 sets use_tf32 to 0: full float32 matrix maths on Ampere and
	// later, slower but bit-closer to the CPU. ORT's default uses TF32.
	NoTF32 bool `json:"no_tf32,omitempty"`
}

// providerOptions maps o onto the CUDA provider's option names.
func (o CUDAOptions) providerOptions(id int) (map[string]string, error) {
	m := map[string]string{"device_id": strconv.Itoa(id)}
	switch strings.ToUpper(o.ConvAlgoSearch) {
	case "":
	case "EXHAUSTIVE", "HEURISTIC", "DEFAULT":
		m["cudnn_conv_algo_search"] = strings.ToUpper(o.ConvAlgoSearch)
	default:
		return nil, fmt.Errorf("cudnn_conv_algo_search %q: want exhaustive, heuristic or default", o.ConvAlgoSearch)
	}
	if o.MemLimitMiB < 0 {
		return nil, fmt.Errorf("gpu_mem_limit %d MiB is negative", o.MemLimitMiB)
	}
	if o.MemLimitMiB > 0 {
		m["gpu_mem_limit"] = strconv.FormatInt(int64(o.MemLimitMiB)<<20, 10)
	}
	switch o.ArenaGrowth {
	case "":
	case "kNextPowerOfTwo", "kSameAsRequested":
		m["arena_extend_strategy"] = o.ArenaGrowth
	default:
		return nil, fmt.Errorf("arena_extend_strategy %q: want kNextPowerOfTwo or kSameAsRequested", o.ArenaGrowth)
	}
	// Only an explicit "off" is passed: ORT's default is on, and an ORT
	// older than 1.18 knows no use_tf32 and would refuse every session.
	if o.NoTF32 {
		m["use_tf32"] = "0"
	}
	return m, nil
}

// ErrNoCUDA is wrapped by Open's error when a CUDA device was asked for
// without FallbackCPU and the loaded ONNX Runtime cannot create the CUDA
// provider.
var ErrNoCUDA = errors.New("the CUDA execution provider is not available")

// ErrCUDASession is wrapped by Open's error when the CUDA provider loaded
// but the session on it failed (a missing cuDNN, no GPU, too little
// memory) without FallbackCPU.
var ErrCUDASession = errors.New("the CUDA provider loaded but the session failed")

// Session is one ONNX Runtime session with its resolved spec. Run is not
// safe for concurrent use; eval feeds one session from one goroutine.
type Session struct {
	Spec     Spec
	Device   Device        // the device asked for
	Provider string        // the provider that runs it
	Fallback string        // why CUDA was not used, when it fell back to CPU
	Created  time.Duration // session creation time
	Threads  int

	sess    *ort.DynamicAdvancedSession
	opts    *ort.SessionOptions
	batches map[int]*Batch // Run's own, one per size
}

// ModelInfo is what ONNX Runtime reports of a model's inputs and outputs.
type ModelInfo struct {
	Inputs, Outputs []ort.InputOutputInfo
	// Heads maps each output to the op that produced its values
	// (onnxbuild.Info.Heads); nil when the graph was not read.
	Heads map[string]string
}

// ReadModelInfo loads the runtime and reads a model's declared inputs and
// outputs.
func ReadModelInfo(path string) (ModelInfo, error) {
	if _, err := InitRuntime(); err != nil {
		return ModelInfo{}, err
	}
	ins, outs, err := ort.GetInputOutputInfo(path)
	if err != nil {
		return ModelInfo{}, fmt.Errorf("read model %s: %w", path, err)
	}
	mi := ModelInfo{Inputs: ins, Outputs: outs}
	// ONNX Runtime read it, so a graph that does not decode here (a newer
	// wire feature) only costs the head ops.
	if data, err := os.ReadFile(path); err == nil {
		if gi, err := onnxbuild.Inspect(data); err == nil {
			mi.Heads = gi.Heads
		}
	}
	return mi, nil
}

// Open creates a session for the model at path. spec must already be
// resolved against the model (see Detect): Open reads only the names.
func Open(path string, spec Spec, o SessionOptions) (*Session, error) {
	if err := o.Check(); err != nil {
		return nil, err
	}
	if _, err := InitRuntime(); err != nil {
		return nil, err
	}
	threads := o.Threads
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	s := &Session{Spec: spec, Device: o.Device, Provider: ProviderCPU, Threads: threads}
	var cudaOpts map[string]string
	if o.Device.Kind == "cuda" {
		var err error
		if cudaOpts, err = o.CUDA.providerOptions(o.Device.ID); err != nil {
			return nil, err
		}
	}
	start := time.Now()
	so, err := newOptions(threads)
	if err != nil {
		return nil, err
	}
	s.opts = so
	if o.Device.Kind == "cuda" {
		if cudaErr := appendCUDA(so, cudaOpts); cudaErr != nil {
			if !o.FallbackCPU {
				s.Close()
				lib, _ := LibraryPath()
				return nil, fmt.Errorf("device %s: %w: %v (the ONNX Runtime at %s has no usable CUDA provider: %s)", o.Device, ErrNoCUDA, cudaErr, lib, CUDAFix(cudaErr.Error()))
			}
			// The failed append may have left state behind: start over.
			so.Destroy()
			s.opts = nil
			if so, err = newOptions(threads); err != nil {
				return nil, err
			}
			s.opts = so
			s.Fallback = cudaErr.Error()
		} else {
			s.Provider = ProviderCUDA
		}
	}
	if _, err := os.Stat(path); err != nil {
		s.Close()
		return nil, fmt.Errorf("model: %w", err)
	}
	if err := s.fillTensorFacts(path); err != nil {
		s.Close()
		return nil, err
	}
	sess, err := ort.NewDynamicAdvancedSession(path, []string{spec.Input}, spec.sessionOutputs(), so)
	if err != nil && s.Provider == ProviderCUDA && o.FallbackCPU {
		// The provider is built with the session: a missing cuDNN, no GPU
		// or too little memory shows only now.
		s.opts.Destroy()
		s.opts = nil
		if so, err2 := newOptions(threads); err2 != nil {
			err = err2
		} else {
			s.opts, s.Provider, s.Fallback = so, ProviderCPU, err.Error()
			sess, err = ort.NewDynamicAdvancedSession(path, []string{spec.Input}, spec.sessionOutputs(), so)
		}
	}
	if err != nil {
		s.Close()
		if s.Provider == ProviderCUDA {
			return nil, fmt.Errorf("model %s on %s: %w (%w: check cuDNN and the GPU with segtool doctor)", path, o.Device, err, ErrCUDASession)
		}
		return nil, fmt.Errorf("model %s: %w", path, err)
	}
	s.sess = sess
	s.Created = time.Since(start)
	return s, nil
}

// fillTensorFacts completes what Batch needs and only Detect fills (the
// element types, the output rank) from the model, for a spec built by
// hand; a spec that states them must agree with the model.
func (s *Session) fillTensorFacts(path string) error {
	sp := &s.Spec
	if sp.Kind == Instances || (sp.InputType != "" && sp.OutputType != "" && sp.OutputRank != 0) {
		return nil
	}
	info, err := ReadModelInfo(path)
	if err != nil {
		return err
	}
	in, err := pickIO("input", sp.Input, info.Inputs, false)
	if err != nil {
		return fmt.Errorf("model %s: %w", path, err)
	}
	out, err := pickIO("output", sp.Output, info.Outputs, true)
	if err != nil {
		return fmt.Errorf("model %s: %w", path, err)
	}
	if sp.InputType, err = elemType("input", in, sp.InputType); err != nil {
		return fmt.Errorf("model %s: %w", path, err)
	}
	if sp.OutputType, err = elemType("output", out, sp.OutputType); err != nil {
		return fmt.Errorf("model %s: %w", path, err)
	}
	if sp.OutputRank == 0 {
		sp.OutputRank = len(out.Dimensions)
	}
	return nil
}

func newOptions(threads int) (*ort.SessionOptions, error) {
	so, err := ort.NewSessionOptions()
	if err != nil {
		return nil, err
	}
	if err := so.SetIntraOpNumThreads(threads); err != nil {
		so.Destroy()
		return nil, err
	}
	// One graph branch at a time: the intra-op pool already has every core.
	if err := so.SetInterOpNumThreads(1); err != nil {
		so.Destroy()
		return nil, err
	}
	// Idle pool threads sleep instead of spinning, so they leave the cores
	// to eval's decode and metrics stages between calls.
	if err := so.AddSessionConfigEntry("session.intra_op.allow_spinning", "0"); err != nil {
		so.Destroy()
		return nil, err
	}
	return so, nil
}

func appendCUDA(so *ort.SessionOptions, opts map[string]string) error {
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer cuda.Destroy()
	if err := cuda.Update(opts); err != nil {
		return err
	}
	return so.AppendExecutionProviderCUDA(cuda)
}

// Run runs one batch. in holds n preprocessed items back to back (see
// Spec.Preprocess); the output is copied into Go memory and returned with
// its shape, batch dimension first. It reuses one Batch per size, so only
// the returned copy is allocated; pipelines that want no copy use a
// BatchPool and RunBatch.
func (s *Session) Run(in []float32, n int) ([]float32, []int64, error) {
	b := s.batches[n]
	if b == nil {
		var err error
		if b, err = s.NewBatch(n); err != nil {
			return nil, nil, err
		}
		if s.batches == nil {
			s.batches = map[int]*Batch{}
		}
		s.batches[n] = b
	}
	if len(in) != len(b.In) {
		return nil, nil, fmt.Errorf("run: %d input values for %d items of %d", len(in), n, s.Spec.ItemLen())
	}
	copy(b.In, in)
	b.Commit()
	if err := s.RunBatch(b); err != nil {
		return nil, nil, err
	}
	out := make([]float32, 0, n*b.outLen)
	for i := range n {
		out = append(out, b.Item(i)...)
	}
	return out, slices.Clone(b.outDims), nil
}

// Close releases the session. It is safe to call more than once.
func (s *Session) Close() {
	for n, b := range s.batches {
		b.Close()
		delete(s.batches, n)
	}
	destroy(&s.sess)
	destroy(&s.opts)
}
