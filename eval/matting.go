package eval

import (
	"fmt"
	"image"
	"math"

	"gocv.io/x/gocv"
)

// Matting errors on the soft prediction p in [0, 1] against the matte g =
// alpha/255 (or the 0/1 mask), following the Deep Image Matting evaluation
// code (Xu et al., CVPR 2017: compute_sad_loss, compute_mse_loss,
// compute_gradient_loss, compute_connectivity_error, after Rhemann et al.,
// CVPR 2009, alphamatting.com). Score keeps the unscaled sums; the
// registry scales them:
//
//   - SAD = Σ|p-g| / 1000 (DIM divides by 1000 "due to the large images").
//   - MSE = Σ(p-g)² / pixels in the region, unscaled (as compute_mse_loss;
//     papers often print it x1000, we do not). MAD = Σ|p-g| / pixels, the
//     L1 error.
//   - Grad = Σ(|∇p| - |∇g|)² / 1000, ∇ = gaussgradient with sigma 1.4.
//   - Conn = Σ|φ(p) - φ(g)| / 1000, threshold step 0.1, theta 0.15.
//
// DIM sums over the trimap's unknown region (trimap == 128); the *_unknown
// metrics do that and the plain ones sum over the whole image. The
// gradient and connectivity maps are computed on the whole image either
// way, as DIM does, so only the summation region differs.

// Gradient error.
//
// gaussgradient (Guanglei Xiong's MATLAB function used by DIM): kernel
// half size ceil(σ sqrt(-2 ln(sqrt(2π) σ ε))) with ε = 0.01 (4 for σ =
// 1.4), hx(i, j) = G(i) dG(j) with G the normalised Gaussian and dG(x) =
// -x G(x)/σ², hx divided by its Frobenius norm, hy = hxᵀ, both applied by
// convolution with replicated borders. hx is separable: the row kernel is
// dG/|dG| and the column kernel G/|G|. OpenCV filters by correlation,
// which flips the sign of the odd dG part and so leaves |∇| unchanged.
//
// Both mattes are on the fixed [0, 1] scale (alpha/255), as the Python
// ports of the DIM code do; the MATLAB original applies mat2gray (per-image
// min-max), which is the same whenever a matte spans 0..1. Filtering and
// magnitudes are float32 (OpenCV), the sums float64.

const (
	gradSigma   = 1.4
	gradEpsilon = 1e-2
)

// gaussGradientKernels returns the row-derivative and Gaussian 1-D
// factors of gaussgradient's 2-D kernel, each normalised to unit L2 norm
// (the 2-D Frobenius norm is the product of the two).
func gaussGradientKernels(sigma float64) (dg, g []float64) {
	half := int(math.Ceil(sigma * math.Sqrt(-2*math.Log(math.Sqrt(2*math.Pi)*sigma*gradEpsilon))))
	var ng, nd float64
	for u := -half; u <= half; u++ {
		gv := math.Exp(-float64(u*u)/(2*sigma*sigma)) / (sigma * math.Sqrt(2*math.Pi))
		dv := -float64(u) * gv / (sigma * sigma)
		g = append(g, gv)
		dg = append(dg, dv)
		ng += gv * gv
		nd += dv * dv
	}
	ng, nd = math.Sqrt(ng), math.Sqrt(nd)
	for i := range g {
		g[i] /= ng
		dg[i] /= nd
	}
	return dg, g
}

type gradBuf struct {
	w, h        int
	in          [2]gocv.Mat // prediction, ground truth (CV_32F)
	gx, gy, mag [2]gocv.Mat
	kd, kg      gocv.Mat // 1-D kernels
	ready       bool
}

func (b *gradBuf) close() {
	if !b.ready {
		return
	}
	for i := range 2 {
		b.in[i].Close()
		b.gx[i].Close()
		b.gy[i].Close()
		b.mag[i].Close()
	}
	b.kd.Close()
	b.kg.Close()
	*b = gradBuf{}
}

