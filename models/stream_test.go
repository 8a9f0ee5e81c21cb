package models_test

import (
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
)

// videoPredictor builds the toy video model name, opens it with its preset
// at 8x4 and returns a whole-frame predictor.
func videoPredictor(t *testing.T, name string) *models.Predictor {
	t.Helper()
	testmodel.InitRuntime(t)
	path := testmodel.Built(t, t.TempDir(), name, onnxbuild.Options{})
	base := models.Presets()[name]
	base.Width, base.Height = 8, 4
	s := testmodel.Open(t, path, base, models.SessionOptions{Threads: 1})
	return models.NewPredictor(s, models.FitResize, image.Point{}, 0)
}

// redFrame is an 8x4 BGR frame of one colour with the given red value.
func redFrame(t *testing.T, red float64) gocv.Mat {
	t.Helper()
	m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(7, 200, red, 0), 4, 8, gocv.MatTypeCV8UC3)
	t.Cleanup(func() { m.Close() })
	return m
}

// wantPlane fails unless every value of p is exactly v.
func wantPlane(t *testing.T, what string, p []float32, v float32) {
	t.Helper()
	if len(p) != 8*4 {
		t.Fatalf("%s: %d values, want 32", what, len(p))
	}
	for i, got := range p {
		if got != v {
			t.Fatalf("%s: pixel %d = %v, want exactly %v", what, i, got, v)
		}
	}
}

// The state-sum toy (alpha = state = gain · Σ raw red means since the
// clip's start, gain 1/1024) shows the state carried across frames, reset
// between clips, and kept apart between streams. All values are exact
// binary fractions.
func TestStreamCarriesState(t *testing.T) {
	p := videoPredictor(t, "state-sum")
	if !p.Session.Spec.Stateful() {
		t.Fatal("state-sum's preset is not stateful")
	}
	a := p.NewStream()
	for i, f := range []struct {
		red  float64
		want float32
	}{
		{16, 16.0 / 1024},
		{32, (16.0 + 32) / 1024},
		{64, (16.0 + 32 + 64) / 1024},
	} {
		got, err := a.Predict(redFrame(t, f.red))
		if err != nil {
			t.Fatal(err)
		}
		wantPlane(t, "clip A frame "+string(rune('0'+i)), got, f.want)
	}
	// A second stream on the same predictor starts from zeros and does
	// not disturb the first.
	b := p.NewStream()
	got, err := b.Predict(redFrame(t, 128))
	if err != nil {
		t.Fatal(err)
	}
	wantPlane(t, "stream B frame 0", got, 128.0/1024)
	if got, err = a.Predict(redFrame(t, 8)); err != nil {
		t.Fatal(err)
	}
	wantPlane(t, "clip A frame 3", got, (16.0+32+64+8)/1024)
	// Reset starts a new clip.
	a.Reset()
	if got, err = a.Predict(redFrame(t, 32)); err != nil {
		t.Fatal(err)
	}
	wantPlane(t, "clip A after Reset", got, 32.0/1024)
	// Predictor.Predict runs a still image as a clip of one frame.
	for range 2 {
		if got, err = p.Predict(redFrame(t, 64)); err != nil {
			t.Fatal(err)
		}
		wantPlane(t, "Predictor.Predict", got, 64.0/1024)
	}
}

// The prior-mix toy (alpha = ½·red/255 + ½·prior) shows that the 4th
// channel is the previous prediction, zeros at the clip's start.
func TestStreamPriorChannel(t *testing.T) {
	p := videoPredictor(t, "prior-mix")
	s := p.NewStream()
	for i, f := range []struct {
		red  float64
		want float32
	}{
		{255, 0.5},      // ½·1 + ½·0
		{255, 0.75},     // ½·1 + ½·0.5
		{255, 0.875},    // ½·1 + ½·0.75
		{0, 0.4375},     // ½·0 + ½·0.875
		{0, 0.21875},    // ½·0 + ½·0.4375
		{255, 0.609375}, // ½·1 + ½·0.21875
	} {
		got, err := s.Predict(redFrame(t, f.red))
		if err != nil {
			t.Fatal(err)
		}
		wantPlane(t, "frame "+string(rune('0'+i)), got, f.want)
	}
	s.Reset()
	got, err := s.Predict(redFrame(t, 255))
	if err != nil {
		t.Fatal(err)
	}
	wantPlane(t, "after Reset", got, 0.5)
}

