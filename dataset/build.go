package dataset

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
	"sort"
	"time"

	"gocv.io/x/gocv"
)

// ErrNoSamples reports a build in which every input was rejected.
var ErrNoSamples = errors.New("no sample survived; see rejects.jsonl for the reasons")

// BuildOptions configure Build. The zero value of each field means "off"
// unless noted.
type BuildOptions struct {
	Format       string // a registered format name, or "auto"
	Src, Out     string
	Name         string // dataset name (default: the base name of Out)
	Version      string // segtool version, recorded in dataset.json
	Ratios       Ratios // used for sources without official splits
	ValFromTrain float64
	Seed         int64
	Resize       image.Point // exact output size (W, H)
	MaxSide      int         // downscale so the longer side is at most this
	Crops        int         // random CropSize x CropSize crops per image
	CropSize     int
	JPEGQuality  int // default 95
	Link         bool
	Resume       bool
	Force        bool
	FailFast     bool
	Workers      int // default 1
	// Progress, if set, is called after each candidate with the number
	// done and the total. It may be called from several goroutines.
	Progress func(done, total int)
}

// BuildSummary is what a build did.
type BuildSummary struct {
	Format      string
	Out         string
	Candidates  int
	Samples     int
	Reused      int
	Files       int
	Counts      map[string]int
	Rejects     int
	Flagged     int
	RejectCodes map[string]int
	Notes       map[string]int
	Thresholded int
	Elapsed     time.Duration
}

// outputOptions are the options that decide the output's bytes; --resume
// only continues a dataset built with the same ones.
func (o *BuildOptions) outputOptions(format string) map[string]any {
	m := map[string]any{
		"format": format, "seed": o.Seed, "split": o.Ratios[:], "val_from_train": o.ValFromTrain,
		"jpeg_quality": o.JPEGQuality, "link": o.Link,
	}
	if o.Resize != (image.Point{}) {
		m["resize"] = fmt.Sprintf("%dx%d", o.Resize.X, o.Resize.Y)
	}
	if o.MaxSide > 0 {
		m["max_side"] = o.MaxSide
	}
	if o.Crops > 0 {
		m["crops"], m["crop_size"] = o.Crops, o.CropSize
	}
	return m
}

type result struct {
	rows    []Sample
	rejects []Reject
	reused  bool
	notes   []string
	thresh  bool
	err     error
}

// Build turns the raw source o.Src into a canonical dataset at o.Out.
func Build(ctx context.Context, o BuildOptions) (BuildSummary, error) {
	start := time.Now()
	sum := BuildSummary{Out: o.Out, Counts: map[string]int{}, RejectCodes: map[string]int{}, Notes: map[string]int{}}
	if o.JPEGQuality == 0 {
		o.JPEGQuality = 95
	}
	if o.Workers < 1 {
		o.Workers = 1
	}
	if o.Ratios == (Ratios{}) {
		o.Ratios = Ratios{0.8, 0.1, 0.1}
	}
	if o.Crops > 0 && o.CropSize < 1 {
		return sum, errors.New("--crops needs --crop-size")
	}
	if !isDir(o.Src) {
		return sum, fmt.Errorf("source %s is not a folder", o.Src)
	}
	f, err := LookupFormat(o.Format, o.Src)
	if err != nil {
		return sum, err
	}
	sum.Format = f.Name()
	cands, rejects, err := f.Scan(ctx, o.Src)
	if err != nil {
		return sum, fmt.Errorf("scan %s as %s: %w", o.Src, f.Name(), err)
	}
	cands, dups := dedupe(cands)
	rejects = append(rejects, dups...)
	sum.Candidates = len(cands)

	opts := o.outputOptions(f.Name())
	w, err := NewWriter(o.Out, WriterOptions{Force: o.Force, Resume: o.Resume, Options: opts})
	if err != nil {
		return sum, err
	}
	w.Reject(rejects...)

	results := make([]result, len(cands))
	poolErr := RunPool(ctx, len(cands), o.Workers, func(ctx context.Context, j int) error {
		results[j] = buildOne(ctx, &o, w, cands[j])
		r := &results[j]
		if r.err == nil && !r.reused {
			r.err = w.Add(r.rows...)
		}
		if r.err != nil {
			return r.err
		}
		if o.FailFast {
			return FailFast(r.rejects)
		}
		return nil
	}, o.Progress)

	for _, r := range results {
		w.Reject(r.rejects...)
		if r.reused {
			for _, s := range r.rows {
				w.Keep(s)
			}
			sum.Reused += len(r.rows)
		}
		for _, n := range r.notes {
			sum.Notes[n]++
		}
		if r.thresh {
			sum.Thresholded++
		}
	}
	sum.Files = w.FilesWritten()
	sum.Elapsed = time.Since(start)
	if poolErr != nil {
		w.Abort()
		if ctx.Err() != nil {
			return sum, Interrupted(ctx.Err())
		}
		return sum, poolErr
	}
	name := o.Name
	if name == "" {
		name = filepath.Base(filepath.Clean(o.Out))
	}
	abs, _ := filepath.Abs(o.Src)
	rows := w.Rows()
	sum.Samples = len(rows)
	for _, s := range rows {
		sum.Counts[s.Split]++
	}
	sum.Rejects, sum.Flagged = TallyRejects(w.rejects, sum.RejectCodes)
	if len(rows) == 0 {
		w.Abort()
		return sum, ErrNoSamples
	}
	info := Info{Name: name, Version: o.Version, Format: f.Name(), SourceDir: abs, Options: opts}
	if err := w.Commit(info); err != nil {
		return sum, err
	}
	return sum, nil
}

