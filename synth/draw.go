package synth

import (
	"errors"
	"fmt"
	"image"
	"image/color"
	"math"
	"math/rand/v2"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/composite"
)

// hairScale is the supersampling factor of the hair matte: strands are drawn
// one pixel wide on a canvas this many times larger and area-averaged down,
// so each strand covers a fraction of an output pixel and crossing strands
// add up, which is what gives believable partial alpha.
const hairScale = 4

// Sample is one drawn portrait. All three Mats have the size asked for and
// belong to the caller, who must Close the Sample.
type Sample struct {
	Image  gocv.Mat // composite, BGR 8UC3: Alpha·Person + (1−Alpha)·background
	Alpha  gocv.Mat // matte, 8UC1, 0..255
	Person gocv.Mat // foreground colours, BGR 8UC3 (meaningful where Alpha > 0)
}

// Close frees the Sample's Mats.
func (s *Sample) Close() error {
	return errors.Join(s.Image.Close(), s.Alpha.Close(), s.Person.Close())
}

// Scene is one drawn pedestrian picture. The Mats belong to the caller, who
// must Close the Scene.
type Scene struct {
	Image gocv.Mat // BGR 8UC3
	IDs   gocv.Mat // 8UC1 instance ids: 0 background, 1..len(Boxes) one per person
	// Boxes[i] is the tight extent of id i+1 in IDs, 0-based and half-open
	// (image.Rectangle's convention).
	Boxes []image.Rectangle
}

// Close frees the Scene's Mats.
func (s *Scene) Close() error {
	return errors.Join(s.Image.Close(), s.IDs.Close())
}

// Portrait draws one head-and-shoulders portrait of w×h pixels over a
// textured background. Everything random comes from rng, so equal rng states
// give equal pictures.
func Portrait(rng *rand.Rand, w, h int) (Sample, error) {
	bg, err := canvas(rng, w, h, 32, "portrait", false)
	if err != nil {
		return Sample{}, err
	}
	defer bg.Close()

	hairCol := hairTone(rng)
	l := newLayer(w, h, hairCol)
	defer l.close()

	s := float64(min(w, h))
	ax := s * uni(rng, 0.15, 0.21)
	ay := ax * uni(rng, 1.18, 1.32)
	vol := ax * uni(rng, 0.12, 0.3)
	cx := float64(w) * uni(rng, 0.38, 0.62)
	lo := ay + vol + ax*0.3
	hi := float64(h) * 0.42
	cy := lo
	if hi > lo {
		cy = uni(rng, lo, hi)
	}
	// The head turns about the chin so the neck stays put.
	pivot := pt{cx, cy + ay*0.8}
	fig := newFigure(rng, ax, ay, vol, 8, 0.35, hairCol)
	fig.head = pivot.add(rotate(pt{0, -ay * 0.8}, fig.tilt))

	shoulderY := cy + ay*uni(rng, 1.2, 1.45)
	neckW := ax * uni(rng, 0.5, 0.62)
	l.neck(rng, fig, pivot, shoulderY+ay*0.3, neckW)
	l.torso(rng, fig, pt{cx + ax*uni(rng, -0.1, 0.1), shoulderY}, ax*uni(rng, 2.1, 2.9),
		ay*uni(rng, 0.55, 0.8), float64(h)+4, neckW)
	l.headAndHair(rng, fig)

	if err := relight(l.color, uni(rng, -0.15, 0.15), cx); err != nil {
		return Sample{}, err
	}
	alpha, err := l.alpha()
	if err != nil {
		return Sample{}, err
	}
	img := bg.Clone()
	if err := over(&img, l.color, alpha); err != nil {
		img.Close()
		alpha.Close()
		return Sample{}, err
	}
	return Sample{Image: img, Alpha: alpha, Person: l.color.Clone()}, nil
}

// Pedestrians draws a w×h street-like picture with 1 to 3 walking people,
// each in its own vertical band so that no person hides another.
func Pedestrians(rng *rand.Rand, w, h int) (Scene, error) {
	img, err := canvas(rng, w, h, 64, "scene", true)
	if err != nil {
		return Scene{}, err
	}
	ids := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC1)
	ok := false
	defer func() {
		if !ok {
			img.Close()
			ids.Close()
		}
	}()
	idp, err := ids.DataPtrUint8()
	if err != nil {
		return Scene{}, fmt.Errorf("synth: instance ids: %w", err)
	}
	clear(idp)

	n := 1 + rng.IntN(3)
	band := float64(w) / float64(n)
	for i := range n {
		// The widest part of a walker (arms swinging out, legs striding) is
		// about 0.26 of its height; keep that inside the band.
		maxH := (band/2 - 3) / 0.26
		ht := math.Min(float64(h)*uni(rng, 0.6, 0.88), maxH)
		slack := math.Max(0, band/2-3-ht*0.26)
		fx := band*(float64(i)+0.5) + uni(rng, -slack, slack)
		fy := float64(h) * uni(rng, 0.9, 0.98)
		if err := walker(rng, &img, idp, uint8(i+1), pt{fx, fy}, ht); err != nil {
			return Scene{}, err
		}
	}
	boxes, err := instanceBoxes(idp, w, h, n)
	if err != nil {
		return Scene{}, err
	}
	ok = true
	return Scene{Image: img, IDs: ids, Boxes: boxes}, nil
}

