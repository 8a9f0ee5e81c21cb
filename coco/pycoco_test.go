package coco

import (
	"bytes"
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/segtool/segtool/internal/shareddata"
)

// pycoco sends req to testdata/pycoco.py (pycocotools, the reference) and
// decodes its answer into out; it skips where pycocotools is unavailable.
func pycoco(t *testing.T, req any, out any) {
	t.Helper()
	env := shareddata.Pycocotools(t)
	in, err := json.Marshal(req)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(shareddata.Python, "testdata/pycoco.py")
	cmd.Env = env
	cmd.Stdin = bytes.NewReader(in)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	b, err := cmd.Output()
	if err != nil {
		t.Fatalf("pycoco.py: %v\n%s", err, stderr.String())
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("pycoco.py answer: %v\n%s", err, b)
	}
}
