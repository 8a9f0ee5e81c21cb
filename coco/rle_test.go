package coco

import (
	"errors"
	"math/rand/v2"
	"slices"
	"testing"
)

// InstanceMasks on a hand-made 3x2 plane: ids 2 and 5, column-major runs.
func TestInstanceMasks(t *testing.T) {
	// row-major, w=3 h=2:  2 0 5
	//                      2 5 5
	ms := InstanceMasks([]uint8{2, 0, 5, 2, 5, 5}, 3, 2)
	if len(ms) != 2 || !slices.Equal(ms[0].Counts, []uint32{0, 2, 4}) || !slices.Equal(ms[1].Counts, []uint32{3, 3}) {
		t.Fatalf("%v", ms)
	}
}

// A 3x3 mask with its centre set: column-major index 4, so runs 4,1,4,
// each one 5-bit group ('0'+4, '0'+1, '0'+4).
func TestEncodeHandWorked(t *testing.T) {
	m := []uint8{0, 0, 0, 0, 1, 0, 0, 0, 0}
	r := Encode(m, 3, 3)
	if !slices.Equal(r.Counts, []uint32{4, 1, 4}) {
		t.Fatalf("counts %v", r.Counts)
	}
	if s := r.String(); s != "414" {
		t.Fatalf("string %q", s)
	}
	if r.Area() != 1 || r.BBox() != [4]float64{1, 1, 1, 1} {
		t.Fatalf("area %d bbox %v", r.Area(), r.BBox())
	}
	// Row-major 2x3 (w=3, h=2): column-major order is m[0],m[3],m[1],m[4],m[2],m[5].
	m = []uint8{1, 0, 7, 1, 0, 0}
	r = Encode(m, 3, 2)
	if !slices.Equal(r.Counts, []uint32{0, 2, 2, 1, 1}) {
		t.Fatalf("counts %v", r.Counts)
	}
	if got := r.Decode(); !slices.Equal(got, []uint8{1, 0, 1, 1, 0, 0}) {
		t.Fatalf("decode %v", got)
	}
	// The 1 in column 2 row 0 and the column-0 run: x 0..2, y 0..1.
	if r.BBox() != [4]float64{0, 0, 3, 2} {
		t.Fatalf("bbox %v", r.BBox())
	}
}

// 100 = 3·32 + 4: groups 4 (with the more bit, 4|32 = 36 → 'T') and 3 →
// '3'. From the fourth count on, the difference from two before is
// written: 2 − 5 = −3, one group 29 (sign bit 0x10 set) → 'M'.
func TestStringHandWorked(t *testing.T) {
	for _, c := range []struct {
		counts []uint32
		h, w   int
		want   string
	}{
		{[]uint32{100}, 10, 10, "T3"},
		{[]uint32{0, 5, 10, 2}, 1, 17, "05:M"},
	} {
		r := RLE{H: c.h, W: c.w, Counts: c.counts}
		if s := r.String(); s != c.want {
			t.Errorf("%v: %q, want %q", c.counts, s, c.want)
		}
		back, err := ParseCounts(c.want, c.h, c.w)
		if err != nil || !slices.Equal(back.Counts, c.counts) {
			t.Errorf("parse %q: %v %v", c.want, back.Counts, err)
		}
	}
}

func TestParseCountsRejects(t *testing.T) {
	for _, s := range []string{"T3", "T", "4 1", "414~"} {
		if _, err := ParseCounts(s, 3, 3); !errors.Is(err, ErrMalformedRLE) {
			t.Errorf("%q: %v, want ErrMalformedRLE", s, err)
		}
	}
}

