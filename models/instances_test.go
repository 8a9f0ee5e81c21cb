package models_test

import (
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gocv.io/x/gocv"
	"gopkg.in/yaml.v3"

	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
)

// toySession builds onnxbuild's toy instance model, resolves its spec with
// no preset (as eval does for an unknown file) and opens it.
func toySession(t *testing.T) *models.Session {
	t.Helper()
	testmodel.InitRuntime(t)
	path := testmodel.Built(t, t.TempDir(), "maskrcnn-toy", onnxbuild.Options{})
	return testmodel.OpenResolved(t, models.SpecRequest{Model: path, Spec: "maskrcnn-toy"}, models.SessionOptions{Threads: 1})
}

// toyImage draws an 8x6 BGR image for the toy model: green 255 on x 0..1,
// y 2..3; red 204 on x 2..5, y 0..3; blue 128 on x 6..7, y 4..5; zero
// elsewhere. Every region is aligned on 2x2 blocks, so halving the image
// keeps each value exact.
func toyImage(t *testing.T) gocv.Mat {
	t.Helper()
	const w, h = 8, 6
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	t.Cleanup(func() { _ = m.Close() })
	px, err := m.DataPtrUint8()
	if err != nil {
		t.Fatal(err)
	}
	clear(px)
	fill := func(c int, v uint8, r image.Rectangle) {
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				px[3*(y*w+x)+c] = v
			}
		}
	}
	fill(1, 255, image.Rect(0, 2, 2, 4))
	fill(2, 204, image.Rect(2, 0, 6, 4))
	fill(0, 128, image.Rect(6, 4, 8, 6))
	return m
}

func rectPlane(w, h int, r image.Rectangle) []float32 {
	p := make([]float32, w*h)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p[y*w+x] = 1
		}
	}
	return p
}

// TestInstancePredictorToy runs the toy model through ONNX Runtime and
// checks every detection against what onnxbuild.ToyInstances promises,
// at the image's own size and through --size (half the image), where
// boxes scale back exactly and the resized masks threshold back to the
// regions.
func TestInstancePredictorToy(t *testing.T) {
	s := toySession(t)
	img := toyImage(t)
	// Scores are the channel's largest value as preprocessed: p/255.
	want := []models.Instance{
		{Box: [4]float64{0, 2, 2, 4}, Label: 1, Score: 1, Mask: rectPlane(8, 6, image.Rect(0, 2, 2, 4))},
		{Box: [4]float64{2, 0, 6, 4}, Label: 1, Score: float32(204.0 / 255), Mask: rectPlane(8, 6, image.Rect(2, 0, 6, 4))},
		{Box: [4]float64{6, 4, 8, 6}, Label: 18, Score: float32(128.0 / 255), Mask: rectPlane(8, 6, image.Rect(6, 4, 8, 6))},
	}
	for _, size := range []image.Point{{}, {4, 3}} {
		got, err := models.NewInstancePredictor(s, size).Predict(img)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Fatalf("size %v: %d detections, want %d: %+v", size, len(got), len(want), got)
		}
		for i, d := range got {
			w := want[i]
			if d.Box != w.Box || d.Label != w.Label || d.Score != w.Score {
				t.Errorf("size %v: detection %d: box %v label %d score %g, want %v %d %g", size, i, d.Box, d.Label, d.Score, w.Box, w.Label, w.Score)
			}
			if len(d.Mask) != len(w.Mask) {
				t.Fatalf("size %v: detection %d: mask of %d values, want 8x6", size, i, len(d.Mask))
			}
			bin := make([]float32, len(d.Mask))
			for j, v := range d.Mask {
				if v >= 0.5 {
					bin[j] = 1
				}
			}
			if size == (image.Point{}) && !slices.Equal(d.Mask, w.Mask) {
				t.Errorf("detection %d: mask %v, want %v", i, d.Mask, w.Mask)
			}
			if !slices.Equal(bin, w.Mask) {
				t.Errorf("size %v: detection %d: mask >= 0.5 is %v, want %v", size, i, bin, w.Mask)
			}
		}
	}
}

