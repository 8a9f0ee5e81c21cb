package eval

import (
	"fmt"
	"strings"
)

// Metric groups.
const (
	GroupSegmentation   = "segmentation"
	GroupBoundary       = "boundary"
	GroupMatting        = "matting"
	GroupMattingUnknown = "matting-unknown"
	// GroupVideo is in video_metrics.go.
)

// Metric is one named number derived from an ImageScores (per image) and, where
// it is a ratio of counts, from Totals (accumulated over the dataset).
type Metric struct {
	Name string
	// Group is one of the Group* constants.
	Group string
	// Definition is one line: formula, conventions and citation.
	Definition string
	// Unit says what the number measures, including its scaling.
	Unit         string
	HigherBetter bool
	// PerImage returns the image's value; false when it is undefined for
	// the image (no trimap, an empty unknown region).
	PerImage func(*ImageScores) (float64, bool)
	// Accumulated returns the dataset value from summed counts; nil when
	// the metric is reported only as a mean of per-image values.
	Accumulated func(*Totals) (float64, bool)
	// PerClip returns a clip's value (GroupVideo); the dataset's Mean is
	// then the mean over clips, and with AccumulateClips its Accumulated
	// is PerClip of every clip's counts summed.
	PerClip         func(*ClipScores) (float64, bool)
	AccumulateClips bool
}

