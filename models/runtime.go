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
