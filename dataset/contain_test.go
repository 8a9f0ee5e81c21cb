package dataset

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestCheckID(t *testing.T) {
	for _, id := range []string{"00001", "a-b_c.d+e", "y.v2", "odd-name--1-", "x__000", "x_a3", strings.Repeat("a", MaxIDLen)} {
		if err := CheckID(id); err != nil {
			t.Errorf("CheckID(%q) = %v, want nil", id, err)
		}
	}
	for _, id := range []string{"", ".", "..", "../x", "a/b", `a\b`, ".hidden", "a b", "a\x00b", "é", strings.Repeat("a", MaxIDLen+1)} {
		if err := CheckID(id); !errors.Is(err, ErrUnsafeID) {
			t.Errorf("CheckID(%q) = %v, want ErrUnsafeID", id, err)
		}
	}
	// Every id ID derives from a path not starting with '.' is safe.
	for _, p := range []string{"00001.png", "a/b/c d (1).jpeg", `sub\dir\f.jpg`, "unicodé.png", "x/../y.v2.png", "a/.b.png", "+x.png"} {
		if err := CheckID(ID(p)); err != nil {
			t.Errorf("ID(%q) = %q: %v", p, ID(p), err)
		}
	}
}

func TestCheckRelAndSampleFile(t *testing.T) {
	for _, rel := range []string{"images/a.png", "fg/x/y.png", "trimaps-sp/a.png"} {
		if err := CheckRel(rel); err != nil {
			t.Errorf("CheckRel(%q) = %v", rel, err)
		}
	}
	for _, rel := range []string{"", "/etc/passwd", "../outside/x.png", "images/../../x.png", "images/./a.png", "images//a.png", "a\x00"} {
		if err := CheckRel(rel); !errors.Is(err, ErrOutside) {
			t.Errorf("CheckRel(%q) = %v, want ErrOutside", rel, err)
		}
	}
	if p, err := SampleFile("/out", "preds", "a", ".png"); err != nil || p != "/out/preds/a.png" {
		t.Errorf("SampleFile = %q, %v", p, err)
	}
	for _, stem := range []string{"../../tmp/x", "..", "a/b", ""} {
		if p, err := SampleFile("/out", "preds", stem, ".png"); err == nil {
			t.Errorf("SampleFile(%q) = %q, want an error", stem, p)
		}
	}
	if _, err := SampleFile("/out", "../x", "a", ".png"); !errors.Is(err, ErrOutside) {
		t.Errorf("SampleFile with sub ../x: %v, want ErrOutside", err)
	}
}

