package models_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
)

// fp16Session opens the oracle built in precision p, its spec detected
// from the model, at w x h.
func fp16Session(t testing.TB, p onnxbuild.Precision, w, h int) *models.Session {
	t.Helper()
	testmodel.InitRuntime(t)
	path := testmodel.Built(t, t.TempDir(), "oracle", onnxbuild.Options{Precision: p})
	base := models.Presets()["oracle"]
	base.Width, base.Height = w, h
	return testmodel.Open(t, path, base, models.SessionOptions{Threads: 1})
}

// oracleInput is n items of w x h (NCHW, raw 0..255) whose red channel
// steps through reds, and the oracle's exact answer: 1 where red >= 128.
func oracleInput(n, w, h int, reds []float32) (in, want []float32) {
	for k := range n {
		item := make([]float32, 3*w*h)
		for i := range w * h {
			r := reds[(i+k)%len(reds)]
			item[i] = r // channel 0 (R): the oracle reads it
			item[w*h+i] = 255 - r
			v := float32(0)
			if r >= 128 {
				v = 1
			}
			want = append(want, v)
		}
		in = append(in, item...)
	}
	return in, want
}

// TestRunFloat16 feeds the float16-I/O oracle through Session.Run and a
// pooled Batch: the float32 input is converted once per batch and the
// float16 output read back, exactly (0 and 1 are exact in float16, as are
// the reds 0..255).
func TestRunFloat16(t *testing.T) {
	s := fp16Session(t, onnxbuild.FP16IO, 5, 3)
	if s.Spec.InputType != models.Float16 || s.Spec.OutputType != models.Float16 {
		t.Fatalf("detected %s in, %s out; want float16", s.Spec.InputType, s.Spec.OutputType)
	}
	reds := []float32{0, 1, 127, 128, 129, 200, 255}
	in, want := oracleInput(2, 5, 3, reds)
	for range 2 { // the second call reuses the first's tensors
		got, dims, err := s.Run(in, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(dims, []int64{2, 1, 3, 5}) || !slices.Equal(got, want) {
			t.Fatalf("Run = %v %v, want %v %v", dims, got, []int64{2, 1, 3, 5}, want)
		}
	}
	b, err := s.NewBatch(2)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	copy(b.In, in)
	b.Commit()
	if err := s.RunBatch(b); err != nil {
		t.Fatal(err)
	}
	if got := b.Item(1); !slices.Equal(got, want[15:]) || !slices.Equal(b.ItemDims(), []int64{1, 3, 5}) {
		t.Errorf("item 1 = %v %v, want %v", got, b.ItemDims(), want[15:])
	}
	// Without Commit the tensor keeps the last committed input.
	clear(b.In)
	if err := s.RunBatch(b); err != nil {
		t.Fatal(err)
	}
	if got := b.Item(0); !slices.Equal(got, want[:15]) {
		t.Errorf("uncommitted batch ran %v, want the committed input's %v", got, want[:15])
	}
}

// TestBatchPool: at most depth batches of a size exist; a Get beyond them
// waits for a Release (the last of the readers Hold named), and the batch
// that comes back is one of the pool's own.
func TestBatchPool(t *testing.T) {
	s := oracleSession(t, 4, 2)
	p := s.NewBatchPool(2)
	defer p.Close()
	a, err := p.Get(3, nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := p.Get(3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a == b || a.N != 3 || len(a.In) != 3*s.Spec.ItemLen() {
		t.Fatalf("batches %p %p of %d items, %d values", a, b, a.N, len(a.In))
	}
	// Another size has its own batches.
	if c, err := p.Get(1, nil); err != nil || c.N != 1 {
		t.Fatalf("Get(1) = %v, %v", c, err)
	}
	got := make(chan *models.Batch)
	go func() {
		c, err := p.Get(3, nil)
		if err != nil {
			t.Error(err)
		}
		got <- c
	}()
	a.Hold(2)   // two readers...
	a.Release() // ...and the holder from Get lets go
	a.Release()
	select {
	case <-got:
		t.Fatal("Get returned a batch while both were in use")
	case <-time.After(50 * time.Millisecond):
	}
	a.Release() // the second reader: a is free again
	if c := <-got; c != a {
		t.Errorf("Get returned %p, want the released %p", c, a)
	}
	done := make(chan struct{})
	close(done)
	if _, err := p.Get(3, done); err == nil {
		t.Error("Get with both batches held and done closed: no error")
	}
	in, want := oracleInput(3, 4, 2, []float32{10, 250})
	copy(b.In, in)
	b.Commit()
	if err := s.RunBatch(b); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if got := b.Item(i); !slices.Equal(got, want[i*8:(i+1)*8]) {
			t.Errorf("item %d = %v, want %v", i, got, want[i*8:(i+1)*8])
		}
	}
}

func TestOutputShape(t *testing.T) {
	s := models.Spec{Width: 8, Height: 6, Layout: models.NHWC, Kind: models.Softmax2}
	for _, c := range []struct {
		edit func(*models.Spec)
		want []int64
	}{
		{func(*models.Spec) {}, []int64{4, 6, 8, 2}},
		{func(s *models.Spec) { s.OutputLayout = models.NCHW }, []int64{4, 2, 6, 8}},
		{func(s *models.Spec) { s.Layout, s.Kind = models.NCHW, models.Sigmoid }, []int64{4, 1, 6, 8}},
		{func(s *models.Spec) { s.OutputRank, s.Kind = 3, models.Sigmoid }, []int64{4, 6, 8}},
	} {
		sp := s
		c.edit(&sp)
		if got := sp.OutputShape(4); !slices.Equal(got, c.want) {
			t.Errorf("%+v: OutputShape(4) = %v, want %v", sp, got, c.want)
		}
	}
}

// BenchmarkCommitFloat16 converts a batch of eight 800x600 float32 inputs
// (11.5 million values) to float16, as eval does once per batch for a
// float16-input model; it runs on the goroutine that fills batches, beside
// the previous call.
//
//	go test -run '^$' -bench CommitFloat16 ./models/
func BenchmarkCommitFloat16(b *testing.B) {
	s := fp16Session(b, onnxbuild.FP16IO, 800, 600)
	batch, err := s.NewBatch(8)
	if err != nil {
		b.Fatal(err)
	}
	defer batch.Close()
	for i := range batch.In {
		batch.In[i] = float32(i % 256)
	}
	b.SetBytes(int64(4 * len(batch.In)))
	b.ResetTimer()
	for range b.N {
		batch.Commit()
	}
}

// TestOpenFillsTensorFacts: a spec built by hand, without Detect, gets the
// element types and output rank from the model when the session opens, so
// its pre-allocated tensors fit; a stated type that the model contradicts
// is an error naming the field.
func TestOpenFillsTensorFacts(t *testing.T) {
	testmodel.InitRuntime(t)
	m, err := onnxbuild.Build("oracle", onnxbuild.Options{Precision: onnxbuild.FP16IO})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "oracle16.onnx")
	if err := os.WriteFile(path, m.Data, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := models.Presets()["oracle"]
	spec.Width, spec.Height = 2, 1
	s, err := models.Open(path, spec, models.SessionOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Spec.InputType != models.Float16 || s.Spec.OutputType != models.Float16 || s.Spec.OutputRank != 4 {
		t.Errorf("filled %s/%s rank %d, want float16/float16 rank 4", s.Spec.InputType, s.Spec.OutputType, s.Spec.OutputRank)
	}
	got, _, err := s.Run([]float32{127, 128, 0, 0, 0, 0}, 1)
	if err != nil || !slices.Equal(got, []float32{0, 1}) {
		t.Errorf("Run = %v, %v; want [0 1]", got, err)
	}
	spec.InputType = models.Float32
	if _, err := models.Open(path, spec, models.SessionOptions{Threads: 1}); err == nil || !strings.Contains(err.Error(), "input_type says float32") {
		t.Errorf("a float32 spec for a float16 model: %v", err)
	}
}