// walker draws one pedestrian with feet at foot and the given height onto
// img, and writes id into ids where its matte is at least one half.
func walker(rng *rand.Rand, img *gocv.Mat, ids []byte, id uint8, foot pt, ht float64) error {
	w, h := img.Cols(), img.Rows()
	hairCol := hairTone(rng)
	l := newLayer(w, h, hairCol)
	defer l.close()

	ay := ht * 0.068
	ax := ay * 0.8
	vol := ax * uni(rng, 0.1, 0.25)
	fig := newFigure(rng, ax, ay, vol, 6, 0.3, hairCol)
	fig.head = pt{foot.x, foot.y - ht + ay + vol}
	legCol := hsv(rng.Float64()*360, uni(rng, 0.1, 0.6), uni(rng, 0.12, 0.6))
	shoeCol := hsv(rng.Float64()*360, uni(rng, 0, 0.3), uni(rng, 0.05, 0.3))

	shoulderY := foot.y - ht*0.81
	hipY := foot.y - ht*0.47
	sw := ht * uni(rng, 0.1, 0.125)
	hw := ht * uni(rng, 0.07, 0.09)
	stride := ht * uni(rng, 0, 0.12)
	legT := ht * 0.07
	armT := ht * 0.05
	swing := ht * uni(rng, -0.06, 0.06)

	// Legs first: the torso's hem covers their tops.
	for _, side := range []float64{-1, 1} {
		hip := pt{foot.x + side*hw*0.5, hipY}
		ft := pt{foot.x + side*stride, foot.y - legT*0.4}
		l.limb(hip, ft, legT, legT*0.8, legCol)
		l.blob(ft.add(pt{side * legT * 0.3, legT * 0.1}), legT*0.75, legT*0.45, shoeCol)
	}
	// Arms, swinging opposite to each other.
	for _, side := range []float64{-1, 1} {
		sh := pt{foot.x + side*sw*0.8, shoulderY + armT*0.6}
		hand := pt{foot.x + side*(sw+armT*0.5) + side*swing, foot.y - ht*0.45}
		l.limb(sh, hand, armT, armT*0.85, fig.cloth)
		l.blob(hand, armT*0.55, armT*0.6, fig.skin)
	}
	pivot := pt{foot.x, fig.head.y + ay*0.8}
	fig.head = pivot.add(rotate(pt{0, -ay * 0.8}, fig.tilt))
	neckW := ax * 0.5
	l.neck(rng, fig, pivot, shoulderY+ay*0.3, neckW)
	l.torso(rng, fig, pt{foot.x, shoulderY}, sw, ay*0.5, hipY+ht*0.04, neckW)
	l.headAndHair(rng, fig)

	if err := relight(l.color, uni(rng, -0.12, 0.12), foot.x); err != nil {
		return err
	}
	alpha, err := l.alpha()
	if err != nil {
		return err
	}
	defer alpha.Close()
	if err := over(img, l.color, alpha); err != nil {
		return err
	}
	ap, err := alpha.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("synth: walker matte: %w", err)
	}
	// Later people overwrite earlier ones, so an id always names the person
	// seen at that pixel.
	for i, a := range ap {
		if a >= 128 {
			ids[i] = id
		}
	}
	return nil
}

// instanceBoxes returns the tight extents of ids 1..n and renumbers ids so
// they stay contiguous should a person have vanished (never expected, as each
// walker has its own band, but a gap would break the Penn-Fudan contract).
func instanceBoxes(ids []byte, w, h, n int) ([]image.Rectangle, error) {
	boxes := make([]image.Rectangle, n+1)
	seen := make([]bool, n+1)
	for y := range h {
		row := ids[y*w : (y+1)*w]
		for x, v := range row {
			if v == 0 {
				continue
			}
			if int(v) > n {
				return nil, fmt.Errorf("synth: instance id %d above person count %d", v, n)
			}
			r := image.Rect(x, y, x+1, y+1)
			if seen[v] {
				r = boxes[v].Union(r)
			}
			boxes[v], seen[v] = r, true
		}
	}
	remap := make([]byte, n+1)
	var out []image.Rectangle
	for v := 1; v <= n; v++ {
		if seen[v] {
			out = append(out, boxes[v])
			remap[v] = byte(len(out))
		}
	}
	if len(out) == 0 {
		return nil, errors.New("synth: scene has no visible person")
	}
	if len(out) != n {
		for i, v := range ids {
			ids[i] = remap[v]
		}
	}
	return out, nil
}

