package augment

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/segtool/segtool/synth"
	"gocv.io/x/gocv"
)

// BenchResult is the time a pipeline spent on n images, split by its
// top-level ops.
type BenchResult struct {
	Images int
	Total  time.Duration // sum of Steps, excluding cloning the input
	Steps  []StepTiming
}

// StepTiming is the time spent in one top-level op over all images.
type StepTiming struct {
	Op    string
	Total time.Duration
}

// ImagesPerSecond returns n / total, or 0 when nothing was timed.
func (r BenchResult) ImagesPerSecond() float64 { return perSecond(r.Images, r.Total) }

// ImagesPerSecond returns images / this step's time.
func (t StepTiming) ImagesPerSecond(images int) float64 { return perSecond(images, t.Total) }

func perSecond(n int, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// Bench applies p to n clones of s (copy indexes 0..n-1 of id "bench"),
// timing each top-level op. s is left unchanged.
func Bench(p *Pipeline, s *Sample, n int, seed int64) (BenchResult, error) {
	if n <= 0 {
		return BenchResult{}, errors.New("augment: bench needs n > 0")
	}
	if err := s.Validate(); err != nil {
		return BenchResult{}, err
	}
	res := BenchResult{Images: n, Steps: make([]StepTiming, len(p.steps))}
	for i, st := range p.steps {
		res.Steps[i].Op = st.name
	}
	var log []Applied
	for i := range n {
		c := s.Clone()
		rng := NewRand(seed, "bench", i)
		for j, st := range p.steps {
			t0 := time.Now()
			var err error
			log, err = st.op.Apply(c, rng, log[:0])
			d := time.Since(t0)
			res.Steps[j].Total += d
			res.Total += d
			if err != nil {
				c.Close()
				return res, err
			}
		}
		c.Close()
	}
	return res, nil
}

// BenchOptions configure BenchSamples.
type BenchOptions struct {
	N    int // images per timing (> 0)
	Seed int64
	// Throughput also applies the pipeline N times over all the samples,
	// on one worker and on Workers (<= 0: all cores, as every job).
	Throughput bool
	Workers    int
}

// BenchReport is what BenchSamples measured. Decoding and encoding are
// not timed: only the pipeline.
type BenchReport struct {
	Pipeline string      // base name of the config
	Sample   string      // id of the sample timed op by op
	Size     image.Point // its size
	Single   BenchResult // one worker, op by op
	// Dataset is the pass over all the samples (a dataset's, in segtool
	// bench augment); nil without Throughput.
	Dataset *Throughput
}

// Throughput is the pipeline's speed over several samples, on one worker
// and on several.
type Throughput struct {
	Samples, Images, Workers int
	Serial, Parallel         time.Duration
}

// SerialPerSecond is images per second on one worker.
func (t Throughput) SerialPerSecond() float64 { return perSecond(t.Images, t.Serial) }

// ParallelPerSecond is images per second on Workers workers.
func (t Throughput) ParallelPerSecond() float64 { return perSecond(t.Images, t.Parallel) }

// BenchSamples times p: op by op on samples[0] and one worker (Bench),
// and, with o.Throughput, over all of samples on one worker and on
// o.Workers. ids name the samples. OpenCV runs single-threaded
// throughout, as it does under a job's worker pool. The samples are left
// unchanged; the caller closes them.
func BenchSamples(ctx context.Context, p *Pipeline, samples []*Sample, ids []string, o BenchOptions) (BenchReport, error) {
	rep := BenchReport{Pipeline: p.Name}
	if len(samples) == 0 || len(ids) != len(samples) {
		return rep, fmt.Errorf("augment: bench needs samples, each with an id (%d samples, %d ids)", len(samples), len(ids))
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	rep.Sample = ids[0]
	rep.Size = image.Pt(samples[0].Image.Cols(), samples[0].Image.Rows())

	threads := OpenCVThreads()
	SetOpenCVThreads(1)
	defer SetOpenCVThreads(threads)
	var err error
	if rep.Single, err = Bench(p, samples[0], o.N, o.Seed); err != nil {
		return rep, fmt.Errorf("bench %s: %w", rep.Sample, err)
	}
	if !o.Throughput {
		return rep, nil
	}
	t := Throughput{Samples: len(samples), Images: o.N, Workers: o.Workers}
	if t.Serial, err = throughput(ctx, p, samples, o.N, 1, o.Seed); err != nil {
		return rep, err
	}
	if t.Parallel, err = throughput(ctx, p, samples, o.N, o.Workers, o.Seed); err != nil {
		return rep, err
	}
	rep.Dataset = &t
	return rep, nil
}

// SyntheticSample draws a portrait of size (32x32 at least) with its
// mask (alpha >= 128). The caller closes it.
func SyntheticSample(size image.Point, seed int64) (*Sample, error) {
	p, err := synth.Portrait(rand.New(rand.NewPCG(uint64(seed), 0x5e97001)), size.X, size.Y)
	if err != nil {
		return nil, err
	}
	p.Person.Close()
	mask := gocv.NewMat()
	gocv.Threshold(p.Alpha, &mask, 127, 255, gocv.ThresholdBinary)
	return &Sample{Image: p.Image, Alpha: p.Alpha, Mask: mask}, nil
}

// throughput applies p n times over samples (image i is sample i mod
// len, copy i / len) on workers goroutines and returns the wall time.
func throughput(ctx context.Context, p *Pipeline, samples []*Sample, n, workers int, seed int64) (time.Duration, error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, workers)
	t0 := time.Now()
	for g := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n || ctx.Err() != nil {
					return
				}
				c := samples[i%len(samples)].Clone()
				_, err := p.Apply(c, seed, "bench", i/len(samples))
				c.Close()
				if err != nil {
					errs[g] = err
					return
				}
			}
		}()
	}
	wg.Wait()
	d := time.Since(t0)
	if err := ctx.Err(); err != nil {
		return d, err
	}
	return d, errors.Join(errs...)
}
