package coco

import (
	"testing"

	"github.com/segtool/segtool/internal/shareddata"
)

// pycoco sends req to testdata/pycoco.py (pycocotools, the reference) and
// decodes its answer into out; it skips where pycocotools is unavailable.
func pycoco(t *testing.T, req any, out any) {
	t.Helper()
	shareddata.PycocoJSON(t, "testdata/pycoco.py", req, out)
}