// figure holds what the head, neck and torso drawings share.
type figure struct {
	head              pt      // head centre
	ax, ay            float64 // head half-width and half-height
	vol               float64 // hair thickness beyond the skull
	tilt              float64 // radians, clockwise on screen
	long              bool    // hair falling below the jaw
	skin, hair, cloth color.RGBA
}

// newFigure draws a figure's tilt (up to maxTilt degrees either way), hair
// length (long with probability pLong), skin and clothes, in that order:
// the order of draws fixes the picture for a seed. The head is the
// caller's.
func newFigure(rng *rand.Rand, ax, ay, vol, maxTilt, pLong float64, hair color.RGBA) figure {
	return figure{
		ax:    ax,
		ay:    ay,
		vol:   vol,
		tilt:  uni(rng, -maxTilt, maxTilt) * math.Pi / 180,
		long:  rng.Float64() < pLong,
		skin:  skinTone(rng),
		hair:  hair,
		cloth: hsv(rng.Float64()*360, uni(rng, 0.2, 0.85), uni(rng, 0.2, 0.85)),
	}
}

// at maps head-local coordinates (x right, y down, origin at the head
// centre, before tilt) to the picture.
func (f figure) at(x, y float64) pt { return f.head.add(rotate(pt{x, y}, f.tilt)) }

// layer is a person being drawn: colours, the body matte and the
// supersampled hair matte, combined by alpha.
type layer struct {
	w, h  int
	color gocv.Mat // BGR, starts as the hair colour so soft hair edges carry it
	body  gocv.Mat // 8UC1 body matte
	hair  gocv.Mat // 8UC1 hair matte at hairScale× size
}

func newLayer(w, h int, hair color.RGBA) *layer {
	return &layer{
		w: w, h: h,
		color: gocv.NewMatWithSizeFromScalar(scalar(hair), h, w, gocv.MatTypeCV8UC3),
		body:  gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), h, w, gocv.MatTypeCV8UC1),
		hair: gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), h*hairScale, w*hairScale,
			gocv.MatTypeCV8UC1),
	}
}

func (l *layer) close() {
	l.color.Close()
	l.body.Close()
	l.hair.Close()
}

// fill paints poly into the body matte (anti-aliased) and into the colours,
// grown by a pixel or two so the blurred matte edge never shows the hair
// colour underneath.
func (l *layer) fill(poly []pt, c color.RGBA) {
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{ipoints(poly, 1)})
	defer pv.Close()
	gocv.FillPolyWithParams(&l.body, pv, gray(255), gocv.LineAA, 0, image.Point{})
	gocv.FillPoly(&l.color, pv, c)
	gocv.Polylines(&l.color, pv, true, c, 3)
}

// limb is a tapered capsule from a (width wa) to b (width wb).
func (l *layer) limb(a, b pt, wa, wb float64, c color.RGBA) {
	d := b.sub(a)
	n := pt{-d.y, d.x}.scale(1 / math.Max(d.len(), 1e-9))
	l.fill([]pt{a.add(n.scale(wa / 2)), b.add(n.scale(wb / 2)), b.sub(n.scale(wb / 2)), a.sub(n.scale(wa / 2))}, c)
	l.blob(a, wa/2, wa/2, c)
	l.blob(b, wb/2, wb/2, c)
}

// blob is a filled axis-aligned ellipse.
func (l *layer) blob(c pt, rx, ry float64, col color.RGBA) {
	l.fill(ellipsePoints(c, rx, ry, 0, 0, 2*math.Pi, 28), col)
}

func (l *layer) neck(rng *rand.Rand, f figure, top pt, bottomY, hw float64) {
	flare := hw * uni(rng, 1.1, 1.3)
	l.fill([]pt{
		{top.x - hw, top.y - f.ay*0.3}, {top.x + hw, top.y - f.ay*0.3},
		{top.x + hw*0.95, (top.y + bottomY) / 2}, {top.x + flare, bottomY},
		{top.x - flare, bottomY}, {top.x - hw*0.95, (top.y + bottomY) / 2},
	}, shade(f.skin, 0.85))
}

