package dataset

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenTellsFoldersApart: a missing, an empty, a foreign and a partial
// folder each get their own error; only the partial one is called an
// interrupted run.
func TestOpenTellsFoldersApart(t *testing.T) {
	root := t.TempDir()
	dir := func(name string, files ...string) string {
		d := filepath.Join(root, name)
		os.MkdirAll(d, 0o755)
		for _, f := range files {
			os.WriteFile(filepath.Join(d, f), []byte("{}\n"), 0o644)
		}
		return d
	}
	for _, tc := range []struct {
		dir  string
		is   error
		want string
	}{
		{filepath.Join(root, "missing"), fs.ErrNotExist, "no such file or directory"},
		{dir("empty"), ErrNotDataset, "not a dataset: the folder is empty"},
		{dir("photos", "a.jpg"), ErrNotDataset, "not a dataset: it has no dataset.json"},
		{dir("started", partialInfoFile), ErrPartial, "partial dataset (an interrupted run)"},
		{dir("journaled", JournalFile), ErrPartial, "partial dataset (an interrupted run)"},
	} {
		_, err := Open(tc.dir)
		if !errors.Is(err, tc.is) || err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%s): %v, want %v saying %q", filepath.Base(tc.dir), err, tc.is, tc.want)
		}
		if tc.is != ErrPartial && errors.Is(err, ErrPartial) {
			t.Errorf("Open(%s) calls it an interrupted run: %v", filepath.Base(tc.dir), err)
		}
	}
}

// TestLookupFormatTellsSourcesApart: a missing, an empty and a file
// source are option errors for Src that say which, before detection.
func TestLookupFormatTellsSourcesApart(t *testing.T) {
	root := t.TempDir()
	os.MkdirAll(filepath.Join(root, "empty"), 0o755)
	os.WriteFile(filepath.Join(root, "file"), []byte("x"), 0o644)
	for name, want := range map[string]string{
		"missing": "does not exist",
		"empty":   "is an empty folder: nothing to build from",
		"file":    "is a file, not a folder",
	} {
		for _, format := range []string{"auto", "folder"} {
			_, err := LookupFormat(format, filepath.Join(root, name))
			var oe *OptionError
			if !errors.As(err, &oe) || oe.Field != "Src" || !strings.Contains(err.Error(), want) {
				t.Errorf("LookupFormat(%s, %s): %v, want an OptionError for Src saying %q", format, name, err, want)
			}
		}
	}
}
