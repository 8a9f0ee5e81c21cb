package main

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

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
		&cli.IntFlag{Name: "frames", Value: 90, Usage: "frames of the drawn clip (with --in: stop after N; 0 all)"},
		&cli.StringFlag{Name: "effect", Value: "blur", Usage: "the effects apply makes, as for apply"},
		&cli.StringFlag{Name: "codec", DefaultText: "the container's", Usage: "the FourCC to write with first, as for apply"},
		&cli.StringFlag{Name: "container", Value: "mp4", Usage: "the output's container: mp4 or mkv (H.264 where there is an encoder), avi (MJPG, cheaper to write)"},
		&cli.StringFlag{Name: "temporal", Value: "none", Usage: "temporal filter, as for apply"},
		&cli.BoolFlag{Name: "letterbox", Usage: "keep the aspect ratio and pad, as for apply"},
		&cli.StringFlag{Name: "tile-mode", Value: string(models.TileContext), Hidden: true},
		&cli.IntFlag{Name: "runs", Aliases: []string{"n"}, Value: 30, Usage: "timed calls of the bare model before and after each video round"},
		&cli.IntFlag{Name: "rounds", Value: 3, Usage: "video runs, each between two model measurements"},
		&cli.IntFlag{Name: "warmup", Value: 3, Usage: "untimed calls first"},
		&cli.IntFlag{Name: "calls", DefaultText: "as apply: 2 on the CPU", Usage: "model calls at once in the video, as for apply"},
	}
	flags = append(flags, deviceFlags()...)
	flags = append(flags, specFlags()...)
	flags = append(flags, cudaFlags()...)
	return &cli.Command{
		Name:      "video",
		Usage:     "apply on a video end to end against the bare model, in one run: what the pipeline costs",
		UsageText: "segtool bench video --model FILE.onnx [--in VIDEO | --frame-size 512x288 --frames 120] [--effect blur] [spec flags of apply]",
		Description: `Times the bare model as bench model does (--runs calls on random input)
and segtool apply on a video (decode, infer, temporal filter, effect,
encode, as a pipeline) in turn, --rounds times, model first and last, all
in one process, so the figures share the machine's load. The bare model
runs as bench model runs it (one call at a time on --threads, all cores
by default); the video as apply runs it (on the CPU two calls at once of
half the cores each, --calls). Each round's frames/s is set against the
model's images/s either side of it; it prints the medians of apply's
frames/s, the model's images/s and the ratio, and each stage's p50/p95
per frame. With two calls it also times the bare model that way (the
same calls at once on the video's session), the ceiling for the video.
Without --in it draws a clip of a demo portrait panning across its
background. The output video goes to a temporary folder and is removed.

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
	if c.Int("runs") < 1 || c.Int("rounds") < 1 || c.Int("frames") < 0 {
		return usageError("--runs and --rounds must be at least 1 and --frames at least 0")
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
	t, err := temporalFlags(c)
	if err != nil {
		return err
	}
	o := jobs.VideoOptions{In: in, Out: filepath.Join(tmp, "out"), Effects: effects, Temporal: t, Frames: frames, Background: c.String("bg"), Codec: c.String("codec")}
	ext := "." + c.String("container")
	if !jobs.IsVideoFile(ext) {
		return usageError("--container: %q is not a video container (mp4, mkv, avi, mov)", c.String("container"))
	}
	if len(effects) == 1 {
		o.Out = filepath.Join(tmp, "out"+ext)
	}
	if err := applyError(jobs.CheckVideo(o)); err != nil {
		return err
	}
	if err := checkCalls(c); err != nil {
		return err
	}
	// The bare model's session is bench model's; the video's is apply's,
	// which with several calls at once has fewer threads per call.
	p, vsess, err := openPredictorWith(c, logger(c), videoCalls(c, &o))
	if err != nil {
		return err
	}
	defer vsess.Close()
	sess := vsess
	if o.Calls > 1 {
		if _, sess, err = openPredictor(c, slog.New(slog.NewTextHandler(io.Discard, nil))); err != nil {
			return err
		}
		defer sess.Close()
	}
	// Rounds alternate the bare model and the video, M V M V … M, and each
	// video is set against the mean of the model runs either side, so a
	// load that changes during the run (a shared machine) touches both
	// figures alike; the medians over the rounds are reported.
	// CPU time (this process's, user and system) per frame and per call
	// does not depend on what else the machine runs, where wall time does.
	rounds := c.Int("rounds")
	var modelRates, videos, ratios []float64
	var sum jobs.VideoSummary
	var callRates []float64
	var videoCPU, modelCPU time.Duration
	var videoFrames, modelCalls int
	m, err := models.Bench(c.Context, sess, 1, c.Int("runs"), c.Int("warmup"), 1)
	if err != nil {
		return err
	}
	modelRates = append(modelRates, m.Throughput)
	if o.Calls > 1 {
		if _, err := benchCalls(c.Context, vsess, o.Calls, c.Int("warmup")); err != nil {
			return err
		}
	}
	for k := range rounds {
		if k > 0 {
			o.Force = true
		}
		t := cpuTime()
		sum, err = jobs.Video(c.Context, videoModel(p), o)
		if err != nil {
			return videoResult(c, o, vsess, sum, err)
		}
		videoCPU += cpuTime() - t
		videoFrames += sum.Written
		t = cpuTime()
		if m, err = models.Bench(c.Context, sess, 1, c.Int("runs"), 0, 1); err != nil {
			return err
		}
		modelCPU += cpuTime() - t
		modelCalls += c.Int("runs")
		modelRates = append(modelRates, m.Throughput)
		if o.Calls > 1 {
			rate, err := benchCalls(c.Context, vsess, o.Calls, c.Int("runs"))
			if err != nil {
				return err
			}
			callRates = append(callRates, rate)
		}
		videos = append(videos, sum.FramesPerSecond())
		ratios = append(ratios, sum.FramesPerSecond()/max((modelRates[k]+modelRates[k+1])/2, 1e-9))
	}
	fps, model, ratio := benchMedian(videos), benchMedian(modelRates), benchMedian(ratios)
	stages, stagesMS := videoStages(sum)
	cpuFrame := float64(videoCPU.Microseconds()) / 1000 / float64(max(videoFrames, 1))
	cpuCall := float64(modelCPU.Microseconds()) / 1000 / float64(max(modelCalls, 1))
	calls := ""
	if o.Calls > 1 {
		cr := benchMedian(callRates)
		calls = fmt.Sprintf("; the bare model as the video runs it (%s), %.1f images/s (%.2fx)", callsText(o.Calls, vsess.Threads), cr, fps/max(cr, 1e-9))
	}
	summary(c, fmt.Sprintf("bench video: %s on %s, %d frames %dx%d (%s), %d rounds: apply %.1f frames/s (%s), bare model %.1f images/s on %s (%d threads): %.2fx (medians; per round %s)%s; CPU time %.1f ms per frame, %.1f ms per model call (%.2fx); last round per frame p50/p95 ms: %s.",
		c.String("model"), in, sum.Written, sum.Width, sum.Height, sum.Codecs[0], rounds, fps, callsText(max(o.Calls, 1), vsess.Threads), model, sess.Provider, sess.Threads, ratio, benchList(ratios), calls,
		cpuFrame, cpuCall, cpuCall/max(cpuFrame, 1e-9), stages),
		map[string]any{"command": "bench video", "model": c.String("model"), "in": in, "frames": sum.Written, "width": sum.Width, "height": sum.Height,
			"frames_per_s": fps, "model_images_per_s": model, "ratio": ratio, "rounds_frames_per_s": videos, "rounds_model_images_per_s": modelRates,
			"rounds_ratio": ratios, "cpu_ms_per_frame": cpuFrame, "cpu_ms_per_model_call": cpuCall, "provider": sess.Provider, "threads": sess.Threads,
			"video_calls": max(o.Calls, 1), "video_threads": vsess.Threads, "rounds_calls_images_per_s": callRates,
			"stages_ms": stagesMS})
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
	vw, _, err := jobs.OpenVideoWriter(path, []string{"avc1", "mp4v"}, fps, w, h)
	if err != nil {
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

func benchMedian(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func benchList(v []float64) string {
	var parts []string
	for _, x := range v {
		parts = append(parts, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(parts, " ")
}

// cpuTime is the CPU time this process has used, user plus system.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &u) != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

// benchCalls times calls goroutines each making runs calls of the bare
// model at once on one session, and returns the images/s of them all
// together: calls·runs over the wall time.
func benchCalls(ctx context.Context, sess *models.Session, calls, runs int) (float64, error) {
	errs := make([]error, calls)
	var wg sync.WaitGroup
	t := time.Now()
	for i := range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = models.Bench(ctx, sess, 1, runs, 0, uint64(i+1))
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return 0, err
	}
	return float64(calls*runs) / max(time.Since(t).Seconds(), 1e-9), nil
}
