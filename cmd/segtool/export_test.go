package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// export: the help teaches, bad usage exits 2 naming the flag, and the
// JSON summary names what was written.
func TestExportCommand(t *testing.T) {
	helpTeaches(t, "export", "--format coco", "person mask", "toBbox", "Examples")
	dir := t.TempDir()
	p := func(n string) string { return filepath.Join(dir, n) }
	runJSON(t, 0, "demo-data", "--out", p("src"), "--count", "3", "--size", "64x80")
	runJSON(t, 0, "build-dataset", "--src", p("src/pennfudan"), "--out", p("pf"))
	stdout, _ := runJSON(t, 0, "export", "--format", "coco", "--dataset", p("pf"), "--out", p("pf.json"))
	var sum map[string]any
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil || sum["command"] != "export" || sum["images"] != float64(3) || sum["from_masks"] != float64(0) {
		t.Errorf("summary %s: %v", stdout, err)
	}
	if b, err := os.ReadFile(p("pf.json")); err != nil || !strings.Contains(string(b), `"counts":"`) {
		t.Errorf("pf.json: %v %.200s", err, b)
	}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"export", "--out", p("x.json")}, "--dataset"},
		{[]string{"export", "--dataset", p("pf")}, "--out"},
		{[]string{"export", "--dataset", p("pf"), "--out", p("pf.json")}, "--force"},
		{[]string{"export", "--dataset", p("pf"), "--out", p("x.json"), "--split", "dev"}, "--split"},
		{[]string{"export", "--dataset", p("pf"), "--out", p("x.json"), "--format", "voc"}, "--format"},
		{[]string{"export", "--dataset", p("nope"), "--out", p("x.json")}, "--dataset"},
	} {
		code, out := run(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.flag) {
			t.Errorf("segtool %s: exit %d, output %q; want exit 2 naming %s", strings.Join(tc.args, " "), code, out, tc.flag)
		}
	}
}
