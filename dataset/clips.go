package dataset

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"gocv.io/x/gocv"
)

// Folders of a canonical dataset that hold a video-matting source's colour
// layers, beside images/ (the names composite uses for its layers too).
const (
	FGDir = "fg"
	BGDir = "bg"
)

// clipLayout is a source of video clips: each folder below the source is
// one clip, whose frames sit in one subfolder and whose labels and colour
// layers sit in others, paired by file stem.
type clipLayout struct {
	frames      string // the frames' subfolder
	alpha, mask string // label subfolders ("" when the layout has none); each frame needs one
	fg, bg      string // optional colour layers' subfolders
}

// videoMatteLayout is RobustVideoMatting's evaluation layout
// (evaluation/generate_videomatte_with_background_*.py):
// <clip>/com/NNNN.png is the composite, <clip>/pha/NNNN.png its alpha, and
// <clip>/fgr/ and <clip>/bgr/ hold the foreground and background it was
// composed from.
var videoMatteLayout = clipLayout{frames: "com", alpha: "pha", fg: "fgr", bg: "bgr"}

// framesLayout is a plain folder of clips: <clip>/frames/ with
// <clip>/alphas/ and/or <clip>/masks/, as the folder format's images/
// with alphas/ and masks/.
var framesLayout = clipLayout{frames: "frames", alpha: AlphasDir, mask: MasksDir}

func (l clipLayout) labelDirs() []string { return nonEmpty(l.alpha, l.mask) }

// isClip reports whether dir (below src) is one of this layout's clips.
func (l clipLayout) isClip(dir string) bool {
	if !IsDir(filepath.Join(dir, l.frames)) {
		return false
	}
	for _, sub := range l.labelDirs() {
		if IsDir(filepath.Join(dir, sub)) {
			return true
		}
	}
	return false
}

// detect wants at least one clip folder below src, or in a group folder
// below it (hasClips).
func (l clipLayout) detect(src string) bool {
	return l.hasClips(src, true)
}

// hasClips reports whether a folder directly below dir is a clip, or,
// with groups, holds clips directly below it.
func (l clipLayout) hasClips(dir string, groups bool) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		p := filepath.Join(dir, e.Name())
		if l.isClip(p) || groups && l.hasClips(p, false) {
			return true
		}
	}
	return false
}

// scan lists the clips in name order and each clip's frames in frame
// order (frameLess). A folder below src that holds clips rather than being
// one is a group (RobustVideoMatting's videomatte_motion/ and
// videomatte_static/ below videomatte_512x288/): its clips are named
// "<group>/<clip>". A frame's index is its position among the clip's
// frame files, so a frame rejected here leaves a gap rather than moving
// the frames after it.
func (l clipLayout) scan(ctx context.Context, src string) ([]Candidate, []Reject, error) {
	var cands []Candidate
	var rejects []Reject
	want := strings.Join(l.labelDirs(), "/ or ")
	var walk func(rel string, groups bool) error
	walk = func(rel string, groups bool) error {
		entries, err := os.ReadDir(filepath.Join(src, rel))
		if err != nil {
			return err
		}
		for _, e := range entries {
			clip := path.Join(rel, e.Name())
			dir := filepath.Join(src, clip)
			switch {
			case !IsDir(dir):
				rejects = append(rejects, Reject{Source: []string{clip}, Stage: "scan", Code: CodeNotImage,
					Reason: fmt.Sprintf("not a clip folder: a file beside the clips (each clip is a folder with %s/ and %s/)", l.frames, want)})
			case l.isClip(dir):
				cs, rj, err := l.scanClip(ctx, src, clip)
				if err != nil {
					return err
				}
				cands = append(cands, cs...)
				rejects = append(rejects, rj...)
			case groups && l.hasClips(dir, false):
				if err := walk(clip, false); err != nil {
					return err
				}
			default:
				rejects = append(rejects, Reject{Source: []string{clip}, Stage: "scan", Code: CodeMissingPartner,
					Reason: fmt.Sprintf("not a clip folder: it lacks %s/ or %s/", l.frames, want)})
			}
		}
		return nil
	}
	if err := walk("", true); err != nil {
		return nil, nil, err
	}
	return cands, rejects, nil
}

