package eval

import (
	"context"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"runtime"
	"slices"
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
//	collect (the caller): journal, progress; rows finished around a failure
//	are journalled too, so a resume does not redo them
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
	bgr                 []uint8 // the image, kept for overlays and context tiles

	units []models.Input // model inputs: one, or one per tile
	slots []slot         // where each unit's output is, once run
	prob  []float32      // the prediction at ground-truth size, in [0, 1]
}

type stages struct {
	cfg   *Config
	write writeFunc       // writes preds and overlays
	sess  *models.Session // nil when scoring saved predictions
	// noTrimaps: a resumed run that began without trimaps reads none
	// (prepareOut).
	noTrimaps bool
	pool      *models.BatchPool // the session's input/output tensors
	// tilePool holds the batches of context tiles, run by the finish
	// workers (refineContext), at most one each.
	tilePool *models.BatchPool
	free     chan []float32 // recycled model item buffers
	// padLast pads the last, partial batch of a dynamic-batch model to
	// the full batch (on CUDA, where a new shape means a new search).
	padLast bool
	// callMS holds each inference call's time and items the model inputs
	// they ran. Only the inference goroutine writes them; they are read
	// after run has returned.
	callMS []float64
	items  int
	// gpu is what NVML saw of the GPU during a CUDA run; gpuErr says why
	// there are no GPU figures (no NVML).
	gpu    *models.GPUStats
	gpuErr string
}

func (st *stages) run(ctx context.Context, samples []dataset.Sample, idx []int, emit func(Row) error) error {
	caller := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	w := st.cfg.Workers
	next := feed(ctx, idx)
	ready := make(chan *job, 2*st.cfg.Batch)
	scored := make(chan *job, 2*st.cfg.Batch)
	rows := make(chan Row, 2*st.cfg.Batch)

	var prep sync.WaitGroup
	for range w {
		prep.Add(1)
		go func() {
			defer prep.Done()
			for i := range next {
				j := &job{idx: i, s: samples[i]}
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
				if err := st.finish(j, sc); err != nil {
					cancel(err) // the row is not emitted: a resume redoes it
					continue
				}
				rows <- j.row // collect drains rows to the end
			}
		}()
	}
	go func() { fin.Wait(); close(rows) }()

	collect(caller, rows, emit, cancel)
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
	img, ok := st.load(j)
	if !ok {
		return
	}
	if st.needImage() {
		defer img.Close()
	}
	if st.sess == nil {
		return
	}
	t := time.Now()
	var err error
	tile := st.cfg.Tile
	if st.inContext() {
		// The whole image now; the tiles in its band once it has run
		// (finish, refineContext), from the image kept here.
		tile = image.Point{}
		if j.bgr == nil {
			j.bgr = img.ToBytes()
		}
	}
	if j.units, err = st.sess.Spec.InputsWith(img, st.cfg.Fit, tile, st.cfg.Overlap, st.getData); err != nil {
		st.fail(j, filepath.Join(st.cfg.Dataset, j.s.Image), err)
		return
	}
	if tile != (image.Point{}) {
		j.row.Tiles = len(j.units)
	}
	j.row.MS.Preprocess = ms(time.Since(t))
}