// TestInstancePredictorNone: a black image gives zero detections, an
// empty slice and no error, at any size.
func TestInstancePredictorNone(t *testing.T) {
	s := toySession(t)
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), 5, 7, gocv.MatTypeCV8UC3)
	defer img.Close()
	for _, size := range []image.Point{{}, {3, 2}} {
		got, err := models.NewInstancePredictor(s, size).Predict(img)
		if err != nil || got == nil || len(got) != 0 {
			t.Errorf("size %v: %v, %v; want an empty slice and no error", size, got, err)
		}
	}
}

// TestResolveInstances: with no spec, the toy model's torchvision
// signature (a [3,H,W] input, four outputs) resolves to an instance spec,
// and the torchvision-maskrcnn preset fits it.
func TestResolveInstances(t *testing.T) {
	testmodel.InitRuntime(t)
	path := testmodel.Built(t, t.TempDir(), "maskrcnn-toy", onnxbuild.Options{})
	for _, spec := range []string{"", "torchvision-maskrcnn"} {
		r, err := models.ResolveSpec(models.SpecRequest{Model: path, Spec: spec})
		if err != nil {
			t.Fatalf("spec %q: %v", spec, err)
		}
		s := r.Spec
		wantInst := models.InstanceSpec{Boxes: "boxes", Labels: "labels", Scores: "scores", Masks: "masks",
			BoxFormat: "xyxy", MaskFormat: models.MaskImage, PersonLabel: 1}
		if s.Kind != models.Instances || s.Layout != models.CHW || s.Input != "images" || s.Instance != wantInst ||
			s.Width != 0 || s.Height != 0 || s.Order != "RGB" || s.Scale != float32(1.0/255) {
			t.Errorf("spec %q: resolved to %+v", spec, s)
		}
	}
	// A semantic output kind does not fit four outputs and a rank-3 input.
	if _, err := models.ResolveSpec(models.SpecRequest{Model: path, Spec: "oracle"}); err == nil {
		t.Error("the oracle preset fits the toy instance model; want an error")
	}
}

// TestInstanceModelNotBatched: the batch path refuses an instance model
// with ErrInstanceModel instead of running it with a made-up output shape.
func TestInstanceModelNotBatched(t *testing.T) {
	s := toySession(t)
	if _, err := s.NewBatch(1); !errors.Is(err, models.ErrInstanceModel) {
		t.Errorf("NewBatch: %v, want ErrInstanceModel", err)
	}
	oracle := oracleSession(t, 8, 8)
	img := gocv.NewMatWithSize(6, 8, gocv.MatTypeCV8UC3)
	defer img.Close()
	if _, err := models.NewInstancePredictor(oracle, image.Point{}).Predict(img); !errors.Is(err, models.ErrNotInstances) {
		t.Errorf("instance predictor on the oracle: %v, want ErrNotInstances", err)
	}
}

// TestInstancePredictorBoxMasks reads the toy model's masks as box-format
// grids: a 4x4 image red everywhere gives the box (0,0)-(4,4) and a 4x4
// grid of ones, whose cell centres fall on the pixel centres, so the
// pasted mask is all ones. Four goroutines share the predictor.
func TestInstancePredictorBoxMasks(t *testing.T) {
	testmodel.InitRuntime(t)
	path := testmodel.Built(t, t.TempDir(), "maskrcnn-toy", onnxbuild.Options{})
	spec := models.Presets()["maskrcnn-toy"]
	spec.Instance.MaskFormat = models.MaskBox
	s := testmodel.OpenResolved(t, models.SpecRequest{Model: path, Spec: writeSpec(t, spec)}, models.SessionOptions{Threads: 1})
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 200, 0), 4, 4, gocv.MatTypeCV8UC3)
	defer img.Close()
	p := models.NewInstancePredictor(s, image.Point{})
	errs := make(chan error, 4)
	for range 4 {
		go func() {
			got, err := p.Predict(img)
			switch {
			case err != nil:
			case len(got) != 1 || got[0].Box != [4]float64{0, 0, 4, 4} || slices.Min(got[0].Mask) != 1 || slices.Max(got[0].Mask) != 1:
				err = fmt.Errorf("got %+v, want one detection (0,0)-(4,4) with a mask of ones", got)
			}
			errs <- err
		}()
	}
	for range 4 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}

// writeSpec writes s as a YAML spec file and returns its path.
func writeSpec(t *testing.T, s models.Spec) string {
	t.Helper()
	data, err := yaml.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), s.Name+".yaml")
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
