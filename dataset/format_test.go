package dataset

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// TestListImageFilesFollowsLinks: a source whose images folder is a
// symbolic link (to a folder outside the source) is listed like a real
// one, and so is a linked subfolder and a linked file; a link to nowhere
// and a loop are rejects that say so.
func TestListImageFilesFollowsLinks(t *testing.T) {
	elsewhere := t.TempDir()
	os.MkdirAll(filepath.Join(elsewhere, "more"), 0o755)
	for _, f := range []string{"a.png", "more/b.jpg"} {
		os.WriteFile(filepath.Join(elsewhere, f), []byte("x"), 0o644)
	}
	src := t.TempDir()
	for _, l := range [][2]string{
		{elsewhere, "images"},
		{filepath.Join(elsewhere, "more"), "extra"},
		{filepath.Join(elsewhere, "a.png"), "c.png"},
		{filepath.Join(elsewhere, "gone.png"), "dead.png"},
	} {
		if err := os.Symlink(l[0], filepath.Join(src, l[1])); err != nil {
			t.Skip("no symbolic links here:", err)
		}
	}
	os.Symlink(elsewhere, filepath.Join(elsewhere, "more", "loop"))

	files, rejects, err := ListImageFiles(context.Background(), src, "", "scan")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"c.png", "extra/b.jpg", "extra/loop/a.png", "images/a.png", "images/more/b.jpg"}
	if !reflect.DeepEqual(files, want) {
		t.Errorf("files %v, want %v", files, want)
	}
	reasons := map[string]string{}
	for _, r := range rejects {
		if r.Code != CodeNotImage {
			t.Errorf("reject %+v: code %s, want %s", r, r.Code, CodeNotImage)
		}
		reasons[r.Source[0]] = r.Reason
	}
	for src, want := range map[string]string{
		"dead.png":         "symbolic link that leads nowhere",
		"images/more/loop": "a folder it lies in (a loop)",
		"extra/loop/more":  "a folder it lies in (a loop)",
	} {
		if !strings.Contains(reasons[src], want) {
			t.Errorf("reject of %s: %q, want %q (all: %v)", src, reasons[src], want, reasons)
		}
	}
	if len(rejects) != 3 {
		t.Errorf("rejects %v, want 3", rejects)
	}

	// The images folder itself a link, listed as the root.
	files, rejects, err = ListImageFiles(context.Background(), src, "images", "scan")
	if err != nil || !reflect.DeepEqual(files, []string{"images/a.png", "images/more/b.jpg"}) || len(rejects) != 1 {
		t.Errorf("root a link: %v %v %v", files, rejects, err)
	}
}