// load reads the image (when a model or an overlay needs it; the caller
// closes it) and the ground truth and, for saved predictions, the
// prediction. false means the row is final (an error or a skip).
func (st *stages) load(j *job) (gocv.Mat, bool) {
	j.start = time.Now()
	j.row = Row{ID: j.s.ID, Split: j.s.Split, Clip: j.s.Clip, Frame: j.s.Frame}
	if j.s.Mask == "" && j.s.Alpha == "" {
		j.row.Status = StatusSkipped
		j.row.Reason = "no ground truth (neither mask nor alpha)"
		return gocv.Mat{}, false
	}
	dir := st.cfg.Dataset
	needImage := st.needImage()
	var img gocv.Mat
	fail := func(p string, err error) (gocv.Mat, bool) {
		if needImage {
			img.Close()
		}
		st.fail(j, p, err)
		return gocv.Mat{}, false
	}
	if needImage {
		var err error
		p := filepath.Join(dir, j.s.Image)
		img, err = readMat(st.cfg.decoder(), p, gocv.IMReadColor)
		if err != nil {
			st.fail(j, p, err)
			return gocv.Mat{}, false
		}
		j.w, j.h = img.Cols(), img.Rows()
	}
	gts := []struct {
		rel string
		dst *[]uint8
	}{{j.s.Mask, &j.mask}, {j.s.Alpha, &j.alpha}, {j.s.Trimap, &j.trimap}}
	if !st.cfg.Metrics.Computes(GroupMatting) {
		// Without the matting metrics the alpha only stands in for a
		// missing mask, and the trimap is not read at all.
		if j.s.Mask != "" {
			gts[1].rel = ""
		}
		gts[2].rel = ""
	}
	if st.noTrimaps {
		gts[2].rel = ""
	}
	for _, g := range gts {
		if g.rel == "" {
			continue
		}
		p := filepath.Join(dir, g.rel)
		plane, w, h, err := readPlane(st.cfg.decoder(), p)
		if err != nil {
			return fail(p, err)
		}
		if j.w == 0 {
			j.w, j.h = w, h
		}
		if w != j.w || h != j.h {
			return fail(p, fmt.Errorf("%s: %dx%d, but the image is %dx%d", dataset.CodeSizeMismatch, w, h, j.w, j.h))
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
		plane, w, h, err := readPlane(st.cfg.decoder(), p)
		if err != nil {
			return fail(p, fmt.Errorf("prediction: %w", err))
		}
		if w != j.w || h != j.h {
			return fail(p, fmt.Errorf("%s: prediction is %dx%d, ground truth %dx%d", dataset.CodeSizeMismatch, w, h, j.w, j.h))
		}
		j.prob = make([]float32, len(plane))
		for i, v := range plane {
			j.prob[i] = float32(v) / 255
		}
		j.row.MS.Preprocess = ms(time.Since(t))
	}
	return img, true
}

// needImage reports whether load reads the image: for the model or for
// overlays.
func (st *stages) needImage() bool { return st.sess != nil || st.cfg.SaveOverlays }

// refineContext is the rest of a models.TileContext prediction once the
// whole image has run: it cuts and runs only the tiles in the band of the
// global prediction, as apply's Predictor does, and refines the band with
// them. Their session calls are made here, on the tile pool, so they are
// in the image's inference time but not in the run's per-call figures.
func (st *stages) refineContext(j *job, global []float32) ([]float32, error) {
	spec := st.sess.Spec
	b := models.ContextBand(j.w, j.h, spec.Width, spec.Height)
	m := models.RefineWeights(global, j.w, j.h, b)
	tiles := models.BandTiles(j.w, j.h, st.cfg.Tile, st.cfg.Overlap, m)
	j.row.Tiles = len(tiles)
	if len(tiles) == 0 {
		return global, nil
	}
	img, err := gocv.NewMatFromBytes(j.h, j.w, gocv.MatTypeCV8UC3, j.bgr)
	if err != nil {
		return nil, err
	}
	ins, err := spec.TileInputs(img, st.cfg.Fit, tiles, st.getData)
	img.Close()
	if err != nil {
		return nil, err
	}
	t := time.Now()
	err = st.runTiles(ins)
	for _, in := range ins {
		st.putData(in.Data)
	}
	if err != nil {
		return nil, err
	}
	j.row.MS.Inference += ms(time.Since(t))
	return spec.RefineTiles(global, m, ins, j.w, j.h, st.cfg.Overlap, b)
}

// runTiles runs the session on ins, Batch at a time (the model's fixed
// batch, padded, where it has one), through the tile pool, and sets each
// input's Out and Dims.
func (st *stages) runTiles(ins []models.Input) error {
	spec := st.sess.Spec
	per := max(st.cfg.Batch, 1)
	if spec.Batch > 0 {
		per = spec.Batch
	}
	n := spec.ItemLen()
	for start := 0; start < len(ins); start += per {
		group := ins[start:min(start+per, len(ins))]
		items := len(group)
		if spec.Batch > 0 || st.padLast {
			items = per
		}
		b, err := st.tilePool.Get(items, nil)
		if err != nil {
			return err
		}
		for i, in := range group {
			copy(b.In[i*n:(i+1)*n], in.Data)
		}
		clear(b.In[len(group)*n:])
		b.Commit()
		err = st.sess.RunBatch(b)
		if err == nil {
			for i := range group {
				group[i].Out, group[i].Dims = slices.Clone(b.Item(i)), slices.Clone(b.ItemDims())
			}
		}
		b.Release()
		if err != nil {
			return fmt.Errorf("inference on tiles: %w", err)
		}
	}
	return nil
}

// inContext reports a tiled run in models.TileContext.
func (st *stages) inContext() bool {
	return st.cfg.Tile != (image.Point{}) && st.cfg.TileMode != models.TilePlain
}

// infer runs the session on batches of units. Two goroutines share the
// work so that the session is never idle waiting for a batch: gather
// collects units, copies them into a free pre-allocated batch and commits
// it (the float16 conversion, when the model wants it), while this one
// only calls Run. A job is passed on once the batch holding its last unit
// has run; jobs without units (errors, saved predictions) pass straight
// through.
func (st *stages) infer(ctx context.Context, in <-chan *job, out chan<- *job) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	filled := make(chan filledBatch, 1)
	go st.gather(ctx, cancel, in, filled)
	var runErr error
	for f := range filled {
		if runErr != nil || ctx.Err() != nil {
			if f.b != nil {
				f.b.Release()
			}
			continue // drain until gather is done
		}
		if f.b != nil {
			t := time.Now()
			err := st.sess.RunBatch(f.b)
			d := ms(time.Since(t))
			if err != nil {
				runErr = fmt.Errorf("inference on %s: %w", f.refs[0].j.s.ID, err)
				cancel(runErr)
				f.b.Release()
				continue
			}
			st.items += len(f.refs)
			st.callMS = append(st.callMS, d)
			held := 0
			for i, r := range f.refs {
				r.j.row.MS.Inference += d / float64(len(f.refs))
				if f.whole[i] {
					r.j.slots[r.k] = slot{f.b, i}
					held++
					continue
				}
				// A tile of an image whose other tiles are in later
				// batches: keep a copy, so this batch is free again and
				// the pool cannot run dry waiting on that image.
				u := &r.j.units[r.k]
				u.Out, u.Dims = slices.Clone(f.b.Item(i)), f.b.ItemDims()
			}
			f.b.Hold(held)
			f.b.Release() // gather's reference from Get
		}
		for _, j := range f.done {
			select {
			case out <- j:
			case <-ctx.Done():
			}
		}
	}
	if runErr != nil {
		return runErr
	}
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err // gather's own failure
	}
	return nil
}

