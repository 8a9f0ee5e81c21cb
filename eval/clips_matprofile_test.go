//go:build matprofile

package eval_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/matleak"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/temporal"
)

// TestMatProfileClips runs clip datasets through the model and from saved
// predictions, with overlays, ofd and an unreadable frame, and checks
// that every Mat the clip path opened is closed. Run with go test -tags
// matprofile -run MatProfile ./eval/.
func TestMatProfileClips(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	clips := flickerClips()
	for i := range clips {
		clips[i].red = clips[i].alpha
	}
	ds, preds := writeClipDataset(t, dir, clips)
	// An unreadable frame mid-clip.
	writeFile(t, filepath.Join(ds, "images", "walk_0003.png"), []byte("not a png"))
	model, spec := writeOracleModel(t, dir)
	leaks := matleak.Start(t)
	for _, c := range []eval.Config{
		{Dataset: ds, Model: model, Spec: spec, Session: models.SessionOptions{Device: models.Device{Kind: "cpu"}, Threads: 1},
			Batch: 1, Fit: models.FitResize, Warmup: 1},
		{Dataset: ds, Preds: preds, Batch: 1},
	} {
		c.Metrics, c.Workers, c.SaveOverlays, c.SavePreds = eval.DefaultOptions(), 2, true, true
		c.Temporal = temporal.Spec{Kind: temporal.OFD}
		c.Out = filepath.Join(t.TempDir(), "run")
		res, err := eval.Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if res.Counts.Errors != 1 { // overlays read the image with saved predictions too
			t.Errorf("counts %+v, want the unreadable frame as an error", res.Counts)
		}
		os.RemoveAll(c.Out)
		leaks.Check("clip run, model " + c.Model + " preds " + c.Preds)
	}
}
