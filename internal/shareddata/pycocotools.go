package shareddata

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Python is Debian's interpreter, the one ../shared/tools/cocoapi/build.sh
// builds pycocotools for.
const Python = "/usr/bin/python3"

// Pycocotools builds (once; build.sh caches it) pycocotools from
// ../shared/tools/cocoapi and returns the environment to run Python with
// it importable, or skips the test with a message saying why it cannot.
func Pycocotools(tb testing.TB) []string {
	tb.Helper()
	dir := Dir(tb, "tools/cocoapi")
	if _, err := os.Stat(Python); err != nil {
		tb.Skipf("skipping: %s not found, needed for the pycocotools reference", Python)
	}
	out, err := exec.Command(filepath.Join(dir, "build.sh")).Output()
	if err != nil {
		tb.Skipf("skipping: building pycocotools with %s/build.sh failed: %v", dir, err)
	}
	env := append(os.Environ(), "PYTHONPATH="+strings.TrimSpace(string(out)))
	probe := exec.Command(Python, "-c", "from pycocotools import mask, cocoeval")
	probe.Env = env
	if msg, err := probe.CombinedOutput(); err != nil {
		tb.Skipf("skipping: pycocotools does not import: %v: %s", err, msg)
	}
	return env
}

// PycocoJSON runs script (a Python file) with pycocotools importable,
// sends it req as JSON on stdin and decodes its stdout into out; it skips
// as Pycocotools does.
func PycocoJSON(tb testing.TB, script string, req, out any) {
	tb.Helper()
	env := Pycocotools(tb)
	in, err := json.Marshal(req)
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(Python, script)
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		tb.Fatalf("%s: %v\n%s", script, err, stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		tb.Fatalf("%s answered: %v\n%.2000s", script, err, b)
	}
}
