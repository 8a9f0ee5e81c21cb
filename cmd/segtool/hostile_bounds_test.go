package main

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// TestHostileThreadsAndBatch: --threads outside 1..4 per core and a
// --batch whose tensors outgrow the machine exit 2 naming the flag (and,
// for --batch, the figure) before a run folder is made.
func TestHostileThreadsAndBatch(t *testing.T) {
	model, ds := evalFixture(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--threads", "-1"}, "--threads: -1: want 1 to"},
		{[]string{"--threads", "100000"}, "--threads: 100000: want 1 to"},
		{[]string{"--threads", fmt.Sprint(4*runtime.NumCPU() + 1)}, "want 1 to"},
		{[]string{"--batch", "100000"}, "--batch: 100000 items of 64x80 need"},
		{[]string{"--batch", "9223372036854775807"}, "GiB for their input and output tensors"},
	} {
		out := filepath.Join(t.TempDir(), "run")
		args := append([]string{"--quiet", "eval", "--model", model, "--size", "64x80", "--dataset", ds, "--split", "all", "--out", out}, tc.args...)
		code, msg := run(t, args...)
		if code != 2 || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, msg, tc.want)
		}
		if _, err := os.Stat(out); !os.IsNotExist(err) {
			t.Errorf("%v: the run folder was made", tc.args)
		}
	}
	code, msg := run(t, "--quiet", "bench", "--model", model, "--size", "64x80", "--threads", "-1", "-n", "1")
	if code != 2 || !strings.Contains(msg, "--threads: -1") {
		t.Errorf("bench --threads -1: exit %d, %q", code, msg)
	}
}

// TestHostileFloatFlags: NaN and infinities in a float flag exit 2 naming
// the flag, on any command, before anything runs.
func TestHostileFloatFlags(t *testing.T) {
	for _, args := range [][]string{
		{"eval", "--threshold", "nan", "--model", "m.onnx", "--dataset", "ds", "--out", "o"},
		{"eval", "--threshold", "+Inf", "--preds", "p", "--dataset", "ds", "--out", "o"},
		{"trimap", "--fg-thresh", "NaN", "--dataset", "ds"},
		{"composite", "--harmonize", "-inf", "--fg", "f", "--bg", "b", "--out", "o"},
		{"bench", "slic", "--compactness", "inf"},
		{"apply", "--guided-eps", "nan", "--model", "m.onnx", "--in", "i", "--out", "o"},
	} {
		flag := ""
		for _, a := range args {
			if strings.HasPrefix(a, "--") && flag == "" && a != "--model" {
				flag = a
			}
		}
		code, msg := run(t, args...)
		if code != 2 || !strings.Contains(msg, flag+": ") || !strings.Contains(msg, "not a finite number") {
			t.Errorf("%v: exit %d, %q; want 2 naming %s", args, code, msg, flag)
		}
	}
	code, msg := run(t, "eval", "--mean", "1,nan,2", "--model", "m.onnx", "--dataset", "ds", "--out", "o")
	if code != 2 || !strings.Contains(msg, "--mean") || !strings.Contains(msg, "not a finite number") {
		t.Errorf("--mean with NaN: exit %d, %q", code, msg)
	}
}

// TestHostileConfigs: an alias bomb nested under ops, an anchor in a gate
// file and a config over 1 MiB exit 2 naming the file (and line), fast and
// without writing anything.
func TestHostileConfigs(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var bomb strings.Builder
	bomb.WriteString("ops:\n  - sequential:\n      ops: &a0 [fliplr, fliplr, fliplr, fliplr, fliplr, fliplr, fliplr, fliplr]\n")
	for i := 1; i <= 9; i++ {
		fmt.Fprintf(&bomb, "  - sequential:\n      ops: &a%d [", i)
		for j := 0; j < 8; j++ {
			fmt.Fprintf(&bomb, "{sequential: {ops: *a%d}}, ", i-1)
		}
		bomb.WriteString("fliplr]\n")
	}
	bombFile := write("bomb.yaml", bomb.String())
	bigFile := write("big.yaml", "description: "+strings.Repeat("x", 1<<20)+"\nops: [fliplr]\n")

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"augment", "--check", bombFile}, bombFile + ":3: YAML anchors and aliases are not allowed"},
		{[]string{"augment", "--config", bombFile, "--dataset", filepath.Join(dir, "ds"), "--out", filepath.Join(dir, "aug")}, bombFile + ":3: YAML anchors"},
		{[]string{"augment", "--check", bigFile}, bigFile + ": config file too large"},
		{[]string{"augment", "--config", bigFile, "--dataset", filepath.Join(dir, "ds"), "--out", filepath.Join(dir, "aug")}, bigFile + ": config file too large"},
	} {
		code, msg := run(t, tc.args...)
		if code != 2 || !strings.Contains(msg, tc.want) {
			t.Errorf("%v: exit %d, %q; want 2 and %q", tc.args, code, msg, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "aug")); !os.IsNotExist(err) {
		t.Error("augment wrote its output folder")
	}

	res := handResults(t, dir, "run", map[string]float64{"dice": 0.95}, 10, "aaaa")
	gate := write("gate.yaml", "rules:\n  - &r dice >= 0.5\n  - *r\n")
	bigGate := write("big-gate.yaml", "rules:\n"+strings.Repeat("  - dice >= 0.5\n", 1<<16+1))
	for g, want := range map[string]string{gate: gate + ":2: YAML anchors and aliases are not allowed", bigGate: bigGate + ": config file too large"} {
		code, msg := run(t, "report", filepath.Dir(res), "--gate", g, "--out", filepath.Join(dir, "rep"), "--format", "md")
		if code != 2 || !strings.Contains(msg, "--gate: "+want) {
			t.Errorf("gate %s: exit %d, %q; want 2 and %q", filepath.Base(g), code, msg, want)
		}
	}
}

// TestHostileReportNames: a run folder named with Markdown and HTML goes
// into report.md inside a code span that its backticks cannot close.
func TestHostileReportNames(t *testing.T) {
	dir := t.TempDir()
	name := "a`b <i>x<i> [l](u) *y*"
	res := handResults(t, dir, name, map[string]float64{"dice": 0.95}, 10, "aaaa")
	out := filepath.Join(dir, "rep")
	if code, msg := run(t, "--quiet", "report", filepath.Dir(res), "--out", out, "--format", "md"); code != 0 {
		t.Fatalf("report: exit %d: %s", code, msg)
	}
	b, err := os.ReadFile(filepath.Join(out, "report.md"))
	if err != nil {
		t.Fatal(err)
	}
	md := string(b)
	if !strings.Contains(md, "## segtool report: ``"+name+"``") || !strings.Contains(md, "``"+name+"``: 1") && !strings.Contains(md, "``"+name+"``: 10") {
		t.Errorf("report.md does not fence the run name:\n%s", md)
	}
	if strings.Contains(md, "| "+name) {
		t.Errorf("report.md has the raw name in a table cell:\n%s", md)
	}
}
