// Package models owns everything between segtool and ONNX Runtime: finding
// and loading the shared library, creating sessions on CPU or CUDA, model
// specs (what a model's input and output look like, auto-detected from the
// ONNX graph where possible) and the built-in presets, and the inference
// geometry: preprocessing an image into an input tensor, reading the output
// as a probability plane, restoring it to the image's size, and tiling
// high-resolution images with feathered stitching.
package models
