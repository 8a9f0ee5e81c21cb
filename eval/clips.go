package eval

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/models"
	"github.com/segtool/segtool/temporal"
)

// Clip datasets. When the selected samples have clips (Sample.Clip), each
// clip's frames run in frame order through one models.Stream (a recurrent
// model's state, a prior-mask model's previous prediction) and one
// temporal filter, as apply runs a video; clips run in parallel, Workers
// at a time, sharing the session (the Predictor takes its calls one at a
// time). Each frame is then scored as any image is, and gets its temporal
// terms against the clip's previous frame (video_metrics.go).
//
// A frame that is not scored (unreadable, no ground truth, NaN output) ends
// a segment of the clip: the filter's held frames are released, the
// filter and the stream start over, and no temporal terms bridge the gap.
//
// A video model (models.Spec.Stateful) runs this way on still images too,
// each a clip of one frame.
//
// Shards take whole clips (clip k of the selection goes to shard
// k mod n), and a resume redoes every clip that has an unfinished frame,
// since a frame's prediction depends on the frames before it. --limit
// counts frames and may cut the last clip short.

// clipUnits groups samples into the units shards take: a clip's samples
// together, every other sample alone, in order of first appearance.
func clipUnits(samples []dataset.Sample) [][]int {
	var units [][]int
	at := map[string]int{}
	for i, s := range samples {
		if s.Clip == "" {
			units = append(units, []int{i})
			continue
		}
		k, ok := at[s.Clip]
		if !ok {
			k = len(units)
			at[s.Clip] = k
			units = append(units, nil)
		}
		units[k] = append(units[k], i)
	}
	return units
}

// shardSamples is shard.Index of shard.Count over clipUnits: without clips
// every Count-th sample, with clips every Count-th clip, never split.
func shardSamples(samples []dataset.Sample, shard Shard) []dataset.Sample {
	var mine []dataset.Sample
	for k, u := range clipUnits(samples) {
		if k%shard.Count == shard.Index {
			for _, i := range u {
				mine = append(mine, samples[i])
			}
		}
	}
	return mine
}

func samplesHaveClips(samples []dataset.Sample) bool {
	return slices.ContainsFunc(samples, func(s dataset.Sample) bool { return s.Clip != "" })
}

// wholeClips drops the finished rows of every clip that has a selected
// frame without one; it reports whether it dropped any.
func wholeClips(samples []dataset.Sample, done []Row) ([]Row, bool) {
	has := map[string]bool{}
	for _, r := range done {
		has[r.ID] = true
	}
	partial := map[string]bool{}
	for _, s := range samples {
		if s.Clip != "" && !has[s.ID] {
			partial[s.Clip] = true
		}
	}
	clipOf := map[string]string{}
	for _, s := range samples {
		clipOf[s.ID] = s.Clip
	}
	kept := slices.DeleteFunc(slices.Clone(done), func(r Row) bool { return partial[clipOf[r.ID]] })
	return kept, len(kept) != len(done)
}

// clipGroups returns idx's samples by clipUnits, each clip's in frame
// order (then by id).
func clipGroups(samples []dataset.Sample, idx []int) [][]int {
	sel := make([]dataset.Sample, len(idx))
	for k, i := range idx {
		sel[k] = samples[i]
	}
	var groups [][]int
	for _, u := range clipUnits(sel) {
		g := make([]int, len(u))
		for k, i := range u {
			g[k] = idx[i]
		}
		slices.SortStableFunc(g, func(a, b int) int {
			if d := samples[a].FrameIndex() - samples[b].FrameIndex(); d != 0 {
				return d
			}
			return strings.Compare(samples[a].ID, samples[b].ID)
		})
		groups = append(groups, g)
	}
	return groups
}

// runClips is run for clip datasets: the samples idx, clip by clip.
func (st *stages) runClips(ctx context.Context, samples []dataset.Sample, idx []int, emit func(Row) error) error {
	caller := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	groups := clipGroups(samples, idx)
	var pred *models.Predictor
	if st.sess != nil {
		pred = st.predictor()
	}
	next := feed(ctx, groups)
	rows := make(chan Row, 2*st.cfg.Workers)
	var mu sync.Mutex
	var calls []float64 // per-frame Stream.Predict times
	var wg sync.WaitGroup
	for range min(st.cfg.Workers, len(groups)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := NewScorer()
			defer sc.Close()
			// One filter and stream serve the worker's clips: a clip's
			// run ends with endSegment, which starts both over.
			c := &clipRun{st: st, scorer: sc, filter: st.cfg.Temporal.New(),
				send: func(r Row) error {
					if ctx.Err() != nil {
						return context.Cause(ctx) // the clip stops here
					}
					rows <- r // collect drains rows to the end
					return nil
				},
				timed: func(d float64) { mu.Lock(); calls = append(calls, d); mu.Unlock() },
			}
			if pred != nil {
				c.stream = pred.NewStream()
			}
			for g := range next {
				if err := c.run(ctx, samples, g); err != nil {
					cancel(err)
					return // the failed clip may be left in c; the run is over
				}
			}
		}()
	}
	go func() { wg.Wait(); close(rows) }()
	collect(caller, rows, emit, cancel)
	st.callMS = append(st.callMS, calls...)
	st.items += len(calls)
	return context.Cause(ctx)
}