// unitRef is unit k of job j.
type unitRef struct {
	j *job
	k int
}

// slot is where a unit's raw output lives: item i of a batch.
type slot struct {
	b *models.Batch
	i int
}

// filledBatch is a committed batch ready to run, with the jobs that are
// complete once it has; b is nil for jobs that only pass through.
type filledBatch struct {
	b     *models.Batch
	refs  []unitRef
	whole []bool // refs[i]'s job has its last unit in this batch
	done  []*job
}

// gather fills batches from the prepared jobs, in arrival order, and
// closes filled when in is drained. It stops filling (but keeps draining,
// so prepare can finish) once ctx is done.
func (st *stages) gather(ctx context.Context, cancel context.CancelCauseFunc, in <-chan *job, filled chan<- filledBatch) {
	defer close(filled)
	send := func(f filledBatch) {
		select {
		case filled <- f:
		case <-ctx.Done():
			if f.b != nil {
				f.b.Release()
			}
		}
	}
	var pending []unitRef
	var waiting []*job // jobs with units not yet in a batch
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		items := len(pending)
		switch {
		case st.sess.Spec.Batch > 0:
			items = st.sess.Spec.Batch // a fixed batch is padded
		case st.padLast:
			items = st.cfg.Batch // one shape: no new cuDNN search for the last call
		}
		b, err := st.pool.Get(items, ctx.Done())
		if err != nil {
			return err
		}
		t := time.Now()
		per := st.sess.Spec.ItemLen()
		copyItems(b.In, pending, per)
		clear(b.In[len(pending)*per:]) // padding
		b.Commit()
		d := ms(time.Since(t))
		f := filledBatch{b: b, refs: slices.Clone(pending)}
		for _, r := range pending {
			st.putData(r.j.units[r.k].Data)
			r.j.units[r.k].Data = nil
			r.j.row.MS.Batch += d / float64(len(pending))
		}
		f.whole = make([]bool, len(pending))
		for i, r := range pending {
			f.whole[i] = r.j.units[len(r.j.units)-1].Data == nil
		}
		// Jobs whose last unit is in this batch are complete after it.
		k := 0
		for _, j := range waiting {
			if j.units[len(j.units)-1].Data == nil {
				f.done = append(f.done, j)
			} else {
				waiting[k] = j
				k++
			}
		}
		waiting = waiting[:k]
		pending = pending[:0]
		send(f)
		return nil
	}
	for j := range in {
		if ctx.Err() != nil {
			continue
		}
		if len(j.units) == 0 {
			send(filledBatch{done: []*job{j}})
			continue
		}
		j.slots = make([]slot, len(j.units))
		waiting = append(waiting, j)
		for k := range j.units {
			if ctx.Err() != nil {
				break
			}
			pending = append(pending, unitRef{j, k})
			if len(pending) == st.cfg.Batch {
				if err := flush(); err != nil {
					cancel(err)
					break
				}
			}
		}
	}
	if ctx.Err() == nil {
		if err := flush(); err != nil {
			cancel(err)
		}
	}
}

// copyItems copies each pending unit's data into its place in dst, the
// items spread over the cores: a batch of 32 800x600 images is 184 MB.
func copyItems(dst []float32, refs []unitRef, per int) {
	var wg sync.WaitGroup
	next := make(chan int, len(refs))
	for i := range refs {
		next <- i
	}
	close(next)
	for range min(runtime.NumCPU(), len(refs)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r := refs[i]
				copy(dst[i*per:(i+1)*per], r.j.units[r.k].Data)
			}
		}()
	}
	wg.Wait()
}

