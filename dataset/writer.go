package dataset

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"sync"
	"time"

	"gocv.io/x/gocv"
)

// ErrExists reports an output that exists and may not be replaced: the
// caller may replace it (WriterOptions.Force) or continue it (Resume).
var ErrExists = errors.New("output exists")

// ErrOtherOptions reports a resume of an output made with other options;
// only replacing it (WriterOptions.Force) can go on.
var ErrOtherOptions = errors.New("built with other options")

// ErrForeign reports an output folder that segtool did not make, or that
// holds files segtool did not write: WriterOptions.Force never replaces it.
var ErrForeign = errors.New("not a folder segtool made")

// partialInfoFile records the options of a build in progress, so --resume
// can refuse to mix outputs made with different options.
const partialInfoFile = "dataset.partial.json"

// WriterOptions control how a Writer treats an existing output folder.
type WriterOptions struct {
	Force  bool // replace an existing dataset; the old one stays until Commit
	Resume bool // reuse intact rows of a previous, possibly partial, run
	// Options are the output-defining options; Resume refuses a folder
	// built with different ones.
	Options map[string]any
	// Inputs are the files and folders the run reads. The output may not
	// be one of them, lie inside one, or contain one.
	Inputs []string
	// Owned are top-level names, besides the dataset's own files, that
	// segtool writes into a dataset (a preview, a report): Force may
	// replace a folder holding them.
	Owned []string
}

// Writer creates a canonical dataset. Files are written atomically, rows are
// journalled as they finish, and Commit publishes the manifest and
// dataset.json last. It is safe for concurrent use.
type Writer struct {
	final, dir string
	staging    bool
	prev       map[string]Sample
	prevInfo   *Info

	lock *Lock

	mu      sync.Mutex
	subs    map[string]error // sample folders made and checked to be inside dir
	journal *os.File
	rows    []Sample
	rejects []Reject
	wrote   int
}

// NewWriter prepares out for writing. It holds out's lock (LockOutput)
// until Commit or Abort, so a second writer fails with ErrLocked.
func NewWriter(out string, opt WriterOptions) (*Writer, error) {
	if opt.Force && opt.Resume {
		return nil, &OptionError{Field: "Force/Resume", Err: errors.New("exclude each other")}
	}
	// Written through, a link would put the dataset somewhere else, and
	// --force would replace the link, not the folder.
	if fi, err := os.Lstat(out); err == nil && fi.Mode()&os.ModeSymlink != 0 {
		return nil, &OptionError{Field: "Out", Err: fmt.Errorf("%s is a symbolic link; give the folder it points to", out)}
	}
	if err := checkApart(out, opt.Inputs); err != nil {
		return nil, err
	}
	lock, err := LockOutput(out)
	if err != nil {
		return nil, err
	}
	w, err := newWriter(out, opt)
	if err != nil {
		lock.Release()
		return nil, err
	}
	w.lock = lock
	return w, nil
}

