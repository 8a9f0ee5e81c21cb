package eval_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

// interrupt runs cfg on one worker until its first image is done, as a
// kill would stop it.
func interrupt(t *testing.T, cfg eval.Config) { interruptAfter(t, cfg, 1) }

// interruptAfter runs cfg on one worker until n rows are journalled and
// cancels it there.
func interruptAfter(t *testing.T, cfg eval.Config, n int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cfg.Workers = 1
	cfg.Progress = func(done, _ int) {
		if done == n {
			cancel()
		}
	}
	if _, err := eval.Run(ctx, cfg); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled run: %v, want context.Canceled", err)
	}
}

// rewriteSamples rewrites the dataset's manifest after edit has changed its
// rows, as segtool trimap does when it adds a column.
func rewriteSamples(t *testing.T, dir string, edit func(d *dataset.Dataset, s *dataset.Sample)) {
	t.Helper()
	d, err := dataset.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i := range d.Samples {
		edit(d, &d.Samples[i])
	}
	if err := dataset.WriteManifest(dir, d.Samples); err != nil {
		t.Fatal(err)
	}
}

// addTrimaps gives every sample a trimap of value v everywhere.
func addTrimaps(t *testing.T, dir string, v uint8) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "trimaps"), 0o755); err != nil {
		t.Fatal(err)
	}
	rewriteSamples(t, dir, func(d *dataset.Dataset, s *dataset.Sample) {
		tri := make([]byte, oracleW*oracleH)
		for i := range tri {
			tri[i] = v
		}
		png := encodePNG(t, tri, gocv.MatTypeCV8UC1)
		rel := "trimaps/" + s.ID + ".png"
		writeFile(t, d.Path(rel), png)
		s.Trimap, s.SHA256[rel] = rel, dataset.SHA256(png)
	})
}

// TestResumeAfterTrimap: adding a trimap column rewrites the manifest but
// not the samples, so a resume goes on; it keeps the trimaps the run began
// with (none), says so, and scores as an uninterrupted run did. Trimaps
// that change under a run that used them, and a real change of the
// samples, are refused.
func TestResumeAfterTrimap(t *testing.T) {
	cfg := oracleConfig(t)
	cfg.Workers = 1
	full, err := eval.Run(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}

	cut := cfg
	cut.Out = filepath.Join(t.TempDir(), "run")
	interrupt(t, cut)
	before, _ := dataset.FileSHA256(filepath.Join(cfg.Dataset, dataset.ManifestFile))
	addTrimaps(t, cfg.Dataset, 128)
	if after, _ := dataset.FileSHA256(filepath.Join(cfg.Dataset, dataset.ManifestFile)); after == before {
		t.Fatal("the trimap column did not change the manifest: the test shows nothing")
	}
	cut.Resume = true
	res, err := eval.Run(context.Background(), cut)
	if err != nil {
		t.Fatalf("resume after a trimap was added: %v", err)
	}
	if res.Counts.Resumed != 1 {
		t.Errorf("resumed %d rows, want 1", res.Counts.Resumed)
	}
	if !reflect.DeepEqual(res.Metrics, full.Metrics) {
		t.Error("resumed metrics differ from the uninterrupted run's: the new trimaps were read")
	}
	if m := metricMap(res)["mad_unknown"]; m.Mean != nil {
		t.Errorf("resumed run: mad_unknown %v over part of the images", *m.Mean)
	}
	if res.Dataset.TrimapsNote == "" || res.Dataset.TrimapsSHA256 != "" {
		t.Errorf("dataset %+v: want a note that the added trimaps are not used", res.Dataset)
	}

	// A fresh run scores *_unknown against the trimaps and records them.
	fresh := cfg
	fresh.Out = filepath.Join(t.TempDir(), "run")
	withTri, err := eval.Run(context.Background(), fresh)
	if err != nil {
		t.Fatal(err)
	}
	if m := metricMap(withTri)["mad_unknown"]; m.Mean == nil || withTri.Dataset.TrimapsSHA256 == "" {
		t.Errorf("run with trimaps: mad_unknown %+v, trimaps %q", m, withTri.Dataset.TrimapsSHA256)
	}

	// Trimaps changed under a run that scored against them: refused.
	cut2 := cfg
	cut2.Out = filepath.Join(t.TempDir(), "run")
	interrupt(t, cut2)
	addTrimaps(t, cfg.Dataset, 255)
	cut2.Resume = true
	var oe *eval.OptionError
	if _, err := eval.Run(context.Background(), cut2); !errors.Is(err, eval.ErrTrimapsChanged) || !errors.As(err, &oe) {
		t.Errorf("resume after the trimaps changed: %v, want ErrTrimapsChanged as an option error", err)
	}
	// Without the matting metrics the trimaps do not matter.
	noMat := cfg
	noMat.Metrics.Skip = []string{eval.GroupMatting}
	noMat.Out = filepath.Join(t.TempDir(), "run")
	interrupt(t, noMat)
	addTrimaps(t, cfg.Dataset, 0)
	noMat.Resume = true
	if _, err := eval.Run(context.Background(), noMat); err != nil {
		t.Errorf("resume without matting metrics after the trimaps changed: %v", err)
	}

	// A real change (a mask's content) is still refused.
	cut3 := cfg
	cut3.Out = filepath.Join(t.TempDir(), "run")
	interrupt(t, cut3)
	rewriteSamples(t, cfg.Dataset, func(_ *dataset.Dataset, s *dataset.Sample) {
		if s.ID == "half" {
			s.SHA256[s.Mask] = "0000"
		}
	})
	cut3.Resume = true
	if _, err := eval.Run(context.Background(), cut3); !errors.Is(err, dataset.ErrOtherOptions) {
		t.Errorf("resume after a mask changed: %v, want ErrOtherOptions", err)
	}
}
