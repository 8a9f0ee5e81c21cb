package jobs

import (
	"bytes"
	"context"
	"errors"
	"image"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/apply"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/temporal"
)

// videoFrame is frame k of a synthetic clip: a red "person" rectangle
// moving right over a green background.
func videoFrame(w, h, k int) []uint8 {
	px := make([]uint8, 3*w*h)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			px[i], px[i+1], px[i+2] = 30, 160, 40
			if x >= 8+2*k && x < 8+2*k+w/3 && y >= h/4 {
				px[i], px[i+1], px[i+2] = 40, 40, 230
			}
		}
	}
	return px
}

// videoWrite writes n synthetic frames to path with codec at fps.
func videoWrite(t testing.TB, path, codec string, w, h, n int, fps float64) {
	t.Helper()
	vw, err := gocv.VideoWriterFile(path, codec, fps, w, h, true)
	if err != nil || !vw.IsOpened() {
		t.Skipf("skipping: OpenCV cannot write %s with %s here (%v)", filepath.Ext(path), codec, err)
	}
	for k := range n {
		m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, videoFrame(w, h, k))
		if err != nil {
			t.Fatal(err)
		}
		if err := vw.Write(m); err != nil {
			t.Fatal(err)
		}
		m.Close()
	}
	vw.Close()
}

// videoEach decodes every frame of path in order, calling fn with frame
// k (valid only during the call), and returns the fps the file reports.
func videoEach(t testing.TB, path string, fn func(k int, m gocv.Mat)) float64 {
	t.Helper()
	c, err := gocv.VideoCaptureFile(path)
	if err != nil || !c.IsOpened() {
		t.Fatalf("cannot read back %s: %v", path, err)
	}
	defer c.Close()
	fps := c.Get(gocv.VideoCaptureFPS)
	m := gocv.NewMat()
	defer m.Close()
	for k := 0; c.Read(&m) && !m.Empty(); k++ {
		fn(k, m)
	}
	return fps
}

// videoProbe decodes every frame of path: the count, the last frame's
// size and the fps.
type videoFacts struct {
	frames, w, h int
	fps          float64
}

func videoProbe(t testing.TB, path string) videoFacts {
	t.Helper()
	var f videoFacts
	f.fps = videoEach(t, path, func(_ int, m gocv.Mat) {
		f.frames++
		f.w, f.h = m.Cols(), m.Rows()
	})
	return f
}

// Apply on an mp4 and on an MJPG avi writes exactly as many frames as the
// input has, at its size and frame rate, for every effect.
func TestVideoRoundTrip(t *testing.T) {
	const w, h, n, fps = 96, 64, 17, 12.0
	dir := t.TempDir()
	bg := filepath.Join(dir, "bg.png")
	applyWriteBGR(t, bg, 50, 30, applySolid(50, 30, 200, 10, 10))
	for _, c := range []struct{ name, codec string }{{"clip.mp4", "mp4v"}, {"clip.avi", "MJPG"}} {
		in := filepath.Join(dir, c.name)
		videoWrite(t, in, c.codec, w, h, n, fps)
		out := filepath.Join(dir, "out-"+strings.TrimSuffix(c.name, filepath.Ext(c.name)))
		sum, err := Video(context.Background(), applyRedModel{}, VideoOptions{In: in, Out: out, Effects: apply.Effects(), Background: bg,
			Refine: apply.RefineOptions{Feather: 1}})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if sum.Decoded != n || sum.Written != n || sum.Corrupt != 0 || sum.Dropped != 0 || sum.Live {
			t.Errorf("%s: %+v, want %d frames decoded and written", c.name, sum, n)
		}
		if len(sum.Outputs) != 4 || len(sum.Codecs) != 4 {
			t.Fatalf("%s: outputs %v codecs %v", c.name, sum.Outputs, sum.Codecs)
		}
		if filepath.Ext(c.name) == ".avi" && sum.Codecs[0] != "MJPG" {
			t.Errorf("avi written with %s, want MJPG first", sum.Codecs[0])
		}
		for k, e := range apply.Effects() {
			want := filepath.Join(out, string(e), "clip"+filepath.Ext(c.name))
			if sum.Outputs[k] != want {
				t.Errorf("output %d: %s, want %s", k, sum.Outputs[k], want)
			}
			got := videoProbe(t, want)
			if got.frames != n || got.w != w || got.h != h || got.fps != fps {
				t.Errorf("%s: %d frames %dx%d at %g fps, want %d %dx%d at %g", want, got.frames, got.w, got.h, got.fps, n, w, h, fps)
			}
		}
		if sum.Decode.P50MS <= 0 || sum.Infer.P50MS <= 0 || sum.Effect.P50MS <= 0 || sum.Encode.P50MS <= 0 {
			t.Errorf("%s: stage latencies not measured: %+v", c.name, sum)
		}
		if left, _ := filepath.Glob(filepath.Join(out, "*", ".*partial*")); len(left) > 0 {
			t.Errorf("temporary files left: %v", left)
		}
	}
}

