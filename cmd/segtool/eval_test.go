package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/models"
)

func needORT(t *testing.T) {
	t.Helper()
	if _, err := models.LibraryPath(); err != nil {
		t.Skipf("skipping: %v", err)
	}
}

// evalFixture builds the oracle model and a 3-sample demo dataset of
// 64x80 portraits.
func evalFixture(t *testing.T) (model, ds string) {
	t.Helper()
	needORT(t)
	_, ds = trimapDataset(t)
	return oracleModel(t), ds
}

// oracleModel builds the oracle model (exact output, see models build)
// and returns its path.
func oracleModel(t *testing.T) string {
	t.Helper()
	model := filepath.Join(t.TempDir(), "oracle.onnx")
	if code, out := run(t, "models", "build", "oracle", "--out", model); code != 0 {
		t.Fatalf("models build: exit %d: %s", code, out)
	}
	return model
}

// readResults reads the results.json of the run folder dir.
func readResults(t *testing.T, dir string) eval.Results {
	t.Helper()
	var r eval.Results
	b, err := os.ReadFile(filepath.Join(dir, eval.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestEvalCommand(t *testing.T) {
	model, ds := evalFixture(t)
	out := filepath.Join(t.TempDir(), "run")
	code, text := run(t, "eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--out", out, "--save-preds")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, text)
	}
	for _, want := range []string{"3 of 3 images scored", "iou", "accumulated", "images/s", "results.json"} {
		if !strings.Contains(flat(text), want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	res := readResults(t, out)
	if res.Model == nil || res.Model.Spec.Name != "oracle" || res.Model.SHA256 == "" || res.Dataset.ManifestSHA256 == "" {
		t.Errorf("results.json model/dataset = %+v %+v", res.Model, res.Dataset)
	}
	if res.Segtool.Version == "" || res.Environment.ONNXRuntime == "" || res.Environment.Provider != models.ProviderCPU {
		t.Errorf("results.json environment = %+v %+v", res.Segtool, res.Environment)
	}

	// Saved predictions score the same with --preds.
	code, text2 := run(t, "eval", "--preds", filepath.Join(out, "preds"), "--dataset", ds, "--split", "all", "--out", out+"-p")
	if code != 0 {
		t.Fatalf("eval --preds: exit %d: %s", code, text2)
	}
	line := func(s, name string) string {
		for _, l := range strings.Split(s, "\n") {
			if strings.HasPrefix(l, name+" ") {
				return l
			}
		}
		return ""
	}
	if l := line(text, "iou"); l == "" || l != line(text2, "iou") {
		t.Errorf("--preds iou line %q, model run %q", line(text2, "iou"), l)
	}

	// bench --model and bench model time the same model.
	for _, args := range [][]string{{"bench", "--model", model, "--size", "64x80", "-n", "3"}, {"bench", "model", "--model", model, "--size", "64x80", "-n", "3", "--batch", "2"}} {
		if code, text := run(t, args...); code != 0 || !strings.Contains(flat(text), "images/s") {
			t.Errorf("segtool %s: exit %d: %s", strings.Join(args, " "), code, text)
		}
	}
}

func TestEvalExitCodes(t *testing.T) {
	model, ds := evalFixture(t)
	existing := filepath.Join(t.TempDir(), "run")
	if code, out := run(t, "eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--out", existing); code != 0 {
		t.Fatalf("eval: exit %d: %s", code, out)
	}
	sinet := ""
	if d, ok := shareddata.Find(); ok {
		sinet = filepath.Join(d, "models", "SINet.onnx")
	}
	o := func() string { return filepath.Join(t.TempDir(), "run") }
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"eval", "--model", model}, 2, "--dataset"},
		{[]string{"eval", "--model", model, "--preds", ds, "--dataset", ds}, 2, "--preds"},
		{[]string{"eval", "--dataset", ds}, 2, "--model"},
		{[]string{"eval", "--model", model, "--dataset", ds, "--out", o()}, 2, "--size"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--device", "tpu", "--out", o()}, 2, "--device"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--fallback", "gpu", "--out", o()}, 2, "--fallback"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "holdout", "--out", o()}, 2, "--split"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--threshold", "1.5", "--out", o()}, 2, "--threshold"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--metrics", "segmentation,speed", "--out", o()}, 2, "--metrics"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--output-kind", "softmax2", "--out", o()}, 2, "softmax2"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--output", "nope", "--out", o()}, 2, "nope"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--out", existing}, 2, "--force"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--device", "cuda", "--cudnn-conv-algo-search", "fastest", "--out", o()}, 2, "--cudnn-conv-algo-search"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--cudnn-conv-algo-search", "heuristic", "--out", o()}, 2, "needs --device cuda"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--tf32=false", "--out", o()}, 2, "--tf32"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--device", "cuda", "--arena-growth", "double", "--out", o()}, 2, "--arena-growth"},
		{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--device", "cuda", "--gpu-mem-limit", "-1", "--out", o()}, 2, "--gpu-mem-limit"},
		{[]string{"bench", "model", "--model", model, "--size", "64x80", "--cudnn-conv-algo-search", "heuristic"}, 2, "needs --device cuda"},
		{[]string{"apply", "--model", model, "--size", "64x80", "--in", filepath.Join(ds, "images"), "--out", o(), "--tf32=false"}, 2, "--tf32"},
		{[]string{"eval", "--model", "missing.onnx", "--dataset", ds, "--out", o()}, 2, "missing.onnx"},
		{[]string{"models", "build", "vgg", "--out", o()}, 2, "unet-aspp"},
		{[]string{"models", "build", "unet-aspp", "--out", o(), "--size", "801x600"}, 2, "multiples"},
		{[]string{"models", "presets", "nope"}, 2, "sinet"},
	} {
		code, out := run(t, tc.args...)
		if code != tc.code || !strings.Contains(flat(out), tc.want) {
			t.Errorf("segtool %s: exit %d, output %q; want exit %d naming %s", strings.Join(tc.args, " "), code, out, tc.code, tc.want)
		}
	}
	// The CUDA checks only fail where the library has no CUDA provider.
	if models.CUDAProviderError() != nil {
		for _, args := range [][]string{
			{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--device", "cuda", "--out", o()},
			{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--device", "cuda:1", "--cudnn-conv-algo-search", "heuristic", "--tf32=false", "--out", o()},
			{"bench", "model", "--model", model, "--size", "64x80", "--device", "cuda", "-n", "1"},
		} {
			code, out := run(t, args...)
			if code != 1 || !strings.Contains(flat(out), "CUDA execution provider is not available") || !strings.Contains(flat(out), models.LibEnv) {
				t.Errorf("segtool %s: exit %d, output %q; want exit 1 naming the missing provider and $%s", strings.Join(args, " "), code, out, models.LibEnv)
			}
		}
		fb := o()
		code, out := run(t, "eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--device", "cuda", "--fallback", "cpu",
			"--cudnn-conv-algo-search", "heuristic", "--arena-growth", "same-as-requested", "--out", fb)
		if code != 0 {
			t.Errorf("--device cuda --fallback cpu: exit %d: %s", code, out)
		}
		res := readResults(t, fb)
		env := res.Environment
		if env.Provider != models.ProviderCPU || env.Device != "cuda:0" || env.Fallback == "" || env.CUDA != nil || res.Timing.GPU != nil {
			t.Errorf("fallback run's environment %+v, want the CPU provider, device cuda:0, a reason and no CUDA/GPU figures", env)
		}
	}
	if sinet != "" {
		// SINet is fixed at 320x320: another size does not fit it.
		if code, out := run(t, "eval", "--model", sinet, "--size", "64x80", "--dataset", ds, "--out", o()); code != 2 || !strings.Contains(out, "320") {
			t.Errorf("SINet --size 64x80: exit %d: %s", code, out)
		}
	}
}

func TestModelsInspect(t *testing.T) {
	needORT(t)
	sinet := filepath.Join(shareddata.Dir(t, "models"), "SINet.onnx")
	code, out := run(t, "models", "inspect", sinet)
	if code != 0 {
		t.Fatalf("models inspect: exit %d: %s", code, out)
	}
	for _, want := range []string{"opset", "classifier/1", "preset sinet", "order: BGR", "output_kind: logits2", "width: 320", "weights:   354 float32, 25 int64 initializers", "input_type: float32"} {
		if !strings.Contains(out, want) {
			t.Errorf("models inspect SINet.onnx lacks %q:\n%s", want, out)
		}
	}
	code, out = run(t, "models", "presets")
	if code != 0 || !strings.Contains(out, "unet-aspp") || !strings.Contains(out, "modnet") {
		t.Errorf("models presets: exit %d: %s", code, out)
	}
}

func TestEvalHelpTeaches(t *testing.T) {
	helpTeaches(t, "eval", "--resume", "--preds", "--spec", "accumulated", "boundary_iou", "sad", "Examples", "--letterbox", "--tile")
}
