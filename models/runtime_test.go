package models

import (
	"strings"
	"testing"
)

func TestLibraryPathEnv(t *testing.T) {
	t.Setenv(LibEnv, "/nonexistent/libonnxruntime.so.1")
	if _, err := LibraryPath(); err == nil || !strings.Contains(err.Error(), LibEnv) {
		t.Errorf("missing $%s file: %v, want an error naming the variable", LibEnv, err)
	}
}

// TestInitRuntime loads the library `make deps` unpacked and checks it is
// the pinned release.
func TestInitRuntime(t *testing.T) {
	if _, err := LibraryPath(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	rt, err := InitRuntime()
	if err != nil {
		t.Fatal(err)
	}
	if rt.Version != "1.30.0" {
		t.Errorf("ONNX Runtime %s, want the pinned 1.30.0", rt.Version)
	}
	// The npm package is a CPU build: asking for CUDA must fail with a reason.
	if err := CUDAProviderError(); err == nil {
		t.Log("CUDA provider available")
	} else if err.Error() == "" {
		t.Error("CUDA provider failure without a reason")
	}
}
