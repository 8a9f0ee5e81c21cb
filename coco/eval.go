package coco

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// IoUType says what Evaluate overlaps: boxes or masks.
type IoUType string

// The IoU types, named as pycocotools names them.
const (
	BoxIoU  IoUType = "bbox"
	MaskIoU IoUType = "segm"
)

// StatNames are the 12 summary statistics in pycocotools' summarize order.
var StatNames = [12]string{"ap", "ap50", "ap75", "ap_s", "ap_m", "ap_l", "ar1", "ar10", "ar100", "ar_s", "ar_m", "ar_l"}

// Params are COCOeval's parameters.
type Params struct {
	IoUThrs  []float64    // .50:.05:.95
	RecThrs  []float64    // 0:.01:1, 101 points
	MaxDets  []int        // 1, 10, 100
	AreaRngs [][2]float64 // all, small, medium, large
	AreaLbls []string
}

// DefaultParams are COCOeval's defaults for instance segmentation and
// detection (cocoeval.py Params.setDetParams), the thresholds computed as
// numpy's linspace computes them so that they compare equal.
func DefaultParams() Params {
	return Params{
		IoUThrs:  linspace(.5, .95, 10),
		RecThrs:  linspace(0, 1, 101),
		MaxDets:  []int{1, 10, 100},
		AreaRngs: [][2]float64{{0, 1e10}, {0, 32 * 32}, {32 * 32, 96 * 96}, {96 * 96, 1e10}},
		AreaLbls: []string{"all", "small", "medium", "large"},
	}
}

// linspace is numpy.linspace with endpoint: start + i·step, the last
// value exactly stop. The float64 conversions forbid fused multiply-adds.
func linspace(start, stop float64, n int) []float64 {
	step := (stop - start) / float64(n-1)
	out := make([]float64, n)
	for i := range out {
		out[i] = float64(float64(i)*step) + start
	}
	out[n-1] = stop
	return out
}

// ErrEvaluate marks inputs Evaluate cannot score.
var ErrEvaluate = errors.New("coco: cannot evaluate")

// Result is one evaluation's outcome.
type Result struct {
	// Stats in StatNames order; -1 where pycocotools gives -1 (no ground
	// truth in that range).
	Stats [12]float64

	p      Params
	imgIDs []int
	nCat   int
	// precision[t][r][k][a][m] and recall[t][k][a][m], flattened; -1
	// where undefined (cocoeval.py accumulate).
	precision, recall []float64
	// evalImgs[(k·A + a)·I + i], nil where the image has neither ground
	// truth nor detections of category k.
	evalImgs []*imageEval
}

// imageEval is cocoeval.py evaluateImg's record for one image, category
// and area range: detections in score order (at most the largest maxDets)
// and ground truth with the ignored ones last.
type imageEval struct {
	dtScores []float64
	dtMatch  [][]bool // [t][d]: matched a ground truth
	dtIgnore [][]bool // [t][d]
	gtIgnore []bool
	gtMatch  [][]bool // [t][g]
}

