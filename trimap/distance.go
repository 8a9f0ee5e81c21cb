package trimap

import "math"

// withinDistance returns the pixels whose Euclidean distance to the nearest
// pixel of set is <= r (r >= 0). The nearest set pixel of any pixel is an
// edge pixel of set (one with a 4-neighbour outside it: the neighbour one
// step towards the pixel would otherwise be nearer), so when the edge is
// short it stamps a disc of radius r on every edge pixel; otherwise it
// thresholds the exact distance transform.
func withinDistance(set []bool, w, h, r int) []bool {
	var edge []int32
	for y := 0; y < h; y++ {
		row := set[y*w : (y+1)*w]
		for x, in := range row {
			if in && ((x > 0 && !row[x-1]) || (x+1 < w && !row[x+1]) ||
				(y > 0 && !set[(y-1)*w+x]) || (y+1 < h && !set[(y+1)*w+x])) {
				edge = append(edge, int32(y*w+x))
			}
		}
	}
	if d := int64(2*r + 1); int64(len(edge))*d*d > 4*int64(w*h) {
		return withinEDT(set, w, h, r)
	}
	return withinStamp(set, edge, w, h, r)
}

func withinStamp(set []bool, edge []int32, w, h, r int) []bool {
	out := append([]bool(nil), set...) // distance 0
	half := make([]int, 2*r+1)         // half-width of the disc per row
	for dy := -r; dy <= r; dy++ {
		half[dy+r] = int(math.Sqrt(float64(r*r - dy*dy)))
		for (half[dy+r]+1)*(half[dy+r]+1)+dy*dy <= r*r { // guard against rounding
			half[dy+r]++
		}
		for half[dy+r] > 0 && half[dy+r]*half[dy+r]+dy*dy > r*r {
			half[dy+r]--
		}
	}
	for _, e := range edge {
		ex, ey := int(e)%w, int(e)/w
		for dy := -r; dy <= r; dy++ {
			y := ey + dy
			if y < 0 || y >= h {
				continue
			}
			hw := half[dy+r]
			row := out[y*w : (y+1)*w]
			for x := max(ex-hw, 0); x <= min(ex+hw, w-1); x++ {
				row[x] = true
			}
		}
	}
	return out
}

func withinEDT(set []bool, w, h, r int) []bool {
	d := sqDistance(set, w, h)
	r2 := int32(min(int64(r)*int64(r), math.MaxInt32-1))
	out := make([]bool, len(d))
	for p, v := range d {
		out[p] = v <= r2
	}
	return out
}

// sqDistance returns, for every pixel, the squared Euclidean distance to
// the nearest pixel p with set[p] true (an exact distance transform:
// Felzenszwalb & Huttenlocher, "Distance Transforms of Sampled Functions",
// Theory of Computing 8, 2012). Where no pixel is set, every distance is
// math.MaxInt32.
func sqDistance(set []bool, w, h int) []int32 {
	const inf = math.MaxInt32
	big := float64(min(2*(w+h)*(w+h), math.MaxInt32-1)) // beyond any real distance
	out := make([]int32, w*h)
	f := make([]float64, max(w, h))
	d := make([]float64, max(w, h))
	v := make([]int, max(w, h))
	z := make([]float64, max(w, h)+1)
	any := false
	// Columns: 1D transform of the 0/big indicator.
	col := make([]float64, h)
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			if set[y*w+x] {
				col[y] = 0
				any = true
			} else {
				col[y] = big
			}
		}
		edt1D(col, d[:h], v, z, big)
		for y := 0; y < h; y++ {
			out[y*w+x] = int32(min(d[y], big))
		}
	}
	if !any {
		for i := range out {
			out[i] = inf
		}
		return out
	}
	// Rows.
	for y := 0; y < h; y++ {
		r := out[y*w : (y+1)*w]
		for x := range r {
			f[x] = float64(r[x])
		}
		edt1D(f[:w], d[:w], v, z, big)
		for x := range r {
			r[x] = int32(min(d[x], big))
		}
	}
	return out
}

// edt1D is the one-dimensional squared distance transform of f into d:
// the lower envelope of the parabolas (q-p)² + f(p), clamped at big.
func edt1D(f, d []float64, v []int, z []float64, big float64) {
	n := len(f)
	k := 0
	v[0] = 0
	z[0] = math.Inf(-1)
	z[1] = math.Inf(1)
	for q := 1; q < n; q++ {
		s := parabolaCross(f, q, v[k])
		for s <= z[k] { // z[0] is -Inf, so k stays >= 0
			k--
			s = parabolaCross(f, q, v[k])
		}
		k++
		v[k] = q
		z[k] = s
		z[k+1] = math.Inf(1)
	}
	k = 0
	for q := 0; q < n; q++ {
		for z[k+1] < float64(q) {
			k++
		}
		dq := float64(q - v[k])
		d[q] = min(dq*dq+f[v[k]], big)
	}
}

// parabolaCross is the abscissa where the parabolas rooted at p < q meet.
func parabolaCross(f []float64, q, p int) float64 {
	return ((f[q] + float64(q*q)) - (f[p] + float64(p*p))) / float64(2*q-2*p)
}
