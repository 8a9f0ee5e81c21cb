package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A video spec whose state pair names a tensor the model lacks is a usage
// error: exit 2, naming --spec and the spec's file and line.
func TestVideoSpecErrorExits2WithLine(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	model := filepath.Join(dir, "toy.onnx")
	if code, out := run(t, "models", "build", "state-sum", "--out", model); code != 0 {
		t.Fatalf("models build: exit %d: %s", code, out)
	}
	spec := filepath.Join(dir, "video.yaml")
	body := "name: video\ninput: src\noutput: alpha\nrecurrent:\n  states:\n    - {input: state_in, output: r1o, shape: [1, 1, 1, 1]}\n  constants:\n    - {name: gain, value: [0.5]}\n"
	if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, "models", "spec", model, "--spec", spec, "--size", "8x4")
	if want := "video.yaml:6: states[0]: the model has no output \"r1o\""; code != 2 || !strings.Contains(out, "--spec") || !strings.Contains(out, want) {
		t.Errorf("exit %d, output %q; want exit 2 naming --spec and %q", code, out, want)
	}
	// The preset fits: the spec prints with its state pair.
	code, out = run(t, "models", "spec", model, "--spec", "state-sum", "--size", "8x4")
	if code != 0 || !strings.Contains(out, "output: state_out") {
		t.Errorf("preset state-sum: exit %d, output %q", code, out)
	}
}
