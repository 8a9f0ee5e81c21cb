package dataset

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
)

// WriteError is a failure to write an output file (a full disk, an I/O
// error, no permission): the machine's fault, not a sample's. It stops a
// run, and is never recorded as a per-sample result that a resume would
// skip.
type WriteError struct {
	Path string
	Err  error
}

func (e *WriteError) Error() string { return fmt.Sprintf("write %s: %v", e.Path, e.Err) }
func (e *WriteError) Unwrap() error { return e.Err }

// WriteFileAtomic writes data to a temporary file beside path and renames it
// into place, so a reader (or a crash) sees the old file or the new one,
// never half of one. Its errors are *WriteError.
func WriteFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return &WriteError{Path: path, Err: err}
	}
	tmp := f.Name()
	_, werr := f.Write(data)
	cerr := f.Close()
	if werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Chmod(tmp, 0o644)
	}
	if werr == nil {
		werr = os.Rename(tmp, path)
	}
	if werr != nil {
		os.Remove(tmp)
		return &WriteError{Path: path, Err: werr}
	}
	return nil
}

// WriteFileIfChanged writes atomically unless path already holds data. It
// reports whether it wrote.
func WriteFileIfChanged(path string, data []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	return true, WriteFileAtomic(path, data)
}
