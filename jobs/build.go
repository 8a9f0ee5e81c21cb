package jobs

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/segtool/segtool/dataset"
)

// BuildOptions configure Build. The zero value of each field means "off"
// unless noted.
type BuildOptions struct {
	Format       string // a registered format name, or "auto"
	Src, Out     string
	Name         string         // dataset name (default: the base name of Out)
	Version      string         // segtool version, recorded in dataset.json
	Ratios       dataset.Ratios // used for sources without official splits
	ValFromTrain float64
	Seed         int64
	Resize       image.Point // exact output size (W, H)
	MaxSide      int         // downscale so the longer side is at most this
	Crops        int         // random CropSize x CropSize crops per image
	CropSize     int
	JPEGQuality  int // default 95
	Link         bool
	// ResizeMode is how Resize meets another aspect ratio (default
	// dataset.ResizePad); the row notes what was done.
	ResizeMode dataset.ResizeMode
	RunOptions
}

// BuildSummary is what a build did.
type BuildSummary struct {
	Tally
	Format      string
	Candidates  int
	Notes       map[string]int // conversions, by note
	Thresholded int            // masks thresholded at 128
}

// outputOptions are the options that decide the output's bytes; Resume
// only continues a dataset built with the same ones.
func (o *BuildOptions) outputOptions(format string) map[string]any {
	m := map[string]any{
		"format": format, "seed": o.Seed, "split": o.Ratios[:], "val_from_train": o.ValFromTrain,
		"jpeg_quality": o.JPEGQuality, "link": o.Link,
	}
	if o.Resize != (image.Point{}) {
		m["resize"] = fmt.Sprintf("%dx%d", o.Resize.X, o.Resize.Y)
		// Stretch, the only mode before there were modes, is left out so
		// that the options of such datasets stay as they were, and one is
		// never resumed with padded or cropped rows.
		if o.ResizeMode != dataset.ResizeStretch {
			m["resize_mode"] = string(o.ResizeMode)
		}
	}
	if o.MaxSide > 0 {
		m["max_side"] = o.MaxSide
	}
	if o.Crops > 0 {
		m["crops"], m["crop_size"] = o.Crops, o.CropSize
	}
	return m
}

// buildNotes is what a candidate's decode reported besides its rows.
type buildNotes struct {
	notes  []string
	thresh bool
}

// Build turns the raw source o.Src into a canonical dataset at o.Out. A
// build in which every input was rejected returns ErrNoRows.
func Build(ctx context.Context, o BuildOptions) (BuildSummary, error) {
	start := time.Now()
	sum := BuildSummary{Tally: newTally(o.Out), Notes: map[string]int{}}
	if o.JPEGQuality == 0 {
		o.JPEGQuality = 95
	}
	if o.Ratios == (dataset.Ratios{}) {
		o.Ratios = dataset.Ratios{0.8, 0.1, 0.1}
	}
	if o.Crops > 0 && o.CropSize < 1 {
		return sum, &dataset.OptionError{Field: "CropSize", Err: errors.New("must be positive to cut crops")}
	}
	if o.ResizeMode == "" {
		o.ResizeMode = dataset.ResizePad
	}
	if !slices.Contains(dataset.ResizeModes(), o.ResizeMode) {
		return sum, &dataset.OptionError{Field: "ResizeMode", Err: fmt.Errorf("unknown mode %q (want %s)", o.ResizeMode, joinModes(dataset.ResizeModes()))}
	}
	if st, err := os.Stat(o.Src); err != nil || !st.IsDir() {
		return sum, fmt.Errorf("source %s is not a folder", o.Src)
	}
	f, err := dataset.LookupFormat(o.Format, o.Src)
	if err != nil {
		return sum, err
	}
	sum.Format = f.Name()
	cands, rejects, err := f.Scan(ctx, o.Src)
	if err != nil {
		return sum, fmt.Errorf("scan %s as %s: %w", o.Src, f.Name(), err)
	}
	cands, dups := buildDedupe(cands, &o)
	rejects = append(rejects, dups...)
	sum.Candidates = len(cands)

	abs, _ := filepath.Abs(o.Src)
	d := Dataset{
		Out: o.Out, RunOptions: o.RunOptions,
		Options: o.outputOptions(f.Name()),
		Info:    dataset.Info{Name: o.Name, Version: o.Version, Format: f.Name(), SourceDir: abs},
		Inputs:  []string{o.Src},
		Rejects: rejects,
	}
	notes := make([]buildNotes, len(cands))
	t, _, err := d.Run(ctx, len(cands), func(ctx context.Context, w *dataset.Writer, i int) (Outcome, error) {
		return buildOne(ctx, &o, w, cands[i], &notes[i])
	})
	sum.Tally = t
	for _, n := range notes {
		for _, s := range n.notes {
			sum.Notes[s]++
		}
		if n.thresh {
			sum.Thresholded++
		}
	}
	sum.Elapsed = time.Since(start)
	return sum, err
}

