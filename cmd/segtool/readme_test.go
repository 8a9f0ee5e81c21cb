package main

import (
	"bufio"
	"fmt"
	"github.com/segtool/segtool/models"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/segtool/segtool/internal/shareddata"
)

// readmeNeeds marks a README example that needs data the test cannot draw:
// `segtool ... # needs: the PFCN download`. The test skips it, saying so.
const readmeNeeds = "# needs:"

// readmeExample is one command of a ```sh block of README.md.
type readmeExample struct {
	line int    // 1-based line in README.md where it starts
	cmd  string // the shell command, continuation lines joined
}

// readmeExamples returns every segtool command of README.md's ```sh
// blocks, in order. make lines are left to make demo and make test.
func readmeExamples(path string) ([]readmeExample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var exs []readmeExample
	in := false
	var cur *readmeExample
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		l := sc.Text()
		if strings.HasPrefix(l, "```") {
			in = !in && strings.TrimSpace(strings.TrimPrefix(l, "```")) == "sh"
			continue
		}
		if !in {
			continue
		}
		if cur != nil {
			cur.cmd += " " + strings.TrimSpace(strings.TrimSuffix(l, "\\"))
		} else if t := strings.TrimSpace(l); strings.HasPrefix(t, "segtool ") || strings.HasPrefix(t, "bin/segtool ") {
			exs = append(exs, readmeExample{line: n, cmd: strings.TrimSpace(strings.TrimSuffix(t, "\\"))})
			cur = &exs[len(exs)-1]
		}
		if !strings.HasSuffix(l, "\\") {
			cur = nil
		}
	}
	return exs, sc.Err()
}

// readmeExtraArgs keeps the examples small enough for make test: flags
// appended to every command that contains the text.
var readmeExtraArgs = []struct{ text, flags string }{
	{"demo-data ", "--count 6 --size 128x160"},
	{"unet_aspp.onnx", "--size 160x120"}, // built, evaluated and benched at a fifth of 800x600
	{"bench --model", "-n 2"},
	{"--src raw ", "--split 0.5,0.25,0.25"}, // a test split from a few samples, as a real download has
}

// TestReadmeExamples runs every shell example of README.md in order in one
// folder, as a reader would, with the raw downloads and models the examples
// name stood in for by the demo data and built models (readmeWorld). Each
// must exit 0; a later example that collides with an earlier one's output
// fails here.
func TestReadmeExamples(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping in -short mode: runs every README example")
	}
	needORT(t)
	// The examples run in a temp folder, where the search for .ort beside
	// the checkout finds nothing: hand the library found from here on.
	lib, err := models.LibraryPath()
	if err != nil {
		t.Fatal(err)
	}
	if lib, err = filepath.Abs(lib); err != nil {
		t.Fatal(err)
	}
	t.Setenv(models.LibEnv, lib)
	exs, err := readmeExamples("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if len(exs) < 20 {
		t.Fatalf("found only %d examples in README.md: is the parser reading ```sh blocks?", len(exs))
	}
	dir := t.TempDir()
	binDir := filepath.Join(dir, ".bin")
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	// segtool and bin/segtool run this test binary's main (TestMainProcess).
	wrapper := fmt.Sprintf("#!/bin/sh\n%s=1 exec %q -test.run='^TestMainProcess$' -- \"$@\"\n", mainEnv, self)
	world := filepath.Join(dir, "w")
	for _, p := range []string{filepath.Join(binDir, "segtool"), filepath.Join(world, "bin", "segtool")} {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(wrapper), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	missing := readmeWorld(t, world, binDir)

	start := time.Now()
	for _, ex := range exs {
		cmd := ex.cmd
		if i := strings.Index(cmd, readmeNeeds); i >= 0 {
			t.Logf("README.md:%d skipped, it needs%s", ex.line, cmd[i+len(readmeNeeds):])
			continue
		}
		if name := missingName(cmd, missing); name != "" {
			t.Logf("README.md:%d skipped: %s", ex.line, missing[name])
			continue
		}
		cmd = withExtraArgs(cmd)
		c := exec.Command("bash", "-c", cmd)
		c.Dir = world
		c.Env = append(os.Environ(), "PATH="+binDir+string(os.PathListSeparator)+os.Getenv("PATH"))
		t0 := time.Now()
		out, err := c.CombinedOutput()
		if err != nil {
			t.Errorf("README.md:%d: %s: %v\n%s", ex.line, cmd, err, tail(string(out), 1500))
			continue
		}
		t.Logf("README.md:%d ok in %.1fs: %s", ex.line, time.Since(t0).Seconds(), cmd)
	}
	t.Logf("%d examples in %.0fs", len(exs), time.Since(start).Seconds())
}

