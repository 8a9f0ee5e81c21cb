package coco

import (
	"errors"
	"fmt"
)

// Encode run-length encodes a row-major w x h plane (non-zero is 1) in
// pycocotools' column-major order (maskApi.c rleEncode): the first count
// is the leading run of 0s, possibly 0.
func Encode(mask []uint8, w, h int) RLE {
	r := RLE{H: h, W: w}
	var prev uint8
	var run uint32
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			v := mask[y*w+x]
			if v != 0 {
				v = 1
			}
			if v != prev {
				r.Counts = append(r.Counts, run)
				run, prev = 0, v
			}
			run++
		}
	}
	r.Counts = append(r.Counts, run)
	return r
}

// InstanceMasks splits a row-major plane of instance ids (0 background)
// into one RLE per id present, in id order.
func InstanceMasks(plane []uint8, w, h int) []RLE {
	var present [256]bool
	for _, v := range plane {
		present[v] = true
	}
	var out []RLE
	one := make([]uint8, len(plane))
	for id := 1; id < 256; id++ {
		if !present[id] {
			continue
		}
		for i, v := range plane {
			one[i] = 0
			if v == uint8(id) {
				one[i] = 1
			}
		}
		out = append(out, Encode(one, w, h))
	}
	return out
}

// Decode returns the row-major 0/1 plane, W·H bytes. Counts that sum past
// W·H are cut at the end of the plane.
func (r RLE) Decode() []uint8 {
	out := make([]uint8, r.W*r.H)
	if r.H == 0 {
		return out
	}
	i, n := 0, r.W*r.H
	for k, c := range r.Counts {
		if k%2 == 0 {
			i += int(c)
			continue
		}
		for j := 0; j < int(c) && i < n; j, i = j+1, i+1 {
			out[(i%r.H)*r.W+i/r.H] = 1
		}
	}
	return out
}

// String is the compressed counts string of pycocotools' rleToString:
// each count (after the first two, its difference from the count two
// before) is written as 5-bit little-endian groups, sign-extended from
// bit 4 of the last group, with 0x20 marking "more" and 48 added to make
// it printable.
func (r RLE) String() string {
	b := make([]byte, 0, len(r.Counts)*2)
	for i, c := range r.Counts {
		x := int64(c)
		if i > 2 {
			x -= int64(r.Counts[i-2])
		}
		for more := true; more; {
			g := byte(x & 0x1f)
			x >>= 5
			if g&0x10 != 0 {
				more = x != -1
			} else {
				more = x != 0
			}
			if more {
				g |= 0x20
			}
			b = append(b, g+48)
		}
	}
	return string(b)
}

// ErrMalformedRLE marks counts that cannot be an h x w mask.
var ErrMalformedRLE = errors.New("malformed RLE")

// ParseCounts reads a compressed counts string (rleFrString) for an h x w
// mask; counts that do not sum to h·w are an error.
func ParseCounts(s string, h, w int) (RLE, error) {
	r := RLE{H: h, W: w}
	for p := 0; p < len(s); {
		var x int64
		for k := 0; ; k++ {
			if p >= len(s) {
				return RLE{}, fmt.Errorf("%w: counts string ends inside a number", ErrMalformedRLE)
			}
			c := s[p] - 48
			if s[p] < 48 || c > 63 {
				return RLE{}, fmt.Errorf("%w: byte %q at %d is outside the counts alphabet", ErrMalformedRLE, s[p], p)
			}
			if k > 12 {
				return RLE{}, fmt.Errorf("%w: number at %d is too long", ErrMalformedRLE, p)
			}
			x |= int64(c&0x1f) << (5 * k)
			p++
			if c&0x20 == 0 {
				if c&0x10 != 0 {
					x |= -1 << (5 * (k + 1))
				}
				break
			}
		}
		if m := len(r.Counts); m > 2 {
			x += int64(r.Counts[m-2])
		}
		if x < 0 || x > int64(^uint32(0)) {
			return RLE{}, fmt.Errorf("%w: count %d out of range", ErrMalformedRLE, x)
		}
		r.Counts = append(r.Counts, uint32(x))
	}
	if err := r.Check(); err != nil {
		return RLE{}, err
	}
	return r, nil
}

// FromCounts is an uncompressed RLE ({size, counts: [ints]}), checked.
func FromCounts(counts []int64, h, w int) (RLE, error) {
	r := RLE{H: h, W: w, Counts: make([]uint32, len(counts))}
	for i, c := range counts {
		if c < 0 || c > int64(^uint32(0)) {
			return RLE{}, fmt.Errorf("%w: count %d out of range", ErrMalformedRLE, c)
		}
		r.Counts[i] = uint32(c)
	}
	if err := r.Check(); err != nil {
		return RLE{}, err
	}
	return r, nil
}

// Check says whether the counts sum to H·W.
func (r RLE) Check() error {
	if r.H < 0 || r.W < 0 {
		return fmt.Errorf("%w: size %dx%d", ErrMalformedRLE, r.H, r.W)
	}
	var sum uint64
	for _, c := range r.Counts {
		sum += uint64(c)
	}
	if sum != uint64(r.H)*uint64(r.W) {
		return fmt.Errorf("%w: counts sum to %d, not h·w = %d·%d = %d", ErrMalformedRLE, sum, r.H, r.W, r.H*r.W)
	}
	return nil
}