// dedupe drops the second and later candidates that map to one id, as
// rejects naming the source that kept it.
func dedupe(cands []Candidate) ([]Candidate, []Reject) {
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].Key < cands[j].Key })
	seen := map[string]string{}
	var out []Candidate
	var rejects []Reject
	for _, c := range cands {
		id := ID(c.Key)
		if first, dup := seen[id]; dup {
			rejects = append(rejects, Reject{ID: id, Source: c.Sources, Stage: "scan", Code: CodeDuplicateID,
				Reason: fmt.Sprintf("duplicate id %q, already used by %s", id, first)})
			continue
		}
		seen[id] = c.Image
		out = append(out, c)
	}
	return out, rejects
}

// outputIDs lists the ids a candidate produces.
func outputIDs(o *BuildOptions, id string) []string {
	if o.Crops <= 0 {
		return []string{id}
	}
	ids := make([]string, o.Crops)
	for k := range ids {
		ids[k] = fmt.Sprintf("%s_c%d", id, k)
	}
	return ids
}

// buildOne turns one candidate into rows, or rejects. Only failures to
// write the output are returned as err: bad input is a reject.
func buildOne(ctx context.Context, o *BuildOptions, w *Writer, c Candidate) (r result) {
	id := ID(c.Key)
	if ctx.Err() != nil {
		return result{err: ctx.Err()}
	}
	if o.Resume {
		var prev []Sample
		for _, oid := range outputIDs(o, id) {
			s, ok := w.Previous(oid)
			if !ok {
				prev = nil
				break
			}
			prev = append(prev, s)
		}
		if prev != nil {
			return result{rows: prev, reused: true}
		}
	}
	reject := func(err error, stage string) result {
		code := CodeCorrupt
		var se *SampleError
		if errors.As(err, &se) {
			code = se.Code
		}
		return result{rejects: []Reject{{ID: id, Source: c.Sources, Stage: stage, Code: code, Reason: err.Error()}}}
	}
	imgPath := filepath.Join(o.Src, c.Image)
	raw, err := os.ReadFile(imgPath)
	if err != nil {
		return reject(&SampleError{Code: CodeMissingPartner, Path: c.Image, Err: err}, "decode")
	}
	img, kind, imgNotes, err := DecodeRGB(c.Image, raw)
	if err != nil {
		return reject(err, "decode")
	}
	defer img.Close()
	lab, err := c.Labels(o.Src)
	if err != nil {
		return reject(err, "decode")
	}
	defer lab.Close()
	notes := append(append([]string(nil), imgNotes...), lab.Notes...)
	size := image.Pt(img.Cols(), img.Rows())
	for _, p := range []struct {
		name string
		m    gocv.Mat
	}{{"alpha", lab.Alpha}, {"mask", lab.Mask}, {"instances", lab.Instances}, {"trimap", lab.Trimap}} {
		if p.m.Ptr() == nil || p.m.Empty() {
			continue
		}
		if ps := image.Pt(p.m.Cols(), p.m.Rows()); ps != size {
			return reject(sampleErr(CodeSizeMismatch, c.Image, "image is %dx%d but its %s is %dx%d", size.X, size.Y, p.name, ps.X, ps.Y), "check")
		}
	}

	planes := samplePlanes{img: img, mask: lab.Mask, alpha: lab.Alpha, inst: lab.Instances, tri: lab.Trimap, boxes: c.Boxes}
	target := targetSize(size, o.Resize, o.MaxSide)
	resized := target != size
	if resized {
		planes = planes.resize(target)
		defer planes.close()
	}
	var views []samplePlanes
	var ids []string
	if o.Crops > 0 {
		if target.X < o.CropSize || target.Y < o.CropSize {
			return reject(sampleErr(CodeTooSmall, c.Image, "image is %dx%d, smaller than --crop-size %d", target.X, target.Y, o.CropSize), "check")
		}
		for k, cid := range outputIDs(o, id) {
			rng := sampleRand(o.Seed, id, k)
			x := rng.IntN(target.X - o.CropSize + 1)
			y := rng.IntN(target.Y - o.CropSize + 1)
			v := planes.crop(image.Rect(x, y, x+o.CropSize, y+o.CropSize))
			defer v.close()
			views = append(views, v)
			ids = append(ids, cid)
		}
	} else {
		views, ids = []samplePlanes{planes}, []string{id}
	}

	split := SplitFor(id, c.Split, o.Ratios, o.ValFromTrain, o.Seed)
	unchanged := !resized && o.Crops == 0 && len(imgNotes) == 0 && !(kind == kindJPEG && hasExif(raw))
	ext := ".png"
	if kind == kindJPEG {
		ext = ".jpg"
	}
	r.notes, r.thresh = notes, lab.Thresholded
	for i, v := range views {
		s := Sample{ID: ids[i], Split: split, Width: v.img.Cols(), Height: v.img.Rows(), Source: c.Sources,
			SHA256: map[string]string{}, Boxes: v.boxes, Notes: notes}
		if o.Crops > 0 {
			s.Parent = id
		}
		put := func(dst *string, sub, ext string, m gocv.Mat) error {
			if m.Ptr() == nil || m.Empty() {
				return nil
			}
			rel, h, err := w.WriteMat(sub, s.ID, ext, m, o.JPEGQuality)
			*dst, s.SHA256[rel] = rel, h
			return err
		}
		var err error
		if o.Link && unchanged {
			var rel, h string
			rel, h, err = w.LinkFile("images", s.ID, ext, imgPath, raw)
			s.Image, s.SHA256[rel] = rel, h
		} else {
			err = put(&s.Image, "images", ext, v.img)
		}
		for _, e := range []error{err,
			put(&s.Mask, "masks", ".png", v.mask),
			put(&s.Alpha, "alphas", ".png", v.alpha),
			put(&s.Instances, "instances", ".png", v.inst),
			put(&s.Trimap, "trimaps", ".png", v.tri)} {
			if e != nil {
				return result{err: fmt.Errorf("sample %s (%s): %w", s.ID, c.Image, e)}
			}
		}
		fg := gocv.CountNonZero(v.mask)
		s.FGFrac = float64(fg) / float64(s.Width*s.Height)
		if fg == 0 {
			s.Notes = append(append([]string(nil), s.Notes...), "all-zero mask")
			r.rejects = append(r.rejects, Reject{ID: s.ID, Source: c.Sources, Stage: "check", Code: CodeEmptyMask, Kept: true,
				Reason: "mask is all background; sample kept but flagged"})
		}
		r.rows = append(r.rows, s)
	}
	return r
}

// sampleRand is a generator seeded from (seed, id, k) alone, so what it
// draws never depends on worker scheduling.
func sampleRand(seed int64, id string, k int) *rand.Rand {
	h := sha256.New()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], uint64(seed))
	binary.LittleEndian.PutUint64(b[8:], uint64(k))
	h.Write(b[:])
	h.Write([]byte(id))
	s := h.Sum(nil)
	return rand.New(rand.NewPCG(binary.LittleEndian.Uint64(s[:8]), binary.LittleEndian.Uint64(s[8:16])))
}

// targetSize applies --resize or --max-side to size.
func targetSize(size, resize image.Point, maxSide int) image.Point {
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
