package eval_test

import (
	"context"
	"encoding/json"
	"errors"
	"image"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
)

// needORT skips when the ONNX Runtime library is not installed.
var needORT = testmodel.NeedRuntime

// rect is a half-open pixel rectangle [x0,x1) x [y0,y1).
type rect struct{ x0, y0, x1, y1 int }

func (r rect) has(x, y int) bool { return x >= r.x0 && x < r.x1 && y >= r.y0 && y < r.y1 }

// oracleSample is an image whose red channel is 255 inside pred (so the
// oracle model predicts exactly that rectangle) and a mask that is 255
// inside truth.
type oracleSample struct {
	id          string
	pred, truth rect
	corrupt     bool // write a truncated PNG instead of the image
}

const oracleW, oracleH = 40, 30

// writeOracleDataset writes a canonical dataset (test split) of the
// samples, all PNG so that pixel values survive exactly.
func writeOracleDataset(t *testing.T, dir string, samples []oracleSample) {
	t.Helper()
	for _, d := range []string{"images", "masks"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var rows []dataset.Sample
	for _, s := range samples {
		bgr := make([]byte, 3*oracleW*oracleH)
		mask := make([]byte, oracleW*oracleH)
		for y := range oracleH {
			for x := range oracleW {
				i := y*oracleW + x
				bgr[3*i], bgr[3*i+1] = 90, 200 // blue and green: noise the oracle ignores
				if s.pred.has(x, y) {
					bgr[3*i+2] = 255
				} else {
					bgr[3*i+2] = 127 // just under the oracle's 128
				}
				if s.truth.has(x, y) {
					mask[i] = 255
				}
			}
		}
		img := encodePNG(t, bgr, gocv.MatTypeCV8UC3)
		if s.corrupt {
			img = img[:len(img)/2]
		}
		imgRel, maskRel := "images/"+s.id+".png", "masks/"+s.id+".png"
		writeFile(t, filepath.Join(dir, imgRel), img)
		writeFile(t, filepath.Join(dir, maskRel), encodePNG(t, mask, gocv.MatTypeCV8UC1))
		rows = append(rows, dataset.Sample{ID: s.id, Split: "test", Image: imgRel, Mask: maskRel,
			Width: oracleW, Height: oracleH, Source: []string{imgRel}, SHA256: map[string]string{}})
	}
	info, _ := json.Marshal(dataset.Info{Name: "oracle"})
	writeFile(t, filepath.Join(dir, dataset.InfoFile), info)
	if err := dataset.WriteManifest(dir, rows); err != nil {
		t.Fatal(err)
	}
}

func encodePNG(t *testing.T, px []byte, typ gocv.MatType) []byte {
	t.Helper()
	m, err := gocv.NewMatFromBytes(oracleH, oracleW, typ, px)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	buf, err := gocv.IMEncode(gocv.PNGFileExt, m)
	if err != nil {
		t.Fatal(err)
	}
	defer buf.Close()
	return append([]byte(nil), buf.GetBytes()...)
}

func writeFile(t testing.TB, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeOracleModel writes the oracle ONNX model and returns its path and
// spec, resolved against the file as segtool eval resolves it.
func writeOracleModel(t *testing.T, dir string) (string, models.Spec) {
	t.Helper()
	path := testmodel.Oracle(t, dir)
	base := models.Presets()["oracle"]
	base.Width, base.Height = oracleW, oracleH
	spec := testmodel.Detect(t, path, base)
	if err := spec.Validate(); err != nil {
		t.Fatal(err)
	}
	return path, spec
}

// The hand-worked fixture. Images are 40x30 = 1200 pixels.
//
//	half:  prediction x in [0,20), truth x in [10,30), all rows:
//	       TP = 10*30 = 300, FP = 300, FN = 300, TN = 1200-900 = 300
//	       IoU 300/900 = 1/3, Dice 600/1200 = 1/2, background IoU 300/900 = 1/3,
//	       accuracy 600/1200 = 1/2, precision = recall = 1/2;
//	       |pred - truth| is 1 on FP+FN = 600 pixels: MAD 0.5, MSE 0.5, SAD 0.6
//	exact: prediction = truth = rows [0,15): TP 600, TN 600: every score perfect, MAD 0
//	broken: a truncated PNG: an error row, not averaged in
//
// Accumulated over half+exact: IoU (300+600)/(900+600) = 0.6,
// Dice 2*900/(2*900+600) = 0.75, mIoU (0.6 + (300+600)/(900+600))/2 = 0.6.
// Means of per-image values: IoU (1/3+1)/2 = 2/3, Dice (1/2+1)/2 = 3/4,
// mIoU (1/3+1)/2 = 2/3, MAD 0.25, SAD 0.3.
var oracleSamples = []oracleSample{
	{id: "half", pred: rect{0, 0, 20, 30}, truth: rect{10, 0, 30, 30}},
	{id: "exact", pred: rect{0, 0, 40, 15}, truth: rect{0, 0, 40, 15}},
	{id: "broken", pred: rect{0, 0, 40, 15}, truth: rect{0, 0, 40, 15}, corrupt: true},
}

type want struct{ acc, mean float64 }

var oracleWant = map[string]want{
	"iou":       {0.6, 2.0 / 3},
	"dice":      {0.75, 0.75},
	"miou":      {0.6, 2.0 / 3},
	"accuracy":  {(900.0 + 900) / 2400, 0.75},
	"precision": {900.0 / 1200, 0.75},
	"recall":    {900.0 / 1200, 0.75},
	"mad":       {math.NaN(), 0.25},
	"mse":       {math.NaN(), 0.25},
	"sad":       {math.NaN(), 0.3},
}

func oracleConfig(t *testing.T) eval.Config {
	t.Helper()
	needORT(t)
	dir := t.TempDir()
	writeOracleDataset(t, filepath.Join(dir, "ds"), oracleSamples)
	model, spec := writeOracleModel(t, dir)
	return eval.Config{
		Dataset: filepath.Join(dir, "ds"), Model: model, Spec: spec,
		Session: models.SessionOptions{Device: models.Device{Kind: "cpu"}, Threads: 1},
		Batch:   1, Fit: models.FitResize, Metrics: eval.DefaultOptions(),
		Out: filepath.Join(dir, "run"), Workers: 2, Warmup: 1,
	}
}

// journalRows reads the rows a run journalled in its folder out.
func journalRows(t *testing.T, out string) []eval.Row {
	t.Helper()
	rows, err := eval.ReadRows(filepath.Join(out, eval.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

func metricMap(r *eval.Results) map[string]eval.MetricSummary {
	m := map[string]eval.MetricSummary{}
	for _, s := range r.Metrics {
		m[s.Name] = s
	}
	return m
}

func checkOracle(t *testing.T, res *eval.Results) {
	t.Helper()
	if res.Counts.Scored != 2 || res.Counts.Errors != 1 || res.Counts.Selected != 3 {
		t.Fatalf("counts %+v, want 2 scored and 1 error of 3", res.Counts)
	}
	if len(res.Problems) != 1 || res.Problems[0].ID != "broken" || !strings.Contains(res.Problems[0].Path, "broken.png") {
		t.Errorf("problems %+v, want the broken image with its path", res.Problems)
	}
	got := metricMap(res)
	const tol = 1e-9
	for name, w := range oracleWant {
		g, ok := got[name]
		if !ok {
			t.Errorf("metric %s missing", name)
			continue
		}
		if g.Mean == nil || math.Abs(*g.Mean-w.mean) > tol {
			t.Errorf("%s mean = %v, want %v", name, g.Mean, w.mean)
		}
		if g.MeanImages != 2 {
			t.Errorf("%s averaged over %d images, want 2", name, g.MeanImages)
		}
		if math.IsNaN(w.acc) {
			continue
		}
		if g.Accumulated == nil || math.Abs(*g.Accumulated-w.acc) > tol {
			t.Errorf("%s accumulated = %v, want %v", name, g.Accumulated, w.acc)
		}
	}
}

// TestOracleEndToEnd runs the oracle model through ONNX Runtime on the
// hand-worked dataset and checks the exact metrics.
func TestOracleEndToEnd(t *testing.T) {
	cfg := oracleConfig(t)
	cfg.SavePreds, cfg.SaveOverlays = true, true
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkOracle(t, res)
	for _, f := range []string{eval.ResultsFile, eval.CSVFile, eval.JournalFile, "preds/half.png", "overlays/half.jpg"} {
		if _, err := os.Stat(filepath.Join(cfg.Out, f)); err != nil {
			t.Error(err)
		}
	}
	// The saved prediction is the oracle's: 255 exactly on the red rectangle.
	pred := gocv.IMRead(filepath.Join(cfg.Out, "preds/half.png"), gocv.IMReadGrayScale)
	defer pred.Close()
	px := pred.ToBytes()
	if px[0] != 255 || px[25] != 0 || px[19] != 255 || px[20] != 0 {
		t.Errorf("saved prediction row 0 = %v, want 255 on x < 20", px[:40])
	}

	// Those predictions, scored with --preds, give the same metrics.
	pcfg := cfg
	pcfg.Model, pcfg.Preds, pcfg.Out = "", filepath.Join(cfg.Out, "preds"), cfg.Out+"-preds"
	pcfg.SavePreds, pcfg.SaveOverlays = false, false
	pres, err := eval.Run(context.Background(), pcfg)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(res.Metrics, pres.Metrics) {
		t.Errorf("--preds metrics differ from the model run's")
	}

	// An existing run is not overwritten without --force.
	if _, err := eval.Run(context.Background(), cfg); !errors.Is(err, eval.ErrExists) {
		t.Errorf("second run into the same folder: %v, want ErrExists", err)
	}
	cfg.Force = true
	if _, err := eval.Run(context.Background(), cfg); err != nil {
		t.Errorf("--force: %v", err)
	}
}

// TestDeterminism: the metrics do not depend on --workers or --batch.
func TestDeterminism(t *testing.T) {
	base := oracleConfig(t)
	var first []byte
	for _, c := range []struct{ workers, batch int }{{1, 1}, {2, 4}, {2, 1}, {1, 4}} {
		cfg := base
		cfg.Workers, cfg.Batch = c.workers, c.batch
		cfg.Out = filepath.Join(t.TempDir(), "run")
		res, err := eval.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		checkOracle(t, res)
		b, _ := json.Marshal(struct {
			M any
			S any
			T any
		}{res.Metrics, res.Sweep, res.Totals})
		if first == nil {
			first = b
		} else if string(b) != string(first) {
			t.Errorf("workers %d batch %d: metrics differ from workers 1 batch 1", c.workers, c.batch)
		}
	}
}

// TestResume cancels a run after its first image (as a kill would stop
// it), tears the journal's last line, and resumes: the results are those
// of an uninterrupted run, and finished images are not redone.
func TestResume(t *testing.T) {
	cfg := oracleConfig(t)
	cfg.Workers = 1
	full, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}

	cut := cfg
	cut.Out = filepath.Join(t.TempDir(), "run")
	interrupt(t, cut)
	journal := filepath.Join(cut.Out, eval.JournalFile)
	b, err := os.ReadFile(journal)
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != 1 {
		t.Fatalf("journal has %d rows after the cut, want 1", n)
	}
	if _, err := os.Stat(filepath.Join(cut.Out, eval.ResultsFile)); err == nil {
		t.Error("an interrupted run wrote results.json")
	}
	// A kill in mid-write leaves half a line.
	f, _ := os.OpenFile(journal, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"id":"exact","split":"te`)
	f.Close()

	if _, err := eval.Run(context.Background(), cut); !errors.Is(err, eval.ErrExists) {
		t.Errorf("rerun without --resume: %v, want ErrExists", err)
	}
	cut.Resume = true
	res, err := eval.Run(context.Background(), cut)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Resumed != 1 {
		t.Errorf("resumed %d rows, want 1", res.Counts.Resumed)
	}
	if !reflect.DeepEqual(res.Metrics, full.Metrics) || !reflect.DeepEqual(res.Sweep, full.Sweep) {
		t.Error("resumed metrics differ from the uninterrupted run's")
	}
	// A resume under other options is refused.
	cut.Metrics.Threshold = 0.4
	var oe *eval.OptionError
	if _, err := eval.Run(context.Background(), cut); !errors.As(err, &oe) {
		t.Errorf("resume with another threshold: %v, want an option error", err)
	}
}

// TestBadInput: missing predictions are rows, an empty split exits with
// ErrNoSamples, --fail-fast stops.
func TestBadInput(t *testing.T) {
	cfg := oracleConfig(t)
	preds := filepath.Join(t.TempDir(), "preds")
	os.MkdirAll(preds, 0o755)
	// One right prediction, one of the wrong size, one missing.
	writeFile(t, filepath.Join(preds, "half.png"), encodePNG(t, make([]byte, oracleW*oracleH), gocv.MatTypeCV8UC1))
	small := gocv.NewMatWithSize(10, 10, gocv.MatTypeCV8UC1)
	gocv.IMWrite(filepath.Join(preds, "exact.png"), small)
	small.Close()
	pc := cfg
	pc.Model, pc.Preds = "", preds
	res, err := eval.Run(context.Background(), pc)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Scored != 1 || res.Counts.Errors != 2 {
		t.Errorf("counts %+v, want 1 scored, 2 errors", res.Counts)
	}
	reasons := map[string]string{}
	for _, p := range res.Problems {
		reasons[p.ID] = p.Reason
	}
	if !strings.Contains(reasons["exact"], "10x10") {
		t.Errorf("wrong-sized prediction: %q, want the sizes named", reasons["exact"])
	}
	// An all-zero prediction of a half-person image: IoU 0, MAD 0.5.
	m := metricMap(res)
	if iou := m["iou"]; iou.Mean == nil || *iou.Mean != 0 {
		t.Errorf("all-zero prediction IoU = %v, want 0", iou.Mean)
	}

	empty := cfg
	empty.Splits = []string{"train"}
	empty.Out = filepath.Join(t.TempDir(), "run")
	if _, err := eval.Run(context.Background(), empty); !errors.Is(err, eval.ErrNoSamples) {
		t.Errorf("empty split: %v, want ErrNoSamples", err)
	}

	ff := cfg
	ff.FailFast, ff.Workers = true, 1
	ff.Out = filepath.Join(t.TempDir(), "run")
	if _, err := eval.Run(context.Background(), ff); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Errorf("--fail-fast: %v, want a stop naming the broken sample", err)
	}

	// A tile that is not model-sized is refused before any work.
	tc := cfg
	tc.Tile, tc.Out = image.Pt(16, 16), filepath.Join(t.TempDir(), "run")
	if _, err := eval.Run(context.Background(), tc); !errors.As(err, new(*eval.OptionError)) {
		t.Errorf("--tile 16: %v, want an option error", err)
	}
}

// TestTiledOracle: tiles of 16x16 over the 40x30 images, stitched, give
// the same exact prediction (the oracle is pointwise, so blending equal
// values is exact).
func TestTiledOracle(t *testing.T) {
	cfg := oracleConfig(t)
	cfg.Spec.Width, cfg.Spec.Height = 16, 16
	cfg.Tile, cfg.Overlap, cfg.TileMode = image.Pt(16, 16), 4, models.TilePlain
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkOracle(t, res)
}

// TestNonFiniteOutput: an oracle with an infinite gain gives NaN where the
// red channel is 0 (Inf * 0): those images are counted and reported, never
// averaged in.
func TestNonFiniteOutput(t *testing.T) {
	cfg := oracleConfig(t)
	b, err := onnxbuild.Oracle(onnxbuild.OracleOptions{Channel: 0, Gain: float32(math.Inf(1)), Bias: 0})
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, cfg.Model, b)
	// Make one image black in red everywhere but its person: "half" keeps
	// red 127 outside (Inf*127 = Inf, sigmoid 1), "exact" gets red 0.
	m := gocv.IMRead(filepath.Join(cfg.Dataset, "images/exact.png"), gocv.IMReadColor)
	px := m.ToBytes()
	m.Close()
	for i := 0; i < len(px); i += 3 {
		if px[i+2] != 255 {
			px[i+2] = 0
		}
	}
	writeFile(t, filepath.Join(cfg.Dataset, "images/exact.png"), encodePNG(t, px, gocv.MatTypeCV8UC3))
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.NonFinite != 1 || res.Counts.Scored != 1 {
		t.Fatalf("counts %+v, want 1 non-finite and 1 scored", res.Counts)
	}
	var nf eval.Problem
	for _, p := range res.Problems {
		if p.Status == eval.StatusNonFinite {
			nf = p
		}
	}
	// Rows 15..29 of exact are outside its person: 40*15 = 600 NaN values.
	if nf.ID != "exact" || !strings.Contains(nf.Reason, "600 of 1200") {
		t.Errorf("non-finite problem %+v, want exact with 600 of 1200 values", nf)
	}
	if iou := metricMap(res)["iou"]; iou.MeanImages != 1 {
		t.Errorf("IoU averaged over %d images, want only the finite one", iou.MeanImages)
	}
}

// TestShards: shards are disjoint, cover the selection, and each carries
// its shard in run.json.
func TestShards(t *testing.T) {
	cfg := oracleConfig(t)
	seen := map[string]int{}
	for i := range 2 {
		c := cfg
		c.Shard = eval.Shard{Index: i, Count: 2}
		c.Out = filepath.Join(t.TempDir(), "run")
		res, err := eval.Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if res.Dataset.Shard == nil || *res.Dataset.Shard != c.Shard {
			t.Errorf("shard %d: results.json shard %v", i, res.Dataset.Shard)
		}
		b, _ := os.ReadFile(filepath.Join(c.Out, eval.JournalFile))
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			var r eval.Row
			json.Unmarshal([]byte(l), &r)
			seen[r.ID]++
		}
	}
	if len(seen) != len(oracleSamples) {
		t.Errorf("shards covered %v, want all %d samples once", seen, len(oracleSamples))
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("%s scored by %d shards", id, n)
		}
	}
}

// TestTiledBatched: tiles of several images share batches, and an image's
// tiles span batches; the pool (three batches of a size) must not run dry
// and the stitched masks must be the oracle's exact ones.
func TestTiledBatched(t *testing.T) {
	cfg := oracleConfig(t)
	cfg.Spec.Width, cfg.Spec.Height = 16, 16
	cfg.Tile, cfg.Overlap, cfg.TileMode = image.Pt(16, 16), 4, models.TilePlain
	cfg.Batch = 3
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkOracle(t, res)
	// 40x30 in 16x16 tiles overlapping by 4: 3 columns x 3 rows... per
	// models.Tiles; two scored images, calls = ceil(tiles/3).
	if res.Timing.Calls < 2 {
		t.Errorf("%d inference calls, want the tiles batched in several", res.Timing.Calls)
	}
}

// TestFP16Oracle: the oracle written with float16 inputs and outputs, with
// float16 weights, and computing in float16, gives the same exact masks
// as the float32 one: segtool converts the input once per batch and reads
// the float16 output back.
func TestFP16Oracle(t *testing.T) {
	for _, p := range []onnxbuild.Precision{onnxbuild.FP16IO, onnxbuild.FP16Weights, onnxbuild.FP16} {
		t.Run(string(p), func(t *testing.T) {
			cfg := oracleConfig(t)
			m, err := onnxbuild.Build("oracle", onnxbuild.Options{Precision: p})
			if err != nil {
				t.Fatal(err)
			}
			writeFile(t, cfg.Model, m.Data)
			info, err := models.ReadModelInfo(cfg.Model)
			if err != nil {
				t.Fatal(err)
			}
			base := models.Presets()["oracle"]
			base.Width, base.Height = oracleW, oracleH
			if cfg.Spec, err = models.Detect(base, info.Inputs, info.Outputs); err != nil {
				t.Fatal(err)
			}
			want := models.Float32
			if p == onnxbuild.FP16IO {
				want = models.Float16
			}
			if cfg.Spec.InputType != want || cfg.Spec.OutputType != want {
				t.Fatalf("detected input %s, output %s; want %s", cfg.Spec.InputType, cfg.Spec.OutputType, want)
			}
			cfg.Batch = 2
			res, err := eval.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			checkOracle(t, res)
		})
	}
}

// TestSkipGroups: a run without the boundary and matting groups reports
// exactly the segmentation metrics, with the full run's values, and its
// key differs so --resume cannot mix the two.
func TestSkipGroups(t *testing.T) {
	full := oracleConfig(t)
	all, err := eval.Run(context.Background(), full)
	if err != nil {
		t.Fatal(err)
	}
	cfg := oracleConfig(t)
	cfg.Metrics.Skip = []string{eval.GroupBoundary, eval.GroupMatting}
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := metricMap(all)
	var names []string
	for _, m := range res.Metrics {
		names = append(names, m.Name)
		w := want[m.Name]
		if m.Group != eval.GroupSegmentation || *m.Mean != *w.Mean {
			t.Errorf("%s (%s): mean %v, full run %v", m.Name, m.Group, *m.Mean, *w.Mean)
		}
	}
	if len(names) != 7 || !slices.Contains(names, "iou") || !slices.Contains(names, "dice") {
		t.Errorf("metrics %v, want the 7 segmentation ones", names)
	}
	if !slices.Equal(res.Options.Skip, cfg.Metrics.Skip) {
		t.Errorf("options.skip_metrics = %v", res.Options.Skip)
	}
	// Per image: no column and no value for the groups left out.
	csvHead, err := os.ReadFile(filepath.Join(cfg.Out, eval.CSVFile))
	if err != nil {
		t.Fatal(err)
	}
	head, _, _ := strings.Cut(string(csvHead), "\n")
	if !strings.Contains(head, ",dice,") || strings.Contains(head, "boundary_iou") || strings.Contains(head, "grad") {
		t.Errorf("per_image.csv header %q: want the segmentation columns only", head)
	}
	rows := journalRows(t, cfg.Out)
	bf, _ := eval.DefaultRegistry().Lookup("boundary_f")
	for _, r := range rows {
		if r.Score == nil {
			continue
		}
		if v, ok := bf.PerImage(r.Score); ok {
			t.Errorf("%s: boundary_f = %v for a run that skipped it", r.ID, v)
		}
		if r.Score.MatteFromMask {
			t.Errorf("%s: matte_from_mask set without matting metrics", r.ID)
		}
	}
	cfg.Metrics.Skip = []string{"sweep"}
	cfg.Force = true
	if _, err := eval.Run(context.Background(), cfg); err == nil || !strings.Contains(err.Error(), "sweep") {
		t.Errorf("skipping an unknown group: %v", err)
	}
}

// TestRunFolderLocked: a run folder another writer holds is refused with
// dataset.ErrLocked, under Force too, and left untouched.
func TestRunFolderLocked(t *testing.T) {
	cfg := oracleConfig(t)
	lock, err := dataset.LockOutput(cfg.Out)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Force = true
	if _, err := eval.Run(context.Background(), cfg); !errors.Is(err, dataset.ErrLocked) {
		t.Errorf("run into a locked folder: %v, want ErrLocked", err)
	}
	if _, err := os.Stat(filepath.Join(cfg.Out, eval.RunFile)); err == nil {
		t.Error("a refused run wrote run.json")
	}
	lock.Release()
	if _, err := eval.Run(context.Background(), cfg); err != nil {
		t.Errorf("run after the release: %v", err)
	}
}
