package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runSplit runs segtool with args and returns its exit code, what it
// wrote to stdout, and what it wrote to stderr (the app's ErrWriter and
// os.Stderr, where the loggers, progress bars and exitCode write).
func runSplit(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	app := newApp()
	var out, errw bytes.Buffer
	app.Writer, app.ErrWriter = &out, &errw
	saved := os.Stderr
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	piped := make(chan []byte)
	go func() {
		b, _ := io.ReadAll(r)
		piped <- b
	}()
	os.Stderr = w
	code = exitCode(app, app.RunContext(context.Background(), cliArgs(app, append([]string{"segtool"}, args...))))
	w.Close()
	os.Stderr = saved
	return code, out.String(), errw.String() + string(<-piped)
}

// jsonLines decodes every line of s as a JSON object, failing on any
// other line.
func jsonLines(t *testing.T, what, s string) []map[string]any {
	t.Helper()
	var objs []map[string]any
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		if l == "" && s == "" {
			break
		}
		var o map[string]any
		if err := json.Unmarshal([]byte(l), &o); err != nil {
			t.Errorf("%s: stderr line is not JSON: %q (%v)", what, l, err)
			continue
		}
		objs = append(objs, o)
	}
	return objs
}

// runJSON runs segtool --log-format json with args, checks the exit code
// and that stderr is JSON lines only, and returns stdout and those lines.
func runJSON(t *testing.T, want int, args ...string) (string, []map[string]any) {
	t.Helper()
	code, stdout, stderr := runSplit(t, append([]string{"--log-format", "json"}, args...)...)
	what := "segtool " + strings.Join(args, " ")
	if code != want {
		t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", what, code, want, stdout, stderr)
	}
	lines := jsonLines(t, what, stderr)
	if want != 0 {
		last := lines[len(lines)-1]
		if last["level"] != "ERROR" || last["exit"] != float64(want) || last["msg"] == "" {
			t.Errorf("%s: last stderr line %v, want level ERROR, exit %d and a msg", what, last, want)
		}
	}
	return stdout, lines
}

func TestJSONLogEveryCommand(t *testing.T) {
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	runJSON(t, 0, "demo-data", "--out", p("src"), "--count", "3", "--size", "64x80")
	runJSON(t, 0, "build-dataset", "--src", p("src/folder"), "--out", p("ds"))
	out, _ := runJSON(t, 0, "inspect", p("ds"))
	var insp struct {
		Stats map[string]any `json:"stats"`
	}
	if err := json.Unmarshal([]byte(out), &insp); err != nil {
		t.Fatalf("inspect: %v: %s", err, out)
	}
	for _, k := range []string{"samples", "splits", "fg_fraction", "rejects"} {
		if _, ok := insp.Stats[k]; !ok {
			t.Errorf("inspect stats lack %q: %s", k, out)
		}
	}
	if strings.Contains(out, `"Samples"`) || strings.Contains(out, `"FGQuant"`) {
		t.Errorf("inspect uses Go field names: %s", out)
	}
	runJSON(t, 0, "validate", p("ds"))
	runJSON(t, 0, "composite", "--fg", p("src/cutouts"), "--bg", "procedural", "--out", p("comp"), "--size", "48x60")
	runJSON(t, 0, "augment", "--config", augmentConfig, "--dataset", p("ds"), "--out", p("aug"), "--copies", "1")
	runJSON(t, 0, "trimap", "--dataset", p("ds"), "--out-dir", "trimaps-sp")
	runJSON(t, 0, "models", "presets")

	// Failures: a usage error (after the command and before it), a missing
	// dataset, validate's problems.
	runJSON(t, 2, "eval", "--bogus")
	runJSON(t, 2, "--bogus", "doctor")
	runJSON(t, 1, "inspect", p("nope"))
	bad := p("bad")
	os.MkdirAll(bad, 0o755)
	os.WriteFile(filepath.Join(bad, "dataset.json"), []byte(`{"name":"x"}`), 0o644)
	os.WriteFile(filepath.Join(bad, "manifest.jsonl"), []byte(`{"id":"a","split":"train","image":"images/a.png","mask":"masks/a.png","width":2,"height":2,"sha256":{}}`+"\n"), 0o644)
	if _, lines := runJSON(t, 1, "validate", bad); len(lines) < 2 || lines[0]["path"] != "images/a.png" {
		t.Errorf("validate problems: %v", lines)
	}

	needORT(t)
	model := p("oracle.onnx")
	runJSON(t, 0, "models", "build", "oracle", "--out", model)
	runJSON(t, 0, "eval", "--model", model, "--size", "64x80", "--dataset", p("ds"), "--split", "all", "--out", p("run"), "--save-preds")
	runJSON(t, 0, "report", p("run"), "--out", p("rep"))
	// A baseline measured differently (saved predictions, no model) warns.
	runJSON(t, 0, "eval", "--preds", p("run/preds"), "--dataset", p("ds"), "--split", "all", "--out", p("run-p"))
	_, lines := runJSON(t, 0, "report", p("run"), "--baseline", p("run-p"), "--out", p("rep-b"))
	warned := false
	for _, l := range lines {
		warned = warned || l["level"] == "WARN"
	}
	if !warned {
		t.Errorf("report against a differently measured baseline: no warning in %v", lines)
	}
	runJSON(t, 0, "apply", "--model", model, "--size", "64x80", "--in", p("src/folder/images"), "--out", p("applied"))
	// The gate reads the JSON summary's names: dice_mean is the mean.
	runJSON(t, 1, "report", p("run"), "--rule", "dice_mean > 1", "--out", p("rep-fail"))
}