// Evaluate scores dets against gts over images as COCOeval does for t:
// per image and category, detections sorted by score (stable, as numpy's
// mergesort) are greedily matched to the unmatched ground truth of highest
// IoU ≥ each threshold, non-ignored ground truth before ignored; crowd
// ground truth can match many detections, which are then ignored, as are
// unmatched detections outside the area range. Precision is made monotone
// and read at each recall threshold (101-point interpolation). Ground
// truth area is Annotation.Area; a detection's is its box's w·h for boxes
// and its mask's pixel count for masks, as pycocotools' loadRes sets them
// for a results file with only bbox, or only segmentation, respectively.
// Categories are those of gts and dets: a category without ground truth
// yields -1 entries that every statistic leaves out, as in pycocotools.
func Evaluate(images []Image, gts []Annotation, dets []Detection, t IoUType, p Params) (*Result, error) {
	if t != BoxIoU && t != MaskIoU {
		return nil, fmt.Errorf("%w: IoU type %q, want %q or %q", ErrEvaluate, t, BoxIoU, MaskIoU)
	}
	if len(p.IoUThrs) == 0 || len(p.RecThrs) == 0 || len(p.MaxDets) == 0 || len(p.AreaRngs) == 0 || len(p.AreaLbls) != len(p.AreaRngs) {
		return nil, fmt.Errorf("%w: incomplete parameters", ErrEvaluate)
	}
	imgIndex := map[int]int{}
	r := &Result{p: p}
	for _, im := range images {
		if _, dup := imgIndex[im.ID]; dup {
			return nil, fmt.Errorf("%w: image id %d appears twice", ErrEvaluate, im.ID)
		}
		imgIndex[im.ID] = 0
		r.imgIDs = append(r.imgIDs, im.ID)
	}
	slices.Sort(r.imgIDs)
	for i, id := range r.imgIDs {
		imgIndex[id] = i
	}
	catSet := map[int]bool{}
	type key struct{ img, cat int }
	gtBy := map[key][]int{}
	dtBy := map[key][]int{}
	for i, g := range gts {
		if _, ok := imgIndex[g.ImageID]; !ok {
			return nil, fmt.Errorf("%w: ground truth %d refers to image %d, not in the image list", ErrEvaluate, g.ID, g.ImageID)
		}
		if t == MaskIoU && g.Mask == nil {
			return nil, fmt.Errorf("%w: ground truth %d has no mask", ErrEvaluate, g.ID)
		}
		catSet[g.CategoryID] = true
		k := key{g.ImageID, g.CategoryID}
		gtBy[k] = append(gtBy[k], i)
	}
	for i, d := range dets {
		if _, ok := imgIndex[d.ImageID]; !ok {
			return nil, fmt.Errorf("%w: detection %d refers to image %d, not in the image list", ErrEvaluate, i, d.ImageID)
		}
		if t == MaskIoU && d.Mask == nil {
			return nil, fmt.Errorf("%w: detection %d has no mask", ErrEvaluate, i)
		}
		if math.IsNaN(d.Score) {
			return nil, fmt.Errorf("%w: detection %d has a NaN score", ErrEvaluate, i)
		}
		catSet[d.CategoryID] = true
		k := key{d.ImageID, d.CategoryID}
		dtBy[k] = append(dtBy[k], i)
	}
	cats := make([]int, 0, len(catSet))
	for c := range catSet {
		cats = append(cats, c)
	}
	slices.Sort(cats)
	r.nCat = len(cats)
	nA, nI := len(p.AreaRngs), len(r.imgIDs)
	r.evalImgs = make([]*imageEval, len(cats)*nA*nI)
	maxDet := p.MaxDets[len(p.MaxDets)-1]
	for k, cat := range cats {
		for i, img := range r.imgIDs {
			gi, di := gtBy[key{img, cat}], dtBy[key{img, cat}]
			if len(gi) == 0 && len(di) == 0 {
				continue
			}
			g := make([]*Annotation, len(gi))
			for j, x := range gi {
				g[j] = &gts[x]
			}
			d := make([]*Detection, len(di))
			for j, x := range di {
				d[j] = &dets[x]
			}
			sort.SliceStable(d, func(a, b int) bool { return d[a].Score > d[b].Score })
			if len(d) > maxDet {
				d = d[:maxDet]
			}
			ious := overlaps(d, g, t)
			for a := range p.AreaRngs {
				r.evalImgs[(k*nA+a)*nI+i] = evaluateImg(d, g, ious, t, p.AreaRngs[a], p.IoUThrs)
			}
		}
	}
	r.accumulate()
	r.summarize()
	return r, nil
}

// overlaps is ious[d][g] (cocoeval.py computeIoU).
func overlaps(d []*Detection, g []*Annotation, t IoUType) [][]float64 {
	ious := make([][]float64, len(d))
	for i, dt := range d {
		ious[i] = make([]float64, len(g))
		for j, gt := range g {
			if t == BoxIoU {
				ious[i][j] = BBoxIoU(dt.BBox, gt.BBox, gt.IsCrowd)
			} else {
				ious[i][j] = IoU(*dt.Mask, *gt.Mask, gt.IsCrowd)
			}
		}
	}
	return ious
}

