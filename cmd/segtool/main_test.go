package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// run executes segtool with args and returns its exit code and output.
func run(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return runApp(t, newApp(), args...)
}

// runApp runs app with args, capturing what it writes and what goes to
// stderr, and returns the exit code and both outputs.
func runApp(t *testing.T, app *cli.App, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	app.Writer, app.ErrWriter = &out, &out
	stderr := os.Stderr
	r, w, _ := os.Pipe()
	os.Stderr = w
	code := exitCode(app, app.RunContext(context.Background(), cliArgs(app, append([]string{"segtool"}, args...))))
	w.Close()
	os.Stderr = stderr
	var errOut bytes.Buffer
	errOut.ReadFrom(r)
	return code, out.String() + errOut.String()
}

// flat joins the output's lines and spaces, so that a phrase is found
// whether or not a table or log line splits it.
func flat(s string) string { return strings.Join(strings.Fields(s), " ") }

// helpTeaches checks that `segtool CMD --help` exits 0 and mentions
// every want.
func helpTeaches(t *testing.T, cmd string, wants ...string) {
	t.Helper()
	code, out := run(t, append(strings.Fields(cmd), "--help")...)
	if code != 0 {
		t.Fatalf("%s --help exit %d", cmd, code)
	}
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("%s --help lacks %q", cmd, want)
		}
	}
}

func TestUsageErrorsExit2(t *testing.T) {
	src := t.TempDir()
	os.MkdirAll(filepath.Join(src, "images"), 0o755)
	os.MkdirAll(filepath.Join(src, "masks"), 0o755)
	existing := t.TempDir()
	os.WriteFile(filepath.Join(existing, "x"), []byte("x"), 0o644)
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"build-dataset", "--out", "x"}, "src"},
		{[]string{"build-dataset", "--src", src, "--out", "x", "--resize", "320by240"}, "--resize"},
		{[]string{"build-dataset", "--src", src, "--out", "x", "--split", "0.5,0.5"}, "--split"},
		{[]string{"build-dataset", "--src", src, "--out", "x", "--jpeg-quality", "0"}, "--jpeg-quality"},
		{[]string{"build-dataset", "--src", src, "--out", "x", "--crops", "3"}, "--crop-size"},
		{[]string{"build-dataset", "--src", src, "--out", "x", "--format", "nope"}, "--format"},
		{[]string{"build-dataset", "--src", src, "--out", existing}, "--force"},
		{[]string{"--workers", "0", "doctor"}, "--workers"},
		{[]string{"--log-format", "xml", "doctor"}, "--log-format"},
		{[]string{"build-dataset", "--src", src, "--out", "x", "--bogus"}, "bogus"},
		{[]string{"inspect"}, "DATASET"},
	} {
		code, out := run(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.flag) {
			t.Errorf("segtool %s: exit %d, output %q; want exit 2 naming %s", strings.Join(tc.args, " "), code, out, tc.flag)
		}
	}
}

func TestHelpTeaches(t *testing.T) {
	helpTeaches(t, "build-dataset", "pennfudan", "aisegment", "pfcn-matting", "pfcn-eg", "folder", "--resume", "Examples")
}

func TestValidateExit1OnMismatch(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "dataset.json"), []byte(`{"name":"x"}`), 0o644)
	os.WriteFile(filepath.Join(dir, "manifest.jsonl"), []byte(`{"id":"a","split":"train","image":"images/a.png","mask":"masks/a.png","width":2,"height":2,"sha256":{}}`+"\n"), 0o644)
	code, out := run(t, "validate", dir)
	if code != 1 || !strings.Contains(out, "images/a.png") {
		t.Errorf("validate of a dataset with missing files: exit %d, %q", code, out)
	}
}
