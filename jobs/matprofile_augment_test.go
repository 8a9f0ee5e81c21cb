//go:build matprofile

package jobs

import (
	"context"
	"image"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/matleak"
)

// TestMatProfileAugment writes augmented datasets (copies, originals, a
// rejected source, resume, previews) and benches, and expects every Mat
// closed.
func TestMatProfileAugment(t *testing.T) {
	leaks := matleak.Start(t)
	func() {
		ctx := context.Background()
		src, pf := augmentTestSource(t, 3)
		os.WriteFile(filepath.Join(src, openDataset(t, src).Samples[1].Image), []byte("corrupt"), 0o644)
		cfg := augmentTestConfig(t, fixture.EveryAugmentOp)
		for _, ds := range []string{src, pf} {
			out := filepath.Join(t.TempDir(), "aug")
			o := AugmentOptions{Config: cfg, Dataset: ds, Out: out, Copies: 2, IncludeOriginals: true, Preview: 3, RunOptions: RunOptions{Workers: 2}}
			if _, err := Augment(ctx, o); err != nil {
				t.Fatal(err)
			}
			o.Resume = true
			if _, err := Augment(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := Augment(ctx, AugmentOptions{Config: cfg, Dataset: pf, Preview: 2, PreviewOut: filepath.Join(t.TempDir(), "p.png")}); err != nil {
			t.Fatal(err)
		}
		for _, o := range []AugmentBenchOptions{{Config: cfg, Size: image.Pt(64, 64), N: 3}, {Config: cfg, Dataset: src, N: 4, Workers: 2}} {
			if _, err := AugmentBench(ctx, o); err != nil {
				t.Fatal(err)
			}
		}
	}()
	leaks.Check("augment")
}
