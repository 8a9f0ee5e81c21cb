package models

import (
	"errors"
	"strings"
	"testing"

	"github.com/segtool/segtool/dataset"
)

// TestOpenRefusesThreads: a negative or huge thread count is an option
// error on Threads before ONNX Runtime is touched.
func TestOpenRefusesThreads(t *testing.T) {
	spec := Spec{Width: 8, Height: 8}
	for _, n := range []int{-1, MaxThreads() + 1, 100000} {
		_, err := Open("no-such.onnx", spec, SessionOptions{Threads: n})
		var oe *dataset.OptionError
		if !errors.As(err, &oe) || oe.Field != "Threads" {
			t.Errorf("threads %d: %v, want an OptionError on Threads", n, err)
		}
	}
}

// TestCheckBatch: the figure is input plus output bytes (and the float16
// copies), and a batch over a quarter of RAM is an option error on Batch.
func TestCheckBatch(t *testing.T) {
	s := Spec{Width: 320, Height: 256, Layout: NCHW, Kind: Sigmoid}
	if got, want := s.BatchBytes(2), 2*float64(3*320*256*4+320*256*4); got != want {
		t.Errorf("float32 batch bytes %v, want %v", got, want)
	}
	s16 := s
	s16.InputType, s16.OutputType = Float16, Float16
	if got, want := s16.BatchBytes(1), float64(3*320*256*6+320*256*6); got != want {
		t.Errorf("float16 batch bytes %v, want %v", got, want)
	}
	if totalMemory() == 0 {
		t.Skip("total memory unknown here")
	}
	if err := s.CheckBatch(8); err != nil {
		t.Errorf("batch 8: %v", err)
	}
	err := s.CheckBatch(100000)
	var oe *dataset.OptionError
	if !errors.As(err, &oe) || oe.Field != "Batch" || !strings.Contains(err.Error(), "GiB") {
		t.Errorf("batch 100000: %v, want an OptionError on Batch with the figure", err)
	}
	if err := s.CheckBatch(1 << 62); err == nil {
		t.Error("batch 2^62 accepted")
	}
}
