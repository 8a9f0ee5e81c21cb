package onnxbuild_test

import (
	"math"
	"slices"
	"testing"

	"github.com/segtool/segtool/models/onnxbuild"
	ort "github.com/yalue/onnxruntime_go"
)

// feed is one named float32 input.
type feed struct {
	name  string
	shape []int64
	data  []float32
}

// result is one output as ONNX Runtime returned it.
type result struct {
	shape []int64
	data  []float32
}

// marshalInspect is g's model bytes and what Inspect reads back from them.
func marshalInspect(t testing.TB, g *onnxbuild.Graph) ([]byte, onnxbuild.Info) {
	t.Helper()
	model, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	info, err := onnxbuild.Inspect(model)
	if err != nil {
		t.Fatal(err)
	}
	return model, info
}

// session opens a dynamic session on model bytes.
func session(t testing.TB, model []byte, inputs, outputs []string) *ort.DynamicAdvancedSession {
	t.Helper()
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(model, inputs, outputs, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Destroy() })
	return s
}

// runSession runs s on the feeds and copies out every output.
func runSession(t testing.TB, s *ort.DynamicAdvancedSession, nOut int, feeds ...feed) []result {
	t.Helper()
	var ins []ort.Value
	for _, f := range feeds {
		x, err := ort.NewTensor(ort.NewShape(f.shape...), f.data)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = x.Destroy() }()
		ins = append(ins, x)
	}
	outs := make([]ort.Value, nOut)
	if err := s.Run(ins, outs); err != nil {
		t.Fatal(err)
	}
	res := make([]result, nOut)
	for i, o := range outs {
		tt, ok := o.(*ort.Tensor[float32])
		if !ok {
			t.Fatalf("output %d: %T, want a float32 tensor", i, o)
		}
		res[i] = result{shape: slices.Clone([]int64(tt.GetShape())), data: slices.Clone(tt.GetData())}
		_ = o.Destroy()
	}
	return res
}

// runModel runs a model once.
func runModel(t testing.TB, model []byte, outputs []string, feeds ...feed) []result {
	t.Helper()
	var names []string
	for _, f := range feeds {
		names = append(names, f.name)
	}
	return runSession(t, session(t, model, names, outputs), len(outputs), feeds...)
}

// close reports whether a and b agree within tol (absolute).
func closeTo(a, b []float32, tol float64) (int, bool) {
	if len(a) != len(b) {
		return -1, false
	}
	for i := range a {
		if math.IsNaN(float64(a[i])) || math.Abs(float64(a[i])-float64(b[i])) > tol {
			return i, false
		}
	}
	return 0, true
}
