package main

import (
	"errors"
	"fmt"
	"image"
	"io/fs"

	"github.com/segtool/segtool/synth"
	"github.com/urfave/cli/v2"
)

// demoDataOptions are demo-data's flags.
type demoDataOptions struct {
	Out, Size string
	Count     int
	Seed      int64
	Force     bool
	// Video draws animated clips instead of stills; Count is then the
	// number of clips.
	Video  bool
	Frames int
	FPS    float64
}

func demoDataCommand() *cli.Command {
	var o demoDataOptions
	return &cli.Command{
		Name:      "demo-data",
		Usage:     "draw a small synthetic portrait source (folder and Penn-Fudan layouts, RGBA cut-outs, or video clips)",
		UsageText: "segtool demo-data --out DIR [--count N] [--seed S] [--size WxH] [--force]\nsegtool demo-data --video --out DIR [--count CLIPS] [--frames N] [--fps F] [--size WxH] [--seed S] [--force]",
		Description: `Draws head-and-shoulders silhouettes with soft, hair-like alpha edges over
textured backgrounds, so every segtool command can be tried without a
download. Writes:

   DIR/folder/      images/*.jpg, alphas/*.png, masks/*.png, trimaps/*.png
   DIR/pennfudan/   PNGImages/, PedMasks/ (instance ids), Annotation/ (PASCAL 1.00 text)
   DIR/cutouts/     RGBA cut-outs for segtool composite

With --video it draws --count animated clips instead (default 3 of 24
frames at 320x180): a portrait that sways and bobs over a panning
background, with the exact alpha of every frame, in RobustVideoMatting's
evaluation layout, plus an mp4 of each clip (avc1, else mp4v):

   DIR/videomatte/clip_000/com/0000.png   composite
   DIR/videomatte/clip_000/pha/0000.png   alpha
   DIR/videomatte/clip_000/fgr/0000.png   foreground colours
   DIR/videomatte/clip_000/bgr/0000.png   background
   DIR/videos/clip_000.mp4

The same --seed gives byte-identical files (the PNGs; an mp4's bytes are
the encoder's).

   segtool demo-data --out demo/src --count 12 --seed 7
   segtool build-dataset --src demo/src/folder --out demo/ds
   segtool demo-data --video --out demo/clips --count 3 --frames 24
   segtool build-dataset --format videomatte --src demo/clips/videomatte --out demo/clips-ds`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "out", Usage: "folder to write (required)", Destination: &o.Out},
			&cli.IntFlag{Name: "count", Value: synth.DefaultCount, Usage: fmt.Sprintf("samples per layout (with --video, clips: default %d)", synth.DefaultClips), Destination: &o.Count},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "random seed", Destination: &o.Seed},
			&cli.StringFlag{Name: "size", Value: fmt.Sprintf("%dx%d", synth.DefaultWidth, synth.DefaultHeight),
				Usage: fmt.Sprintf("portrait size WxH (with --video, the frame size, default %dx%d)", synth.DefaultClipWidth, synth.DefaultClipHeight), Destination: &o.Size},
			&cli.BoolFlag{Name: "force", Usage: "replace samples already in --out", Destination: &o.Force},
			&cli.BoolFlag{Name: "video", Usage: "draw animated clips (videomatte layout and mp4s) instead of stills", Destination: &o.Video},
			&cli.IntFlag{Name: "frames", Value: synth.DefaultClipFrames, Usage: "with --video: frames per clip", Destination: &o.Frames},
			&cli.Float64Flag{Name: "fps", Value: synth.DefaultClipFPS, Usage: "with --video: the mp4s' frame rate", Destination: &o.FPS},
		},
		Action: func(c *cli.Context) error { return runDemoData(c, o) },
	}
}

func runDemoData(c *cli.Context, o demoDataOptions) error {
	if err := requireFlags(c, "out"); err != nil {
		return err
	}
	if o.Video {
		return runDemoClips(c, o)
	}
	for _, f := range []string{"frames", "fps"} {
		if c.IsSet(f) {
			return usageError("--%s needs --video", f)
		}
	}
	size, err := parseSize("size", o.Size)
	if err != nil {
		return err
	}
	if o.Count < 1 {
		return usageError("--count must be at least 1")
	}
	sum, err := synth.Generate(c.Context, o.Out, synth.Options{
		Count: o.Count, Seed: o.Seed, Width: size.X, Height: size.Y, Force: o.Force})
	if errors.Is(err, fs.ErrExist) {
		return usageError("%v (pass --force to replace)", err)
	}
	if err != nil {
		return err
	}
	summary(c, fmt.Sprintf("demo-data: %d portraits, %d Penn-Fudan scenes with %d people and %d cut-outs in %s (%d files, %.1f MB).",
		sum.Portraits, sum.Scenes, sum.People, sum.Cutouts, sum.Dir, sum.Files, float64(sum.Bytes)/1e6),
		map[string]any{"command": "demo-data", "dir": sum.Dir, "portraits": sum.Portraits, "scenes": sum.Scenes,
			"people": sum.People, "cutouts": sum.Cutouts, "files": sum.Files, "bytes": sum.Bytes})
	return nil
}

func runDemoClips(c *cli.Context, o demoDataOptions) error {
	if !c.IsSet("count") {
		o.Count = synth.DefaultClips
	}
	size := image.Pt(synth.DefaultClipWidth, synth.DefaultClipHeight)
	if c.IsSet("size") {
		var err error
		if size, err = parseSize("size", o.Size); err != nil {
			return err
		}
	}
	switch {
	case o.Count < 1:
		return usageError("--count must be at least 1")
	case o.Frames < 1 || o.Frames > synth.MaxClipFrames:
		return usageError("--frames must be 1..%d, not %d", synth.MaxClipFrames, o.Frames)
	case !(o.FPS > 0 && o.FPS <= 240):
		return usageError("--fps must be in (0, 240], not %g", o.FPS)
	}
	sum, err := synth.GenerateClips(c.Context, o.Out, synth.ClipOptions{
		Clips: o.Count, Frames: o.Frames, Width: size.X, Height: size.Y, FPS: o.FPS, Seed: o.Seed, Force: o.Force})
	if errors.Is(err, fs.ErrExist) {
		return usageError("%v (pass --force to replace)", err)
	}
	if err != nil {
		return err
	}
	summary(c, fmt.Sprintf("demo-data: %d clips of %d frames at %dx%d in %s/%s, and %d %s mp4s at %g frames/s in %s/%s (%d files, %.1f MB).",
		sum.Clips, o.Frames, size.X, size.Y, sum.Dir, synth.VideoMatteDir, sum.Videos, sum.Codec, o.FPS, sum.Dir, synth.VideosDir,
		sum.Files, float64(sum.Bytes)/1e6),
		map[string]any{"command": "demo-data", "dir": sum.Dir, "clips": sum.Clips, "frames": sum.Frames, "videos": sum.Videos,
			"codec": sum.Codec, "fps": o.FPS, "width": size.X, "height": size.Y, "files": sum.Files, "bytes": sum.Bytes})
	return nil
}
