package report

import (
	"fmt"
	"os"
	"path/filepath"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/segtool/segtool/coco"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

// The instance runs' part of a report: the COCO AP table and the
// precision/recall curves COCOeval accumulates.

// APTable is the COCO statistics of the instance runs: a row per
// statistic (pycocotools' summarize order), a box and a mask column per
// run; nil cells are pycocotools' -1 (no ground truth in the range).
type APTable struct {
	Header []string     `json:"header"`
	Rows   []APTableRow `json:"rows"`
}

// APTableRow is one statistic of every instance run.
type APTableRow struct {
	Stat  string     `json:"stat"`
	Cells []*float64 `json:"cells"`
}

// instanceRuns are the runs (and the baseline) that have COCO metrics.
func instanceRuns(runs []*Run, base *Run) []*Run {
	var out []*Run
	for _, r := range append(runs[:len(runs):len(runs)], base) {
		if r != nil && r.Results.Instances != nil {
			out = append(out, r)
		}
	}
	return out
}

// apTable is the AP table of runs' instance runs; nil when there are none.
func apTable(runs []*Run, base *Run) *APTable {
	ins := instanceRuns(runs, base)
	if len(ins) == 0 {
		return nil
	}
	t := &APTable{Header: []string{"COCO"}}
	for _, r := range ins {
		name := r.Name
		if r == base {
			name += " (baseline)"
		}
		t.Header = append(t.Header, name+" box", name+" mask")
	}
	for _, st := range coco.StatNames {
		row := APTableRow{Stat: st}
		for _, r := range ins {
			for _, pre := range []string{"box_", "mask_"} {
				var cell *float64
				if m, ok := r.metric(pre + st); ok {
					cell = m.Accumulated
				}
				row.Cells = append(row.Cells, cell)
			}
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

// cells is the table's rows as text, "-" for null.
func (t *APTable) cells() [][]string {
	var out [][]string
	for _, r := range t.Rows {
		row := []string{r.Stat}
		for _, c := range r.Cells {
			row = append(row, fmtCell(c))
		}
		out = append(out, row)
	}
	return out
}

// cocoPRFigure plots each instance run's COCOeval precision against
// recall at IoU 0.5 and 0.75 (area all, 100 detections): masks solid,
// boxes dashed. Nil without instance runs.
func cocoPRFigure(dir string, ss []series) (*Figure, error) {
	var panels []panel
	var keys []legendEntry
	for k, iou := range eval.PRIoUs() {
		p := newPlot(fmt.Sprintf("IoU %.2f", iou), "recall", "precision")
		p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = 0, 1, 0, 1.02
		found := false
		for _, s := range ss {
			in := s.run.Results.Instances
			if in == nil {
				continue
			}
			for _, c := range in.PR {
				if c.IoU != iou {
					continue
				}
				var xy plotter.XYs
				for i, pr := range c.Precision {
					if pr != nil && i < len(c.Recall) {
						xy = append(xy, plotter.XY{X: c.Recall[i], Y: *pr})
					}
				}
				if len(xy) == 0 {
					continue
				}
				found = true
				l, err := plotter.NewLine(xy)
				if err != nil {
					return nil, err
				}
				l.Color, l.Width = s.color, vg.Points(1.5)
				if c.IoUType == string(coco.BoxIoU) {
					l.Dashes = []vg.Length{vg.Points(5), vg.Points(3)}
				}
				p.Add(l)
				if k == 0 {
					keys = append(keys, entry(s.label+" "+c.IoUType, l))
				}
			}
		}
		if !found {
			return nil, nil
		}
		panels = append(panels, panel{p: p, weight: 1})
	}
	if len(panels) == 0 {
		return nil, nil
	}
	png, svg, err := render(dir, "coco_precision_recall", append(panels, panel{legend: keys})...)
	if err != nil {
		return nil, err
	}
	return &Figure{Kind: "coco-pr", Title: "COCO precision against recall", PNG: png, SVG: svg,
		Caption: "COCOeval's precision at 101 recall points (interpolated: the best precision at that recall or beyond), area all, 100 detections per image, at IoU 0.5 (top) and 0.75 (bottom); masks solid, boxes dashed. The area under each curve is that run's AP50 or AP75."}, nil
}

// apProperties are a run's COCO statistics as JUnit properties (name
// box_ap etc., value "null" where pycocotools gives -1); none for a run
// without them.
func (rep *Report) apProperties(run string) []junitProperty {
	var out []junitProperty
	for _, r := range rep.Runs {
		if r.Name != run || r.Results.Instances == nil {
			continue
		}
		for _, pre := range []string{"box_", "mask_"} {
			for _, st := range coco.StatNames {
				v := "null"
				if m, ok := r.metric(pre + st); ok && m.Accumulated != nil {
					v = fmt.Sprintf("%.6f", *m.Accumulated)
				}
				out = append(out, junitProperty{Name: pre + st, Value: v})
			}
		}
	}
	return out
}

// mergeDetections writes the merged run's detections.json, from the
// rows' records, when the shards wrote theirs.
func mergeDetections(out string, dirs []string, rows []eval.Row) error {
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, eval.DetectionsFile)); err == nil {
			b, err := eval.DetectionsJSON(rows)
			if err != nil {
				return err
			}
			return dataset.WriteFileAtomic(filepath.Join(out, eval.DetectionsFile), b)
		}
	}
	return nil
}
