package report

import (
	"bytes"
	"fmt"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
	"gonum.org/v1/plot/vg/vgsvg"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

// Figure is one plot, written as PNG and SVG.
type Figure struct {
	// Kind is distribution, threshold, pr, latency, fg, delta or clips.
	Kind    string `json:"kind"`
	Title   string `json:"title"`
	Caption string `json:"caption"`
	PNG     string `json:"png"` // path relative to the report folder
	SVG     string `json:"svg"`
}

// PlotsDir is the report's plot folder.
const PlotsDir = "plots"

// Figure size and resolution: 7 x 4.5 inches, 144 dpi PNG (1008 x 648 px).
const (
	figW   = 7 * vg.Inch
	figH   = 4.5 * vg.Inch
	figDPI = 144
)

// series is one run in a plot: its label and colour.
type series struct {
	run   *Run
	label string
	color color.NRGBA
	dash  []vg.Length
}

// palette is Okabe and Ito's colour-blind-safe set (Color Universal Design,
// 2008), without its yellow, which is unreadable on white.
func palette() []color.NRGBA {
	return []color.NRGBA{
		{0, 114, 178, 255},   // blue
		{230, 159, 0, 255},   // orange
		{0, 158, 115, 255},   // bluish green
		{204, 121, 167, 255}, // reddish purple
		{86, 180, 233, 255},  // sky blue
		{213, 94, 0, 255},    // vermillion
	}
}

func makeSeries(runs []*Run, base *Run) []series {
	pal := palette()
	var out []series
	for i, r := range runs {
		out = append(out, series{run: r, label: r.Name, color: pal[i%len(pal)]})
	}
	if base != nil {
		out = append(out, series{run: base, label: base.Name + " (baseline)", color: color.NRGBA{90, 90, 90, 255},
			dash: []vg.Length{vg.Points(5), vg.Points(3)}})
	}
	return out
}

func fade(c color.NRGBA, a uint8) color.NRGBA { c.A = a; return c }

// newPlot returns a plot with a title, axis labels and a grid, in
// Liberation Sans (the plot package's default is the serif).
func newPlot(title, x, y string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = x
	p.Y.Label.Text = y
	p.Add(plotter.NewGrid())
	for _, st := range []*text.Style{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label} {
		st.Font.Variant = "Sans"
	}
	p.Title.TextStyle.Font.Size = vg.Points(13)
	p.X.Label.TextStyle.Font.Size = vg.Points(11)
	p.Y.Label.TextStyle.Font.Size = vg.Points(11)
	return p
}

// panel is one plot of a vertically stacked figure and its share of the
// height, or (legend set) a legend strip as high as its entries need.
type panel struct {
	p      *plot.Plot
	weight float64
	legend []legendEntry
}

// legendEntry is one key of a figure's legend.
type legendEntry struct {
	label  string
	thumbs []plot.Thumbnailer
}

func entry(label string, thumbs ...plot.Thumbnailer) legendEntry {
	return legendEntry{label, thumbs}
}

// Legend strip geometry: entries flow left to right in rows, under the
// plots, so a legend never hides data.
const (
	legendRow   = 5 * vg.Millimeter
	legendThumb = 7 * vg.Millimeter
	legendGap   = 5 * vg.Millimeter
)

func legendStyle() text.Style {
	st := plot.New().Legend.TextStyle
	st.Font.Variant = "Sans"
	st.Font.Size = vg.Points(9.5)
	st.YAlign = draw.YCenter
	return st
}

// legendRows splits entries into rows no wider than w.
func legendRows(entries []legendEntry, w vg.Length) [][]legendEntry {
	st := legendStyle()
	var rows [][]legendEntry
	var x vg.Length
	for _, e := range entries {
		ew := legendThumb + vg.Millimeter + st.Width(e.label) + legendGap
		if len(rows) == 0 || (x+ew > w && x > 0) {
			rows = append(rows, nil)
			x = 0
		}
		rows[len(rows)-1] = append(rows[len(rows)-1], e)
		x += ew
	}
	return rows
}

// drawLegend draws the rows centred in c, top row first.
func drawLegend(c draw.Canvas, rows [][]legendEntry) {
	st := legendStyle()
	y := c.Max.Y - legendRow/2
	for _, row := range rows {
		var w vg.Length
		for _, e := range row {
			w += legendThumb + vg.Millimeter + st.Width(e.label) + legendGap
		}
		x := c.Min.X + (c.Max.X-c.Min.X-w+legendGap)/2
		for _, e := range row {
			tc := c
			tc.Rectangle = vg.Rectangle{Min: vg.Point{X: x, Y: y - legendRow*0.3}, Max: vg.Point{X: x + legendThumb, Y: y + legendRow*0.3}}
			for _, th := range e.thumbs {
				th.Thumbnail(&tc)
			}
			x += legendThumb + vg.Millimeter
			c.FillText(st, vg.Point{X: x, Y: y}, e.label)
			x += st.Width(e.label) + legendGap
		}
		y -= legendRow
	}
}

// render draws panels top to bottom, the plots' data areas aligned
// horizontally, and writes dir/plots/name.png and .svg.
func render(dir, name string, panels ...panel) (png, svg string, err error) {
	if err := os.MkdirAll(filepath.Join(dir, PlotsDir), 0o755); err != nil {
		return "", "", err
	}
	for _, format := range []string{"png", "svg"} {
		var c vg.CanvasWriterTo
		if format == "png" {
			c = vgimg.PngCanvas{Canvas: vgimg.NewWith(vgimg.UseWH(figW, figH), vgimg.UseDPI(figDPI))}
		} else {
			c = vgsvg.New(figW, figH)
		}
		dc := draw.New(c)
		dc.SetColor(color.White)
		dc.Fill(dc.Rectangle.Path())
		dc = draw.Crop(dc, vg.Points(4), -vg.Points(8), vg.Points(2), -vg.Points(4))
		// Legend strips take what they need; plots share the rest.
		heights := make([]vg.Length, len(panels))
		rows := make([][][]legendEntry, len(panels))
		free := dc.Max.Y - dc.Min.Y
		var total float64
		for i, p := range panels {
			if p.legend != nil {
				rows[i] = legendRows(p.legend, dc.Max.X-dc.Min.X)
				heights[i] = vg.Length(len(rows[i]))*legendRow + vg.Millimeter
				free -= heights[i]
			} else {
				total += p.weight
			}
		}
		for i, p := range panels {
			if p.legend == nil {
				heights[i] = vg.Length(float64(free) * p.weight / total)
			}
		}
		canvases := make([]draw.Canvas, len(panels))
		top := dc.Max.Y
		for i := range panels {
			sub := dc
			sub.Rectangle = vg.Rectangle{Min: vg.Point{X: dc.Min.X, Y: top - heights[i]}, Max: vg.Point{X: dc.Max.X, Y: top}}
			canvases[i] = sub
			top -= heights[i]
		}
		// Line the data areas up: pad each plot to the widest axis margins.
		var left, right vg.Length
		for i, p := range panels {
			if p.p == nil {
				continue
			}
			d := p.p.DataCanvas(canvases[i])
			left = max(left, d.Min.X-canvases[i].Min.X)
			right = max(right, canvases[i].Max.X-d.Max.X)
		}
		for i, p := range panels {
			if p.p == nil {
				drawLegend(canvases[i], rows[i])
				continue
			}
			d := p.p.DataCanvas(canvases[i])
			c := draw.Crop(canvases[i], left-(d.Min.X-canvases[i].Min.X), -(right - (canvases[i].Max.X - d.Max.X)), 0, 0)
			p.p.Draw(c)
		}
		var buf bytes.Buffer
		if _, err := c.WriteTo(&buf); err != nil {
			return "", "", fmt.Errorf("plot %s: %w", name, err)
		}
		rel := filepath.ToSlash(filepath.Join(PlotsDir, name+"."+format))
		if err := dataset.WriteFileAtomic(filepath.Join(dir, rel), buf.Bytes()); err != nil {
			return "", "", err
		}
		if format == "png" {
			png = rel
		} else {
			svg = rel
		}
	}
	return png, svg, nil
}

// decadeTicks marks a log10-transformed axis: x = log10(ms) is labelled
// 10^x at whole decades, with unlabelled ticks at 2..9 times each. (The
// plot package's own LogScale centres the axis label on the linear middle
// of the range, which pushes it off the figure.)
type decadeTicks struct{}

func (decadeTicks) Ticks(lo, hi float64) []plot.Tick {
	var out []plot.Tick
	for k := math.Floor(lo); k <= math.Ceil(hi); k++ {
		for m := 1; m <= 9; m++ {
			x := k + math.Log10(float64(m))
			if x < lo || x > hi {
				continue
			}
			t := plot.Tick{Value: x}
			if m == 1 {
				t.Label = strconv.FormatFloat(math.Pow(10, k), 'g', -1, 64)
			}
			out = append(out, t)
		}
	}
	return out
}

// span returns a range covering xs, widened where all values are equal.
func span(xss ...[]float64) (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, xs := range xss {
		for _, x := range xs {
			lo, hi = math.Min(lo, x), math.Max(hi, x)
		}
	}
	if hi-lo < 1e-12 {
		d := math.Max(math.Abs(lo)*0.05, 0.01)
		lo, hi = lo-d, hi+d
	}
	return lo, hi
}

// bins returns the number of histogram bins for n values: 2√n, 10..40.
func bins(n int) int { return min(max(int(2*math.Sqrt(float64(n))), 10), 40) }

// histogram returns xs binned into nb equal bins over [lo, hi], each bar
// drawn in slot of slots side by side within its bin (dodged, so that
// several runs stay readable).
func histogram(xs []float64, lo, hi float64, nb, slot, slots int) *plotter.Histogram {
	w := (hi - lo) / float64(nb)
	h := &plotter.Histogram{Width: w}
	sw := w / float64(slots)
	for i := range nb {
		x := lo + float64(i)*w + float64(slot)*sw
		h.Bins = append(h.Bins, plotter.HistogramBin{Min: x, Max: x + sw})
	}
	for _, x := range xs {
		k := min(max(int((x-lo)/w), 0), nb-1)
		h.Bins[k].Weight++
	}
	// Empty bins would draw as outlines along the axis.
	h.Bins = slices.DeleteFunc(h.Bins, func(b plotter.HistogramBin) bool { return b.Weight == 0 })
	return h
}

func maxWeight(h *plotter.Histogram) float64 {
	m := 0.0
	for _, b := range h.Bins {
		m = math.Max(m, b.Weight)
	}
	return m
}

func vline(x, y0, y1 float64, c color.Color, width vg.Length, dash []vg.Length) *plotter.Line {
	l, _ := plotter.NewLine(plotter.XYs{{X: x, Y: y0}, {X: x, Y: y1}})
	l.Color, l.Width, l.Dashes = c, width, dash
	return l
}

// axisLabel is "what (unit)".
func axisLabel(what, unit string) string {
	if unit == "" {
		return what
	}
	return what + " (" + unit + ")"
}

// withValues returns each run's values by values, and the runs, leaving
// out the runs that have none.
func withValues(ss []series, values func(series) []float64) (vals [][]float64, used []series) {
	for _, s := range ss {
		if v := values(s); len(v) > 0 {
			vals = append(vals, v)
			used = append(used, s)
		}
	}
	return vals, used
}

// distributionFigure is a metric's per-image values: overlaid histograms
// over box plots, one per run.
func distributionFigure(dir, metric string, ss []series) (*Figure, error) {
	m, ok := eval.DefaultRegistry().Lookup(metric)
	if !ok {
		return nil, fmt.Errorf("no per-image metric %q", metric)
	}
	vals, used := withValues(ss, func(s series) []float64 {
		_, v, _ := s.run.PerImage(metric)
		return v
	})
	if len(used) == 0 {
		return nil, nil
	}
	lo, hi := span(vals...)
	if m.Unit == "fraction in [0, 1]" {
		lo, hi = math.Max(0, lo-(hi-lo)*0.02), math.Min(1, hi+(hi-lo)*0.02)
		if hi-lo < 1e-9 {
			lo, hi = span([]float64{lo})
		}
	}
	n := 0
	for _, v := range vals {
		n = max(n, len(v))
	}
	nb := bins(n)
	counts := []string{}
	top := newPlot(fmt.Sprintf("%s per image", metric), "", "images")
	top.X.Min, top.X.Max = lo, hi
	hmax := 0.0
	var keys []legendEntry
	for i, s := range used {
		h := histogram(vals[i], lo, hi, nb, i, len(used))
		h.FillColor = fade(s.color, 110)
		h.LineStyle = draw.LineStyle{Color: s.color, Width: vg.Points(1), Dashes: s.dash}
		top.Add(h)
		keys = append(keys, entry(fmt.Sprintf("%s (%d images)", s.label, len(vals[i])), h))
		counts = append(counts, fmt.Sprintf("%s: %d", s.label, len(vals[i])))
		hmax = math.Max(hmax, maxWeight(h))
	}
	top.Y.Min, top.Y.Max = 0, hmax*1.06
	bot := newPlot("", axisLabel(metric+" per image", m.Unit), "")
	bot.X.Min, bot.X.Max = lo, hi
	var names []string
	for i, s := range used {
		y := float64(len(used) - 1 - i) // first run on top
		b, err := plotter.NewBoxPlot(vg.Points(14), y, plotter.Values(vals[i]))
		if err != nil {
			return nil, err
		}
		b.Horizontal = true
		b.FillColor = fade(s.color, 60)
		b.BoxStyle.Color, b.MedianStyle.Color, b.WhiskerStyle.Color = s.color, s.color, s.color
		b.MedianStyle.Width = vg.Points(2)
		b.GlyphStyle.Color = s.color
		bot.Add(b)
		names = append([]string{s.label}, names...)
	}
	bot.NominalY(names...)
	bot.Y.Min, bot.Y.Max = -0.6, float64(len(used))-0.4
	png, svg, err := render(dir, "dist_"+metric, panel{p: top, weight: 0.62}, panel{p: bot, weight: 0.38}, panel{legend: keys})
	if err != nil {
		return nil, err
	}
	dirn := "higher is better"
	if !m.HigherBetter {
		dirn = "lower is better"
	}
	return &Figure{Kind: "distribution", Title: metric + " per image", PNG: png, SVG: svg,
		Caption: fmt.Sprintf("Per-image %s (%s; %s): histogram (%d bins) and Tukey box plot (box = quartiles, whiskers to 1.5 IQR, dots beyond). Images: %s.",
			metric, m.Unit, dirn, nb, strings.Join(counts, ", "))}, nil
}

// thresholdFigure is Dice and IoU (accumulated over the dataset) against
// the threshold, from eval's sweep.
func thresholdFigure(dir string, ss []series) (*Figure, error) {
	p := newPlot("Dice and IoU against the threshold", "threshold on the predicted probability", "score (fraction in [0, 1])")
	n := 0
	var keys []legendEntry
	for _, s := range ss {
		sw := s.run.Results.Sweep
		if len(sw) == 0 {
			continue
		}
		n++
		var d, u plotter.XYs
		for _, pt := range sw {
			d = append(d, plotter.XY{X: pt.Threshold, Y: pt.DiceAccumulated})
			u = append(u, plotter.XY{X: pt.Threshold, Y: pt.IoUAccumulated})
		}
		ld, _ := plotter.NewLine(d)
		ld.Color, ld.Width = s.color, vg.Points(2)
		lu, _ := plotter.NewLine(u)
		lu.Color, lu.Width, lu.Dashes = s.color, vg.Points(1.5), []vg.Length{vg.Points(6), vg.Points(3)}
		p.Add(ld, lu)
		keys = append(keys, entry(s.label, ld))
		t := s.run.Results.Options.Threshold
		if i := slices.IndexFunc(sw, func(pt eval.SweepPoint) bool { return math.Abs(pt.Threshold-t) < 1e-9 }); i >= 0 {
			sc, _ := plotter.NewScatter(plotter.XYs{{X: t, Y: sw[i].DiceAccumulated}, {X: t, Y: sw[i].IoUAccumulated}})
			sc.Color, sc.Shape, sc.Radius = s.color, draw.CircleGlyph{}, vg.Points(3.5)
			p.Add(sc)
		}
	}
	if n == 0 {
		return nil, nil
	}
	for _, k := range []struct {
		name string
		dash []vg.Length
	}{{"Dice (solid)", nil}, {"IoU (dashed)", []vg.Length{vg.Points(6), vg.Points(3)}}} {
		l, _ := plotter.NewLine(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 1}})
		l.Color, l.Width, l.Dashes = color.Black, vg.Points(1.5), k.dash
		keys = append(keys, entry(k.name, l))
	}
	p.X.Min, p.X.Max = 0, 1
	png, svg, err := render(dir, "threshold", panel{p: p, weight: 1}, panel{legend: keys})
	if err != nil {
		return nil, err
	}
	return &Figure{Kind: "threshold", Title: "Dice and IoU against the threshold", PNG: png, SVG: svg,
		Caption: "Dice (solid) and person IoU (dashed) over the dataset (summed counts, then divided) as the binarisation threshold varies; dots mark the run's threshold."}, nil
}

