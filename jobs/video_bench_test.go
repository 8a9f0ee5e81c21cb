package jobs

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/apply"
	"github.com/segtool/segtool/internal/testmodel"
)

// BenchmarkVideoSINet is apply on a 512x288 clip with SINet and the
// default blur into H.264 (or mp4v) mp4: the end-to-end cost per frame
// for a CPU profile (go test -cpuprofile). ns/op is per frame.
func BenchmarkVideoSINet(b *testing.B) {
	p := testmodel.SINet(b)
	dir := b.TempDir()
	in := filepath.Join(dir, "in.mp4")
	const frames = 60
	videoWrite(b, in, "avc1", 512, 288, frames, 30)
	out := filepath.Join(dir, "out.mp4")
	b.ResetTimer()
	for range b.N {
		s, err := Video(context.Background(), p, VideoOptions{In: in, Out: out, Effects: []apply.Effect{apply.EffectBlur}, Force: true})
		if err != nil {
			b.Fatal(err)
		}
		if s.Written != frames {
			b.Fatalf("%d frames written, want %d", s.Written, frames)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*frames), "ns/frame")
}
