package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/urfave/cli/v2"
)

// trimapDataset draws 3 small demo portraits (with trimaps/) and builds
// a dataset from them.
func trimapDataset(t *testing.T) (src, ds string) {
	t.Helper()
	dir := t.TempDir()
	src = filepath.Join(dir, "src")
	if code, out := run(t, "--quiet", "demo-data", "--out", src, "--count", "3", "--size", "64x80"); code != 0 {
		t.Fatalf("demo-data: exit %d: %s", code, out)
	}
	ds = filepath.Join(dir, "ds")
	if code, out := run(t, "--quiet", "build-dataset", "--src", filepath.Join(src, "folder"), "--out", ds); code != 0 {
		t.Fatalf("build-dataset: exit %d: %s", code, out)
	}
	return src, ds
}

func TestTrimapCommand(t *testing.T) {
	_, ds := trimapDataset(t)
	args := []string{"--workers", "2", "trimap", "--dataset", ds, "--out-dir", "trimaps-sp", "--report"}
	code, out := run(t, args...)
	if code != 0 {
		t.Fatalf("trimap: exit %d: %s", code, out)
	}
	out = strings.Join(strings.Fields(out), " ") // undo the summary's line wrapping
	for _, want := range []string{"recall", "area ratio", "mean (3)", "3 made (3 files written)", "images/s", "trimap_report.json"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, f := range []string{"trimaps-sp/portrait_0000.png", "trimap_report.json"} {
		if _, err := os.Stat(filepath.Join(ds, f)); err != nil {
			t.Error(err)
		}
	}
	if code, out := run(t, "validate", ds); code != 0 {
		t.Errorf("validate: exit %d: %s", code, out)
	}
	code, out = run(t, args...)
	if out = strings.Join(strings.Fields(out), " "); code != 0 || !strings.Contains(flat(out), "0 made (0 files written), 3 up to date") || !strings.Contains(flat(out), "manifest unchanged") {
		t.Errorf("second run: exit %d: %s", code, out)
	}
	code, out = run(t, "--log-format", "json", "trimap", "--dataset", ds, "--method", "erode", "--width-range", "1,5", "--seed", "2", "--out-dir", "trimaps-morph")
	if code != 0 || !strings.Contains(out, `"method":"erode"`) || !strings.Contains(out, `"made":3`) {
		t.Errorf("erode, json: exit %d: %s", code, out)
	}
}

func TestTrimapExitCodes(t *testing.T) {
	_, ds := trimapDataset(t)
	base := []string{"trimap", "--dataset", ds, "--out-dir", "trimaps-sp"}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"trimap", "--dataset", ds}, "--force"}, // would overwrite the human trimaps
		{[]string{"trimap", "--dataset", ds}, "--out-dir"},
		{[]string{"trimap"}, "--dataset"},
		{append(base, "--superpixels", "0"), "--superpixels"},
		{append(base, "--superpixels", "-5"), "--superpixels"},
		{append(base, "--superpixels", "999999"), "--superpixels"}, // more than 64x80 pixels
		{append(base, "--superpixels", "10", "--region-size", "8"), "--region-size"},
		{append(base, "--compactness", "0"), "--compactness"},
		{append(base, "--fg-thresh", "1.5"), "--fg-thresh"},
		{append(base, "--min-band", "-1"), "--min-band"},
		{append(base, "--method", "grabcut"), "--method"},
		{append(base, "--from", "trimap"), "--from"},
		{append(base, "--from", "preds:/no/such/dir"), "--from"},
		{append(base, "--width", "5"), "--width"},
		{append(base, "--method", "erode", "--width-range", "9,2"), "--width-range"},
		{append(base, "--method", "erode", "--width", "3", "--width-range", "1,9"), "--width-range"},
		{append(base, "--method", "erode", "--compactness", "5"), "--compactness"},
		{[]string{"trimap", "--dataset", ds, "--out-dir", "../x"}, "--out-dir"},
		{[]string{"trimap", "--dataset", ds + "-missing"}, "--dataset"},
	} {
		code, out := run(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.flag) {
			t.Errorf("segtool %s: exit %d, output %q; want exit 2 naming %s", strings.Join(tc.args, " "), code, out, tc.flag)
		}
	}
	// --force replaces them.
	if code, out := run(t, "trimap", "--dataset", ds, "--force", "--report"); code != 0 || !strings.Contains(flat(out), "3 made") {
		t.Errorf("--force: exit %d: %s", code, out)
	}
	if code, out := run(t, "validate", ds); code != 0 {
		t.Errorf("validate after --force: exit %d: %s", code, out)
	}
}