// withExtraArgs appends readmeExtraArgs's flags to cmd, before its
// comment.
func withExtraArgs(cmd string) string {
	body, comment, _ := strings.Cut(cmd, " #")
	for _, x := range readmeExtraArgs {
		if strings.Contains(body+" ", x.text) {
			body = strings.TrimRight(body, " ") + " " + x.flags
		}
	}
	if comment != "" {
		return body + " #" + comment
	}
	return body
}

// missingName returns the name in cmd that the world could not provide.
func missingName(cmd string, missing map[string]string) string {
	for _, w := range strings.Fields(cmd) {
		if _, ok := missing[w]; ok {
			return w
		}
	}
	return ""
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

// readmeWorld fills dir with what the README's examples take as given, and
// returns the names it could not provide, each with the reason. The
// stand-ins:
//
//	raw                     demo folder layout without trimaps (images, masks, alphas), 12 of 96x120
//	PFCN                    demo portraits as PFCN matting (training/ and testing/ NNNNN.jpg + NNNNN_matte.png)
//	matting_human_half      demo portraits as AISegment (clip_img/ JPEG, matting/ RGBA cut-outs)
//	PennFudanPed            demo Penn-Fudan layout, 2 of 256x320 (room for 256 crops)
//	cutouts, p3m/cutouts    demo RGBA cut-outs
//	photos, frames          demo portraits; voc: 20 demo Penn-Fudan images (composition-1k takes 20)
//	Adobe/test              demo portraits as fg/ and alpha/
//	dim                     a dataset of the demo folder layout, human trimaps included
//	me.jpg, big.jpg, beach.jpg, office.jpg   demo portraits
//	torch_out, my_preds     the demo masks, one <id>.png per sample of ds
//	configs/regression.yaml the repository's
//	runs/old, runs/new, baselines/release    oracle runs on a dataset whose images are its
//	                        masks, so they pass configs/regression.yaml's floors
//	m.onnx, big.onnx        mobilenetv2-unet built at 160x128 (a fixed size, as an export has)
//	SINet.onnx, prisma_nchw.onnx  ../shared/models
//	my_model.onnx           SINet.onnx, else m.onnx
func readmeWorld(t *testing.T, dir, binDir string) map[string]string {
	t.Helper()
	missing := map[string]string{}
	segtool := func(args ...string) {
		t.Helper()
		c := exec.Command(filepath.Join(binDir, "segtool"), append([]string{"--quiet"}, args...)...)
		c.Dir = dir
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("preparing the README's world: segtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	src := ".readme-src"
	segtool("demo-data", "--out", src, "--count", "12", "--size", "96x120")
	big := ".readme-big"
	segtool("demo-data", "--out", big, "--count", "20", "--size", "256x320")
	at := func(p ...string) string { return filepath.Join(append([]string{dir}, p...)...) }
	stems := []string{}
	imgs, _ := filepath.Glob(at(src, "folder", "images", "*.jpg"))
	for _, p := range imgs {
		stems = append(stems, strings.TrimSuffix(filepath.Base(p), ".jpg"))
	}
	cutouts, _ := filepath.Glob(at(src, "cutouts", "*.png"))
	if len(stems) == 0 || len(cutouts) == 0 {
		t.Fatal("demo-data wrote no images or no cut-outs")
	}
	cp := func(from, to string) {
		t.Helper()
		copyFile(t, at(from), at(to))
	}
	for i, s := range stems {
		img, alpha, mask := filepath.Join(src, "folder", "images", s+".jpg"), filepath.Join(src, "folder", "alphas", s+".png"), filepath.Join(src, "folder", "masks", s+".png")
		cutout := filepath.Join(src, "cutouts", filepath.Base(cutouts[i%len(cutouts)]))
		cp(img, filepath.Join("raw", "images", s+".jpg"))
		cp(mask, filepath.Join("raw", "masks", s+".png"))
		cp(alpha, filepath.Join("raw", "alphas", s+".png"))
		split := "training"
		if i >= 4 {
			split = "testing"
		}
		cp(img, filepath.Join("PFCN", split, fmt.Sprintf("%05d.jpg", i+1)))
		cp(alpha, filepath.Join("PFCN", split, fmt.Sprintf("%05d_matte.png", i+1)))
		cp(img, filepath.Join("matting_human_half", "clip_img", "1803151818", "clip_00000000", s+".jpg"))
		cp(cutout, filepath.Join("matting_human_half", "matting", "1803151818", "matting_00000000", s+".png"))
		cp(cutout, filepath.Join("cutouts", filepath.Base(cutout)))
		cp(cutout, filepath.Join("p3m", "cutouts", filepath.Base(cutout)))
		cp(img, filepath.Join("photos", s+".jpg"))
		cp(img, filepath.Join("frames", s+".jpg"))
		cp(img, filepath.Join("Adobe", "test", "fg", s+".jpg"))
		cp(alpha, filepath.Join("Adobe", "test", "alpha", s+".png"))
		cp(mask, filepath.Join("torch_out", s+".png"))
		cp(mask, filepath.Join("my_preds", s+".png"))
	}
	for _, name := range []string{"me.jpg", "big.jpg", "beach.jpg", "office.jpg"} {
		cp(filepath.Join(src, "folder", "images", stems[0]+".jpg"), name)
	}
	pf, _ := filepath.Glob(at(big, "pennfudan", "PNGImages", "*.png"))
	for i, p := range pf {
		stem := strings.TrimSuffix(filepath.Base(p), ".png")
		cp(filepath.Join(big, "pennfudan", "PNGImages", stem+".png"), filepath.Join("voc", stem+".png"))
		if i < 2 {
			for _, f := range [][2]string{{"PNGImages", ".png"}, {"PedMasks", "_mask.png"}, {"Annotation", ".txt"}} {
				cp(filepath.Join(big, "pennfudan", f[0], stem+f[1]), filepath.Join("PennFudanPed", f[0], stem+f[1]))
			}
		}
	}
	// The oracle is exactly right on a dataset whose images are its masks.
	for _, s := range stems {
		cp(filepath.Join(src, "folder", "masks", s+".png"), filepath.Join(src, "gt", "images", s+".png"))
		cp(filepath.Join(src, "folder", "masks", s+".png"), filepath.Join(src, "gt", "masks", s+".png"))
	}
	copyFile(t, "../../configs/regression.yaml", at("configs", "regression.yaml"))
	segtool("build-dataset", "--src", filepath.Join(src, "folder"), "--out", "dim")
	segtool("build-dataset", "--src", filepath.Join(src, "gt"), "--out", filepath.Join(src, "gt-ds"))
	segtool("models", "build", "oracle", "--out", filepath.Join(src, "oracle.onnx"))
	for _, run := range []string{"runs/old", "runs/new", "baselines/release"} {
		segtool("eval", "--model", filepath.Join(src, "oracle.onnx"), "--size", "96x120", "--dataset", filepath.Join(src, "gt-ds"), "--split", "all", "--out", run)
	}
	segtool("models", "build", "mobilenetv2-unet", "--size", "160x128", "--out", "m.onnx")
	cp("m.onnx", "big.onnx")
	shared, ok := shareddata.Find()
	for _, m := range []string{"SINet.onnx", "prisma_nchw.onnx"} {
		if p := filepath.Join(shared, "models", m); ok && fileExists(p) {
			copyFile(t, p, at(m))
		} else {
			missing[m] = m + ": not in ../shared/models"
		}
	}
	if _, gone := missing["SINet.onnx"]; gone {
		cp("m.onnx", "my_model.onnx")
	} else {
		cp("SINet.onnx", "my_model.onnx")
	}
	return missing
}

func fileExists(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err == nil {
		if err = os.MkdirAll(filepath.Dir(to), 0o755); err == nil {
			err = os.WriteFile(to, data, 0o644)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
}
