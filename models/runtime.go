package models

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	ort "github.com/yalue/onnxruntime_go"
)

// LibEnv names the environment variable that points at libonnxruntime.
const LibEnv = "SEGTOOL_ORT_LIB"

// libName is the file `make deps` unpacks from the onnxruntime-node npm
// package into the repository's .ort folder.
const libName = "libonnxruntime.so.1"

// DefaultORTDir is set at link time by the Makefile
// (-X github.com/segtool/segtool/models.DefaultORTDir=...) to the folder
// holding the library `make deps` unpacked.
var DefaultORTDir string

// LibraryPath finds the ONNX Runtime shared library: $SEGTOOL_ORT_LIB, else
// the folder recorded at build time, else .ort/ beside the executable's
// folder or the working directory (or any parent of it, so tests find it).
func LibraryPath() (string, error) {
	if p := os.Getenv(LibEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%s=%s: %w", LibEnv, p, err)
		}
		return p, nil
	}
	var tried []string
	try := func(dir string) string {
		p := filepath.Join(dir, libName)
		tried = append(tried, p)
		if _, err := os.Stat(p); err == nil {
			return p
		}
		return ""
	}
	if DefaultORTDir != "" {
		if p := try(DefaultORTDir); p != "" {
			return p, nil
		}
	}
	if exe, err := os.Executable(); err == nil {
		if p := try(filepath.Join(filepath.Dir(exe), "..", ".ort")); p != "" {
			return p, nil
		}
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			if p := try(filepath.Join(d, ".ort")); p != "" {
				return p, nil
			}
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	return "", fmt.Errorf("ONNX Runtime library not found (tried %s); run `make deps` or set %s", strings.Join(tried, ", "), LibEnv)
}

// Runtime describes the loaded ONNX Runtime.
type Runtime struct {
	Path    string
	Version string
}

// InitRuntime loads the shared library once per process.
func InitRuntime() (Runtime, error) {
	p, err := LibraryPath()
	if err != nil {
		return Runtime{}, err
	}
	if !ort.IsInitialized() {
		ort.SetSharedLibraryPath(p)
		// segtool reports ORT's failures from the returned statuses; its
		// own log would print them a second time, in colour, on stderr.
		if err := ort.InitializeEnvironment(ort.WithLogLevelFatal()); err != nil {
			return Runtime{Path: p}, fmt.Errorf("load ONNX Runtime from %s: %w", p, err)
		}
	}
	return Runtime{Path: p, Version: ort.GetVersion()}, nil
}

// CUDAProviderError reports why the CUDA execution provider cannot be
// created with the loaded library, or nil when it can.
func CUDAProviderError() error {
	if !ort.IsInitialized() {
		return errors.New("ONNX Runtime is not loaded")
	}
	cuda, err := ort.NewCUDAProviderOptions()
	if err != nil {
		return err
	}
	defer cuda.Destroy()
	so, err := ort.NewSessionOptions()
	if err != nil {
		return err
	}
	defer so.Destroy()
	return so.AppendExecutionProviderCUDA(cuda)
}

// CUDAFix says how to get a working CUDA provider, from the error message
// that creating it gave: a core built without CUDA needs another core; a core
// with CUDA (as onnxruntime-node's is) that cannot load its provider needs
// libonnxruntime_providers_cuda.so and _shared.so of the same release
// beside it; a provider that loads but lacks a CUDA library needs that
// library on LD_LIBRARY_PATH.
func CUDAFix(msg string) string {
	// "Failed to load library A with error: B: cannot open shared object
	// file": B is the file that is missing, A's dependency or A itself.
	_, missing, _ := strings.Cut(msg, "with error: ")
	missing, _, _ = strings.Cut(missing, ":")
	switch {
	case strings.Contains(msg, "not enabled in this build"):
		return fmt.Sprintf("this ONNX Runtime was built without CUDA: point $%s at a CUDA build's libonnxruntime.so", LibEnv)
	case missing != "" && !strings.Contains(missing, "libonnxruntime_providers") && strings.Contains(msg, "cannot open shared object file"):
		return fmt.Sprintf("the CUDA provider is there but %s is missing: add its folder to LD_LIBRARY_PATH (ldd libonnxruntime_providers_cuda.so | grep 'not found' lists them all)", filepath.Base(missing))
	case strings.Contains(msg, "Failed to load shared library") || strings.Contains(missing, "libonnxruntime_providers"):
		return fmt.Sprintf("put libonnxruntime_providers_cuda.so and libonnxruntime_providers_shared.so of the same ONNX Runtime release beside the library, or point $%s at a CUDA build with them", LibEnv)
	}
	return fmt.Sprintf("point $%s at a CUDA build of ONNX Runtime with its provider libraries beside it", LibEnv)
}