// buildDedupe drops the second and later candidates that map to one id, as
// rejects naming the source that kept it, and the candidates whose ids
// would not be safe file stems (a hidden file's, an over-long path's).
func buildDedupe(cands []dataset.Candidate, o *BuildOptions) ([]dataset.Candidate, []dataset.Reject) {
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Key < cands[j].Key })
	seen := map[string]string{}
	var out []dataset.Candidate
	var rejects []dataset.Reject
	for _, c := range cands {
		id := dataset.ID(c.Key)
		if err := buildCheckIDs(o.outputIDs(id)); err != nil {
			rejects = append(rejects, dataset.Reject{ID: id, Source: c.Sources, Stage: "scan", Code: dataset.CodeUnsafeID, Reason: err.Error()})
			continue
		}
		if first, dup := seen[id]; dup {
			rejects = append(rejects, dataset.Reject{ID: id, Source: c.Sources, Stage: "scan", Code: dataset.CodeDuplicateID,
				Reason: fmt.Sprintf("duplicate id %q, already used by %s", id, first)})
			continue
		}
		seen[id] = c.Image
		out = append(out, c)
	}
	return out, rejects
}

func buildCheckIDs(ids []string) error {
	for _, id := range ids {
		if err := dataset.CheckID(id); err != nil {
			return err
		}
	}
	return nil
}

// outputIDs lists the ids a candidate produces.
func (o *BuildOptions) outputIDs(id string) []string {
	if o.Crops <= 0 {
		return []string{id}
	}
	ids := make([]string, o.Crops)
	for k := range ids {
		ids[k] = fmt.Sprintf("%s_c%d", id, k)
	}
	return ids
}

