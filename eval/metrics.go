package eval

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// Pair is one image's prediction and ground truth as planes of W*H values,
// row-major.
type Pair struct {
	W, H int
	// Prob is the soft prediction in [0, 1]. It must hold no NaN or Inf: the
	// pipeline counts those (NonFinite) and does not score the image.
	Prob []float32
	// Mask is the ground-truth mask, 0 or 255 (person = 255); >= 128 counts
	// as person. It may be nil when Alpha is given: then Alpha >= 128 is the
	// mask.
	Mask []uint8
	// Alpha is the ground-truth matte 0..255, nil when the dataset has none;
	// the matting metrics then score against the mask as a 0/1 matte.
	Alpha []uint8
	// Trimap is 0/128/255 or nil; 128 marks the unknown region that the
	// *_unknown matting metrics are computed over.
	Trimap []uint8
}

// Options are the scoring parameters that change the numbers.
type Options struct {
	// Threshold binarises the prediction: person where Prob > Threshold
	// (strictly, as MMSegmentation's binary head does). In (0, 1).
	Threshold float64 `json:"threshold" yaml:"threshold"`
	// Sweep are the thresholds of the Dice/IoU curves, strictly increasing,
	// each in (0, 1); empty for none.
	Sweep []float64 `json:"sweep" yaml:"sweep"`
	// Skip names metric groups not to compute: GroupBoundary and/or
	// GroupMatting (which takes GroupMattingUnknown with it). Segmentation
	// is always computed. The boundary and matting passes cost several
	// times the segmentation one, so a throughput run on a fast GPU may
	// skip them; nil computes everything.
	Skip []string `json:"skip,omitempty" yaml:"skip,omitempty"`
}

// Computes reports whether group is computed under o.
func (o Options) Computes(group string) bool {
	if group == GroupMattingUnknown {
		group = GroupMatting
	}
	return !slices.Contains(o.Skip, group)
}

// checkSkip reports a group in skip that cannot be left out.
func checkSkip(skip []string) error {
	for _, g := range skip {
		if g != GroupBoundary && g != GroupMatting {
			return fmt.Errorf("metric group %q cannot be left out: segmentation is always computed; %s and %s may be", g, GroupBoundary, GroupMatting)
		}
	}
	return nil
}

// computed reports whether the image's score has group's numbers.
func (im *ImageScores) computed(group string) bool {
	return Options{Skip: im.Skipped}.Computes(group)
}

// Select returns the per-image metrics of the groups o computes, in
// order; the COCO metrics (GroupInstances) are not per-image ones.
func (o Options) Select(metrics []Metric) []Metric {
	var out []Metric
	for _, m := range metrics {
		if o.Computes(m.Group) && m.Group != GroupInstances {
			out = append(out, m)
		}
	}
	return out
}

// DefaultOptions returns threshold 0.5 and the sweep 0.05, 0.10, .., 0.95.
func DefaultOptions() Options {
	o := Options{Threshold: 0.5}
	for k := 1; k <= 19; k++ {
		o.Sweep = append(o.Sweep, float64(k)/20)
	}
	return o
}

// Validate reports the first bad option.
func (o Options) Validate() error {
	if !(o.Threshold > 0 && o.Threshold < 1) {
		return fmt.Errorf("eval: threshold %v: must be in (0, 1)", o.Threshold)
	}
	if len(o.Sweep) > 1000 {
		return fmt.Errorf("eval: %d sweep thresholds: at most 1000", len(o.Sweep))
	}
	if err := checkSkip(o.Skip); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	for i, t := range o.Sweep {
		if !(t > 0 && t < 1) {
			return fmt.Errorf("eval: sweep threshold %v: must be in (0, 1)", t)
		}
		if i > 0 && t <= o.Sweep[i-1] {
			return fmt.Errorf("eval: sweep thresholds must be strictly increasing (%v after %v)", t, o.Sweep[i-1])
		}
	}
	return nil
}

// ImageScores are one image's scores: counts and error sums from which every
// metric in the registry is derived. All fields survive a JSON round trip
// exactly (integers are counts, floats are float64).
type ImageScores struct {
	W         int     `json:"w"`
	H         int     `json:"h"`
	Threshold float64 `json:"threshold"`
	// Confusion counts of the prediction binarised at Threshold against the
	// mask, foreground = person.
	TP int64 `json:"tp"`
	FP int64 `json:"fp"`
	FN int64 `json:"fn"`
	TN int64 `json:"tn"`
	// Sweep holds the counts at each Options.Sweep threshold.
	Sweep []SweepCounts `json:"sweep,omitempty"`
	// BoundaryWidth is Boundary IoU's band width d in pixels;
	// BoundaryTolerance is boundary F's matching distance in pixels.
	BoundaryWidth     int            `json:"boundary_width"`
	BoundaryTolerance int            `json:"boundary_tolerance"`
	Boundary          BoundaryCounts `json:"boundary"`
	// MatteFromMask is true when the dataset had no alpha and the matting
	// sums compare the prediction with the 0/1 mask.
	MatteFromMask bool `json:"matte_from_mask,omitempty"`
	// Skipped are the metric groups not computed for this image
	// (Options.Skip); their metrics are undefined, never zero.
	Skipped []string `json:"skipped,omitempty"`
	// Matting sums over the whole image; Unknown over trimap == 128, nil
	// when the pair had no trimap.
	Matting MattingSums  `json:"matting"`
	Unknown *MattingSums `json:"unknown,omitempty"`
	// Temporal are a clip frame's terms against the clip's previous
	// frame (GroupVideo); nil for a clip's first frame and outside clips.
	Temporal *TemporalScores `json:"temporal,omitempty"`
}

