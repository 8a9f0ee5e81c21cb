package dataset

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// File names inside a canonical dataset.
const (
	InfoFile     = "dataset.json"
	ManifestFile = "manifest.jsonl"
	JournalFile  = "manifest.partial.jsonl"
	RejectsFile  = "rejects.jsonl"
)

// Splits in their canonical order.
var splitNames = [...]string{"train", "val", "test"}

// SplitNames returns the split names in canonical order.
func SplitNames() []string { return splitNames[:] }

// Sample is one manifest row. Paths are relative to the dataset folder.
type Sample struct {
	ID        string            `json:"id"`
	Split     string            `json:"split"`
	Image     string            `json:"image"`
	Mask      string            `json:"mask"`
	Alpha     string            `json:"alpha,omitempty"`
	Instances string            `json:"instances,omitempty"`
	Trimap    string            `json:"trimap,omitempty"`
	Width     int               `json:"width"`
	Height    int               `json:"height"`
	Source    []string          `json:"source"`
	SHA256    map[string]string `json:"sha256"` // keyed by the relative path of each written file
	FGFrac    float64           `json:"fg_fraction"`
	Boxes     [][4]float64      `json:"boxes,omitempty"`
	Parent    string            `json:"parent,omitempty"`
	// Clip and Frame place a video frame: the clip's name and the frame's
	// index in it, from 0. Frame is nil outside clip datasets.
	Clip  string   `json:"clip,omitempty"`
	Frame *int     `json:"frame,omitempty"`
	Notes []string `json:"notes,omitempty"`
	// Extra holds command-specific records (augmentation ops, composite
	// placement) so later commands can read what produced a sample.
	Extra map[string]json.RawMessage `json:"extra,omitempty"`
}

// Files returns the relative paths of every file the row references.
func (s *Sample) Files() []string {
	var fs []string
	for _, p := range []string{s.Image, s.Mask, s.Alpha, s.Instances, s.Trimap} {
		if p != "" {
			fs = append(fs, p)
		}
	}
	return fs
}

// Info is dataset.json.
type Info struct {
	Name      string         `json:"name"`
	Created   string         `json:"created"`
	Version   string         `json:"segtool_version"`
	Format    string         `json:"source_format"`
	SourceDir string         `json:"source_path"`
	Options   map[string]any `json:"options"`
	Counts    map[string]int `json:"counts"`
	Samples   int            `json:"samples"`
	Rejects   int            `json:"rejects"`
	Flagged   int            `json:"flagged"`
}

// Reject is one rejects.jsonl line: an input that was skipped, or kept but
// flagged (Kept). Code is a short stable category for tables; Reason is
// the human sentence.
type Reject struct {
	ID     string   `json:"id,omitempty"`
	Source []string `json:"source"`
	Stage  string   `json:"stage"`
	Code   string   `json:"code"`
	Reason string   `json:"reason"`
	Kept   bool     `json:"kept,omitempty"`
}

// ErrPartial marks a dataset folder whose build has not finished.
var ErrPartial = errors.New("partial dataset (an interrupted run)")

// ErrNotDataset marks a folder that holds no dataset and no trace of a
// run that was writing one.
var ErrNotDataset = errors.New("not a dataset")

// notFinished says why dir, which has no dataset.json, cannot be opened:
// it does not exist, it is empty, a run writing it stopped (ErrPartial), or
// it is some other folder (ErrNotDataset).
func notFinished(dir string) error {
	entries, err := os.ReadDir(dir)
	switch {
	case err != nil:
		return fmt.Errorf("open dataset: %w", err)
	case IsFile(filepath.Join(dir, partialInfoFile)):
		return fmt.Errorf("open %s: no %s: %w", dir, InfoFile, ErrPartial)
	case len(entries) == 0:
		return fmt.Errorf("open %s: %w: the folder is empty", dir, ErrNotDataset)
	}
	return fmt.Errorf("open %s: %w: it has no %s", dir, ErrNotDataset, InfoFile)
}

// Dataset is a canonical dataset opened for reading.
type Dataset struct {
	Dir     string
	Info    Info
	Samples []Sample
	// Decoder decodes its files (Validate, Inspect); the zero value has
	// the default pixel limit.
	Decoder Decoder
}

// Open reads dataset.json and manifest.jsonl of a finished dataset. It
// refuses, with a *ManifestError naming the lines, a manifest with a row
// no command may read: an unsafe id (CheckID), a path that leaves the
// dataset (CheckRel, or a symbolic link out), a duplicate id. So no reader
// ever opens a file outside the dataset.
func Open(dir string) (*Dataset, error) {
	d, problems, err := Load(dir)
	if err != nil {
		return nil, err
	}
	var refused []Problem
	for _, p := range problems {
		if p.Line > 0 {
			refused = append(refused, p)
		}
	}
	if len(refused) > 0 {
		return nil, &ManifestError{Dir: dir, Problems: refused}
	}
	return d, nil
}