func TestStreamRefusesTilesAndBatches(t *testing.T) {
	p := videoPredictor(t, "state-sum")
	if err := p.CheckStream(); err != nil {
		t.Errorf("CheckStream untiled: %v", err)
	}
	p.Tile = image.Pt(4, 4)
	if err := p.CheckStream(); !errors.Is(err, models.ErrStatefulTile) {
		t.Errorf("CheckStream tiled: %v, want ErrStatefulTile", err)
	}
	_, err := p.NewStream().Predict(redFrame(t, 16))
	var oe *dataset.OptionError
	if !errors.Is(err, models.ErrStatefulTile) || !errors.As(err, &oe) || oe.Field != "Tile" {
		t.Errorf("tiled stream: %v, want an OptionError for Tile wrapping ErrStatefulTile", err)
	}
	if _, _, err := p.Session.Run(make([]float32, 3*8*4), 1); !errors.Is(err, models.ErrStatefulBatch) {
		t.Errorf("Session.Run: %v, want ErrStatefulBatch", err)
	}
}

// mismatchModel writes a model whose state pair disagrees in shape: input
// state_in [1,2,1,1], output state_out [1,1,1,1].
func mismatchModel(t *testing.T, dir string) string {
	t.Helper()
	g := onnxbuild.NewGraph("mismatch")
	x := g.Input("src", onnxbuild.Fixed(1), onnxbuild.Fixed(3), onnxbuild.Fixed(4), onnxbuild.Fixed(8))
	s := g.Input("state_in", onnxbuild.Fixed(1), onnxbuild.Fixed(2), onnxbuild.Fixed(1), onnxbuild.Fixed(1))
	y := g.Conv(x, g.Constant("w", []int64{1, 3, 1, 1}, []float32{1, 0, 0}), "", onnxbuild.ConvAttrs{})
	g.Output("alpha", g.Sigmoid(y))
	g.Output("state_out", g.Conv(s, g.Constant("ws", []int64{1, 2, 1, 1}, []float32{1, 1}), "", onnxbuild.ConvAttrs{}))
	return testmodel.Graph(t, filepath.Join(dir, "mismatch.onnx"), g)
}

// A state pair whose tensors are missing or disagree in shape is a spec
// fault naming the spec's file and line (cmd/segtool exits 2 on an
// OptionError).
func TestStreamSpecErrors(t *testing.T) {
	testmodel.InitRuntime(t)
	dir := t.TempDir()
	stateSum := testmodel.Built(t, dir, "state-sum", onnxbuild.Options{})
	spec := func(states string) string {
		path := filepath.Join(dir, "video.yaml")
		body := "name: video\ninput: src\noutput: alpha\nrecurrent:\n  states:\n" + states
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	size := image.Pt(8, 4)
	for _, c := range []struct {
		name, model, states, want string
	}{
		{"missing input", stateSum,
			"    - {input: state_in, output: state_out, shape: [1, 1, 1, 1]}\n    - {input: r9i, output: state_out2, shape: [1]}\n",
			`video.yaml:7: states[1]: the model has no input "r9i"`},
		{"missing output", stateSum,
			"    - {input: state_in, output: r1o, shape: [1, 1, 1, 1]}\n",
			`video.yaml:6: states[0]: the model has no output "r1o"`},
		{"shapes disagree", mismatchModel(t, dir),
			"    - {input: state_in, output: state_out}\n",
			`video.yaml:6: states[0]: input "state_in" [1 2 1 1] and output "state_out" [1 1 1 1] disagree in dimension 1`},
		{"initial shape does not fit", stateSum,
			"    - {input: state_in, output: state_out, shape: [1, 1, 1]}\n",
			`video.yaml:6: states[0]: initial shape [1 1 1] does not fit input "state_in"`},
		{"gain input left unfed", stateSum,
			"    - {input: state_in, output: state_out, shape: [1, 1, 1, 1]}\n",
			`the model has 2 inputs`},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := models.ResolveSpec(models.SpecRequest{Model: c.model, Spec: spec(c.states), Overrides: models.SpecOverrides{Size: &size}})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("got %v, want an error containing %q", err, c.want)
			}
			var oe *dataset.OptionError
			if !errors.As(err, &oe) {
				t.Fatalf("%v is not an OptionError", err)
			}
			if errors.Is(err, models.ErrStreamSpec) && oe.Field != "Spec" {
				t.Errorf("field %q, want Spec", oe.Field)
			}
		})
	}
}

