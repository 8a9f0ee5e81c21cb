package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segtool/segtool/eval"
)

// mainEnv makes the test binary run segtool's main with the arguments
// after "--", so a test can kill a real segtool process.
const mainEnv = "SEGTOOL_TEST_RUN_MAIN"

func TestMainProcess(t *testing.T) {
	if os.Getenv(mainEnv) != "1" {
		return
	}
	for i, a := range os.Args {
		if a == "--" {
			os.Args = append([]string{"segtool"}, os.Args[i+1:]...)
			break
		}
	}
	main()
}

// TestEvalResumeAfterKill kills a segtool eval process (SIGKILL) once it
// has finished an image, resumes it, and checks that the metrics equal an
// uninterrupted run's and that no finished image was redone.
func TestEvalResumeAfterKill(t *testing.T) {
	needORT(t)
	if testing.Short() {
		t.Skip("skipping in -short mode: runs unet-aspp at 800x600")
	}
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if code, out := run(t, "--quiet", "demo-data", "--out", src, "--count", "5", "--size", "64x80"); code != 0 {
		t.Fatalf("demo-data: exit %d: %s", code, out)
	}
	ds := filepath.Join(dir, "ds")
	if code, out := run(t, "--quiet", "build-dataset", "--src", filepath.Join(src, "folder"), "--out", ds); code != 0 {
		t.Fatalf("build-dataset: exit %d: %s", code, out)
	}
	// About half a second an image on two cores: slow enough to kill.
	model := filepath.Join(dir, "unet_aspp.onnx")
	if code, out := run(t, "--quiet", "models", "build", "unet-aspp", "--out", model); code != 0 {
		t.Fatalf("models build: exit %d: %s", code, out)
	}
	args := func(out string, extra ...string) []string {
		return append([]string{"--quiet", "--workers", "1", "eval", "--model", model, "--dataset", ds, "--split", "all", "--warmup", "0", "--out", out}, extra...)
	}

	cut := filepath.Join(dir, "cut")
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestMainProcess$", "--"}, args(cut)...)...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	journal := filepath.Join(cut, eval.JournalFile)
	deadline := time.Now().Add(60 * time.Second)
	for {
		b, _ := os.ReadFile(journal)
		if bytes.Count(b, []byte("\n")) >= 1 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no image finished within a minute: %s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	if _, err := os.Stat(filepath.Join(cut, eval.ResultsFile)); err == nil {
		t.Skip("the run finished before the kill; nothing to resume")
	}
	before, _ := os.ReadFile(journal)
	kept := bytes.Count(before, []byte("\n"))

	if code, out := run(t, args(cut, "--resume")...); code != 0 {
		t.Fatalf("eval --resume: exit %d: %s", code, out)
	}
	full := filepath.Join(dir, "full")
	if code, out := run(t, args(full)...); code != 0 {
		t.Fatalf("eval: exit %d: %s", code, out)
	}
	a, b := readResults(t, cut), readResults(t, full)
	if a.Counts.Resumed != kept || a.Counts.Scored != 5 {
		t.Errorf("resumed run counts %+v, want %d resumed of 5 scored", a.Counts, kept)
	}
	if a.Timing.Images != 5-kept {
		t.Errorf("resumed run timed %d images, want the %d it had left", a.Timing.Images, 5-kept)
	}
	if !reflect.DeepEqual(a.Metrics, b.Metrics) || !reflect.DeepEqual(a.Sweep, b.Sweep) || !reflect.DeepEqual(a.Totals, b.Totals) {
		t.Error("metrics after kill and --resume differ from an uninterrupted run's")
	}
	if !strings.Contains(string(before), `"status":"ok"`) {
		t.Errorf("journal before resume: %s", before)
	}
}