// SweepCounts are the confusion counts at one sweep threshold (TN is
// implied: pixels - TP - FP - FN).
type SweepCounts struct {
	Threshold float64 `json:"threshold"`
	TP        int64   `json:"tp"`
	FP        int64   `json:"fp"`
	FN        int64   `json:"fn"`
}

// BoundaryCounts are the pixel counts behind Boundary IoU and boundary F.
type BoundaryCounts struct {
	// Inter and Union are |Gb ∩ Pb| and |Gb ∪ Pb| of the two boundary bands.
	Inter int64 `json:"inter"`
	Union int64 `json:"union"`
	// PredEdge and GTEdge count the one-pixel boundary maps (seg2bmap);
	// PredMatched and GTMatched count those within BoundaryTolerance of the
	// other map's boundary.
	PredEdge    int64 `json:"pred_edge"`
	PredMatched int64 `json:"pred_matched"`
	GTEdge      int64 `json:"gt_edge"`
	GTMatched   int64 `json:"gt_matched"`
}

func (b *BoundaryCounts) add(o BoundaryCounts) {
	b.Inter += o.Inter
	b.Union += o.Union
	b.PredEdge += o.PredEdge
	b.PredMatched += o.PredMatched
	b.GTEdge += o.GTEdge
	b.GTMatched += o.GTMatched
}

// MattingSums are unscaled sums over a region of Pixels pixels, with both
// mattes in [0, 1]: Abs = Σ|p-g|, Sq = Σ(p-g)², Grad = Σ(|∇p|-|∇g|)² and
// Conn = Σ|φp-φg| (see matting.go for ∇ and φ). The registry scales them.
type MattingSums struct {
	Pixels int64   `json:"pixels"`
	Abs    float64 `json:"abs"`
	Sq     float64 `json:"sq"`
	Grad   float64 `json:"grad"`
	Conn   float64 `json:"conn"`
}

func (m *MattingSums) add(o MattingSums) {
	m.Pixels += o.Pixels
	m.Abs += o.Abs
	m.Sq += o.Sq
	m.Grad += o.Grad
	m.Conn += o.Conn
}

// Pixels returns W*H.
func (im *ImageScores) Pixels() int64 { return int64(im.W) * int64(im.H) }

// NonFinite counts the NaN and ±Inf values in prob.
func NonFinite(prob []float32) int {
	n := 0
	for _, v := range prob {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			n++
		}
	}
	return n
}

// ErrNonFinite is returned (wrapped) by Score when the prediction holds NaN
// or Inf.
var ErrNonFinite = errors.New("prediction has NaN or Inf values")

func (p Pair) validate() error {
	if p.W <= 0 || p.H <= 0 {
		return fmt.Errorf("eval: bad size %dx%d", p.W, p.H)
	}
	n := p.W * p.H
	if len(p.Prob) != n {
		return fmt.Errorf("eval: prediction has %d values, want %dx%d = %d", len(p.Prob), p.W, p.H, n)
	}
	if p.Mask == nil && p.Alpha == nil {
		return errors.New("eval: pair has neither mask nor alpha")
	}
	for _, pl := range []struct {
		name string
		v    []uint8
	}{{"mask", p.Mask}, {"alpha", p.Alpha}, {"trimap", p.Trimap}} {
		if pl.v != nil && len(pl.v) != n {
			return fmt.Errorf("eval: %s has %d values, want %dx%d = %d", pl.name, len(pl.v), p.W, p.H, n)
		}
	}
	for i, v := range p.Prob {
		if !(v >= 0 && v <= 1) { // also catches NaN
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("eval: %d values: %w", NonFinite(p.Prob), ErrNonFinite)
			}
			return fmt.Errorf("eval: prediction value %v at pixel (%d, %d) is outside [0, 1]", v, i%p.W, i/p.W)
		}
	}
	return nil
}

// Scorer scores pairs, keeping its buffers (and OpenCV Mats) between
// calls. It is not safe for concurrent use: use one per goroutine, and
// Close it when done.
type Scorer struct {
	predBin, gtBin []uint8   // binarised prediction and mask, 0/1
	gt             []float32 // ground-truth matte in [0, 1]
	level          []uint8   // connectivity level of min(pred, gt), 0..10
	bnd            boundaryBuf
	grad           gradBuf
	conn           connBuf
}