// torso draws rounded shoulders (the top of a superellipse, flatter than an
// ellipse) widening a little down to bottomY, plus a neckline.
func (l *layer) torso(rng *rand.Rand, f figure, top pt, sw, sh, bottomY, neckW float64) {
	n := uni(rng, 2.6, 3.6)
	c := pt{top.x, top.y + sh}
	var poly []pt
	const steps = 40
	for i := 0; i <= steps; i++ {
		t := math.Pi + math.Pi*float64(i)/steps
		cs, sn := math.Cos(t), math.Sin(t)
		poly = append(poly, pt{
			c.x + sw*math.Copysign(math.Pow(math.Abs(cs), 2/n), cs),
			c.y + sh*math.Copysign(math.Pow(math.Abs(sn), 2/n), sn),
		})
	}
	taper := uni(rng, 0.92, 1.08)
	poly = append(poly, pt{c.x + sw*taper, bottomY}, pt{c.x - sw*taper, bottomY})
	l.fill(poly, f.cloth)

	// Neckline: skin showing in a V or a scoop, drawn in colour only since
	// the matte is already solid there.
	nk := shade(f.skin, 0.9)
	var neckline []pt
	depth := sh * uni(rng, 0.5, 1.6)
	if rng.IntN(2) == 0 {
		neckline = []pt{{top.x - neckW*1.4, top.y - 1}, {top.x + neckW*1.4, top.y - 1}, {top.x, top.y + depth}}
	} else {
		neckline = ellipsePoints(pt{top.x, top.y - 1}, neckW*1.5, depth*0.7, 0, 0, math.Pi, 16)
	}
	npv := gocv.NewPointsVectorFromPoints([][]image.Point{ipoints(neckline, 1)})
	defer npv.Close()
	gocv.FillPoly(&l.color, npv, nk)
	gocv.Polylines(&l.color, npv, true, shade(f.cloth, 0.7), max(1, int(sh*0.12)))
}

// headAndHair draws the face, its features and the hair for f.
func (l *layer) headAndHair(rng *rand.Rand, f figure) {
	ax, ay := f.ax, f.ay
	// An egg rather than an ellipse: the jaw narrows towards the chin.
	var face []pt
	const steps = 56
	for i := range steps {
		t := 2 * math.Pi * float64(i) / steps
		x, y := ax*math.Cos(t), ay*math.Sin(t)
		if y > 0 {
			x *= 1 - 0.18*math.Sin(t)
		}
		face = append(face, f.at(x, y))
	}
	l.fill(face, f.skin)
	if ax >= 8 { // below that, features would be single-pixel smudges
		l.features(rng, f)
	}
	l.drawHair(rng, f)
}

// features draws eyes, brows, nose and mouth in colour only.
func (l *layer) features(rng *rand.Rand, f figure) {
	ax, ay := f.ax, f.ay
	deg := f.tilt * 180 / math.Pi
	eyeY := -ay * uni(rng, 0.0, 0.1)
	for _, side := range []float64{-1, 1} {
		e := f.at(side*ax*0.38, eyeY)
		gocv.EllipseWithParams(&l.color, e.img(1), image.Pt(max(1, int(ax*0.13)), max(1, int(ay*0.05))), deg, 0, 360,
			color.RGBA{235, 232, 228, 255}, -1, gocv.LineAA, 0)
		gocv.CircleWithParams(&l.color, e.img(1), max(1, int(ax*0.065)), color.RGBA{45, 32, 28, 255}, -1, gocv.LineAA, 0)
		b0, b1 := f.at(side*ax*0.2, eyeY-ay*0.17), f.at(side*ax*0.55, eyeY-ay*0.15)
		gocv.Line(&l.color, b0.img(1), b1.img(1), shade(f.hair, 0.8), max(1, int(ax*0.05)))
	}
	n0, n1 := f.at(0, eyeY+ay*0.12), f.at(ax*0.06, eyeY+ay*0.38)
	gocv.Line(&l.color, n0.img(1), n1.img(1), shade(f.skin, 0.82), max(1, int(ax*0.04)))
	m := f.at(0, ay*uni(rng, 0.5, 0.58))
	gocv.EllipseWithParams(&l.color, m.img(1), image.Pt(max(1, int(ax*0.26)), max(1, int(ay*0.06))), deg, 10, 170,
		mix(f.skin, color.RGBA{160, 60, 60, 255}, 0.6), max(1, int(ax*0.05)), gocv.LineAA, 0)
}

