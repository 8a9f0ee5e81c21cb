package dataset

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// checkOwned refuses to let Force replace dir unless segtool made it: it
// has dataset.json or a partial run's marker, and every top-level entry
// is a dataset file, a sample folder, a folder a row points into, one of
// extra (a job's preview or report) or a temporary file of an atomic
// write. Files inside the sample folders are not checked.
func checkOwned(dir string, entries []os.DirEntry, extra []string) error {
	if !IsFile(filepath.Join(dir, InfoFile)) && !IsFile(filepath.Join(dir, partialInfoFile)) {
		return fmt.Errorf("%s: %w: it has no %s (move it away or write elsewhere)", dir, ErrForeign, InfoFile)
	}
	ours := map[string]bool{}
	for _, n := range []string{InfoFile, partialInfoFile, ManifestFile, JournalFile, RejectsFile,
		ImagesDir, MasksDir, AlphasDir, TrimapsDir, InstancesDir} {
		ours[n] = true
	}
	for _, n := range extra {
		ours[n] = true
	}
	for _, f := range []string{ManifestFile, JournalFile} {
		rows, _ := ReadRows(filepath.Join(dir, f)) // unreadable: only the fixed names count
		for _, r := range rows {
			rels := r.Files()
			for rel := range r.SHA256 {
				rels = append(rels, rel)
			}
			for _, rel := range rels {
				if top, _, ok := strings.Cut(rel, "/"); ok {
					ours[top] = true
				}
			}
		}
	}
	var foreign []string
	for _, e := range entries {
		n := e.Name()
		if ours[n] || strings.HasPrefix(n, ".") && strings.Contains(n, ".tmp-") {
			continue
		}
		foreign = append(foreign, n)
	}
	if len(foreign) > 0 {
		sort.Strings(foreign)
		return fmt.Errorf("%s: %w: %s is not segtool's (move it away first)", dir, ErrForeign, filepath.Join(dir, foreign[0]))
	}
	return nil
}

// checkApart refuses an output that is one of the inputs, lies inside one
// or contains one: replacing or filling it would destroy what the run
// reads.
func checkApart(out string, inputs []string) error {
	o := realPath(out)
	for _, in := range inputs {
		if _, err := os.Stat(in); in == "" || err != nil {
			continue // not on disk (a procedural background): nothing to destroy
		}
		i := realPath(in)
		if within(o, i) || within(i, o) {
			return &OptionError{Field: "Out", Err: fmt.Errorf("%s overlaps the input %s: write the output elsewhere", out, in)}
		}
	}
	return nil
}

// realPath is p made absolute with the symlinks of its existing part
// resolved.
func realPath(p string) string {
	abs, err := filepath.Abs(p)
	if err != nil {
		return filepath.Clean(p)
	}
	if r, err := filepath.EvalSymlinks(abs); err == nil {
		return r
	}
	parent := filepath.Dir(abs)
	if parent == abs {
		return abs
	}
	return filepath.Join(realPath(parent), filepath.Base(abs))
}

// within reports whether p is root or lies inside it.
func within(root, p string) bool {
	rel, err := filepath.Rel(root, p)
	return err == nil && filepath.IsLocal(rel)
}
