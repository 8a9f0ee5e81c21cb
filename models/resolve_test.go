package models

import (
	"errors"
	"image"
	"testing"

	"github.com/segtool/segtool/dataset"
)

func TestResolveSpec(t *testing.T) {
	fixed := &ModelInfo{Inputs: infos(tensor("in", 1, 3, 64, 48)), Outputs: infos(tensor("out", 1, 1, 64, 48))}
	anySize := &ModelInfo{Inputs: infos(tensor("image", -1, 3, -1, -1)), Outputs: infos(tensor("prob", -1, 1, -1, -1))}
	f32 := func(v float32) *float32 { return &v }
	str := func(v string) *string { return &v }

	// A spec file, then overrides on top of it, then the model's facts.
	file := writeFile(t, "m.yaml", "order: RGB\nscale: 1\nmean: [1, 2, 3]\n")
	r, err := ResolveSpec(SpecRequest{Model: "any.onnx", Spec: file, Info: fixed,
		Overrides: SpecOverrides{Order: str(BGR), Scale: f32(0.5)}})
	if err != nil {
		t.Fatal(err)
	}
	want := Spec{Name: "m", Input: "in", Output: "out", Layout: NCHW, Width: 48, Height: 64, Batch: 1,
		Order: BGR, Scale: 0.5, Mean: [3]float32{1, 2, 3}, Std: [3]float32{1, 1, 1}, PostScale: 1,
		Kind: Sigmoid, InputType: Float32, OutputType: Float32}
	got := r.Spec
	got.OutputLayout, got.OutputRank = "", 0
	if got != want {
		t.Errorf("file + overrides:\n got %+v\nwant %+v", got, want)
	}
	if r.Base != FromFile || r.BaseName != file {
		t.Errorf("base %s %q, want file %q", r.Base, r.BaseName, file)
	}
	for k, src := range map[string]Source{"name": FromFile, "mean": FromFile, "std": FromFile, "post_scale": FromFile,
		"order": FromOverride, "scale": FromOverride, "input": FromModel, "width": FromModel, "height": FromModel,
		"batch": FromModel, "output_kind": FromModel} {
		if r.From[k] != src {
			t.Errorf("%s from %q, want %q", k, r.From[k], src)
		}
	}
	if _, ok := r.From["foreground"]; ok {
		t.Errorf("foreground is zero, yet from %q", r.From["foreground"])
	}

	// No spec: the preset the file is named after (prisma_nchw is prisma).
	prisma := &ModelInfo{Inputs: infos(tensor("input_3", 1, 3, 256, 256)), Outputs: infos(tensor("permute_2", 1, 1, 256, 256))}
	r, err = ResolveSpec(SpecRequest{Model: "/models/prisma_nchw.onnx", Info: prisma})
	if err != nil {
		t.Fatal(err)
	}
	if r.Base != FromFileName || r.BaseName != "prisma" || r.Spec.Name != "prisma" || r.Spec.Scale != float32(1.0/255) ||
		r.Spec.Width != 256 || r.Spec.Batch != 1 || r.From["scale"] != FromFileName || r.From["batch"] != FromModel {
		t.Errorf("prisma by file name: %+v", r)
	}
	// Nothing named like the file: all from the model, named after the file.
	// (with the defaults: TestResolveSpecDefaults)
	r, err = ResolveSpec(SpecRequest{Model: "/models/mine.onnx", Info: fixed, Partial: true})
	if err != nil || r.Base != FromModel || r.BaseName != "" || r.Spec.Name != "" || r.Spec.Width != 48 {
		t.Errorf("partial, detected: %+v, %v", r, err)
	}

	// A model that takes any size: the tile size is its input size, unless
	// a size is given; with neither it is the size (or tile) at fault.
	r, err = ResolveSpec(SpecRequest{Model: "o.onnx", Spec: "oracle", Info: anySize, Tile: image.Pt(96, 64)})
	if err != nil || r.Spec.Width != 96 || r.Spec.Height != 64 || r.From["width"] != FromTile || r.Base != FromPreset || r.BaseName != "oracle" {
		t.Errorf("tile 96x64: %+v, %v", r, err)
	}
	r, err = ResolveSpec(SpecRequest{Model: "o.onnx", Spec: "oracle", Info: anySize, Tile: image.Pt(96, 64),
		Overrides: SpecOverrides{Size: &image.Point{X: 32, Y: 16}}})
	if err != nil || r.Spec.Width != 32 || r.Spec.Height != 16 || r.From["width"] != FromOverride {
		t.Errorf("size 32x16 and tile 96x64: %+v, %v", r, err)
	}
	var oe *dataset.OptionError
	_, err = ResolveSpec(SpecRequest{Model: "o.onnx", Spec: "oracle", Info: anySize})
	if !errors.As(err, &oe) || oe.Field != "Size" || !errors.Is(err, ErrAnySize) {
		t.Errorf("any size, none given: %v, want an OptionError on Size wrapping ErrAnySize", err)
	}
	_, err = ResolveSpec(SpecRequest{Model: "o.onnx", Spec: "no-such-preset", Info: anySize})
	if !errors.As(err, &oe) || oe.Field != "Spec" {
		t.Errorf("unknown spec: %v, want an OptionError on Spec", err)
	}
	_, err = ResolveSpec(SpecRequest{Model: "o.onnx", Spec: "oracle", Info: fixed})
	if !errors.As(err, &oe) || oe.Field != "Model" {
		t.Errorf("spec that does not fit: %v, want an OptionError on Model", err)
	}
	_, err = ResolveSpec(SpecRequest{Model: "/no/such.onnx", Spec: "oracle"})
	if !errors.As(err, &oe) || oe.Field != "Model" {
		t.Errorf("missing model file: %v, want an OptionError on Model", err)
	}
}
