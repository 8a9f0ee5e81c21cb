package synth

import (
	"context"
	"errors"
	"fmt"
	"image"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"

	"gocv.io/x/gocv"
)

// Defaults for zero ClipOptions fields: small enough that demo-data
// --video takes seconds.
const (
	DefaultClips      = 3
	DefaultClipFrames = 24
	DefaultClipWidth  = 320
	DefaultClipHeight = 180
	DefaultClipFPS    = 24
)

// Layout folder names of the clip demo under the output directory.
const (
	VideoMatteDir = "videomatte"
	VideosDir     = "videos"
)

// The video layout's per-clip folders, RobustVideoMatting's evaluation
// names: composite, alpha, foreground and background.
var clipSubdirs = [...]string{"com", "pha", "fgr", "bgr"}

// streamClip is the random stream of the clips (see newRand).
const streamClip = streamCutout + 1

// MaxClipFrames bounds a clip's length: frames are named NNNN.png.
const MaxClipFrames = 9999

// VideoCodecs are the FourCCs GenerateClips tries for each clip's mp4, in
// order; OpenCV's VideoWriter opens silently broken when a codec is
// missing, so each is checked with IsOpened.
func VideoCodecs() []string { return []string{"avc1", "mp4v"} }

// ClipOptions says what GenerateClips draws.
type ClipOptions struct {
	// Clips and Frames are the number of clips and of frames in each
	// (defaults 3 and 24; Frames at most 9999).
	Clips, Frames int
	// Width and Height are the frame size (default 320x180, each 64..4096).
	Width, Height int
	// FPS is the mp4s' frame rate (default 24).
	FPS float64
	// Seed picks the clips; equal seeds give byte-identical PNGs.
	Seed int64
	// Force allows writing where the clip layouts already are: the files
	// this package would name there are removed first, nothing else.
	Force bool
}

// ClipSummary reports what GenerateClips wrote.
type ClipSummary struct {
	Dir    string // the output directory
	Clips  int
	Frames int    // over all clips
	Videos int    // mp4 files written
	Codec  string // the FourCC the mp4s were written with
	Files  int    // files written, mp4s included
	Bytes  int64  // bytes written, mp4s included
}

// Clip is an animated portrait: a person drawn once and moved by whole
// pixels over a background that pans, so every frame's alpha is the drawn
// matte shifted, exact, and the composite is composite.Over of the frame's
// layers. Close frees it.
type Clip struct {
	w, h          int
	person, alpha gocv.Mat // the person's colours and matte at frame size, unmoved
	scenery       gocv.Mat // the background, wider than a frame by the pan
	// Motion: the person sways ampX pixels about its drawn place with
	// period frames and phase, and bobs down by up to ampY pixels (down
	// only, so the torso's cut-off bottom never shows); the background
	// pans pan pixels a frame.
	ampX, ampY, period, phase, pan float64
}

// ClipFrame is one frame of a Clip. Its Mats belong to the caller, who must
// Close it.
type ClipFrame struct {
	Com gocv.Mat // composite, BGR: Pha·Fgr + (1−Pha)·Bgr, rounded (composite.Over)
	Pha gocv.Mat // alpha, 8UC1
	Fgr gocv.Mat // foreground colours, BGR (meaningful where Pha > 0)
	Bgr gocv.Mat // background, BGR
}

// Close frees the frame's Mats.
func (f *ClipFrame) Close() error {
	return errors.Join(f.Com.Close(), f.Pha.Close(), f.Fgr.Close(), f.Bgr.Close())
}

