package composite

import (
	"image"
	"testing"

	"gocv.io/x/gocv"
)

// opaque is a w×h fully opaque grey cut-out, for tests about the background.
func opaque(t *testing.T, w, h int) *Foreground {
	t.Helper()
	a := make([]byte, w*h)
	for i := range a {
		a[i] = 255
	}
	return mustFg(t, "opaque", h, w, make([]byte, 3*w*h), a, false)
}

func TestComposition1kUpscale(t *testing.T) {
	// A 3×2 background under a 7×5 cut-out: ratio = max(7/3, 5/2) = 2.5, so
	// the background becomes ceil(7.5)×ceil(5) = 8×5, cut at the top left.
	bgPix := []byte{
		10, 20, 30, 110, 120, 130, 210, 220, 230,
		40, 50, 60, 140, 150, 160, 240, 250, 255,
	}
	bg := mustBg(t, 2, 3, gocv.MatTypeCV8UC3, bgPix)
	a := make([]byte, 35)
	a[34] = 255 // one visible pixel, so the cut-out is valid
	fg := mustFg(t, "fg1k", 5, 7, make([]byte, 3*35), a, false)
	o := Composition1k(1)
	o.Layers = true
	r := mustComposite(t, fg, nil, bg, 0, o)
	rec := r.Record.Background
	if rec.W != 8 || rec.H != 5 || rec.X != 0 || rec.Y != 0 || rec.Fit != CoverTopLeft {
		t.Fatalf("background record %+v, want 8x5 at 0,0 cover-topleft", rec)
	}
	// Independent reference: bicubic upscale to 8×5, keep columns 0..6.
	ref := gocv.NewMat()
	defer ref.Close()
	gocv.Resize(mat(t, 2, 3, gocv.MatTypeCV8UC3, bgPix), &ref, image.Pt(8, 5), 0, 0, gocv.InterpolationCubic)
	rp, got := bytesOf(t, ref), bytesOf(t, r.B)
	for y := range 5 {
		for x := range 7 {
			for c := range 3 {
				if g, w := got[3*(7*y+x)+c], rp[3*(8*y+x)+c]; g != w {
					t.Fatalf("B at %d,%d/%d = %d, want %d", x, y, c, g, w)
				}
			}
		}
	}
	// The columns differ, so a crop one pixel to the right would have failed.
	if rp[0] == rp[3] {
		t.Error("test background too flat to tell crops apart")
	}
}

func TestComposition1kLargerBackgroundIsNotScaled(t *testing.T) {
	bgPix := pseudo(3*5*6, 9) // 6 wide, 5 high
	bg := mustBg(t, 5, 6, gocv.MatTypeCV8UC3, bgPix)
	a := make([]byte, 6)
	a[5] = 255
	fg := mustFg(t, "fg", 2, 3, make([]byte, 18), a, false)
	o := Composition1k(1)
	o.Layers = true
	r := mustComposite(t, fg, nil, bg, 0, o)
	got := bytesOf(t, r.B)
	for y := range 2 {
		for x := range 3 {
			for c := range 3 {
				if got[3*(3*y+x)+c] != bgPix[3*(6*y+x)+c] {
					t.Fatalf("B at %d,%d differs from the background's top-left crop", x, y)
				}
			}
		}
	}
	if rec := r.Record.Background; rec.W != 6 || rec.H != 5 {
		t.Errorf("larger background recorded as scaled: %+v", rec)
	}
}

func TestCoverRandomAndStretch(t *testing.T) {
	bgPix := pseudo(3*40*60, 5) // 60×40
	bg := mustBg(t, 40, 60, gocv.MatTypeCV8UC3, bgPix)
	fg := opaque(t, 4, 4)
	seen := map[[2]int]bool{}
	for k := range 20 {
		r := mustComposite(t, fg, nil, bg, k, Options{Width: 20, Height: 10, Layers: true})
		rec := r.Record.Background
		if rec.W != 60 || rec.H != 40 || rec.X < 0 || rec.X > 40 || rec.Y < 0 || rec.Y > 30 {
			t.Fatalf("crop %+v outside the unscaled 60x40 background", rec)
		}
		seen[[2]int{rec.X, rec.Y}] = true
		got := bytesOf(t, r.B)
		for y := range 10 {
			for x := range 20 {
				if got[3*(20*y+x)] != bgPix[3*(60*(y+rec.Y)+x+rec.X)] {
					t.Fatalf("B differs from the recorded crop at %d,%d", x, y)
				}
			}
		}
	}
	if len(seen) < 10 {
		t.Errorf("only %d distinct crops in 20 composites", len(seen))
	}
	r := mustComposite(t, fg, nil, bg, 0, Options{Width: 30, Height: 50, Fit: Stretch, Layers: true})
	if r.B.Cols() != 30 || r.B.Rows() != 50 || r.Record.Background.W != 30 {
		t.Errorf("stretch gave %dx%d, record %+v", r.B.Cols(), r.B.Rows(), r.Record.Background)
	}
}
