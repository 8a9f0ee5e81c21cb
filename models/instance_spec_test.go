package models

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
)

func int64Tensor(name string, dims ...int64) ort.InputOutputInfo {
	i := tensor(name, dims...)
	i.DataType = ort.TensorElementDataTypeInt64
	return i
}

// TestDetectInstances covers the shapes of instance exports: torchvision's
// names, unnamed outputs told apart by shape and type, a raw 28x28 mask
// head (box format), a batch-1 NCHW input, and what does not fit.
func TestDetectInstances(t *testing.T) {
	tv := InstanceSpec{Boxes: "boxes", Labels: "labels", Scores: "scores", Masks: "masks", BoxFormat: "xyxy", MaskFormat: MaskImage, PersonLabel: 1}
	for _, c := range []struct {
		name    string
		base    Spec
		in, out []ort.InputOutputInfo
		want    InstanceSpec
		layout  Layout
		err     string
	}{
		{"torchvision export", Spec{},
			infos(tensor("images_tensors", 3, -1, -1)),
			infos(tensor("boxes", -1, 4), int64Tensor("labels", -1), tensor("scores", -1), tensor("masks", -1, 1, -1, -1)),
			tv, CHW, ""},
		{"unnamed outputs, shuffled", Spec{},
			infos(tensor("x", 3, -1, -1)),
			infos(tensor("3021", -1, 1, -1, -1), tensor("3019", -1), tensor("3016", -1, 4), int64Tensor("3017", -1)),
			InstanceSpec{Boxes: "3016", Labels: "3017", Scores: "3019", Masks: "3021", BoxFormat: "xyxy", MaskFormat: MaskImage, PersonLabel: 1}, CHW, ""},
		{"raw mask head: box format", Spec{},
			infos(tensor("images", 3, -1, -1)),
			infos(tensor("boxes", -1, 4), int64Tensor("labels", -1), tensor("scores", -1), tensor("masks", -1, 1, 28, 28)),
			InstanceSpec{Boxes: "boxes", Labels: "labels", Scores: "scores", Masks: "masks", BoxFormat: "xyxy", MaskFormat: MaskBox, PersonLabel: 1}, CHW, ""},
		{"batch-1 NCHW, fixed size, person label given", Spec{Kind: Instances, Instance: InstanceSpec{PersonLabel: 2}},
			infos(tensor("images", 1, 3, 480, 640)),
			infos(tensor("boxes", -1, 4), int64Tensor("labels", -1), tensor("scores", -1), tensor("masks", -1, 1, 480, 640)),
			InstanceSpec{Boxes: "boxes", Labels: "labels", Scores: "scores", Masks: "masks", BoxFormat: "xyxy", MaskFormat: MaskImage, PersonLabel: 2}, NCHW, ""},
		{"instance block without a kind, batch-1 NCHW", Spec{Instance: InstanceSpec{Masks: "m"}},
			infos(tensor("images", 1, 3, -1, -1)),
			infos(tensor("boxes", -1, 4), int64Tensor("labels", -1), tensor("scores", -1), tensor("m", -1, 1, -1, -1)),
			InstanceSpec{Boxes: "boxes", Labels: "labels", Scores: "scores", Masks: "m", BoxFormat: "xyxy", MaskFormat: MaskImage, PersonLabel: 1}, NCHW, ""},
		{"named output missing", Spec{Kind: Instances, Instance: InstanceSpec{Masks: "mask_probs"}},
			infos(tensor("images", 3, -1, -1)),
			infos(tensor("boxes", -1, 4), int64Tensor("labels", -1), tensor("scores", -1), tensor("masks", -1, 1, -1, -1)),
			InstanceSpec{}, "", `no output "mask_probs"`},
		{"no masks output", Spec{Kind: Instances},
			infos(tensor("images", 3, -1, -1)),
			infos(tensor("boxes", -1, 4), int64Tensor("labels", -1), tensor("scores", -1)),
			InstanceSpec{}, "", "like the masks"},
		{"batch of 2", Spec{Kind: Instances},
			infos(tensor("images", 2, 3, -1, -1)),
			infos(tensor("boxes", -1, 4), int64Tensor("labels", -1), tensor("scores", -1), tensor("masks", -1, 1, -1, -1)),
			InstanceSpec{}, "", "one image at a time"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := Detect(c.base, c.in, c.out)
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("err %v, want one containing %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Kind != Instances || got.Instance != c.want || got.Layout != c.layout || got.Input != c.in[0].Name {
				t.Errorf("got kind %q layout %q input %q instance %+v, want instances %q %q %+v", got.Kind, got.Layout, got.Input, got.Instance, c.layout, c.in[0].Name, c.want)
			}
		})
	}
	// A semantic model is not taken for an instance one.
	s, err := Detect(Spec{}, infos(tensor("image", -1, 3, -1, -1)), infos(tensor("prob", -1, 1, -1, -1)))
	if err != nil || s.Kind != Sigmoid {
		t.Errorf("oracle-like model: kind %q, %v; want sigmoid", s.Kind, err)
	}
}