// evaluateImg matches one image's detections d (score order) to its
// ground truth g for one area range (cocoeval.py evaluateImg). pycocotools
// records matched ids and tests them against 0; booleans say the same as
// long as ids are non-zero, which loadRes's 1-based ids and exported
// files' ids are.
func evaluateImg(d []*Detection, g []*Annotation, ious [][]float64, t IoUType, rng [2]float64, thrs []float64) *imageEval {
	ignored := func(a *Annotation) bool { return a.IsCrowd || a.Area < rng[0] || a.Area > rng[1] }
	order := make([]int, len(g))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return !ignored(g[order[a]]) && ignored(g[order[b]]) })
	e := &imageEval{gtIgnore: make([]bool, len(g)), dtScores: make([]float64, len(d))}
	crowd := make([]bool, len(g))
	for j, o := range order {
		e.gtIgnore[j] = ignored(g[o])
		crowd[j] = g[o].IsCrowd
	}
	for i, dt := range d {
		e.dtScores[i] = dt.Score
	}
	e.dtMatch = make([][]bool, len(thrs))
	e.dtIgnore = make([][]bool, len(thrs))
	e.gtMatch = make([][]bool, len(thrs))
	for ti, thr := range thrs {
		dm, di, gm := make([]bool, len(d)), make([]bool, len(d)), make([]bool, len(g))
		for i := range d {
			best := min(thr, 1-1e-10)
			m := -1
			for j, o := range order {
				if gm[j] && !crowd[j] {
					continue
				}
				if m > -1 && !e.gtIgnore[m] && e.gtIgnore[j] {
					break
				}
				if ious[i][o] < best {
					continue
				}
				best, m = ious[i][o], j
			}
			if m == -1 {
				continue
			}
			di[i], dm[i], gm[m] = e.gtIgnore[m], true, true
		}
		for i, dt := range d {
			area := dt.BBox[2] * dt.BBox[3]
			switch {
			case dt.Area > 0:
				area = dt.Area
			case t == MaskIoU:
				area = float64(dt.Mask.Area())
			}
			if !dm[i] && (area < rng[0] || area > rng[1]) {
				di[i] = true
			}
		}
		e.dtMatch[ti], e.dtIgnore[ti], e.gtMatch[ti] = dm, di, gm
	}
	return e
}

// accumulate is cocoeval.py accumulate: for each category, area range and
// maxDets, the detections of all images (in image id order, each cut to
// maxDets) sorted by score, stable; cumulative true and false positives;
// recall tp/npig and precision tp/(tp+fp+eps) made non-increasing from the
// right and read at the first detection whose recall reaches each recall
// threshold (numpy searchsorted, side left), 0 past the last.
func (r *Result) accumulate() {
	p := r.p
	nT, nR, nK, nA, nM, nI := len(p.IoUThrs), len(p.RecThrs), r.nCat, len(p.AreaRngs), len(p.MaxDets), len(r.imgIDs)
	r.precision = make([]float64, nT*nR*nK*nA*nM)
	r.recall = make([]float64, nT*nK*nA*nM)
	for i := range r.precision {
		r.precision[i] = -1
	}
	for i := range r.recall {
		r.recall[i] = -1
	}
	eps := math.Nextafter(1, 2) - 1 // np.spacing(1)
	type det struct {
		score float64
		e     *imageEval
		d     int
	}
	for k := 0; k < nK; k++ {
		for a := 0; a < nA; a++ {
			for m, maxDet := range p.MaxDets {
				var ds []det
				npig, seen := 0, false
				for i := 0; i < nI; i++ {
					e := r.evalImgs[(k*nA+a)*nI+i]
					if e == nil {
						continue
					}
					seen = true
					for d := 0; d < len(e.dtScores) && d < maxDet; d++ {
						ds = append(ds, det{e.dtScores[d], e, d})
					}
					for _, ig := range e.gtIgnore {
						if !ig {
							npig++
						}
					}
				}
				if !seen || npig == 0 {
					continue
				}
				sort.SliceStable(ds, func(x, y int) bool { return ds[x].score > ds[y].score })
				for t := 0; t < nT; t++ {
					var tp, fp float64
					rc := make([]float64, 0, len(ds))
					pr := make([]float64, 0, len(ds))
					for _, x := range ds {
						if x.e.dtIgnore[t][x.d] {
							// neither a true nor a false positive
						} else if x.e.dtMatch[t][x.d] {
							tp++
						} else {
							fp++
						}
						rc = append(rc, tp/float64(npig))
						pr = append(pr, tp/(fp+tp+eps))
					}
					rec := 0.0
					if len(rc) > 0 {
						rec = rc[len(rc)-1]
					}
					r.recall[((t*nK+k)*nA+a)*nM+m] = rec
					for i := len(pr) - 1; i > 0; i-- {
						if pr[i] > pr[i-1] {
							pr[i-1] = pr[i]
						}
					}
					for ri, thr := range p.RecThrs {
						q := 0.0
						if pi := sort.SearchFloat64s(rc, thr); pi < len(pr) {
							q = pr[pi]
						}
						r.precision[(((t*nR+ri)*nK+k)*nA+a)*nM+m] = q
					}
				}
			}
		}
	}
}

