package eval

import (
	"bytes"
	"encoding/csv"
	"math"
	"slices"
	"strconv"
)

// Video metrics: how a clip's predictions change from frame to frame
// against how its ground truth changes. Each frame t >= 1 of a clip gets
// its TemporalScores against frame t−1 (the previous scored frame of the
// same clip, in frame order); a clip's value derives from its frames'.

// GroupVideo holds the video metrics, computed on clip datasets only. It
// cannot be skipped: its cost is one pass over two frames.
const GroupVideo = "video"

// PerClipFile is the run folder's per-clip table (clip datasets only).
const PerClipFile = "per_clip.csv"

// TemporalScores are frame t's terms against frame t−1 of its clip.
type TemporalScores struct {
	// DTSSD is dtSSD_t = 100·sqrt(Σ((p_t − p_{t−1}) − (g_t − g_{t−1}))² / N)
	// over the frame's N pixels, p the soft prediction and g the matte, both
	// in [0, 1] (RobustVideoMatting evaluation/evaluate_lr.py MetricDTSSD,
	// which reads both as 8-bit PNG / 255 and scales by 1e2).
	DTSSD float64 `json:"dtssd"`
	// Stable counts the pixels whose binarised truth (mask >= 128) is the
	// same in both frames; Flip those of them whose binarised prediction
	// (p > threshold) is not.
	Stable int64 `json:"stable"`
	Flip   int64 `json:"flip"`
}

// frameTemporal returns frame t's terms: p, g, m are frame t's prediction
// in [0, 1], matte (alpha, or the mask, 0..255) and mask (0/255); pp, gp, mp
// frame t−1's. All have the same length.
func frameTemporal(p, pp []float32, g, gp, m, mp []uint8, thr float64) TemporalScores {
	var ssd float64
	var ts TemporalScores
	for i := range p {
		d := (float64(p[i]) - float64(pp[i])) - (float64(g[i])-float64(gp[i]))/255
		ssd += d * d
		if (m[i] >= 128) == (mp[i] >= 128) {
			ts.Stable++
			if (float64(p[i]) > thr) != (float64(pp[i]) > thr) {
				ts.Flip++
			}
		}
	}
	if len(p) > 0 {
		ts.DTSSD = 100 * math.Sqrt(ssd/float64(len(p)))
	}
	return ts
}

// ClipScores are one clip's frames added up: the frames scored, the sums
// behind its means and its confusion counts.
type ClipScores struct {
	Clip string
	// Frames are the clip's scored frames; Pairs those with temporal terms
	// (frame t >= 1 whose frame t−1 was scored too).
	Frames, Pairs int
	// MattingFrames have matting sums; MADSum and MSESum add their
	// per-frame MAD and MSE (alpha in [0, 1], as the mad and mse metrics).
	MattingFrames  int
	MADSum, MSESum float64
	TP, FP, FN     int64
	DTSSDSum       float64 // Σ dtSSD_t over the pairs
	Stable, Flip   int64
	// FrameIndex and FrameMAD are each scored frame's index and MAD, in
	// frame order (MAD NaN where undefined), for plots.
	FrameIndex []int
	FrameMAD   []float64
}

// MAD is the mean of the frames' MAD (RobustVideoMatting averages its
// per-frame pha_mad over a clip's frames the same way, scaled by 1e3).
func (c *ClipScores) MAD() (float64, bool) {
	return c.MADSum / float64(c.MattingFrames), c.MattingFrames > 0
}

// MSE is the mean of the frames' MSE.
func (c *ClipScores) MSE() (float64, bool) {
	return c.MSESum / float64(c.MattingFrames), c.MattingFrames > 0
}

// DTSSD is the mean of dtSSD_t over t >= 1. RobustVideoMatting's
// evaluate_lr.py also puts a 0 for frame 0 into its average, so its clip
// value is this times (frames−1)/frames.
func (c *ClipScores) DTSSD() (float64, bool) {
	return c.DTSSDSum / float64(c.Pairs), c.Pairs > 0
}

// Flicker is Flip/Stable: the share of pixels whose binarised prediction
// changes between consecutive frames among those whose binarised truth
// does not.
func (c *ClipScores) Flicker() (float64, bool) {
	return ratio(c.Flip, c.Stable, 0), c.Stable > 0
}

// IoU and Dice accumulate over the clip's frames (summed counts, then
// divided), with the iou and dice metrics' 0/0 conventions.
func (c *ClipScores) IoU() float64  { return iouFG(c.TP, c.FP, c.FN) }
func (c *ClipScores) Dice() float64 { return dice(c.TP, c.FP, c.FN) }

