// Package models owns everything between segtool and ONNX Runtime: finding
// and loading the shared library, creating sessions on CPU or CUDA, and
// (later) model specs and presets.
package models
