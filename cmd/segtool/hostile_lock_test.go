package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/segtool/segtool/dataset"
)

// startMain starts segtool's main in a child process with args.
func startMain(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"-test.run=^TestMainProcess$", "--"}, args...)...)
	cmd.Env = append(os.Environ(), mainEnv+"=1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

// exitOf waits for cmd and returns its exit code.
func exitOf(t *testing.T, cmd *exec.Cmd) int {
	t.Helper()
	err := cmd.Wait()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		return ee.ExitCode()
	}
	t.Fatal(err)
	return -1
}

// lockDemo makes demo images and a complete dataset built from them.
func lockDemo(t *testing.T, count string) (dir, src, ds string) {
	t.Helper()
	dir = t.TempDir()
	if code, out := run(t, "--quiet", "demo-data", "--out", filepath.Join(dir, "demo"), "--count", count, "--seed", "3"); code != 0 {
		t.Fatalf("demo-data: exit %d: %s", code, out)
	}
	src, ds = filepath.Join(dir, "demo", "folder"), filepath.Join(dir, "ds")
	if code, out := run(t, "--quiet", "build-dataset", "--src", src, "--out", ds); code != 0 {
		t.Fatalf("build-dataset: exit %d: %s", code, out)
	}
	return dir, src, ds
}

// TestHostileConcurrentForce is probe 4: a second build-dataset --force
// into an output another one is writing exits 2 naming the first's PID,
// and the dataset left validates clean, with nothing left beside it.
func TestHostileConcurrentForce(t *testing.T) {
	dir, src, ds := lockDemo(t, "24")
	args := []string{"--quiet", "--workers", "1", "build-dataset", "--src", src, "--out", ds, "--force"}

	// The first is paused while it holds the lock, so the second surely
	// runs beside it.
	first, firstOut := startMain(t, args...)
	exited := make(chan int, 1)
	go func() { exited <- exitOf(t, first) }()
	lockFile, _ := dataset.LockPath(ds)
	// The PID is written once the lock is held; the file alone may be
	// there a moment before.
	holds := func() bool {
		b, _ := os.ReadFile(lockFile)
		return strings.TrimSpace(string(b)) == strconv.Itoa(first.Process.Pid)
	}
	for !holds() {
		select {
		case c := <-exited:
			t.Fatalf("first writer exited %d before it was seen holding the lock: %s", c, firstOut)
		case <-time.After(time.Millisecond):
		}
	}
	first.Process.Signal(syscall.SIGSTOP)
	code, out := run(t, args...)
	first.Process.Signal(syscall.SIGCONT)
	if c := <-exited; c != 0 {
		t.Fatalf("first writer: exit %d: %s", c, firstOut)
	}
	if code != 2 || !strings.Contains(out, "segtool process "+strconv.Itoa(first.Process.Pid)) {
		t.Errorf("second writer: exit %d: %s; want exit 2 naming PID %d", code, out, first.Process.Pid)
	}
	if code, out := run(t, "validate", ds); code != 0 || !strings.Contains(flat(out), "0 problems") {
		t.Errorf("validate after the second writer: exit %d: %s", code, out)
	}

	// A writer killed while it holds the lock leaves no lock behind.
	killed, killedOut := startMain(t, args...)
	for deadline := time.Now().Add(time.Minute); !dataset.IsFile(lockFile); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			killed.Process.Kill()
			t.Fatalf("no lock within a minute: %s", killedOut)
		}
	}
	killed.Process.Signal(syscall.SIGKILL)
	killed.Wait()
	if code, out := run(t, args...); code != 0 {
		t.Errorf("--force after a writer was killed: exit %d: %s", code, out)
	}

	// Both at once: one wins; a loser exits 2 naming the winner.
	a, aOut := startMain(t, args...)
	b, bOut := startMain(t, args...)
	ca, cb := exitOf(t, a), exitOf(t, b)
	for _, r := range []struct {
		code      int
		out       *bytes.Buffer
		other     *exec.Cmd
		otherCode int
		name      string
	}{{ca, aOut, b, cb, "a"}, {cb, bOut, a, ca, "b"}} {
		switch {
		case r.code == 0:
		case r.code == 2 && r.otherCode == 0 && strings.Contains(r.out.String(), strconv.Itoa(r.other.Process.Pid)):
		default:
			t.Errorf("writer %s: exit %d (other %d): %s", r.name, r.code, r.otherCode, r.out)
		}
	}
	if ca != 0 && cb != 0 {
		t.Error("neither concurrent writer succeeded")
	}

	if code, out = run(t, "validate", ds); code != 0 || !strings.Contains(flat(out), "0 problems") {
		t.Errorf("validate after concurrent writers: exit %d: %s", code, out)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if e.Name() != "ds" && e.Name() != "demo" {
			t.Errorf("left beside the output: %s", e.Name())
		}
	}
}

// TestHostileForceKeepsForeignFiles is probe 5: --force replaces only a
// folder segtool made, never one holding other files, and never the
// source, a folder inside it or a folder that contains it.
func TestHostileForceKeepsForeignFiles(t *testing.T) {
	dir, src, ds := lockDemo(t, "3")
	srcFiles := func() int {
		n := 0
		filepath.WalkDir(src, func(string, os.DirEntry, error) error { n++; return nil })
		return n
	}
	before := srcFiles()
	for _, out := range []string{src, filepath.Join(src, "nested"), filepath.Join(dir, "demo")} {
		code, output := run(t, "--quiet", "build-dataset", "--src", src, "--out", out, "--force")
		if code != 2 || !strings.Contains(output, "--out") || !strings.Contains(output, "overlaps the input") {
			t.Errorf("build-dataset --src %s --out %s --force: exit %d: %s; want exit 2 on --out", src, out, code, output)
		}
	}
	if n := srcFiles(); n != before {
		t.Errorf("source holds %d entries after the refused runs, %d before", n, before)
	}

	// A folder segtool did not make.
	mine := filepath.Join(dir, "mine")
	os.MkdirAll(mine, 0o755)
	os.WriteFile(filepath.Join(mine, "thesis.tex"), []byte("x"), 0o644)
	code, output := run(t, "--quiet", "build-dataset", "--src", src, "--out", mine, "--force")
	if code != 2 || !strings.Contains(output, "no dataset.json") {
		t.Errorf("--force over a foreign folder: exit %d: %s", code, output)
	}
	// A dataset with a file of the user's in it.
	notes := filepath.Join(ds, "notes.txt")
	os.WriteFile(notes, []byte("mine"), 0o644)
	code, output = run(t, "--quiet", "build-dataset", "--src", src, "--out", ds, "--force")
	if code != 2 || !strings.Contains(output, "notes.txt") {
		t.Errorf("--force over a dataset holding notes.txt: exit %d: %s", code, output)
	}
	for _, p := range []string{filepath.Join(mine, "thesis.tex"), notes} {
		if !dataset.IsFile(p) {
			t.Errorf("%s deleted", p)
		}
	}
	// augment may not replace the dataset it reads.
	code, output = run(t, "--quiet", "augment", "--config", "../../configs/augment/imgaug-portrait.yaml", "--dataset", ds, "--out", ds, "--force")
	if code != 2 || !strings.Contains(output, "--out") {
		t.Errorf("augment --dataset X --out X --force: exit %d: %s", code, output)
	}
	os.Remove(notes)
	if code, output := run(t, "--quiet", "build-dataset", "--src", src, "--out", ds, "--force"); code != 0 {
		t.Errorf("--force over segtool's own dataset: exit %d: %s", code, output)
	}
}
