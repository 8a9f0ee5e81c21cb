package eval

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestBoundaryWidths(t *testing.T) {
	for _, tc := range []struct {
		w, h, d, tol int
	}{
		{1920, 1080, 44, 18}, // diagonal 2202.9: 0.02 x = 44.06, 0.008 x = 17.6 -> ceil 18
		{10, 10, 1, 1},       // 0.02 x 14.1 = 0.28 rounds to 0, raised to 1
		{35, 120, 2, 1},      // diagonal exactly 125: 2.5 rounds half to even (Python round) -> 2; 0.008 x = 1 exactly
		{45, 60, 2, 1},       // diagonal 75: 1.5 -> 2 (half to even)
		{800, 600, 20, 8},    // diagonal 1000: 20 and 8 exactly
	} {
		if d := boundaryIoUWidth(tc.w, tc.h); d != tc.d {
			t.Errorf("%dx%d: Boundary IoU d = %d, want %d", tc.w, tc.h, d, tc.d)
		}
		if r := boundaryFTolerance(tc.w, tc.h); r != tc.tol {
			t.Errorf("%dx%d: boundary F tolerance = %d, want %d", tc.w, tc.h, r, tc.tol)
		}
	}
}

// grid turns rows of '#' (person) and '.' into a 0/1 plane.
func grid(rows ...string) (m []uint8, w, h int) {
	w, h = len(rows[0]), len(rows)
	for _, r := range rows {
		for _, c := range r {
			m = append(m, b2u(c == '#'))
		}
	}
	return m, w, h
}

func TestBandIoUHandWorked(t *testing.T) {
	// 3x3 squares, the prediction one column right of the mask, d = 1.
	// Eroding a 3x3 square once leaves its centre, so each band is its
	// ring of 8. The rings share rows 1-3 x columns 2-3 less the mask's
	// centre (2,2) and the prediction's centre (2,3): 4 pixels. Union
	// 8 + 8 - 4 = 12.
	gt, w, h := grid(
		".....",
		".###.",
		".###.",
		".###.",
		".....")
	pred, _, _ := grid(
		".....",
		"..###",
		"..###",
		"..###",
		".....")
	var bb boundaryBuf
	if i, u := bb.bandIoU(gt, pred, w, h, 1); i != 4 || u != 12 {
		t.Errorf("shifted squares: inter, union = %d, %d; want 4, 12", i, u)
	}
	// A full image: the border counts as background, so the band is the
	// outer ring of 16, and the interior 3x3 is eroded.
	full := make([]uint8, 25)
	for i := range full {
		full[i] = 1
	}
	if i, u := bb.bandIoU(full, full, 5, 5, 1); i != 16 || u != 16 {
		t.Errorf("full image: inter, union = %d, %d; want 16, 16", i, u)
	}
	// d = 2 erodes the full 5x5 image to its centre (band 24) and the 3x3
	// square to nothing (band 9): they share the square less the centre.
	if i, u := bb.bandIoU(full, gt, 5, 5, 2); i != 8 || u != 25 {
		t.Errorf("full vs square, d=2: inter, union = %d, %d; want 8, 25", i, u)
	}
	// Through Score: 5x5, so d = round(0.02 x 7.07) = 0, raised to 1.
	im := mustScore(t, Pair{W: 5, H: 5, Prob: u2f(pred), Mask: u2mask(gt)}, DefaultOptions())
	if im.BoundaryWidth != 1 || im.Boundary.Inter != 4 || im.Boundary.Union != 12 {
		t.Errorf("Score: d=%d inter=%d union=%d, want 1, 4, 12", im.BoundaryWidth, im.Boundary.Inter, im.Boundary.Union)
	}
	wantValues(t, &im, 1e-12, map[string]float64{"boundary_iou": 4.0 / 12})
}

func u2f(m []uint8) []float32 {
	out := make([]float32, len(m))
	for i, v := range m {
		out[i] = float32(v)
	}
	return out
}

func u2mask(m []uint8) []uint8 {
	out := make([]uint8, len(m))
	for i, v := range m {
		out[i] = 255 * v
	}
	return out
}

// referenceBand is mask_to_boundary transcribed: pad with one background
// pixel, erode d times with a 3x3 square (pixels outside the padded image
// do not erode, as cv2.erode's default border), subtract.
func referenceBand(m []uint8, w, h, d int) []uint8 {
	pw, ph := w+2, h+2
	cur := make([]uint8, pw*ph)
	for y := 0; y < h; y++ {
		copy(cur[(y+1)*pw+1:], m[y*w:(y+1)*w])
	}
	for range d {
		next := make([]uint8, len(cur))
		for y := 0; y < ph; y++ {
			for x := 0; x < pw; x++ {
				v := uint8(1)
				for dy := -1; dy <= 1; dy++ {
					for dx := -1; dx <= 1; dx++ {
						yy, xx := y+dy, x+dx
						if yy >= 0 && yy < ph && xx >= 0 && xx < pw && cur[yy*pw+xx] == 0 {
							v = 0
						}
					}
				}
				next[y*pw+x] = v
			}
		}
		cur = next
	}
	band := make([]uint8, w*h)
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			band[y*w+x] = m[y*w+x] &^ cur[(y+1)*pw+x+1]
		}
	}
	return band
}

