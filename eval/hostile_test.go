package eval_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
	"github.com/segtool/segtool/internal/fixture"
)

// predsConfig is the oracle fixture scored from a folder of predictions
// (no model), saving predictions and overlays.
func hostilePredsConfig(t *testing.T) eval.Config {
	cfg := oracleConfig(t)
	preds := t.TempDir()
	for _, s := range oracleSamples {
		writeFile(t, filepath.Join(preds, s.id+".png"), encodePNG(t, make([]byte, oracleW*oracleH), 0))
	}
	cfg.Model, cfg.Preds = "", preds
	cfg.SavePreds, cfg.SaveOverlays = true, true
	return cfg
}

// editManifest rewrites the dataset's manifest line by line.
func editManifest(t *testing.T, dir string, edit func(lines []string) []string) {
	t.Helper()
	p := filepath.Join(dir, dataset.ManifestFile)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	writeFile(t, p, []byte(strings.Join(edit(lines), "\n")+"\n"))
}

// A duplicate id used to panic in Run (a nil row); now the dataset is
// refused, naming both lines, before the run folder exists.
func TestDuplicateIDRefused(t *testing.T) {
	cfg := hostilePredsConfig(t)
	editManifest(t, cfg.Dataset, func(l []string) []string { return append(l, l[0]) })
	n := len(oracleSamples)
	_, err := eval.Run(context.Background(), cfg)
	var me *dataset.ManifestError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "duplicate id, first on line 1") ||
		!strings.Contains(err.Error(), "manifest.jsonl:"+strconv.Itoa(n+1)+":") {
		t.Fatalf("Run = %v, want a ManifestError naming lines 1 and %d", err, n+1)
	}
	if _, err := os.Stat(cfg.Out); !os.IsNotExist(err) {
		t.Errorf("run folder %s exists after a refused dataset", cfg.Out)
	}
}

// A hostile id never becomes a prediction's file name.
func TestTraversalIDWritesNothingOutside(t *testing.T) {
	cfg := hostilePredsConfig(t)
	parent := filepath.Dir(cfg.Dataset)
	before := fixture.TreeListing(parent)
	editManifest(t, cfg.Dataset, func(l []string) []string {
		l[0] = regexp.MustCompile(`"id":"[^"]*"`).ReplaceAllString(l[0], `"id":"../../escaped"`)
		return l
	})
	writeFile(t, filepath.Join(cfg.Preds, "..", "..", "escaped.png"), encodePNG(t, make([]byte, oracleW*oracleH), 0))
	if _, err := eval.Run(context.Background(), cfg); !errors.Is(err, dataset.ErrUnsafeID) {
		t.Fatalf("Run = %v, want ErrUnsafeID", err)
	}
	if after := fixture.TreeListing(parent); after != before {
		t.Errorf("files changed beside the dataset:\nbefore %s\nafter  %s", before, after)
	}
}

// A run folder that is a link, or a preds/ in it that leads out, is not
// written through.
func TestRunFolderLinksNotFollowed(t *testing.T) {
	cfg := hostilePredsConfig(t)
	elsewhere := t.TempDir()
	link := filepath.Join(t.TempDir(), "run")
	os.Symlink(elsewhere, link)
	lc := cfg
	lc.Out = link
	if _, err := eval.Run(context.Background(), lc); !errors.As(err, new(*eval.OptionError)) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("run folder a link: %v, want an option error", err)
	}
	os.MkdirAll(cfg.Out, 0o755)
	os.Symlink(elsewhere, filepath.Join(cfg.Out, eval.PredsDir))
	pc := cfg
	pc.Force = true
	pc.Resume = false
	// --force removes the link itself; the predictions then land in a
	// real preds/ folder.
	if _, err := eval.Run(context.Background(), pc); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Lstat(filepath.Join(cfg.Out, eval.PredsDir)); err != nil || !fi.IsDir() {
		t.Errorf("preds/ after --force: %v", err)
	}
	if ents, _ := os.ReadDir(elsewhere); len(ents) != 0 {
		t.Errorf("%d files written through a link", len(ents))
	}
}
