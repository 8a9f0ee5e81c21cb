package dataset

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"

	"gocv.io/x/gocv"
)

// Problem is one mismatch found by Validate.
type Problem struct {
	Line   int    `json:"line,omitempty"` // of manifest.jsonl, for a row Open refuses
	ID     string `json:"id,omitempty"`
	Path   string `json:"path,omitempty"`
	Reason string `json:"reason"`
	Err    error  `json:"-"` // what Reason says, for errors.Is, where there is one
}

func (p Problem) String() string {
	if p.Line > 0 {
		q := p
		q.Line = 0
		return fmt.Sprintf("%s:%d: %s", ManifestFile, p.Line, q)
	}
	switch {
	case p.ID != "" && p.Path != "":
		return fmt.Sprintf("%s: %s: %s", p.ID, p.Path, p.Reason)
	case p.Path != "":
		return p.Path + ": " + p.Reason
	}
	return p.ID + ": " + p.Reason
}

// Validate checks every manifest row against its files: each exists, has
// the recorded sha256 and the row's size, masks are strictly 0/255 with the
// recorded fg_fraction, trimaps are 0/128/255, and splits are well
// formed; ids, paths and counts are Load's to check. Files in the sample folders that no row references are
// reported too. progress, if set, is called after each row. workers <= 0
// means all cores, as in every job.
func Validate(ctx context.Context, d *Dataset, workers int, progress func(done, total int)) ([]Problem, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	var (
		mu       sync.Mutex
		problems []Problem
		done     int
		wg       sync.WaitGroup
	)
	add := func(ps ...Problem) {
		mu.Lock()
		problems = append(problems, ps...)
		mu.Unlock()
	}
	validSplit := map[string]bool{"train": true, "val": true, "test": true}
	referenced := map[string]bool{}
	for i, s := range d.Samples {
		if !validSplit[s.Split] {
			add(Problem{ID: s.ID, Reason: fmt.Sprintf("split %q is not train, val or test", s.Split)})
		}
		if i > 0 && d.Samples[i-1].ID > s.ID {
			add(Problem{ID: s.ID, Reason: "manifest is not sorted by id"})
		}
		if s.Image == "" || s.Mask == "" {
			add(Problem{ID: s.ID, Reason: "row lacks image or mask"})
		}
		for _, f := range s.Files() {
			referenced[f] = true
		}
		for f := range s.SHA256 {
			referenced[f] = true
		}
	}
	jobs := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				add(checkRow(d, &d.Samples[i])...)
				if progress != nil {
					mu.Lock()
					done++
					n := done
					mu.Unlock()
					progress(n, len(d.Samples))
				}
			}
		}()
	}
	for i := range d.Samples {
		if ctx.Err() != nil {
			break
		}
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return problems, err
	}
	// Sample folders: the canonical ones and any other a row points into
	// (generated trimaps, composite layers).
	dirs := map[string]bool{ImagesDir: true, MasksDir: true, AlphasDir: true, InstancesDir: true, TrimapsDir: true}
	for f := range referenced {
		if i := strings.IndexByte(f, '/'); i > 0 {
			dirs[f[:i]] = true
		}
	}
	for sub := range dirs {
		entries, _ := os.ReadDir(filepath.Join(d.Dir, sub))
		for _, e := range entries {
			if rel := sub + "/" + e.Name(); !referenced[rel] {
				problems = append(problems, Problem{Path: rel, Reason: "file not referenced by any manifest row"})
			}
		}
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].String() < problems[j].String() })
	return problems, nil
}

func checkRow(d *Dataset, s *Sample) []Problem {
	var ps []Problem
	bad := func(path, format string, args ...any) {
		ps = append(ps, Problem{ID: s.ID, Path: path, Reason: fmt.Sprintf(format, args...)})
	}
	// Files beyond the row's own fields (generated trimaps, layers) are
	// checked for existence and checksum.
	own := map[string]bool{}
	for _, rel := range s.Files() {
		own[rel] = true
	}
	extra := make([]string, 0, len(s.SHA256))
	for rel := range s.SHA256 {
		if !own[rel] {
			extra = append(extra, rel)
		}
	}
	sort.Strings(extra)
	for _, rel := range extra {
		b, err := os.ReadFile(d.Path(rel))
		if err != nil {
			bad(rel, "missing or unreadable: %v", err)
		} else if got := SHA256(b); got != s.SHA256[rel] {
			bad(rel, "sha256 %s does not match the manifest's %s", got[:12], s.SHA256[rel][:min(12, len(s.SHA256[rel]))])
		}
	}
	for _, rel := range s.Files() {
		b, err := os.ReadFile(d.Path(rel))
		if err != nil {
			bad(rel, "missing or unreadable: %v", err)
			continue
		}
		if want, ok := s.SHA256[rel]; !ok {
			bad(rel, "no sha256 recorded")
		} else if got := SHA256(b); got != want {
			bad(rel, "sha256 %s does not match the manifest's %s", got[:12], want[:min(12, len(want))])
		}
		var m gocv.Mat
		if rel == s.Image {
			m, _, _, err = d.Decoder.RGB(rel, b)
		} else {
			m, _, _, err = d.Decoder.Label(rel, b)
		}
		if err != nil {
			bad(rel, "cannot decode: %v", err)
			continue
		}
		if m.Cols() != s.Width || m.Rows() != s.Height {
			bad(rel, "size %dx%d, manifest says %dx%d", m.Cols(), m.Rows(), s.Width, s.Height)
		} else {
			switch rel {
			case s.Mask:
				// Every pixel is counted, so both checks report what they
				// measured over the whole mask.
				px, _ := m.DataPtrUint8()
				fg, other, first := 0, 0, -1
				for i, v := range px {
					switch v {
					case 255:
						fg++
					case 0:
					default:
						if other++; first < 0 {
							first = i
						}
					}
				}
				if other > 0 {
					bad(rel, "mask values check: %d of %d pixels are neither 0 nor 255, the first %d at x=%d y=%d",
						other, len(px), px[first], first%s.Width, first/s.Width)
				}
				if f := float64(fg) / float64(len(px)); math.Abs(f-s.FGFrac) > 1e-9 {
					bad(rel, "fg_fraction check: %d of %d pixels are 255, a fraction of %.9f; the manifest records %.9f",
						fg, len(px), f, s.FGFrac)
				}
			case s.Trimap:
				px, _ := m.DataPtrUint8()
				for _, v := range px {
					if v != 0 && v != 128 && v != 255 {
						bad(rel, "trimap value %d is not 0, 128 or 255", v)
						break
					}
				}
			}
		}
		m.Close()
	}
	return ps
}
