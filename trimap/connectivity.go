package trimap

// EnforceConnectivity is the last step of SLIC (Achanta et al. 2012,
// "EnforceLabelConnectivity" in the authors' code). It scans the label image
// in raster order and floods each 4-connected component of equal labels; a
// component of at least minSize pixels gets a new label, a smaller one is
// merged into the component already labelled next to its first pixel (its
// left neighbour, or its upper one on the first column). The first
// component always keeps its own label.
//
// The returned labels run from 0 to n-1 in raster order of first pixel and
// every label is one 4-connected region: a merged fragment touches the
// region it joins. Negative input labels are treated as one more label.
func EnforceConnectivity(labels []int32, w, h, minSize int) (out []int32, n int) {
	out = make([]int32, w*h)
	for i := range out {
		out[i] = -1
	}
	f := filler{labels: labels, out: out, w: w, h: h}
	next := int32(0)
	for y := 0; y < h; y++ {
		row := out[y*w : (y+1)*w]
		for x := 0; x < w; x++ {
			if row[x] >= 0 {
				continue
			}
			p := y*w + x
			// The neighbour to merge into, should this be a fragment.
			adj := int32(-1)
			if x > 0 {
				adj = row[x-1]
			} else if y > 0 {
				adj = out[p-w]
			}
			size := f.fill(x, y, next)
			if size < minSize && adj >= 0 {
				f.relabel(adj)
				continue
			}
			next++
		}
	}
	return out, int(next)
}

// span is a horizontal run [x0,x1) of row y.
type span struct{ y, x0, x1 int32 }

// filler floods 4-connected components span by span (a scanline fill).
type filler struct {
	labels, out []int32
	w, h        int
	stack       []span // spans whose neighbours are still to scan
	done        []span // spans of the current component
}

// fill labels the component of (x, y) with v and returns its size; the
// pixels of (x, y)'s original label that are not yet labelled form it.
func (f *filler) fill(x, y int, v int32) int {
	w := f.w
	orig := f.labels[y*w+x]
	f.stack = f.stack[:0]
	f.done = f.done[:0]
	f.stack = append(f.stack, f.grow(x, y, orig, v))
	size := 0
	for len(f.stack) > 0 {
		s := f.stack[len(f.stack)-1]
		f.stack = f.stack[:len(f.stack)-1]
		f.done = append(f.done, s)
		size += int(s.x1 - s.x0)
		for _, ny := range [2]int{int(s.y) - 1, int(s.y) + 1} {
			if ny < 0 || ny >= f.h {
				continue
			}
			r := ny * w
			lab, out := f.labels[r:r+w], f.out[r:r+w]
			for nx := int(s.x0); nx < int(s.x1); nx++ {
				if out[nx] < 0 && lab[nx] == orig {
					g := f.grow(nx, ny, orig, v)
					f.stack = append(f.stack, g)
					nx = int(g.x1)
				}
			}
		}
	}
	return size
}

// grow labels the maximal run of unlabelled pixels of label orig through
// (x, y) with v and returns it.
func (f *filler) grow(x, y int, orig, v int32) span {
	r := y * f.w
	lab, out := f.labels[r:r+f.w], f.out[r:r+f.w]
	x0, x1 := x, x+1
	for x0 > 0 && out[x0-1] < 0 && lab[x0-1] == orig {
		x0--
	}
	for x1 < f.w && out[x1] < 0 && lab[x1] == orig {
		x1++
	}
	for i := x0; i < x1; i++ {
		out[i] = v
	}
	return span{int32(y), int32(x0), int32(x1)}
}

// relabel gives the last filled component the label v.
func (f *filler) relabel(v int32) {
	for _, s := range f.done {
		r := int(s.y) * f.w
		for i := r + int(s.x0); i < r+int(s.x1); i++ {
			f.out[i] = v
		}
	}
}