func TestTrimapHelpTeaches(t *testing.T) {
	helpTeaches(t, "trimap", "Examples", "--method", "preds:DIR", "--width-range", "--report", "--force", "Gupta", "rejects.jsonl")
}

func TestSuperpixelsCommand(t *testing.T) {
	src, _ := trimapDataset(t)
	img := filepath.Join(src, "folder", "images", "portrait_0000.jpg")
	out := filepath.Join(t.TempDir(), "sp.png")
	code, output := run(t, "superpixels", "--image", img, "--out", out, "--superpixels", "20", "--compactness", "5")
	if code != 0 || !strings.Contains(output, "superpixels") {
		t.Fatalf("superpixels: exit %d: %s", code, output)
	}
	b, err := os.ReadFile(out)
	if err != nil || !bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) {
		t.Errorf("%s is not a PNG: %v", out, err)
	}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"superpixels", "--image", img, "--out", out, "--superpixels", "0"}, "--superpixels"},
		{[]string{"superpixels", "--image", img, "--out", out, "--superpixels", "6000"}, "--superpixels"}, // 64x80 = 5120 pixels
		{[]string{"superpixels", "--image", img + ".missing", "--out", out}, "--image"},
		{[]string{"superpixels", "--image", img, "--out", "sp.jpg"}, "--out"},
		{[]string{"superpixels", "--image", img}, "--out"},
	} {
		code, output := run(t, tc.args...)
		if code != 2 || !strings.Contains(output, tc.flag) {
			t.Errorf("segtool %s: exit %d, output %q; want exit 2 naming %s", strings.Join(tc.args, " "), code, output, tc.flag)
		}
	}
}

// benchApp returns segtool with `bench slic` reachable: through the real
// bench command once it lists slic, else through a stand-in parent.
func benchApp() *cli.App {
	app := newApp()
	for _, c := range app.Commands {
		if c.Name == "bench" {
			for _, s := range c.Subcommands {
				if s.Name == "slic" {
					return app
				}
			}
		}
	}
	slic := benchSlicCommand()
	slic.OnUsageError = onUsageError
	var cmds []*cli.Command
	for _, c := range app.Commands {
		if c.Name != "bench" {
			cmds = append(cmds, c)
		}
	}
	app.Commands = append(cmds, &cli.Command{Name: "bench", Subcommands: []*cli.Command{slic}})
	return app
}

// runBench is run (main_test.go) on benchApp.
func runBench(t *testing.T, args ...string) (int, string) {
	t.Helper()
	return runApp(t, benchApp(), args...)
}

func TestBenchSlic(t *testing.T) {
	code, out := runBench(t, "bench", "slic", "--size", "64x64", "-n", "1", "--superpixels", "16")
	if code != 0 {
		t.Fatalf("bench slic: exit %d: %s", code, out)
	}
	for _, want := range []string{"ms/MP", "all cores", "speed-up", "64x64"} {
		if !strings.Contains(out, want) {
			t.Errorf("bench slic output lacks %q:\n%s", want, out)
		}
	}
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"bench", "slic", "--size", "64x64", "-n", "0"}, "-n"},
		{[]string{"bench", "slic", "--size", "64x64", "--superpixels", "0"}, "--superpixels"},
		{[]string{"bench", "slic", "--size", "64x64", "--superpixels", "5000"}, "--superpixels"},
		{[]string{"bench", "slic", "--size", "64"}, "--size"},
		{[]string{"bench", "slic", "--size", "64x64", "--image", "x.png"}, "--size"},
	} {
		code, out := runBench(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.flag) {
			t.Errorf("segtool %s: exit %d, output %q; want exit 2 naming %s", strings.Join(tc.args, " "), code, out, tc.flag)
		}
	}
}
