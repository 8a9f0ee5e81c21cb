package coco

import (
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrPolygon marks a polygon that cannot be rasterised.
var ErrPolygon = errors.New("bad polygon")

// FromPolygons rasterises polygons (each x0,y0,x1,y1,… in pixels) as
// pycocotools' frPyObjects does (one rleFrPoly each) and merges them, as
// its annToRLE does. A polygon needs at least 3 points.
func FromPolygons(polys [][]float64, h, w int) (RLE, error) {
	if len(polys) == 0 {
		return RLE{}, fmt.Errorf("%w: no polygons", ErrPolygon)
	}
	rs := make([]RLE, len(polys))
	for i, p := range polys {
		if len(p)%2 != 0 || len(p) < 6 {
			return RLE{}, fmt.Errorf("%w: polygon %d has %d coordinates, want an even number ≥ 6 (3 points)", ErrPolygon, i, len(p))
		}
		for _, v := range p {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return RLE{}, fmt.Errorf("%w: polygon %d has a non-finite coordinate", ErrPolygon, i)
			}
		}
		rs[i] = fromPoly(p, h, w)
	}
	return Merge(rs, false)
}

// FromBox is the mask of an [x, y, w, h] box as pycocotools draws it
// (rleFrBbox: the box's four corners as a polygon).
func FromBox(b [4]float64, h, w int) RLE {
	xs, ys, xe, ye := b[0], b[1], b[0]+b[2], b[1]+b[3]
	return fromPoly([]float64{xs, ys, xs, ye, xe, ye, xe, ys}, h, w)
}

// fromPoly follows maskApi.c's rleFrPoly: the vertices are scaled by 5
// and rounded, every edge is walked one upsampled step at a time, and each
// crossing of a pixel column's centre records where the column's inside
// starts or ends; sorting those column-major positions gives the runs.
func fromPoly(xy []float64, h, w int) RLE {
	const scale = 5
	k := len(xy) / 2
	x := make([]int, k+1)
	y := make([]int, k+1)
	for j := 0; j < k; j++ {
		x[j] = int(float64(scale*xy[2*j]) + .5) // C's (int) truncates toward zero, as Go's does
		y[j] = int(float64(scale*xy[2*j+1]) + .5)
	}
	x[k], y[k] = x[0], y[0]
	var u, v []int
	for j := 0; j < k; j++ {
		xs, xe, ys, ye := x[j], x[j+1], y[j], y[j+1]
		dx, dy := absInt(xe-xs), absInt(ys-ye)
		flip := (dx >= dy && xs > xe) || (dx < dy && ys > ye)
		if flip {
			xs, xe = xe, xs
			ys, ye = ye, ys
		}
		if dx >= dy {
			s := float64(ye-ys) / float64(dx)
			for d := 0; d <= dx; d++ {
				t := d
				if flip {
					t = dx - d
				}
				u = append(u, t+xs)
				v = append(v, int(float64(ys)+float64(s*float64(t))+.5))
			}
		} else {
			s := float64(xe-xs) / float64(dy)
			for d := 0; d <= dy; d++ {
				t := d
				if flip {
					t = dy - d
				}
				v = append(v, t+ys)
				u = append(u, int(float64(xs)+float64(s*float64(t))+.5))
			}
		}
	}
	var a []uint32
	for j := 1; j < len(u); j++ {
		if u[j] == u[j-1] {
			continue
		}
		xd := float64(u[j] - 1)
		if u[j] < u[j-1] {
			xd = float64(u[j])
		}
		xd = (xd+.5)/scale - .5
		if math.Floor(xd) != xd || xd < 0 || xd > float64(w-1) {
			continue
		}
		yd := float64(min(v[j], v[j-1]))
		yd = (yd+.5)/scale - .5
		if yd < 0 {
			yd = 0
		} else if yd > float64(h) {
			yd = float64(h)
		}
		yd = math.Ceil(yd)
		a = append(a, uint32(int(xd)*h+int(yd)))
	}
	a = append(a, uint32(h*w))
	slices.Sort(a)
	var p uint32
	for j := range a {
		t := a[j]
		a[j] -= p
		p = t
	}
	// Empty runs inside are folded into the run two before.
	b := []uint32{a[0]}
	for j := 1; j < len(a); {
		if a[j] > 0 {
			b = append(b, a[j])
			j++
			continue
		}
		j++
		if j < len(a) {
			b[len(b)-1] += a[j]
			j++
		}
	}
	return RLE{H: h, W: w, Counts: b}
}

func absInt(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