// The matte video of one effect into a file holds the model's alpha:
// 255 on the red rectangle, 0 on the background (MJPG is lossy: within 30).
func TestVideoMatteValues(t *testing.T) {
	const w, h, n = 64, 48, 6
	dir := t.TempDir()
	in := filepath.Join(dir, "in.avi")
	videoWrite(t, in, "MJPG", w, h, n, 10)
	out := filepath.Join(dir, "matte.avi")
	if _, err := Video(context.Background(), applyRedModel{}, VideoOptions{In: in, Out: out, Effects: []apply.Effect{apply.EffectMatte}}); err != nil {
		t.Fatal(err)
	}
	videoEach(t, out, func(k int, m gocv.Mat) {
		g := gocv.NewMat()
		gocv.CvtColor(m, &g, gocv.ColorBGRToGray)
		inside, outside := g.GetUCharAt(h-4, 8+2*k+w/6), g.GetUCharAt(4, 2)
		g.Close()
		if inside < 225 || outside > 30 {
			t.Errorf("frame %d: matte %d inside the person, %d outside; want 255 and 0", k, inside, outside)
		}
	})
}

// An existing output is refused without Force (before any work) and
// replaced with it; the input is never an output.
func TestVideoExistingOutput(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.avi")
	videoWrite(t, in, "MJPG", 32, 32, 3, 10)
	out := filepath.Join(dir, "out.avi")
	if err := os.WriteFile(out, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	o := VideoOptions{In: in, Out: out, Effects: []apply.Effect{apply.EffectBlur}}
	if _, err := Video(context.Background(), applyRedModel{}, o); !errors.Is(err, dataset.ErrExists) {
		t.Fatalf("existing output: %v, want ErrExists", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "old" {
		t.Fatal("existing output changed without Force")
	}
	o.Force = true
	if sum, err := Video(context.Background(), applyRedModel{}, o); err != nil || sum.Written != 3 {
		t.Fatalf("with Force: %v, %d written", err, sum.Written)
	}
	o.Out = in
	var oe *dataset.OptionError
	if _, err := Video(context.Background(), applyRedModel{}, o); !errors.As(err, &oe) || oe.Field != "Out" {
		t.Errorf("output = input: %v", err)
	}
	o.Out, o.Effects = out, apply.Effects()
	if err := CheckVideo(o); !errors.As(err, &oe) || oe.Field != "Background" {
		t.Errorf("replace without a background: %v", err)
	}
}

// A file no backend can open is an error naming it and the backends.
func TestVideoUnopenable(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "noise.mp4")
	if err := os.WriteFile(in, bytes.Repeat([]byte("not a video "), 100), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Video(context.Background(), applyRedModel{}, VideoOptions{In: in, Out: filepath.Join(dir, "o.mp4"), Effects: []apply.Effect{apply.EffectMatte}})
	var oe *VideoOpenError
	if !errors.As(err, &oe) {
		t.Fatalf("got %v, want a VideoOpenError", err)
	}
	if msg := err.Error(); !strings.Contains(msg, in) || !strings.Contains(msg, "FFMPEG") {
		t.Errorf("message %q names neither the file nor the backends", msg)
	}
	if _, err := os.Stat(filepath.Join(dir, "o.mp4")); err == nil {
		t.Error("an output was written")
	}

	// A container that opens but whose frames none decodes: every JPEG of
	// an MJPG avi zeroed.
	blank := filepath.Join(dir, "blank.avi")
	videoWrite(t, blank, "MJPG", 32, 32, 3, 10)
	b, err := os.ReadFile(blank)
	if err != nil {
		t.Fatal(err)
	}
	for i := bytes.Index(b, []byte{0xFF, 0xD8, 0xFF}); i >= 0; i = bytes.Index(b, []byte{0xFF, 0xD8, 0xFF}) {
		end := bytes.Index(b[i:], []byte{0xFF, 0xD9}) // end of image
		if end < 0 {
			t.Fatal("a JPEG frame without its end")
		}
		for j := i; j < i+end+2; j++ {
			b[j] = 0
		}
	}
	if err := os.WriteFile(blank, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Video(context.Background(), applyRedModel{}, VideoOptions{In: blank, Out: filepath.Join(dir, "o2.avi"), Effects: []apply.Effect{apply.EffectMatte}})
	if !errors.As(err, &oe) || oe.Reason == "" || !strings.Contains(err.Error(), "FFMPEG") {
		t.Errorf("no decodable frame: %v, want a VideoOpenError with a reason", err)
	}
}

// A frame whose JPEG is destroyed mid-file is lost by the decoder; the
// output still has every frame, the lost one a copy of the one before.
func TestVideoCorruptFrame(t *testing.T) {
	const n = 10
	dir := t.TempDir()
	in := filepath.Join(dir, "in.avi")
	videoWrite(t, in, "MJPG", 48, 32, n, 10)
	b, err := os.ReadFile(in)
	if err != nil {
		t.Fatal(err)
	}
	// Frame 5's JPEG: zero it, start-of-image marker included.
	soi := []byte{0xFF, 0xD8, 0xFF}
	at := -1
	for k, off := 0, 0; k <= 5; k++ {
		i := bytes.Index(b[off:], soi)
		if i < 0 {
			t.Fatal("fewer JPEG frames than written")
		}
		at, off = off+i, off+i+3
	}
	end := at + 3 + bytes.Index(b[at+3:], soi)
	for i := at; i < end-16; i++ {
		b[i] = 0
	}
	if err := os.WriteFile(in, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.avi")
	sum, err := Video(context.Background(), applyRedModel{}, VideoOptions{In: in, Out: out, Effects: []apply.Effect{apply.EffectMatte}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Decoded != n-1 || sum.Corrupt != 1 || sum.Written != n {
		t.Errorf("decoded %d, corrupt %d, written %d: want %d, 1, %d", sum.Decoded, sum.Corrupt, sum.Written, n-1, n)
	}
	if got := videoProbe(t, out).frames; got != n {
		t.Errorf("output has %d frames, want %d", got, n)
	}
	// Output frame 5 is frame 4's matte again: its person starts at x = 16,
	// frame 5's own at 18.
	videoEach(t, out, func(k int, m gocv.Mat) {
		if v := m.GetVecbAt(28, 16)[1]; k >= 4 && k <= 5 && v < 200 {
			t.Errorf("output frame %d at x=16: %d, want 255 (frame 4's matte)", k, v)
		}
	})
}

// Frames stops a file early; the output holds those frames.
func TestVideoFrames(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.avi")
	videoWrite(t, in, "MJPG", 32, 32, 9, 10)
	out := filepath.Join(dir, "o.avi")
	sum, err := Video(context.Background(), applyRedModel{}, VideoOptions{In: in, Out: out, Effects: []apply.Effect{apply.EffectBlur}, Frames: 4})
	if err != nil || sum.Written != 4 {
		t.Fatalf("%v: %d written, want 4", err, sum.Written)
	}
	if got := videoProbe(t, out).frames; got != 4 {
		t.Errorf("output has %d frames, want 4", got)
	}
}

// applySlowModel is applyRedModel taking d per frame: a model slower than
// a live source.
type applySlowModel struct{ d time.Duration }

func (m applySlowModel) Predict(img gocv.Mat) ([]float32, error) {
	time.Sleep(m.d)
	return applyRedModel{}.Predict(img)
}

// A GStreamer test source at 30 frames/s stands in for a camera: with a
// model that takes 100 ms a frame, the run stops at Frames frames written
// and the frames that came meanwhile are dropped, not queued.
func TestVideoLiveGStreamer(t *testing.T) {
	src := "videotestsrc is-live=true pattern=ball ! video/x-raw,width=64,height=48,framerate=30/1 ! videoconvert ! appsink"
	out := filepath.Join(t.TempDir(), "live.mp4")
	sum, err := Video(context.Background(), applySlowModel{100 * time.Millisecond}, VideoOptions{In: src, Out: out,
		Effects: []apply.Effect{apply.EffectMatte}, Frames: 6})
	var oe *VideoOpenError
	if errors.As(err, &oe) {
		t.Skipf("skipping: GStreamer's videotestsrc is not available (install gstreamer1.0-plugins-base): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	if !sum.Live || sum.Written != 6 {
		t.Errorf("live %v, %d written, want 6", sum.Live, sum.Written)
	}
	// 5 gaps of >= 100 ms at 30 frames/s: about 3 frames dropped per gap.
	// How many the decoder sees depends on the scheduling of a loaded
	// machine, so the test asks for some, not for a number.
	if sum.Dropped < 1 || sum.Decoded != sum.Written+sum.Dropped {
		t.Errorf("decoded %d, written %d, dropped %d: want drops, and decoded = written + dropped", sum.Decoded, sum.Written, sum.Dropped)
	}
	if sum.Latency.P50MS < 100 {
		t.Errorf("capture-to-output latency p50 %.1f ms, below the model's 100 ms", sum.Latency.P50MS)
	}
	if got := videoProbe(t, out).frames; got != 6 {
		t.Errorf("output has %d frames, want 6", got)
	}
}

// Cancelling a live run finalises the output with what was written.
func TestVideoLiveCancel(t *testing.T) {
	src := "videotestsrc is-live=true ! video/x-raw,width=32,height=32,framerate=30/1 ! videoconvert ! appsink"
	out := filepath.Join(t.TempDir(), "live.avi")
	ctx, cancel := context.WithCancel(context.Background())
	o := VideoOptions{In: src, Out: out, Effects: []apply.Effect{apply.EffectBlur},
		Progress: func(done, _ int) {
			if done == 3 {
				cancel()
			}
		}}
	sum, err := Video(ctx, applyRedModel{}, o)
	cancel()
	var oe *VideoOpenError
	if errors.As(err, &oe) {
		t.Skipf("skipping: GStreamer's videotestsrc is not available: %v", err)
	}
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want the cancel", err)
	}
	if got := videoProbe(t, out).frames; got != sum.Written || got < 3 {
		t.Errorf("output has %d frames, summary %d written", got, sum.Written)
	}
}

func TestVideoSourceKinds(t *testing.T) {
	for in, want := range map[string][2]bool{
		"a.mp4": {true, false}, "b.MKV": {true, false}, "camera:0": {true, true}, "camera:x": {false, false},
		"videotestsrc ! appsink": {true, true}, "rtsp://cam/1": {true, true}, "f/img_%04d.png": {true, false},
		"photo.jpg": {false, false}, "frames/": {false, false},
	} {
		if got := [2]bool{IsVideoSource(in), IsLiveSource(in)}; got != want {
			t.Errorf("%s: video, live %v, want %v", in, got, want)
		}
	}
	for in, want := range map[string]string{"d/clip.avi": "clip.avi", "d/c.webm": "c.mp4", "camera:2": "camera2.mp4", "f/img_%04d.png": "img.mp4"} {
		if n, e := videoOutName(in); n+e != want {
			t.Errorf("%s: %s%s, want %s", in, n, e, want)
		}
	}
}

// The one-frame delay on a video: frames predicting 0, 0, 1, 0, 0 come out
// all 0 (the spike is their neighbours' mean), and every frame is written,
// the held last one flushed.
func TestVideoTemporalOFD(t *testing.T) {
	if (temporal.Spec{Kind: temporal.OFD}).New().Delay() == 0 {
		t.Skip("skipping: the temporal package's ofd filter is not there yet")
	}
	const w, h = 32, 16
	dir := t.TempDir()
	in := filepath.Join(dir, "in.avi")
	vw, err := gocv.VideoWriterFile(in, "MJPG", 10, w, h, true)
	if err != nil || !vw.IsOpened() {
		t.Skipf("skipping: no MJPG writer: %v", err)
	}
	for _, v := range []uint8{0, 0, 255, 0, 0} {
		m, _ := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, applySolid(w, h, 0, 0, v))
		vw.Write(m)
		m.Close()
	}
	vw.Close()
	out := filepath.Join(dir, "matte.avi")
	sum, err := Video(context.Background(), applyLevelModel{}, VideoOptions{In: in, Out: out, Effects: []apply.Effect{apply.EffectMatte},
		Refine: apply.RefineOptions{Soft: true}, Temporal: temporal.Spec{Kind: temporal.OFD}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Written != 5 {
		t.Errorf("%d frames written, want 5", sum.Written)
	}
	k := 0 // frames read back
	videoEach(t, out, func(i int, m gocv.Mat) {
		if v := m.GetVecbAt(h/2, w/2)[0]; v > 8 { // MJPG: within 8 of 0
			t.Errorf("frame %d: matte %d, want 0", i, v)
		}
		k++
	})
	if k != 5 {
		t.Errorf("read back %d frames, want 5", k)
	}
}

// A live source that ends by itself (a camera unplugged; here a test
// source of 8 frames) is ErrSourceLost, with the output finalised and
// holding every frame written.
func TestVideoLiveSourceLost(t *testing.T) {
	src := "videotestsrc is-live=true num-buffers=8 ! video/x-raw,width=32,height=32,framerate=30/1 ! videoconvert ! appsink"
	out := filepath.Join(t.TempDir(), "lost.avi")
	sum, err := Video(context.Background(), applyRedModel{}, VideoOptions{In: src, Out: out, Effects: []apply.Effect{apply.EffectMatte}})
	var oe *VideoOpenError
	if errors.As(err, &oe) {
		t.Skipf("skipping: GStreamer's videotestsrc is not available: %v", err)
	}
	if !errors.Is(err, ErrSourceLost) {
		t.Fatalf("got %v, want ErrSourceLost", err)
	}
	if sum.Written < 1 || sum.Written+sum.Dropped != 8 || len(sum.Outputs) != 1 {
		t.Errorf("written %d + dropped %d, want 8; outputs %v", sum.Written, sum.Dropped, sum.Outputs)
	}
	if got := videoProbe(t, out).frames; got != sum.Written {
		t.Errorf("output has %d frames, summary says %d", got, sum.Written)
	}
}

// With Show and no Out, every frame of the first effect is shown and
// nothing is written.
func TestVideoShowOnly(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.avi")
	videoWrite(t, in, "MJPG", 32, 24, 5, 10)
	shown := 0
	sum, err := Video(context.Background(), applyRedModel{}, VideoOptions{In: in, Effects: []apply.Effect{apply.EffectMatte, apply.EffectBlur},
		Show: func(m gocv.Mat) {
			if m.Cols() == 32 && m.Rows() == 24 {
				shown++
			}
		}})
	if err != nil {
		t.Fatal(err)
	}
	if shown != 5 || sum.Written != 5 || len(sum.Outputs) != 0 {
		t.Errorf("shown %d, written %d, outputs %v: want 5, 5, none", shown, sum.Written, sum.Outputs)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files beside the input: %d entries", len(ents))
	}
}

// Codec is tried first; a FourCC of another length is refused.
func TestVideoCodec(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.avi")
	videoWrite(t, in, "MJPG", 32, 32, 3, 10)
	o := VideoOptions{In: in, Out: filepath.Join(dir, "o.mp4"), Effects: []apply.Effect{apply.EffectMatte}, Codec: "mp4v"}
	sum, err := Video(context.Background(), applyRedModel{}, o)
	if err != nil || len(sum.Codecs) != 1 || sum.Codecs[0] != "mp4v" {
		t.Fatalf("%v: codecs %v, want mp4v", err, sum.Codecs)
	}
	if got := videoProbe(t, o.Out).frames; got != 3 {
		t.Errorf("%d frames, want 3", got)
	}
	o.Codec = "h264x"
	var oe *dataset.OptionError
	if err := CheckVideo(o); !errors.As(err, &oe) || oe.Field != "Codec" {
		t.Errorf("codec %q: %v", o.Codec, err)
	}
}

// applyModelOnly hides a model's type, so Video runs it as one step.
type applyModelOnly struct{ apply.Model }

// A stateless whole-image predictor runs on three stages (prepare, run,
// read back) and gives frame for frame the planes of Predictor.Predict:
// the oracle ONNX model at 40x30, so frames of 48x32 are resized there and
// back and the mattes are soft at the edges. With three model calls at
// once the frames still come out in order with the same planes (each
// frame's person is elsewhere, so a frame out of place differs).
func TestVideoStagedPredictor(t *testing.T) {
	testmodel.InitRuntime(t)
	dir := t.TempDir()
	path := testmodel.Oracle(t, dir)
	base := models.Presets()["oracle"]
	base.Width, base.Height = 40, 30
	p := models.NewPredictor(testmodel.Open(t, path, base, models.SessionOptions{Threads: 1}), models.FitResize, image.Point{}, 0)
	if _, ok := stageable(p); !ok {
		t.Fatal("an untiled stateless predictor is not staged")
	}
	in := filepath.Join(dir, "in.avi")
	videoWrite(t, in, "MJPG", 48, 32, 7, 10)
	mattes := func(m apply.Model, calls int) [][]byte {
		var got [][]byte
		_, err := Video(context.Background(), m, VideoOptions{In: in, Effects: []apply.Effect{apply.EffectMatte}, Refine: apply.RefineOptions{Soft: true},
			Show: func(f gocv.Mat) { got = append(got, f.ToBytes()) }, Calls: calls})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	staged, whole, side := mattes(p, 1), mattes(applyModelOnly{p}, 1), mattes(p, 3)
	if len(staged) != 7 || len(whole) != 7 || len(side) != 7 {
		t.Fatalf("%d, %d and %d frames, want 7", len(staged), len(whole), len(side))
	}
	soft := 0
	for k := range staged {
		if !bytes.Equal(staged[k], whole[k]) {
			t.Errorf("frame %d: the staged matte differs from Predict's", k)
		}
		if !bytes.Equal(side[k], whole[k]) {
			t.Errorf("frame %d: with 3 calls at once the matte differs from Predict's", k)
		}
		if k > 0 && bytes.Equal(whole[k], whole[k-1]) {
			t.Errorf("frames %d and %d have one matte: order is not tested", k-1, k)
		}
		for _, v := range whole[k] {
			if v > 0 && v < 255 {
				soft++
			}
		}
	}
	if soft == 0 {
		t.Error("no soft matte value: the resizing is not exercised")
	}
}

// The strip: three frames evenly spaced over an 11-frame clip (0, 5 and
// 10), input above the matte, at the clip's own height so the panels are
// not scaled. Each column's matte has the moving person's left edge where
// that frame has it (8 + 2k), which tells the frames apart.
func TestVideoSheet(t *testing.T) {
	const w, h, n = 60, 40, 11
	dir := t.TempDir()
	in := filepath.Join(dir, "in.avi")
	videoWrite(t, in, "MJPG", w, h, n, 10)
	strip := filepath.Join(dir, "docs", "strip.png")
	o := VideoOptions{In: in, Out: filepath.Join(dir, "o.avi"), Effects: []apply.Effect{apply.EffectMatte}, Sheet: strip, SheetFrames: 3, SheetCell: h}
	sum, err := Video(context.Background(), applyRedModel{}, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Preview != strip {
		t.Errorf("preview %q, want %q", sum.Preview, strip)
	}
	m := gocv.IMRead(strip, gocv.IMReadGrayScale)
	defer m.Close()
	colour := gocv.IMRead(strip, gocv.IMReadColor)
	defer colour.Close()
	// apply.Sheet's layout: a 6 px gap and margins, a 30 px header; row
	// labels sit at a cell's bottom, so the checks look above them.
	const gap, header = 6, 30
	if wantW, wantH := gap+3*w+2*gap+gap, header+h+gap+h+gap; m.Cols() != wantW || m.Rows() != wantH {
		t.Fatalf("strip is %dx%d, want %dx%d", m.Cols(), m.Rows(), wantW, wantH)
	}
	for c, idx := range []int{0, 5, 10} {
		x0, y0 := gap+c*(w+gap), header+h+gap // the matte row
		left := 8 + 2*idx
		if v := m.GetUCharAt(y0+15, x0+left+2); v < 200 {
			t.Errorf("column %d (frame %d): matte %d inside the person, want 255", c, idx, v)
		}
		if left >= 3 {
			if v := m.GetUCharAt(y0+15, x0+left-3); v > 50 {
				t.Errorf("column %d (frame %d): matte %d left of the person, want 0", c, idx, v)
			}
		}
		// The input row shows the red person over green.
		if r, g := colour.GetVecbAt(header+15, x0+left+2)[2], colour.GetVecbAt(header+15, x0+left+2)[1]; r < 180 || g > 90 {
			t.Errorf("column %d (frame %d): input R %d G %d on the person, want red", c, idx, r, g)
		}
	}
	// An existing strip is refused without Force.
	o.Out = filepath.Join(dir, "o2.avi")
	if _, err := Video(context.Background(), applyRedModel{}, o); !errors.Is(err, dataset.ErrExists) {
		t.Errorf("existing strip: %v, want ErrExists", err)
	}
}

// Two model calls at once only where frames wait for the model (a file)
// and a CPU has cores to split; a live source's newest frame and a GPU
// get one call.
func TestVideoCalls(t *testing.T) {
	for _, tc := range []struct {
		live, cpu bool
		cores     int
		want      int
	}{
		{false, true, 2, 2}, {false, true, 16, 2}, {false, true, 1, 1},
		{true, true, 16, 1}, {false, false, 16, 1}, {true, false, 2, 1},
	} {
		if got := VideoCalls(tc.live, tc.cpu, tc.cores); got != tc.want {
			t.Errorf("VideoCalls(live %v, cpu %v, %d cores) = %d, want %d", tc.live, tc.cpu, tc.cores, got, tc.want)
		}
	}
}
