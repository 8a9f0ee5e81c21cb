package main

import (
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/segtool/segtool/eval"
)

// jsonNames returns the JSON names of struct type v's fields.
func jsonNames(v any) map[string]bool {
	names := map[string]bool{}
	t := reflect.TypeOf(v)
	for i := range t.NumField() {
		if n, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ","); n != "" && n != "-" {
			names[n] = true
		}
	}
	return names
}

// TestJSONSummaryTimingNames: the JSON summaries of build-dataset,
// augment, composite, trimap, superpixels and apply name their timings as
// results.json does (wall_s, images_per_s, stage_mean_ms; samples_per_s
// for jobs that write samples), never another name for the same number
// (seconds, files beside files_written), and the rates are count/wall_s.
func TestJSONSummaryTimingNames(t *testing.T) {
	timing := jsonNames(eval.Timing{})
	for _, n := range []string{"wall_s", "images_per_s", "stage_mean_ms"} {
		if !timing[n] {
			t.Fatalf("results.json's timing has no %q: update this test and the summaries together", n)
		}
	}
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	runJSON(t, 0, "demo-data", "--out", p("src"), "--count", "3", "--size", "64x80")
	summaryOf := func(args ...string) map[string]any {
		t.Helper()
		out, _ := runJSON(t, 0, args...)
		var s map[string]any
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatalf("%s: summary %q: %v", args[0], out, err)
		}
		for _, bad := range []string{"seconds", "files", "images_per_second"} {
			if _, ok := s[bad]; ok {
				t.Errorf("%s: summary names %q, not results.json's name: %s", args[0], bad, out)
			}
		}
		if w, ok := s["wall_s"].(float64); !ok || w <= 0 {
			t.Errorf("%s: no wall_s in %s", args[0], out)
		}
		return s
	}
	b := summaryOf("build-dataset", "--src", p("src/folder"), "--out", p("ds"))
	if rate := b["samples_per_s"].(float64); math.Abs(rate-b["candidates"].(float64)/b["wall_s"].(float64)) > 1e-6*rate {
		t.Errorf("build-dataset: samples_per_s %v is not candidates/wall_s: %v", rate, b)
	}
	if b["files_written"] == nil {
		t.Errorf("build-dataset: no files_written: %v", b)
	}
	// rate checks that a summary's rate is count/wall_s.
	rate := func(s map[string]any, name, count string) {
		t.Helper()
		r, ok := s[name].(float64)
		n, _ := s[count].(float64)
		if !ok || n <= 0 || math.Abs(r-n/s["wall_s"].(float64)) > 1e-6*r {
			t.Errorf("%s: %s %v is not %s/wall_s: %v", s["command"], name, s[name], count, s)
		}
	}
	rate(summaryOf("augment", "--config", augmentConfig, "--dataset", p("ds"), "--out", p("aug"), "--copies", "1", "--seed", "1"),
		"samples_per_s", "planned")
	rate(summaryOf("composite", "--fg", p("src/cutouts"), "--bg", "procedural:stripes", "--out", p("comp"), "--per-fg", "1", "--size", "64x80"),
		"samples_per_s", "planned")
	rate(summaryOf("trimap", "--dataset", p("ds"), "--method", "erode", "--out-dir", "trimaps-erode"), "images_per_s", "made")
	summaryOf("superpixels", "--image", p("src/folder/images/portrait_0000.jpg"), "--out", p("sp.png"))

	needORT(t)
	model := p("oracle.onnx")
	runJSON(t, 0, "models", "build", "oracle", "--out", model)
	a := summaryOf("apply", "--model", model, "--size", "64x80", "--in", p("src/folder/images"), "--out", p("applied"))
	if rate := a["images_per_s"].(float64); math.Abs(rate-a["done"].(float64)/a["wall_s"].(float64)) > 1e-6*rate {
		t.Errorf("apply: images_per_s %v is not done/wall_s: %v", rate, a)
	}
	st, _ := a["stage_mean_ms"].(map[string]any)
	for _, k := range []string{"predict", "refine", "effects"} {
		if _, ok := st[k].(float64); !ok {
			t.Errorf("apply: stage_mean_ms lacks %q: %v", k, a)
		}
	}
	if a["files_written"] == nil {
		t.Errorf("apply: no files_written: %v", a)
	}
}
