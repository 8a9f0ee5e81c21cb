// Package shareddata locates the real photos, mattes and models that sit in
// ../shared beside a checkout, for integration tests and benchmarks.
//
// The data is never copied into the repository: tests build their fixtures
// from it in temporary folders. Where it is absent (a fresh clone on its
// own), tests that need it skip with a message saying so.
package shareddata

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvVar overrides where the shared folder is looked for.
const EnvVar = "SEGTOOL_SHARED"

// Find returns the shared folder: $SEGTOOL_SHARED when set, else the folder
// named "shared" beside the module root (the directory holding go.mod).
// ok is false when neither exists.
func Find() (dir string, ok bool) {
	if d := os.Getenv(EnvVar); d != "" {
		if isDir(d) {
			return d, true
		}
		return d, false
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", false
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			s := filepath.Join(filepath.Dir(d), "shared")
			return s, isDir(s)
		}
		if filepath.Dir(d) == d {
			return "", false
		}
	}
}

// Dir returns the shared sub-folder rel (for example "data/p3m"), or skips
// the test with a clear message when it is missing.
func Dir(tb testing.TB, rel string) string {
	tb.Helper()
	root, ok := Find()
	if !ok {
		tb.Skipf("skipping: real data folder ../shared not found beside the checkout (set %s to point at it)", EnvVar)
	}
	d := filepath.Join(root, rel)
	if !isDir(d) {
		tb.Skipf("skipping: %s not found in the shared folder %s", rel, root)
	}
	return d
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}