// writeDataset writes dataset.json (info) and the manifest lines into a
// new folder inside parent.
func writeDataset(t *testing.T, parent string, info map[string]any, lines ...string) string {
	t.Helper()
	dir := filepath.Join(parent, "ds")
	if err := os.MkdirAll(filepath.Join(dir, ImagesDir), 0o755); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(info)
	os.WriteFile(filepath.Join(dir, InfoFile), b, 0o644)
	os.WriteFile(filepath.Join(dir, ManifestFile), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	return dir
}

func row(id, image string) string {
	b, _ := json.Marshal(Sample{ID: id, Split: "train", Image: image, Mask: "masks/" + id + ".png"})
	return string(b)
}

func TestOpenRefusesRowsOutsideTheDataset(t *testing.T) {
	parent := t.TempDir()
	outside := filepath.Join(parent, "outside")
	os.MkdirAll(outside, 0o755)
	os.WriteFile(filepath.Join(outside, "x.png"), []byte("secret"), 0o644)
	dir := writeDataset(t, parent, map[string]any{"name": "t"},
		row("a", "images/a.png"),
		row("../../evil", "images/b.png"),
		row("c", "../outside/x.png"),
		row("d", "/etc/passwd"),
		row("e", "images/link.png"),
		row("a", "images/a2.png"),
	)
	if err := os.Symlink(filepath.Join(outside, "x.png"), filepath.Join(dir, "images", "link.png")); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	var me *ManifestError
	if !errors.As(err, &me) {
		t.Fatalf("Open = %v, want a *ManifestError", err)
	}
	want := map[int]string{2: "unsafe sample id", 3: "leaves its folder", 4: "leaves its folder", 5: "symbolic link", 6: "duplicate id, first on line 1"}
	got := map[int]string{}
	for _, p := range me.Problems {
		got[p.Line] += p.String() + "\n"
	}
	for line, frag := range want {
		if !strings.Contains(got[line], frag) || !strings.HasPrefix(got[line], ManifestFile+":"+strconv.Itoa(line)+":") {
			t.Errorf("line %d: problem %q, want one containing %q", line, got[line], frag)
		}
	}
	if len(got) != len(want) {
		t.Errorf("problems on lines %v, want %v", got, want)
	}
	if !strings.Contains(err.Error(), "manifest.jsonl:2:") {
		t.Errorf("error %q does not name the first bad line", err)
	}

	d, problems, err := Load(dir)
	if err != nil || len(problems) != len(me.Problems) {
		t.Fatalf("Load: %d problems, %v", len(problems), err)
	}
	if len(d.Samples) != 1 || d.Samples[0].ID != "a" || d.Samples[0].Image != "images/a.png" {
		t.Errorf("Load kept %+v, want only the first row a", d.Samples)
	}
}

func TestOpenAllowsLinksInside(t *testing.T) {
	parent := t.TempDir()
	dir := writeDataset(t, parent, map[string]any{"name": "t"}, row("a", "images/link.png"))
	os.WriteFile(filepath.Join(dir, "images", "a.png"), []byte("x"), 0o644)
	os.Symlink("a.png", filepath.Join(dir, "images", "link.png"))
	// The dataset reached through a link is fine too.
	via := filepath.Join(parent, "via")
	os.Symlink(dir, via)
	for _, p := range []string{dir, via} {
		if _, err := Open(p); err != nil {
			t.Errorf("Open(%s) = %v", p, err)
		}
	}
}

func TestLoadComparesCounts(t *testing.T) {
	parent := t.TempDir()
	dir := writeDataset(t, parent, map[string]any{"samples": 2, "counts": map[string]int{"train": 1, "val": 1}}, row("a", "images/a.png"))
	_, problems, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range problems {
		got = append(got, p.String())
	}
	want := []string{
		"dataset.json: says 2 samples, manifest.jsonl has 1 rows",
		"dataset.json: counts 1 val samples, manifest.jsonl has 0",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A 0-byte manifest against a dataset.json that counts samples.
	os.WriteFile(filepath.Join(dir, ManifestFile), nil, 0o644)
	if _, problems, _ := Load(dir); len(problems) != 3 {
		t.Errorf("empty manifest: %v, want 3 problems", problems)
	}
	// Open does not refuse a count mismatch (a hand-filtered manifest).
	if _, err := Open(dir); err != nil {
		t.Errorf("Open = %v", err)
	}
	// A hand-made dataset.json without counts is not held to them.
	dir = writeDataset(t, t.TempDir(), map[string]any{"name": "hand"}, row("a", "images/a.png"))
	if _, problems, _ := Load(dir); len(problems) != 0 {
		t.Errorf("hand-made dataset.json: %v", problems)
	}
}

// listAll returns every path below dir.
func listAll(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.Walk(dir, func(p string, _ os.FileInfo, _ error) error {
		out = append(out, p)
		return nil
	})
	return out
}

func TestWriterDoesNotWriteThroughLinks(t *testing.T) {
	parent := t.TempDir()
	elsewhere := filepath.Join(parent, "elsewhere")
	os.MkdirAll(elsewhere, 0o755)
	link := filepath.Join(parent, "out-link")
	os.Symlink(elsewhere, link)
	var oe *OptionError
	if _, err := NewWriter(link, WriterOptions{}); !errors.As(err, &oe) || oe.Field != "Out" {
		t.Errorf("NewWriter into a symlink: %v, want an OptionError for Out", err)
	}

	out := filepath.Join(parent, "out")
	w, err := NewWriter(out, WriterOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.Symlink(elsewhere, filepath.Join(out, "fg"))
	if _, _, err := w.WriteBytes("fg", "a", ".png", []byte("x")); !errors.Is(err, ErrOutside) {
		t.Errorf("WriteBytes into a linked folder: %v, want ErrOutside", err)
	}
	if _, _, err := w.WriteBytes(ImagesDir, "../../x", ".png", []byte("x")); !errors.Is(err, ErrUnsafeID) {
		t.Errorf("WriteBytes with a traversal id: %v, want ErrUnsafeID", err)
	}
	if err := w.Add(Sample{ID: "../x"}); !errors.Is(err, ErrUnsafeID) {
		t.Errorf("Add with a traversal id: %v, want ErrUnsafeID", err)
	}
	if got := listAll(t, elsewhere); len(got) != 1 {
		t.Errorf("written outside: %v", got)
	}
	if _, err := os.Stat(filepath.Join(parent, "x.png")); err == nil {
		t.Error("x.png written beside the output")
	}
}