// drawHair draws the solid hair mass and many thin strands leaving it. The
// strands go onto the supersampled matte (where they become partial alpha)
// and, in a few shades, onto the colours. The colour layer is hair-coloured
// wherever nothing else was drawn, so the mass needs no colour of its own;
// the fringe is colour only because the face under it is opaque anyway.
func (l *layer) drawHair(rng *rand.Rand, f figure) {
	ax, ay, v := f.ax, f.ay, f.vol
	// Outline of the hair mass in head-local coordinates, from the left side
	// over the crown to the right side (and down the sides for long hair).
	c := pt{0, -ay * 0.06}
	rx, ry := ax+v, ay+v*1.1
	side := uni(rng, 5, 25) * math.Pi / 180
	crownArc := ellipsePoints(c, rx, ry, 0, math.Pi-side, 2*math.Pi+side, 48)
	outline := crownArc
	if f.long {
		end := ay * uni(rng, 1.2, 1.9)
		flare := v * uni(rng, 0.5, 1.5)
		l0, r0 := crownArc[0], crownArc[len(crownArc)-1]
		outline = []pt{{l0.x - flare, end}, {l0.x - flare*0.6, (l0.y + end) / 2}}
		outline = append(outline, crownArc...)
		outline = append(outline, pt{r0.x + flare*0.6, (r0.y + end) / 2}, pt{r0.x + flare, end})
	}
	mass := make([]pt, 0, len(outline)+2)
	for _, p := range outline {
		mass = append(mass, f.at(p.x, p.y))
	}
	if !f.long {
		mass = append(mass, f.at(0, ay*0.1)) // apex inside the face
	}

	// Outer strands in three coverage levels, drawn faint first so strong
	// ones win where they cross (LINE_8 overwrites).
	dense := densify(outline, 1)
	var levels, shades [3][][]image.Point
	for range int(float64(len(dense)) * uni(rng, 2.5, 4.5)) {
		i := rng.IntN(len(dense))
		p := dense[i]
		// Hair is combed away from the crown and mostly lies along the
		// outline: strands leave it at a shallow angle, bend, and a few
		// stick straight out.
		tan := dense[min(i+1, len(dense)-1)].sub(dense[max(i-1, 0)]).unit()
		nrm := pt{tan.y, -tan.x} // outward: the outline runs left to right over the top
		if p.x < c.x {
			tan = tan.scale(-1)
		}
		lift := uni(rng, 0.15, 0.9)
		if rng.Float64() < 0.1 {
			lift = uni(rng, 1.5, 4)
		}
		dir := tan.add(nrm.scale(lift)).unit()
		if f.long && p.y > -ay*0.2 {
			dir = dir.add(pt{0, 1}).unit() // hanging
		}
		dir = rotate(dir, rng.NormFloat64()*0.2)
		length := (v + 4) * uni(rng, 0.5, 1.6)
		if rng.Float64() < 0.05 {
			length *= uni(rng, 1.5, 2.5) // flyaways
		}
		root := p.sub(nrm.scale(uni(rng, 0, v*0.5+1)))
		tip := root.add(dir.scale(length))
		bend := pt{-dir.y, dir.x}.scale(rng.NormFloat64() * length * 0.3)
		curve := f.bezier(root, root.add(tip).scale(0.5).add(bend), tip)
		lv := rng.IntN(3)
		levels[lv] = append(levels[lv], ipoints(curve, hairScale))
		sh := rng.IntN(3)
		shades[sh] = append(shades[sh], ipoints(curve, 1))
	}
	for i, val := range []uint8{110, 170, 255} {
		polylines(&l.hair, levels[i], gray(val), 1)
	}
	pv := gocv.NewPointsVectorFromPoints([][]image.Point{ipoints(mass, hairScale)})
	gocv.FillPoly(&l.hair, pv, gray(255))
	pv.Close()

	// Fringe over the forehead: the top of the face outline down to a curved
	// hairline with a random parting.
	a0 := uni(rng, 0.1, 0.35)
	top := ellipsePoints(pt{}, ax+3, ay+3, 0, math.Pi+a0, 2*math.Pi-a0, 32) // +3 covers the face's grown colour edge
	pl, pr := top[0], top[len(top)-1]
	mid := pt{ax * uni(rng, -0.4, 0.4), -ay * uni(rng, 0.38, 0.62)}
	hairline := bezierPoints(pr, mid.scale(2).sub(pr.add(pl).scale(0.5)), pl, 16)
	fringe := make([]pt, 0, len(top)+len(hairline))
	for _, p := range append(top, hairline[1:len(hairline)-1]...) {
		fringe = append(fringe, f.at(p.x, p.y))
	}
	fpv := gocv.NewPointsVectorFromPoints([][]image.Point{ipoints(fringe, 1)})
	gocv.FillPolyWithParams(&l.color, fpv, f.hair, gocv.LineAA, 0, image.Point{})
	fpv.Close()

	// Texture, colour only: short strands combed along the skull (elliptic
	// polar coordinates between the face and the outline, so they never
	// cross the face) flowing away from the crown, and strands running from
	// the top of the head down to the hairline over the fringe.
	crown := 1.5*math.Pi + rng.NormFloat64()*0.15 // the arc runs from π−side over 3π/2 to 2π+side
	sFace := ax / rx
	for range len(dense) {
		t1 := math.Pi - side + rng.Float64()*(math.Pi+2*side)
		t0 := t1 - math.Copysign(uni(rng, 0.3, 1.2), t1-crown)
		if (t0-crown)*(t1-crown) < 0 {
			t0 = crown // do not comb across the parting
		}
		s0, s1 := uni(rng, sFace, 1), uni(rng, sFace, 1)
		var curve []pt
		for k := 0; k <= 10; k++ {
			u := float64(k) / 10
			t, s := t0+(t1-t0)*u, s0+(s1-s0)*u
			curve = append(curve, f.at(c.x+rx*s*math.Cos(t), c.y+ry*s*math.Sin(t)))
		}
		sh := rng.IntN(3)
		shades[sh] = append(shades[sh], ipoints(curve, 1))
	}
	for range len(hairline) * 2 {
		u := rng.Float64()
		a := top[len(top)-1-int(u*float64(len(top)-1))] // top runs left to right, hairline right to left
		b := hairline[int(u*float64(len(hairline)-1))].add(pt{rng.NormFloat64(), -uni(rng, 0, 2)})
		m := a.add(b).scale(0.5).add(pt{rng.NormFloat64() * ax * 0.06, 0})
		sh := rng.IntN(3)
		shades[sh] = append(shades[sh], ipoints(f.bezier(a, m, b), 1))
	}
	if f.long {
		for _, p := range dense {
			if p.y < 0 || rng.IntN(2) == 0 {
				continue
			}
			x := math.Copysign(math.Max(math.Abs(p.x)*uni(rng, 0.9, 1), ax+1), p.x)
			a, b := pt{x, -ay * 0.1}, p
			m := a.add(b).scale(0.5).add(pt{rng.NormFloat64() * v * 0.2, 0})
			sh := rng.IntN(3)
			shades[sh] = append(shades[sh], ipoints(f.bezier(a, m, b), 1))
		}
	}
	for i, k := range []float64{0.8, 0.92, 1.12} {
		polylines(&l.color, shades[i], shade(f.hair, k), 1)
	}
}

