package configs

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// TestAugmentPresetsAreTheFiles checks every configs/augment/*.yaml is
// embedded byte for byte under its name, and nothing else is.
func TestAugmentPresetsAreTheFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("augment", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no presets in configs/augment: %v", err)
	}
	var want []string
	for _, f := range files {
		name := filepath.Base(f[:len(f)-len(".yaml")])
		want = append(want, name)
		disk, _ := os.ReadFile(f)
		for _, n := range []string{name, name + ".yaml"} {
			got, ok := AugmentPreset(n)
			if !ok || !bytes.Equal(got, disk) {
				t.Errorf("AugmentPreset(%q) = %d bytes, %v; want the %d bytes of %s", n, len(got), ok, len(disk), f)
			}
		}
	}
	if got := AugmentPresets(); !slices.Equal(got, want) {
		t.Errorf("AugmentPresets() = %v, want %v", got, want)
	}
	for _, n := range []string{"", "nope", "augment/imgaug-portrait", "./imgaug-portrait", `..\imgaug-portrait.yaml`} {
		if _, ok := AugmentPreset(n); ok {
			t.Errorf("AugmentPreset(%q) found a preset", n)
		}
	}
}
