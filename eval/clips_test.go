package eval_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/models/onnxbuild"
	"github.com/segtool/segtool/temporal"
)

// clipFixture is one clip: per frame the ground-truth alpha, the saved
// prediction (both oracleW x oracleH, 0..255) and the image's red
// channel (the oracle model predicts red >= 128).
type clipFixture struct {
	name             string
	alpha, pred, red [][]uint8
}

// writeClipDataset writes a canonical clip dataset (alphas only, test
// split) and the predictions as preds/<id>.png; the manifest lists the
// frames last to first, so order comes from the frame field.
func writeClipDataset(t *testing.T, dir string, clips []clipFixture) (ds, preds string) {
	t.Helper()
	ds, preds = filepath.Join(dir, "ds"), filepath.Join(dir, "preds")
	for _, d := range []string{filepath.Join(ds, "images"), filepath.Join(ds, "alphas"), preds} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var rows []dataset.Sample
	for _, c := range clips {
		for f := len(c.alpha) - 1; f >= 0; f-- {
			id := fmt.Sprintf("%s_%04d", c.name, f)
			bgr := make([]byte, 3*oracleW*oracleH)
			for i := range oracleW * oracleH {
				bgr[3*i], bgr[3*i+1], bgr[3*i+2] = 90, 200, 127
				if c.red != nil {
					bgr[3*i+2] = c.red[f][i]
				}
			}
			imgRel, alphaRel := "images/"+id+".png", "alphas/"+id+".png"
			writeFile(t, filepath.Join(ds, imgRel), encodePNG(t, bgr, gocv.MatTypeCV8UC3))
			writeFile(t, filepath.Join(ds, alphaRel), encodePNG(t, c.alpha[f], gocv.MatTypeCV8UC1))
			if c.pred != nil {
				writeFile(t, filepath.Join(preds, id+".png"), encodePNG(t, c.pred[f], gocv.MatTypeCV8UC1))
			}
			frame := f
			rows = append(rows, dataset.Sample{ID: id, Split: "test", Image: imgRel, Alpha: alphaRel, Clip: c.name, Frame: &frame,
				Width: oracleW, Height: oracleH, Source: []string{imgRel}, SHA256: map[string]string{}})
		}
	}
	info, _ := json.Marshal(dataset.Info{Name: "clips"})
	writeFile(t, filepath.Join(ds, dataset.InfoFile), info)
	if err := dataset.WriteManifest(ds, rows); err != nil {
		t.Fatal(err)
	}
	return ds, preds
}

// rvmClip is RobustVideoMatting's evaluate_lr.py for one clip, in float64
// from the 8-bit planes: MAD and MSE per frame (here without RVM's x1000)
// averaged over frames, dtSSD_t = 100*sqrt(Σ((p_t−p_t-1)−(g_t−g_t-1))²/N)
// averaged over t >= 1.
func rvmClip(pred, alpha [][]uint8) (mad, mse, dtssd float64) {
	n := float64(len(pred[0]))
	for f := range pred {
		var a, s, d float64
		for i := range pred[f] {
			e := float64(pred[f][i])/255 - float64(alpha[f][i])/255
			a += math.Abs(e)
			s += e * e
			if f > 0 {
				x := (float64(pred[f][i])/255 - float64(pred[f-1][i])/255) - (float64(alpha[f][i])/255 - float64(alpha[f-1][i])/255)
				d += x * x
			}
		}
		mad += a / n
		mse += s / n
		if f > 0 {
			dtssd += 100 * math.Sqrt(d/n)
		}
	}
	k := float64(len(pred))
	return mad / k, mse / k, dtssd / (k - 1)
}

// plane fills a frame with f(x, y).
func plane(f func(x, y int) uint8) []uint8 {
	p := make([]uint8, oracleW*oracleH)
	for y := range oracleH {
		for x := range oracleW {
			p[y*oracleW+x] = f(x, y)
		}
	}
	return p
}

