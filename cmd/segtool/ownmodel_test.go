package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/internal/shareddata"
)

// ownModelFlags are the flags the README's "Evaluate your own model"
// section shows for each model copied to my_model.onnx.
var ownModelFlags = map[string][]string{
	"prisma": nil,
	"sinet": {"--order", "BGR", "--scale", "1", "--mean", "102.890434,111.25247,126.91212",
		"--std", "62.93292,62.82138,66.355705", "--post-scale", "0.00392156862745098"},
	"mobilenetv2-unet": {"--mean", "0.5", "--std", "0.5"},
}

// A model named like no preset evaluates with the README's flags, says
// which defaults it took, and scores as it does under its preset.
func TestOwnModelEvaluates(t *testing.T) {
	needORT(t)
	shared, ok := shareddata.Find()
	if !ok {
		t.Skip("skipping: no shared data")
	}
	tmp := t.TempDir()
	ds := filepath.Join(tmp, "ds")
	if code, out := run(t, "-q", "build-dataset", "--src", filepath.Join(shared, "data", "p3m"), "--out", ds, "--max-side", "320"); code != 0 {
		t.Fatalf("build-dataset: exit %d: %s", code, out)
	}
	built := filepath.Join(tmp, "mnv2.onnx")
	if code, out := run(t, "models", "build", "mobilenetv2-unet", "--out", built); code != 0 {
		t.Fatalf("models build: exit %d: %s", code, out)
	}
	sources := map[string]string{
		"prisma":           filepath.Join(shared, "models", "prisma_nchw.onnx"),
		"sinet":            filepath.Join(shared, "models", "SINet.onnx"),
		"mobilenetv2-unet": built,
	}
	iou := func(model, out string, extra ...string) (float64, string) {
		t.Helper()
		args := append([]string{"eval", "--model", model, "--dataset", ds, "--split", "all", "--limit", "4",
			"--metrics", "segmentation", "--out", out}, extra...)
		code, text := run(t, args...)
		if code != 0 {
			t.Fatalf("segtool %s: exit %d: %s", strings.Join(args, " "), code, text)
		}
		for _, m := range readResults(t, out).Metrics {
			if m.Name == "iou" && m.Accumulated != nil {
				return *m.Accumulated, text
			}
		}
		t.Fatalf("%s: no iou in results", out)
		return 0, ""
	}
	for preset, src := range sources {
		dir := filepath.Join(tmp, preset)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		mine := filepath.Join(dir, "my_model.onnx")
		b, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(mine, b, 0o644); err != nil {
			t.Fatal(err)
		}
		want, _ := iou(src, filepath.Join(dir, "preset"), "--spec", preset)
		got, text := iou(mine, filepath.Join(dir, "mine"), ownModelFlags[preset]...)
		if d := got - want; d > 0.01 || d < -0.01 {
			t.Errorf("%s as my_model.onnx: IoU %.4f, under its preset %.4f", preset, got, want)
		}
		// One line per default taken, naming its flag; none for a flag given.
		for flag, key := range map[string]string{"--order": "channel order", "--scale": "scale", "--mean": "mean", "--std": "std", "--post-scale": "post-scale"} {
			given := strings.Contains(strings.Join(ownModelFlags[preset], " "), flag+" ")
			line := "model spec default: " + key
			if has := strings.Contains(text, line) && strings.Contains(text, flag); has == given {
				t.Errorf("%s: default line %q printed %v, flag given %v:\n%s", preset, line, has, given, text)
			}
		}
	}

	// models inspect exits 1 on the incomplete spec; models spec writes a
	// complete one that eval takes.
	mine := filepath.Join(tmp, "prisma", "my_model.onnx")
	if code, out := run(t, "models", "inspect", mine); code != 1 || !strings.Contains(out, "models spec") || !strings.Contains(out, "--order") {
		t.Errorf("models inspect my_model.onnx: exit %d: %s", code, out)
	}
	code, yaml := run(t, "models", "spec", mine, "--norm", "unit")
	if code != 0 || !strings.Contains(yaml, "output_kind: sigmoid") {
		t.Fatalf("models spec: exit %d: %s", code, yaml)
	}
	spec := filepath.Join(tmp, "my.yaml")
	if err := os.WriteFile(spec, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out := run(t, "models", "inspect", mine, "--spec", spec); code != 0 {
		t.Errorf("models inspect --spec my.yaml: exit %d: %s", code, out)
	}
	if code, out := run(t, "models", "spec", mine, "--norm", "unit", "--scale", "1"); code != 2 || !strings.Contains(out, "--norm") {
		t.Errorf("--norm with --scale: exit %d: %s", code, out)
	}
	// bench needs no normalisation and says nothing of it.
	if code, out := run(t, "bench", "model", "--model", mine, "-n", "1", "--warmup", "0"); code != 0 || strings.Contains(out, "model spec default") {
		t.Errorf("bench model my_model.onnx: exit %d: %s", code, out)
	}
}

func TestSpecFlagsHelpSaysFromTheSpec(t *testing.T) {
	code, out := run(t, "eval", "--help")
	for _, l := range strings.Split(out, "\n") {
		if f := strings.Fields(l); len(f) > 0 && (f[0] == "--scale" || f[0] == "--post-scale" || f[0] == "--foreground") &&
			(strings.Contains(l, "(default: 0)") || !strings.Contains(l, "from the spec")) {
			t.Errorf("eval --help: %s", l)
		}
	}
	if code != 0 {
		t.Errorf("eval --help: exit %d", code)
	}
}