func (l clipLayout) scanClip(ctx context.Context, src, clip string) ([]Candidate, []Reject, error) {
	root := clip + "/" + l.frames
	frames, rejects, err := listFiles(ctx, src, root)
	if err != nil {
		return nil, nil, err
	}
	idx := map[string]map[string]string{}
	subs := nonEmpty(l.alpha, l.mask, l.fg, l.bg)
	for _, sub := range subs {
		m, rj, err := stemIndex(ctx, src, clip+"/"+sub)
		if err != nil {
			return nil, nil, err
		}
		idx[sub] = m
		rejects = append(rejects, rj...)
	}
	stem := func(f string) string {
		k := strings.TrimPrefix(f, root+"/")
		return strings.TrimSuffix(k, path.Ext(k))
	}
	sort.SliceStable(frames, func(i, j int) bool { return frameLess(stem(frames[i]), stem(frames[j])) })
	var cands []Candidate
	used := map[string]bool{}
	for i, f := range frames {
		s := stem(f)
		// The key keeps the extension, which ID drops, so that a stem
		// with a dot ("frame.001") keeps all of it in the id.
		key := clip + "/" + strings.TrimPrefix(f, root+"/")
		if used[s] {
			rejects = append(rejects, Reject{Source: []string{f}, Stage: "scan", Code: CodeDuplicateID,
				Reason: fmt.Sprintf("another frame of clip %s has the stem %s", clip, s)})
			continue
		}
		used[s] = true
		alpha, mask := idx[l.alpha][s], idx[l.mask][s]
		fg, bg := idx[l.fg][s], idx[l.bg][s]
		if alpha == "" && mask == "" {
			var looked []string
			for _, sub := range l.labelDirs() {
				looked = append(looked, fmt.Sprintf("%s/%s/%s.*", clip, sub, s))
			}
			rejects = append(rejects, Reject{ID: ID(key), Source: nonEmpty(f, fg, bg), Stage: "scan", Code: CodeMissingPartner,
				Reason: fmt.Sprintf("frame %d of clip %s has no label (looked for %s)", i, clip, strings.Join(looked, " and "))})
			continue
		}
		cands = append(cands, Candidate{
			Key: key, Image: f, Sources: nonEmpty(f, alpha, mask, fg, bg), Clip: clip, Frame: i,
			Labels: func(src string, d Decoder) (Labels, error) { return loadClipLabels(src, d, mask, alpha, fg, bg) },
		})
	}
	for _, sub := range subs {
		rejects = append(rejects, unpaired(idx[sub], used, func(s string) string {
			return fmt.Sprintf("no frame %s/%s.* for this %s file", root, s, sub)
		})...)
	}
	return cands, rejects, nil
}

// frameLess orders frame stems by number when both are decimal numbers
// ("9" before "10"), numbers before other names, and names as strings.
func frameLess(a, b string) bool {
	na, ea := strconv.ParseUint(a, 10, 64)
	nb, eb := strconv.ParseUint(b, 10, 64)
	switch {
	case ea == nil && eb == nil && na != nb:
		return na < nb
	case ea == nil && eb != nil:
		return true
	case ea != nil && eb == nil:
		return false
	}
	return a < b
}

// loadClipLabels reads a frame's labels as the folder format does (alpha
// then mask from it, or the mask), and its colour layers when present.
func loadClipLabels(src string, d Decoder, mask, alpha, fg, bg string) (Labels, error) {
	l, err := loadFolderLabels(src, d, mask, alpha, "")
	if err != nil {
		return l, err
	}
	for _, layer := range []struct {
		dst *gocv.Mat
		rel string
	}{{&l.FG, fg}, {&l.BG, bg}} {
		if layer.rel == "" {
			continue
		}
		b, err := readFile(src, layer.rel)
		if err == nil {
			var notes []string
			*layer.dst, _, notes, err = d.RGB(layer.rel, b)
			l.Notes = append(l.Notes, notes...)
		}
		if err != nil {
			l.Close()
			return Labels{}, err
		}
	}
	return l, nil
}

// Layers is a row's extra.layers: where its colour layers were written.
type Layers struct {
	FG string `json:"fg,omitempty"`
	BG string `json:"bg,omitempty"`
}

// WriteLayers writes p's colour layers, when present, as fg/<id>.png and
// bg/<id>.png, records their sha256 in s (so validate checks them and
// augment copies them) and their paths in s.Extra["layers"].
func (w *Writer) WriteLayers(s *Sample, p Planes) error {
	var rec Layers
	for _, l := range []struct {
		dst *string
		sub string
		m   gocv.Mat
	}{{&rec.FG, FGDir, p.FG}, {&rec.BG, BGDir, p.BG}} {
		if !present(l.m) {
			continue
		}
		rel, h, err := w.WriteMat(l.sub, s.ID, ".png", l.m, 0)
		if err != nil {
			return err
		}
		*l.dst, s.SHA256[rel] = rel, h
	}
	if rec == (Layers{}) {
		return nil
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if s.Extra == nil {
		s.Extra = map[string]json.RawMessage{}
	}
	s.Extra["layers"] = b
	return nil
}