// flickerClips are two clips with known flicker: "walk", a soft-edged
// person moving 3 px a frame, predicted with an error blob on odd frames;
// "blink", a still person whose prediction loses a block every other
// frame.
func flickerClips() []clipFixture {
	walk := clipFixture{name: "walk"}
	for f := range 6 {
		edge := 8 + 3*f
		a := plane(func(x, y int) uint8 {
			return uint8(min(max((x-edge)*40, 0), 255)) // a 7 px ramp
		})
		p := plane(func(x, y int) uint8 {
			v := int(a[y*oracleW+x])
			if f%2 == 1 && x < 6 && y < 10 {
				v += 90 + 7*y
			}
			return uint8(min(v, 255))
		})
		walk.alpha, walk.pred = append(walk.alpha, a), append(walk.pred, p)
	}
	blink := clipFixture{name: "blink"}
	for f := range 5 {
		a := plane(func(x, y int) uint8 {
			if x >= 10 && x < 30 && y >= 5 {
				return 255
			}
			return 0
		})
		p := plane(func(x, y int) uint8 {
			v := a[y*oracleW+x]
			if f%2 == 0 && x >= 10 && x < 20 && y >= 20 {
				v = 30
			}
			return v
		})
		blink.alpha, blink.pred = append(blink.alpha, a), append(blink.pred, p)
	}
	return []clipFixture{walk, blink}
}

func readClipCSV(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"clip", "frames", "mad", "mse", "dtssd", "flicker", "iou", "dice"}
	if !reflect.DeepEqual(recs[0], want) {
		t.Fatalf("%s header %v, want %v", path, recs[0], want)
	}
	out := map[string]map[string]string{}
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out[r[0]] = m
	}
	return out
}

func relClose(t *testing.T, what string, got, want float64) {
	t.Helper()
	if math.Abs(got-want) > 1e-4*math.Max(math.Abs(want), 1e-12) {
		t.Errorf("%s = %.9g, want %.9g (RVM's definition)", what, got, want)
	}
}

func clipConfig(t *testing.T, ds, preds string) eval.Config {
	return eval.Config{Dataset: ds, Preds: preds, Batch: 1, Metrics: eval.DefaultOptions(),
		Out: filepath.Join(t.TempDir(), "run"), Workers: 2}
}

