package trimap

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
)

// Defaults of [SLICOptions].
const (
	// DefaultPixelsPerSuperpixel sets the default count: one superpixel
	// per 400 pixels (a 20 x 20 grid cell).
	DefaultPixelsPerSuperpixel = 400
	// DefaultMaxSuperpixels caps the default count (reached at 2 MP;
	// larger images get larger superpixels).
	DefaultMaxSuperpixels = 5000
	// DefaultCompactness is m, the weight of the spatial distance.
	DefaultCompactness = 10
	// DefaultIterations is the number of assignment/update iterations;
	// Achanta et al. report that 10 suffice for most images.
	DefaultIterations = 10
)

// ErrSuperpixelCount reports a superpixel count below 1 or above the number
// of pixels (the CLI turns it into a usage error).
var ErrSuperpixelCount = errors.New("trimap: superpixel count out of range")

// SLICOptions configure [SLIC]. The zero value gives the defaults.
type SLICOptions struct {
	// Superpixels is N, the wanted number of superpixels. 0 means
	// W*H/DefaultPixelsPerSuperpixel capped at DefaultMaxSuperpixels (and
	// at least 1). Below 0 or above W*H is an error wrapping
	// ErrSuperpixelCount. The count returned is close to N, not equal.
	Superpixels int
	// RegionSize is S, the grid step in pixels; when > 0 it replaces
	// Superpixels (N = W*H/S²).
	RegionSize int
	// Compactness is m in D = sqrt(dc² + (ds/S)² m²), > 0; 0 means
	// DefaultCompactness. Larger values give more regular superpixels.
	Compactness float64
	// Iterations of assignment and update; 0 means DefaultIterations.
	Iterations int
	// Workers is the number of goroutines used within the image: 0 (or
	// less) means runtime.GOMAXPROCS(0), 1 runs single-threaded on the
	// calling goroutine. The result does not depend on it.
	Workers int
}

// CheckSuperpixelCount returns an error wrapping ErrSuperpixelCount unless
// 1 <= n <= pixels.
func CheckSuperpixelCount(n, pixels int) error {
	if n < 1 || n > pixels {
		return fmt.Errorf("%w: %d superpixels for %d pixels (want 1..%d)", ErrSuperpixelCount, n, pixels, pixels)
	}
	return nil
}

// Superpixels is a label image.
type Superpixels struct {
	W, H int
	// Labels holds one label per pixel, row-major, in 0..N-1; every label
	// is one 4-connected region. Labels are numbered in raster order of
	// their first pixel.
	Labels []int32
	// N is the number of labels.
	N int
	// S is the grid step that was used.
	S int
}

// params are the validated SLIC parameters for one image.
type params struct {
	s       int     // grid step S
	m       float64 // compactness
	iters   int
	workers int
}

// params checks the options against a w x h image and fills in the
// defaults.
func (o SLICOptions) params(w, h int) (params, error) {
	n := w * h
	var p params
	switch {
	case o.RegionSize < 0:
		return p, fmt.Errorf("%w: region size %d", ErrSuperpixelCount, o.RegionSize)
	case o.RegionSize > 0:
		p.s = o.RegionSize
	default:
		k := o.Superpixels
		if k == 0 {
			k = min(max(n/DefaultPixelsPerSuperpixel, 1), DefaultMaxSuperpixels)
		} else if err := CheckSuperpixelCount(k, n); err != nil {
			return p, err
		}
		p.s = max(int(math.Sqrt(float64(n)/float64(k))+0.5), 1)
	}
	p.m = o.Compactness
	if p.m == 0 {
		p.m = DefaultCompactness
	}
	if !(p.m > 0) || math.IsInf(p.m, 0) {
		return p, fmt.Errorf("%w: compactness %v (want > 0)", ErrBadInput, o.Compactness)
	}
	p.iters = o.Iterations
	if p.iters == 0 {
		p.iters = DefaultIterations
	}
	if p.iters < 0 {
		return p, fmt.Errorf("%w: %d iterations", ErrBadInput, o.Iterations)
	}
	p.workers = o.Workers
	if p.workers <= 0 {
		p.workers = runtime.GOMAXPROCS(0)
	}
	return p, nil
}

