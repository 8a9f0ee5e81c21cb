package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestModelsInstances: models build writes the toy Mask R-CNN, models
// inspect recognises its torchvision signature without a spec, and the
// builder refuses what the graph cannot have (a batch, fp16).
func TestModelsInstances(t *testing.T) {
	needORT(t)
	path := filepath.Join(t.TempDir(), "toy.onnx")
	if code, out := run(t, "models", "build", "maskrcnn-toy", "--out", path); code != 0 {
		t.Fatalf("models build: exit %d: %s", code, out)
	}
	code, out := run(t, "models", "inspect", path, "--spec", "torchvision-maskrcnn")
	if code != 0 {
		t.Fatalf("models inspect: exit %d: %s", code, out)
	}
	for _, want := range []string{"output_kind: instances", "layout: CHW", "masks: masks", "mask_format: image", "person_label: 1",
		`"labels": [-1], ONNX_TENSOR_ELEMENT_DATA_TYPE_INT64`} {
		if !strings.Contains(out, want) {
			t.Errorf("models inspect output lacks %q:\n%s", want, out)
		}
	}
	// Without --spec the shapes alone say instances; the spec is then
	// incomplete (no normalisation), as for any model without a preset.
	if code, out := run(t, "models", "inspect", path); code != 1 || !strings.Contains(out, "output_kind: instances") {
		t.Errorf("models inspect without a spec: exit %d, want 1 and kind instances:\n%s", code, out)
	}
	for _, extra := range [][]string{{"--batch", "2"}, {"--fp16", "all"}} {
		args := append([]string{"models", "build", "maskrcnn-toy", "--force", "--out", path}, extra...)
		if code, out := run(t, args...); code == 0 {
			t.Errorf("models build maskrcnn-toy %v: exit 0, want an error:\n%s", extra, out)
		}
	}
}
