package eval

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/models"
)

// The pipeline runs four stages joined by bounded channels:
//
//	prepare (Workers goroutines): read the image and ground truth, preprocess
//	infer (one goroutine): gather Batch items, one session call
//	finish (Workers goroutines): probabilities, resize back, metrics, saves
//	collect (the caller): journal, progress
//
// The channels hold a couple of batches, so inference always has its next
// batch ready while the CPU-side stages work, and memory stays bounded.

// job is one image on its way through the stages.
type job struct {
	idx   int
	s     dataset.Sample
	row   Row
	start time.Time

	w, h                int
	mask, alpha, trimap []uint8
	bgr                 []uint8 // the image, kept only for overlays

	units []models.Input // model inputs: one, or one per tile
	prob  []float32      // the prediction at ground-truth size, in [0, 1]
}

type stages struct {
	cfg  *Config
	sess *models.Session // nil when scoring saved predictions
	// calls counts inference calls. Only the inference goroutine writes
	// it; it is read after run has returned.
	calls int
}

func (st *stages) run(ctx context.Context, samples []dataset.Sample, idx []int, emit func(Row) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := st.cfg.Workers
	feed := make(chan *job)
	ready := make(chan *job, 2*st.cfg.Batch)
	scored := make(chan *job, 2*st.cfg.Batch)
	rows := make(chan Row, 2*st.cfg.Batch)

	go func() {
		defer close(feed)
		for _, i := range idx {
			select {
			case feed <- &job{idx: i, s: samples[i]}:
			case <-ctx.Done():
				return
			}
		}
	}()

	var prep sync.WaitGroup
	for range w {
		prep.Add(1)
		go func() {
			defer prep.Done()
			for j := range feed {
				st.prepare(j)
				select {
				case ready <- j:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() { prep.Wait(); close(ready) }()

	inferDone := make(chan struct{})
	go func() {
		defer close(inferDone)
		defer close(scored)
		if err := st.infer(ctx, ready, scored); err != nil {
			cancel(err)
			for range ready { // let prepare finish
			}
		}
	}()

	var fin sync.WaitGroup
	for range w {
		fin.Add(1)
		go func() {
			defer fin.Done()
			sc := NewScorer() // reuses its buffers image to image
			defer sc.Close()
			for j := range scored {
				st.finish(j, sc)
				select {
				case rows <- j.row:
				case <-ctx.Done():
				}
			}
		}()
	}
	go func() { fin.Wait(); close(rows) }()

	for r := range rows {
		if ctx.Err() != nil {
			continue // drain
		}
		if err := emit(r); err != nil {
			cancel(err)
		}
	}
	<-inferDone
	return context.Cause(ctx)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func (st *stages) fail(j *job, path string, err error) {
	j.row.Status = StatusError
	j.row.Path = path
	j.row.Reason = err.Error()
	j.units = nil
}

// prepare reads the image and its ground truth and, for a model, fills the
// units; for saved predictions it reads the prediction.
func (st *stages) prepare(j *job) {
	j.start = time.Now()
	j.row = Row{ID: j.s.ID, Split: j.s.Split}
	if j.s.Mask == "" && j.s.Alpha == "" {
		j.row.Status = StatusSkipped
		j.row.Reason = "no ground truth (neither mask nor alpha)"
		return
	}
	dir := st.cfg.Dataset
	needImage := st.sess != nil || st.cfg.SaveOverlays
	var img gocv.Mat
	if needImage {
		var err error
		p := filepath.Join(dir, j.s.Image)
		img, err = readMat(p, gocv.IMReadColor)
		if err != nil {
			st.fail(j, p, err)
			return
		}
		defer img.Close()
		j.w, j.h = img.Cols(), img.Rows()
	}
	gts := []struct {
		rel string
		dst *[]uint8
	}{{j.s.Mask, &j.mask}, {j.s.Alpha, &j.alpha}, {j.s.Trimap, &j.trimap}}
	for _, g := range gts {
		if g.rel == "" {
			continue
		}
		p := filepath.Join(dir, g.rel)
		plane, w, h, err := readPlane(p)
		if err != nil {
			st.fail(j, p, err)
			return
		}
		if j.w == 0 {
			j.w, j.h = w, h
		}
		if w != j.w || h != j.h {
			st.fail(j, p, fmt.Errorf("%s: %dx%d, but the image is %dx%d", dataset.CodeSizeMismatch, w, h, j.w, j.h))
			return
		}
		*g.dst = plane
	}
	if j.mask == nil { // alpha only: the person mask is alpha >= 128
		j.mask = make([]uint8, len(j.alpha))
		for i, a := range j.alpha {
			if a >= 128 {
				j.mask[i] = 255
			}
		}
	}
	j.row.Width, j.row.Height = j.w, j.h
	j.row.MS.Decode = ms(time.Since(j.start))
	if st.cfg.SaveOverlays {
		j.bgr = img.ToBytes()
	}

	t := time.Now()
	if st.sess == nil {
		p := filepath.Join(st.cfg.Preds, j.s.ID+".png")
		plane, w, h, err := readPlane(p)
		if err != nil {
			st.fail(j, p, fmt.Errorf("prediction: %w", err))
			return
		}
		if w != j.w || h != j.h {
			st.fail(j, p, fmt.Errorf("%s: prediction is %dx%d, ground truth %dx%d", dataset.CodeSizeMismatch, w, h, j.w, j.h))
			return
		}
		j.prob = make([]float32, len(plane))
		for i, v := range plane {
			j.prob[i] = float32(v) / 255
		}
		j.row.MS.Preprocess = ms(time.Since(t))
		return
	}
	var err error
	if j.units, err = st.sess.Spec.Inputs(img, st.cfg.Fit, st.cfg.Tile, st.cfg.Overlap); err != nil {
		st.fail(j, filepath.Join(dir, j.s.Image), err)
		return
	}
	if st.cfg.Tile != (image.Point{}) {
		j.row.Tiles = len(j.units)
	}
	j.row.MS.Preprocess = ms(time.Since(t))
}

// infer runs the session on batches of units. Jobs without units (errors,
// saved predictions) pass straight through.
func (st *stages) infer(ctx context.Context, in <-chan *job, out chan<- *job) error {
	batch := st.cfg.Batch
	type ref struct {
		j *job
		k int
	}
	var pending []ref
	var jobs []*job // jobs whose units are all in pending or done
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		n := len(pending)
		items := n
		if st.sess.Spec.Batch > 0 {
			items = st.sess.Spec.Batch // a fixed batch is padded
		}
		per := len(pending[0].j.units[pending[0].k].Data)
		var x []float32
		if items == 1 {
			x = pending[0].j.units[pending[0].k].Data
		} else {
			x = make([]float32, items*per)
			for i, r := range pending {
				copy(x[i*per:], r.j.units[r.k].Data)
			}
		}
		t := time.Now()
		y, shape, err := st.sess.Run(x, items)
		d := ms(time.Since(t))
		if err != nil {
			return fmt.Errorf("inference on %s: %w", pending[0].j.s.ID, err)
		}
		st.calls++
		outPer := len(y) / items
		for i, r := range pending {
			u := &r.j.units[r.k]
			u.Out = y[i*outPer : (i+1)*outPer : (i+1)*outPer]
			u.Dims = shape[1:]
			u.Data = nil
			r.j.row.MS.Inference += d / float64(n)
		}
		pending = pending[:0]
		// Send every job whose units have all come back, in arrival order.
		k := 0
		for _, j := range jobs {
			if j.units[len(j.units)-1].Out == nil {
				jobs[k] = j
				k++
				continue
			}
			select {
			case out <- j:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		}
		jobs = jobs[:k]
		return nil
	}
	for j := range in {
		if ctx.Err() != nil {
			continue
		}
		if len(j.units) == 0 {
			select {
			case out <- j:
			case <-ctx.Done():
			}
			continue
		}
		jobs = append(jobs, j)
		for k := range j.units {
			pending = append(pending, ref{j, k})
			if len(pending) == batch {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	return flush()
}

// finish turns raw outputs into a probability plane at ground-truth size,
// scores it and saves what was asked for.
func (st *stages) finish(j *job, scorer *Scorer) {
	defer func() { j.row.MS.Total = ms(time.Since(j.start)) }()
	if j.row.Status != "" {
		return
	}
	t := time.Now()
	if st.sess != nil {
		prob, err := st.sess.Spec.Assemble(j.units, j.w, j.h, j.row.Tiles > 0, st.cfg.Overlap)
		if err != nil {
			st.fail(j, filepath.Join(st.cfg.Dataset, j.s.Image), err)
			return
		}
		j.prob = prob
		j.units = nil
	}
	j.row.NonFinite = NonFinite(j.prob)
	if st.cfg.SavePreds {
		if err := savePred(filepath.Join(st.cfg.Out, "preds", j.s.ID+".png"), j.prob, j.w, j.h); err != nil {
			st.fail(j, "", err)
			return
		}
	}
	j.row.MS.Postprocess = ms(time.Since(t))
	if j.row.NonFinite > 0 {
		j.row.Status = StatusNonFinite
		j.row.Reason = fmt.Sprintf("%d of %d predicted values are NaN or Inf", j.row.NonFinite, len(j.prob))
		return
	}
	t = time.Now()
	sc, err := scorer.Score(Pair{W: j.w, H: j.h, Prob: j.prob, Mask: j.mask, Alpha: j.alpha, Trimap: j.trimap}, st.cfg.Metrics)
	if err != nil {
		st.fail(j, "", err)
		return
	}
	j.row.MS.Metrics = ms(time.Since(t))
	j.row.Status = StatusOK
	j.row.Score = &sc
	if st.cfg.SaveOverlays {
		p := filepath.Join(st.cfg.Out, "overlays", j.s.ID+".jpg")
		if err := saveOverlay(p, j); err != nil {
			j.row.Reason = "overlay not written: " + err.Error()
		}
	}
}

var errEmptyDecode = errors.New("cannot decode")

// readMat reads and decodes an image, refusing truncated files that
// OpenCV would decode with only a warning.
func readMat(path string, flags gocv.IMReadFlag) (gocv.Mat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return gocv.Mat{}, err
	}
	if err := dataset.CheckComplete(b); err != nil {
		return gocv.Mat{}, err
	}
	m, err := gocv.IMDecode(b, flags)
	if err != nil || m.Empty() {
		if err == nil {
			m.Close()
		}
		return gocv.Mat{}, fmt.Errorf("%s: %w", dataset.CodeCorrupt, errEmptyDecode)
	}
	return m, nil
}

// readPlane reads an 8-bit single-channel PNG into a plane.
func readPlane(path string) ([]uint8, int, int, error) {
	m, err := readMat(path, gocv.IMReadGrayScale)
	if err != nil {
		return nil, 0, 0, err
	}
	defer m.Close()
	return m.ToBytes(), m.Cols(), m.Rows(), nil
}
