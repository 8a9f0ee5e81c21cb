package models

import (
	"encoding/binary"
	"fmt"
	"runtime"
	"sync"

	"github.com/x448/float16"
	ort "github.com/yalue/onnxruntime_go"
)

// Element types of a model's input or output tensor, as a spec names them.
const (
	Float32 = "float32"
	Float16 = "float16"
)

// Batch is one pre-allocated input and output tensor pair for N items,
// reused call after call, so that inference allocates nothing per batch:
// fill In, Commit, RunBatch, then read Item(i).
//
// For a float16 model, In is a float32 staging buffer that Commit converts
// into the tensor once per batch, and Item converts an item's float16
// output on demand; for float32 models both are views of the tensors.
type Batch struct {
	N  int
	In []float32 // N items back to back, Spec.ItemLen() values each

	s       *Session
	in, out ort.Value
	in16    []byte    // the float16 input tensor's data
	out32   []float32 // the float32 output: the tensor's data, or converted
	out16   []byte    // the float16 output tensor's data
	outDims []int64
	outLen  int // values per output item

	// pool bookkeeping (BatchPool)
	pool *BatchPool
	mu   sync.Mutex
	refs int
}

// NewBatch allocates the tensors for a batch of n items. The output shape
// is the spec's (see Spec.OutputShape): segtool reads outputs at input
// resolution, so it is known before the first call.
func (s *Session) NewBatch(n int) (*Batch, error) {
	if s.Spec.Kind == Instances {
		return nil, fmt.Errorf("model %s: %w", s.Spec.Name, ErrInstanceModel)
	}
	if n < 1 {
		return nil, fmt.Errorf("batch of %d items", n)
	}
	if s.Spec.Batch > 0 && n != s.Spec.Batch {
		return nil, fmt.Errorf("batch of %d items, but the model's batch is fixed at %d", n, s.Spec.Batch)
	}
	if err := s.Spec.CheckBatch(n); err != nil {
		return nil, err
	}
	b := &Batch{N: n, s: s, In: make([]float32, n*s.Spec.ItemLen())}
	inShape := ort.NewShape(s.Spec.InputShape(n)...)
	outShape := ort.NewShape(s.Spec.OutputShape(n)...)
	b.outDims = []int64(outShape)
	b.outLen = int(outShape.FlattenedSize()) / n
	var err error
	if b.in, b.in16, err = newFloatTensor(inShape, b.In, s.Spec.InputType); err != nil {
		return nil, fmt.Errorf("input tensor %v: %w", inShape, err)
	}
	b.out32 = make([]float32, n*b.outLen)
	if b.out, b.out16, err = newFloatTensor(outShape, b.out32, s.Spec.OutputType); err != nil {
		b.Close()
		return nil, fmt.Errorf("output tensor %v: %w", outShape, err)
	}
	return b, nil
}

// newFloatTensor makes a tensor of shape over vals or, for a float16
// element type, over a new buffer of two bytes a value, returned too.
func newFloatTensor(shape ort.Shape, vals []float32, elem string) (ort.Value, []byte, error) {
	if elem == Float16 {
		buf := make([]byte, 2*len(vals))
		t, err := ort.NewCustomDataTensor(shape, buf, ort.TensorElementDataTypeFloat16)
		if err != nil {
			return nil, nil, err
		}
		return t, buf, nil
	}
	t, err := ort.NewTensor(shape, vals)
	if err != nil {
		return nil, nil, err
	}
	return t, nil, nil
}

// Commit makes the input tensor hold In: for a float16 input it converts
// In once, on as many goroutines as there are cores (a batch of 32
// 800x600 images is 46 million values); for float32 it does nothing, as
// the tensor reads In itself. Call it after filling In and before
// RunBatch; eval calls it on the goroutine that fills batches, so the
// conversion overlaps the previous call.
func (b *Batch) Commit() {
	if b.in16 == nil {
		return
	}
	parallel(len(b.In), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			binary.LittleEndian.PutUint16(b.in16[2*i:], float16.Fromfloat32(b.In[i]).Bits())
		}
	})
}

// Item returns item i's raw output (its values without the batch
// dimension). It stays valid until the batch runs again. For a float16
// output it converts the item on each call, into a buffer the item owns:
// different items may be read from different goroutines at once, but one
// item from one goroutine at a time.
func (b *Batch) Item(i int) []float32 {
	lo, hi := i*b.outLen, (i+1)*b.outLen
	if b.out16 != nil {
		for k := lo; k < hi; k++ {
			b.out32[k] = float16.Frombits(binary.LittleEndian.Uint16(b.out16[2*k:])).Float32()
		}
	}
	return b.out32[lo:hi:hi]
}

