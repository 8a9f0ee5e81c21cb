package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/segtool/segtool/dataset"
	"gocv.io/x/gocv"
)

// A mistyped flag gets the closest flag of the command or a global one;
// one like nothing gets no guess. Both exit 2.
func TestErrhelpFlagTypoSuggests(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string // "" for no suggestion
	}{
		{[]string{"eval", "--modle", "m.onnx"}, "(did you mean --model?)"},
		{[]string{"build-dataset", "--srcc", "x"}, "(did you mean --src?)"},
		{[]string{"models", "build", "unet-aspp", "--outt", "x"}, "(did you mean --out?)"},
		{[]string{"eval", "--quite"}, "(did you mean --quiet?)"},
		{[]string{"--quite", "doctor"}, "(did you mean --quiet?)"},
		{[]string{"build-dataset", "--bogus"}, ""},
	} {
		code, out := run(t, tc.args...)
		if code != 2 || !strings.Contains(out, "flag provided but not defined") {
			t.Errorf("segtool %s: exit %d, %q; want exit 2 and the parser's message", strings.Join(tc.args, " "), code, out)
		}
		if tc.want == "" && strings.Contains(out, "did you mean") || tc.want != "" && !strings.Contains(out, tc.want) {
			t.Errorf("segtool %s: %q, want %q", strings.Join(tc.args, " "), out, tc.want)
		}
	}
}

// Global flags are read after the command too: they are moved in front of
// it, with their values, and a command's own flags and operands stay.
func TestErrhelpGlobalsAfterCommand(t *testing.T) {
	app := newApp()
	for _, tc := range []struct{ in, want string }{
		{"eval --model m --quiet", "--quiet eval --model m"},
		{"eval --model m --workers 3 --dataset d", "--workers 3 eval --model m --dataset d"},
		{"inspect ds -j=2 --log-format json", "-j=2 --log-format json inspect ds"},
		{"-q models build unet-aspp --out x --progress", "-q --progress models build --out x unet-aspp"},
		{"bench model --model m -q", "-q bench model --model m"},
		{"eval --out --quiet", "eval --out --quiet"}, // --out's value
		{"eval -- --quiet", "eval -- --quiet"},       // after "--"
		{"--workers 2 doctor", "--workers 2 doctor"}, // already in place
		{"nosuch --quiet", "nosuch --quiet"},         // not a command
	} {
		got := cliArgs(app, append([]string{"segtool"}, strings.Fields(tc.in)...))[1:]
		if !reflect.DeepEqual(got, strings.Fields(tc.want)) {
			t.Errorf("%s: %q, want %q", tc.in, strings.Join(got, " "), tc.want)
		}
	}
	// And the run reads them: a bad global value after the command is
	// refused by the global check, naming the global flag.
	for _, tc := range []struct {
		args []string
		flag string
	}{
		{[]string{"doctor", "--workers", "0"}, "--workers must be at least 1"},
		{[]string{"inspect", t.TempDir(), "--log-format=xml"}, "--log-format must be text or json"},
	} {
		code, out := run(t, tc.args...)
		if code != 2 || !strings.Contains(out, tc.flag) {
			t.Errorf("segtool %s: exit %d, %q; want exit 2 saying %q", strings.Join(tc.args, " "), code, out, tc.flag)
		}
	}
}