// setup (re)allocates the Mats for a w x h image.
func (b *gradBuf) setup(w, h int) {
	if b.ready && b.w == w && b.h == h {
		return
	}
	b.close()
	dg, g := gaussGradientKernels(gradSigma)
	b.kd = gocv.NewMatWithSize(1, len(dg), gocv.MatTypeCV32F)
	b.kg = gocv.NewMatWithSize(1, len(g), gocv.MatTypeCV32F)
	for i := range dg {
		b.kd.SetFloatAt(0, i, float32(dg[i]))
		b.kg.SetFloatAt(0, i, float32(g[i]))
	}
	for i := range 2 {
		b.in[i] = gocv.NewMatWithSize(h, w, gocv.MatTypeCV32F)
		b.gx[i] = gocv.NewMat()
		b.gy[i] = gocv.NewMat()
		b.mag[i] = gocv.NewMat()
	}
	b.w, b.h, b.ready = w, h, true
}

// errors adds the gradient error sums of pred against gt to im.
func (b *gradBuf) errors(pred, gt []float32, trimap []uint8, w, h int, im *ImageScores) error {
	b.setup(w, h)
	var mag [2][]float32
	for i, src := range [2][]float32{pred, gt} {
		dst, err := b.in[i].DataPtrFloat32()
		if err != nil {
			return fmt.Errorf("eval: gradient input: %w", err)
		}
		copy(dst, src)
		anchor := image.Pt(-1, -1)
		gocv.SepFilter2D(b.in[i], &b.gx[i], gocv.MatTypeCV32F, b.kd, b.kg, anchor, 0, gocv.BorderReplicate)
		gocv.SepFilter2D(b.in[i], &b.gy[i], gocv.MatTypeCV32F, b.kg, b.kd, anchor, 0, gocv.BorderReplicate)
		gocv.Magnitude(b.gx[i], b.gy[i], &b.mag[i])
		if mag[i], err = b.mag[i].DataPtrFloat32(); err != nil {
			return fmt.Errorf("eval: gradient magnitude: %w", err)
		}
	}
	mp, mg := mag[0], mag[1][:len(mag[0])]
	var all, unk float64
	for i, v := range mp {
		d := float64(v) - float64(mg[i])
		e := d * d
		all += e
		if trimap != nil && trimap[i] == 128 {
			unk += e
		}
	}
	im.Matting.Grad = all
	if im.Unknown != nil {
		im.Unknown.Grad = unk
	}
	return nil
}

// Connectivity error.
//
// compute_connectivity_error: for thresholds t_i = i/10, i = 1..10, Ω_i is
// the largest 4-connected component of {p >= t_i} ∩ {g >= t_i}; a pixel's
// level l is t_{i-1} for the first i with the pixel outside Ω_i, and 1 if
// it is in every Ω_i. Then d = x - l and φ(x) = 1 - d where d >= 0.15, else
// 1, for x = p and x = g. Choices where the references differ:
//   - the largest component is the largest foreground component, as in the
//     MATLAB original (bwconncomp); the Python getLargestCC that takes the
//     argmax of a bincount including label 0 can pick the background;
//   - an empty {p >= t_i} ∩ {g >= t_i} has an empty Ω_i (every pixel still
//     unassigned gets l = t_{i-1}), not a skipped step;
//   - equal-sized largest components: the one whose first pixel in
//     row-major order comes first (skimage label order + np.argmax);
//   - thresholds are the exact decimals i/10 (no 0.30000000000000004):
//     g = a/255 >= i/10 is tested exactly as 10a >= 255i, p as float64.
//
// Rather than label ten binary images, one union-find pass builds the
// component tree (max-tree; Berger et al., ICIP 2007) of min(level(p),
// level(g)) over the pixels of level >= 1: every Ω_i is a node of it, and
// each node's first failing threshold follows from its parent's.

const connTheta = 0.15

// alphaLevel is the number of thresholds i/10 (i = 1..10) at or below a/255.
func alphaLevel(a uint8) uint8 { return uint8(10 * int(a) / 255) }

// connThresholds are t_0..t_10 = i/10 and a +Inf guard.
func connThresholds() (t [12]float64) {
	for i := range 11 {
		t[i] = float64(i) / 10
	}
	t[11] = math.Inf(1)
	return t
}

// probLevel is the number of thresholds i/10 (i = 1..10) at or below p,
// for p in [0, 1]; t is connThresholds().
func probLevel(p float64, t *[12]float64) uint8 {
	l := int(p * 10) // off by at most one from the exact count
	if p < t[l] {
		l--
	} else if p >= t[l+1] {
		l++
	}
	return uint8(l)
}

