package report

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/segtool/segtool/eval"
)

// clipRun writes a run folder of two clips of four 2x1 frames scored by
// eval.Score, with their temporal terms set by hand: clip "calm" has
// dtSSD_t = 1 on each pair, clip "shaky" 3, and shaky's frame 2 the
// largest MAD.
func clipRun(t *testing.T, dir string) string {
	t.Helper()
	o := eval.DefaultOptions()
	o.Skip = []string{eval.GroupBoundary}
	var rows []eval.Row
	for _, c := range []struct {
		name string
		dt   float64
		prob [][]float32
	}{
		{"calm", 1, [][]float32{{0.9, 0.1}, {0.9, 0.1}, {0.8, 0.1}, {0.9, 0.1}}},
		{"shaky", 3, [][]float32{{0.9, 0.1}, {0.6, 0.3}, {0.2, 0.7}, {0.9, 0.1}}},
	} {
		for f, p := range c.prob {
			sc, err := eval.Score(eval.Pair{W: 2, H: 1, Prob: p, Mask: []uint8{255, 0}}, o)
			if err != nil {
				t.Fatal(err)
			}
			if f > 0 {
				sc.Temporal = &eval.TemporalScores{DTSSD: c.dt, Stable: 2}
			}
			frame := f
			rows = append(rows, eval.Row{ID: c.name + string(rune('0'+f)), Split: "test", Clip: c.name, Frame: &frame,
				Status: eval.StatusOK, Width: 2, Height: 1, Score: &sc})
		}
	}
	res := &eval.Results{Preds: "preds", Options: eval.RunOptions{Threshold: o.Threshold, Skip: o.Skip}}
	if err := eval.Rebuild(res, rows); err != nil {
		t.Fatal(err)
	}
	run := filepath.Join(dir, "clips")
	if err := eval.WriteRun(run, []byte("{}\n"), res, rows); err != nil {
		t.Fatal(err)
	}
	return run
}

// TestClipReport: a clip run gets the per-clip figures, per_clip.csv from
// WriteRun, and its dtssd (mean over clips: (1+3)/2) in the gate.
func TestClipReport(t *testing.T) {
	dir := t.TempDir()
	run := clipRun(t, dir)
	csv, err := os.ReadFile(filepath.Join(run, eval.PerClipFile))
	if err != nil || !strings.Contains(string(csv), "\nshaky,4,") {
		t.Fatalf("per_clip.csv: %v\n%s", err, csv)
	}
	g := NewGate()
	r, _ := ParseRule("dtssd <= 2", "test")
	g.Rules = append(g.Rules, r)
	out := filepath.Join(dir, "report")
	rep, err := Write([]*Run{mustLoad(t, run)}, Options{Out: out, Gate: g, Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if c := checks(rep.Verdicts[0])["dtssd <= 2"]; c.Status != Pass {
		t.Errorf("gate dtssd <= 2: %+v, want pass at 2", c)
	}
	titles := map[string]Figure{}
	for _, f := range rep.Figures {
		if f.Kind == "clips" {
			titles[f.Title] = f
		}
	}
	if len(titles) != 2 {
		t.Fatalf("clip figures %v, want dtSSD per clip and the worst clip's MAD", titles)
	}
	if f := titles["MAD over frames, worst clip"]; !strings.Contains(f.Caption, "clip shaky") {
		t.Errorf("worst clip caption: %s", f.Caption)
	}
	md, _ := os.ReadFile(filepath.Join(out, MarkdownFile))
	for _, want := range []string{"plots/clips_dtssd.png", "plots/clips_worst_mad.png"} {
		if !strings.Contains(string(md), want) {
			t.Errorf("report.md lacks %s", want)
		}
	}
}