// summarize is cocoeval.py summarize for detections: the mean of the
// defined (> -1) precisions or recalls at an IoU threshold (or all), an
// area range and a maxDets; -1 where none is defined.
func (r *Result) summarize() {
	p := r.p
	area := func(lbl string) int { return slices.Index(p.AreaLbls, lbl) }
	top := p.MaxDets[len(p.MaxDets)-1]
	dets := func(n int) int { return slices.Index(p.MaxDets, n) }
	stat := func(ap bool, iouThr float64, a, m int) float64 {
		if a < 0 || m < 0 {
			return -1
		}
		nT, nR, nK, nA, nM := len(p.IoUThrs), len(p.RecThrs), r.nCat, len(p.AreaRngs), len(p.MaxDets)
		var sum float64
		n := 0
		for t := 0; t < nT; t++ {
			// numpy's np.where(iouThr == p.iouThrs): exact equality
			if !math.IsNaN(iouThr) && p.IoUThrs[t] != iouThr {
				continue
			}
			for k := 0; k < nK; k++ {
				if ap {
					for ri := 0; ri < nR; ri++ {
						if v := r.precision[(((t*nR+ri)*nK+k)*nA+a)*nM+m]; v > -1 {
							sum += v
							n++
						}
					}
				} else if v := r.recall[((t*nK+k)*nA+a)*nM+m]; v > -1 {
					sum += v
					n++
				}
			}
		}
		if n == 0 {
			return -1
		}
		return sum / float64(n)
	}
	all := math.NaN()
	r.Stats = [12]float64{
		stat(true, all, area("all"), dets(top)),
		stat(true, .5, area("all"), dets(top)),
		stat(true, .75, area("all"), dets(top)),
		stat(true, all, area("small"), dets(top)),
		stat(true, all, area("medium"), dets(top)),
		stat(true, all, area("large"), dets(top)),
		stat(false, all, area("all"), dets(1)),
		stat(false, all, area("all"), dets(10)),
		stat(false, all, area("all"), dets(top)),
		stat(false, all, area("small"), dets(top)),
		stat(false, all, area("medium"), dets(top)),
		stat(false, all, area("large"), dets(top)),
	}
}

// iouIndex finds iouThr among the thresholds (to 1e-9), or -1.
func (r *Result) iouIndex(iouThr float64) int {
	for t, v := range r.p.IoUThrs {
		if math.Abs(v-iouThr) < 1e-9 {
			return t
		}
	}
	return -1
}

// PR is the precision at each of Params.RecThrs at one IoU threshold
// (area all, the largest maxDets, averaged over the categories where it is
// defined); -1 where undefined. Both are nil for a threshold not evaluated.
func (r *Result) PR(iouThr float64) (recall, precision []float64) {
	t, a := r.iouIndex(iouThr), slices.Index(r.p.AreaLbls, "all")
	if t < 0 || a < 0 {
		return nil, nil
	}
	p := r.p
	nR, nK, nA, nM := len(p.RecThrs), r.nCat, len(p.AreaRngs), len(p.MaxDets)
	recall = slices.Clone(p.RecThrs)
	precision = make([]float64, nR)
	for ri := range precision {
		var sum float64
		n := 0
		for k := 0; k < nK; k++ {
			if v := r.precision[(((t*nR+ri)*nK+k)*nA+a)*nM+nM-1]; v > -1 {
				sum += v
				n++
			}
		}
		precision[ri] = -1
		if n > 0 {
			precision[ri] = sum / float64(n)
		}
	}
	return recall, precision
}

// ImageMatches is one image's greedy matches at one IoU threshold (area
// all, the largest maxDets), crowd and ignored objects left out.
type ImageMatches struct {
	ImageID    int
	TP, FP, FN int
}

// Matches returns every image's matches at iouThr, in image id order,
// summed over categories; nil for a threshold not evaluated.
func (r *Result) Matches(iouThr float64) []ImageMatches {
	t, a := r.iouIndex(iouThr), slices.Index(r.p.AreaLbls, "all")
	if t < 0 || a < 0 {
		return nil
	}
	nA, nI := len(r.p.AreaRngs), len(r.imgIDs)
	out := make([]ImageMatches, nI)
	for i, id := range r.imgIDs {
		out[i].ImageID = id
		for k := 0; k < r.nCat; k++ {
			e := r.evalImgs[(k*nA+a)*nI+i]
			if e == nil {
				continue
			}
			for d := range e.dtScores {
				switch {
				case e.dtIgnore[t][d]:
				case e.dtMatch[t][d]:
					out[i].TP++
				default:
					out[i].FP++
				}
			}
			for g, ig := range e.gtIgnore {
				if !ig && !e.gtMatch[t][g] {
					out[i].FN++
				}
			}
		}
	}
	return out
}
