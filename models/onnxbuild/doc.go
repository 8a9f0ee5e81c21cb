// Package onnxbuild owns the ONNX models segtool builds itself: a protobuf
// writer for ONNX ModelProto (google.golang.org/protobuf/encoding/protowire
// with the field numbers of onnx/onnx.proto, IR version 8, opset 17), a
// small graph builder that tracks shapes and counts FLOPs, Inspect (the
// model-level facts ONNX Runtime's API does not expose), the oracle model
// (a known function of its input, for end-to-end tests), and the registry
// of benchmark architectures with deterministic random weights
// (Archs, Build): unet-aspp, mobilenetv2-unet, resnet50-unet, fast-scnn,
// and oracle.
//
// Each Arch says how to feed its model and read its output in the words of
// models.Spec (layout, channel order, scale/mean/std, output kind), so the
// presets there can match the graphs built here.
package onnxbuild