// Registry holds metrics by name, in report order.
type Registry struct {
	list  []Metric
	index map[string]int
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry { return &Registry{index: map[string]int{}} }

// Add appends m; names are unique.
func (r *Registry) Add(m Metric) error {
	if m.Name == "" || m.PerImage == nil {
		return fmt.Errorf("eval: metric %q: needs a name and a PerImage function", m.Name)
	}
	if (m.PerClip != nil) != (m.Group == GroupVideo) {
		return fmt.Errorf("eval: metric %q: a PerClip function goes with group %s, and only there", m.Name, GroupVideo)
	}
	if _, dup := r.index[m.Name]; dup {
		return fmt.Errorf("eval: metric %q registered twice", m.Name)
	}
	// A metric of a group the image was not scored for is undefined.
	value, group := m.PerImage, m.Group
	m.PerImage = func(im *ImageScores) (float64, bool) {
		if !im.computed(group) {
			return 0, false
		}
		return value(im)
	}
	r.index[m.Name] = len(r.list)
	r.list = append(r.list, m)
	return nil
}

// Metrics returns every metric in report order.
func (r *Registry) Metrics() []Metric { return append([]Metric(nil), r.list...) }

// Names returns every metric name in report order.
func (r *Registry) Names() []string {
	out := make([]string, len(r.list))
	for i, m := range r.list {
		out[i] = m.Name
	}
	return out
}

// Lookup returns the metric called name.
func (r *Registry) Lookup(name string) (Metric, bool) {
	i, ok := r.index[name]
	if !ok {
		return Metric{}, false
	}
	return r.list[i], true
}

// Select returns the named metrics in the order given, or all of them for
// an empty list. An unknown or repeated name is an error that lists the
// known ones.
func (r *Registry) Select(names []string) ([]Metric, error) {
	if len(names) == 0 {
		return r.Metrics(), nil
	}
	seen := map[string]bool{}
	out := make([]Metric, 0, len(names))
	for _, n := range names {
		m, ok := r.Lookup(n)
		if !ok {
			return nil, fmt.Errorf("eval: unknown metric %q (known: %s)", n, strings.Join(r.Names(), ", "))
		}
		if seen[n] {
			return nil, fmt.Errorf("eval: metric %q listed twice", n)
		}
		seen[n] = true
		out = append(out, m)
	}
	return out, nil
}

// Units.
const (
	unitFraction = "fraction in [0, 1]"
)

// DefaultRegistry returns every built-in metric.
func DefaultRegistry() *Registry {
	r := NewRegistry()
	conf := func(f func(tp, fp, fn, tn int64) float64) (func(*ImageScores) (float64, bool), func(*Totals) (float64, bool)) {
		return func(im *ImageScores) (float64, bool) { return f(im.TP, im.FP, im.FN, im.TN), true },
			func(t *Totals) (float64, bool) { return f(t.TP, t.FP, t.FN, t.TN), true }
	}
	seg := func(name, def string, f func(tp, fp, fn, tn int64) float64) Metric {
		pi, acc := conf(f)
		return Metric{Name: name, Group: GroupSegmentation, Definition: def, Unit: unitFraction,
			HigherBetter: true, PerImage: pi, Accumulated: acc}
	}
	const thr = "prediction binarised as prob > threshold, person = mask >= 128"
	for _, m := range []Metric{
		seg("iou", "person IoU = TP/(TP+FP+FN), "+thr+"; two empty masks (0/0) give 1; accumulated: sums over the dataset, then divide (MMSegmentation IoUMetric)",
			func(tp, fp, fn, _ int64) float64 { return iouFG(tp, fp, fn) }),
		seg("miou", "mean of background IoU TN/(TN+FP+FN) and person IoU, "+thr+"; a 0/0 class IoU counts as 1; accumulated: per-class IoU from dataset sums, then the mean (MMSegmentation mIoU)",
			mIoU),
		seg("dice", "Dice = 2TP/(2TP+FP+FN), "+thr+"; two empty masks (0/0) give 1",
			func(tp, fp, fn, _ int64) float64 { return dice(tp, fp, fn) }),
		seg("accuracy", "pixel accuracy = (TP+TN)/pixels, "+thr,
			accuracy),
		seg("precision", "precision = TP/(TP+FP), "+thr+"; no predicted person: 1 if the mask is empty too, else 0",
			func(tp, fp, fn, _ int64) float64 { return precision(tp, fp, fn) }),
		seg("recall", "recall = TP/(TP+FN), "+thr+"; empty mask: 1 if nothing is predicted either, else 0",
			func(tp, fp, fn, _ int64) float64 { return recall(tp, fp, fn) }),
		seg("f1", "F1 = 2PR/(P+R) of precision and recall; for binary masks (and under their empty-mask conventions) this equals Dice exactly, so it is computed as 2TP/(2TP+FP+FN) and always has Dice's value",
			func(tp, fp, fn, _ int64) float64 { return dice(tp, fp, fn) }),
		{
			Name: "boundary_iou", Group: GroupBoundary, Unit: unitFraction, HigherBetter: true,
			Definition: "Boundary IoU (Cheng et al., CVPR 2021; boundary-iou-api mask_to_boundary) = |Gb∩Pb|/|Gb∪Pb|, band = mask minus its erosion by d = round(0.02 x diagonal) >= 1 px, image border counts as background; both bands empty gives 1; accumulated: summed intersections over summed unions",
			PerImage:   func(im *ImageScores) (float64, bool) { return ratio(im.Boundary.Inter, im.Boundary.Union, 1), true },
			Accumulated: func(t *Totals) (float64, bool) {
				return ratio(t.Boundary.Inter, t.Boundary.Union, 1), true
			},
		},
		{
			Name: "boundary_f", Group: GroupBoundary, Unit: unitFraction, HigherBetter: true,
			Definition: "boundary F (DAVIS 2016 f_measure): seg2bmap boundaries matched within ceil(0.008 x diagonal) px (disk), F = 2PR/(P+R); no boundary in either gives P=R=1, only in the mask P=1 R=0, only in the prediction P=0 R=1, P+R=0 gives 0; accumulated: P and R from summed matched/boundary pixel counts",
			PerImage:   func(im *ImageScores) (float64, bool) { return boundaryFScore(im.Boundary), true },
			Accumulated: func(t *Totals) (float64, bool) {
				return boundaryFScore(t.Boundary), true
			},
		},
	} {
		mustAdd(r, m)
	}

	type region struct {
		suffix, group, where string
		sums                 func(*ImageScores) *MattingSums
	}
	for _, rg := range []region{
		{"", GroupMatting, "over the whole image", func(im *ImageScores) *MattingSums { return &im.Matting }},
		{"_unknown", GroupMattingUnknown, "over the trimap's unknown region (trimap == 128), undefined without a trimap", func(im *ImageScores) *MattingSums { return im.Unknown }},
	} {
		const gt = "soft prediction p against g = alpha/255 (the 0/1 mask when there is no alpha)"
		const mean = "; dataset value: mean over images"
		sums := rg.sums
		perPixel := func(f func(*MattingSums) float64) func(*ImageScores) (float64, bool) {
			return func(im *ImageScores) (float64, bool) {
				s := sums(im)
				if s == nil || s.Pixels == 0 {
					return 0, false
				}
				return f(s), true
			}
		}
		total := func(f func(*MattingSums) float64) func(*ImageScores) (float64, bool) {
			return func(im *ImageScores) (float64, bool) {
				s := sums(im)
				if s == nil {
					return 0, false
				}
				return f(s), true
			}
		}
		for _, m := range []Metric{
			{Name: "mad", Unit: "alpha units in [0, 1]",
				Definition: "MAD (mean absolute difference, = L1 error) = Σ|p-g|/pixels " + rg.where + ", " + gt + "; undefined for an empty region" + mean,
				PerImage:   perPixel(func(s *MattingSums) float64 { return s.Abs / float64(s.Pixels) })},
			{Name: "mse", Unit: "squared alpha units in [0, 1], not x1000",
				Definition: "MSE = Σ(p-g)²/pixels " + rg.where + ", " + gt + " (DIM compute_mse_loss normalisation; not multiplied by 1000); undefined for an empty region" + mean,
				PerImage:   perPixel(func(s *MattingSums) float64 { return s.Sq / float64(s.Pixels) })},
			{Name: "sad", Unit: "thousands of alpha units",
				Definition: "SAD = Σ|p-g|/1000 " + rg.where + ", " + gt + " (DIM compute_sad_loss)" + mean,
				PerImage:   total(func(s *MattingSums) float64 { return s.Abs / 1000 })},
			{Name: "grad", Unit: "thousands of squared gradient units",
				Definition: "gradient error = Σ(|∇p|-|∇g|)²/1000 " + rg.where + ", ∇ = first-derivative-of-Gaussian filters σ=1.4 (gaussgradient, unit-norm kernel, replicate border) on " + gt + " (DIM compute_gradient_loss; Rhemann et al. 2009)" + mean,
				PerImage:   total(func(s *MattingSums) float64 { return s.Grad / 1000 })},
			{Name: "conn", Unit: "thousands of alpha units",
				Definition: "connectivity error = Σ|φ(p)-φ(g)|/1000 " + rg.where + ", thresholds t_i = i/10, Ω_i = largest 4-connected component of p>=t_i ∧ g>=t_i, l = t_{i-1} for the first Ω_i without the pixel (1 if none), φ(x) = 1-(x-l) where x-l >= 0.15 else 1 (DIM compute_connectivity_error; Rhemann et al. 2009), " + gt + mean,
				PerImage:   total(func(s *MattingSums) float64 { return s.Conn / 1000 })},
		} {
			m.Name += rg.suffix
			m.Group = rg.group
			mustAdd(r, m)
		}
	}

	// Video metrics: per image, frame t against frame t−1 of its clip.
	temporal := func(f func(*TemporalScores) (float64, bool)) func(*ImageScores) (float64, bool) {
		return func(im *ImageScores) (float64, bool) {
			if im.Temporal == nil {
				return 0, false
			}
			return f(im.Temporal)
		}
	}
	mustAdd(r, Metric{Name: "dtssd", Group: GroupVideo, Unit: "alpha units in [0, 1] x100",
		Definition: "dtSSD (Erofeev et al. 2015; RobustVideoMatting evaluation/evaluate_lr.py MetricDTSSD) per frame t >= 1 = 100·sqrt(Σ((p_t-p_{t-1})-(g_t-g_{t-1}))²/N) over the frame's N pixels, p the soft prediction and g = alpha/255 (the 0/1 mask when there is no alpha or matting is skipped); clip value: mean over t >= 1 (RVM's script also averages a 0 for frame 0); dataset value: mean over clips",
		PerImage:   temporal(func(t *TemporalScores) (float64, bool) { return t.DTSSD, true }),
		PerClip:    (*ClipScores).DTSSD})
	mustAdd(r, Metric{Name: "flicker", Group: GroupVideo, Unit: unitFraction, AccumulateClips: true,
		Definition: "segmentation flicker = Σflip/Σstable over a clip's consecutive frame pairs: stable = pixels whose binarised truth (mask >= 128) is the same in frames t-1 and t, flip = those of them whose binarised prediction (prob > threshold) differs; undefined without stable pixels; dataset value: mean over clips, accumulated: all pairs' counts summed",
		PerImage:   temporal(func(t *TemporalScores) (float64, bool) { return ratio(t.Flip, t.Stable, 0), t.Stable > 0 }),
		PerClip:    (*ClipScores).Flicker})
	for _, m := range instanceMetrics() {
		mustAdd(r, m)
	}
	return r
}

func mustAdd(r *Registry, m Metric) {
	if err := r.Add(m); err != nil {
		panic(err) // the built-in table is fixed; a duplicate is a programming error
	}
}
