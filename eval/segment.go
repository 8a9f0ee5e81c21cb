package eval

// Segmentation metrics on the binarised prediction. All are ratios of
// confusion counts, so the same functions serve one image (per-image
// values) and dataset totals (accumulated values, as MMSegmentation's
// IoUMetric sums intersections and unions over the dataset before
// dividing). Each 0/0 case has a documented value instead of NaN.

// ratio returns num/den, or empty when den is 0.
func ratio(num, den int64, empty float64) float64 {
	if den == 0 {
		return empty
	}
	return float64(num) / float64(den)
}

// iouFG is TP / (TP+FP+FN); two empty masks score 1.
func iouFG(tp, fp, fn int64) float64 { return ratio(tp, tp+fp+fn, 1) }

// iouBG is the background class IoU TN / (TN+FP+FN); two full masks score 1.
func iouBG(tn, fp, fn int64) float64 { return ratio(tn, tn+fp+fn, 1) }

// mIoU is the mean of the background and person IoUs.
func mIoU(tp, fp, fn, tn int64) float64 { return (iouFG(tp, fp, fn) + iouBG(tn, fp, fn)) / 2 }

// dice is 2TP / (2TP+FP+FN); 0/0 (both masks empty) scores 1. F1 is the
// same number for binary masks (2PR/(P+R) reduces to it, including under
// the precision and recall conventions below), so the registry computes
// F1 with this formula to keep the two bit-identical.
func dice(tp, fp, fn int64) float64 { return ratio(2*tp, 2*tp+fp+fn, 1) }

// accuracy is (TP+TN) / all pixels.
func accuracy(tp, fp, fn, tn int64) float64 { return ratio(tp+tn, tp+fp+fn+tn, 1) }

// precision is TP / (TP+FP). With no predicted person pixels it is 1 when
// the mask is empty too (nothing to find, nothing claimed) and 0 otherwise.
func precision(tp, fp, fn int64) float64 { return hitShare(tp, fp, fn) }

// recall is TP / (TP+FN). With an empty mask it is 1 when nothing was
// predicted either and 0 otherwise.
func recall(tp, fp, fn int64) float64 { return hitShare(tp, fn, fp) }

// hitShare is tp / (tp+wrong); with tp+wrong = 0 it is 1 when other is 0
// too and 0 otherwise. Precision and recall are it with FP and FN swapped.
func hitShare(tp, wrong, other int64) float64 {
	if tp+wrong == 0 {
		if other == 0 {
			return 1
		}
		return 0
	}
	return float64(tp) / float64(tp+wrong)
}

// sweeper counts, per sweep threshold t, the pixels with p > t split by
// ground truth, through a histogram of "how many thresholds lie below p"
// (filled by Scorer.pixelPass).
type sweeper struct {
	ts   []float64
	lut  [1025]uint16 // thresholds below k/1024: a lower bound for p in [k/1024, (k+1)/1024)
	hist []int64      // by (thresholds below p) << 1 | person
}

func newSweeper(ts []float64) *sweeper {
	s := &sweeper{ts: ts, hist: make([]int64, 2*(len(ts)+1))}
	for k := range s.lut {
		c := 0
		for c < len(ts) && ts[c] < float64(k)/1024 {
			c++
		}
		s.lut[k] = uint16(c)
	}
	return s
}

func (s *sweeper) counts() []SweepCounts {
	if len(s.ts) == 0 {
		return nil
	}
	var totalFG int64
	for c := range len(s.ts) + 1 {
		totalFG += s.hist[c<<1|1]
	}
	out := make([]SweepCounts, len(s.ts))
	// p > ts[k] exactly when more than k thresholds lie below p.
	var tp, fp int64
	for k := len(s.ts) - 1; k >= 0; k-- {
		tp += s.hist[(k+1)<<1|1]
		fp += s.hist[(k+1)<<1]
		out[k] = SweepCounts{Threshold: s.ts[k], TP: tp, FP: fp, FN: totalFG - tp}
	}
	return out
}
