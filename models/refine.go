package models

import (
	"fmt"
	"math"
)

// TileMode says how a tiled prediction is made.
type TileMode string

// Tile modes.
const (
	// TileContext runs the whole image once at the model's size for the
	// global prediction, and tiles at full resolution refine only the band
	// where its edge is uncertain, along its contour (Band, RefineWeights,
	// Refine), after
	// the base-plus-refiner design of BackgroundMattingV2 (Lin et al.,
	// "Real-Time High-Resolution Background Matting", CVPR 2021). A portrait
	// model needs the whole person: a tile of a shirt is no portrait. The
	// default.
	TileContext TileMode = "context"
	// TilePlain stitches tiles alone (Blender); no tile sees the rest of
	// the image.
	TilePlain TileMode = "plain"
)

// ParseTileMode checks a tile mode name; "" means TileContext.
func ParseTileMode(s string) (TileMode, error) {
	switch m := TileMode(s); m {
	case "":
		return TileContext, nil
	case TileContext, TilePlain:
		return m, nil
	}
	return "", fmt.Errorf("tile mode %q: want context or plain", s)
}

// Band is the part of a global prediction that tiles refine: the pixels
// within Margin image pixels (chessboard distance) of its contour, where
// the person mask p >= 0.5 changes. Lo and Hi say where the global
// prediction is certain (p < Lo or p > Hi) for Agreement.
//
// The band follows the contour rather than every uncertain pixel: a
// model run at its own size places an edge to within a few of its pixels,
// which a full-resolution tile can sharpen; but a region it is unsure of
// far from any edge (is that a person?) needs the context a tile lacks,
// and tiles refining such regions added false edges (boundary F fell).
type Band struct {
	Lo, Hi float32
	Margin int
	// Agree is the least agreement (Agreement) a tile must have with the
	// global prediction where that is certain for the tile to be used.
	Agree float64
}

// bandReach is the band's half-width in model pixels: about how far an
// edge found at the model's size can be from the true one.
const bandReach = 3

// ContextBand is the band TileContext refines on a w x h image whose
// global prediction was made at modelW x modelH: Margin is bandReach
// model pixels in image pixels, ceil(3·max(w/modelW, h/modelH)), at
// least 1; certain means p < 0.1 or p > 0.9; a tile is used when it
// agrees with that on 95% (IoU) of it.
func ContextBand(w, h, modelW, modelH int) Band {
	scale := 1.0
	if modelW > 0 && modelH > 0 {
		scale = max(float64(w)/float64(modelW), float64(h)/float64(modelH))
	}
	return Band{Lo: 0.1, Hi: 0.9, Margin: max(int(math.Ceil(bandReach*scale)), 1), Agree: 0.95}
}

// Agreement measures how well a tile's prediction t (tl.W x tl.H values)
// agrees with the global prediction g (w wide) on the tile's pixels where g
// is certain (p < Lo or p > Hi): the IoU of the person masks (p >= 0.5)
// there, 1 when neither has a person pixel there, and 1 when the tile has
// no certain pixel. A tile that contradicts the global prediction where
// that is sure lacks the context to be trusted where it is not.
func Agreement(t []float32, g []float32, tl Tile, w int, b Band) float64 {
	var inter, union int
	for y := range tl.H {
		row := g[(tl.Y+y)*w+tl.X : (tl.Y+y)*w+tl.X+tl.W]
		for x, gv := range row {
			if gv >= b.Lo && gv <= b.Hi || gv != gv {
				continue
			}
			pg, pt := gv >= 0.5, t[y*tl.W+x] >= 0.5
			if pg && pt {
				inter++
			}
			if pg || pt {
				union++
			}
		}
	}
	if union == 0 {
		return 1
	}
	return float64(inter) / float64(union)
}

// RefineWeights returns, for a w x h global probability plane, the weight
// m in [0, 1] that the tiles' prediction gets at each pixel:
//
//	m = max(0, 1 - d/(Margin+1))
//
// where d is the chessboard distance (max(|dx|, |dy|)) to the nearest
// contour pixel: a pixel whose side of 0.5 (p >= 0.5, NaN counting as
// below) differs from that of its east or south neighbour, both of the
// pair being contour. So m is 1 on the contour, falls linearly to
// 1/(Margin+1) at Margin pixels from it, and is 0 beyond. A plane with no
// contour (all person, all background) gets m = 0 everywhere.
func RefineWeights(global []float32, w, h int, b Band) []float32 {
	m := make([]float32, w*h)
	if w <= 0 || h <= 0 || len(global) != w*h {
		return m
	}
	far := int32(b.Margin + 1) // at least this far counts as out of the band
	d := make([]int32, w*h)
	for i := range d {
		d[i] = far
	}
	for y := range h {
		for x := range w {
			i := y*w + x
			in := global[i] >= 0.5
			if x+1 < w && (global[i+1] >= 0.5) != in {
				d[i], d[i+1] = 0, 0
			}
			if y+1 < h && (global[i+w] >= 0.5) != in {
				d[i], d[i+w] = 0, 0
			}
		}
	}
	// Two raster passes give the exact chessboard distance (capped at far).
	for y := range h {
		for x := range w {
			i := y*w + x
			v := d[i]
			if x > 0 {
				v = min(v, d[i-1]+1)
			}
			if y > 0 {
				v = min(v, d[i-w]+1)
				if x > 0 {
					v = min(v, d[i-w-1]+1)
				}
				if x < w-1 {
					v = min(v, d[i-w+1]+1)
				}
			}
			d[i] = v
		}
	}
	for y := h - 1; y >= 0; y-- {
		for x := w - 1; x >= 0; x-- {
			i := y*w + x
			v := d[i]
			if x < w-1 {
				v = min(v, d[i+1]+1)
			}
			if y < h-1 {
				v = min(v, d[i+w]+1)
				if x < w-1 {
					v = min(v, d[i+w+1]+1)
				}
				if x > 0 {
					v = min(v, d[i+w-1]+1)
				}
			}
			d[i] = v
		}
	}
	for i, v := range d {
		if v < far {
			m[i] = 1 - float32(v)/float32(far)
		}
	}
	return m
}

// Refine combines a global prediction g with a tiled one t under the
// weights m of RefineWeights:
//
//	out = g              where m = 0
//	out = g + m·(t − g)  elsewhere, i.e. (1−m)·g + m·t
//
// so outside the band the global prediction stands bit for bit, and t
// (which may be NaN there, from tiles never run) is not read. The planes
// have one length; it panics otherwise, a programming error.
func Refine(g, t, m []float32) []float32 {
	if len(t) != len(g) || len(m) != len(g) {
		panic(fmt.Sprintf("models: Refine: planes of %d, %d and %d values", len(g), len(t), len(m)))
	}
	out := make([]float32, len(g))
	for i, gv := range g {
		if m[i] == 0 || t[i] != t[i] {
			out[i] = gv
			continue
		}
		out[i] = gv + m[i]*(t[i]-gv)
	}
	return out
}

// InBand reports whether tile tl of a w-wide image holds a pixel of
// positive weight m: a tile that does not is not run.
func InBand(tl Tile, m []float32, w int) bool {
	for y := tl.Y; y < tl.Y+tl.H; y++ {
		for _, v := range m[y*w+tl.X : y*w+tl.X+tl.W] {
			if v > 0 {
				return true
			}
		}
	}
	return false
}
