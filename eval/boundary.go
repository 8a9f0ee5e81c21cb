package eval

import (
	"math"
	"slices"
)

// Boundary metrics on the binarised prediction against the mask.
//
// Boundary IoU (Cheng, Girshick, Dollár, Berg, Kirillov, "Boundary IoU:
// Improving Object-Centric Image Segmentation Evaluation", CVPR 2021;
// reference bowenc0221/boundary-iou-api mask_to_boundary): a mask's
// boundary band is the mask minus its erosion by a 3x3 square applied d
// times, with the image padded by one background pixel so a mask cut by
// the image border has a boundary there too. d = round(0.02 x image
// diagonal), at least 1 (Python's round: half to even). Boundary IoU =
// |Gb ∩ Pb| / |Gb ∪ Pb|.
//
// Boundary F (Perazzi et al., "A Benchmark Dataset and Evaluation
// Methodology for Video Object Segmentation", CVPR 2016; DAVIS f_measure):
// one-pixel boundary maps from seg2bmap (a pixel differs from its east,
// south or south-east neighbour; the last row only looks east, the last
// column only south, the bottom-right pixel is never boundary), a
// prediction boundary pixel is matched when a ground-truth boundary pixel
// lies within the disk of radius ceil(0.008 x diagonal) (x²+y² <= r², as
// skimage.morphology.disk), and vice versa.

// diagonal is sqrt(w²+h²) computed as numpy does (not math.Hypot, whose
// scaling can miss an exact 125 by an ulp and move a rounding).
func diagonal(w, h int) float64 { return math.Sqrt(float64(w*w + h*h)) }

// boundaryIoUWidth is d for Boundary IoU on a w x h image.
func boundaryIoUWidth(w, h int) int {
	return max(int(math.RoundToEven(0.02*diagonal(w, h))), 1)
}

// boundaryFTolerance is DAVIS's bound_pix for bound_th = 0.008.
func boundaryFTolerance(w, h int) int {
	return int(math.Ceil(0.008 * diagonal(w, h)))
}

// boundaryPR returns DAVIS precision and recall from the counts, with
// f_measure's conventions: no prediction boundary and some ground-truth
// boundary gives P=1, R=0; the reverse P=0, R=1; neither P=R=1.
func boundaryPR(b BoundaryCounts) (p, r float64) {
	switch {
	case b.PredEdge == 0 && b.GTEdge > 0:
		return 1, 0
	case b.PredEdge > 0 && b.GTEdge == 0:
		return 0, 1
	case b.PredEdge == 0 && b.GTEdge == 0:
		return 1, 1
	}
	return float64(b.PredMatched) / float64(b.PredEdge), float64(b.GTMatched) / float64(b.GTEdge)
}

