package models

import (
	"context"
	"math/rand/v2"
	"slices"
	"time"
)

// BenchResult is inference alone on random input, the way ONNX Runtime's
// perf_test measures a model: no decoding, no preprocessing, no metrics.
type BenchResult struct {
	Batch      int       `json:"batch"`
	Runs       int       `json:"runs"`
	Warmup     int       `json:"warmup"`
	CallMS     []float64 `json:"-"`
	MeanMS     float64   `json:"mean_ms"`
	P50MS      float64   `json:"p50_ms"`
	P90MS      float64   `json:"p90_ms"`
	P99MS      float64   `json:"p99_ms"`
	Throughput float64   `json:"images_per_s"` // batch * runs / total call time
	// GPU is NVML's view of the timed calls on CUDA (utilisation; the
	// caller fills the memory peak from a monitor started before the
	// session, see GPUStats.PeakMemMiB).
	GPU *GPUStats `json:"gpu,omitempty"`
}

// Bench times runs calls of batch items after warmup untimed calls. The
// input is uniform noise in [0, 1) from a PCG seeded with seed, so two runs
// feed the same tensor. The batch's tensors are allocated and committed
// once (a float16 input converted once), so each timed call is Run alone.
// On CUDA, NVML's utilisation over the timed calls is in GPU when NVML is
// there.
func Bench(ctx context.Context, s *Session, batch, runs, warmup int, seed uint64) (BenchResult, error) {
	if s.Spec.Batch > 0 {
		batch = s.Spec.Batch
	}
	r := BenchResult{Batch: batch, Runs: runs, Warmup: warmup}
	b, err := s.NewBatch(batch)
	if err != nil {
		return r, err
	}
	defer b.Close()
	rng := rand.New(rand.NewPCG(seed, 0))
	for i := range b.In {
		b.In[i] = rng.Float32()
	}
	b.Commit()
	for range warmup {
		if err := s.RunBatch(b); err != nil {
			return r, err
		}
	}
	var mon *GPUMonitor
	if s.Provider == ProviderCUDA {
		mon, _ = StartCUDAMonitor(s.Device.ID, 0)
	}
	defer mon.Stop()
	var total float64
	for range runs {
		if err := ctx.Err(); err != nil {
			return r, err
		}
		t := time.Now()
		if err := s.RunBatch(b); err != nil {
			return r, err
		}
		d := float64(time.Since(t).Microseconds()) / 1000
		r.CallMS = append(r.CallMS, d)
		total += d
	}
	if mon != nil {
		g := mon.Stop()
		r.GPU = &g
	}
	if runs == 0 {
		return r, nil
	}
	s2 := slices.Clone(r.CallMS)
	slices.Sort(s2)
	rank := func(p float64) float64 {
		k := int(p*float64(len(s2))+0.999999) - 1
		return s2[min(max(k, 0), len(s2)-1)]
	}
	r.MeanMS = total / float64(runs)
	r.P50MS, r.P90MS, r.P99MS = rank(0.5), rank(0.9), rank(0.99)
	r.Throughput = float64(batch*runs) / (total / 1000)
	return r, nil
}