// SLIC segments im into superpixels with SLIC (Achanta, Shaji, Smith,
// Lucchi, Fua, Süsstrunk, "SLIC Superpixels Compared to State-of-the-Art
// Superpixel Methods", IEEE TPAMI 34(11), 2012):
//
//   - the image is converted to CIELAB ([ToLab]);
//   - seeds are placed on a regular grid of step S = sqrt(W*H/N) and moved
//     to the lowest Lab gradient in their 3x3 neighbourhood;
//   - each iteration assigns every pixel in the 2S x 2S window of a centre
//     to the centre nearest by D = sqrt(dc² + (ds/S)² m²) (dc the Lab
//     distance, ds the image-plane distance), then moves each centre to the
//     mean Lab colour and position of its pixels;
//   - finally [EnforceConnectivity] relabels so that every label is one
//     4-connected region, merging fragments of at most a quarter of the
//     nominal superpixel area W*H/K into a neighbour.
func SLIC(ctx context.Context, im Image, opt SLICOptions) (*Superpixels, error) {
	if err := im.check(); err != nil {
		return nil, err
	}
	p, err := opt.params(im.W, im.H)
	if err != nil {
		return nil, err
	}
	lab := &Lab{W: im.W, H: im.H}
	n := im.W * im.H
	lab.L, lab.A, lab.B = make([]float32, n), make([]float32, n), make([]float32, n)
	t := newLabTables()
	parallelRows(im.H, p.workers, 64, func(y0, y1 int) {
		a, b := y0*im.W, y1*im.W
		t.convert(im.Pix[3*a:3*b], lab.L[a:b], lab.A[a:b], lab.B[a:b])
	})
	return slicLab(ctx, lab, p, bestKernel())
}

// SLICLab is [SLIC] on an image already converted to CIELAB.
func SLICLab(ctx context.Context, lab *Lab, opt SLICOptions) (*Superpixels, error) {
	n := lab.W * lab.H
	if lab.W <= 0 || lab.H <= 0 || len(lab.L) != n || len(lab.A) != n || len(lab.B) != n {
		return nil, fmt.Errorf("%w: Lab planes do not match %dx%d", ErrBadInput, lab.W, lab.H)
	}
	p, err := opt.params(lab.W, lab.H)
	if err != nil {
		return nil, err
	}
	return slicLab(ctx, lab, p, bestKernel())
}

// centre is one cluster centre in the five-dimensional labxy space.
type centre struct{ l, a, b, x, y float32 }

// sums accumulates a cluster's pixels. Colour sums are in 1/labFixed
// fixed point so that addition is associative and the reduction over
// workers gives the same bits whatever the split.
type sums struct{ l, a, b, x, y, n int64 }

const labFixed = 1 << 16