// boundaryFScore is 2PR/(P+R), 0 when P+R = 0 (f_measure).
func boundaryFScore(b BoundaryCounts) float64 {
	p, r := boundaryPR(b)
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

type boundaryBuf struct {
	cntG, cntP []int32 // per column: consecutive rows, ending at the current one, whose row erosion is 1
	row        []uint8
	edgeG      csr
	edgeP      csr
	half       []int
}

// erodeRow sets b[x] = 1 where m[x-d..x+d] are all person and inside the
// row: the row half of the (2d+1) square erosion.
func erodeRow(m, b []uint8, d int) {
	clear(b)
	w := len(m)
	for x := 0; x < w; {
		if m[x] == 0 {
			x++
			continue
		}
		a := x
		for x < w && m[x] != 0 {
			x++
		}
		for k := a + d; k < x-d; k++ {
			b[k] = 1
		}
	}
}

func updateCounts(cnt []int32, b []uint8) {
	cnt = cnt[:len(b)]
	for x, v := range b {
		cnt[x] = (cnt[x] + 1) * int32(v) // v is 0 or 1
	}
}

// bandIoU returns |Gb ∩ Pb| and |Gb ∪ Pb| for the boundary bands of width
// d. Eroding d times with a 3x3 square (outside the image counting as
// background) keeps exactly the pixels whose (2d+1) square neighbourhood
// is all person and inside the image; that square erosion is separable, so
// it is a row pass and a running count of eroded rows per column.
func (bb *boundaryBuf) bandIoU(gt, pred []uint8, w, h, d int) (inter, union int64) {
	bb.cntG = grow(bb.cntG, w)
	bb.cntP = grow(bb.cntP, w)
	bb.row = grow(bb.row, w)
	clear(bb.cntG)
	clear(bb.cntP)
	full := int32(2*d + 1)
	for r := 0; r < h+d; r++ {
		if r < h {
			erodeRow(gt[r*w:(r+1)*w], bb.row, d)
			updateCounts(bb.cntG, bb.row)
			erodeRow(pred[r*w:(r+1)*w], bb.row, d)
			updateCounts(bb.cntP, bb.row)
		}
		y := r - d
		if y < 0 {
			continue
		}
		// Row y is eroded where rows y-d..y+d all were: the count at row
		// y+d = r reaches 2d+1. Rows within d of the bottom never are.
		g, p := gt[y*w:(y+1)*w], pred[y*w:(y+1)*w]
		if r >= h {
			for x := range g {
				inter += int64(g[x] & p[x])
				union += int64(g[x] | p[x])
			}
			continue
		}
		cg, cp := bb.cntG[:len(g)], bb.cntP[:len(g)]
		p = p[:len(g)]
		var in, un int32
		for x, gv := range g {
			// In the band: person (1) and not eroded (count < full, so
			// the sign bit of count-full is set).
			gb := int32(gv) & int32(uint32(cg[x]-full)>>31)
			pb := int32(p[x]) & int32(uint32(cp[x]-full)>>31)
			in += gb & pb
			un += gb | pb
		}
		inter += int64(in)
		union += int64(un)
	}
	return inter, union
}

// csr holds a boundary map as sorted x positions per row.
type csr struct {
	start []int32 // row y's xs are xs[start[y]:start[y+1]]
	xs    []int32
}

func (c *csr) rowXs(y int) []int32 { return c.xs[c.start[y]:c.start[y+1]] }

// seg2bmap builds the DAVIS one-pixel boundary map of the 0/1 mask m.
func (c *csr) seg2bmap(m []uint8, w, h int) {
	c.start = grow(c.start, h+1)
	c.xs = c.xs[:0]
	for y := 0; y < h; y++ {
		c.start[y] = int32(len(c.xs))
		row := m[y*w : (y+1)*w]
		if y == h-1 {
			for x := 0; x < w-1; x++ {
				if row[x] != row[x+1] {
					c.xs = append(c.xs, int32(x))
				}
			}
			break
		}
		next := m[(y+1)*w : (y+2)*w]
		for x := 0; x < w-1; x++ {
			v := row[x]
			if v != row[x+1] || v != next[x] || v != next[x+1] {
				c.xs = append(c.xs, int32(x))
			}
		}
		if row[w-1] != next[w-1] {
			c.xs = append(c.xs, int32(w-1))
		}
	}
	c.start[h] = int32(len(c.xs))
}

// matched counts a's pixels within Euclidean distance r of some pixel of
// b: for each row offset dy the disk spans |dx| <= half[dy] =
// floor(sqrt(r²-dy²)), found by binary search in b's sorted row.
func matched(a, b *csr, h, r int, half []int) int64 {
	if len(b.xs) == 0 {
		return 0
	}
	var n int64
	for y := 0; y < h; y++ {
	pixels:
		for _, x := range a.rowXs(y) {
			for dy := 0; dy <= r; dy++ {
				for _, yy := range [2]int{y - dy, y + dy} {
					if yy < 0 || yy >= h || (dy == 0 && yy != y) {
						continue
					}
					xs := b.rowXs(yy)
					lo := x - int32(half[dy])
					i, _ := slices.BinarySearch(xs, lo)
					if i < len(xs) && xs[i] <= x+int32(half[dy]) {
						n++
						continue pixels
					}
				}
			}
		}
	}
	return n
}

// boundaryF fills the boundary-F counts of b.
func (bb *boundaryBuf) boundaryF(gt, pred []uint8, w, h, r int, b *BoundaryCounts) {
	bb.edgeG.seg2bmap(gt, w, h)
	bb.edgeP.seg2bmap(pred, w, h)
	bb.half = bb.half[:0]
	for dy := 0; dy <= r; dy++ {
		bb.half = append(bb.half, isqrt(r*r-dy*dy))
	}
	b.GTEdge = int64(len(bb.edgeG.xs))
	b.PredEdge = int64(len(bb.edgeP.xs))
	b.PredMatched = matched(&bb.edgeP, &bb.edgeG, h, r, bb.half)
	b.GTMatched = matched(&bb.edgeG, &bb.edgeP, h, r, bb.half)
}

// isqrt is floor(sqrt(v)) for v >= 0, exact.
func isqrt(v int) int {
	s := int(math.Sqrt(float64(v)))
	for s*s > v {
		s--
	}
	for (s+1)*(s+1) <= v {
		s++
	}
	return s
}