// Load reads a finished dataset like Open but returns its problems instead
// of refusing it, for validate: the rows Open would refuse (kept out of
// d.Samples, so nothing reads them; a duplicate's first row stays) and
// counts in dataset.json that the manifest does not match.
func Load(dir string) (*Dataset, []Problem, error) {
	if _, err := os.Stat(filepath.Join(dir, JournalFile)); err == nil {
		return nil, nil, fmt.Errorf("open %s: %w", dir, ErrPartial)
	}
	b, err := os.ReadFile(filepath.Join(dir, InfoFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil, notFinished(dir)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("open dataset: %w", err)
	}
	d := &Dataset{Dir: dir}
	if err := json.Unmarshal(b, &d.Info); err != nil {
		return nil, nil, fmt.Errorf("open %s: %w", filepath.Join(dir, InfoFile), err)
	}
	mpath := filepath.Join(dir, ManifestFile)
	mb, err := os.ReadFile(mpath)
	if err != nil {
		return nil, nil, fmt.Errorf("read manifest: %w", err)
	}
	rows, lines, err := parseRows(mb, mpath)
	if err != nil {
		return nil, nil, err
	}
	problems, bad := checkRows(dir, rows, lines)
	problems = append(problems, checkCounts(b, &d.Info, rows)...)
	for i := range rows {
		if !bad[i] {
			d.Samples = append(d.Samples, rows[i])
		}
	}
	return d, problems, nil
}

// checkCounts compares dataset.json's sample count and per-split counts
// with the manifest's rows. A hand-made dataset.json without "samples" or
// "counts" is not held to them.
func checkCounts(infoJSON []byte, info *Info, rows []Sample) []Problem {
	var keys map[string]json.RawMessage
	_ = json.Unmarshal(infoJSON, &keys)
	var ps []Problem
	if _, ok := keys["samples"]; ok && info.Samples != len(rows) {
		ps = append(ps, Problem{Path: InfoFile, Reason: fmt.Sprintf("says %d samples, %s has %d rows", info.Samples, ManifestFile, len(rows))})
	}
	if _, ok := keys["counts"]; !ok {
		return ps
	}
	got := map[string]int{}
	for _, s := range rows {
		got[s.Split]++
	}
	splits := map[string]bool{}
	for k := range got {
		splits[k] = true
	}
	for k := range info.Counts {
		splits[k] = true
	}
	names := make([]string, 0, len(splits))
	for k := range splits {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if info.Counts[k] != got[k] {
			ps = append(ps, Problem{Path: InfoFile, Reason: fmt.Sprintf("counts %d %s samples, %s has %d", info.Counts[k], k, ManifestFile, got[k])})
		}
	}
	return ps
}

// Path returns the absolute path of a row's relative path.
func (d *Dataset) Path(rel string) string { return filepath.Join(d.Dir, rel) }

// ReadRows reads a JSON-lines file of Samples. A final line without its
// newline (a write cut short) is ignored, since journals are appended line
// by line.
func ReadRows(path string) ([]Sample, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read manifest: %w", err)
	}
	rows, _, err := parseRows(b, path)
	return rows, err
}

// parseRows parses JSON lines as ReadRows does and returns each row's line
// number too; name is the file, for errors.
func parseRows(b []byte, name string) ([]Sample, []int, error) {
	var rows []Sample
	var lines []int
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<26)
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var s Sample
		if err := json.Unmarshal(line, &s); err != nil {
			if n == countLines(b) && !bytes.HasSuffix(b, []byte("\n")) {
				break
			}
			return nil, nil, fmt.Errorf("%s:%d: %w", name, n, err)
		}
		rows = append(rows, s)
		lines = append(lines, n)
	}
	if err := sc.Err(); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	return rows, lines, nil
}

func countLines(b []byte) int {
	n := bytes.Count(b, []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

// EncodeRows renders rows as JSON lines sorted by id.
func EncodeRows(rows []Sample) ([]byte, error) {
	sorted := append([]Sample(nil), rows...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })
	var buf bytes.Buffer
	for i := range sorted {
		b, err := json.Marshal(&sorted[i])
		if err != nil {
			return nil, fmt.Errorf("encode sample %s: %w", sorted[i].ID, err)
		}
		buf.Write(b)
		buf.WriteByte('\n')
	}
	return buf.Bytes(), nil
}

// WriteManifest atomically replaces manifest.jsonl of dir with rows sorted
// by id. It writes nothing when the file already has these bytes, so a
// command that changes nothing leaves the dataset untouched.
func WriteManifest(dir string, rows []Sample) error {
	b, err := EncodeRows(rows)
	if err != nil {
		return err
	}
	_, err = WriteFileIfChanged(filepath.Join(dir, ManifestFile), b)
	return err
}

// ReadRejects reads rejects.jsonl; a missing file is no rejects.
func ReadRejects(dir string) ([]Reject, error) {
	b, err := os.ReadFile(filepath.Join(dir, RejectsFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read rejects: %w", err)
	}
	var out []Reject
	for i, line := range bytes.Split(b, []byte("\n")) {
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r Reject
		if err := json.Unmarshal(line, &r); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", RejectsFile, i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

// TallyRejects counts rs: rejected is the inputs skipped, flagged those
// kept but flagged. If codes is not nil, each reject's code is counted
// into it too.
func TallyRejects(rs []Reject, codes map[string]int) (rejected, flagged int) {
	for _, r := range rs {
		if codes != nil {
			codes[r.Code]++
		}
		if r.Kept {
			flagged++
		} else {
			rejected++
		}
	}
	return rejected, flagged
}

// FrameIndex is the sample's frame index in its clip, 0 outside clips.
func (s *Sample) FrameIndex() int {
	if s.Frame == nil {
		return 0
	}
	return *s.Frame
}
