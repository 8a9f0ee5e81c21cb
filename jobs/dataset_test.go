package jobs

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/dataset"
)

// openDataset opens the dataset at dir or fails the test.
func openDataset(t *testing.T, dir string) *dataset.Dataset {
	t.Helper()
	d, err := dataset.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// validateDataset opens a written dataset and fails on any Validate
// problem.
func validateDataset(t *testing.T, dir string) *dataset.Dataset {
	t.Helper()
	d := openDataset(t, dir)
	ps, err := dataset.Validate(context.Background(), d, 2, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range ps {
		t.Errorf("validate: %s", p)
	}
	return d
}

// eachFile calls fn for every file below dir, failing the test on an
// error.
func eachFile(t *testing.T, dir string, fn func(p string, d fs.DirEntry) error) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		return fn(p, d)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// treeFiles maps every file below dir, by slash path, to its bytes.
func treeFiles(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	eachFile(t, dir, func(p string, _ fs.DirEntry) error {
		rel, _ := filepath.Rel(dir, p)
		b, err := os.ReadFile(p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	return out
}