func randomBlobs(rng *rand.Rand, w, h, n int) []uint8 {
	m := make([]uint8, w*h)
	for range n {
		cx, cy, r := rng.IntN(w), rng.IntN(h), 1+rng.IntN(max(w, h)/3+1)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r {
					m[y*w+x] = 1
				}
			}
		}
	}
	for range w * h / 20 { // speckle
		m[rng.IntN(w*h)] ^= 1
	}
	return m
}

func TestBandIoUMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var bb boundaryBuf
	for trial := range 60 {
		w, h := 1+rng.IntN(30), 1+rng.IntN(30)
		d := 1 + rng.IntN(4)
		gt, pred := randomBlobs(rng, w, h, 3), randomBlobs(rng, w, h, 3)
		gb, pb := referenceBand(gt, w, h, d), referenceBand(pred, w, h, d)
		var wi, wu int64
		for i := range gb {
			wi += int64(gb[i] & pb[i])
			wu += int64(gb[i] | pb[i])
		}
		if i, u := bb.bandIoU(gt, pred, w, h, d); i != wi || u != wu {
			t.Fatalf("trial %d (%dx%d, d=%d): inter, union = %d, %d; reference %d, %d", trial, w, h, d, i, u, wi, wu)
		}
	}
}

type pt struct{ y, x int }

func edgePoints(c *csr, h int) []pt {
	var out []pt
	for y := 0; y < h; y++ {
		for _, x := range c.rowXs(y) {
			out = append(out, pt{y, int(x)})
		}
	}
	return out
}

func TestSeg2bmapHandWorked(t *testing.T) {
	// A pixel is boundary when it differs from its east, south or
	// south-east neighbour (last row: east only; last column: south only;
	// bottom-right: never). Worked by hand for a 2x2 square.
	m, w, h := grid(
		"....",
		".##.",
		".##.",
		"....")
	var c csr
	c.seg2bmap(m, w, h)
	want := []pt{{0, 0}, {0, 1}, {0, 2}, {1, 0}, {1, 2}, {2, 0}, {2, 1}, {2, 2}}
	if got := edgePoints(&c, h); !slices.Equal(got, want) {
		t.Errorf("square: %v, want %v", got, want)
	}
	// The same square one column right, touching the right border.
	m, _, _ = grid(
		"....",
		"..##",
		"..##",
		"....")
	c.seg2bmap(m, w, h)
	want = []pt{{0, 1}, {0, 2}, {0, 3}, {1, 1}, {2, 1}, {2, 2}, {2, 3}}
	if got := edgePoints(&c, h); !slices.Equal(got, want) {
		t.Errorf("shifted square: %v, want %v", got, want)
	}
	// A full image has no boundary at all: the image edge is not one.
	m, _, _ = grid("###", "###")
	c.seg2bmap(m, 3, 2)
	if len(c.xs) != 0 {
		t.Errorf("full image: boundary %v", edgePoints(&c, 2))
	}
}

func csrOf(h int, pts ...pt) *csr {
	c := &csr{start: make([]int32, h+1)}
	slices.SortFunc(pts, func(a, b pt) int {
		if a.y != b.y {
			return a.y - b.y
		}
		return a.x - b.x
	})
	i := 0
	for y := 0; y < h; y++ {
		c.start[y] = int32(i)
		for i < len(pts) && pts[i].y == y {
			c.xs = append(c.xs, int32(pts[i].x))
			i++
		}
	}
	c.start[h] = int32(len(c.xs))
	return c
}

func TestMatchedDisk(t *testing.T) {
	// skimage disk(2): x²+y² <= 4. Around a ground-truth pixel at (5,5):
	// offsets (0,2), (2,0), (1,1) are inside; (1,2), (2,1), (2,2) are not.
	gt := csrOf(11, pt{5, 5})
	pred := csrOf(11, pt{5, 7}, pt{7, 5}, pt{6, 6}, pt{6, 7}, pt{7, 6}, pt{3, 3}, pt{5, 5}, pt{4, 4})
	half := []int{2, 1, 0} // floor(sqrt(4 - dy²))
	if n := matched(pred, gt, 11, 2, half); n != 5 {
		t.Errorf("matched = %d, want 5 ((5,7) (7,5) (6,6) (5,5) (4,4))", n)
	}
	if n := matched(gt, pred, 11, 2, half); n != 1 {
		t.Errorf("reverse matched = %d, want 1", n)
	}
	if n := matched(pred, csrOf(11), 11, 2, half); n != 0 {
		t.Errorf("against an empty map: %d", n)
	}
}