// precisionRecall returns the dataset precision and recall at a sweep
// point, with eval's conventions for empty denominators: no predicted
// person gives precision 1 if the masks are empty too, else 0; empty masks
// give recall 1 if nothing is predicted either, else 0.
func precisionRecall(pt eval.SweepPoint) (p, r float64) {
	switch {
	case pt.TP+pt.FP > 0:
		p = float64(pt.TP) / float64(pt.TP+pt.FP)
	case pt.FN == 0:
		p = 1
	}
	switch {
	case pt.TP+pt.FN > 0:
		r = float64(pt.TP) / float64(pt.TP+pt.FN)
	case pt.FP == 0:
		r = 1
	}
	return p, r
}

// prFigure is precision against recall over the sweep thresholds.
func prFigure(dir string, ss []series) (*Figure, error) {
	p := newPlot("Precision against recall over thresholds", "recall: TP/(TP+FN) (fraction)", "precision: TP/(TP+FP) (fraction)")
	found := false
	var keys []legendEntry
	for _, s := range ss {
		sw := s.run.Results.Sweep
		if len(sw) == 0 {
			continue
		}
		found = true
		var xy plotter.XYs
		var lab plotter.XYLabels
		var op plotter.XYs
		for _, pt := range sw {
			pr, rc := precisionRecall(pt)
			xy = append(xy, plotter.XY{X: rc, Y: pr})
			if math.Abs(pt.Threshold-s.run.Results.Options.Threshold) < 1e-9 {
				op = append(op, plotter.XY{X: rc, Y: pr})
			}
			for _, t := range []float64{0.1, 0.5, 0.9} {
				if math.Abs(pt.Threshold-t) > 1e-9 {
					continue
				}
				// Thresholds that land on one point share a label.
				k := slices.IndexFunc(lab.XYs, func(q plotter.XY) bool { return q.X == rc && q.Y == pr })
				if k >= 0 {
					lab.Labels[k] += fmt.Sprintf(", %.1f", t)
					continue
				}
				lab.XYs = append(lab.XYs, plotter.XY{X: rc, Y: pr})
				lab.Labels = append(lab.Labels, fmt.Sprintf("  t=%.1f", t))
			}
		}
		if len(op) > 0 {
			ring, _ := plotter.NewScatter(op)
			ring.Color, ring.Shape, ring.Radius = s.color, draw.RingGlyph{}, vg.Points(6)
			p.Add(ring)
		}
		l, sc, _ := plotter.NewLinePoints(xy)
		l.Color, l.Width, l.Dashes = s.color, vg.Points(1.5), s.dash
		sc.Color, sc.Shape, sc.Radius = s.color, draw.CircleGlyph{}, vg.Points(2)
		p.Add(l, sc)
		keys = append(keys, entry(s.label, l, sc))
		if len(lab.Labels) > 0 {
			labels, err := plotter.NewLabels(lab)
			if err == nil {
				for i := range labels.TextStyle {
					labels.TextStyle[i].Color = s.color
					labels.TextStyle[i].Font.Variant = "Sans"
				}
				p.Add(labels)
			}
		}
	}
	if !found {
		return nil, nil
	}
	png, svg, err := render(dir, "precision_recall", panel{p: p, weight: 1}, panel{legend: keys})
	if err != nil {
		return nil, err
	}
	return &Figure{Kind: "pr", Title: "Precision against recall", PNG: png, SVG: svg,
		Caption: "Person-pixel precision and recall over the dataset at each sweep threshold (summed counts); labels mark thresholds 0.1, 0.5 and 0.9, rings the run's threshold; recall falls as the threshold rises. A model with (nearly) binary output is a single point."}, nil
}