// rvmLike writes a graph with RobustVideoMatting's ONNX interface (inputs
// src, r1i..r4i with every dimension dynamic, downsample_ratio [1];
// outputs fgr, pha, r1o..r4o) whose states change shape after the first
// frame: rKo = rKi + mean(src) per channel, [1,3,1,1] from a [1,1,1,1]
// start, and pha = clip(r1o[:,0]·downsample_ratio, 0, 1) everywhere.
func rvmLike(t *testing.T, dir string) string {
	t.Helper()
	g := onnxbuild.NewGraph("rvm_like")
	d := onnxbuild.Dynamic
	src := g.Input("src", d("b", 1), onnxbuild.Fixed(3), d("h", 1), d("w", 1))
	var rs []string
	for k := 1; k <= 4; k++ {
		rs = append(rs, g.Input("r"+string(rune('0'+k))+"i", d("b", 1), d("c", 1), d("y", 1), d("x", 1)))
	}
	ratio := g.Input("downsample_ratio", onnxbuild.Fixed(1))
	pooled := g.GlobalAveragePool(src)
	var outs []string
	for _, r := range rs {
		outs = append(outs, g.Add(r, pooled))
	}
	red := g.Conv(outs[0], g.Constant("red", []int64{1, 3, 1, 1}, []float32{1, 0, 0}), "", onnxbuild.ConvAttrs{})
	zero := g.Conv(src, g.Constant("zero", []int64{1, 3, 1, 1}, []float32{0, 0, 0}), "", onnxbuild.ConvAttrs{})
	g.Output("fgr", g.Identity(src), d("b", 1), onnxbuild.Fixed(3), d("h", 1), d("w", 1))
	g.Output("pha", g.Clip(g.Add(zero, g.Mul(red, ratio)), 0, 1), d("b", 1), onnxbuild.Fixed(1), d("h", 1), d("w", 1))
	for k, o := range outs {
		g.Output("r"+string(rune('1'+k))+"o", o, d("b", 1), d("c", 3), d("y", 1), d("x", 1))
	}
	return testmodel.Graph(t, filepath.Join(dir, "rvm_like.onnx"), g)
}

// The rvm preset resolves against a graph with RVM's interface and feeds
// each state back whatever its shape: [1,1,1,1] zeros at the start, the
// model's [1,3,1,1] after. Red 255 (1.0 on p/255) adds 1 to r1o's red
// channel per frame, so pha = 0.25·(t+1), clipped at 1.
func TestStreamRVMPreset(t *testing.T) {
	testmodel.InitRuntime(t)
	path := rvmLike(t, t.TempDir())
	size := image.Pt(8, 4)
	s := testmodel.OpenResolved(t, models.SpecRequest{Model: path, Spec: "rvm", Overrides: models.SpecOverrides{Size: &size}}, models.SessionOptions{Threads: 1})
	st := models.NewPredictor(s, models.FitResize, image.Point{}, 0).NewStream()
	for i, want := range []float32{0.25, 0.5, 0.75, 1, 1} {
		got, err := st.Predict(redFrame(t, 255))
		if err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		wantPlane(t, "frame "+string(rune('0'+i)), got, want)
	}
	st.Reset()
	got, err := st.Predict(redFrame(t, 255))
	if err != nil {
		t.Fatal(err)
	}
	wantPlane(t, "after Reset", got, 0.25)
}