// NewClip draws a w×h clip of frames frames; everything random comes from
// rng.
func NewClip(rng *rand.Rand, w, h, frames int) (*Clip, error) {
	s, err := Portrait(rng, w, h)
	if err != nil {
		return nil, err
	}
	s.Image.Close()
	c := &Clip{w: w, h: h, person: s.Person, alpha: s.Alpha,
		ampX:   float64(w) * uni(rng, 0.05, 0.18),
		ampY:   float64(h) * uni(rng, 0, 0.05),
		period: float64(frames) * uni(rng, 0.6, 1.4),
		phase:  rng.Float64() * 2 * math.Pi,
		pan:    uni(rng, 0.5, 3) * float64(1-2*rng.IntN(2)),
	}
	extra := int(math.Ceil(math.Abs(c.pan)*float64(max(frames-1, 0)))) + 1
	if c.scenery, err = background(rng, w+extra, h, false); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// Close frees the clip's pictures.
func (c *Clip) Close() error {
	var errs []error
	for _, m := range []*gocv.Mat{&c.person, &c.alpha, &c.scenery} {
		if m.Ptr() != nil {
			errs = append(errs, m.Close())
		}
	}
	return errors.Join(errs...)
}

// Offset is where frame t puts the person, relative to where it was drawn,
// and the column of the scenery the frame starts at.
func (c *Clip) Offset(t int) (dx, dy, x0 int) {
	a := 2*math.Pi*float64(t)/c.period + c.phase
	dx = int(math.Round(c.ampX * math.Sin(a)))
	dy = int(math.Round(c.ampY * (1 - math.Cos(a)) / 2))
	x0 = int(math.Round(c.pan * float64(t)))
	if c.pan < 0 {
		x0 += c.scenery.Cols() - c.w
	}
	return dx, dy, x0
}

// Frame draws frame t.
func (c *Clip) Frame(t int) (ClipFrame, error) {
	dx, dy, x0 := c.Offset(t)
	var f ClipFrame
	var err error
	if f.Fgr, err = shifted(c.person, dx, dy); err == nil {
		f.Pha, err = shifted(c.alpha, dx, dy)
	}
	if err == nil {
		region := c.scenery.Region(image.Rect(x0, 0, x0+c.w, c.h))
		f.Bgr = region.Clone()
		region.Close()
		f.Com = f.Bgr.Clone()
		err = over(&f.Com, f.Fgr, f.Pha)
	}
	if err != nil {
		for _, m := range []gocv.Mat{f.Com, f.Pha, f.Fgr, f.Bgr} {
			if m.Ptr() != nil {
				m.Close()
			}
		}
		return ClipFrame{}, fmt.Errorf("synth: frame %d: %w", t, err)
	}
	return f, nil
}

// shifted returns m moved right by dx and down by dy whole pixels, zeros
// where nothing moved in: no resampling, so values are copied exactly.
func shifted(m gocv.Mat, dx, dy int) (gocv.Mat, error) {
	out := gocv.NewMatWithSize(m.Rows(), m.Cols(), m.Type())
	op, err := out.DataPtrUint8()
	if err != nil {
		out.Close()
		return gocv.Mat{}, err
	}
	mp, err := m.DataPtrUint8()
	if err != nil {
		out.Close()
		return gocv.Mat{}, err
	}
	clear(op)
	w, h, ch := m.Cols(), m.Rows(), m.Channels()
	x0, x1 := max(0, dx), min(w, w+dx) // destination columns that have a source
	if x0 >= x1 {
		return out, nil
	}
	for y := max(0, dy); y < min(h, h+dy); y++ {
		sy := y - dy
		copy(op[(y*w+x0)*ch:(y*w+x1)*ch], mp[(sy*w+x0-dx)*ch:(sy*w+x1-dx)*ch])
	}
	return out, nil
}

// GenerateClips draws the clip demo into dir:
//
//	videomatte/clip_000/com/0000.png   composite, BGR PNG
//	videomatte/clip_000/pha/0000.png   alpha, 8-bit
//	videomatte/clip_000/fgr/0000.png   foreground colours
//	videomatte/clip_000/bgr/0000.png   background
//	videos/clip_000.mp4                the composites at opt.FPS
//
// videomatte/ is RobustVideoMatting's evaluation layout, which
// build-dataset --format videomatte reads. It refuses to write where
// either folder exists unless opt.Force. Frames are written through a
// temporary name and a rename; each mp4 is written under a hidden name
// and renamed when closed.
func GenerateClips(ctx context.Context, dir string, opt ClipOptions) (sum ClipSummary, err error) {
	opt, err = opt.resolve()
	if err != nil {
		return ClipSummary{}, err
	}
	sum.Dir = dir
	if err := prepareClips(dir, opt.Force); err != nil {
		return sum, err
	}
	var files Summary
	wr := writer{sum: &files}
	defer func() { sum.Files, sum.Bytes = files.Files, files.Bytes }()
	for i := range opt.Clips {
		name := fmt.Sprintf("clip_%03d", i)
		codec, err := writeClip(ctx, &wr, dir, name, newRand(opt.Seed, streamClip, i), opt)
		if err != nil {
			return sum, err
		}
		sum.Clips++
		sum.Frames += opt.Frames
		sum.Videos++
		sum.Codec = codec
	}
	return sum, nil
}

func (o ClipOptions) resolve() (ClipOptions, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&o.Clips, DefaultClips)
	def(&o.Frames, DefaultClipFrames)
	def(&o.Width, DefaultClipWidth)
	def(&o.Height, DefaultClipHeight)
	if o.FPS == 0 {
		o.FPS = DefaultClipFPS
	}
	switch {
	case o.Clips < 0:
		return o, fmt.Errorf("synth: clip count %d is negative", o.Clips)
	case o.Frames < 0 || o.Frames > MaxClipFrames:
		return o, fmt.Errorf("synth: %d frames outside 1..%d", o.Frames, MaxClipFrames)
	case o.Width < 64 || o.Height < 64 || o.Width > maxSide || o.Height > maxSide:
		return o, fmt.Errorf("synth: size %dx%d outside 64..%d", o.Width, o.Height, maxSide)
	case !(o.FPS > 0 && o.FPS <= 240):
		return o, fmt.Errorf("synth: frame rate %g outside (0, 240]", o.FPS)
	}
	return o, nil
}

