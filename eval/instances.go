package eval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/coco"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/models"
)

// The instance path: an instance model (a spec whose output kind is
// instances) or a COCO results file is scored with COCOeval's box and mask
// AP/AR (package coco), and the union of its confident detections with the
// semantic metrics, so that one table compares Mask R-CNN with the U-Nets.
//
// Each image's row keeps an InstanceRecord: its ground-truth objects and
// its detections as compressed RLE. AP is not a sum over images, so
// Rebuild recomputes it from the records of the rows it is given; report
// merge of shards therefore gives the AP of the unsharded run exactly.

// GroupInstances is the group of the COCO metrics, reported by instance
// runs only.
const GroupInstances = "instances"

// DetectionsFile is the COCO results file eval --save-preds writes for an
// instance model.
const DetectionsFile = "detections.json"

// maskThreshold binarises a detection's probability plane, as
// torchvision's detection reference (coco_eval.py: masks > 0.5) does.
const maskThreshold = 0.5

// DefaultScoreThreshold is the score from which a detection counts in the
// union mask that the semantic metrics score.
const DefaultScoreThreshold = 0.5

// InstanceRecord is what an instance run keeps of one image: the image's
// COCO id (coco.ImageIDs over the unsharded selection), its ground-truth
// objects and its detections, enough to recompute COCOeval over any set
// of rows. Box and Mask are the image's greedy matches at IoU 0.5.
type InstanceRecord struct {
	ImageID int              `json:"image_id"`
	Truth   []InstanceObject `json:"truth"`
	Dets    []InstanceObject `json:"dets"`
	Box     MatchCounts      `json:"box"`
	Mask    MatchCounts      `json:"mask"`
}

// InstanceObject is a ground-truth object (Crowd) or a detection
// (Score); BBox is [x, y, w, h], Segmentation the mask as compressed RLE
// and Area what COCOeval's area ranges test (coco.Detection.Area).
type InstanceObject struct {
	Score        float64       `json:"score,omitempty"`
	BBox         [4]float64    `json:"bbox"`
	Area         float64       `json:"area,omitempty"`
	Crowd        bool          `json:"iscrowd,omitempty"`
	Segmentation *coco.FileRLE `json:"segmentation,omitempty"`
}

// MatchCounts are an image's matches at IoU 0.5 (area all, 100
// detections): matched detections, unmatched detections and unmatched
// objects (coco.Result.Matches).
type MatchCounts struct {
	TP int `json:"tp"`
	FP int `json:"fp"`
	FN int `json:"fn"`
}

// InstanceSummary is results.json's account of an instance run.
type InstanceSummary struct {
	// ScoreThreshold is the score from which a detection is in the union
	// mask the semantic metrics score.
	ScoreThreshold float64 `json:"score_threshold"`
	Images         int     `json:"images"`
	Objects        int     `json:"objects"`
	Detections     int     `json:"detections"`
	// Clipped counts the results file's detections that reached outside
	// their image and were clipped (a --preds file only).
	Clipped int `json:"clipped,omitempty"`
	// Box and Mask are the matches at IoU 0.5 summed over the images.
	Box  MatchCounts `json:"box"`
	Mask MatchCounts `json:"mask"`
	// PR holds the precision/recall curves the report plots.
	PR []PRCurve `json:"pr,omitempty"`
}

// PRCurve is COCOeval's precision at each recall threshold at one IoU
// threshold (area all, 100 detections); -1 precision is null.
type PRCurve struct {
	IoUType   string     `json:"iou_type"` // bbox or segm
	IoU       float64    `json:"iou"`
	Recall    []float64  `json:"recall"`
	Precision []*float64 `json:"precision"`
}

// PRIoUs are the IoU thresholds of the report's precision/recall plot.
func PRIoUs() []float64 { return []float64{0.5, 0.75} }

// IsInstanceRun reports whether cfg takes the instance path: an instance
// model, or a results file (a regular file, not a folder) as Preds.
func (c *Config) IsInstanceRun() bool {
	if c.Model != "" {
		return c.Spec.Kind == models.Instances
	}
	if c.Preds == "" {
		return false
	}
	st, err := os.Stat(c.Preds)
	return err == nil && st.Mode().IsRegular()
}