// NewScorer returns a Scorer with no buffers yet.
func NewScorer() *Scorer { return &Scorer{} }

// Close frees the OpenCV Mats the Scorer holds. The Scorer stays usable.
func (s *Scorer) Close() { s.grad.close() }

// Score computes everything for one image with a fresh Scorer, which
// allocates its buffers and Mats for this call alone (about 20 ms more on a
// 1920x1080 image); a loop over images should reuse a Scorer.
func Score(p Pair, o Options) (ImageScores, error) {
	s := NewScorer()
	defer s.Close()
	return s.Score(p, o)
}

// Score computes the counts and sums of every metric for one pair.
func (s *Scorer) Score(p Pair, o Options) (ImageScores, error) {
	if err := o.Validate(); err != nil {
		return ImageScores{}, err
	}
	if err := p.validate(); err != nil {
		return ImageScores{}, err
	}
	n := p.W * p.H
	s.predBin = grow(s.predBin, n)
	s.gtBin = grow(s.gtBin, n)
	s.gt = grow(s.gt, n)
	s.level = grow(s.level, n)

	im := ImageScores{W: p.W, H: p.H, Threshold: o.Threshold, MatteFromMask: p.Alpha == nil && o.Computes(GroupMatting), Skipped: o.Skip}
	s.pixelPass(p, o, &im)
	if o.Computes(GroupBoundary) {
		im.BoundaryWidth = boundaryIoUWidth(p.W, p.H)
		im.BoundaryTolerance = boundaryFTolerance(p.W, p.H)
		im.Boundary.Inter, im.Boundary.Union = s.bnd.bandIoU(s.gtBin, s.predBin, p.W, p.H, im.BoundaryWidth)
		s.bnd.boundaryF(s.gtBin, s.predBin, p.W, p.H, im.BoundaryTolerance, &im.Boundary)
	}
	if o.Computes(GroupMatting) {
		if err := s.grad.errors(p.Prob, s.gt, p.Trimap, p.W, p.H, &im); err != nil {
			return ImageScores{}, err
		}
		s.conn.errors(p.Prob, s.gt, s.level, p.Trimap, p.W, p.H, &im)
	}
	return im, nil
}

// pixelPass fills the binarised planes, the ground-truth matte and the
// connectivity levels, and counts the confusion, sweep and MAD/MSE sums in
// one pass.
func (s *Scorer) pixelPass(p Pair, o Options, im *ImageScores) {
	var matte [256]float32 // alpha value -> [0, 1], float32 as a decoded prediction would be
	for a := range matte {
		matte[a] = float32(a) / 255
	}
	var gtLevel [256]uint8
	for a := range gtLevel {
		gtLevel[a] = alphaLevel(uint8(a))
	}
	connThr := connThresholds()
	sw := newSweeper(o.Sweep)
	nts := len(sw.ts)
	thr := o.Threshold
	var conf [4]int64 // by pred<<1 | person
	var all, unk MattingSums
	w := p.W
	for y := 0; y < p.H; y++ {
		lo := y * w
		levels := s.level[lo : lo+w]
		for x, pv := range p.Prob[lo : lo+w] {
			i := lo + x
			var fg uint8
			var g float32
			var gl uint8
			if p.Alpha != nil {
				a := p.Alpha[i]
				g, gl = matte[a], gtLevel[a]
				if p.Mask != nil {
					fg = b2u(p.Mask[i] >= 128)
				} else {
					fg = b2u(a >= 128)
				}
			} else if p.Mask[i] >= 128 {
				fg, g, gl = 1, 1, 10
			}
			pf := float64(pv)
			pred := b2u(pf > thr)
			conf[pred<<1|fg]++
			s.predBin[i] = pred
			s.gtBin[i] = fg
			s.gt[i] = g
			levels[x] = min(probLevel(pf, &connThr), gl)
			if nts > 0 { // sweep histogram: c = thresholds strictly below p
				c := int(sw.lut[int(pv*1024)])
				for c < nts && sw.ts[c] < pf {
					c++
				}
				sw.hist[c<<1|int(fg)]++
			}

			d := pf - float64(g)
			ad, sq := math.Abs(d), d*d
			all.Abs += ad
			all.Sq += sq
			if p.Trimap != nil && p.Trimap[i] == 128 {
				unk.Pixels++
				unk.Abs += ad
				unk.Sq += sq
			}
		}
	}
	tp, fp, fn, tn := conf[3], conf[2], conf[1], conf[0]
	im.TP, im.FP, im.FN, im.TN = tp, fp, fn, tn
	im.Sweep = sw.counts()
	all.Pixels = int64(len(p.Prob))
	im.Matting = all
	if p.Trimap != nil {
		im.Unknown = &unk
	}
}

func b2u(b bool) uint8 {
	if b {
		return 1
	}
	return 0
}

func grow[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
