package onnxbuild_test

import (
	"math/rand/v2"
	"testing"

	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models/onnxbuild"
	ort "github.com/yalue/onnxruntime_go"
)

// BenchmarkArchs times one batch-1 inference of each architecture at its
// default size on the CPU with ONNX Runtime's default session options, e.g.
// go test -run '^$' -bench 'Archs/unet-aspp' ./models/onnxbuild/
func BenchmarkArchs(b *testing.B) {
	testmodel.InitRuntime(b)
	for _, a := range onnxbuild.Archs() {
		if a.Dynamic {
			continue
		}
		b.Run(a.Name, func(b *testing.B) {
			m, err := a.Build(onnxbuild.Options{Seed: 1})
			if err != nil {
				b.Fatal(err)
			}
			s, err := ort.NewDynamicAdvancedSessionWithONNXData(m.Data, []string{a.Input}, []string{a.Output}, nil)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = s.Destroy() }()
			shape := ort.NewShape(1, 3, int64(m.Height), int64(m.Width))
			if a.Layout == "NHWC" {
				shape = ort.NewShape(1, int64(m.Height), int64(m.Width), 3)
			}
			x := make([]float32, shape.FlattenedSize())
			rng := rand.New(rand.NewPCG(1, 2))
			for i := range x {
				x[i] = (float32(rng.IntN(256))*a.Scale - a.Mean[0]) / a.Std[0]
			}
			in, err := ort.NewTensor(shape, x)
			if err != nil {
				b.Fatal(err)
			}
			defer func() { _ = in.Destroy() }()
			outs := []ort.Value{nil}
			if err := s.Run([]ort.Value{in}, outs); err != nil { // warm-up, allocates the output
				b.Fatal(err)
			}
			defer func() { _ = outs[0].Destroy() }()
			for b.Loop() {
				if err := s.Run([]ort.Value{in}, outs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(m.FLOPs)/1e9, "GFLOPs/img")
			b.ReportMetric(float64(m.FLOPs)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
