package models

import (
	"maps"
	"strings"
	"testing"
)

// TestCUDAProviderOptions checks the names and encodings ONNX Runtime's
// CUDA provider documents: gpu_mem_limit in bytes, upper-case search
// modes, use_tf32 as 0/1.
func TestCUDAProviderOptions(t *testing.T) {
	got, err := CUDAOptions{}.providerOptions(0)
	if err != nil || !maps.Equal(got, map[string]string{"device_id": "0"}) {
		t.Errorf("defaults: %v, %v", got, err)
	}
	got, err = CUDAOptions{ConvAlgoSearch: "heuristic", MemLimitMiB: 2048, ArenaGrowth: "kSameAsRequested", NoTF32: true}.providerOptions(1)
	want := map[string]string{"device_id": "1", "cudnn_conv_algo_search": "HEURISTIC", "gpu_mem_limit": "2147483648",
		"arena_extend_strategy": "kSameAsRequested", "use_tf32": "0"}
	if err != nil || !maps.Equal(got, want) {
		t.Errorf("set: %v, %v; want %v", got, err, want)
	}
	for _, c := range []struct {
		o    CUDAOptions
		want string
	}{
		{CUDAOptions{ConvAlgoSearch: "fastest"}, "cudnn_conv_algo_search"},
		{CUDAOptions{MemLimitMiB: -1}, "gpu_mem_limit"},
		{CUDAOptions{ArenaGrowth: "double"}, "arena_extend_strategy"},
	} {
		if _, err := c.o.providerOptions(0); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: error %v, want one naming %s", c.o, err, c.want)
		}
	}
}