func newWriter(out string, opt WriterOptions) (*Writer, error) {
	w := &Writer{final: out, dir: out, prev: map[string]Sample{}, subs: map[string]error{}}
	entries, err := os.ReadDir(out)
	exists := err == nil && len(entries) > 0
	switch {
	case exists && opt.Force:
		if err := checkOwned(out, entries, opt.Owned); err != nil {
			return nil, err
		}
		w.dir = filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".segtool-staging")
		w.staging = true
		if err := os.RemoveAll(w.dir); err != nil {
			return nil, fmt.Errorf("clear staging folder: %w", err)
		}
	case exists && opt.Resume:
		if err := w.loadPrevious(opt.Options); err != nil {
			return nil, err
		}
	case exists:
		return nil, fmt.Errorf("%s: %w", out, ErrExists)
	}
	for _, sub := range []string{ImagesDir, MasksDir} {
		if err := os.MkdirAll(filepath.Join(w.dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("create output: %w", err)
		}
	}
	if w.prevInfo == nil {
		b, _ := json.MarshalIndent(Info{Options: opt.Options}, "", "  ")
		if err := WriteFileAtomic(filepath.Join(w.dir, partialInfoFile), append(b, '\n')); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// loadPrevious reads the rows of a finished or partial dataset for resume.
func (w *Writer) loadPrevious(opts map[string]any) error {
	var info Info
	infoPath := filepath.Join(w.dir, InfoFile)
	finished := IsFile(infoPath)
	if !finished {
		infoPath = filepath.Join(w.dir, partialInfoFile)
	}
	if b, err := os.ReadFile(infoPath); err == nil {
		if err := json.Unmarshal(b, &info); err != nil {
			return fmt.Errorf("resume: %s: %w", infoPath, err)
		}
		if !sameOptions(info.Options, opts) {
			return fmt.Errorf("resume: %s was %w (%v)", w.dir, ErrOtherOptions, info.Options)
		}
	}
	if finished {
		w.prevInfo = &info
	}
	for _, f := range []string{ManifestFile, JournalFile} {
		p := filepath.Join(w.dir, f)
		if !IsFile(p) {
			continue
		}
		rows, err := ReadRows(p)
		if err != nil {
			return fmt.Errorf("resume: %w", err)
		}
		for _, r := range rows {
			w.prev[r.ID] = r
		}
	}
	return nil
}

// sameOptions compares option maps through JSON, as they were stored.
func sameOptions(a, b map[string]any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var na, nb any
	_ = json.Unmarshal(ja, &na)
	_ = json.Unmarshal(jb, &nb)
	return reflect.DeepEqual(na, nb)
}

// Dir is the folder being written (a staging folder under --force).
func (w *Writer) Dir() string { return w.dir }

// Previous returns the row a previous run wrote for id when all its files
// still exist with their recorded sha256: its planes, which must each have
// a sum, and any other file the row lists in sha256 (a composite's fg/ and
// bg/ layers). A path that leaves the folder is never intact.
func (w *Writer) Previous(id string) (Sample, bool) {
	s, ok := w.prev[id]
	if !ok {
		return s, false
	}
	for _, rel := range s.Files() {
		if _, ok := s.SHA256[rel]; !ok {
			return s, false
		}
	}
	for rel, want := range s.SHA256 {
		if !filepath.IsLocal(filepath.FromSlash(rel)) {
			return s, false
		}
		sum, err := FileSHA256(filepath.Join(w.dir, filepath.FromSlash(rel)))
		if err != nil || sum != want {
			return s, false
		}
	}
	return s, true
}

// SHA256 returns the hex sha256 of b, as manifests record it.
func SHA256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// FileSHA256 returns the hex sha256 of a file's bytes.
func FileSHA256(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// WriteBytes writes data as sub/<id><ext> atomically and returns the
// relative path and the data's sha256.
func (w *Writer) WriteBytes(sub, id, ext string, data []byte) (rel, sum string, err error) {
	dst, err := w.target(sub, id, ext)
	if err != nil {
		return "", "", err
	}
	if err := WriteFileAtomic(dst, data); err != nil {
		return "", "", fmt.Errorf("sample %s: %w", id, err)
	}
	return w.counted(sub+"/"+id+ext, data)
}

// target returns the path of sub/<stem><ext>, creating sub, and refuses a
// name that is not one file or a folder that resolves outside the
// output. The file itself is replaced by a rename, which replaces a link
// rather than writing through it.
func (w *Writer) target(sub, stem, ext string) (string, error) {
	dst, err := SampleFile(w.dir, sub, stem, ext)
	if err != nil {
		return "", fmt.Errorf("sample %s: %w", stem, err)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	serr, ok := w.subs[sub]
	if !ok {
		serr = CheckInside(w.dir, filepath.Dir(dst))
		if serr == nil {
			serr = os.MkdirAll(filepath.Dir(dst), 0o755)
		}
		w.subs[sub] = serr
	}
	if serr != nil {
		return "", fmt.Errorf("sample %s: %w", stem, serr)
	}
	return dst, nil
}

// counted counts one file written and returns its path with data's sha256.
func (w *Writer) counted(rel string, data []byte) (string, string, error) {
	w.mu.Lock()
	w.wrote++
	w.mu.Unlock()
	return rel, SHA256(data), nil
}

// WriteMat encodes m (".png", or ".jpg" at jpegQuality) to sub/<id><ext>.
func (w *Writer) WriteMat(sub, id, ext string, m gocv.Mat, jpegQuality int) (rel, sum string, err error) {
	data, err := encode(m, ext, jpegQuality)
	if err != nil {
		return "", "", fmt.Errorf("sample %s: encode %s: %w", id, sub, err)
	}
	return w.WriteBytes(sub, id, ext, data)
}

// LinkFile hard-links src as sub/<id><ext> (copying where a link is not
// possible); data is src's content, for the checksum.
func (w *Writer) LinkFile(sub, id, ext, src string, data []byte) (rel, sum string, err error) {
	rel = sub + "/" + id + ext
	dst, err := w.target(sub, id, ext)
	if err != nil {
		return "", "", err
	}
	tmp := dst + ".tmp-link"
	os.Remove(tmp)
	if err := os.Link(src, tmp); err != nil {
		return w.WriteBytes(sub, id, ext, data)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return "", "", fmt.Errorf("sample %s: %w", id, err)
	}
	return w.counted(rel, data)
}

// Keep records a row reused unchanged from a previous run.
func (w *Writer) Keep(s Sample) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rows = append(w.rows, s)
}

// Add records new rows and appends them to the journal, so an interrupted
// run can be resumed without redoing them. It refuses an unsafe id.
func (w *Writer) Add(rows ...Sample) error {
	var buf bytes.Buffer
	for i := range rows {
		// A row Open would refuse must not be published.
		if err := CheckID(rows[i].ID); err != nil {
			return err
		}
		b, err := json.Marshal(&rows[i])
		if err != nil {
			return fmt.Errorf("sample %s: %w", rows[i].ID, err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.journal == nil {
		f, err := os.OpenFile(filepath.Join(w.dir, JournalFile), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return fmt.Errorf("journal: %w", err)
		}
		w.journal = f
	}
	if _, err := w.journal.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	w.rows = append(w.rows, rows...)
	return nil
}

// Reject records rejects.jsonl lines.
func (w *Writer) Reject(rs ...Reject) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.rejects = append(w.rejects, rs...)
}

// Rows returns the rows recorded so far.
func (w *Writer) Rows() []Sample {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]Sample(nil), w.rows...)
}

// FilesWritten counts the sample files this writer wrote.
func (w *Writer) FilesWritten() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.wrote
}

// SortRejects orders rejects by source path, then stage, so that
// rejects.jsonl does not depend on scheduling.
func SortRejects(rs []Reject) {
	key := func(r Reject) string {
		if len(r.Source) > 0 {
			return r.Source[0]
		}
		return r.ID
	}
	sort.SliceStable(rs, func(i, j int) bool {
		if a, b := key(rs[i]), key(rs[j]); a != b {
			return a < b
		}
		return rs[i].Stage+rs[i].Code < rs[j].Stage+rs[j].Code
	})
}

func encodeRejects(rs []Reject) []byte {
	var buf bytes.Buffer
	for _, r := range rs {
		b, _ := json.Marshal(r)
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes()
}

// endJournal closes the journal and puts the rejects in their order; the
// caller holds w.mu.
func (w *Writer) endJournal() {
	if w.journal != nil {
		w.journal.Close()
		w.journal = nil
	}
	SortRejects(w.rejects)
}

// Commit publishes the dataset: rejects.jsonl, manifest.jsonl and finally
// dataset.json, each only where its bytes change. Under --force the staging
// folder then replaces the old dataset.
func (w *Writer) Commit(info Info) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.endJournal()
	info.Samples = len(w.rows)
	info.Counts = map[string]int{}
	for _, s := range w.rows {
		info.Counts[s.Split]++
	}
	info.Rejects, info.Flagged = TallyRejects(w.rejects, nil)
	if w.prevInfo != nil {
		info.Created = w.prevInfo.Created
	}
	if info.Created == "" {
		info.Created = time.Now().UTC().Format(time.RFC3339)
	}
	if _, err := WriteFileIfChanged(filepath.Join(w.dir, RejectsFile), encodeRejects(w.rejects)); err != nil {
		return err
	}
	if err := WriteManifest(w.dir, w.rows); err != nil {
		return err
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err != nil {
		return err
	}
	if _, err := WriteFileIfChanged(filepath.Join(w.dir, InfoFile), append(b, '\n')); err != nil {
		return err
	}
	for _, f := range []string{JournalFile, partialInfoFile} {
		if err := os.Remove(filepath.Join(w.dir, f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	if !w.staging {
		w.lock.Release()
		return nil
	}
	old := filepath.Join(filepath.Dir(w.final), "."+filepath.Base(w.final)+".segtool-old")
	os.RemoveAll(old)
	if err := os.Rename(w.final, old); err != nil {
		return fmt.Errorf("replace %s: %w", w.final, err)
	}
	if err := os.Rename(w.dir, w.final); err != nil {
		return fmt.Errorf("replace %s: %w", w.final, err)
	}
	w.dir = w.final
	err = os.RemoveAll(old)
	w.lock.Release()
	return err
}

// Abort stops writing and leaves a resumable partial dataset (or, under
// --force, the previous dataset untouched). The rejects seen so far are
// written so the user can read why.
func (w *Writer) Abort() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	defer w.lock.Release()
	w.endJournal()
	return WriteFileAtomic(filepath.Join(w.dir, RejectsFile), encodeRejects(w.rejects))
}

// Updater rewrites the rows of an existing dataset in place, for jobs that
// add to a dataset (trimaps) rather than write a new one.
type Updater struct {
	dir         string
	oldManifest []byte
	lock        *Lock
}

// OpenUpdate opens the dataset at dir for an in-place update. It holds
// dir's lock (LockOutput) until Commit.
func OpenUpdate(dir string) (*Updater, *Dataset, error) {
	lock, err := LockOutput(dir)
	if err != nil {
		return nil, nil, err
	}
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		lock.Release()
		return nil, nil, fmt.Errorf("read manifest: %w", err)
	}
	// Read under the lock, so the rows are the ones Commit replaces.
	d, err := Open(dir)
	if err != nil {
		lock.Release()
		return nil, nil, err
	}
	return &Updater{dir: dir, oldManifest: b, lock: lock}, d, nil
}

// Release gives up the lock without writing; Commit releases it too.
func (u *Updater) Release() { u.lock.Release() }

// Commit writes rows as the manifest, atomically and only where its bytes
// change, and appends to rejects.jsonl the lines of rs it does not hold
// yet. Both are attempted even when one fails. It releases the lock.
func (u *Updater) Commit(rows []Sample, rs []Reject) (changed bool, added int, err error) {
	defer u.lock.Release()
	b, err := EncodeRows(rows)
	if err != nil {
		return false, 0, err
	}
	changed = !bytes.Equal(b, u.oldManifest)
	_, saveErr := WriteFileIfChanged(filepath.Join(u.dir, ManifestFile), b)
	added, rerr := appendRejects(u.dir, rs)
	return changed, added, errors.Join(saveErr, rerr)
}

// appendRejects appends to rejects.jsonl the lines it does not already
// hold, atomically, and returns how many it added.
func appendRejects(dir string, rs []Reject) (int, error) {
	if len(rs) == 0 {
		return 0, nil
	}
	p := filepath.Join(dir, RejectsFile)
	old, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("read rejects: %w", err)
	}
	have := map[string]bool{}
	for _, line := range bytes.Split(old, []byte("\n")) {
		if len(bytes.TrimSpace(line)) > 0 {
			have[string(line)] = true
		}
	}
	buf := append([]byte(nil), old...)
	if len(buf) > 0 && buf[len(buf)-1] != '\n' {
		buf = append(buf, '\n')
	}
	n := 0
	for _, r := range rs {
		b, err := json.Marshal(r)
		if err != nil {
			return 0, err
		}
		if have[string(b)] {
			continue
		}
		have[string(b)] = true
		buf = append(append(buf, b...), '\n')
		n++
	}
	if n == 0 {
		return 0, nil
	}
	return n, WriteFileAtomic(p, buf)
}