// 4x4: a = column 0 (4 px), b = columns 0-1 rows 0-1 (4 px); they share 2
// px, union 6: IoU 1/3; with b a crowd, 2 / area(a)=4.
func TestIoUHandWorked(t *testing.T) {
	a := Encode([]uint8{1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}, 4, 4)
	b := Encode([]uint8{1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 4, 4)
	if got := IoU(a, b, false); got != 2.0/6 {
		t.Errorf("IoU %v", got)
	}
	if got := IoU(a, b, true); got != 0.5 {
		t.Errorf("crowd IoU %v", got)
	}
	u, _ := Merge([]RLE{a, b}, false)
	if u.Area() != 6 {
		t.Errorf("union area %d", u.Area())
	}
	// Boxes [0,0,2,2] and [1,1,2,2]: overlap 1, union 7.
	if got := BBoxIoU([4]float64{0, 0, 2, 2}, [4]float64{1, 1, 2, 2}, false); got != 1.0/7 {
		t.Errorf("box IoU %v", got)
	}
}

// genMasks makes deterministic masks of many shapes: empty, full, noise,
// rectangles and discs, sizes from 1x1 to large enough for multi-group and
// negative-delta counts.
func genMasks(n int) []struct {
	h, w int
	data []uint8
} {
	rng := rand.New(rand.NewPCG(17, 1))
	out := make([]struct {
		h, w int
		data []uint8
	}, n)
	for i := range out {
		h, w := 1+rng.IntN(180), 1+rng.IntN(240)
		d := make([]uint8, h*w)
		switch i % 5 {
		case 0: // empty, or full
			if i%10 == 5 {
				for j := range d {
					d[j] = 1
				}
			}
		case 1:
			p := rng.Float64()
			for j := range d {
				if rng.Float64() < p {
					d[j] = 1
				}
			}
		default:
			for s := 0; s < 1+rng.IntN(4); s++ {
				cx, cy, rad := rng.IntN(w), rng.IntN(h), 1+rng.IntN(60)
				disc := rng.IntN(2) == 0
				for y := 0; y < h; y++ {
					for x := 0; x < w; x++ {
						dx, dy := x-cx, y-cy
						if (disc && dx*dx+dy*dy <= rad*rad) || (!disc && abs(dx) <= rad && abs(dy) <= rad/2) {
							d[y*w+x] = 1
						}
					}
				}
			}
		}
		out[i].h, out[i].w, out[i].data = h, w, d
	}
	return out
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// Encode, String, Area and BBox against pycocotools' mask.encode, area
// and toBbox; ParseCounts and Decode of its strings against its decode.
func TestRLEMatchesPycocotools(t *testing.T) {
	masks := genMasks(60)
	type maskReq struct {
		H    int     `json:"h"`
		W    int     `json:"w"`
		Data []uint8 `json:"data"`
	}
	type strReq struct {
		H      int    `json:"h"`
		W      int    `json:"w"`
		Counts string `json:"counts"`
	}
	req := struct {
		Op      string    `json:"op"`
		Masks   []maskReq `json:"masks"`
		Strings []strReq  `json:"strings"`
	}{Op: "rle"}
	for _, m := range masks {
		req.Masks = append(req.Masks, maskReq{m.h, m.w, m.data})
		req.Strings = append(req.Strings, strReq{m.h, m.w, Encode(m.data, m.w, m.h).String()})
	}
	var got struct {
		Encode []struct {
			Counts string
			Area   int
			BBox   [4]float64
		}
		Decode [][]uint8
	}
	pycoco(t, req, &got)
	if len(got.Encode) != len(masks) || len(got.Decode) != len(masks) {
		t.Fatalf("pycocotools answered %d/%d of %d", len(got.Encode), len(got.Decode), len(masks))
	}
	for i, m := range masks {
		r := Encode(m.data, m.w, m.h)
		want := got.Encode[i]
		if s := r.String(); s != want.Counts {
			t.Errorf("mask %d (%dx%d): counts %q, pycocotools %q", i, m.h, m.w, s, want.Counts)
		}
		if r.Area() != want.Area || r.BBox() != want.BBox {
			t.Errorf("mask %d: area %d bbox %v, pycocotools %d %v", i, r.Area(), r.BBox(), want.Area, want.BBox)
		}
		back, err := ParseCounts(want.Counts, m.h, m.w)
		if err != nil {
			t.Errorf("mask %d: parse: %v", i, err)
			continue
		}
		if !slices.Equal(back.Decode(), got.Decode[i]) || !slices.Equal(back.Decode(), binary(m.data)) {
			t.Errorf("mask %d: decode differs", i)
		}
	}
}

func binary(d []uint8) []uint8 {
	out := make([]uint8, len(d))
	for i, v := range d {
		if v != 0 {
			out[i] = 1
		}
	}
	return out
}

// Polygons (frPyObjects then merge), mask IoU and box IoU, crowd and not,
// against pycocotools.
func TestPolygonsAndIoUMatchPycocotools(t *testing.T) {
	rng := rand.New(rand.NewPCG(17, 2))
	type polyReq struct {
		H     int         `json:"h"`
		W     int         `json:"w"`
		Polys [][]float64 `json:"polys"`
	}
	var polys []polyReq
	for i := 0; i < 40; i++ {
		h, w := 5+rng.IntN(120), 5+rng.IntN(160)
		var ps [][]float64
		for k := 0; k < 1+rng.IntN(3); k++ {
			var p []float64
			for v := 0; v < 3+rng.IntN(6); v++ {
				// some vertices outside the image, some on half pixels
				p = append(p, float64(rng.IntN(2*w)-w/2)+0.5*float64(rng.IntN(3)), float64(rng.IntN(2*h)-h/2)+rng.Float64())
			}
			ps = append(ps, p)
		}
		polys = append(polys, polyReq{h, w, ps})
	}
	h, w := 60, 80
	var dt, gt []string
	var dtb, gtb [][4]float64
	var dtr, gtr []RLE
	for i := 0; i < 12; i++ {
		b := [4]float64{float64(rng.IntN(w)), float64(rng.IntN(h)), float64(1 + rng.IntN(40)), float64(1 + rng.IntN(30))}
		r := FromBox(b, h, w)
		if i%3 == 0 {
			p, _ := FromPolygons([][]float64{{b[0], b[1], b[0] + b[2], b[1] + b[3]/2, b[0], b[1] + b[3]}}, h, w)
			r = p
		}
		if i < 7 {
			dt, dtb, dtr = append(dt, r.String()), append(dtb, b), append(dtr, r)
		} else {
			gt, gtb, gtr = append(gt, r.String()), append(gtb, b), append(gtr, r)
		}
	}
	crowd := []int{0, 1, 0, 0, 1}
	req := map[string]any{"op": "rle", "polys": polys, "iou": map[string]any{
		"h": h, "w": w, "dt": dt, "gt": gt, "dtbox": dtb, "gtbox": gtb, "crowd": crowd,
	}}
	var got struct {
		Poly   []string
		IoU    [][]float64
		BoxIoU [][]float64
	}
	pycoco(t, req, &got)
	for i, p := range polys {
		r, err := FromPolygons(p.Polys, p.H, p.W)
		if err != nil {
			t.Fatal(err)
		}
		if s := r.String(); s != got.Poly[i] {
			t.Errorf("polygon set %d: %q, pycocotools %q", i, s, got.Poly[i])
		}
	}
	for d := range dtr {
		for g := range gtr {
			if v := IoU(dtr[d], gtr[g], crowd[g] == 1); v != got.IoU[d][g] {
				t.Errorf("IoU dt %d gt %d: %v, pycocotools %v", d, g, v, got.IoU[d][g])
			}
			if v := BBoxIoU(dtb[d], gtb[g], crowd[g] == 1); v != got.BoxIoU[d][g] {
				t.Errorf("box IoU dt %d gt %d: %v, pycocotools %v", d, g, v, got.BoxIoU[d][g])
			}
		}
	}
}

// Any string ParseCounts accepts is a well-formed mask whose canonical
// string parses back to the same counts.
func FuzzParseCounts(f *testing.F) {
	for _, s := range []string{"414", "T3", "05:M", "", "0", "39", "1?", "ZZ"} {
		f.Add(s, 3, 3)
	}
	f.Add("05:M", 1, 17)
	f.Fuzz(func(t *testing.T, s string, h, w int) {
		if h < 0 || w < 0 || h > 64 || w > 64 {
			return
		}
		r, err := ParseCounts(s, h, w)
		if err != nil {
			return
		}
		if r.Check() != nil || len(r.Decode()) != h*w {
			t.Fatalf("%q: accepted %v", s, r.Counts)
		}
		back, err := ParseCounts(r.String(), h, w)
		if err != nil || !slices.Equal(back.Counts, r.Counts) {
			t.Fatalf("%q: %v re-encodes as %q: %v %v", s, r.Counts, r.String(), back.Counts, err)
		}
		if Encode(r.Decode(), w, h).Area() != r.Area() {
			t.Fatalf("%q: area changes through Decode", s)
		}
	})
}