// bezier samples a quadratic Bézier curve given in head-local coordinates
// and maps it to the picture.
func (f figure) bezier(a, ctrl, b pt) []pt {
	ps := bezierPoints(a, ctrl, b, 8)
	for i, p := range ps {
		ps[i] = f.at(p.x, p.y)
	}
	return ps
}

// bezierPoints samples n+1 points of a quadratic Bézier curve.
func bezierPoints(a, ctrl, b pt, n int) []pt {
	out := make([]pt, 0, n+1)
	for k := 0; k <= n; k++ {
		t := float64(k) / float64(n)
		out = append(out, a.scale((1-t)*(1-t)).add(ctrl.scale(2*t*(1-t))).add(b.scale(t*t)))
	}
	return out
}

// alpha combines the body matte, softened by a pixel, with the hair matte
// area-averaged down to picture size and lightly blurred. The two combine as
// independent coverages: 1 − (1−a)(1−b).
func (l *layer) alpha() (gocv.Mat, error) {
	body := gocv.NewMat()
	defer body.Close()
	gocv.GaussianBlur(l.body, &body, image.Pt(3, 3), 0.7, 0.7, gocv.BorderReplicate)
	small := gocv.NewMat()
	defer small.Close()
	gocv.Resize(l.hair, &small, image.Pt(l.w, l.h), 0, 0, gocv.InterpolationArea)
	hair := gocv.NewMat()
	defer hair.Close()
	gocv.GaussianBlur(small, &hair, image.Pt(3, 3), 0.5, 0.5, gocv.BorderReplicate)

	bp, err := body.DataPtrUint8()
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("synth: body matte: %w", err)
	}
	hp, err := hair.DataPtrUint8()
	if err != nil {
		return gocv.Mat{}, fmt.Errorf("synth: hair matte: %w", err)
	}
	out := gocv.NewMatWithSize(l.h, l.w, gocv.MatTypeCV8UC1)
	op, err := out.DataPtrUint8()
	if err != nil {
		out.Close()
		return gocv.Mat{}, fmt.Errorf("synth: matte: %w", err)
	}
	for i := range op {
		a, b := uint32(bp[i]), uint32(hp[i])
		op[i] = uint8(255 - ((255-a)*(255-b)+127)/255)
	}
	return out, nil
}

// relight applies a soft left-right light falloff of the given strength,
// centred on column cx, to the person's colours in place, so figures do not
// look flat.
func relight(person gocv.Mat, strength, cx float64) error {
	pp, err := person.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("synth: relight: %w", err)
	}
	cols := person.Cols()
	gain := make([]uint32, cols) // per column, 8.8 fixed point
	for x := range gain {
		gain[x] = uint32(math.Round(256 * (1 + strength*(float64(x)-cx)/(float64(cols)/2))))
	}
	for i := range pp {
		pp[i] = uint8(min(uint32(pp[i])*gain[i/3%cols]>>8, 255))
	}
	return nil
}

// over blends person colours over img by alpha, in place, with
// composite.Over: img = alpha·person + (1−alpha)·img, rounded.
func over(img *gocv.Mat, person, alpha gocv.Mat) error {
	ip, err := img.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("synth: composite: %w", err)
	}
	pp, err := person.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("synth: composite: %w", err)
	}
	ap, err := alpha.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("synth: composite: %w", err)
	}
	composite.Over(ip, pp, ip, ap)
	return nil
}