// TestInstanceSpecChecks: the faults of an instance spec are named by
// their YAML keys, and a YAML spec with an instance block loads.
func TestInstanceSpecChecks(t *testing.T) {
	good := Presets()["torchvision-maskrcnn"]
	good.Input = "images"
	if err := good.Validate(); err != nil {
		t.Fatalf("torchvision-maskrcnn with an input: %v", err)
	}
	for _, c := range []struct {
		edit func(*Spec)
		want string
	}{
		{func(s *Spec) { s.Instance.Masks = "" }, "instance.masks: no output tensor name"},
		{func(s *Spec) { s.Instance.BoxFormat = "xywh" }, "instance.box_format"},
		{func(s *Spec) { s.Instance.MaskFormat = "rle" }, "instance.mask_format"},
		{func(s *Spec) { s.Instance.PersonLabel = -1 }, "instance.person_label"},
		{func(s *Spec) { s.Kind = Sigmoid; s.Output = "prob"; s.Width, s.Height = 8, 8 }, "instance: set, but output_kind"},
		{func(s *Spec) { s.Kind, s.Instance, s.Output, s.Width, s.Height = Sigmoid, InstanceSpec{}, "prob", 8, 8 }, `layout: "CHW"`},
	} {
		s := good
		c.edit(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: %v, want an error containing %q", s, err, c.want)
		}
	}

	p := filepath.Join(t.TempDir(), "mine.yaml")
	yml := "output_kind: instances\nlayout: CHW\norder: RGB\nscale: 0.003921569\ninstance:\n  masks: mask_probs\n  mask_format: box\n  person_label: 2\n"
	if err := os.WriteFile(p, []byte(yml), 0o644); err != nil {
		t.Fatal(err)
	}
	s, err := LoadSpec(p)
	if err != nil {
		t.Fatal(err)
	}
	if want := (InstanceSpec{Masks: "mask_probs", MaskFormat: MaskBox, PersonLabel: 2}); s.Instance != want || s.Kind != Instances || s.Layout != CHW {
		t.Errorf("loaded %+v", s)
	}
	if err := os.WriteFile(p, []byte(yml+"  boxez: b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSpec(p); err == nil || !strings.Contains(err.Error(), "boxez") {
		t.Errorf("unknown instance key: %v, want an error naming it", err)
	}
}

// TestPasteMask pastes a 2x2 grid of ones into the box (2,2)-(6,6) of an
// 8x8 plane. Each grid cell covers 2x2 pixels; pixel x's centre maps to u =
// (x+0.5-2)/4*2 - 0.5, so along a row u = -1.25, -0.75, -0.25, 0.25, 0.75,
// 1.25, 1.75, 2.25 and the zero-padded bilinear profile is 0, .25, .75, 1,
// 1, .75, .25, 0; the plane is the outer product of it with itself.
func TestPasteMask(t *testing.T) {
	prof := []float32{0, .25, .75, 1, 1, .75, .25, 0}
	want := make([]float32, 64)
	for y := range 8 {
		for x := range 8 {
			want[y*8+x] = prof[y] * prof[x]
		}
	}
	got := pasteMask([]float32{1, 1, 1, 1}, 2, 2, [4]float64{2, 2, 6, 6}, 8, 8)
	if !slices.Equal(got, want) {
		t.Errorf("pasted\n%v\nwant\n%v", got, want)
	}
	// A one-cell grid with a value of 0.5 at a box touching the corner:
	// clipped to the plane, nothing outside the box's half-cell margin.
	got = pasteMask([]float32{0.5}, 1, 1, [4]float64{0, 0, 2, 2}, 4, 4)
	// u = (x+0.5)/2 - 0.5: -0.25, 0.25, 0.75, 1.25 -> weights .75, .75, .25, 0.
	w := []float32{.75, .75, .25, 0}
	for y := range 4 {
		for x := range 4 {
			if v := got[y*4+x]; v != 0.5*w[x]*w[y] {
				t.Errorf("(%d,%d) = %g, want %g", x, y, v, 0.5*w[x]*w[y])
			}
		}
	}
	if got := pasteMask([]float32{1}, 1, 1, [4]float64{3, 3, 3, 5}, 4, 4); slices.Max(got) != 0 {
		t.Errorf("empty box pasted %v, want zeros", got)
	}
}