// TestJSONSummaryNames: eval's text table and JSON summary give the same
// value under the same name: dice is the accumulated value, dice_mean the
// mean of per-image values, as results.json and the report have them.
func TestJSONSummaryNames(t *testing.T) {
	model, ds := evalFixture(t)
	dir := t.TempDir()
	// A threshold where the oracle is imperfect on some images, so that the
	// accumulated and mean values differ.
	common := []string{"eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--threshold", "0.999"}
	code, text, stderr := runSplit(t, append(common, "--out", filepath.Join(dir, "text"))...)
	if code != 0 {
		t.Fatalf("eval: exit %d: %s%s", code, text, stderr)
	}
	code, js, stderr := runSplit(t, append([]string{"--log-format", "json"}, append(common, "--out", filepath.Join(dir, "json"))...)...)
	if code != 0 {
		t.Fatalf("eval json: exit %d: %s%s", code, js, stderr)
	}
	var fields map[string]any
	if err := json.Unmarshal([]byte(js), &fields); err != nil {
		t.Fatalf("%v: %s", err, js)
	}
	res := readResults(t, filepath.Join(dir, "json"))
	checked := 0
	for _, l := range strings.Split(text, "\n") {
		f := strings.Fields(l)
		if len(f) != 4 || f[0] == "metric" {
			continue
		}
		name := f[0]
		var m *float64
		for i := range res.Metrics {
			if res.Metrics[i].Name == name {
				m = res.Metrics[i].Mean
			}
		}
		want := map[string]string{name + "_mean": f[2]}
		if f[1] != "-" {
			want[name] = f[1]
		} else {
			want[name] = f[2] // only a mean: the bare name is the mean
		}
		for k, v := range want {
			got, ok := fields[k].(float64)
			if !ok || fmt.Sprintf("%.4f", got) != v {
				t.Errorf("%s: text %s, JSON %v", k, v, fields[k])
			}
		}
		if m == nil || fmt.Sprintf("%.4f", *m) != f[2] {
			t.Errorf("%s: results.json mean %v, text %s", name, m, f[2])
		}
		checked++
	}
	if checked < 5 {
		t.Fatalf("read %d metric rows from the text table:\n%s", checked, text)
	}
	if fields["dice"] == fields["dice_mean"] {
		t.Errorf("dice %v and dice_mean %v are equal: the test cannot tell them apart", fields["dice"], fields["dice_mean"])
	}
	for _, m := range res.Metrics {
		if m.Name == "dice" && (m.Accumulated == nil || fields["dice"] != *m.Accumulated) {
			t.Errorf("JSON dice %v is not results.json's accumulated dice %v", fields["dice"], m.Accumulated)
		}
	}
}

// TestSummaryNotWrapped: a long text summary stays on one line.
func TestSummaryNotWrapped(t *testing.T) {
	dir := filepath.Join(t.TempDir(), strings.Repeat("long-folder-name-", 8))
	code, out, stderr := runSplit(t, "demo-data", "--out", dir, "--count", "1", "--size", "64x80")
	if code != 0 {
		t.Fatalf("demo-data: exit %d: %s%s", code, out, stderr)
	}
	if n := strings.Count(strings.TrimSpace(out), "\n"); n != 0 || !strings.Contains(out, dir) {
		t.Errorf("summary on %d lines, or the path broken:\n%s", n+1, out)
	}
}

// TestProgressFirstRate: the first drawing after the first tick shows a
// rate measured over at least the throttle interval, not over the
// microseconds since the bar was made.
func TestProgressFirstRate(t *testing.T) {
	var b bytes.Buffer
	update, finish := progressBar(&b, "test")
	update(1, 300)
	update(2, 300)
	time.Sleep(150 * time.Millisecond)
	update(3, 300)
	finish()
	rates := regexp.MustCompile(`([0-9.]+) samples/s`).FindAllStringSubmatch(b.String(), -1)
	for _, r := range rates {
		if v, _ := strconv.ParseFloat(r[1], 64); v > 100 {
			t.Errorf("rate %v samples/s after 3 samples in 150 ms: %q", v, b.String())
		}
	}
}
