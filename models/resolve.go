package models

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"github.com/segtool/segtool/dataset"
)

// Source says where a part of a resolved spec came from.
type Source string

// Sources of a spec's parts.
const (
	FromFile     Source = "file"      // the YAML file SpecRequest.Spec names
	FromPreset   Source = "preset"    // the preset SpecRequest.Spec names
	FromFileName Source = "file name" // the preset named like the model file
	FromModel    Source = "model"     // detected from the model (the name: its file name)
	FromOverride Source = "override"  // SpecRequest.Overrides
	FromTile     Source = "tile"      // SpecRequest.Tile, for a model that takes any size
	FromDefault  Source = "default"   // Defaults: nothing gave it, and it has a safe default
)

// Defaults returns the preprocessing a model gets when nothing says
// otherwise: RGB, x = p/255 (mean 0, std 1, post_scale 1), the convention
// of Keras models and of exports that fold their normalisation into the
// graph. Only these fields are set.
func Defaults() Spec {
	return Spec{Order: RGB, Scale: 1.0 / 255, Std: [3]float32{1, 1, 1}, PostScale: 1}
}

// ErrAnySize reports a model that takes any input size when neither a size
// nor a tile size was given.
var ErrAnySize = errors.New("the model takes any input size: give one as WxH")

// SpecOverrides replace single fields of the base spec; nil leaves a field
// as the base has it.
type SpecOverrides struct {
	Input, Output *string
	Layout        *Layout
	Size          *image.Point // width and height
	Order         *string
	Scale         *float32
	Mean, Std     *[3]float32
	PostScale     *float32
	Kind          *OutputKind
	Foreground    *int
	Matte         *bool
}

// SpecRequest is what is known of a model's spec before the model is read.
type SpecRequest struct {
	Model     string // the ONNX file
	Spec      string // a preset name or a YAML file; "" = the preset named like Model, if any
	Overrides SpecOverrides
	// Tile is the tile size in pixels (zero = no tiling); it is the input
	// size of a model that takes any size and was given none.
	Tile image.Point
	// Info is the model's inputs and outputs when the caller has read
	// them; nil reads them from Model.
	Info *ModelInfo
	// Partial returns what Detect finds without the completeness check and
	// without naming the spec after the file, to show a spec as it stands.
	Partial bool
}

// Resolved is a spec resolved against its model, and where it came from.
type Resolved struct {
	Spec Spec
	// Base is what the spec started from: FromFile, FromPreset,
	// FromFileName, or FromModel when there was nothing but the model.
	Base Source
	// BaseName is the file's path or the preset's name; "" for FromModel.
	BaseName string
	// From says, per spec key (the YAML names: "input", "width", "mean",
	// ...), where its value came from; keys left at zero are absent.
	From map[string]Source
}

