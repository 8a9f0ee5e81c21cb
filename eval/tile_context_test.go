package eval_test

import (
	"context"
	"encoding/json"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
)

// cornerConfig writes a 128x96 dataset of one image, a small person in
// one corner, and the oracle at 16x16, and returns a context-tiled run of
// it (tiles of 16 overlapping by 4, saving predictions) and the image.
func cornerConfig(t testing.TB) (eval.Config, []byte) {
	t.Helper()
	const w, h = 128, 96
	dir := t.TempDir()
	ds := filepath.Join(dir, "ds")
	for _, d := range []string{"images", "masks"} {
		if err := os.MkdirAll(filepath.Join(ds, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	bgr := make([]byte, 3*w*h)
	mask := make([]byte, w*h)
	person := image.Rect(8, 10, 26, 30)
	for y := range h {
		for x := range w {
			i := y*w + x
			bgr[3*i], bgr[3*i+1], bgr[3*i+2] = 60, 60, 40
			if image.Pt(x, y).In(person) {
				bgr[3*i+2], mask[i] = 255, 255
			}
		}
	}
	for _, f := range []struct {
		rel string
		px  []byte
		typ gocv.MatType
	}{{"images/a.png", bgr, gocv.MatTypeCV8UC3}, {"masks/a.png", mask, gocv.MatTypeCV8UC1}} {
		m, err := gocv.NewMatFromBytes(h, w, f.typ, f.px)
		if err != nil {
			t.Fatal(err)
		}
		ok := gocv.IMWrite(filepath.Join(ds, f.rel), m)
		m.Close()
		if !ok {
			t.Fatalf("writing %s", f.rel)
		}
	}
	info, _ := json.Marshal(dataset.Info{Name: "corner"})
	writeFile(t, filepath.Join(ds, dataset.InfoFile), info)
	if err := dataset.WriteManifest(ds, []dataset.Sample{{ID: "a", Split: "test", Image: "images/a.png", Mask: "masks/a.png",
		Width: w, Height: h, Source: []string{"images/a.png"}, SHA256: map[string]string{}}}); err != nil {
		t.Fatal(err)
	}
	model := testmodel.Oracle(t, dir)
	base := models.Presets()["oracle"]
	base.Width, base.Height = 16, 16
	return eval.Config{
		Dataset: ds, Model: model, Spec: testmodel.Detect(t, model, base), Batch: 2, Fit: models.FitResize,
		Session: models.SessionOptions{Device: models.Device{Kind: "cpu"}, Threads: 1},
		Metrics: eval.DefaultOptions(), Out: filepath.Join(dir, "run"), Workers: 2,
		Tile: image.Pt(16, 16), Overlap: 4, TileMode: models.TileContext, SavePreds: true,
	}, bgr
}

// TestTiledContextOracle: in context mode eval runs only the tiles in the
// band of the whole-image prediction, as apply's Predictor does, and its
// prediction is the Predictor's. A 128x96 image with a small person in
// one corner, the oracle at 16x16 and tiles of 16 overlapping by 4: 88
// tiles, of which only those near the corner are run.
func TestTiledContextOracle(t *testing.T) {
	needORT(t)
	const w, h = 128, 96
	cfg, bgr := cornerConfig(t)
	if _, err := eval.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	img, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, bgr)
	if err != nil {
		t.Fatal(err)
	}
	defer img.Close()
	model, spec, tile := cfg.Model, cfg.Spec, cfg.Tile

	sess, err := models.Open(model, spec, cfg.Session)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	global, err := models.NewPredictor(sess, models.FitResize, image.Point{}, 0).Predict(img)
	if err != nil {
		t.Fatal(err)
	}
	want, err := models.NewPredictor(sess, models.FitResize, tile, 4).Predict(img)
	if err != nil {
		t.Fatal(err)
	}
	band := models.BandTiles(w, h, tile, 4, models.RefineWeights(global, w, h, models.ContextBand(w, h, 16, 16)))
	all := len(models.Tiles(w, h, 16, 16, 4))

	rows, err := eval.ReadRows(filepath.Join(cfg.Out, eval.JournalFile))
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %v: %v", rows, err)
	}
	if got := rows[0].Tiles; got != len(band) || got == 0 || got >= all {
		t.Errorf("eval ran %d tiles; the band holds %d of %d: want those alone", got, len(band), all)
	}
	pred := gocv.IMRead(filepath.Join(cfg.Out, eval.PredsDir, "a.png"), gocv.IMReadGrayScale)
	defer pred.Close()
	saved := pred.ToBytes()
	if len(saved) != w*h {
		t.Fatalf("saved prediction has %d values", len(saved))
	}
	for i, v := range want {
		if d := math.Abs(float64(saved[i]) - float64(v)*255); d > 1 {
			t.Fatalf("pixel (%d,%d): eval saved %d, the Predictor gives %.4f", i%w, i/w, saved[i], v)
		}
	}
}
