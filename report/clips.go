package report

import (
	"fmt"
	"math"
	"slices"

	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/segtool/segtool/eval"
)

// Per-clip figures of runs on clip datasets, from their per-frame rows
// (eval.Clips): dtSSD per clip, and MAD over the frames of the worst clip.

// clipSeries is one run's clips.
type clipSeries struct {
	s     series
	clips []eval.ClipScores
}

func runClips(ss []series) []clipSeries {
	var out []clipSeries
	for _, s := range ss {
		if cs := eval.Clips(s.run.Rows); len(cs) > 0 {
			out = append(out, clipSeries{s, cs})
		}
	}
	return out
}

// clipFigures are the per-clip figures; none when no run has clips.
func clipFigures(dir string, ss []series) ([]*Figure, error) {
	cs := runClips(ss)
	if len(cs) == 0 {
		return nil, nil
	}
	var out []*Figure
	for _, f := range []func(string, []clipSeries) (*Figure, error){dtssdFigure, worstClipFigure} {
		fig, err := f(dir, cs)
		if err != nil {
			return nil, err
		}
		if fig != nil {
			out = append(out, fig)
		}
	}
	return out, nil
}

// clipNames are the clips of every run, in order of first appearance.
func clipNames(cs []clipSeries) []string {
	var names []string
	for _, c := range cs {
		for _, cl := range c.clips {
			if !slices.Contains(names, cl.Clip) {
				names = append(names, cl.Clip)
			}
		}
	}
	return names
}

// dtssdFigure is a bar per clip and run of the clip's dtSSD.
func dtssdFigure(dir string, cs []clipSeries) (*Figure, error) {
	names := clipNames(cs)
	p := newPlot("Temporal coherence per clip", "clip", "dtSSD (alpha x100, lower is better)")
	width := vg.Points(math.Max(4, math.Min(24, 360/float64(len(names)*len(cs)))))
	var keys []legendEntry
	found, top := false, 0.0
	for k, c := range cs {
		vals := make(plotter.Values, len(names))
		for i, n := range names {
			for j := range c.clips {
				if c.clips[j].Clip == n {
					if v, ok := c.clips[j].DTSSD(); ok {
						vals[i] = v
						found, top = true, math.Max(top, v)
					}
				}
			}
		}
		bars, err := plotter.NewBarChart(vals, width)
		if err != nil {
			return nil, fmt.Errorf("dtssd plot: %w", err)
		}
		bars.Color = c.s.color
		bars.LineStyle.Width = 0
		bars.Offset = width * vg.Length(float64(k)-float64(len(cs)-1)/2)
		p.Add(bars)
		keys = append(keys, entry(c.s.label, bars))
	}
	if !found {
		return nil, nil
	}
	p.NominalX(names...)
	p.X.Min, p.X.Max = -0.6, float64(len(names))-0.4
	p.Y.Min, p.Y.Max = 0, math.Max(top*1.08, 1e-3)
	png, svg, err := render(dir, "clips_dtssd", panel{p: p, weight: 1}, panel{legend: keys})
	if err != nil {
		return nil, err
	}
	return &Figure{Kind: "clips", Title: "dtSSD per clip", PNG: png, SVG: svg,
		Caption: "Each clip's dtSSD: 100·sqrt(Σ((p_t−p_{t−1})−(g_t−g_{t−1}))²/N) per frame, averaged over frames t >= 1 (RobustVideoMatting's definition; its script also averages a 0 for frame 0). A missing bar is a clip with fewer than two consecutive scored frames."}, nil
}

// worstClipFigure plots the MAD of each frame of the clip with the highest
// MAD in the first run that has one, for every run that has that clip.
func worstClipFigure(dir string, cs []clipSeries) (*Figure, error) {
	worst, from, top := "", "", math.Inf(-1)
	for _, c := range cs {
		for i := range c.clips {
			if v, ok := c.clips[i].MAD(); ok && v > top {
				worst, top = c.clips[i].Clip, v
			}
		}
		if worst != "" {
			from = c.s.label
			break
		}
	}
	if worst == "" {
		return nil, nil
	}
	p := newPlot("MAD over the frames of clip "+worst, "frame index", "MAD per frame (alpha in [0, 1])")
	var keys []legendEntry
	for _, c := range cs {
		for i := range c.clips {
			cl := &c.clips[i]
			if cl.Clip != worst {
				continue
			}
			var xy plotter.XYs
			for k, f := range cl.FrameIndex {
				if !math.IsNaN(cl.FrameMAD[k]) {
					xy = append(xy, plotter.XY{X: float64(f), Y: cl.FrameMAD[k]})
				}
			}
			if len(xy) == 0 {
				continue
			}
			l, pts, err := plotter.NewLinePoints(xy)
			if err != nil {
				return nil, fmt.Errorf("mad plot: %w", err)
			}
			l.Color, l.Dashes = c.s.color, c.s.dash
			l.Width = vg.Points(1.5)
			pts.Color, pts.Radius = c.s.color, vg.Points(2)
			p.Add(l, pts)
			keys = append(keys, entry(c.s.label, l, pts))
		}
	}
	p.Y.Min = 0
	png, svg, err := render(dir, "clips_worst_mad", panel{p: p, weight: 1}, panel{legend: keys})
	if err != nil {
		return nil, err
	}
	return &Figure{Kind: "clips", Title: "MAD over frames, worst clip", PNG: png, SVG: svg,
		Caption: fmt.Sprintf("Per-frame MAD of clip %s, the clip with the highest mean MAD (%.4f) in %s; spikes that come and go are flicker, a slope is drift.", worst, top, from)}, nil
}
