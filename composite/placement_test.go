package composite

import (
	"image"
	"testing"

	"gocv.io/x/gocv"
)

func TestPlacePositions(t *testing.T) {
	fg := image.Pt(40, 60)
	for _, c := range []struct {
		pos  Position
		x, y int
	}{{"", 30, 40}, {Bottom, 30, 40}, {Center, 30, 20}} {
		p := place(newStream(1, "a", 0, "fg"), "a", fg, 100, 100, Options{Position: c.pos}, false)
		if p.X != c.x || p.Y != c.y || p.W != 40 || p.H != 60 || p.Scale != 1 || p.Shrunk {
			t.Errorf("%q: got %+v, want 40x60 at %d,%d", c.pos, p, c.x, c.y)
		}
	}
	for k := range 50 {
		o := Options{Position: Random, ScaleLo: 0.2, ScaleHi: 1.5}
		p := place(newStream(1, "a", k, "fg"), "a", fg, 100, 80, o, false)
		if p.H < 16 || p.H > 120 || p.W != int(float64(p.H)*40/60+0.5) {
			t.Fatalf("scale draw %+v outside [0.2,1.5]×80 or aspect lost", p)
		}
		lo, hi := min(0, 100-p.W), max(0, 100-p.W)
		if p.X < lo || p.X > hi || p.Y < min(0, 80-p.H) || p.Y > max(0, 80-p.H) {
			t.Fatalf("random offset %+v out of range", p)
		}
	}
}

func TestPlaceSecondAtRandomX(t *testing.T) {
	xs := map[int]bool{}
	for k := range 20 {
		p := place(newStream(1, "a", k, "second"), "a", image.Pt(20, 30), 100, 100, Options{}, true)
		if p.Y != 70 || p.X < 0 || p.X > 80 {
			t.Fatalf("second foreground %+v: want on the bottom edge, inside", p)
		}
		xs[p.X] = true
	}
	if len(xs) < 10 {
		t.Errorf("second foreground x took %d values in 20 draws", len(xs))
	}
}

func TestPlaceShrinksOversizedCutout(t *testing.T) {
	p := place(newStream(1, "a", 0, "fg"), "a", image.Pt(300, 200), 100, 100, Options{}, false)
	if !p.Shrunk || p.W != 100 || p.H != 67 || p.Y != 33 {
		t.Errorf("got %+v, want shrunk to 100x67 on the bottom edge", p)
	}
	// Through Composite, the result reports it for the caller to count.
	fg := opaque(t, 30, 20)
	r := mustComposite(t, fg, nil, mustBg(t, 10, 10, gocv.MatTypeCV8UC3, make([]byte, 300)), 0, Options{Width: 10, Height: 10})
	if !r.Record.Shrunk || !r.Record.Layers[0].Shrunk {
		t.Error("oversized cut-out not reported as shrunk")
	}
	if p := place(newStream(1, "a", 0, "fg"), "a", image.Pt(300, 200), 100, 100, Options{ScaleLo: 0.5, ScaleHi: 0.5}, false); p.Shrunk {
		t.Error("with a scale range, nothing is shrunk")
	}
}

func TestFlipAndClip(t *testing.T) {
	// A 4×2 cut-out whose alpha rises left to right, mirrored and hanging
	// off the canvas's left edge.
	a := []byte{10, 20, 30, 40, 50, 60, 70, 80}
	fg := mustFg(t, "ramp", 2, 4, pseudo(24, 7), a, false)
	p := Placement{X: -1, Y: 1, W: 4, H: 2, Scale: 1, Flip: true}
	l, err := placeLayer(fg, p, 5, 4)
	if err != nil {
		t.Fatal(err)
	}
	defer l.close()
	got := bytesOf(t, l.a)
	want := []byte{
		0, 0, 0, 0, 0,
		30, 20, 10, 0, 0,
		70, 60, 50, 0, 0,
		0, 0, 0, 0, 0,
	}
	if string(got) != string(want) {
		t.Errorf("placed alpha\n%v\nwant\n%v", got, want)
	}
}