// latencyFigure is the per-image time distribution of one stage set
// (inference alone, or end to end): histogram over the empirical CDF, with
// each run's p50 and p99 (eval's nearest-rank figures from results.json)
// marked.
func latencyFigure(dir string, e2e bool, ss []series) (*Figure, error) {
	what, name, stage := "inference", "latency_inference", "inference time per image"
	if e2e {
		what, name, stage = "end to end", "latency_end_to_end", "end-to-end time per image (decode to metrics)"
	}
	vals, used := withValues(ss, func(s series) []float64 {
		inf, all := s.run.Latencies()
		if e2e {
			return all
		}
		return inf
	})
	if len(used) == 0 {
		return nil, nil
	}
	lo, hi := span(vals...)
	// Runs far apart in speed share a log axis, so the fast ones stay
	// visible.
	logX := lo > 0 && hi/lo > 20
	axis := axisLabel(stage, "ms")
	if logX {
		lo, hi = lo/1.15, hi*1.15
		axis = axisLabel(stage, "ms, log scale")
	} else {
		lo = math.Max(0, lo-(hi-lo)*0.05)
		hi += (hi - lo) * 0.05
	}
	n := 0
	for _, v := range vals {
		n = max(n, len(v))
	}
	nb := bins(n)
	top := newPlot("Latency: "+what, "", "images")
	bot := newPlot("", axis, "CDF (fraction)")
	top.X.Min, top.X.Max, bot.X.Min, bot.X.Max = lo, hi, lo, hi
	tx := func(x float64) float64 { return x }
	if logX {
		tx = math.Log10
		for _, p := range []*plot.Plot{top, bot} {
			p.X.Tick.Marker = decadeTicks{}
		}
		top.X.Min, top.X.Max, bot.X.Min, bot.X.Max = tx(lo), tx(hi), tx(lo), tx(hi)
	}
	bot.Y.Min, bot.Y.Max = 0, 1.08
	var marks []string
	var keys []legendEntry
	hmax := 0.0
	hs := make([]*plotter.Histogram, len(used))
	for i := range used {
		xs := make([]float64, len(vals[i]))
		for k, x := range vals[i] {
			xs[k] = tx(x)
		}
		hs[i] = histogram(xs, tx(lo), tx(hi), nb, i, len(used))
		hmax = math.Max(hmax, maxWeight(hs[i]))
	}
	for i, s := range used {
		h := hs[i]
		h.FillColor = fade(s.color, 110)
		h.LineStyle = draw.LineStyle{Color: s.color, Width: vg.Points(1), Dashes: s.dash}
		top.Add(h)
		sorted := sortedCopy(vals[i])
		var cdf plotter.XYs
		for k, x := range sorted {
			cdf = append(cdf, plotter.XY{X: tx(x), Y: float64(k+1) / float64(len(sorted))})
		}
		l, _ := plotter.NewLine(cdf)
		l.StepStyle = plotter.PostStep
		l.Color, l.Width, l.Dashes = s.color, vg.Points(1.8), s.dash
		bot.Add(l)
		lat := s.run.Results.Timing.EndToEnd
		if !e2e {
			lat = s.run.Results.Timing.Inference
		}
		p50, p99 := lat.P50, lat.P99
		if p50 == 0 { // results.json lacks them: the rows' nearest rank
			p50, p99 = nearestRank(sorted, 0.5), nearestRank(sorted, 0.99)
		}
		top.Add(vline(tx(p50), 0, hmax*1.05, s.color, vg.Points(1.5), []vg.Length{vg.Points(5), vg.Points(2)}))
		top.Add(vline(tx(p99), 0, hmax*1.05, s.color, vg.Points(1.5), []vg.Length{vg.Points(1.5), vg.Points(2)}))
		bot.Add(vline(tx(p50), 0, 1, s.color, vg.Points(1), []vg.Length{vg.Points(5), vg.Points(2)}))
		bot.Add(vline(tx(p99), 0, 1, s.color, vg.Points(1), []vg.Length{vg.Points(1.5), vg.Points(2)}))
		keys = append(keys, entry(fmt.Sprintf("%s: p50 %.2f ms (dashed), p99 %.2f ms (dotted)", s.label, p50, p99), l))
		marks = append(marks, fmt.Sprintf("%s p50 %.2f ms, p99 %.2f ms over %d images", s.label, p50, p99, len(sorted)))
	}
	top.Y.Min, top.Y.Max = 0, hmax*1.08
	png, svg, err := render(dir, name, panel{p: top, weight: 0.55}, panel{p: bot, weight: 0.45}, panel{legend: keys})
	if err != nil {
		return nil, err
	}
	return &Figure{Kind: "latency", Title: "Latency: " + what, PNG: png, SVG: svg,
		Caption: fmt.Sprintf("Per-image %s in ms: histogram (%d bins) and empirical CDF; dashed lines mark p50, dotted p99 (nearest rank, as results.json). %s.", stage, nb, strings.Join(marks, "; "))}, nil
}

