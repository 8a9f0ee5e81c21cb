package shareddata

import (
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
