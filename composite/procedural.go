package composite

import (
	"fmt"
	"image"
	"image/color"
	"math"
	"slices"
	"strings"

	"gocv.io/x/gocv"
)

const proceduralPrefix = "procedural:"

// PatternKinds lists the procedural background kinds.
func PatternKinds() []string { return []string{"stripes", "checks", "noise", "gradient", "blobs"} }

func validPattern(kind string) bool { return slices.Contains(PatternKinds(), kind) }

// ParseProcedural expands "procedural:stripes,checks" (or "procedural" /
// "procedural:" for all kinds) into background ids for ProceduralBackground and
// Plan. Each composite draws its own pattern from its seed, so a kind can be
// used any number of times.
func ParseProcedural(spec string) ([]string, error) {
	rest, ok := strings.CutPrefix(spec+":", proceduralPrefix)
	if !ok {
		return nil, fmt.Errorf("%q: not a procedural spec (want procedural:KIND,...)", spec)
	}
	rest = strings.TrimSuffix(rest, ":")
	kinds := PatternKinds()
	if rest != "" {
		kinds = strings.Split(rest, ",")
	}
	ids := make([]string, 0, len(kinds))
	for _, k := range kinds {
		k = strings.TrimSpace(k)
		if !validPattern(k) {
			return nil, fmt.Errorf("%q: unknown pattern %q (have %s)", spec, k, strings.Join(PatternKinds(), ", "))
		}
		ids = append(ids, proceduralPrefix+k)
	}
	return ids, nil
}

// IsProcedural reports whether a background id names a drawn pattern.
func IsProcedural(id string) bool { return strings.HasPrefix(id, proceduralPrefix) }

// drawPattern paints a canvas-size BGR pattern from r alone.
func drawPattern(kind string, r *stream, w, h int) (gocv.Mat, error) {
	c1, c2 := randColor(r), randColor(r)
	var pal [256][3]uint8 // c1 to c2
	for i := range pal {
		for c := range 3 {
			pal[i][c] = uint8((int(c1[c])*(255-i) + int(c2[c])*i + 127) / 255)
		}
	}
	switch kind {
	case "stripes", "gradient":
		// Both project pixels on a random direction: bands or a ramp.
		th := r.float() * math.Pi
		cs, sn := math.Cos(th), math.Sin(th)
		period := 6 + r.float()*float64(h)/6
		// Ramp ends: the extreme projections of the corners.
		lo := math.Min(0, float64(w-1)*cs) + math.Min(0, float64(h-1)*sn)
		span := math.Abs(float64(w-1)*cs) + math.Abs(float64(h-1)*sn) + 1
		return paint(w, h, func(x, y int) uint8 {
			t := float64(x)*cs + float64(y)*sn
			if kind == "gradient" {
				return uint8((t-lo)/span*255 + 0.5)
			}
			if v := t / period; v-math.Floor(v) >= 0.5 {
				return 255
			}
			return 0
		}, &pal), nil
	case "checks":
		cell := 4 + r.intn(max(1, h/8))
		ox, oy := r.intn(cell), r.intn(cell)
		return paint(w, h, func(x, y int) uint8 {
			return uint8(-(((x+ox)/cell + (y+oy)/cell) & 1)) // 0 or 255
		}, &pal), nil
	case "noise":
		// Smooth colour clouds: a coarse random grid, bicubic upscaled, plus
		// a finer octave.
		m := upNoise(r, 2+r.intn(10), w, h)
		fine := upNoise(r, 16+r.intn(48), w, h)
		defer fine.Close()
		gocv.AddWeighted(m, 0.7, fine, 0.3, 0, &m)
		return m, nil
	case "blobs":
		// Soft discs. Drawn and blurred at an eighth of the size, then
		// scaled up: the same look, without a blur kernel hundreds of
		// pixels wide.
		sw, sh := max(1, w/8), max(1, h/8)
		m := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(float64(c1[0]), float64(c1[1]), float64(c1[2]), 0), sh, sw, gocv.MatTypeCV8UC3)
		defer m.Close()
		n := 5 + r.intn(20)
		for range n {
			c := randColor(r)
			ctr := image.Pt(r.intn(sw), r.intn(sh))
			rad := max(1, sh/20+r.intn(max(1, sh/5)))
			gocv.CircleWithParams(&m, ctr, rad, color.RGBA{c[2], c[1], c[0], 255}, -1, gocv.LineAA, 0)
		}
		sigma := float64(sh)/60 + 0.5
		gocv.GaussianBlur(m, &m, image.Pt(0, 0), sigma, sigma, gocv.BorderReflect101)
		out := gocv.NewMat()
		gocv.Resize(m, &out, image.Pt(w, h), 0, 0, gocv.InterpolationLinear)
		return out, nil
	}
	return gocv.Mat{}, fmt.Errorf("unknown pattern %q", kind)
}

// paint fills a w×h BGR Mat with palette colours chosen per pixel.
func paint(w, h int, at func(x, y int) uint8, pal *[256][3]uint8) gocv.Mat {
	m := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	d, _ := m.DataPtrUint8()
	for y := range h {
		row := d[3*y*w : 3*(y+1)*w]
		for x := range w {
			c := &pal[at(x, y)]
			row[3*x], row[3*x+1], row[3*x+2] = c[0], c[1], c[2]
		}
	}
	return m
}

// upNoise is a random cells×cells' colour grid resized to w×h.
func upNoise(r *stream, cells, w, h int) gocv.Mat {
	ch := max(2, cells*h/max(w, 1))
	g := gocv.NewMatWithSize(ch, cells, gocv.MatTypeCV8UC3)
	defer g.Close()
	d, _ := g.DataPtrUint8()
	for i := range d {
		d[i] = uint8(r.next())
	}
	out := gocv.NewMat()
	gocv.Resize(g, &out, image.Pt(w, h), 0, 0, gocv.InterpolationCubic)
	return out
}

func randColor(r *stream) [3]uint8 {
	u := r.next()
	return [3]uint8{uint8(u), uint8(u >> 8), uint8(u >> 16)}
}