// prepareClips checks dir for earlier clips and, when forced, removes the
// files this package names there: frames and mp4s of any clip_NNN, and the
// folders that leaves empty.
func prepareClips(dir string, force bool) error {
	if err := refuseExisting(dir, force, VideoMatteDir, VideosDir); err != nil {
		return err
	}
	if !force {
		return nil
	}
	clips, _ := filepath.Glob(filepath.Join(dir, VideoMatteDir, "clip_[0-9]*"))
	for _, c := range clips {
		for _, sub := range clipSubdirs {
			if err := removeMatching(filepath.Join(c, sub), "[0-9][0-9][0-9][0-9].png"); err != nil {
				return err
			}
			_ = os.Remove(filepath.Join(c, sub)) // only if empty: anything else there is the user's
		}
		_ = os.Remove(c)
	}
	videos := filepath.Join(dir, VideosDir)
	for _, pattern := range []string{"clip_[0-9]*.mp4", ".clip_[0-9]*.partial.mp4"} {
		if err := removeMatching(videos, pattern); err != nil {
			return err
		}
	}
	return nil
}

// writeClip writes one clip's frames and its mp4, and returns the codec
// the mp4 was written with.
func writeClip(ctx context.Context, wr *writer, dir, name string, rng *rand.Rand, opt ClipOptions) (string, error) {
	c, err := NewClip(rng, opt.Width, opt.Height, opt.Frames)
	if err != nil {
		return "", err
	}
	defer c.Close()
	root := filepath.Join(dir, VideoMatteDir, name)
	for _, sub := range clipSubdirs {
		if err := os.MkdirAll(filepath.Join(root, sub), 0o755); err != nil {
			return "", fmt.Errorf("synth: %w", err)
		}
	}
	videos := filepath.Join(dir, VideosDir)
	if err := os.MkdirAll(videos, 0o755); err != nil {
		return "", fmt.Errorf("synth: %w", err)
	}
	final := filepath.Join(videos, name+".mp4")
	tmp := filepath.Join(videos, "."+name+".partial.mp4")
	vw, codec, err := openVideo(tmp, opt)
	if err != nil {
		return "", err
	}
	closed := false
	defer func() {
		if !closed {
			vw.Close()
			_ = os.Remove(tmp)
		}
	}()
	for t := range opt.Frames {
		if err := ctx.Err(); err != nil {
			return "", err
		}
		if err := writeClipFrame(wr, root, c, t, vw); err != nil {
			return "", err
		}
	}
	closed = true
	if err := vw.Close(); err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("synth: closing %s: %w", final, err)
	}
	st, err := os.Stat(tmp)
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return "", fmt.Errorf("synth: writing %s: %w", final, err)
	}
	wr.sum.Files++
	wr.sum.Bytes += st.Size()
	return codec, nil
}

func writeClipFrame(wr *writer, root string, c *Clip, t int, vw *gocv.VideoWriter) error {
	f, err := c.Frame(t)
	if err != nil {
		return err
	}
	defer f.Close()
	stem := fmt.Sprintf("%04d.png", t)
	for i, m := range []gocv.Mat{f.Com, f.Pha, f.Fgr, f.Bgr} {
		if err := wr.encode(filepath.Join(root, clipSubdirs[i], stem), m); err != nil {
			return err
		}
	}
	if err := vw.Write(f.Com); err != nil {
		return fmt.Errorf("synth: encoding frame %d of %s: %w", t, root, err)
	}
	return nil
}

// openVideo opens a writer at path with the first of VideoCodecs that
// opens.
func openVideo(path string, opt ClipOptions) (*gocv.VideoWriter, string, error) {
	var tried []string
	for _, codec := range VideoCodecs() {
		vw, err := gocv.VideoWriterFile(path, codec, opt.FPS, opt.Width, opt.Height, true)
		if err == nil && vw.IsOpened() {
			return vw, codec, nil
		}
		if vw != nil {
			vw.Close()
		}
		_ = os.Remove(path)
		tried = append(tried, codec)
	}
	return nil, "", fmt.Errorf("synth: no video writer opens %s (tried codecs %v; is OpenCV built with FFmpeg?)", path, tried)
}