// canvas refuses a picture smaller than least×least (what names it) and
// draws its background.
func canvas(rng *rand.Rand, w, h, least int, what string, ground bool) (gocv.Mat, error) {
	if w < least || h < least {
		return gocv.Mat{}, fmt.Errorf("synth: %s size %dx%d is too small (%dx%d at least)", what, w, h, least, least)
	}
	return background(rng, w, h, ground)
}

// background draws a textured w×h BGR picture: a two-colour gradient, a few
// translucent blobs, stripes and bars, a depth-of-field blur and grain.
// ground adds a floor plane for street scenes.
func background(rng *rand.Rand, w, h int, ground bool) (gocv.Mat, error) {
	c1 := hsv(rng.Float64()*360, uni(rng, 0.05, 0.6), uni(rng, 0.3, 0.95))
	c2 := hsv(rng.Float64()*360, uni(rng, 0.05, 0.6), uni(rng, 0.3, 0.95))
	bg := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	p, err := bg.DataPtrUint8()
	if err != nil {
		bg.Close()
		return gocv.Mat{}, fmt.Errorf("synth: background: %w", err)
	}
	th := rng.Float64() * 2 * math.Pi
	dx, dy := math.Cos(th), math.Sin(th)
	diag := math.Hypot(float64(w), float64(h))
	for y := range h {
		for x := range w {
			t := ((float64(x)-float64(w)/2)*dx+(float64(y)-float64(h)/2)*dy)/diag + 0.5
			i := 3 * (y*w + x)
			p[i] = uint8(float64(c1.B)*(1-t) + float64(c2.B)*t)
			p[i+1] = uint8(float64(c1.G)*(1-t) + float64(c2.G)*t)
			p[i+2] = uint8(float64(c1.R)*(1-t) + float64(c2.R)*t)
		}
	}
	if ground {
		hz := float64(h) * uni(rng, 0.5, 0.7)
		g := gocv.NewPointsVectorFromPoints([][]image.Point{{
			{0, int(hz + uni(rng, -10, 10))}, {w, int(hz + uni(rng, -10, 10))}, {w, h}, {0, h}}})
		gocv.FillPoly(&bg, g, hsv(rng.Float64()*360, uni(rng, 0, 0.3), uni(rng, 0.25, 0.6)))
		g.Close()
	}

	// Translucent shapes: draw on a copy, then blend back.
	over := bg.Clone()
	for range 3 + rng.IntN(6) {
		col := hsv(rng.Float64()*360, uni(rng, 0.1, 0.8), uni(rng, 0.2, 1))
		ctr := image.Pt(rng.IntN(w), rng.IntN(h))
		switch rng.IntN(3) {
		case 0: // blob
			gocv.EllipseWithParams(&over, ctr, image.Pt(4+rng.IntN(w/3), 4+rng.IntN(h/3)), rng.Float64()*180,
				0, 360, col, -1, gocv.LineAA, 0)
		case 1: // stripes
			ang := rng.Float64() * math.Pi
			sp := 6 + rng.IntN(20)
			thick := 1 + rng.IntN(max(1, sp/2))
			ux, uy := math.Cos(ang), math.Sin(ang)
			for k := -int(diag) / sp; k <= int(diag)/sp; k++ {
				o := pt{float64(w)/2 - uy*float64(k*sp), float64(h)/2 + ux*float64(k*sp)}
				a, b := o.add(pt{ux * diag, uy * diag}), o.sub(pt{ux * diag, uy * diag})
				gocv.Line(&over, a.img(1), b.img(1), col, thick)
			}
		default: // bar or window
			r := image.Rect(ctr.X, ctr.Y, ctr.X+8+rng.IntN(w/2), ctr.Y+8+rng.IntN(h/2))
			gocv.Rectangle(&over, r, col, -1)
		}
	}
	gocv.AddWeighted(bg, 0.45, over, 0.55, 0, &bg)
	over.Close()

	sigma := uni(rng, 0.6, 3.5)
	gocv.GaussianBlur(bg, &bg, image.Pt(0, 0), sigma, sigma, gocv.BorderReflect101)
	// Fetch the data again: the in-place operations above keep the buffer
	// today, but nothing promises it.
	if p, err = bg.DataPtrUint8(); err != nil {
		bg.Close()
		return gocv.Mat{}, fmt.Errorf("synth: background: %w", err)
	}
	amp := 2 + rng.IntN(8)
	for i := range p {
		p[i] = uint8(min(max(int(p[i])+rng.IntN(2*amp+1)-amp, 0), 255))
	}
	return bg, nil
}

// polylines draws open curves, skipping the call when there are none.
func polylines(m *gocv.Mat, curves [][]image.Point, c color.RGBA, thick int) {
	if len(curves) == 0 {
		return
	}
	pv := gocv.NewPointsVectorFromPoints(curves)
	gocv.Polylines(m, pv, false, c, thick)
	pv.Close()
}