// fgFigure plots each image's foreground fraction against its Dice.
func fgFigure(dir string, ss []series) (*Figure, error) {
	p := newPlot("Foreground fraction against Dice", "foreground fraction (person pixels / image pixels)", "Dice per image (fraction)")
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.TriangleGlyph{}, draw.SquareGlyph{}, draw.PlusGlyph{}, draw.CrossGlyph{}, draw.RingGlyph{}}
	found := false
	var from []string
	var keys []legendEntry
	for i, s := range ss {
		m, _ := eval.DefaultRegistry().Lookup("dice")
		var xy plotter.XYs
		for _, row := range s.run.scored() {
			v, _ := m.PerImage(row.Score)
			xy = append(xy, plotter.XY{X: s.run.FGFraction(&row), Y: v})
		}
		if len(xy) == 0 {
			continue
		}
		found = true
		sc, _ := plotter.NewScatter(xy)
		sc.Color, sc.Shape, sc.Radius = s.color, shapes[i%len(shapes)], vg.Points(3)
		p.Add(sc)
		keys = append(keys, entry(s.label, sc))
		src := "the manifest's fg_fraction"
		if s.run.FG == nil {
			src = "the mask's pixel share in the scores"
		}
		from = append(from, s.label+": "+src)
	}
	if !found {
		return nil, nil
	}
	p.X.Min = 0
	png, svg, err := render(dir, "fg_vs_dice", panel{p: p, weight: 1}, panel{legend: keys})
	if err != nil {
		return nil, err
	}
	return &Figure{Kind: "fg", Title: "Foreground fraction against Dice", PNG: png, SVG: svg,
		Caption: "One point per scored image: the share of the image that is person against the image's Dice; small subjects at the left. Fractions from " + strings.Join(from, "; ") + "."}, nil
}