// ItemDims is an output item's shape, without the batch dimension.
func (b *Batch) ItemDims() []int64 { return b.outDims[1:] }

// Close frees the tensors. It is safe to call more than once.
func (b *Batch) Close() {
	destroy(&b.in)
	destroy(&b.out)
}

// destroy frees what *v holds, once: *v is left nil.
func destroy[T interface {
	comparable
	Destroy() error
}](v *T) {
	var none T
	if *v != none {
		(*v).Destroy()
		*v = none
	}
}

// RunBatch runs the session on b's committed input into b's output. Only
// the call is inside; it is what eval and bench time.
func (s *Session) RunBatch(b *Batch) error {
	if b.s != s || b.in == nil || s.sess == nil {
		return fmt.Errorf("run: the batch belongs to another session, or the batch or session is closed")
	}
	if err := s.sess.Run([]ort.Value{b.in}, []ort.Value{b.out}); err != nil {
		return fmt.Errorf("run %s batch of %d into output %v: %w", s.Provider, b.N, b.outDims, err)
	}
	return nil
}

// parallel calls f on contiguous chunks of [0, n) on up to NumCPU
// goroutines; small n runs inline.
func parallel(n int, f func(lo, hi int)) {
	const grain = 1 << 18
	workers := min(runtime.NumCPU(), (n+grain-1)/grain)
	if workers <= 1 {
		f(0, n)
		return
	}
	var wg sync.WaitGroup
	step := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			f(lo, hi)
		}(lo, min(lo+step, n))
	}
	wg.Wait()
}

// BatchPool hands out a session's batches, at most Depth of each size, so
// a pipeline can fill one batch while another runs and a third is being
// read, with memory bounded and nothing allocated once warm.
type BatchPool struct {
	s      *Session
	depth  int
	mu     sync.Mutex
	free   map[int]chan *Batch
	made   map[int]int
	all    []*Batch
	closed bool
}

// NewBatchPool returns a pool of up to depth batches per size.
func (s *Session) NewBatchPool(depth int) *BatchPool {
	return &BatchPool{s: s, depth: max(depth, 1), free: map[int]chan *Batch{}, made: map[int]int{}}
}

// Get returns a free batch of n items, allocating one while fewer than
// Depth exist, else waiting for one to be released; done aborts the wait.
// The caller holds the batch's one reference: Hold adds the readers it
// hands items to, and Release drops each.
func (p *BatchPool) Get(n int, done <-chan struct{}) (b *Batch, err error) {
	defer func() {
		if b != nil {
			b.mu.Lock()
			b.refs = 1
			b.mu.Unlock()
		}
	}()
	select {
	case <-done:
		return nil, errPoolCancelled
	default:
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil, fmt.Errorf("batch pool: closed")
	}
	ch := p.free[n]
	if ch == nil {
		ch = make(chan *Batch, p.depth)
		p.free[n] = ch
	}
	select {
	case b := <-ch:
		p.mu.Unlock()
		return b, nil
	default:
	}
	if p.made[n] < p.depth {
		p.made[n]++
		p.mu.Unlock()
		b, err := p.s.NewBatch(n)
		if err != nil {
			p.mu.Lock()
			p.made[n]--
			p.mu.Unlock()
			return nil, err
		}
		b.pool = p
		p.mu.Lock()
		p.all = append(p.all, b)
		p.mu.Unlock()
		return b, nil
	}
	p.mu.Unlock()
	select {
	case b := <-ch:
		return b, nil
	case <-done:
		return nil, errPoolCancelled
	}
}

var errPoolCancelled = fmt.Errorf("batch pool: cancelled")

// Hold adds readers (items handed on) to the batch's references; each
// calls Release when done with its Item, and the last Release returns the
// batch to its pool. The holder from Get releases its own reference after
// handing the items on.
func (b *Batch) Hold(readers int) {
	b.mu.Lock()
	b.refs += readers
	b.mu.Unlock()
}

// Release drops one reference (see Get and Hold).
func (b *Batch) Release() {
	b.mu.Lock()
	b.refs--
	last := b.refs == 0
	b.mu.Unlock()
	if last {
		b.release()
	}
}

func (b *Batch) release() {
	if b.pool == nil {
		return
	}
	b.pool.mu.Lock()
	ch := b.pool.free[b.N]
	b.pool.mu.Unlock()
	ch <- b // never blocks: at most depth batches of a size exist
}

// Close frees every batch the pool made; Get fails after it. Call it once
// nothing runs.
func (p *BatchPool) Close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.closed = true
	for _, b := range p.all {
		b.Close()
	}
	p.all = nil
}