func slicLab(ctx context.Context, lab *Lab, p params, kern windowKernel) (*Superpixels, error) {
	w, h, s, iters, workers := lab.W, lab.H, p.s, p.iters, p.workers
	cs := gridSeeds(lab, s)
	wt := float32(p.m * p.m / float64(s*s))

	n := w * h
	labels := make([]int32, n)
	for i := range labels {
		labels[i] = -1
	}
	dist := make([]float32, n)
	inf := float32(math.Inf(1))
	// Bands of rows: small enough that a band's planes stay in cache
	// between the assignment and the accumulation. Any split gives the
	// same result.
	band := max(min(s, 32), 8)
	nb := (h + band - 1) / band
	workers = max(min(workers, nb), 1)
	acc := make([][]sums, workers)
	for i := range acc {
		acc[i] = make([]sums, len(cs))
	}

	for it := 0; it < iters; it++ {
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("trimap: SLIC cancelled: %w", err)
		}
		last := it == iters-1
		for i := range acc {
			clear(acc[i])
		}
		var next atomic.Int64
		run := func(wi int) {
			a := acc[wi]
			xw := make([]float32, 2*s+2)
			for {
				bi := int(next.Add(1) - 1)
				if bi >= nb {
					return
				}
				y0, y1 := bi*band, min((bi+1)*band, h)
				fill(dist[y0*w:y1*w], inf)
				assignBand(kern, lab, cs, labels, dist, s, wt, y0, y1, xw)
				if !last { // the centres of the last iteration are not used
					accumulate(lab, labels, a, y0, y1)
				}
			}
		}
		if workers == 1 {
			run(0)
		} else {
			var wg sync.WaitGroup
			for wi := range workers {
				wg.Go(func() { run(wi) })
			}
			wg.Wait()
		}
		for c := range cs {
			var t sums
			for wi := range acc {
				u := acc[wi][c]
				t.l += u.l
				t.a += u.a
				t.b += u.b
				t.x += u.x
				t.y += u.y
				t.n += u.n
			}
			if t.n == 0 {
				continue // an empty cluster keeps its centre
			}
			f := float64(t.n)
			cs[c] = centre{
				l: float32(float64(t.l) / labFixed / f),
				a: float32(float64(t.a) / labFixed / f),
				b: float32(float64(t.b) / labFixed / f),
				x: float32(float64(t.x) / f),
				y: float32(float64(t.y) / f),
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("trimap: SLIC cancelled: %w", err)
	}
	// Achanta's code merges fragments of at most a quarter of the
	// nominal superpixel area.
	out, nl := EnforceConnectivity(labels, w, h, n/len(cs)/4+1)
	return &Superpixels{W: w, H: h, Labels: out, N: nl, S: s}, nil
}

// gridSeeds places seeds on a grid of step s, spreading the remainder
// evenly as in Achanta's reference code, and moves each seed to the lowest
// gradient position of its 3x3 neighbourhood.
func gridSeeds(lab *Lab, s int) []centre {
	w, h := lab.W, lab.H
	xs := max(int(0.5+float64(w)/float64(s)), 1)
	ys := max(int(0.5+float64(h)/float64(s)), 1)
	xerr := float64(w-s*xs) / float64(xs)
	yerr := float64(h-s*ys) / float64(ys)
	cs := make([]centre, 0, xs*ys)
	for j := range ys {
		y := min(max(int(float64(j*s+s/2)+float64(j)*yerr), 0), h-1)
		for i := range xs {
			x := min(max(int(float64(i*s+s/2)+float64(i)*xerr), 0), w-1)
			x, y := lowestGradient(lab, x, y)
			p := y*w + x
			cs = append(cs, centre{l: lab.L[p], a: lab.A[p], b: lab.B[p], x: float32(x), y: float32(y)})
		}
	}
	return cs
}

// gradient is the squared Lab gradient ||I(x+1,y)-I(x-1,y)||² +
// ||I(x,y+1)-I(x,y-1)||² at an interior pixel.
func gradient(lab *Lab, x, y int) float32 {
	w := lab.W
	p := y*w + x
	sq := func(i, j int) float32 {
		dl, da, db := lab.L[i]-lab.L[j], lab.A[i]-lab.A[j], lab.B[i]-lab.B[j]
		return dl*dl + da*da + db*db
	}
	return sq(p-1, p+1) + sq(p-w, p+w)
}

func lowestGradient(lab *Lab, x, y int) (int, int) {
	if lab.W < 3 || lab.H < 3 {
		return x, y
	}
	bx, by := x, y
	best := float32(math.Inf(1))
	if x > 0 && x < lab.W-1 && y > 0 && y < lab.H-1 {
		best = gradient(lab, x, y)
	}
	for dy := -1; dy <= 1; dy++ {
		for dx := -1; dx <= 1; dx++ {
			nx, ny := x+dx, y+dy
			if nx < 1 || nx > lab.W-2 || ny < 1 || ny > lab.H-2 {
				continue
			}
			if g := gradient(lab, nx, ny); g < best {
				best, bx, by = g, nx, ny
			}
		}
	}
	return bx, by
}

// assignBand runs the assignment step for rows [y0,y1): every centre whose
// 2S x 2S window meets the band, in index order, claims the pixels it is
// nearest to so far. Each pixel sees the centres in the same order whatever
// the banding, so the labels do not depend on it.
func assignBand(kern windowKernel, lab *Lab, cs []centre, labels []int32, dist []float32, s int, wt float32, y0, y1 int, xw []float32) {
	w, h := lab.W, lab.H
	fs := float32(s)
	for k := range cs {
		c := &cs[k]
		// The window of Achanta's code: [c-S, c+S), truncated.
		wy1 := max(max(0, int(c.y-fs)), y0)
		wy2 := min(min(h, int(c.y+fs)), y1)
		if wy2 <= wy1 {
			continue
		}
		x1 := max(0, int(c.x-fs))
		x2 := min(w, int(c.x+fs))
		if x2 <= x1 {
			continue
		}
		kern(lab, dist, labels, x1, x2, wy1, wy2, c, wt, int32(k), spatialX(xw, x2-x1, float32(x1)-c.x, wt))
	}
}

// accumulate adds the pixels of rows [y0,y1) to their clusters' sums. It
// sums runs of equal labels along a row in registers, always in the same
// order, and adds each run to the cluster's sums in fixed point; so the
// totals do not depend on how rows are split over workers.
func accumulate(lab *Lab, labels []int32, acc []sums, y0, y1 int) {
	w := lab.W
	for y := y0; y < y1; y++ {
		r := y * w
		L, A, B, lbl := lab.L[r:r+w], lab.A[r:r+w], lab.B[r:r+w], labels[r:r+w]
		for x := 0; x < w; {
			k := lbl[x]
			x0 := x
			var sl, sa, sb float32
			for ; x < w && lbl[x] == k; x++ {
				sl += L[x]
				sa += A[x]
				sb += B[x]
			}
			if k < 0 {
				continue
			}
			n := int64(x - x0)
			a := &acc[k]
			a.l += int64(sl * labFixed)
			a.a += int64(sa * labFixed)
			a.b += int64(sb * labFixed)
			a.x += n * int64(x0+x-1) / 2
			a.y += n * int64(y)
			a.n += n
		}
	}
}

// fill sets every element of d to v, doubling with copy (memmove is
// vectorised; a plain loop stores one float at a time).
func fill(d []float32, v float32) {
	if len(d) == 0 {
		return
	}
	d[0] = v
	for j := 1; j < len(d); j *= 2 {
		copy(d[j:], d[:j])
	}
}

// parallelRows calls fn on bands of at most grain rows covering [0,h),
// from up to workers goroutines.
func parallelRows(h, workers, grain int, fn func(y0, y1 int)) {
	nb := (h + grain - 1) / grain
	if workers <= 1 || nb <= 1 {
		fn(0, h)
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, nb) {
		wg.Go(func() {
			for {
				b := int(next.Add(1) - 1)
				if b >= nb {
					return
				}
				fn(b*grain, min((b+1)*grain, h))
			}
		})
	}
	wg.Wait()
}