// Area is the number of 1 pixels (rleArea: the sum of the odd counts).
func (r RLE) Area() int {
	a := 0
	for j := 1; j < len(r.Counts); j += 2 {
		a += int(r.Counts[j])
	}
	return a
}

// BBox is [x, y, w, h] of the 1 pixels' extent, w = xmax − xmin + 1, as
// pycocotools' toBbox gives; zeros for an empty mask. A run of 1s that
// wraps from one column to the next spans every row (rleToBbox).
func (r RLE) BBox() [4]float64 {
	m := len(r.Counts) / 2 * 2
	if m == 0 || r.H == 0 {
		return [4]float64{}
	}
	h := uint32(r.H)
	xs, ys, xe, ye := uint32(r.W), h, uint32(0), uint32(0)
	var cc, xp uint32
	for j := 0; j < m; j++ {
		cc += r.Counts[j]
		t := cc - uint32(j%2)
		y := t % h
		x := (t - y) / h
		if j%2 == 0 {
			xp = x
		} else if xp < x {
			ys, ye = 0, h-1
		}
		xs, xe = min(xs, x), max(xe, x)
		ys, ye = min(ys, y), max(ye, y)
	}
	return [4]float64{float64(xs), float64(ys), float64(xe - xs + 1), float64(ye - ys + 1)}
}

// Merge is the union (or, with intersect, the intersection) of same-size
// masks (rleMerge); an empty list is an empty 0x0 RLE.
func Merge(rs []RLE, intersect bool) (RLE, error) {
	if len(rs) == 0 {
		return RLE{}, nil
	}
	acc := RLE{H: rs[0].H, W: rs[0].W, Counts: append([]uint32(nil), rs[0].Counts...)}
	for _, b := range rs[1:] {
		if b.H != acc.H || b.W != acc.W {
			return RLE{}, fmt.Errorf("%w: merging a %dx%d mask with a %dx%d one", ErrMalformedRLE, b.H, b.W, acc.H, acc.W)
		}
		acc.Counts = mergeCounts(acc.Counts, b.Counts, intersect)
	}
	return acc, nil
}

// mergeCounts walks both run lists at once, emitting a run each time the
// combined value changes.
func mergeCounts(a, b []uint32, intersect bool) []uint32 {
	wa, wb := newRunWalker(a), newRunWalker(b)
	var out []uint32
	var cur uint32
	v := false
	for !wa.done() && !wb.done() {
		step := min(wa.left, wb.left)
		nv := wa.on || wb.on
		if intersect {
			nv = wa.on && wb.on
		}
		if nv != v {
			out = append(out, cur)
			cur, v = 0, nv
		}
		cur += step
		wa.take(step)
		wb.take(step)
	}
	return append(out, cur)
}

// runWalker steps through alternating 0/1 runs, skipping empty ones.
type runWalker struct {
	c    []uint32
	i    int // index of the next run to load
	left uint32
	on   bool
}

func newRunWalker(c []uint32) *runWalker {
	w := &runWalker{c: c, on: true}
	w.take(0)
	return w
}

func (w *runWalker) done() bool { return w.left == 0 }

func (w *runWalker) take(n uint32) {
	w.left -= n
	for w.left == 0 && w.i < len(w.c) {
		w.left = w.c[w.i]
		w.on = w.i%2 == 1
		w.i++
	}
}

// IoU is the overlap of a detection's mask with a ground truth's (rleIou):
// intersection over union, or over the detection's area for a crowd
// ground truth; 0 when they do not intersect, -1 when their sizes differ.
func IoU(dt, gt RLE, crowd bool) float64 {
	if dt.H != gt.H || dt.W != gt.W {
		return -1
	}
	wa, wb := newRunWalker(dt.Counts), newRunWalker(gt.Counts)
	var inter, union uint64
	for !wa.done() && !wb.done() {
		step := min(wa.left, wb.left)
		if wa.on || wb.on {
			union += uint64(step)
			if wa.on && wb.on {
				inter += uint64(step)
			}
		}
		wa.take(step)
		wb.take(step)
	}
	if inter == 0 {
		return 0
	}
	if crowd {
		union = uint64(dt.Area())
	}
	return float64(inter) / float64(union)
}

// BBoxIoU is the overlap of [x, y, w, h] boxes (bbIou): intersection over
// union, or over the detection's area for a crowd ground truth.
func BBoxIoU(dt, gt [4]float64, crowd bool) float64 {
	w := min(dt[0]+dt[2], gt[0]+gt[2]) - max(dt[0], gt[0])
	if w <= 0 {
		return 0
	}
	h := min(dt[1]+dt[3], gt[1]+gt[3]) - max(dt[1], gt[1])
	if h <= 0 {
		return 0
	}
	i := w * h
	u := dt[2]*dt[3] + gt[2]*gt[3] - i
	if crowd {
		u = dt[2] * dt[3]
	}
	return i / u
}