func TestBoundaryFHandWorked(t *testing.T) {
	// The two squares of TestSeg2bmapHandWorked: 8 mask boundary pixels,
	// 7 prediction ones, 4 in common. Tolerance 0 (exact): P = 4/7,
	// R = 4/8, F = 2PR/(P+R) = 8/15. Tolerance 1: every pixel of each lies
	// next to one of the other: F = 1.
	gt, w, h := grid("....", ".##.", ".##.", "....")
	pred, _, _ := grid("....", "..##", "..##", "....")
	var bb boundaryBuf
	var b BoundaryCounts
	bb.boundaryF(gt, pred, w, h, 0, &b)
	if b != (BoundaryCounts{PredEdge: 7, PredMatched: 4, GTEdge: 8, GTMatched: 4}) {
		t.Errorf("tolerance 0: %+v", b)
	}
	if f := boundaryFScore(b); !near(f, 8.0/15, 1e-15) {
		t.Errorf("F = %v, want 8/15", f)
	}
	b = BoundaryCounts{}
	bb.boundaryF(gt, pred, w, h, 1, &b)
	if b != (BoundaryCounts{PredEdge: 7, PredMatched: 7, GTEdge: 8, GTMatched: 8}) {
		t.Errorf("tolerance 1: %+v", b)
	}
	// Through Score (4x4: tolerance ceil(0.008 x 5.66) = 1).
	im := mustScore(t, Pair{W: w, H: h, Prob: u2f(pred), Mask: u2mask(gt)}, DefaultOptions())
	wantValues(t, &im, 1e-12, map[string]float64{"boundary_f": 1})
}

func TestBoundaryFConventions(t *testing.T) {
	for _, tc := range []struct {
		b    BoundaryCounts
		want float64
	}{
		{BoundaryCounts{}, 1},                       // neither has a boundary: P = R = 1
		{BoundaryCounts{GTEdge: 5}, 0},              // only the mask: P = 1, R = 0
		{BoundaryCounts{PredEdge: 5}, 0},            // only the prediction: P = 0, R = 1
		{BoundaryCounts{PredEdge: 4, GTEdge: 4}, 0}, // nothing matched: P + R = 0
		{BoundaryCounts{PredEdge: 4, PredMatched: 2, GTEdge: 2, GTMatched: 2}, 2 * 0.5 / 1.5},
	} {
		if f := boundaryFScore(tc.b); !near(f, tc.want, 1e-15) {
			t.Errorf("%+v: F = %v, want %v", tc.b, f, tc.want)
		}
	}
}

// referenceBoundaryF is DAVIS f_measure's counting transcribed: seg2bmap
// on full arrays, dilation by a disk by brute force.
func referenceBoundaryF(gt, pred []uint8, w, h, r int) BoundaryCounts {
	bmap := func(s []uint8) []uint8 {
		at := func(y, x int) uint8 {
			if y >= h || x >= w {
				return 0
			}
			return s[y*w+x]
		}
		b := make([]uint8, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				v := s[y*w+x]
				e, so, se := at(y, x+1), at(y+1, x), at(y+1, x+1)
				switch {
				case y == h-1 && x == w-1:
				case y == h-1:
					b[y*w+x] = b2u(v != e)
				case x == w-1:
					b[y*w+x] = b2u(v != so)
				default:
					b[y*w+x] = b2u(v != e || v != so || v != se)
				}
			}
		}
		return b
	}
	dilate := func(b []uint8) []uint8 {
		out := make([]uint8, w*h)
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				for dy := -r; dy <= r; dy++ {
					for dx := -r; dx <= r; dx++ {
						yy, xx := y+dy, x+dx
						if dx*dx+dy*dy <= r*r && yy >= 0 && yy < h && xx >= 0 && xx < w && b[yy*w+xx] != 0 {
							out[y*w+x] = 1
						}
					}
				}
			}
		}
		return out
	}
	gb, pb := bmap(gt), bmap(pred)
	gd, pd := dilate(gb), dilate(pb)
	var c BoundaryCounts
	for i := range gb {
		c.GTEdge += int64(gb[i])
		c.PredEdge += int64(pb[i])
		c.GTMatched += int64(gb[i] & pd[i])
		c.PredMatched += int64(pb[i] & gd[i])
	}
	return c
}

func TestBoundaryFMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	var bb boundaryBuf
	for trial := range 60 {
		w, h := 1+rng.IntN(30), 1+rng.IntN(30)
		r := rng.IntN(5)
		gt, pred := randomBlobs(rng, w, h, 2), randomBlobs(rng, w, h, 3)
		var got BoundaryCounts
		bb.boundaryF(gt, pred, w, h, r, &got)
		if want := referenceBoundaryF(gt, pred, w, h, r); got != want {
			t.Fatalf("trial %d (%dx%d, r=%d): %+v, reference %+v", trial, w, h, r, got, want)
		}
	}
}