// TestClipsMatchRVM scores saved predictions of clips with known flicker
// and checks per_clip.csv and results.json against RVM's definitions
// computed here independently.
func TestClipsMatchRVM(t *testing.T) {
	clips := flickerClips()
	ds, preds := writeClipDataset(t, t.TempDir(), clips)
	cfg := clipConfig(t, ds, preds)
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Clips != 2 || res.Counts.Scored != 11 {
		t.Fatalf("counts %+v", res.Counts)
	}
	got := readClipCSV(t, filepath.Join(cfg.Out, eval.PerClipFile))
	var meanDT float64
	for _, c := range clips {
		mad, mse, dt := rvmClip(c.pred, c.alpha)
		meanDT += dt / float64(len(clips))
		row := got[c.name]
		if row["frames"] != strconv.Itoa(len(c.alpha)) {
			t.Errorf("%s: %s frames", c.name, row["frames"])
		}
		for name, want := range map[string]float64{"mad": mad, "mse": mse, "dtssd": dt} {
			v, err := strconv.ParseFloat(row[name], 64)
			if err != nil {
				t.Fatalf("%s %s: %v", c.name, name, err)
			}
			relClose(t, c.name+" "+name, v, want)
		}
	}
	m := metricMap(res)
	if s, ok := m["dtssd"]; !ok || s.Mean == nil || s.MeanImages != 2 {
		t.Fatalf("results.json dtssd %+v", s)
	} else {
		relClose(t, "results.json dtssd (mean over clips)", *s.Mean, meanDT)
	}
	// blink: truth is still; the 10x10 block flips on every one of the 4
	// pairs of 40x30 frames: flicker 400/4800.
	if v, _ := strconv.ParseFloat(got["blink"]["flicker"], 64); math.Abs(v-400.0/4800) > 1e-12 {
		t.Errorf("blink flicker %v, want %v", v, 400.0/4800)
	}
	if s := m["flicker"]; s.Accumulated == nil || s.Mean == nil {
		t.Errorf("results.json flicker %+v", s)
	}

	// Sharded, each clip is scored whole by one shard.
	sizes := map[int]bool{}
	for i := range 2 {
		c := cfg
		c.Shard = eval.Shard{Index: i, Count: 2}
		c.Out = filepath.Join(t.TempDir(), "run")
		r, err := eval.Run(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Counts.Clips != 1 {
			t.Errorf("shard %d: %+v, want one clip", i, r.Counts)
		}
		sizes[r.Counts.Scored] = true
	}
	if !sizes[len(clips[0].alpha)] || !sizes[len(clips[1].alpha)] {
		t.Errorf("shards scored %v frames, want one whole clip each (6 and 5)", sizes)
	}
}

// TestClipResume: a run cut inside a clip redoes that clip whole, and
// ends with the uninterrupted run's numbers and one row per frame.
func TestClipResume(t *testing.T) {
	ds, preds := writeClipDataset(t, t.TempDir(), flickerClips())
	cfg := clipConfig(t, ds, preds)
	cfg.Workers = 1
	cfg.Temporal = temporal.Spec{Kind: temporal.EMA, Param: 0.5}
	full, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cut := cfg
	cut.Out = filepath.Join(t.TempDir(), "run")
	interruptAfter(t, cut, 8) // the manifest's first clip (blink, 5 frames) and 3 of walk's 6
	cut.Resume = true
	res, err := eval.Run(context.Background(), cut)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Resumed != 5 {
		t.Errorf("resumed %d rows, want blink's 5", res.Counts.Resumed)
	}
	if !reflect.DeepEqual(metricMap(res)["dtssd"], metricMap(full)["dtssd"]) || !reflect.DeepEqual(metricMap(res)["mad"], metricMap(full)["mad"]) {
		t.Error("resumed clip metrics differ from the uninterrupted run's")
	}
	rows, err := eval.ReadRows(filepath.Join(cut.Out, eval.JournalFile))
	if err != nil || len(rows) != 11 {
		t.Errorf("journal: %d rows (%v), want 11, one per frame", len(rows), err)
	}
}

// noisyStill is a still clip whose predictions are the truth plus a fixed
// pseudo-random noise of ±0.2 around uncertain values.
func noisyStill() clipFixture {
	c := clipFixture{name: "still"}
	seed := uint32(12345)
	for range 8 {
		a := plane(func(x, y int) uint8 { return uint8(80 + 3*x) })
		p := plane(func(x, y int) uint8 {
			seed = seed*1664525 + 1013904223
			n := int(seed>>24) % 101 // 0..100
			return uint8(int(a[y*oracleW+x]) + n - 50)
		})
		c.alpha, c.pred = append(c.alpha, a), append(c.pred, p)
	}
	return c
}

// smooths reports whether spec's filter changes a second, different
// frame (the temporal package may not implement every kind yet).
func smooths(spec temporal.Spec) bool {
	f := spec.New()
	f.Push([]float32{0.5}, 1, 1)
	out := f.Push([]float32{0.4}, 1, 1)
	out = append(out, f.Flush()...)
	return len(out) > 0 && out[len(out)-1][0] != 0.4
}

// TestTemporalLowersDTSSD: on a still clip with noisy predictions, ema and
// uncertainty give a lower dtSSD than none.
func TestTemporalLowersDTSSD(t *testing.T) {
	ds, preds := writeClipDataset(t, t.TempDir(), []clipFixture{noisyStill()})
	dtssd := func(spec temporal.Spec) float64 {
		cfg := clipConfig(t, ds, preds)
		cfg.Temporal = spec
		res, err := eval.Run(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		return *metricMap(res)["dtssd"].Mean
	}
	none := dtssd(temporal.Spec{Kind: temporal.None})
	for _, s := range []string{"ema:0.5", "uncertainty:1"} {
		spec, err := temporal.Parse(s)
		if err != nil {
			t.Fatal(err)
		}
		if !smooths(spec) {
			t.Logf("%s: the temporal package does not filter yet; not compared", s)
			continue
		}
		if v := dtssd(spec); !(v < none) {
			t.Errorf("%s: dtSSD %v, not below none's %v", s, v, none)
		}
	}
	// A filter on a dataset without clips is an option error.
	dir := t.TempDir()
	writeOracleDataset(t, filepath.Join(dir, "ds"), oracleSamples[:1])
	cfg := clipConfig(t, filepath.Join(dir, "ds"), dir)
	cfg.Temporal = temporal.Spec{Kind: temporal.EMA, Param: 0.5}
	var oe *eval.OptionError
	if _, err := eval.Run(context.Background(), cfg); !errors.As(err, &oe) || oe.Field != "Temporal" {
		t.Errorf("ema on a dataset without clips: %v, want an option error on Temporal", err)
	}
}

// TestClipModel runs the oracle model over a clip whose person (the red
// rectangle) moves, against truth that lags one frame behind at frame 2:
// dtSSD from the model's exact 0/1 predictions must match RVM's.
func TestClipModel(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	c := clipFixture{name: "run"}
	for f := range 4 {
		x0 := 5 + 4*f
		tx := x0
		if f == 2 {
			tx = x0 - 4
		}
		rect := func(x0 int) []uint8 {
			return plane(func(x, y int) uint8 {
				if x >= x0 && x < x0+12 && y >= 4 && y < 26 {
					return 255
				}
				return 0
			})
		}
		c.red = append(c.red, rect(x0))
		c.pred = append(c.pred, rect(x0)) // what the oracle predicts
		c.alpha = append(c.alpha, rect(tx))
	}
	pred := c.pred
	c.pred = nil // no saved predictions: the model makes them
	ds, _ := writeClipDataset(t, dir, []clipFixture{c})
	model, spec := writeOracleModel(t, dir)
	cfg := eval.Config{Dataset: ds, Model: model, Spec: spec,
		Session: models.SessionOptions{Device: models.Device{Kind: "cpu"}, Threads: 1},
		Batch:   1, Fit: models.FitResize, Metrics: eval.DefaultOptions(),
		Out: filepath.Join(dir, "run"), Workers: 2, Warmup: 1}
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	mad, mse, dt := rvmClip(pred, c.alpha)
	row := readClipCSV(t, filepath.Join(cfg.Out, eval.PerClipFile))["run"]
	for name, want := range map[string]float64{"mad": mad, "mse": mse, "dtssd": dt} {
		v, _ := strconv.ParseFloat(row[name], 64)
		relClose(t, "model "+name, v, want)
	}
	if res.Timing.Calls != 4 || res.Model == nil {
		t.Errorf("timing %+v", res.Timing)
	}
	b, _ := os.ReadFile(filepath.Join(cfg.Out, eval.CSVFile))
	if !strings.Contains(strings.SplitN(string(b), "\n", 2)[0], ",dtssd,flicker,") {
		t.Errorf("per_image.csv lacks the per-frame dtssd and flicker: %s", strings.SplitN(string(b), "\n", 2)[0])
	}
}

// TestOFDMatchesFrames: ofd hands frame t back at frame t+1 and the last
// at the clip's end; each must be scored against its own truth. The
// prediction is the truth of a person moving 2 px a frame, exact but for a
// one-frame spike at frame 2 where its neighbours agree: ofd removes the
// spike, so every frame scores MAD 0 and the clip dtSSD 0; a frame scored
// against a neighbour's truth would not.
func TestOFDMatchesFrames(t *testing.T) {
	c := clipFixture{name: "spike"}
	for f := range 5 {
		a := plane(func(x, y int) uint8 {
			if x >= 6+2*f && x < 20+2*f {
				return 255
			}
			return 0
		})
		p := slices.Clone(a)
		if f == 2 {
			for y := 20; y < 30; y++ {
				for x := 32; x < 40; x++ {
					p[y*oracleW+x] = 200 // background elsewhere: a spike
				}
			}
		}
		c.alpha, c.pred = append(c.alpha, a), append(c.pred, p)
	}
	ds, preds := writeClipDataset(t, t.TempDir(), []clipFixture{c})
	run := func(spec string) map[string]string {
		cfg := clipConfig(t, ds, preds)
		var err error
		if cfg.Temporal, err = temporal.Parse(spec); err != nil {
			t.Fatal(err)
		}
		if _, err := eval.Run(context.Background(), cfg); err != nil {
			t.Fatal(err)
		}
		return readClipCSV(t, filepath.Join(cfg.Out, eval.PerClipFile))["spike"]
	}
	if none := run("none"); none["mad"] == "0" || none["dtssd"] == "0" {
		t.Fatalf("the spike scores nothing without a filter: %v", none)
	}
	if got := run("ofd"); got["frames"] != "5" || got["mad"] != "0" || got["dtssd"] != "0" || got["flicker"] != "0" {
		t.Errorf("ofd: %v, want 5 frames, mad, dtssd and flicker 0", got)
	}
}

// TestClipRecurrentModel runs the state-sum toy (alpha = the sum of the
// red means since the clip's start / 1024) over two clips of three frames
// of red 64 against an all-zero alpha: each frame's MAD is its alpha,
// 64/1024, 128/1024, 192/1024, so each clip's MAD is 0.125 and its dtSSD
// 100·(64/1024) = 6.25, but only if the state starts from zeros at each
// clip.
func TestClipRecurrentModel(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	red := plane(func(x, y int) uint8 { return 64 })
	zero := plane(func(x, y int) uint8 { return 0 })
	var clips []clipFixture
	for _, name := range []string{"a", "b"} {
		c := clipFixture{name: name}
		for range 3 {
			c.red, c.alpha = append(c.red, red), append(c.alpha, zero)
		}
		clips = append(clips, c)
	}
	ds, _ := writeClipDataset(t, dir, clips)
	path := testmodel.Built(t, dir, "state-sum", onnxbuild.Options{})
	base := models.Presets()["state-sum"]
	base.Width, base.Height = oracleW, oracleH
	cfg := eval.Config{Dataset: ds, Model: path, Spec: testmodel.Detect(t, path, base),
		Session: models.SessionOptions{Device: models.Device{Kind: "cpu"}, Threads: 1},
		Batch:   1, Fit: models.FitResize, Metrics: eval.DefaultOptions(),
		Out: filepath.Join(dir, "run"), Workers: 1, Warmup: 1}
	if _, err := eval.Run(context.Background(), cfg); err != nil {
		t.Fatal(err)
	}
	got := readClipCSV(t, filepath.Join(cfg.Out, eval.PerClipFile))
	for _, name := range []string{"a", "b"} {
		if got[name]["mad"] != "0.125" || got[name]["dtssd"] != "6.25" {
			t.Errorf("clip %s: %v, want mad 0.125 and dtssd 6.25", name, got[name])
		}
	}

	// The same frames as still images: each is a clip of one frame, so
	// every image's alpha, and MAD, is 64/1024.
	d, err := dataset.Open(ds)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Samples {
		d.Samples[i].Clip, d.Samples[i].Frame = "", nil
	}
	if err := dataset.WriteManifest(ds, d.Samples); err != nil {
		t.Fatal(err)
	}
	cfg.Out = filepath.Join(dir, "stills")
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if m := metricMap(res)["mad"]; m.Mean == nil || *m.Mean != 0.0625 || m.MeanImages != 6 || res.Counts.Clips != 0 {
		t.Errorf("still images through the state-sum model: mad %+v, counts %+v; want 0.0625 on 6 images", m, res.Counts)
	}
}

// TestClipMissingFrame: a frame without its prediction is an error row,
// and dtSSD does not bridge the gap: the clip's value is the mean over the
// pairs on either side of it.
func TestClipMissingFrame(t *testing.T) {
	c := flickerClips()[0]
	ds, preds := writeClipDataset(t, t.TempDir(), []clipFixture{c})
	if err := os.Remove(filepath.Join(preds, "walk_0002.png")); err != nil {
		t.Fatal(err)
	}
	cfg := clipConfig(t, ds, preds)
	res, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if res.Counts.Errors != 1 || len(res.Problems) != 1 || res.Problems[0].ID != "walk_0002" {
		t.Errorf("counts %+v problems %+v", res.Counts, res.Problems)
	}
	// Pairs (0,1), (3,4), (4,5); each rvmClip of two frames is its pair's dtSSD.
	_, _, d1 := rvmClip(c.pred[0:2], c.alpha[0:2])
	_, _, d45 := rvmClip(c.pred[3:6], c.alpha[3:6]) // mean of pairs 4 and 5
	want := (d1 + 2*d45) / 3
	row := readClipCSV(t, filepath.Join(cfg.Out, eval.PerClipFile))["walk"]
	v, _ := strconv.ParseFloat(row["dtssd"], 64)
	relClose(t, "dtssd across a missing frame", v, want)
	if row["frames"] != "5" {
		t.Errorf("frames %s, want the 5 scored", row["frames"])
	}
}

// TestClipVideoModelTiled: a video model asked for tiles is an option
// error before any frame runs, not a row per frame.
func TestClipVideoModelTiled(t *testing.T) {
	needORT(t)
	dir := t.TempDir()
	ds, _ := writeClipDataset(t, dir, flickerClips()[:1])
	path := testmodel.Built(t, dir, "state-sum", onnxbuild.Options{})
	base := models.Presets()["state-sum"]
	base.Width, base.Height = 20, 15
	cfg := eval.Config{Dataset: ds, Model: path, Spec: testmodel.Detect(t, path, base),
		Session: models.SessionOptions{Device: models.Device{Kind: "cpu"}, Threads: 1},
		Batch:   1, Fit: models.FitResize, Tile: image.Pt(20, 15), Overlap: 2, Metrics: eval.DefaultOptions(),
		Out: filepath.Join(dir, "run"), Workers: 1, Warmup: 1}
	var oe *eval.OptionError
	if _, err := eval.Run(context.Background(), cfg); !errors.As(err, &oe) || oe.Field != "Tile" || !errors.Is(err, models.ErrStatefulTile) {
		t.Errorf("tiled video model: %v, want an option error on Tile", err)
	}
}