// ellipsePoints samples n+1 points of an ellipse from angle t0 to t1
// (radians, y down, so angles in (π, 2π) are the top half).
func ellipsePoints(c pt, rx, ry, rot, t0, t1 float64, n int) []pt {
	out := make([]pt, 0, n+1)
	for i := 0; i <= n; i++ {
		t := t0 + (t1-t0)*float64(i)/float64(n)
		out = append(out, c.add(rotate(pt{rx * math.Cos(t), ry * math.Sin(t)}, rot)))
	}
	return out
}

// densify inserts points so consecutive points are at most step apart.
func densify(in []pt, step float64) []pt {
	if len(in) == 0 {
		return nil
	}
	out := []pt{in[0]}
	for i := 1; i < len(in); i++ {
		a, b := in[i-1], in[i]
		n := int(math.Ceil(b.sub(a).len() / step))
		for k := 1; k <= n; k++ {
			t := float64(k) / float64(n)
			out = append(out, a.scale(1-t).add(b.scale(t)))
		}
	}
	return out
}

type pt struct{ x, y float64 }

func (p pt) add(q pt) pt        { return pt{p.x + q.x, p.y + q.y} }
func (p pt) sub(q pt) pt        { return pt{p.x - q.x, p.y - q.y} }
func (p pt) scale(k float64) pt { return pt{p.x * k, p.y * k} }
func (p pt) len() float64       { return math.Hypot(p.x, p.y) }
func (p pt) img(k float64) image.Point {
	return image.Pt(int(math.Round(p.x*k)), int(math.Round(p.y*k)))
}

func (p pt) unit() pt {
	if l := p.len(); l > 1e-9 {
		return p.scale(1 / l)
	}
	return pt{0, -1}
}

func rotate(p pt, a float64) pt {
	s, c := math.Sincos(a)
	return pt{p.x*c - p.y*s, p.x*s + p.y*c}
}

func ipoints(ps []pt, k float64) []image.Point {
	out := make([]image.Point, len(ps))
	for i, p := range ps {
		out[i] = p.img(k)
	}
	return out
}

func uni(rng *rand.Rand, a, b float64) float64 { return a + (b-a)*rng.Float64() }

// skinTone and hairTone pick from small palettes (RGB) of plausible tones.
func skinTone(rng *rand.Rand) color.RGBA {
	tones := [...]color.RGBA{
		{255, 224, 196, 255}, {241, 194, 155, 255}, {224, 172, 130, 255}, {198, 134, 96, 255},
		{161, 102, 68, 255}, {112, 70, 45, 255}, {84, 52, 36, 255},
	}
	return jitter(rng, tones[rng.IntN(len(tones))], 10)
}

func hairTone(rng *rand.Rand) color.RGBA {
	tones := [...]color.RGBA{
		{22, 17, 15, 255}, {48, 32, 22, 255}, {90, 60, 38, 255}, {140, 95, 58, 255},
		{196, 158, 96, 255}, {135, 58, 30, 255}, {160, 156, 150, 255},
	}
	return jitter(rng, tones[rng.IntN(len(tones))], 6)
}

func jitter(rng *rand.Rand, c color.RGBA, d int) color.RGBA {
	j := func(v uint8) uint8 { return uint8(min(max(int(v)+rng.IntN(2*d+1)-d, 0), 255)) }
	return color.RGBA{j(c.R), j(c.G), j(c.B), 255}
}

func shade(c color.RGBA, k float64) color.RGBA {
	s := func(v uint8) uint8 { return uint8(min(math.Round(float64(v)*k+(k-1)*12), 255)) }
	return color.RGBA{s(c.R), s(c.G), s(c.B), 255}
}

func mix(a, b color.RGBA, t float64) color.RGBA {
	m := func(x, y uint8) uint8 { return uint8(math.Round(float64(x)*(1-t) + float64(y)*t)) }
	return color.RGBA{m(a.R, b.R), m(a.G, b.G), m(a.B, b.B), 255}
}

// hsv converts hue (degrees), saturation and value (0..1) to a colour.
func hsv(h, s, v float64) color.RGBA {
	c := v * s
	x := c * (1 - math.Abs(math.Mod(h/60, 2)-1))
	var r, g, b float64
	switch {
	case h < 60:
		r, g = c, x
	case h < 120:
		r, g = x, c
	case h < 180:
		g, b = c, x
	case h < 240:
		g, b = x, c
	case h < 300:
		r, b = x, c
	default:
		r, b = c, x
	}
	m := v - c
	f := func(u float64) uint8 { return uint8(math.Round((u + m) * 255)) }
	return color.RGBA{f(r), f(g), f(b), 255}
}

// gray is a colour for drawing into one-channel Mats: gocv passes a
// color.RGBA's B as the first channel.
func gray(v uint8) color.RGBA { return color.RGBA{v, v, v, 255} }

func scalar(c color.RGBA) gocv.Scalar {
	return gocv.NewScalar(float64(c.B), float64(c.G), float64(c.R), 0)
}
