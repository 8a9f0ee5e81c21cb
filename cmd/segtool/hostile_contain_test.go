package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/fixture"
)

// hostileCopy copies the dataset ds into a new parent folder beside an
// outside/ folder holding a file, and applies edit to its manifest lines.
func hostileCopy(t *testing.T, ds string, edit func(ds string, lines []string) []string) (parent, copy string) {
	t.Helper()
	parent = t.TempDir()
	copy = filepath.Join(parent, "ds")
	if out, err := exec.Command("cp", "-a", ds, copy).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	os.MkdirAll(filepath.Join(parent, "outside"), 0o755)
	os.WriteFile(filepath.Join(parent, "outside", "x.png"), []byte("not yours"), 0o644)
	p := filepath.Join(copy, dataset.ManifestFile)
	b, _ := os.ReadFile(p)
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	os.WriteFile(p, []byte(strings.Join(edit(copy, lines), "\n")+"\n"), 0o644)
	return parent, copy
}

var idField = regexp.MustCompile(`"id":"[^"]*"`)
var imageField = regexp.MustCompile(`"image":"[^"]*"`)

// Every reader and writer of a dataset refuses a manifest with a
// traversal id, a path out, a link out or a duplicate id, and writes
// nothing anywhere; validate lists the row by its line.
func TestHostileManifestsContained(t *testing.T) {
	model, ds := evalFixture(t)
	bg := t.TempDir()
	imgs, _ := filepath.Glob(filepath.Join(ds, "images", "*"))
	if b, err := os.ReadFile(imgs[0]); err == nil {
		os.WriteFile(filepath.Join(bg, "a.jpg"), b, 0o644)
	}
	cases := []struct {
		name, validate string
		edit           func(ds string, l []string) []string
	}{
		{"traversal id", `manifest.jsonl:1: ../../escaped: unsafe sample id`, func(_ string, l []string) []string {
			l[0] = idField.ReplaceAllString(l[0], `"id":"../../escaped"`)
			return l
		}},
		{"path out", `manifest.jsonl:2:`, func(_ string, l []string) []string {
			l[1] = imageField.ReplaceAllString(l[1], `"image":"../outside/x.png"`)
			return l
		}},
		{"link out", `symbolic link`, func(ds string, l []string) []string {
			img := imageField.FindString(l[2])
			rel := strings.TrimSuffix(strings.TrimPrefix(img, `"image":"`), `"`)
			os.Remove(filepath.Join(ds, rel))
			os.Symlink(filepath.Join(ds, "..", "outside", "x.png"), filepath.Join(ds, rel))
			return l
		}},
		{"duplicate id", `duplicate id, first on line 1`, func(_ string, l []string) []string {
			return append(l, l[0])
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			parent, hds := hostileCopy(t, ds, tc.edit)
			before := fixture.TreeListing(parent)
			code, out := run(t, "validate", hds)
			if code != 1 || !strings.Contains(out, tc.validate) {
				t.Errorf("validate: exit %d, want 1 naming %q:\n%s", code, tc.validate, out)
			}
			for _, c := range []struct {
				args []string
				code int
			}{
				{[]string{"inspect", hds}, 1},
				{[]string{"eval", "--model", model, "--size", "64x80", "--dataset", hds, "--split", "all", "--out", filepath.Join(parent, "run"), "--save-preds", "--save-overlays"}, 2},
				{[]string{"trimap", "--dataset", hds}, 1},
				{[]string{"composite", "--fg", hds, "--bg", bg, "--out", filepath.Join(parent, "comp")}, 1},
				{[]string{"augment", "--config", augmentConfig, "--dataset", hds, "--out", filepath.Join(parent, "aug")}, 1},
			} {
				code, out := run(t, append([]string{"--quiet"}, c.args...)...)
				if code != c.code || !strings.Contains(out, "manifest.jsonl:") {
					t.Errorf("%s: exit %d, want %d naming the manifest line:\n%s", c.args[0], code, c.code, out)
				}
			}
			if after := fixture.TreeListing(parent); after != before {
				t.Errorf("files changed:\nbefore\n%s\nafter\n%s", before, after)
			}
			if b, _ := os.ReadFile(filepath.Join(parent, "outside", "x.png")); string(b) != "not yours" {
				t.Error("outside/x.png changed")
			}
		})
	}
}

// A 0-byte manifest whose files were removed does not validate clean:
// dataset.json still counts its samples.
func TestValidateComparesCounts(t *testing.T) {
	_, ds := trimapDataset(t)
	os.WriteFile(filepath.Join(ds, dataset.ManifestFile), nil, 0o644)
	for _, sub := range []string{dataset.ImagesDir, dataset.MasksDir, dataset.TrimapsDir} {
		os.RemoveAll(filepath.Join(ds, sub))
	}
	code, out := run(t, "validate", ds)
	if code != 1 || !strings.Contains(out, "dataset.json: says 3 samples, manifest.jsonl has 0 rows") {
		t.Errorf("validate: exit %d, want 1 naming the count:\n%s", code, out)
	}
}

// An output folder that is a link is not written through.
func TestOutputLinkRefused(t *testing.T) {
	src, ds := trimapDataset(t)
	parent := t.TempDir()
	elsewhere := filepath.Join(parent, "elsewhere")
	os.MkdirAll(elsewhere, 0o755)
	link := filepath.Join(parent, "out")
	os.Symlink(elsewhere, link)
	before := fixture.TreeListing(parent)
	for _, args := range [][]string{
		{"build-dataset", "--src", filepath.Join(src, "folder"), "--out", link},
		{"augment", "--config", augmentConfig, "--dataset", ds, "--out", link},
	} {
		code, out := run(t, append([]string{"--quiet"}, args...)...)
		if code != 2 || !strings.Contains(out, "--out") || !strings.Contains(out, "symbolic link") {
			t.Errorf("%s into a link: exit %d, want 2 naming --out:\n%s", args[0], code, out)
		}
	}
	if after := fixture.TreeListing(parent); after != before {
		t.Errorf("files changed:\nbefore\n%s\nafter\n%s", before, after)
	}
}