// instanceMetrics are the 24 COCO statistics, box then mask, each in
// pycocotools' summarize order.
func instanceMetrics() []Metric {
	defs := map[string]string{
		"ap":    "AP averaged over IoU .50:.05:.95, area all, 100 detections per image",
		"ap50":  "AP at IoU .50, area all, 100 detections",
		"ap75":  "AP at IoU .75, area all, 100 detections",
		"ap_s":  "AP .50:.95 for small objects (area < 32²), 100 detections",
		"ap_m":  "AP .50:.95 for medium objects (32² <= area < 96²), 100 detections",
		"ap_l":  "AP .50:.95 for large objects (area >= 96²), 100 detections",
		"ar1":   "AR (recall averaged over IoU .50:.95) with 1 detection per image, area all",
		"ar10":  "AR .50:.95 with 10 detections per image, area all",
		"ar100": "AR .50:.95 with 100 detections per image, area all",
		"ar_s":  "AR .50:.95 for small objects, 100 detections",
		"ar_m":  "AR .50:.95 for medium objects, 100 detections",
		"ar_l":  "AR .50:.95 for large objects, 100 detections",
	}
	const how = "; COCOeval (pycocotools cocoeval.py summarize; Lin et al., ECCV 2014): per image and category greedy matching by score, crowd regions ignored, precision interpolated at 101 recall points, mean over categories; null where no ground truth is in the range (pycocotools' -1)"
	var out []Metric
	for _, t := range []struct{ prefix, what string }{{"box_", "box IoU"}, {"mask_", "mask IoU (RLE masks)"}} {
		for _, n := range coco.StatNames {
			out = append(out, Metric{
				Name: t.prefix + n, Group: GroupInstances, Unit: unitFraction, HigherBetter: true,
				Definition: defs[n] + ", by " + t.what + how,
				PerImage:   func(*ImageScores) (float64, bool) { return 0, false },
			})
		}
	}
	return out
}

// instanceRun is the state of one instance run.
type instanceRun struct {
	cfg   *Config
	ids   map[string]int // COCO image ids of the unsharded selection
	pred  *models.InstancePredictor
	dets  map[int][]coco.Detection // from a results file, by image id
	clips int
}

// runInstances is Run's instance path, from the prepared run folder on.
func runInstances(ctx context.Context, cfg *Config, key runKey, ds *dataset.Dataset, samples []dataset.Sample, done []Row) (*Results, error) {
	selection, err := selectSamples(ds.Samples, cfg.Splits, cfg.Limit, Shard{})
	if err != nil {
		return nil, err
	}
	names := make([]string, len(selection))
	for i, s := range selection {
		names[i] = s.ID
	}
	ir := &instanceRun{cfg: cfg, ids: coco.ImageIDs(names)}
	var sess *models.Session
	if cfg.Model != "" {
		sess, err = models.Open(cfg.Model, cfg.Spec, cfg.Session)
		if err != nil {
			return nil, err
		}
		defer sess.Close()
		// A zero size: the spec's input size, else the image's own.
		ir.pred = models.NewInstancePredictor(sess, image.Point{})
	} else if err := ir.readResults(selection); err != nil {
		return nil, err
	}

	sc, err := openSchedule(cfg.Out, samples, done)
	if err != nil {
		return nil, err
	}
	defer sc.close()
	resumed, todo := sc.resumed, sc.todo
	emit := sc.emitter(cfg)

	caller := ctx
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := feed(ctx, todo)
	out := make(chan Row)
	var wg sync.WaitGroup
	for range cfg.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			scorer := NewScorer() // reuses its buffers image to image
			defer scorer.Close()
			for i := range next {
				out <- ir.score(samples[i], scorer) // collect drains out to the end
			}
		}()
	}
	go func() { wg.Wait(); close(out) }()
	start := time.Now()
	collect(caller, out, emit, cancel)
	wall := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return nil, err
	}
	all, err := sc.finish()
	if err != nil {
		return nil, err
	}
	res := &Results{Instances: &InstanceSummary{ScoreThreshold: cfg.scoreThreshold(), Clipped: ir.clips}}
	if err := res.fill(cfg, key, key.SamplesSHA256, &stages{cfg: cfg}, all, resumed, len(todo), wall); err != nil {
		return nil, err
	}
	if cfg.Model != "" {
		res.Model = &ModelRef{Path: cfg.Model, SHA256: key.ModelSHA256, Spec: cfg.Spec}
		rt, _ := models.InitRuntime()
		res.Environment.ONNXRuntime = rt.Version
		res.Environment.Device = cfg.Session.Device.String()
		res.Environment.Provider, res.Environment.Fallback, res.Environment.Threads = sess.Provider, sess.Fallback, sess.Threads
		res.Timing.SessionMS = ms(sess.Created)
		res.Timing.Inference = rowsInference(all) // as Rebuild, so report merge agrees
	}
	if cfg.SavePreds {
		b, err := DetectionsJSON(all)
		if err != nil {
			return nil, err
		}
		if err := dataset.WriteFileAtomic(filepath.Join(cfg.Out, DetectionsFile), b); err != nil {
			return nil, err
		}
	}
	return writeResults(cfg, res, all)
}