// The union-find works on horizontal runs of equal level rather than on
// pixels: a model's output is smooth, so a 1920x1080 image has tens of
// thousands of runs instead of a million pixels. Runs are 4-connected when
// they touch end to end in a row or share a column in adjacent rows. Runs
// are numbered in row-major order of their first pixel, so comparing run
// numbers compares first pixels.

type run struct {
	x0, x1 int32 // pixels [x0, x1) of row y
	y      int32
	up     int32 // first run of row y-1 ending after x0 (the first that can touch)
	down   int32 // same in row y+1
	level  uint8
}

type ufNode struct {
	parent int32 // component tree (after canonicalisation)
	zpar   int32 // union-find link (union by size, path halving)
	repr   int32 // at a union-find root: the component's tree root (last run added)
	area   int32 // at a union-find root: component size in pixels
	first  int32 // at a union-find root: smallest run number
}

type connBuf struct {
	runs     []run
	rowStart []int32 // row y's runs are runs[rowStart[y]:rowStart[y+1]]
	order    []int32 // runs by level descending, row-major within a level
	nodes    []ufNode
	fail     []uint8   // per run: first threshold index i whose Ω_i excludes it (11: none)
	lrow     []float64 // one row of l values
}

func (c *connBuf) find(x int32) int32 {
	n := c.nodes
	for n[x].zpar != x {
		n[x].zpar = n[n[x].zpar].zpar
		x = n[x].zpar
	}
	return x
}

// buildRuns splits each row of level into maximal runs of equal level >= 1.
func (c *connBuf) buildRuns(level []uint8, w, h int) {
	c.runs = c.runs[:0]
	c.rowStart = grow(c.rowStart, h+1)
	for y := 0; y < h; y++ {
		c.rowStart[y] = int32(len(c.runs))
		row := level[y*w : (y+1)*w]
		for x := 0; x < w; {
			l := row[x]
			if l == 0 {
				x++
				continue
			}
			x0 := x
			for x < w && row[x] == l {
				x++
			}
			c.runs = append(c.runs, run{x0: int32(x0), x1: int32(x), y: int32(y), level: l})
		}
	}
	c.rowStart[h] = int32(len(c.runs))
	// Each run's first possible neighbour in the rows above and below, by
	// walking adjacent rows' run lists together.
	for y := 0; y < h; y++ {
		lo, hi := c.rowStart[y], c.rowStart[y+1]
		for _, adj := range [2]int{y - 1, y + 1} {
			q, qe := hi, hi
			if adj >= 0 && adj < h {
				q, qe = c.rowStart[adj], c.rowStart[adj+1]
			}
			for r := lo; r < hi; r++ {
				for q < qe && c.runs[q].x1 <= c.runs[r].x0 {
					q++
				}
				if adj < y {
					c.runs[r].up = q
				} else {
					c.runs[r].down = q
				}
			}
		}
	}
}

