package main

import (
	"fmt"
	"image"
	"math/rand/v2"
	"os"
	"path/filepath"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/apply"
	"github.com/segtool/segtool/jobs"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/synth"
	"github.com/urfave/cli/v2"
)

func benchVideoCommand() *cli.Command {
	flags := []cli.Flag{
		&cli.StringFlag{Name: "model", Usage: "ONNX model file (required)"},
		&cli.StringFlag{Name: "in", Usage: "a video file; without it a synthetic clip of --frame-size and --frames is drawn (a demo portrait, panning)"},
		&cli.StringFlag{Name: "frame-size", Value: "512x288", Usage: "the drawn clip's frame size WxH"},
		&cli.IntFlag{Name: "frames", Value: 120, Usage: "frames of the drawn clip (with --in: stop after N; 0 all)"},
		&cli.StringFlag{Name: "effect", Value: "blur", Usage: "the effects apply makes, as for apply"},
		&cli.StringFlag{Name: "temporal", Value: "none", Usage: "temporal filter, as for apply"},
		&cli.BoolFlag{Name: "letterbox", Usage: "keep the aspect ratio and pad, as for apply"},
		&cli.StringFlag{Name: "tile-mode", Value: string(models.TileContext), Hidden: true},
		&cli.IntFlag{Name: "runs", Aliases: []string{"n"}, Value: 50, Usage: "timed calls of the bare model, before and after the video"},
		&cli.IntFlag{Name: "warmup", Value: 3, Usage: "untimed calls first"},
	}
	flags = append(flags, deviceFlags()...)
	flags = append(flags, specFlags()...)
	flags = append(flags, cudaFlags()...)
	return &cli.Command{
		Name:      "video",
		Usage:     "apply on a video end to end against the bare model, in one run: what the pipeline costs",
		UsageText: "segtool bench video --model FILE.onnx [--in VIDEO | --frame-size 512x288 --frames 120] [--effect blur] [spec flags of apply]",
		Description: `Times the bare model as bench model does (--runs calls on random input),
then segtool apply on a video (decode, infer, temporal filter, effect,
encode, as a pipeline), then the bare model again, all in one process on
one session, so the figures share the machine's load. It prints apply's
frames/s, the model's images/s (the mean of both measurements), their
ratio, and each stage's p50/p95 per frame. Without --in it draws a clip
of a demo portrait panning across its background. The output video goes
to a temporary folder and is removed.

Examples:

   segtool bench video --model SINet.onnx --frame-size 512x288 --frames 150
   segtool bench video --model SINet.onnx --in talk.mp4 --effect replace --bg beach.jpg`,
		Flags:  append(flags, &cli.StringFlag{Name: "bg", Usage: "replace: background image"}),
		Action: runBenchVideo,
	}
}

func runBenchVideo(c *cli.Context) error {
	if err := requireFlags(c, "model"); err != nil {
		return err
	}
	if c.Int("runs") < 1 || c.Int("frames") < 0 {
		return usageError("--runs must be at least 1 and --frames at least 0")
	}
	tmp, err := os.MkdirTemp("", "segtool-bench-video-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	in := c.String("in")
	frames := c.Int("frames")
	if in == "" {
		size, err := parseTile(c.String("frame-size"))
		if err != nil {
			return usageError("--frame-size: %v", err)
		}
		in = filepath.Join(tmp, "clip.mp4")
		if err := benchClip(in, size.X, size.Y, frames, 30); err != nil {
			return err
		}
		frames = 0
	}
	effects, err := apply.ParseEffects(c.String("effect"))
	if err != nil {
		return usageError("--effect: %v", err)
	}
	t, err := applyTemporal(c)
	if err != nil {
		return err
	}
	o := jobs.VideoOptions{In: in, Out: filepath.Join(tmp, "out"), Effects: effects, Temporal: t, Frames: frames, Background: c.String("bg")}
	if len(effects) == 1 {
		o.Out = filepath.Join(tmp, "out.mp4")
	}
	if err := applyError(jobs.CheckVideo(o)); err != nil {
		return err
	}
	p, sess, err := openPredictor(c, logger(c))
	if err != nil {
		return err
	}
	defer sess.Close()
	before, err := models.Bench(c.Context, sess, 1, c.Int("runs"), c.Int("warmup"), 1)
	if err != nil {
		return err
	}
	sum, err := jobs.Video(c.Context, p.NewStream(), o)
	if err != nil {
		return videoResult(c, o, sess.Provider, sum, err)
	}
	after, err := models.Bench(c.Context, sess, 1, c.Int("runs"), 0, 1)
	if err != nil {
		return err
	}
	model := (before.Throughput + after.Throughput) / 2
	fps := sum.FramesPerSecond()
	st := func(name string, x jobs.StageStats) string {
		return fmt.Sprintf("%s %.1f/%.1f", name, x.P50MS, x.P95MS)
	}
	summary(c, fmt.Sprintf("bench video: %s on %s, %d frames %dx%d (%s): apply %.1f frames/s; bare model %.1f images/s (%.1f before, %.1f after) on %s (%d threads): %.2fx; per frame p50/p95 ms: %s, %s, %s, %s, %s.",
		c.String("model"), in, sum.Written, sum.Width, sum.Height, sum.Codecs[0], fps, model, before.Throughput, after.Throughput,
		sess.Provider, sess.Threads, fps/max(model, 1e-9),
		st("decode", sum.Decode), st("infer", sum.Infer), st("temporal", sum.Temporal), st("effect", sum.Effect), st("encode", sum.Encode)),
		map[string]any{"command": "bench video", "model": c.String("model"), "in": in, "frames": sum.Written, "width": sum.Width, "height": sum.Height,
			"frames_per_s": fps, "model_images_per_s": model, "model_before": before, "model_after": after, "ratio": fps / max(model, 1e-9),
			"provider": sess.Provider, "threads": sess.Threads,
			"stages_ms": map[string]jobs.StageStats{"decode": sum.Decode, "infer": sum.Infer, "temporal": sum.Temporal, "effect": sum.Effect, "encode": sum.Encode}})
	return nil
}

// benchClip draws n frames of w x h: one demo portrait (synth) wider than
// the frame, panned 2 pixels a frame, written as H.264 where OpenCV has
// an encoder, else MPEG-4.
func benchClip(path string, w, h, n int, fps float64) error {
	if n < 1 {
		return usageError("--frames: the drawn clip needs at least 1 frame")
	}
	s, err := synth.Portrait(rand.New(rand.NewPCG(7, 0)), w+2*n, h)
	if err != nil {
		return err
	}
	defer s.Close()
	var vw *gocv.VideoWriter
	for _, codec := range []string{"avc1", "mp4v"} {
		if vw, err = gocv.VideoWriterFile(path, codec, fps, w, h, true); err == nil && vw.IsOpened() {
			break
		}
		if vw != nil {
			vw.Close()
			vw = nil
		}
	}
	if vw == nil {
		return fmt.Errorf("cannot write the bench clip %s: no avc1 or mp4v encoder", path)
	}
	defer vw.Close()
	for k := range n {
		frame := s.Image.Region(image.Rect(2*k, 0, 2*k+w, h))
		err := vw.Write(frame)
		frame.Close()
		if err != nil {
			return err
		}
	}
	return nil
}