// deltaItem is one bar of the delta chart.
type deltaItem struct {
	name   string
	deltas []float64 // per run, signed so that + is better
	tol    float64   // max_drop allowance, 0 = none
	unit   string
}

// deltaFigure is each value's change against the baseline, signed so that
// + is better, with the max_drop allowance shaded: one panel per unit, so
// that a metric counted in thousands does not flatten the fractions.
func deltaFigure(dir string, items []deltaItem, ss []series) (*Figure, error) {
	if len(items) == 0 {
		return nil, nil
	}
	var units []string
	for _, it := range items {
		if !slices.Contains(units, it.unit) {
			units = append(units, it.unit)
		}
	}
	var panels []panel
	for g, unit := range units {
		var group []deltaItem
		for _, it := range items {
			if it.unit == unit {
				group = append(group, it)
			}
		}
		title := ""
		if g == 0 {
			title = "Change against the baseline (+ = better)"
		}
		p := deltaPanel(title, unit, group, ss)
		panels = append(panels, panel{p: p, weight: 0.9 + float64(len(group))})
	}
	var keys []legendEntry
	for j := range items[0].deltas {
		sw, _ := plotter.NewPolygon(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}})
		sw.Color = ss[j].color
		keys = append(keys, entry(ss[j].label, sw))
	}
	band, _ := plotter.NewPolygon(plotter.XYs{{X: 0, Y: 0}, {X: 1, Y: 0}, {X: 1, Y: 1}})
	band.Color = color.NRGBA{120, 120, 120, 55}
	keys = append(keys, entry("max_drop allowance", band))
	panels = append(panels, panel{legend: keys})
	png, svg, err := render(dir, "delta", panels...)
	if err != nil {
		return nil, err
	}
	return &Figure{Kind: "delta", Title: "Change against the baseline", PNG: png, SVG: svg,
		Caption: "Each value's change against the baseline, signed so that right is better, one panel per unit; grey bands are the gate's max_drop allowance, red bars drop beyond it."}, nil
}

