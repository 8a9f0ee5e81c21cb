package onnxbuild_test

import (
	"slices"
	"testing"

	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models/onnxbuild"
	ort "github.com/yalue/onnxruntime_go"
)

// TestToyInstancesInORT runs the toy instance model on hand-made 6x5
// inputs and checks every output against the values its doc promises.
func TestToyInstancesInORT(t *testing.T) {
	testmodel.InitRuntime(t)
	data, err := onnxbuild.ToyInstances()
	if err != nil {
		t.Fatal(err)
	}
	ins, outs, err := ort.GetInputOutputInfoWithONNXData(data)
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 || ins[0].Name != "images" || !slices.Equal([]int64(ins[0].Dimensions), []int64{3, -1, -1}) {
		t.Errorf("inputs %v, want images [3 -1 -1]", ins)
	}
	wantOuts := []struct {
		name string
		dims []int64
		elem ort.TensorElementDataType
	}{
		{"boxes", []int64{-1, 4}, ort.TensorElementDataTypeFloat},
		{"labels", []int64{-1}, ort.TensorElementDataTypeInt64},
		{"scores", []int64{-1}, ort.TensorElementDataTypeFloat},
		{"masks", []int64{-1, 1, -1, -1}, ort.TensorElementDataTypeFloat},
	}
	if len(outs) != len(wantOuts) {
		t.Fatalf("outputs %v, want 4", outs)
	}
	for i, w := range wantOuts {
		if o := outs[i]; o.Name != w.name || !slices.Equal([]int64(o.Dimensions), w.dims) || o.DataType != w.elem {
			t.Errorf("output %d: %v, want %s %v of %v", i, o, w.name, w.dims, w.elem)
		}
	}
	s, err := ort.NewDynamicAdvancedSessionWithONNXData(data, []string{"images"}, []string{"boxes", "labels", "scores", "masks"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Destroy() }()

	const w, h = 6, 5
	run := func(x []float32) (boxes []float32, labels []int64, scores []float32, masks []float32, n int64) {
		t.Helper()
		in, err := ort.NewTensor(ort.NewShape(3, h, w), x)
		if err != nil {
			t.Fatal(err)
		}
		defer func() { _ = in.Destroy() }()
		vs := make([]ort.Value, 4)
		if err := s.Run([]ort.Value{in}, vs); err != nil {
			t.Fatal(err)
		}
		defer func() {
			for _, v := range vs {
				_ = v.Destroy()
			}
		}()
		n = vs[0].GetShape()[0]
		if got := []int64(vs[3].GetShape()); !slices.Equal(got, []int64{n, 1, h, w}) {
			t.Errorf("masks shape %v, want [%d 1 %d %d]", got, n, h, w)
		}
		return slices.Clone(vs[0].(*ort.Tensor[float32]).GetData()), slices.Clone(vs[1].(*ort.Tensor[int64]).GetData()),
			slices.Clone(vs[2].(*ort.Tensor[float32]).GetData()), slices.Clone(vs[3].(*ort.Tensor[float32]).GetData()), n
	}

	// R: 0.8 on x 1..3, y 0..1; G: 0.03 at one pixel (below the 0.05
	// threshold); B: 0.5 at (5, 4), the bottom-right corner.
	x := make([]float32, 3*w*h)
	wantR := make([]float32, w*h)
	for y := range 2 {
		for xx := 1; xx <= 3; xx++ {
			x[y*w+xx] = 0.8
			wantR[y*w+xx] = 1
		}
	}
	x[w*h+2*w+2] = 0.03
	x[2*w*h+4*w+5] = 0.5
	wantB := make([]float32, w*h)
	wantB[4*w+5] = 1
	boxes, labels, scores, masks, n := run(x)
	if n != 2 {
		t.Fatalf("%d detections, want 2 (R and B)", n)
	}
	if want := []float32{1, 0, 4, 2, 5, 4, 6, 5}; !slices.Equal(boxes, want) {
		t.Errorf("boxes %v, want %v", boxes, want)
	}
	if want := []int64{1, 18}; !slices.Equal(labels, want) {
		t.Errorf("labels %v, want %v", labels, want)
	}
	if want := []float32{0.8, 0.5}; !slices.Equal(scores, want) {
		t.Errorf("scores %v, want %v", scores, want)
	}
	if want := append(wantR, wantB...); !slices.Equal(masks, want) {
		t.Errorf("masks %v, want %v", masks, want)
	}
	if onnxbuild.ToyInstancesLabel(0) != 1 || onnxbuild.ToyInstancesLabel(2) != 18 {
		t.Errorf("ToyInstancesLabel disagrees with the labels output")
	}

	// A black image: zero detections, every output empty.
	boxes, labels, scores, masks, n = run(make([]float32, 3*w*h))
	if n != 0 || len(boxes)+len(labels)+len(scores)+len(masks) != 0 {
		t.Errorf("black image: %d detections, boxes %v labels %v scores %v, %d mask values; want none", n, boxes, labels, scores, len(masks))
	}
}