// scoreThreshold is ScoreThreshold, or its default when unset.
func (c *Config) scoreThreshold() float64 {
	if c.ScoreThreshold == 0 {
		return DefaultScoreThreshold
	}
	return c.ScoreThreshold
}

// readResults reads the results file against the COCO images of the
// unsharded selection (as segtool export --format coco numbers them),
// their sizes from the manifest, else from the ground truth's header.
func (ir *instanceRun) readResults(selection []dataset.Sample) error {
	images := make([]coco.Image, 0, len(selection))
	for _, s := range selection {
		if s.Width > 0 && s.Height > 0 {
			images = append(images, coco.Image{ID: ir.ids[s.ID], FileName: s.Image, Width: s.Width, Height: s.Height})
			continue
		}
		rel := s.Mask
		if rel == "" {
			rel = s.Alpha
		}
		if rel == "" {
			rel = s.Image
		}
		p := filepath.Join(ir.cfg.Dataset, rel)
		b, err := os.ReadFile(p)
		if err != nil {
			return fmt.Errorf("sample %s: %w", s.ID, err)
		}
		_, size, err := ir.cfg.decoder().CheckHeader(p, b)
		if err != nil {
			return fmt.Errorf("sample %s: %s: %w", s.ID, p, err)
		}
		images = append(images, coco.Image{ID: ir.ids[s.ID], FileName: s.Image, Width: size.X, Height: size.Y})
	}
	f, err := os.Open(ir.cfg.Preds)
	if err != nil {
		return &OptionError{Field: "Preds", Err: err}
	}
	defer f.Close()
	dets, clipped, err := coco.ReadResults(f, images, coco.Categories())
	if err != nil {
		// coco.ErrResults: the CLI exits 2 naming the problem.
		return fmt.Errorf("%s: %w", ir.cfg.Preds, err)
	}
	ir.clips = clipped
	ir.dets = map[int][]coco.Detection{}
	for _, d := range dets {
		ir.dets[d.ImageID] = append(ir.dets[d.ImageID], d)
	}
	return nil
}

