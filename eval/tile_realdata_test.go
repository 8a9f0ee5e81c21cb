package eval_test

import (
	"context"
	"image"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/models"
)

// TestTileContextRealModels: on the shared P3M portraits, tiling in
// context mode must not cost more than 0.01 of accumulated IoU against the
// untiled run, for SINet and prisma, at tiles of the model's size
// overlapping by 32 px, and its accumulated boundary F must not fall
// (measured: SINet +0.016, prisma +0.0035); plain tiles (no context) fall
// far below, which is why context is the default.
func TestTileContextRealModels(t *testing.T) {
	needORT(t)
	mdir := shareddata.Dir(t, "models")
	ds := realDataset(t, "data/p3m", "alphas", "alphas")
	for _, c := range []struct {
		file, preset string
		tile         int
	}{{"SINet.onnx", "sinet", 320}, {"prisma_nchw.onnx", "prisma", 256}} {
		t.Run(c.preset, func(t *testing.T) {
			model := filepath.Join(mdir, c.file)
			spec := realSpec(t, model, c.preset)
			score := map[string]map[string]eval.MetricSummary{}
			for _, mode := range []string{"untiled", string(models.TilePlain), string(models.TileContext)} {
				cfg := eval.Config{
					Dataset: ds, Model: model, Spec: spec, Batch: 1, Fit: models.FitResize,
					Metrics: eval.DefaultOptions(), Out: filepath.Join(t.TempDir(), "run"), Workers: 2,
				}
				if mode != "untiled" {
					cfg.Tile, cfg.Overlap, cfg.TileMode = image.Pt(c.tile, c.tile), 32, models.TileMode(mode)
				}
				res, err := eval.Run(context.Background(), cfg)
				if err != nil {
					t.Fatal(err)
				}
				if res.Counts.Scored != res.Counts.Selected || res.Counts.Scored == 0 {
					t.Fatalf("%s: counts %+v: every image should score", mode, res.Counts)
				}
				want := mode // untiled runs record no tile mode, as before
				if mode == "untiled" {
					want = ""
				}
				if res.Options.TileMode != want {
					t.Errorf("%s: results.json tile_mode %q, want %q", mode, res.Options.TileMode, want)
				}
				score[mode] = metricMap(res)
				m := score[mode]
				t.Logf("%s %s: IoU %.4f, boundary F %.4f, boundary IoU %.4f, MAD %.4f", c.file, mode,
					*m["iou"].Accumulated, *m["boundary_f"].Accumulated, *m["boundary_iou"].Accumulated, *m["mad"].Mean)
			}
			untiled, ctx, plain := *score["untiled"]["iou"].Accumulated, *score["context"]["iou"].Accumulated, *score["plain"]["iou"].Accumulated
			if ctx < untiled-0.01 {
				t.Errorf("context-tiled IoU %.4f is more than 0.01 below untiled %.4f", ctx, untiled)
			}
			if bu, bc := *score["untiled"]["boundary_f"].Accumulated, *score["context"]["boundary_f"].Accumulated; bc <= bu {
				t.Errorf("context-tiled boundary F %.4f not above untiled %.4f: the tiles should sharpen edges, not add false ones", bc, bu)
			}
			if plain >= ctx {
				t.Errorf("plain-tiled IoU %.4f not below context %.4f: the test no longer shows what context fixes", plain, ctx)
			}
		})
	}
}