// buildOne turns one candidate into rows, or rejects, and records its
// conversions in n. Only failures to write the output are returned as
// errors: bad input is a reject.
func buildOne(ctx context.Context, o *BuildOptions, w *dataset.Writer, c dataset.Candidate, n *buildNotes) (Outcome, error) {
	id := dataset.ID(c.Key)
	if err := ctx.Err(); err != nil {
		return Outcome{}, err
	}
	if o.Resume {
		var prev []dataset.Sample
		for _, oid := range o.outputIDs(id) {
			s, ok := w.Previous(oid)
			if !ok {
				prev = nil
				break
			}
			prev = append(prev, s)
		}
		if prev != nil {
			return Outcome{Kept: prev}, nil
		}
	}
	reject := func(err error, stage string) (Outcome, error) {
		code := dataset.CodeCorrupt
		var se *dataset.SampleError
		if errors.As(err, &se) {
			code = se.Code
		}
		return Outcome{Rejects: []dataset.Reject{{ID: id, Source: c.Sources, Stage: stage, Code: code, Reason: err.Error()}}}, nil
	}
	src, err := dataset.LoadCandidate(o.Src, c, dataset.Decoder{MaxPixels: o.MaxPixels})
	if err != nil {
		return reject(err, "decode")
	}
	defer src.Close()
	if err := src.CheckSizes(); err != nil {
		return reject(err, "check")
	}
	var flags []dataset.Reject
	if src.AmbiguousOrientation() {
		flags = append(flags, dataset.Reject{ID: id, Source: c.Sources, Stage: "check", Code: dataset.CodeAmbiguousOrientation, Kept: true,
			Reason: fmt.Sprintf("EXIF orientation %d was applied to the image; its labels' size cannot show whether they were drawn before or after it; sample kept but flagged", src.Orientation)})
	}

	planes := src.Planes
	size := planes.Size()
	target := buildTargetSize(size, o.Resize, o.MaxSide)
	resized := target != size
	var fitNote string
	switch {
	case resized && o.Resize != (image.Point{}):
		if planes, fitNote, err = planes.Fit(target, o.ResizeMode); err != nil {
			return reject(&dataset.SampleError{Code: dataset.CodeCorrupt, Path: c.Image, Err: err}, "resize")
		}
		defer planes.Close()
	case resized:
		if planes, err = planes.Resize(target); err != nil {
			return reject(&dataset.SampleError{Code: dataset.CodeCorrupt, Path: c.Image, Err: err}, "resize")
		}
		defer planes.Close()
	}
	views, ids := []dataset.Planes{planes}, []string{id}
	if o.Crops > 0 {
		if target.X < o.CropSize || target.Y < o.CropSize {
			// The reason is data (rejects.jsonl): it keeps naming the flag.
			return reject(&dataset.SampleError{Code: dataset.CodeTooSmall, Path: c.Image,
				Err: fmt.Errorf("image is %dx%d, smaller than --crop-size %d", target.X, target.Y, o.CropSize)}, "check")
		}
		views, ids = nil, nil
		for k, cid := range o.outputIDs(id) {
			rng := buildSampleRand(o.Seed, id, k)
			x := rng.IntN(target.X - o.CropSize + 1)
			y := rng.IntN(target.Y - o.CropSize + 1)
			v := planes.Crop(image.Rect(x, y, x+o.CropSize, y+o.CropSize))
			defer v.Close()
			views = append(views, v)
			ids = append(ids, cid)
		}
	}

	// A clip's frames share one split (SplitKey), so no clip straddles
	// train and test.
	split := dataset.SplitFor(c.SplitKey(), c.Split, o.Ratios, o.ValFromTrain, o.Seed)
	unchanged := !resized && o.Crops == 0 && src.Verbatim
	out := Outcome{Rejects: flags}
	for i, v := range views {
		sz := v.Size()
		s := dataset.Sample{ID: ids[i], Split: split, Width: sz.X, Height: sz.Y, Source: c.Sources,
			SHA256: map[string]string{}, Boxes: v.Boxes, Notes: src.Notes}
		if o.Crops > 0 {
			s.Parent = id
		}
		if c.Clip != "" {
			frame := c.Frame
			s.Clip, s.Frame = c.Clip, &frame
		}
		if fitNote != "" {
			s.Notes = append(append([]string(nil), s.Notes...), fitNote)
		}
		var err error
		if o.Link && unchanged {
			err = w.LinkImage(&s, src.Path, src.Ext, src.Raw)
		} else {
			err = w.WriteImage(&s, v.Image, src.Ext, o.JPEGQuality)
		}
		if lerr := w.WriteLabels(&s, v); err == nil {
			err = lerr
		}
		if lerr := w.WriteLayers(&s, v); err == nil {
			err = lerr
		}
		if err != nil {
			return Outcome{}, fmt.Errorf("sample %s (%s): %w", s.ID, c.Image, err)
		}
		fg := v.Foreground()
		s.FGFrac = float64(fg) / float64(s.Width*s.Height)
		if fg == 0 {
			s.Notes = append(append([]string(nil), s.Notes...), "all-zero mask")
			out.Rejects = append(out.Rejects, dataset.Reject{ID: s.ID, Source: c.Sources, Stage: "check", Code: dataset.CodeEmptyMask, Kept: true,
				Reason: "mask is all background; sample kept but flagged"})
		}
		out.Rows = append(out.Rows, s)
	}
	n.notes, n.thresh = src.Notes, src.Thresholded
	return out, nil
}

// buildSampleRand is a generator seeded from (seed, id, k) alone, so what
// it draws never depends on worker scheduling.
func buildSampleRand(seed int64, id string, k int) *rand.Rand {
	h := sha256.New()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(seed))
	binary.LittleEndian.PutUint64(b[8:], uint64(k))
	h.Write(b[:])
	h.Write([]byte(id))
	s := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(s[:8]), binary.LittleEndian.Uint64(s[8:16])))
}

func joinModes(modes []dataset.ResizeMode) string {
	var s []string
	for _, m := range modes {
		s = append(s, string(m))
	}
	return strings.Join(s, ", ")
}

// buildTargetSize applies Resize or MaxSide to size.
func buildTargetSize(size, resize image.Point, maxSide int) image.Point {
	if resize != (image.Point{}) {
		return resize
	}
	if maxSide > 0 && max(size.X, size.Y) > maxSide {
		if size.X >= size.Y {
			return image.Pt(maxSide, max(1, int(float64(size.Y)*float64(maxSide)/float64(size.X)+0.5)))
		}
		return image.Pt(max(1, int(float64(size.X)*float64(maxSide)/float64(size.Y)+0.5)), maxSide)
	}
	return size
}