// score makes one image's row: its detections, its ground-truth objects,
// their matches, and the semantic scores of the detections' union.
func (ir *instanceRun) score(s dataset.Sample, sc *Scorer) (row Row) {
	start := time.Now()
	row = Row{ID: s.ID, Split: s.Split}
	defer func() { row.MS.Total = ms(time.Since(start)) }() // a named result: set after any return
	fail := func(path string, err error) Row {
		row.Status, row.Path, row.Reason = StatusError, path, err.Error()
		return row
	}
	if s.Mask == "" && s.Alpha == "" {
		row.Status, row.Reason = StatusSkipped, "no ground truth (neither mask nor alpha)"
		return row
	}
	cfg := ir.cfg
	tr, path, err := readTruth(cfg, s)
	if err != nil {
		return fail(path, err)
	}
	w, h := tr.w, tr.h
	row.Width, row.Height = w, h
	row.MS.Decode = ms(time.Since(start))

	id := ir.ids[s.ID]
	rec := &InstanceRecord{ImageID: id, Truth: truthObjects(tr, w, h)}
	prob := make([]float32, w*h)
	thr := float32(cfg.scoreThreshold())
	if ir.pred != nil {
		p := filepath.Join(cfg.Dataset, s.Image)
		img, err := readMat(cfg.decoder(), p, gocv.IMReadColor)
		if err != nil {
			return fail(p, err)
		}
		if img.Cols() != w || img.Rows() != h {
			img.Close()
			return fail(p, fmt.Errorf("%s: image is %dx%d, ground truth %dx%d", dataset.CodeSizeMismatch, img.Cols(), img.Rows(), w, h))
		}
		t := time.Now()
		insts, err := ir.pred.Predict(img)
		img.Close()
		row.MS.Inference = ms(time.Since(t))
		if err != nil {
			return fail(p, fmt.Errorf("instance model: %w", err))
		}
		t = time.Now()
		bin := make([]uint8, w*h)
		person := cfg.Spec.Instance.Person()
		for k, in := range insts {
			if in.Label != person {
				continue // eval scores the person category alone
			}
			if len(in.Mask) != w*h {
				return fail(p, fmt.Errorf("detection %d: mask has %d values, want %dx%d", k, len(in.Mask), w, h))
			}
			if n := NonFinite(in.Mask); n > 0 || in.Score != in.Score {
				row.Status, row.NonFinite = StatusNonFinite, max(n, 1)
				row.Reason = fmt.Sprintf("detection %d has NaN or Inf values", k)
				return row
			}
			for i, v := range in.Mask {
				bin[i] = b2u(v > maskThreshold)
				if in.Score >= thr && v > prob[i] {
					prob[i] = min(max(v, 0), 1)
				}
			}
			seg := coco.Encode(bin, w, h).ToFile()
			b := in.Box
			box := [4]float64{b[0], b[1], b[2] - b[0], b[3] - b[1]}
			// detections.json has boxes, so pycocotools' loadRes gives
			// each its box's area in both IoU types.
			rec.Dets = append(rec.Dets, InstanceObject{
				Score: float64(in.Score), BBox: box, Area: box[2] * box[3],
				Segmentation: &seg,
			})
		}
		row.MS.Postprocess = ms(time.Since(t))
	} else {
		for _, d := range ir.dets[id] {
			o := InstanceObject{Score: d.Score, BBox: d.BBox, Area: d.Area}
			if d.Mask != nil {
				seg := d.Mask.ToFile()
				o.Segmentation = &seg
				if d.Score >= float64(thr) && d.Mask.H == h && d.Mask.W == w {
					for i, v := range d.Mask.Decode() {
						if v != 0 {
							prob[i] = 1
						}
					}
				}
			}
			rec.Dets = append(rec.Dets, o)
		}
	}

	t := time.Now()
	if err := rec.match(w, h); err != nil {
		return fail("", err)
	}
	sco, err := sc.Score(Pair{W: w, H: h, Prob: prob, Mask: tr.mask, Alpha: tr.alpha, Trimap: tr.trimap}, cfg.Metrics)
	if err != nil {
		return fail("", err)
	}
	row.MS.Metrics = ms(time.Since(t))
	row.Status, row.Score, row.Instances = StatusOK, &sco, rec
	return row
}

// truth is one image's ground-truth planes.
type truth struct {
	w, h                           int
	mask, alpha, trimap, instances []uint8
}

// readTruth reads the sample's mask (alpha >= 128 when it has none),
// alpha and trimap (when the matting metrics are computed) and instance
// ids; path is the file an error is about.
func readTruth(cfg *Config, s dataset.Sample) (truth, string, error) {
	var tr truth
	planes := []struct {
		rel string
		dst *[]uint8
	}{{s.Mask, &tr.mask}, {s.Alpha, &tr.alpha}, {s.Trimap, &tr.trimap}, {s.Instances, &tr.instances}}
	if !cfg.Metrics.Computes(GroupMatting) {
		if s.Mask != "" {
			planes[1].rel = ""
		}
		planes[2].rel = ""
	}
	for _, pl := range planes {
		if pl.rel == "" {
			continue
		}
		p := filepath.Join(cfg.Dataset, pl.rel)
		v, w, h, err := readPlane(cfg.decoder(), p)
		if err != nil {
			return tr, p, err
		}
		if tr.w == 0 {
			tr.w, tr.h = w, h
		}
		if w != tr.w || h != tr.h {
			return tr, p, fmt.Errorf("%s: %dx%d, but the ground truth is %dx%d", dataset.CodeSizeMismatch, w, h, tr.w, tr.h)
		}
		*pl.dst = v
	}
	if tr.mask == nil {
		tr.mask = make([]uint8, len(tr.alpha))
		for i, a := range tr.alpha {
			if a >= 128 {
				tr.mask[i] = 255
			}
		}
	}
	return tr, "", nil
}