func (c *ClipScores) add(o *ClipScores) {
	c.Frames += o.Frames
	c.Pairs += o.Pairs
	c.MattingFrames += o.MattingFrames
	c.MADSum += o.MADSum
	c.MSESum += o.MSESum
	c.TP += o.TP
	c.FP += o.FP
	c.FN += o.FN
	c.DTSSDSum += o.DTSSDSum
	c.Stable += o.Stable
	c.Flip += o.Flip
}

// hasClips reports whether any row is a clip's frame.
func hasClips(rows []Row) bool {
	return slices.ContainsFunc(rows, func(r Row) bool { return r.Clip != "" })
}

// Clips adds the scored rows of each clip up, clips in the order of their
// first row, frames in frame order. Rows outside clips are left out.
func Clips(rows []Row) []ClipScores {
	var out []ClipScores
	at := map[string]int{}
	var frames [][]*Row
	for i := range rows {
		r := &rows[i]
		if r.Clip == "" {
			continue
		}
		k, ok := at[r.Clip]
		if !ok {
			k = len(out)
			at[r.Clip] = k
			out = append(out, ClipScores{Clip: r.Clip})
			frames = append(frames, nil)
		}
		if r.Status == StatusOK && r.Score != nil {
			frames[k] = append(frames[k], r)
		}
	}
	reg := DefaultRegistry()
	mad, _ := reg.Lookup("mad")
	mse, _ := reg.Lookup("mse")
	for k, fs := range frames {
		slices.SortStableFunc(fs, func(a, b *Row) int { return a.frameIndex() - b.frameIndex() })
		c := &out[k]
		for _, r := range fs {
			im := r.Score
			c.Frames++
			c.TP += im.TP
			c.FP += im.FP
			c.FN += im.FN
			c.FrameIndex = append(c.FrameIndex, r.frameIndex())
			a, okA := mad.PerImage(im)
			s, okS := mse.PerImage(im)
			if okA && okS {
				c.MattingFrames++
				c.MADSum += a
				c.MSESum += s
			} else {
				a = math.NaN()
			}
			c.FrameMAD = append(c.FrameMAD, a)
			if t := im.Temporal; t != nil {
				c.Pairs++
				c.DTSSDSum += t.DTSSD
				c.Stable += t.Stable
				c.Flip += t.Flip
			}
		}
	}
	return out
}

func (r *Row) frameIndex() int {
	if r.Frame == nil {
		return 0
	}
	return *r.Frame
}

// videoSummaries are the video metrics over clips: Mean is the mean of
// the clips' values (MeanImages then counts clips), and Accumulated, for
// metrics that have one, the value of all clips' counts summed.
func videoSummaries(metrics []Metric, clips []ClipScores) []MetricSummary {
	var all ClipScores
	for i := range clips {
		all.add(&clips[i])
	}
	var out []MetricSummary
	for _, m := range metrics {
		if m.PerClip == nil {
			continue
		}
		s := MetricSummary{Name: m.Name, Group: m.Group, Definition: m.Definition, Unit: m.Unit, HigherBetter: m.HigherBetter}
		var sum float64
		for i := range clips {
			if v, ok := m.PerClip(&clips[i]); ok {
				sum += v
				s.MeanImages++
			}
		}
		if s.MeanImages > 0 {
			v := sum / float64(s.MeanImages)
			s.Mean = &v
		}
		if m.AccumulateClips {
			if v, ok := m.PerClip(&all); ok {
				s.Accumulated = &v
			}
		}
		out = append(out, s)
	}
	return out
}

// runMetrics are the metrics a run reports: those of the groups it
// computed, the video ones only when it has clips.
func runMetrics(skip []string, clips bool) []Metric {
	ms := Options{Skip: skip}.Select(DefaultRegistry().Metrics())
	if clips {
		return ms
	}
	return slices.DeleteFunc(ms, func(m Metric) bool { return m.Group == GroupVideo })
}

// writeClipCSV writes per_clip.csv: one line per clip, in the order of
// Clips. mad and mse are means over the clip's frames (alpha in [0, 1],
// not x1000), dtssd the mean over t >= 1 (x100, as RobustVideoMatting),
// iou and dice accumulated over the frames; empty where undefined.
func writeClipCSV(path string, clips []ClipScores) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	if err := w.Write([]string{"clip", "frames", "mad", "mse", "dtssd", "flicker", "iou", "dice"}); err != nil {
		return err
	}
	f := func(v float64, ok bool) string {
		if !ok {
			return ""
		}
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	for i := range clips {
		c := &clips[i]
		rec := []string{c.Clip, strconv.Itoa(c.Frames)}
		for _, v := range []func() (float64, bool){c.MAD, c.MSE, c.DTSSD, c.Flicker} {
			rec = append(rec, f(v()))
		}
		rec = append(rec, f(c.IoU(), c.Frames > 0), f(c.Dice(), c.Frames > 0))
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	return flushCSV(path, w, &b)
}