// levels computes every run's first failing threshold index into c.fail.
func (c *connBuf) levels(level []uint8, w, h int) {
	c.buildRuns(level, w, h)
	runs := c.runs
	m := len(runs)
	var hist [11]int
	for _, r := range runs {
		hist[r.level]++
	}
	var off, end [11]int // each level's span of order, level 10 first
	pos := 0
	for l := 10; l >= 1; l-- {
		off[l], end[l] = pos, pos+hist[l]
		pos += hist[l]
	}
	c.order = grow(c.order, m)
	c.nodes = grow(c.nodes, m)
	c.fail = grow(c.fail, m)
	fill := off
	for i, r := range runs {
		c.order[fill[r.level]] = int32(i)
		fill[r.level]++
	}

	// Union-find from the highest level down. A neighbouring run is
	// already in the forest when its level is higher, or equal and earlier
	// in row-major order (the order within a level). The tree (parent)
	// follows Berger et al.: each new run becomes the parent of the tree
	// roots of the components it joins. The union-find that finds those
	// components is a separate, balanced forest (zpar), so finds stay
	// short.
	nodes := c.nodes
	var chosen [11]int32 // tree root of the largest component of level >= i
	best, bestArea, bestFirst := int32(-1), int32(0), int32(0)
	for l := 10; l >= 1; l-- {
		lv := uint8(l)
		for _, p := range c.order[off[l]:end[l]] {
			rp := runs[p]
			nodes[p] = ufNode{parent: p, zpar: p, repr: p, area: rp.x1 - rp.x0, first: p}
			zp := p
			join := func(q int32) {
				if lq := runs[q].level; lq < lv || (lq == lv && q > p) {
					return
				}
				r := c.find(q)
				if r == zp {
					return
				}
				nodes[nodes[r].repr].parent = p
				if nodes[r].area > nodes[zp].area {
					r, zp = zp, r
				}
				nr, nz := &nodes[r], &nodes[zp]
				nr.zpar = zp
				nz.area += nr.area
				nz.first = min(nz.first, nr.first)
				nz.repr = p
			}
			y := int(rp.y)
			if p > c.rowStart[y] && runs[p-1].x1 == rp.x0 {
				join(p - 1)
			}
			if p+1 < c.rowStart[y+1] && runs[p+1].x0 == rp.x1 {
				join(p + 1)
			}
			if y > 0 {
				for q := rp.up; q < c.rowStart[y] && runs[q].x0 < rp.x1; q++ {
					join(q)
				}
			}
			if y < h-1 {
				for q := rp.down; q < c.rowStart[y+2] && runs[q].x0 < rp.x1; q++ {
					join(q)
				}
			}
			// p is now the tree root of its component.
			if z := &nodes[zp]; z.area > bestArea || (z.area == bestArea && z.first < bestFirst) {
				best, bestArea, bestFirst = p, z.area, z.first
			}
		}
		chosen[l] = best
	}

	// Canonicalise: every run's parent becomes the node (last-processed
	// run) of its own level's component, or of the parent component.
	for k := m - 1; k >= 0; k-- {
		p := c.order[k]
		q := nodes[p].parent
		if qp := nodes[q].parent; runs[qp].level == runs[q].level {
			nodes[p].parent = qp
		}
	}

	// Root to leaves. A node at level j whose parent is at level j' is the
	// component of every level in (j', j]; for levels <= j' it shares its
	// parent's component, so it fails where the parent fails if that is
	// <= j', else at the first level in (j', j] where it is not the
	// largest, else at j+1.
	for k := m - 1; k >= 0; k-- {
		p := c.order[k]
		par := nodes[p].parent
		lp := runs[p].level
		if par != p && runs[par].level == lp {
			c.fail[p] = c.fail[par]
			continue
		}
		var jp uint8
		if par != p {
			jp = runs[par].level
			if c.fail[par] <= jp {
				c.fail[p] = c.fail[par]
				continue
			}
		}
		f := lp + 1
		for i := jp + 1; i <= lp; i++ {
			if chosen[i] != p {
				f = i
				break
			}
		}
		c.fail[p] = f
	}
}

// errors adds the connectivity error sums of pred against gt to im.
func (c *connBuf) errors(pred, gt []float32, level, trimap []uint8, w, h int, im *ImageScores) {
	c.levels(level, w, h)
	var lv [12]float64 // l for a first failing index f: t_{f-1}
	for f := 1; f <= 11; f++ {
		lv[f] = float64(f-1) / 10
	}
	c.lrow = grow(c.lrow, w)
	var all, unk float64
	for y := 0; y < h; y++ {
		clear(c.lrow) // level 0: l = 0
		for r := c.rowStart[y]; r < c.rowStart[y+1]; r++ {
			l := lv[c.fail[r]]
			for x := c.runs[r].x0; x < c.runs[r].x1; x++ {
				c.lrow[x] = l
			}
		}
		lo := y * w
		pr, gr := pred[lo:lo+w], gt[lo:lo+w]
		for x, l := range c.lrow {
			e := math.Abs(connPhi(float64(pr[x]), l) - connPhi(float64(gr[x]), l))
			all += e
			if trimap != nil && trimap[lo+x] == 128 {
				unk += e
			}
		}
	}
	im.Matting.Conn = all
	if im.Unknown != nil {
		im.Unknown.Conn = unk
	}
}

// connPhi is φ(x) = 1 - (x - l) where x - l >= θ, else 1.
func connPhi(x, l float64) float64 {
	if d := x - l; d >= connTheta {
		return 1 - d
	}
	return 1
}
