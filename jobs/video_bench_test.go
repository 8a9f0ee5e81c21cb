package jobs

import (
	"context"
	"image"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/segtool/segtool/apply"
	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
)

// BenchmarkVideoSINet is apply on a 512x288 clip with SINet and the
// default blur into H.264 (or mp4v) mp4: the end-to-end cost per frame
// for a CPU profile (go test -cpuprofile). ns/op is per frame. calls=1 is
// one model call at a time on every core; calls=default is what apply
// makes by default (VideoCalls: on 2 or more cores, two calls at once of
// half the cores each).
func BenchmarkVideoSINet(b *testing.B) {
	dir := b.TempDir()
	in := filepath.Join(dir, "in.mp4")
	const frames = 60
	videoWrite(b, in, "avc1", 512, 288, frames, 30)
	out := filepath.Join(dir, "out.mp4")
	model := filepath.Join(shareddata.Dir(b, "models"), "SINet.onnx")
	calls := VideoCalls(false, true, runtime.NumCPU())
	for _, bc := range []struct {
		name           string
		calls, threads int
	}{
		{"calls=1", 1, 0},
		{"calls=default", calls, max(runtime.NumCPU()/calls, 1)},
	} {
		b.Run(bc.name, func(b *testing.B) {
			testmodel.NeedRuntime(b)
			s := testmodel.Open(b, model, models.Presets()["sinet"], models.SessionOptions{Threads: bc.threads})
			p := models.NewPredictor(s, models.FitResize, image.Point{}, 0)
			b.ResetTimer()
			for range b.N {
				s, err := Video(context.Background(), p, VideoOptions{In: in, Out: out, Effects: []apply.Effect{apply.EffectBlur}, Force: true, Calls: bc.calls})
				if err != nil {
					b.Fatal(err)
				}
				if s.Written != frames {
					b.Fatalf("%d frames written, want %d", s.Written, frames)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*frames), "ns/frame")
		})
	}
}