// ResolveSpec builds a model's spec: the file or preset req.Spec names,
// else a preset named like the model file (prisma_nchw.onnx is prisma),
// else nothing; then the overrides; then what the model declares fills the
// rest (DetectModel); unless Partial, Defaults fills the preprocessing left
// unset (From says FromDefault for each); then the tile size is the input size of a model that
// takes any size. Unless Partial, the result must be complete (Validate)
// and is named after the model file when it has no name. Option faults are
// *dataset.OptionError naming the SpecRequest field (Size for
// Overrides.Size).
func ResolveSpec(req SpecRequest) (Resolved, error) {
	r := Resolved{Base: FromModel, From: map[string]Source{}}
	var spec Spec
	if req.Spec != "" {
		s, src, err := lookupSpec(req.Spec)
		if err != nil {
			return r, &dataset.OptionError{Field: "Spec", Err: err}
		}
		spec, r.Base, r.BaseName = s, src, req.Spec
	} else if s, ok := presetForFile(req.Model); ok {
		spec, r.Base, r.BaseName = s, FromFileName, s.Name
	}
	r.mark(Spec{}, spec, r.Base)
	before := spec
	req.Overrides.apply(&spec)
	r.mark(before, spec, FromOverride)

	info := req.Info
	if info == nil {
		if _, err := os.Stat(req.Model); err != nil {
			return r, &dataset.OptionError{Field: "Model", Err: err}
		}
		mi, err := ReadModelInfo(req.Model)
		if err != nil {
			return r, err
		}
		info = &mi
	}
	before = spec
	spec, err := DetectModel(spec, *info)
	if err != nil {
		field := "Model"
		if errors.Is(err, ErrStreamSpec) {
			field = "Spec" // the error names the spec line at fault
		}
		return r, &dataset.OptionError{Field: field, Err: fmt.Errorf("%s: %w", req.Model, err)}
	}
	r.mark(before, spec, FromModel)
	if !req.Partial {
		before = spec
		fillDefaults(&spec, req.Overrides)
		r.mark(before, spec, FromDefault)
		// A zero mean is both the default and unmarked: it was taken
		// when no spec gave normalisation at all.
		if _, ok := r.From["mean"]; !ok && r.Base == FromModel {
			r.From["mean"] = FromDefault
		}
	}
	if req.Tile != (image.Point{}) && spec.Width == 0 {
		before = spec
		spec.Width, spec.Height = req.Tile.X, req.Tile.Y
		r.mark(before, spec, FromTile)
	}
	r.Spec = spec
	if req.Partial {
		return r, nil
	}
	if err := spec.Validate(); err != nil {
		if spec.Width == 0 {
			return r, &dataset.OptionError{Field: "Size", Err: fmt.Errorf("%w (%v)", ErrAnySize, err)}
		}
		return r, &dataset.OptionError{Field: "Spec", Err: fmt.Errorf("%s: %w", req.Model, err)}
	}
	if spec.Name == "" {
		spec.Name = strings.TrimSuffix(filepath.Base(req.Model), filepath.Ext(req.Model))
		r.From["name"] = FromModel
	}
	r.Spec = spec
	return r, nil
}

// fillDefaults sets each unset preprocessing fact from Defaults; a zero
// that an override gave stays, for Validate to refuse.
func fillDefaults(s *Spec, o SpecOverrides) {
	d := Defaults()
	if s.Order == "" && o.Order == nil {
		s.Order = d.Order
	}
	if s.Scale == 0 && o.Scale == nil {
		s.Scale = d.Scale
	}
	if s.Std == ([3]float32{}) && o.Std == nil {
		s.Std = d.Std
	}
	if s.PostScale == 0 && o.PostScale == nil {
		s.PostScale = d.PostScale
	}
}

func (o SpecOverrides) apply(s *Spec) {
	if o.Input != nil {
		s.Input = *o.Input
	}
	if o.Output != nil {
		s.Output = *o.Output
	}
	if o.Layout != nil {
		s.Layout = *o.Layout
	}
	if o.Size != nil {
		s.Width, s.Height = o.Size.X, o.Size.Y
	}
	if o.Order != nil {
		s.Order = *o.Order
	}
	if o.Scale != nil {
		s.Scale = *o.Scale
	}
	if o.Mean != nil {
		s.Mean = *o.Mean
	}
	if o.Std != nil {
		s.Std = *o.Std
	}
	if o.PostScale != nil {
		s.PostScale = *o.PostScale
	}
	if o.Kind != nil {
		s.Kind = *o.Kind
	}
	if o.Foreground != nil {
		s.Foreground = *o.Foreground
	}
	if o.Matte != nil {
		s.Matte = *o.Matte
	}
}

// mark records src for every spec key whose value differs between before
// and after.
func (r *Resolved) mark(before, after Spec, src Source) {
	b, a := reflect.ValueOf(before), reflect.ValueOf(after)
	t := b.Type()
	for i := range t.NumField() {
		key, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ",")
		if key == "" || key == "-" {
			continue
		}
		if !reflect.DeepEqual(b.Field(i).Interface(), a.Field(i).Interface()) {
			r.From[key] = src
		}
	}
}

// presetForFile finds the preset a model file is named after: the longest
// preset name that the file's stem (lower case, _ read as -) equals or
// starts with followed by "-" (prisma_nchw.onnx is prisma).
func presetForFile(path string) (Spec, bool) {
	stem := strings.ToLower(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	stem = strings.ReplaceAll(stem, "_", "-")
	best := ""
	for _, n := range PresetNames() {
		if (stem == n || strings.HasPrefix(stem, n+"-")) && len(n) > len(best) {
			best = n
		}
	}
	if best == "" {
		return Spec{}, false
	}
	return Presets()[best], true
}
