//go:build matprofile

package jobs

import (
	"context"
	"image"
	"path/filepath"
	"testing"
	"time"

	"github.com/segtool/segtool/apply"
	"github.com/segtool/segtool/internal/matleak"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/temporal"
)

// TestMatProfileVideo runs Video down its paths (every effect with
// refinement and a filter, an early stop, a refusal, a live source
// cancelled) and checks after each that gocv's live-Mat count is back
// where it started.
func TestMatProfileVideo(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.avi")
	videoWrite(t, in, "MJPG", 48, 32, 8, 10)
	bg := filepath.Join(dir, "bg.png")
	applyWriteBGR(t, bg, 20, 20, applySolid(20, 20, 1, 2, 3))
	ctx := context.Background()
	leaks := matleak.Start(t)
	o := VideoOptions{In: in, Out: filepath.Join(dir, "all"), Effects: apply.Effects(), Background: bg,
		Refine: apply.RefineOptions{Soft: true, Trimap: true, Feather: 1}, Temporal: temporal.Spec{Kind: temporal.EMA, Param: 0.5}}
	if _, err := Video(ctx, applyRedModel{}, o); err != nil {
		t.Fatal(err)
	}
	leaks.Check("all effects")
	if _, err := Video(ctx, applyRedModel{}, o); err == nil {
		t.Error("existing outputs: no refusal")
	}
	leaks.Check("refused")
	o.Force, o.Frames = true, 3
	if _, err := Video(ctx, applyRedModel{}, o); err != nil {
		t.Fatal(err)
	}
	leaks.Check("stopped at 3 frames")
	cctx, cancel := context.WithCancel(ctx)
	live := VideoOptions{In: "videotestsrc is-live=true ! video/x-raw,width=32,height=32 ! videoconvert ! appsink", Out: filepath.Join(dir, "live.avi"),
		Effects: []apply.Effect{apply.EffectBlur},
		Progress: func(done, _ int) {
			if done == 2 {
				cancel()
			}
		}}
	Video(cctx, applySlowModel{d: 20 * time.Millisecond}, live)
	cancel()
	leaks.Check("live, cancelled")
	// Last, as it skips without ONNX Runtime: a staged ONNX predictor.
	{
		testmodel.InitRuntime(t)
		base := models.Presets()["oracle"]
		base.Width, base.Height = 40, 30
		pr := models.NewPredictor(testmodel.Open(t, testmodel.Oracle(t, dir), base, models.SessionOptions{Threads: 1}), models.FitResize, image.Point{}, 0)
		leaks.Reset()
		if _, err := Video(ctx, pr, VideoOptions{In: in, Out: filepath.Join(dir, "staged.avi"), Effects: []apply.Effect{apply.EffectBlur}}); err != nil {
			t.Fatal(err)
		}
		leaks.Check("staged predictor")
		o := VideoOptions{In: in, Out: filepath.Join(dir, "calls.avi"), Effects: []apply.Effect{apply.EffectBlur}, Calls: 3}
		if _, err := Video(ctx, pr, o); err != nil {
			t.Fatal(err)
		}
		leaks.Check("staged predictor, 3 calls at once")
		o.Force, o.Frames = true, 2
		if _, err := Video(ctx, pr, o); err != nil {
			t.Fatal(err)
		}
		leaks.Check("staged predictor, 3 calls at once, stopped at 2 frames")
	}
}