// truthObjects are the image's ground-truth objects: one per instance id
// of the instances plane (0 is background), in id order, or the person
// mask as one object for a sample without instances (as export does). An
// empty mask has no object.
func truthObjects(tr truth, w, h int) []InstanceObject {
	var rs []coco.RLE
	if tr.instances != nil {
		rs = coco.InstanceMasks(tr.instances, w, h)
	} else {
		pl := make([]uint8, w*h)
		any := false
		for i, v := range tr.mask {
			pl[i] = b2u(v >= 128)
			any = any || v >= 128
		}
		if any {
			rs = append(rs, coco.Encode(pl, w, h))
		}
	}
	out := make([]InstanceObject, len(rs))
	for i, r := range rs {
		seg := r.ToFile()
		out[i] = InstanceObject{BBox: r.BBox(), Area: float64(r.Area()), Segmentation: &seg}
	}
	return out
}

// match fills the record's matches at IoU 0.5 by evaluating its image
// alone: COCOeval matches each image on its own.
func (rec *InstanceRecord) match(w, h int) error {
	images, gts, dets, err := cocoInputs([]*InstanceRecord{rec}, []image.Point{{w, h}})
	if err != nil {
		return err
	}
	for _, t := range []struct {
		iou coco.IoUType
		dst *MatchCounts
	}{{coco.BoxIoU, &rec.Box}, {coco.MaskIoU, &rec.Mask}} {
		r, err := coco.Evaluate(images, gts, dets, t.iou, coco.DefaultParams())
		if err != nil {
			return fmt.Errorf("%s matches: %w", t.iou, err)
		}
		for _, m := range r.Matches(0.5) {
			*t.dst = MatchCounts{TP: m.TP, FP: m.FP, FN: m.FN}
		}
	}
	return nil
}

// cocoInputs turns records (and their images' sizes) into COCOeval's
// inputs, the records in the order given.
func cocoInputs(recs []*InstanceRecord, sizes []image.Point) ([]coco.Image, []coco.Annotation, []coco.Detection, error) {
	var images []coco.Image
	var gts []coco.Annotation
	var dets []coco.Detection
	for i, rec := range recs {
		images = append(images, coco.Image{ID: rec.ImageID, Width: sizes[i].X, Height: sizes[i].Y})
		for _, o := range rec.Truth {
			m, err := o.mask()
			if err != nil {
				return nil, nil, nil, fmt.Errorf("image %d: ground truth: %w", rec.ImageID, err)
			}
			gts = append(gts, coco.Annotation{ID: len(gts) + 1, ImageID: rec.ImageID, CategoryID: coco.PersonID,
				BBox: o.BBox, Area: o.Area, IsCrowd: o.Crowd, Mask: m})
		}
		for _, o := range rec.Dets {
			m, err := o.mask()
			if err != nil {
				return nil, nil, nil, fmt.Errorf("image %d: detection: %w", rec.ImageID, err)
			}
			dets = append(dets, coco.Detection{ImageID: rec.ImageID, CategoryID: coco.PersonID, Score: o.Score, BBox: o.BBox, Mask: m, Area: o.Area})
		}
	}
	return images, gts, dets, nil
}

