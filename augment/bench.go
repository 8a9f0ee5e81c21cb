package augment

import (
	"errors"
	"time"
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
