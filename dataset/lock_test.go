package dataset

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestLockOutputExcludesASecondHolder(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ds")
	l, err := LockOutput(out)
	if err != nil {
		t.Fatal(err)
	}
	// flock excludes a second open file even in the same process.
	_, err = LockOutput(out)
	var le *LockError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) || le.PID != os.Getpid() {
		t.Fatalf("second lock: %v; want a LockError naming PID %d", err, os.Getpid())
	}
	p, _ := LockPath(out)
	if filepath.Dir(p) != filepath.Dir(out) {
		t.Errorf("lock file %s is not beside %s", p, out)
	}
	l.Release()
	l.Release()
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("lock file left after release: %v", err)
	}
	l2, err := LockOutput(out)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	l2.Release()
}

func TestLockOutputIgnoresAStaleFile(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ds")
	p, _ := LockPath(out)
	// What a killed holder leaves: the file with its PID, and no flock.
	if err := os.WriteFile(p, []byte("999999\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	l, err := LockOutput(out)
	if err != nil {
		t.Fatalf("stale lock file blocks: %v", err)
	}
	defer l.Release()
	if b, _ := os.ReadFile(p); strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		t.Errorf("lock file holds %q, want this PID", b)
	}
}

// writeTiny commits a one-row dataset at out through a Writer.
func writeTiny(t *testing.T, out string, opt WriterOptions) error {
	t.Helper()
	w, err := NewWriter(out, opt)
	if err != nil {
		return err
	}
	img, isum, err := w.WriteBytes(ImagesDir, "a", ".png", []byte("image"))
	if err != nil {
		t.Fatal(err)
	}
	msk, msum, err := w.WriteBytes(MasksDir, "a", ".png", []byte("mask"))
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Add(Sample{ID: "a", Split: "train", Image: img, Mask: msk, SHA256: map[string]string{img: isum, msk: msum}}); err != nil {
		t.Fatal(err)
	}
	return w.Commit(Info{Name: "tiny"})
}

func TestWriterHoldsTheLockUntilCommit(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ds")
	w, err := NewWriter(out, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(out, WriterOptions{Force: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second writer under Force: %v; want ErrLocked", err)
	}
	if _, _, err := OpenUpdate(out); !errors.Is(err, ErrLocked) {
		t.Fatalf("updater beside a writer: %v; want ErrLocked", err)
	}
	if err := w.Commit(Info{}); err != nil {
		t.Fatal(err)
	}
	if err := writeTiny(t, out, WriterOptions{Force: true}); err != nil {
		t.Fatalf("force after the commit: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(out))
	for _, e := range entries {
		if e.Name() != "ds" {
			t.Errorf("left beside the output: %s", e.Name())
		}
	}
	u, _, err := OpenUpdate(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewWriter(out, WriterOptions{Force: true}); !errors.Is(err, ErrLocked) {
		t.Fatalf("writer beside an updater: %v; want ErrLocked", err)
	}
	if _, _, err := u.Commit(nil, nil); err != nil {
		t.Fatal(err)
	}
	w, err = NewWriter(out, WriterOptions{Resume: true})
	if err != nil {
		t.Fatalf("writer after the update: %v", err)
	}
	w.Abort()
}

func TestForceReplacesOnlySegtoolFolders(t *testing.T) {
	root := t.TempDir()
	foreign := filepath.Join(root, "photos")
	os.MkdirAll(foreign, 0o755)
	os.WriteFile(filepath.Join(foreign, "holiday.jpg"), []byte("x"), 0o644)
	if err := writeTiny(t, foreign, WriterOptions{Force: true}); !errors.Is(err, ErrForeign) {
		t.Errorf("force over a folder segtool did not make: %v; want ErrForeign", err)
	}
	if _, err := os.Stat(filepath.Join(foreign, "holiday.jpg")); err != nil {
		t.Errorf("foreign file gone: %v", err)
	}

	ds := filepath.Join(root, "ds")
	if err := writeTiny(t, ds, WriterOptions{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(ds, "preview.png"), []byte("sheet"), 0o644)
	os.WriteFile(filepath.Join(ds, "notes.txt"), []byte("mine"), 0o644)
	err := writeTiny(t, ds, WriterOptions{Force: true, Owned: []string{"preview.png"}})
	if !errors.Is(err, ErrForeign) || !strings.Contains(err.Error(), "notes.txt") {
		t.Errorf("force over a dataset with a foreign file: %v; want ErrForeign naming notes.txt", err)
	}
	if _, err := os.Stat(filepath.Join(ds, "notes.txt")); err != nil {
		t.Errorf("notes.txt gone: %v", err)
	}
	os.Remove(filepath.Join(ds, "notes.txt"))
	if err := writeTiny(t, ds, WriterOptions{Force: true, Owned: []string{"preview.png"}}); err != nil {
		t.Errorf("force over segtool's own dataset: %v", err)
	}
}

func TestWriterRefusesAnOutputOverlappingAnInput(t *testing.T) {
	root := t.TempDir()
	src := filepath.Join(root, "src")
	os.MkdirAll(filepath.Join(src, "sub"), 0o755)
	os.WriteFile(filepath.Join(src, "a.jpg"), []byte("x"), 0o644)
	for _, out := range []string{src, filepath.Join(src, "sub", "ds"), root, src + "/."} {
		for _, force := range []bool{false, true} {
			err := writeTiny(t, out, WriterOptions{Force: force, Inputs: []string{src}})
			var oe *OptionError
			if !errors.As(err, &oe) || oe.Field != "Out" {
				t.Errorf("out %s (force %v) over input %s: %v; want an OptionError on Out", out, force, src, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(src, "sub", "ds")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("output made inside the input: %v", err)
	}
	if err := writeTiny(t, filepath.Join(root, "ds"), WriterOptions{Inputs: []string{src, "procedural:noise"}}); err != nil {
		t.Errorf("output beside the input: %v", err)
	}
}
