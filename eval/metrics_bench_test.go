package eval

import (
	"math/rand/v2"
	"testing"
)

// BenchmarkScore scores a 1920x1080 portrait-like pair with a trimap: every
// metric, the sweep included. "smooth" is a model-like prediction (soft,
// wavy edge); "noisy" adds ±0.025 uniform noise to every pixel, the worst
// case for the connectivity pass (levels 9 and 10 alternate pixel by pixel
// inside the person). "Scorer" reuses one Scorer (as a pipeline worker
// should); "Fresh" is the package-level Score, which allocates its buffers
// and Mats each call.
func BenchmarkScore(b *testing.B) {
	for _, tc := range []struct {
		name  string
		noise float64
	}{{"smooth", 0}, {"noisy", 0.05}} {
		p := synthPair(rand.New(rand.NewPCG(1, 1)), 1920, 1080, true, tc.noise)
		o := DefaultOptions()
		b.Run(tc.name+"/Scorer", func(b *testing.B) {
			s := NewScorer()
			defer s.Close()
			b.SetBytes(int64(len(p.Prob)))
			for b.Loop() {
				if _, err := s.Score(p, o); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(tc.name+"/Fresh", func(b *testing.B) {
			b.SetBytes(int64(len(p.Prob)))
			for b.Loop() {
				if _, err := Score(p, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScoreParts times each pass of Score on the smooth pair.
func BenchmarkScoreParts(b *testing.B) {
	p := synthPair(rand.New(rand.NewPCG(1, 1)), 1920, 1080, true, 0)
	o := DefaultOptions()
	s := NewScorer()
	defer s.Close()
	im, err := s.Score(p, o)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("pixels", func(b *testing.B) {
		for b.Loop() {
			s.pixelPass(p, o, &im)
		}
	})
	b.Run("boundary_iou", func(b *testing.B) {
		for b.Loop() {
			s.bnd.bandIoU(s.gtBin, s.predBin, p.W, p.H, im.BoundaryWidth)
		}
	})
	b.Run("boundary_f", func(b *testing.B) {
		for b.Loop() {
			s.bnd.boundaryF(s.gtBin, s.predBin, p.W, p.H, im.BoundaryTolerance, &im.Boundary)
		}
	})
	b.Run("grad", func(b *testing.B) {
		for b.Loop() {
			if err := s.grad.errors(p.Prob, s.gt, p.Trimap, p.W, p.H, &im); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("conn", func(b *testing.B) {
		for b.Loop() {
			s.conn.errors(p.Prob, s.gt, s.level, p.Trimap, p.W, p.H, &im)
		}
	})
}