func deltaPanel(title, unit string, items []deltaItem, ss []series) *plot.Plot {
	p := newPlot(title, axisLabel("change vs baseline", unit), "")
	nr := len(items[0].deltas)
	barH := 0.7 / float64(nr)
	var names []string
	lo, hi := 0.0, 0.0
	grey := color.NRGBA{120, 120, 120, 55}
	for i, it := range items {
		y := float64(len(items) - 1 - i)
		names = append([]string{it.name}, names...)
		if it.tol > 0 {
			band, _ := plotter.NewPolygon(plotter.XYs{{X: -it.tol, Y: y - 0.45}, {X: 0, Y: y - 0.45}, {X: 0, Y: y + 0.45}, {X: -it.tol, Y: y + 0.45}})
			band.Color = grey
			band.LineStyle.Width = 0
			p.Add(band)
			lo = math.Min(lo, -it.tol*1.15)
		}
		for j, d := range it.deltas {
			y0 := y + 0.35 - float64(j+1)*barH
			bar, _ := plotter.NewPolygon(plotter.XYs{{X: 0, Y: y0}, {X: d, Y: y0}, {X: d, Y: y0 + barH*0.9}, {X: 0, Y: y0 + barH*0.9}})
			c := ss[j].color
			if d < 0 && it.tol > 0 && -d > it.tol+eps(it.tol) {
				c = color.NRGBA{200, 30, 30, 255} // beyond the allowance
			}
			bar.Color = c
			bar.LineStyle.Color = ss[j].color
			bar.LineStyle.Width = vg.Points(0.8)
			p.Add(bar)
			lo, hi = math.Min(lo, d), math.Max(hi, d)
		}
	}
	pad := math.Max((hi-lo)*0.08, 1e-4)
	p.X.Min, p.X.Max = lo-pad, hi+pad
	p.Add(vline(0, -0.5, float64(len(items))-0.5, color.Black, vg.Points(1), nil))
	p.NominalY(names...)
	p.Y.Min, p.Y.Max = -0.6, float64(len(items))-0.4
	return p
}
