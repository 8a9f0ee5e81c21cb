//go:build matprofile

package jobs

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/apply"
	"github.com/segtool/segtool/internal/matleak"
	"github.com/segtool/segtool/temporal"
)

// TestMatProfileApply runs Apply down its paths (skips, notes, sheets, the
// EMA, refusals, cancellation) and checks after each run that gocv's
// live-Mat count is back where it started.
func TestMatProfileApply(t *testing.T) {
	in := applyPhotoFolder(t)
	bg := filepath.Join(t.TempDir(), "bg.jpg")
	applyPortrait(t, bg, 70, 30)
	ctx := context.Background()

	leaks := matleak.Start(t)
	check := leaks.Check
	runs := []struct {
		step string
		o    ApplyOptions
	}{
		{"all effects, fg-edge blur, harmonize, feather, png sheet", ApplyOptions{Effects: apply.Effects(), Background: bg, Harmonize: 0.5,
			Blur: apply.BlurOptions{FgEdge: true}, Refine: apply.RefineOptions{Feather: 2}, Sheet: "sheet.png", SheetCell: 32}},
		{"trimap refine, soft, jpg sheet", ApplyOptions{Effects: []apply.Effect{apply.EffectBlur, apply.EffectCutout}, Refine: apply.RefineOptions{Soft: true, Trimap: true},
			Sheet: "sheet.jpg", SheetRows: 2}},
		{"temporal EMA, one worker", ApplyOptions{Effects: []apply.Effect{apply.EffectMatte, apply.EffectReplace}, Background: in, Temporal: temporal.Spec{Kind: temporal.EMA, Param: 0.5}, Workers: 1}},
	}
	for _, r := range runs {
		o := r.o
		o.In, o.Out = in, filepath.Join(t.TempDir(), "out")
		if o.Sheet != "" {
			o.Sheet = filepath.Join(o.Out, o.Sheet)
		}
		if _, err := Apply(ctx, applyRedModel{}, o); err != nil {
			t.Fatalf("%s: %v", r.step, err)
		}
		check(r.step)
		if _, err := Apply(ctx, applyRedModel{}, o); err == nil {
			t.Errorf("%s again: no refusal", r.step)
		}
		check(r.step + ", refused")
	}
	cctx, cancel := context.WithCancel(ctx)
	o := ApplyOptions{In: in, Out: filepath.Join(t.TempDir(), "c"), Effects: apply.Effects(), Background: bg, Temporal: temporal.Spec{Kind: temporal.EMA, Param: 0.3}, Workers: 2,
		Progress: func(done, _ int) {
			if done == 1 {
				cancel()
			}
		}}
	Apply(cctx, applyRedModel{}, o)
	cancel()
	check("cancelled run")

}
