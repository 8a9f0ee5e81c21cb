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

// TestCUDAFix: the three ways ONNX Runtime says no to CUDA (messages as
// ORT 1.29/1.30 word them) get three different fixes.
func TestCUDAFix(t *testing.T) {
	for _, c := range []struct{ msg, want string }{
		{"CUDA execution provider is not enabled in this build.", "built without CUDA"},
		{"OrtSessionOptionsAppendExecutionProvider_Cuda: Failed to load shared library", "libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so"},
		{"Failed to load library /x/libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory", "libcublasLt.so.13 is missing: add its folder to LD_LIBRARY_PATH"},
		{"FAIL : Failed to load library /w/.ort/libonnxruntime_providers_shared.so with error: /w/.ort/libonnxruntime_providers_shared.so: cannot open shared object file: No such file or directory", "libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so"},
		{"something else", "CUDA build of ONNX Runtime"},
	} {
		if got := CUDAFix(c.msg); !strings.Contains(got, c.want) {
			t.Errorf("CUDAFix(%q) = %q, want it to mention %q", c.msg, got, c.want)
		}
	}
}
