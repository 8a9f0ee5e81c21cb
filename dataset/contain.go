package dataset

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// MaxIDLen bounds a sample id in bytes. Commands append short suffixes
// (_a3, __007, _c1) and an extension, and temporary files a few more
// bytes, all within the usual 255-byte limit on a file name.
const MaxIDLen = 200

// ErrUnsafeID reports a sample id that is not a safe file stem.
var ErrUnsafeID = errors.New("unsafe sample id")

// ErrOutside reports a path that leaves its dataset or output folder,
// lexically or through a symbolic link.
var ErrOutside = errors.New("leaves its folder")

// CheckID reports whether id is a safe file stem. Files of a sample, and
// the outputs of eval, trimap, augment and composite, are named after its
// id, so an id is 1 to MaxIDLen bytes of ASCII letters, digits, '_', '-',
// '.' and '+', and does not start with '.': no separators, no "..", no
// hidden files. Every id ID derives from a path that does not start with
// '.' qualifies.
func CheckID(id string) error {
	switch {
	case id == "":
		return fmt.Errorf("%w: empty", ErrUnsafeID)
	case len(id) > MaxIDLen:
		return fmt.Errorf("%w: %d bytes, more than %d", ErrUnsafeID, len(id), MaxIDLen)
	case id[0] == '.':
		return fmt.Errorf("%w %q: starts with '.'", ErrUnsafeID, id)
	}
	for i := 0; i < len(id); i++ {
		switch c := id[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_', c == '-', c == '.', c == '+':
		default:
			return fmt.Errorf("%w %q: byte %q is not a letter, digit, '_', '-', '.' or '+'", ErrUnsafeID, id, c)
		}
	}
	return nil
}

// CheckRel reports whether rel, a manifest path, stays inside the dataset
// lexically: slash-separated, relative, with no "." or ".." element and no
// NUL.
func CheckRel(rel string) error {
	if rel == "" || strings.ContainsRune(rel, 0) || strings.HasPrefix(rel, "/") || filepath.IsAbs(rel) {
		return fmt.Errorf("%q %w: not a relative path", rel, ErrOutside)
	}
	for _, e := range strings.Split(rel, "/") {
		if e == "" || e == "." || e == ".." {
			return fmt.Errorf("%q %w: empty, '.' or '..' element", rel, ErrOutside)
		}
	}
	return nil
}

// SampleFile joins root, sub and stem+ext into the path of a file a
// command writes, refusing a stem that is not one file name or a result
// that leaves root. Ids that passed Open never fail here; it guards the
// places where names become paths.
func SampleFile(root, sub, stem, ext string) (string, error) {
	if stem == "" || stem == "." || stem == ".." || strings.ContainsAny(stem, "/\\\x00") || strings.ContainsAny(ext, "/\\\x00") {
		return "", fmt.Errorf("%w: %q is not a file name", ErrUnsafeID, stem+ext)
	}
	rel := stem + ext
	if sub != "" && sub != "." {
		rel = sub + "/" + rel
	}
	if err := CheckRel(rel); err != nil {
		return "", err
	}
	return filepath.Join(root, filepath.FromSlash(rel)), nil
}

// CheckInside reports whether p, an existing path or one about to be
// created, resolves inside root once symbolic links are followed: p itself
// when it exists, else its nearest existing folder.
func CheckInside(root, p string) error {
	r, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("resolve %s: %w", root, err)
	}
	c := newContainment(r)
	return c.check(p)
}

// containment resolves paths against one resolved root, caching folders,
// so checking every file of a manifest costs about one lstat a file.
type containment struct {
	root string
	dirs map[string]error
}

func newContainment(resolvedRoot string) *containment {
	return &containment{root: resolvedRoot, dirs: map[string]error{}}
}

func (c *containment) within(resolved string) bool {
	return resolved == c.root || strings.HasPrefix(resolved, c.root+string(filepath.Separator))
}

// check resolves p: a symbolic link must lead inside root; anything else
// (or nothing yet) is inside when its folder is.
func (c *containment) check(p string) error {
	fi, err := os.Lstat(p)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		return c.dir(filepath.Dir(p))
	}
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		return fmt.Errorf("%s: symbolic link that does not resolve: %w", p, ErrOutside)
	}
	if !c.within(r) {
		return fmt.Errorf("%s is a symbolic link to %s, which %w", p, r, ErrOutside)
	}
	return nil
}

func (c *containment) dir(d string) error {
	if err, ok := c.dirs[d]; ok {
		return err
	}
	var err error
	r, rerr := filepath.EvalSymlinks(d)
	switch {
	case rerr == nil && !c.within(r):
		err = fmt.Errorf("%s resolves to %s, which %w", d, r, ErrOutside)
	case rerr != nil && filepath.Dir(d) != d:
		err = c.dir(filepath.Dir(d))
	case rerr != nil:
		err = fmt.Errorf("%s %w", d, ErrOutside)
	}
	c.dirs[d] = err
	return err
}

// checkRows finds the rows no command may read: an unsafe id, a path
// that leaves the dataset (lexically or through a symbolic link), a
// duplicate id. lines are the rows' manifest line numbers. It returns the
// problems and which rows are bad.
func checkRows(dir string, rows []Sample, lines []int) ([]Problem, []bool) {
	var ps []Problem
	bad := make([]bool, len(rows))
	var c *containment
	if r, err := filepath.EvalSymlinks(dir); err == nil {
		c = newContainment(r)
	}
	first := map[string]int{}
	for i := range rows {
		s := &rows[i]
		add := func(path string, err error) {
			ps = append(ps, Problem{Line: lines[i], ID: s.ID, Path: path, Reason: err.Error(), Err: err})
			bad[i] = true
		}
		if err := CheckID(s.ID); err != nil {
			add("", err)
		} else if j, dup := first[s.ID]; dup {
			add("", fmt.Errorf("duplicate id, first on line %d", lines[j]))
		} else {
			first[s.ID] = i
		}
		paths := s.Files()
		for rel := range s.SHA256 {
			paths = append(paths, rel)
		}
		seen := map[string]bool{}
		for _, rel := range paths {
			if seen[rel] {
				continue
			}
			seen[rel] = true
			if err := CheckRel(rel); err != nil {
				add(rel, err)
			} else if c != nil {
				if err := c.check(filepath.Join(c.root, filepath.FromSlash(rel))); err != nil {
					add(rel, err)
				}
			}
		}
	}
	return ps, bad
}

// ManifestError is Open's refusal of a manifest with rows no command may
// read; Problems name each row's line.
type ManifestError struct {
	Dir      string
	Problems []Problem
}

func (e *ManifestError) Error() string {
	msg := fmt.Sprintf("open %s: %s", e.Dir, e.Problems[0])
	if n := len(e.Problems) - 1; n > 0 {
		msg += fmt.Sprintf(" (and %d more)", n)
	}
	return msg
}

// Unwrap returns the problems' errors, so errors.Is finds ErrUnsafeID and
// ErrOutside.
func (e *ManifestError) Unwrap() []error {
	var errs []error
	for _, p := range e.Problems {
		if p.Err != nil {
			errs = append(errs, p.Err)
		}
	}
	return errs
}