// predictor runs the session on whole frames with the run's geometry.
func (st *stages) predictor() *models.Predictor {
	p := models.NewPredictor(st.sess, st.cfg.Fit, st.cfg.Tile, st.cfg.Overlap)
	p.TileMode, p.Batch = st.cfg.TileMode, st.cfg.Batch
	return p
}

// warmupStream runs n untimed black model-sized frames through a
// throwaway stream.
func warmupStream(st *stages, n int) error {
	if n <= 0 {
		return nil
	}
	img := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), st.cfg.Spec.Height, st.cfg.Spec.Width, gocv.MatTypeCV8UC3)
	defer img.Close()
	s := st.predictor().NewStream()
	for range n {
		if _, err := s.Predict(img); err != nil {
			return err
		}
	}
	return nil
}

// clipRun runs clips' frames, one clip at a time.
type clipRun struct {
	st      *stages
	stream  *models.Stream // nil for saved predictions
	filter  temporal.Filter
	scorer  *Scorer
	pending []*job // frames given to the filter and not yet back, oldest first
	prev    *job   // the segment's last scored frame
	send    func(Row) error
	timed   func(ms float64)
}

func (c *clipRun) run(ctx context.Context, samples []dataset.Sample, g []int) error {
	for _, i := range g {
		if err := context.Cause(ctx); err != nil {
			return err
		}
		if err := c.frame(&job{idx: i, s: samples[i]}); err != nil {
			return err
		}
	}
	return c.endSegment()
}

// frame predicts frame j and gives it to the filter; the frames the
// filter releases are scored and sent.
func (c *clipRun) frame(j *job) error {
	img, ok := c.st.load(j)
	if !ok {
		return c.unscored(j)
	}
	if c.st.needImage() {
		defer img.Close()
	}
	if c.stream != nil {
		t := time.Now()
		prob, err := c.stream.Predict(img)
		d := ms(time.Since(t))
		if err != nil {
			// The frame's row says why; a broken session leaves no frame
			// scored, and the run then ends with ErrNothingScored.
			c.st.fail(j, filepath.Join(c.st.cfg.Dataset, j.s.Image), fmt.Errorf("inference: %w", err))
			return c.unscored(j)
		}
		// Predict includes its preprocessing and the resize back, so in
		// a clip run inference is the frame's whole prediction.
		j.row.MS.Inference = d
		c.timed(d)
		j.prob = prob
	}
	if NonFinite(j.prob) > 0 {
		return c.unscored(j) // finish marks it; the filter never sees it
	}
	c.pending = append(c.pending, j)
	return c.release(c.filter.Push(j.prob, j.w, j.h))
}

// unscored ends the segment and sends j's row.
func (c *clipRun) unscored(j *job) error {
	if err := c.endSegment(); err != nil {
		return err
	}
	if err := c.st.finish(j, c.scorer); err != nil {
		return err
	}
	return c.send(j.row)
}

// endSegment releases the frames the filter holds and starts the filter,
// the stream and the temporal chain over.
func (c *clipRun) endSegment() error {
	err := c.release(c.filter.Flush())
	if err == nil && len(c.pending) > 0 {
		err = fmt.Errorf("temporal filter kept %d frames at the end of clip %s", len(c.pending), c.pending[0].s.Clip)
	}
	c.filter.Reset()
	if c.stream != nil {
		c.stream.Reset()
	}
	c.pending, c.prev = nil, nil
	return err
}

// release scores the filtered planes outs, which belong to the oldest
// pending frames in order (a filter with a delay returns frame t−Delay at
// frame t).
func (c *clipRun) release(outs [][]float32) error {
	for _, p := range outs {
		if len(c.pending) == 0 {
			return fmt.Errorf("temporal filter returned more frames than it was given")
		}
		j := c.pending[0]
		c.pending = c.pending[1:]
		if len(p) != len(j.prob) {
			return fmt.Errorf("temporal filter returned %d values for frame %s of %d", len(p), j.s.ID, len(j.prob))
		}
		j.prob = p
		if err := c.st.finish(j, c.scorer); err != nil {
			return err
		}
		if j.row.Status != StatusOK {
			c.prev = nil
		} else {
			if pv := c.prev; pv != nil && pv.w == j.w && pv.h == j.h {
				ts := frameTemporal(j.prob, pv.prob, matteOf(j), matteOf(pv), j.mask, pv.mask, c.st.cfg.Metrics.Threshold)
				j.row.Score.Temporal = &ts
			}
			j.bgr, j.trimap = nil, nil
			c.prev = j
		}
		if err := c.send(j.row); err != nil {
			return err
		}
	}
	return nil
}

// matteOf is the frame's ground-truth matte, 0..255: the alpha, else the
// mask.
func matteOf(j *job) []uint8 {
	if j.alpha != nil {
		return j.alpha
	}
	return j.mask
}
