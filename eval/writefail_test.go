package eval_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/models/onnxbuild"
)

// predsConfig writes a dataset of n samples and a folder of saved
// predictions for them (each a different rectangle, so every image has its
// own scores) and returns a --preds run over them that saves its
// predictions and overlays. It needs no ONNX Runtime.
func predsConfig(t *testing.T, n int) eval.Config {
	t.Helper()
	dir := t.TempDir()
	var samples []oracleSample
	preds := filepath.Join(dir, "preds")
	if err := os.MkdirAll(preds, 0o755); err != nil {
		t.Fatal(err)
	}
	for i := range n {
		s := oracleSample{id: "s" + string(rune('a'+i)), pred: rect{0, 0, 5 + 3*i, 30}, truth: rect{10, 0, 30, 30}}
		samples = append(samples, s)
		px := make([]byte, oracleW*oracleH)
		for y := range oracleH {
			for x := range oracleW {
				if s.pred.has(x, y) {
					px[y*oracleW+x] = 255
				}
			}
		}
		writeFile(t, filepath.Join(preds, s.id+".png"), encodePNG(t, px, gocv.MatTypeCV8UC1))
	}
	writeOracleDataset(t, filepath.Join(dir, "ds"), samples)
	return eval.Config{
		Dataset: filepath.Join(dir, "ds"), Preds: preds, Metrics: eval.DefaultOptions(),
		Out: filepath.Join(dir, "run"), Workers: 2, Batch: 1,
		SavePreds: true, SaveOverlays: true,
	}
}

// TestWriteErrorStopsTheRun: a failed write of a prediction or an overlay
// (here ENOSPC from the third file on) stops the run with the error; no
// row records it, but the rows finished before it are all journalled, so
// --resume scores every other image and its metrics equal an uninterrupted
// run's.
func TestWriteErrorStopsTheRun(t *testing.T) {
	for _, dir := range []string{eval.PredsDir, eval.OverlaysDir} {
		t.Run(dir, func(t *testing.T) {
			cfg := predsConfig(t, 6)
			fresh := cfg
			fresh.Out = cfg.Out + "-fresh"
			want, err := eval.Run(context.Background(), fresh)
			if err != nil {
				t.Fatal(err)
			}

			var writes atomic.Int32
			full := cfg
			full.Workers = 1
			eval.SetWriteFile(&full, func(path string, data []byte) error {
				if filepath.Base(filepath.Dir(path)) == dir && writes.Add(1) > 2 {
					return &dataset.WriteError{Path: path, Err: syscall.ENOSPC}
				}
				return dataset.WriteFileAtomic(path, data)
			})
			_, err = eval.Run(context.Background(), full)
			var we *dataset.WriteError
			if !errors.As(err, &we) || !errors.Is(err, syscall.ENOSPC) || !strings.Contains(err.Error(), "sample s") {
				t.Fatalf("run on a full disk: %v, want the write error naming its sample", err)
			}
			if _, err := os.Stat(filepath.Join(cfg.Out, eval.ResultsFile)); err == nil {
				t.Error("a run stopped by a write error wrote results.json")
			}
			journal, err := os.ReadFile(filepath.Join(cfg.Out, eval.JournalFile))
			if err != nil {
				t.Fatal(err)
			}
			if bytes.Contains(journal, []byte(`"status":"error"`)) || bytes.Contains(journal, []byte("not written")) {
				t.Errorf("the journal records the write failure as an image's row:\n%s", journal)
			}

			cfg.Resume = true
			got, err := eval.Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			// One worker finishes the images in order: the first two were
			// written before the third failed, so both are journalled,
			// however late the journal reads them.
			if got.Counts.Scored != 6 || got.Counts.Errors != 0 || got.Counts.Resumed != 2 {
				t.Errorf("resumed counts %+v, want all 6 scored, 2 of them resumed, none errors", got.Counts)
			}
			if !reflect.DeepEqual(got.Metrics, want.Metrics) || !reflect.DeepEqual(got.Totals, want.Totals) {
				t.Error("resumed metrics differ from an uninterrupted run's")
			}
			for i := range 6 {
				id := "s" + string(rune('a'+i))
				for _, f := range []string{filepath.Join(eval.PredsDir, id+".png"), filepath.Join(eval.OverlaysDir, id+".jpg")} {
					if _, err := os.Stat(filepath.Join(cfg.Out, f)); err != nil {
						t.Errorf("after the resume: %v", err)
					}
				}
			}
		})
	}
}

// TestNothingScored: a run in which no image is scored returns
// ErrNothingScored, with the Results and results.json saying why.
func TestNothingScored(t *testing.T) {
	t.Run("all errors", func(t *testing.T) {
		cfg := predsConfig(t, 3)
		os.RemoveAll(cfg.Preds)
		os.MkdirAll(cfg.Preds, 0o755)
		res, err := eval.Run(context.Background(), cfg)
		if !errors.Is(err, eval.ErrNothingScored) || !strings.Contains(err.Error(), "3 are errors") {
			t.Fatalf("every prediction missing: %v, want ErrNothingScored counting 3 errors", err)
		}
		if res == nil || res.Counts.Errors != 3 || len(res.Problems) != 3 {
			t.Errorf("results %+v, want the 3 errors as problems", res)
		}
		if _, err := os.Stat(filepath.Join(cfg.Out, eval.ResultsFile)); err != nil {
			t.Error(err)
		}
	})
	t.Run("all NaN", func(t *testing.T) {
		cfg := oracleConfig(t)
		b, err := onnxbuild.Oracle(onnxbuild.OracleOptions{Channel: 0, Gain: float32(math.Inf(1)), Bias: 0})
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, cfg.Model, b)
		// Red 0 outside the person: Inf * 0 is NaN there, in every image.
		for _, id := range []string{"half", "exact"} {
			p := filepath.Join(cfg.Dataset, "images", id+".png")
			m := gocv.IMRead(p, gocv.IMReadColor)
			px := m.ToBytes()
			m.Close()
			for i := 0; i < len(px); i += 3 {
				if px[i+2] != 255 {
					px[i+2] = 0
				}
			}
			writeFile(t, p, encodePNG(t, px, gocv.MatTypeCV8UC3))
		}
		res, err := eval.Run(context.Background(), cfg)
		if !errors.Is(err, eval.ErrNothingScored) || !strings.Contains(err.Error(), "2 gave NaN or Inf output") {
			t.Fatalf("every output NaN: %v, want ErrNothingScored counting 2 NaN outputs", err)
		}
		if res == nil || res.Counts.NonFinite != 2 || res.Counts.Errors != 1 {
			t.Errorf("results %+v, want 2 non-finite and 1 error", res)
		}
	})
}