// A missing, an empty and a file --src each say which; an empty dataset
// folder is not called an interrupted run, a partial one is.
func TestErrhelpMissingEmptyPartial(t *testing.T) {
	root := t.TempDir()
	empty := filepath.Join(root, "empty")
	os.MkdirAll(empty, 0o755)
	file := filepath.Join(root, "file")
	os.WriteFile(file, []byte("x"), 0o644)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"build-dataset", "--src", filepath.Join(root, "missing"), "--out", filepath.Join(root, "o")},
			2, "--src: " + filepath.Join(root, "missing") + " does not exist"},
		{[]string{"build-dataset", "--src", empty, "--out", filepath.Join(root, "o")},
			2, "--src: " + empty + " is an empty folder: nothing to build from"},
		{[]string{"build-dataset", "--src", file, "--out", filepath.Join(root, "o")},
			2, "--src: " + file + " is a file, not a folder"},
		{[]string{"inspect", empty}, 1, "open " + empty + ": not a dataset: the folder is empty"},
		{[]string{"validate", root}, 1, "not a dataset: it has no dataset.json"},
		{[]string{"inspect", filepath.Join(root, "missing")}, 1, "no such file or directory"},
	} {
		code, out := run(t, tc.args...)
		if code != tc.code || !strings.Contains(out, tc.want) || strings.Contains(out, "--resume") {
			t.Errorf("segtool %s: exit %d, %q; want exit %d saying %q and no --resume", strings.Join(tc.args, " "), code, out, tc.code, tc.want)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "o")); err == nil {
		t.Error("a refused build wrote its --out")
	}
	// A run that stopped before finishing is still an interrupted run.
	partial := filepath.Join(root, "partial")
	os.MkdirAll(partial, 0o755)
	os.WriteFile(filepath.Join(partial, dataset.JournalFile), nil, 0o644)
	if code, out := run(t, "inspect", partial); code != 1 || !strings.Contains(out, "an interrupted run") || !strings.Contains(out, "--resume") {
		t.Errorf("inspect of a partial dataset: exit %d, %q", code, out)
	}
}

// A source whose images folder is a symbolic link builds like a real one:
// no "not-image" reject for the link.
func TestErrhelpSymlinkedSourceFolder(t *testing.T) {
	demo := t.TempDir()
	if code, out := run(t, "demo-data", "--out", demo, "--count", "3"); code != 0 {
		t.Fatalf("demo-data: exit %d: %s", code, out)
	}
	src := filepath.Join(demo, "folder")
	elsewhere := filepath.Join(t.TempDir(), "imgs")
	if err := os.Rename(filepath.Join(src, "images"), elsewhere); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, filepath.Join(src, "images")); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	out := filepath.Join(t.TempDir(), "ds")
	code, msg := run(t, "build-dataset", "--src", src, "--out", out)
	if code != 0 {
		t.Fatalf("build-dataset from a linked images folder: exit %d: %s", code, msg)
	}
	d, err := dataset.Open(out)
	if err != nil || len(d.Samples) != 3 {
		t.Fatalf("built %v, %v; want 3 samples", d, err)
	}
	if b, _ := os.ReadFile(filepath.Join(out, dataset.RejectsFile)); strings.Contains(string(b), dataset.CodeNotImage) {
		t.Errorf("rejects: %s", b)
	}
}

// validate names the check a corrupted mask fails and what it measured,
// not "fg_fraction is 0.000000".
func TestErrhelpValidateCorruptPatch(t *testing.T) {
	demo := t.TempDir()
	if code, out := run(t, "demo-data", "--out", demo, "--count", "2"); code != 0 {
		t.Fatalf("demo-data: exit %d: %s", code, out)
	}
	ds := filepath.Join(t.TempDir(), "ds")
	if code, out := run(t, "build-dataset", "--src", filepath.Join(demo, "folder"), "--out", ds); code != 0 {
		t.Fatalf("build-dataset: exit %d: %s", code, out)
	}
	d, err := dataset.Open(ds)
	if err != nil {
		t.Fatal(err)
	}
	s := d.Samples[0]
	mask := gocv.IMRead(d.Path(s.Mask), gocv.IMReadGrayScale)
	defer mask.Close()
	// A 4x4 patch of 37 in the top-left corner, which is background in
	// every demo portrait, so fg_fraction still matches.
	for y := 0; y < 4; y++ {
		for x := 0; x < 4; x++ {
			mask.SetUCharAt(y, x, 37)
		}
	}
	gocv.IMWrite(d.Path(s.Mask), mask)
	code, out := run(t, "validate", ds)
	want := "mask values check: 16 of "
	if code != 1 || !strings.Contains(out, want) || !strings.Contains(out, "the first 37 at x=0 y=0") || strings.Contains(out, "fg_fraction") {
		t.Errorf("validate: exit %d, %q; want exit 1 with %q and no fg_fraction problem", code, out, want)
	}
}
