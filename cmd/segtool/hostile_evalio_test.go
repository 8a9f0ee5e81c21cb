package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

// evalIOFixture draws n demo portraits into a dataset and writes a
// prediction for each: its mask with the left third cleared, so every
// image has its own, imperfect, scores. No model is needed.
func evalIOFixture(t *testing.T, n int) (ds, preds string) {
	t.Helper()
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if code, out := run(t, "--quiet", "demo-data", "--out", src, "--count", strconv.Itoa(n), "--size", "64x80"); code != 0 {
		t.Fatalf("demo-data: exit %d: %s", code, out)
	}
	ds = filepath.Join(dir, "ds")
	if code, out := run(t, "--quiet", "build-dataset", "--src", filepath.Join(src, "folder"), "--out", ds); code != 0 {
		t.Fatalf("build-dataset: exit %d: %s", code, out)
	}
	d, err := dataset.Open(ds)
	if err != nil {
		t.Fatal(err)
	}
	preds = filepath.Join(dir, "preds")
	if err := os.MkdirAll(preds, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range d.Samples {
		m := gocv.IMRead(d.Path(s.Mask), gocv.IMReadGrayScale)
		px := m.ToBytes()
		w := m.Cols()
		m.Close()
		for i := range px {
			if i%w < w/3 {
				px[i] = 0
			}
		}
		p, err := gocv.NewMatFromBytes(len(px)/w, w, gocv.MatTypeCV8UC1, px)
		if err != nil {
			t.Fatal(err)
		}
		if !gocv.IMWrite(filepath.Join(preds, s.ID+".png"), p) {
			t.Fatalf("write the prediction of %s", s.ID)
		}
		p.Close()
	}
	return ds, preds
}

// sameMetrics checks that the run in dir scored all n images, none an
// error, with the metrics of the uninterrupted run in fresh.
func sameMetrics(t *testing.T, dir, fresh string, n int) {
	t.Helper()
	got, want := readResults(t, dir), readResults(t, fresh)
	if got.Counts.Scored != n || got.Counts.Errors != 0 {
		t.Errorf("resumed run's counts %+v, want %d scored and no errors", got.Counts, n)
	}
	if !reflect.DeepEqual(got.Metrics, want.Metrics) || !reflect.DeepEqual(got.Totals, want.Totals) {
		t.Error("the resumed run's metrics differ from an uninterrupted run's")
	}
}

// noErrorRows fails if the journal of the run in dir records an image as
// an error: a failed write must not become a row that --resume skips.
func noErrorRows(t *testing.T, dir string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, eval.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(b, []byte(`"status":"error"`)) || bytes.Contains(b, []byte("not written")) {
		t.Errorf("the journal records a failed write as an image's row:\n%s", b)
	}
}

// smallDisk mounts a tmpfs at a new folder and fills it so that only
// about leave bytes stay free; refill frees the space again. It skips where
// mounting is not allowed (not root, no CAP_SYS_ADMIN): the tests with an
// injected write failure cover those machines.
func smallDisk(t *testing.T, leave int64) (dir string, free func()) {
	t.Helper()
	dir = filepath.Join(t.TempDir(), "disk")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("skipping the full-disk variant: cannot mount a tmpfs here (%v: %s); TestHostileEvalWriteFailureResume injects the failure instead", err, bytes.TrimSpace(out))
	}
	t.Cleanup(func() { exec.Command("umount", dir).Run() })
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	if err := os.WriteFile(filler, make([]byte, int64(st.Bavail)*st.Bsize-leave), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir, func() {
		if err := os.Remove(filler); err != nil {
			t.Fatal(err)
		}
	}
}

// freshEval scores preds on ds in one uninterrupted run, the reference a
// resumed run must match, and returns its folder.
func freshEval(t *testing.T, ds, preds string) string {
	t.Helper()
	fresh := filepath.Join(t.TempDir(), "fresh")
	if code, out := run(t, "--quiet", "eval", "--preds", preds, "--dataset", ds, "--split", "all", "--out", fresh); code != 0 {
		t.Fatalf("fresh eval: exit %d: %s", code, out)
	}
	return fresh
}

// TestHostileEvalENOSPC (probe 9): eval --save-preds --save-overlays on a
// disk that fills up stops with exit 1 naming the full disk, records no
// image as an error, and --resume once there is space scores every image
// with the metrics of an uninterrupted run.
func TestHostileEvalENOSPC(t *testing.T) {
	const n = 8
	ds, preds := evalIOFixture(t, n)
	fresh := freshEval(t, ds, preds)
	disk, free := smallDisk(t, 100<<10) // room for about two of the 35 KB overlays
	out := filepath.Join(disk, "run")
	args := []string{"--quiet", "eval", "--preds", preds, "--dataset", ds, "--split", "all", "--out", out, "--save-preds", "--save-overlays"}
	code, text := run(t, args...)
	if code != 1 || !strings.Contains(text, "no space left on device") {
		t.Fatalf("eval on a full disk: exit %d, %q; want exit 1 naming the full disk", code, text)
	}
	if _, err := os.Stat(filepath.Join(out, eval.ResultsFile)); err == nil {
		t.Error("a run stopped by a full disk wrote results.json")
	}
	noErrorRows(t, out)

	free()
	if code, text := run(t, append(args, "--resume")...); code != 0 {
		t.Fatalf("eval --resume with space again: exit %d: %s", code, text)
	}
	sameMetrics(t, out, fresh, n)
	for _, sub := range []string{eval.PredsDir, eval.OverlaysDir} {
		if es, _ := os.ReadDir(filepath.Join(out, sub)); len(es) != n {
			t.Errorf("%s holds %d files after the resume, want %d", sub, len(es), n)
		}
	}
}

// TestHostileEvalWriteFailureResume (probe 9, where no tmpfs can be
// mounted): an interrupted run is resumed while one prediction's file is
// blocked by a folder. The resume stops with exit 1 naming the sample and
// the file, records no error row, and the next resume scores everything.
func TestHostileEvalWriteFailureResume(t *testing.T) {
	const n = 6
	ds, preds := evalIOFixture(t, n)
	fresh := freshEval(t, ds, preds)
	out := filepath.Join(t.TempDir(), "run")
	args := []string{"--quiet", "eval", "--preds", preds, "--dataset", ds, "--split", "all", "--out", out, "--save-preds"}
	if code, text := run(t, args...); code != 0 {
		t.Fatalf("eval: exit %d: %s", code, text)
	}
	// Make it an interrupted run: two rows journaled, no results.
	journal := filepath.Join(out, eval.JournalFile)
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	if err := os.WriteFile(journal, []byte(lines[0]+lines[1]), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Remove(filepath.Join(out, eval.ResultsFile))
	os.Remove(filepath.Join(out, eval.CSVFile))
	var last eval.Row
	if err := json.Unmarshal([]byte(lines[n-1]), &last); err != nil {
		t.Fatal(err)
	}
	blocked := filepath.Join(out, eval.PredsDir, last.ID+".png")
	os.Remove(blocked)
	if err := os.MkdirAll(filepath.Join(blocked, "x"), 0o755); err != nil {
		t.Fatal(err)
	}

	code, text := run(t, append(args, "--resume")...)
	if code != 1 || !strings.Contains(text, "sample "+last.ID) || !strings.Contains(text, blocked) {
		t.Fatalf("resume with a blocked output: exit %d, %q; want exit 1 naming sample %s and %s", code, text, last.ID, blocked)
	}
	noErrorRows(t, out)

	if err := os.RemoveAll(blocked); err != nil {
		t.Fatal(err)
	}
	if code, text := run(t, append(args, "--resume")...); code != 0 {
		t.Fatalf("second resume: exit %d: %s", code, text)
	}
	sameMetrics(t, out, fresh, n)
}

// fullDiskThenResume runs the job in args (writing to out) on a full
// disk: exit 1 naming the full disk and no reject for it; then, after
// free, --resume finishes a dataset that validates.
func fullDiskThenResume(t *testing.T, args []string, out string, free func()) {
	t.Helper()
	job := args[1]
	code, text := run(t, args...)
	if code != 1 || !strings.Contains(text, "no space left on device") {
		t.Fatalf("%s on a full disk: exit %d, %q; want exit 1 naming the full disk", job, code, text)
	}
	t.Logf("on the full disk: %s", text)
	if b, _ := os.ReadFile(filepath.Join(out, dataset.RejectsFile)); bytes.Contains(b, []byte("no space")) {
		t.Errorf("the full disk was recorded as a reject:\n%s", b)
	}
	free()
	if code, text := run(t, append(args, "--resume")...); code != 0 {
		t.Fatalf("%s --resume with space again: exit %d: %s", job, code, text)
	}
	if code, text := run(t, "validate", out); code != 0 {
		t.Errorf("validate after the resume: exit %d: %s", code, text)
	}
}

// TestHostileBuildDatasetENOSPC: a dataset job that runs out of disk
// stops with exit 1; the failed write is not a reject, and --resume with
// space again finishes a dataset that validates.
func TestHostileBuildDatasetENOSPC(t *testing.T) {
	src := filepath.Join(t.TempDir(), "src")
	if code, out := run(t, "--quiet", "demo-data", "--out", src, "--count", "8", "--size", "64x80"); code != 0 {
		t.Fatalf("demo-data: exit %d: %s", code, out)
	}
	disk, free := smallDisk(t, 48<<10) // about a third of the 8 samples' files
	out := filepath.Join(disk, "ds")
	args := []string{"--quiet", "build-dataset", "--src", filepath.Join(src, "folder"), "--out", out}
	fullDiskThenResume(t, args, out, free)
	d, err := dataset.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Samples) != 8 {
		t.Errorf("%d samples after the resume, want 8", len(d.Samples))
	}
}

// TestHostileEvalNothingScored (probe 10): eval exits 1 when no image was
// scored, saying why, after printing its summary and writing results.json.
func TestHostileEvalNothingScored(t *testing.T) {
	ds, _ := evalIOFixture(t, 3)
	empty := t.TempDir()
	out := filepath.Join(t.TempDir(), "run")
	code, text := run(t, "eval", "--preds", empty, "--dataset", ds, "--split", "all", "--out", out)
	if code != 1 || !strings.Contains(flat(text), "no image was scored: of 3 selected images, 3 are errors") || !strings.Contains(flat(text), "0 of 3 images scored") {
		t.Errorf("eval with no predictions at all: exit %d, %q; want exit 1 with the summary and the reason", code, text)
	}
	if r := readResults(t, out); r.Counts.Errors != 3 || len(r.Problems) != 3 {
		t.Errorf("results.json counts %+v with %d problems, want the 3 errors", r.Counts, len(r.Problems))
	}
}

// TestHostileAugmentENOSPC: the same for augment: exit 1, no reject for
// the full disk, and --resume finishes a valid dataset.
func TestHostileAugmentENOSPC(t *testing.T) {
	src := augmentSource(t)
	disk, free := smallDisk(t, 64<<10)
	out := filepath.Join(disk, "aug")
	args := []string{"--quiet", "augment", "--dataset", src, "--out", out, "--config", augmentConfig, "--copies", "4"}
	fullDiskThenResume(t, args, out, free)
}
