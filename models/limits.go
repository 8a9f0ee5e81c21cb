package models

import (
	"fmt"
	"runtime"

	"github.com/segtool/segtool/dataset"
)

// MaxThreads is the most intra-op threads a session may ask for: four per
// core. ONNX Runtime starts every one when the session is created, each
// with its own stack and scratch memory, so a huge count exhausts memory
// long before the first call; past the cores extra threads only contend,
// and four per core still leaves room to measure oversubscription.
func MaxThreads() int { return 4 * runtime.NumCPU() }

// Check refuses options that Open would refuse before creating anything;
// callers that write before opening a session call it first.
func (o SessionOptions) Check() error { return checkThreads(o.Threads) }

// checkThreads refuses a thread count outside 0 (all cores) to MaxThreads.
func checkThreads(n int) error {
	if n < 0 || n > MaxThreads() {
		return &dataset.OptionError{Field: "Threads", Err: fmt.Errorf("%d: want 1 to %d (4 per core; leave it out for one per core)", n, MaxThreads())}
	}
	return nil
}

// elemBytes is the size of one value of a tensor element type.
func elemBytes(elem string) int64 {
	if elem == Float16 {
		return 2
	}
	return 4
}

// BatchBytes is what NewBatch allocates for n items: the input and output
// tensors, plus the float32 staging buffers of a float16 model.
func (s Spec) BatchBytes(n int) float64 {
	in, out := int64(s.ItemLen()), int64(1)
	for _, d := range s.OutputShape(1) {
		out *= d
	}
	per := in*4 + out*4
	if s.InputType == Float16 {
		per += in * elemBytes(Float16)
	}
	if s.OutputType == Float16 {
		per += out * elemBytes(Float16)
	}
	return float64(n) * float64(per)
}

// CheckBatch refuses a batch whose tensors would take more than a quarter
// of this machine's memory: a run holds a few batches at once (eval keeps
// three in flight) and ONNX Runtime's activations are larger still, so a
// batch that size cannot finish, and allocating it kills the process
// instead of failing.
func (s Spec) CheckBatch(n int) error {
	total := totalMemory()
	if total == 0 {
		return nil // unknown: no bound
	}
	if need, limit := s.BatchBytes(n), float64(total)/4; need > limit {
		return &dataset.OptionError{Field: "Batch", Err: fmt.Errorf("%d items of %dx%d need %s for their input and output tensors; the most a batch may take is %s, a quarter of this machine's %s",
			n, s.Width, s.Height, bytesText(need), bytesText(limit), bytesText(float64(total)))}
	}
	return nil
}

// bytesText prints a size in GiB, or MiB below one GiB.
func bytesText(b float64) string {
	if b >= 1<<30 {
		return fmt.Sprintf("%.1f GiB", b/(1<<30))
	}
	return fmt.Sprintf("%.0f MiB", b/(1<<20))
}
