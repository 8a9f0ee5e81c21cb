package eval

import (
	"fmt"
	"slices"
)

// Totals are the ImageScores counts and sums added over a dataset.
type Totals struct {
	Images int   `json:"images"`
	Pixels int64 `json:"pixels"`
	TP     int64 `json:"tp"`
	FP     int64 `json:"fp"`
	FN     int64 `json:"fn"`
	TN     int64 `json:"tn"`
	// Sweep sums the per-threshold counts.
	Sweep    []SweepCounts  `json:"sweep,omitempty"`
	Boundary BoundaryCounts `json:"boundary"`
	Matting  MattingSums    `json:"matting"`
	// UnknownImages counts the images with a trimap, whose unknown-region
	// sums are in Unknown.
	UnknownImages int         `json:"unknown_images"`
	Unknown       MattingSums `json:"unknown"`
}

// Aggregate is the dataset result: per metric its accumulated value and
// the mean of its per-image values, and the threshold sweep.
type Aggregate struct {
	Images  int             `json:"images"`
	Metrics []MetricSummary `json:"metrics"`
	Sweep   []SweepPoint    `json:"sweep,omitempty"`
	Totals  Totals          `json:"totals"`
}

// MetricSummary is one metric over the dataset. Accumulated (from Totals)
// and Mean (of per-image values) are different numbers and are reported
// under different keys; each is absent where it does not exist.
type MetricSummary struct {
	Name         string `json:"name"`
	Group        string `json:"group"`
	Definition   string `json:"definition"`
	Unit         string `json:"unit"`
	HigherBetter bool   `json:"higher_better"`
	// Accumulated is the value from the summed counts (nil for metrics that
	// are only means, or when undefined).
	Accumulated *float64 `json:"accumulated,omitempty"`
	// Mean is the mean of the per-image values over the MeanImages images
	// where the metric is defined (nil when there are none).
	Mean       *float64 `json:"mean,omitempty"`
	MeanImages int      `json:"mean_images"`
}

// SweepPoint is the Dice and IoU at one threshold: from the summed counts
// (accumulated) and as the mean of per-image values, with the same 0/0
// conventions as the dice and iou metrics.
type SweepPoint struct {
	Threshold       float64 `json:"threshold"`
	TP              int64   `json:"tp"`
	FP              int64   `json:"fp"`
	FN              int64   `json:"fn"`
	IoUAccumulated  float64 `json:"iou_accumulated"`
	DiceAccumulated float64 `json:"dice_accumulated"`
	IoUMean         float64 `json:"iou_mean"`
	DiceMean        float64 `json:"dice_mean"`
}

// Aggregator adds Images one at a time. The result depends on the order of
// the additions only through float rounding, so callers add in a fixed
// order (sorted by sample id) to get identical results run to run.
type Aggregator struct {
	metrics   []Metric
	totals    Totals
	sums      []float64
	counts    []int
	sweepIoU  []float64
	sweepDice []float64
}

// NewAggregator returns an Aggregator reporting metrics (in that order).
func NewAggregator(metrics []Metric) *Aggregator {
	return &Aggregator{
		metrics: slices.Clone(metrics),
		sums:    make([]float64, len(metrics)),
		counts:  make([]int, len(metrics)),
	}
}

// Add adds one image. All images must share the sweep thresholds.
func (a *Aggregator) Add(im *ImageScores) error {
	t := &a.totals
	if t.Images == 0 {
		t.Sweep = make([]SweepCounts, len(im.Sweep))
		for i, s := range im.Sweep {
			t.Sweep[i].Threshold = s.Threshold
		}
		a.sweepIoU = make([]float64, len(im.Sweep))
		a.sweepDice = make([]float64, len(im.Sweep))
	} else if len(im.Sweep) != len(t.Sweep) {
		return fmt.Errorf("eval: image has %d sweep thresholds, earlier images %d", len(im.Sweep), len(t.Sweep))
	}
	for i, s := range im.Sweep {
		if s.Threshold != t.Sweep[i].Threshold {
			return fmt.Errorf("eval: image sweep threshold %v, earlier images %v", s.Threshold, t.Sweep[i].Threshold)
		}
	}
	t.Images++
	t.Pixels += im.Pixels()
	t.TP += im.TP
	t.FP += im.FP
	t.FN += im.FN
	t.TN += im.TN
	for i, s := range im.Sweep {
		t.Sweep[i].TP += s.TP
		t.Sweep[i].FP += s.FP
		t.Sweep[i].FN += s.FN
		a.sweepIoU[i] += iouFG(s.TP, s.FP, s.FN)
		a.sweepDice[i] += dice(s.TP, s.FP, s.FN)
	}
	t.Boundary.add(im.Boundary)
	t.Matting.add(im.Matting)
	if im.Unknown != nil {
		t.UnknownImages++
		t.Unknown.add(*im.Unknown)
	}
	for i, m := range a.metrics {
		if v, ok := m.PerImage(im); ok {
			a.sums[i] += v
			a.counts[i]++
		}
	}
	return nil
}

// Totals returns the sums so far.
func (a *Aggregator) Totals() Totals {
	t := a.totals
	t.Sweep = slices.Clone(t.Sweep)
	return t
}

// Result returns the aggregate of the images added so far.
func (a *Aggregator) Result() Aggregate {
	t := a.Totals()
	out := Aggregate{Images: t.Images, Totals: t}
	for i, m := range a.metrics {
		s := MetricSummary{Name: m.Name, Group: m.Group, Definition: m.Definition, Unit: m.Unit,
			HigherBetter: m.HigherBetter, MeanImages: a.counts[i]}
		if a.counts[i] > 0 {
			v := a.sums[i] / float64(a.counts[i])
			s.Mean = &v
		}
		if m.Accumulated != nil && t.Images > 0 {
			if v, ok := m.Accumulated(&t); ok {
				s.Accumulated = &v
			}
		}
		out.Metrics = append(out.Metrics, s)
	}
	for i, s := range t.Sweep {
		n := float64(t.Images)
		out.Sweep = append(out.Sweep, SweepPoint{
			Threshold: s.Threshold, TP: s.TP, FP: s.FP, FN: s.FN,
			IoUAccumulated:  iouFG(s.TP, s.FP, s.FN),
			DiceAccumulated: dice(s.TP, s.FP, s.FN),
			IoUMean:         a.sweepIoU[i] / n,
			DiceMean:        a.sweepDice[i] / n,
		})
	}
	return out
}

// AggregateImages adds images in the order given (sort them by id first)
// and returns the result.
func AggregateImages(metrics []Metric, images []ImageScores) (Aggregate, error) {
	a := NewAggregator(metrics)
	for i := range images {
		if err := a.Add(&images[i]); err != nil {
			return Aggregate{}, err
		}
	}
	return a.Result(), nil
}