// getData returns a buffer for one model item, recycled when one is free.
func (st *stages) getData() []float32 {
	select {
	case d := <-st.free:
		return d
	default:
		return make([]float32, st.sess.Spec.ItemLen())
	}
}

// putData recycles an item buffer, or drops it when enough are kept.
func (st *stages) putData(d []float32) {
	select {
	case st.free <- d:
	default:
	}
}

// finish turns raw outputs into a probability plane at ground-truth size,
// scores it and saves what was asked for. A failed write of an output is
// returned, not made the image's row: it is the disk's fault, and a row
// would make a resume skip the image.
func (st *stages) finish(j *job, scorer *Scorer) error {
	defer func() { j.row.MS.Total = ms(time.Since(j.start)) }()
	if j.row.Status != "" {
		return nil
	}
	t := time.Now()
	if st.sess != nil && j.prob == nil { // a clip's frames come predicted
		for k, sl := range j.slots {
			if sl.b != nil {
				j.units[k].Out, j.units[k].Dims = sl.b.Item(sl.i), sl.b.ItemDims()
			}
		}
		var prob []float32
		var err error
		// In context mode the units are the whole image alone.
		prob, err = st.sess.Spec.Assemble(j.units, j.w, j.h, j.row.Tiles > 0, st.cfg.Overlap)
		for _, sl := range j.slots {
			if sl.b != nil {
				sl.b.Release()
			}
		}
		j.slots = nil
		if err == nil && st.inContext() {
			prob, err = st.refineContext(j, prob)
		}
		if err != nil {
			st.fail(j, filepath.Join(st.cfg.Dataset, j.s.Image), err)
			return nil
		}
		j.prob = prob
		j.units = nil
	}
	j.row.NonFinite = NonFinite(j.prob)
	if st.cfg.SavePreds {
		p, err := dataset.SampleFile(st.cfg.Out, PredsDir, j.s.ID, ".png")
		if err == nil {
			err = savePred(st.write, p, j.prob, j.w, j.h)
		}
		if err != nil {
			if isWriteError(err) {
				return fmt.Errorf("sample %s: prediction: %w", j.s.ID, err)
			}
			st.fail(j, "", err)
			return nil
		}
	}
	j.row.MS.Postprocess = ms(time.Since(t))
	if j.row.NonFinite > 0 {
		j.row.Status = StatusNonFinite
		j.row.Reason = fmt.Sprintf("%d of %d predicted values are NaN or Inf", j.row.NonFinite, len(j.prob))
		return nil
	}
	t = time.Now()
	sc, err := scorer.Score(Pair{W: j.w, H: j.h, Prob: j.prob, Mask: j.mask, Alpha: j.alpha, Trimap: j.trimap}, st.cfg.Metrics)
	if err != nil {
		st.fail(j, "", err)
		return nil
	}
	j.row.MS.Metrics = ms(time.Since(t))
	j.row.Status = StatusOK
	j.row.Score = &sc
	if st.cfg.SaveOverlays {
		p, err := dataset.SampleFile(st.cfg.Out, OverlaysDir, j.s.ID, ".jpg")
		if err == nil {
			err = saveOverlay(st.write, p, j)
		}
		if err != nil {
			if isWriteError(err) {
				return fmt.Errorf("sample %s: overlay: %w", j.s.ID, err)
			}
			j.row.Reason = "overlay not written: " + err.Error()
		}
	}
	return nil
}

// isWriteError tells a failed write (the disk) from a failed encode.
func isWriteError(err error) bool {
	var we *dataset.WriteError
	return errors.As(err, &we)
}

var errEmptyDecode = errors.New("cannot decode")

// readMat reads and decodes an image through dec (size from the header
// first, truncated files refused, EXIF orientation applied).
func readMat(dec dataset.Decoder, path string, flags gocv.IMReadFlag) (gocv.Mat, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return gocv.Mat{}, err
	}
	m, err := dec.Decode(path, b, flags)
	if err != nil {
		if code := dataset.CodeOf(err, ""); code != dataset.CodeCorrupt && code != "" {
			return gocv.Mat{}, fmt.Errorf("%s: %w", code, err)
		}
		return gocv.Mat{}, fmt.Errorf("%s: %w", dataset.CodeCorrupt, errEmptyDecode)
	}
	return m, nil
}

// readPlane reads an 8-bit single-channel PNG into a plane.
func readPlane(dec dataset.Decoder, path string) ([]uint8, int, int, error) {
	m, err := readMat(dec, path, gocv.IMReadGrayScale)
	if err != nil {
		return nil, 0, 0, err
	}
	defer m.Close()
	return m.ToBytes(), m.Cols(), m.Rows(), nil
}
