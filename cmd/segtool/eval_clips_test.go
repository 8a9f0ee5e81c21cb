package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

// clipDataset makes the demo dataset's rows the frames of one clip,
// listed last frame first.
func clipDataset(t *testing.T, ds string) {
	t.Helper()
	d, err := dataset.Open(ds)
	if err != nil {
		t.Fatal(err)
	}
	rows := d.Samples
	for i := range rows {
		f := len(rows) - 1 - i
		rows[i].Clip, rows[i].Frame = "demo", &f
	}
	if err := dataset.WriteManifest(ds, rows); err != nil {
		t.Fatal(err)
	}
}

func TestEvalClips(t *testing.T) {
	model, plain := evalFixture(t)
	_, ds := trimapDataset(t)
	clipDataset(t, ds)
	out := filepath.Join(t.TempDir(), "run")
	code, text := run(t, "eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--out", out, "--temporal-ema", "0.5", "--save-preds")
	if code != 0 {
		t.Fatalf("eval: exit %d: %s", code, text)
	}
	if !strings.Contains(flat(text), "1 clips (temporal ema:0.5)") {
		t.Errorf("summary does not name the clips and the filter:\n%s", text)
	}
	if b, err := os.ReadFile(filepath.Join(out, eval.PerClipFile)); err != nil || !strings.HasPrefix(string(b), "clip,frames,mad,mse,dtssd,flicker,iou,dice\ndemo,3,") {
		t.Errorf("per_clip.csv: %v\n%s", err, b)
	}
	// The saved (filtered) predictions, scored with no filter, give the
	// same dtSSD up to their 8-bit rounding.
	res := readResults(t, out)
	again := filepath.Join(t.TempDir(), "run")
	if code, text := run(t, "eval", "--preds", filepath.Join(out, eval.PredsDir), "--dataset", ds, "--split", "all", "--out", again); code != 0 {
		t.Fatalf("eval --preds: exit %d: %s", code, text)
	}
	res2 := readResults(t, again)
	dt := func(r eval.Results) float64 {
		for _, m := range r.Metrics {
			if m.Name == "dtssd" && m.Mean != nil {
				return *m.Mean
			}
		}
		t.Fatalf("no dtssd in %+v", r.Metrics)
		return 0
	}
	if a, b := dt(res), dt(res2); a-b > 0.5 || b-a > 0.5 {
		t.Errorf("dtssd %v from the model, %v from its saved predictions", a, b)
	}

	o := func() string { return filepath.Join(t.TempDir(), "run") }
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--temporal", "blur:3"}, "--temporal"},
		{[]string{"--temporal", "ema:1.5"}, "--temporal"},
		{[]string{"--temporal-ema", "2"}, "--temporal-ema"},
		{[]string{"--temporal", "none", "--temporal-ema", "0.5"}, "not both"},
		{[]string{"--temporal", "ema:0.5", "--dataset", plain}, "--temporal"},
	} {
		args := append([]string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--out", o()}, tc.args...)
		if code, text := run(t, args...); code != 2 || !strings.Contains(text, tc.want) {
			t.Errorf("%v: exit %d, want 2 naming %s:\n%s", tc.args, code, tc.want, text)
		}
	}
}