// mask decodes the object's compressed RLE; nil when it has none.
func (o InstanceObject) mask() (*coco.RLE, error) {
	if o.Segmentation == nil {
		return nil, nil
	}
	r, err := o.Segmentation.RLE()
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// instanceResults computes the COCO metrics over the scored rows'
// records, in the order given (a run's selection order, so shards merged
// back into that order give the unsharded figures exactly), and refills
// sum.
func instanceResults(rows []Row, sum *InstanceSummary) ([]MetricSummary, error) {
	var recs []*InstanceRecord
	var sizes []image.Point
	for i := range rows {
		if rows[i].Status == StatusOK && rows[i].Instances != nil {
			recs = append(recs, rows[i].Instances)
			sizes = append(sizes, image.Pt(rows[i].Width, rows[i].Height))
		}
	}
	images, gts, dets, err := cocoInputs(recs, sizes)
	if err != nil {
		return nil, err
	}
	*sum = InstanceSummary{ScoreThreshold: sum.ScoreThreshold, Clipped: sum.Clipped, Images: len(images), Objects: len(gts), Detections: len(dets)}
	for _, r := range recs {
		sum.Box.add(r.Box)
		sum.Mask.add(r.Mask)
	}
	ms := instanceMetrics()
	var out []MetricSummary
	for k, t := range []coco.IoUType{coco.BoxIoU, coco.MaskIoU} {
		res, err := coco.Evaluate(images, gts, dets, t, coco.DefaultParams())
		if err != nil {
			return nil, fmt.Errorf("COCOeval %s: %w", t, err)
		}
		for i, v := range res.Stats {
			m := ms[k*len(coco.StatNames)+i]
			s := MetricSummary{Name: m.Name, Group: m.Group, Definition: m.Definition, Unit: m.Unit, HigherBetter: m.HigherBetter}
			if v >= 0 { // -1: no ground truth in the range
				s.Accumulated = &v
			}
			out = append(out, s)
		}
		for _, thr := range PRIoUs() {
			rec, prec := res.PR(thr)
			c := PRCurve{IoUType: string(t), IoU: thr, Recall: rec}
			for _, p := range prec {
				if p < 0 {
					c.Precision = append(c.Precision, nil)
				} else {
					c.Precision = append(c.Precision, &p)
				}
			}
			sum.PR = append(sum.PR, c)
		}
	}
	return out, nil
}

func (m *MatchCounts) add(o MatchCounts) { m.TP += o.TP; m.FP += o.FP; m.FN += o.FN }

// DetectionsJSON is the rows' detections as a COCO results file, in row
// order: image_id, category_id, score, bbox [x, y, w, h] and segmentation
// as compressed RLE, as pycocotools' loadRes reads it.
func DetectionsJSON(rows []Row) ([]byte, error) {
	out := []coco.ResultEntry{}
	for _, r := range rows {
		if r.Instances == nil {
			continue
		}
		for _, d := range r.Instances.Dets {
			out = append(out, coco.ResultEntry{ImageID: r.Instances.ImageID, CategoryID: coco.PersonID, Score: d.Score, BBox: d.BBox, Segmentation: d.Segmentation})
		}
	}
	return coco.MarshalResults(out)
}

// rebuildInstances appends the COCO metrics to res.Metrics and refills
// res.Instances, for a run whose rows hold instance records.
func rebuildInstances(res *Results, rows []Row) error {
	if res.Instances == nil && hasRecords(rows) {
		res.Instances = &InstanceSummary{ScoreThreshold: DefaultScoreThreshold}
	}
	if res.Instances == nil {
		return nil
	}
	ms, err := instanceResults(rows, res.Instances)
	if err != nil {
		return err
	}
	res.Metrics = append(res.Metrics, ms...)
	return nil
}

// MarshalJSON writes a COCO statistic that pycocotools gives as -1 with
// "accumulated": null, so that it reads as no value, never as a number;
// every other summary is written as it is.
func (m MetricSummary) MarshalJSON() ([]byte, error) {
	type plain MetricSummary
	if m.Group != GroupInstances || m.Accumulated != nil {
		return json.Marshal(plain(m))
	}
	return json.Marshal(struct {
		plain
		Accumulated *float64 `json:"accumulated"`
	}{plain(m), nil})
}

// validateInstances refuses what the instance path does not do: it runs
// the model image by image at the spec's size (or the image's), with no
// tiles, letterbox or overlays.
func (c *Config) validateInstances() error {
	const why = "an instance model or results file is scored image by image, without it"
	switch {
	case c.Batch > 1:
		return &OptionError{Field: "Batch", Err: errors.New(why)}
	case c.Tile != (image.Point{}):
		return &OptionError{Field: "Tile", Err: errors.New(why)}
	case c.Fit == models.FitLetterbox:
		return &OptionError{Field: "Fit", Err: errors.New(why)}
	case c.SaveOverlays:
		return &OptionError{Field: "SaveOverlays", Err: errors.New(why)}
	}
	if c.Model != "" {
		return c.Session.Check()
	}
	return nil
}

// hasRecords reports whether any row has an instance record.
func hasRecords(rows []Row) bool {
	for i := range rows {
		if rows[i].Instances != nil {
			return true
		}
	}
	return false
}

// matchColumns are per_image.csv's columns of an instance run: the
// image's matches at IoU 0.5.
func matchColumns() []string {
	return []string{"box_tp", "box_fp", "box_fn", "mask_tp", "mask_fp", "mask_fn"}
}

// matchCells are r's values of matchColumns, empty without a record.
func matchCells(r Row) []string {
	in := r.Instances
	if in == nil {
		return make([]string, len(matchColumns()))
	}
	var out []string
	for _, m := range []MatchCounts{in.Box, in.Mask} {
		out = append(out, strconv.Itoa(m.TP), strconv.Itoa(m.FP), strconv.Itoa(m.FN))
	}
	return out
}
