package composite

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
	"gocv.io/x/gocv"
)

// realData loads the P3M cut-outs (premultiplied RGBA PNGs) and the
// background photos, plus each cut-out's alpha read independently of
// DecodeCutout.
func realData(t testing.TB) (fgs []*Foreground, alphas []gocv.Mat, bgs []*Background) {
	t.Helper()
	cut, _ := filepath.Glob(filepath.Join(shareddata.Dir(t, "data/p3m"), "cutouts", "*.png"))
	bgFiles, _ := filepath.Glob(filepath.Join(shareddata.Dir(t, "data/backgrounds"), "*"))
	if len(cut) == 0 || len(bgFiles) == 0 {
		t.Skip("skipping: no cut-outs or backgrounds in the shared data folder")
	}
	for _, p := range cut {
		fg, err := loadCutout(p, true)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { fg.Close() })
		fgs = append(fgs, fg)
		m := gocv.IMRead(p, gocv.IMReadUnchanged)
		ch := gocv.Split(m)
		m.Close()
		for _, c := range ch[:3] {
			c.Close()
		}
		a := ch[3]
		t.Cleanup(func() { a.Close() })
		alphas = append(alphas, a)
	}
	for _, p := range bgFiles {
		bg, err := loadBackground(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bg.Close() })
		bgs = append(bgs, bg)
	}
	return fgs, alphas, bgs
}

// placedAlpha is the test's own rendering of a recorded placement.
func placedAlpha(t testing.TB, a gocv.Mat, p Placement, w, h int) []byte {
	t.Helper()
	return fixture.PlacedAlpha(t, a, fixture.Placement{X: p.X, Y: p.Y, W: p.W, H: p.H, Flip: p.Flip}, w, h)
}

func TestRealCutoutsUnscaled(t *testing.T) {
	fgs, alphas, bgs := realData(t)
	flips := map[bool]int{}
	for i, fg := range fgs {
		r := mustComposite(t, fg, nil, bgs[i%len(bgs)], i, Options{Seed: 5, Flip: true, Layers: true})
		p := r.Record.Layers[0]
		flips[p.Flip]++
		if p.X != 0 || p.Y != 0 || p.Scale != 1 || r.Image.Cols() != fg.Size().X || r.Image.Rows() != fg.Size().Y {
			t.Fatalf("%s: canvas %dx%d, placement %+v; want the cut-out's size at 0,0", fg.ID, r.Image.Cols(), r.Image.Rows(), p)
		}
		want := placedAlpha(t, alphas[i], p, fg.Size().X, fg.Size().Y)
		if string(bytesOf(t, r.Alpha)) != string(want) {
			t.Errorf("%s: composite alpha is not the cut-out's alpha (flip %v)", fg.ID, p.Flip)
		}
		checkLayers(t, fg.ID, r)
	}
	if flips[true] == 0 || flips[false] == 0 {
		t.Errorf("flips %v: want both in 9 draws", flips)
	}
}

func TestRealCutoutsScaled(t *testing.T) {
	fgs, alphas, bgs := realData(t)
	// A tall canvas scales by 0.5..1.1 (bilinear), a small one below half
	// size (area).
	for _, o := range []Options{
		{Seed: 11, Width: 1080, Height: 1440, ScaleLo: 0.5, ScaleHi: 1.1, Position: Random, Flip: true, Layers: true},
		{Seed: 12, Width: 360, Height: 480, ScaleLo: 0.5, ScaleHi: 0.9, Position: Center, Flip: true, Layers: true},
	} {
		for i, fg := range fgs {
			r := mustComposite(t, fg, nil, bgs[(i+3)%len(bgs)], i, o)
			p := r.Record.Layers[0]
			want, got := placedAlpha(t, alphas[i], p, o.Width, o.Height), bytesOf(t, r.Alpha)
			off := 0
			for j := range want {
				if d := int(got[j]) - int(want[j]); d > 1 || d < -1 {
					t.Fatalf("%s at %+v: alpha %d at %d,%d, reference %d", fg.ID, p, got[j], j%o.Width, j/o.Width, want[j])
				} else if d != 0 {
					off++
				}
			}
			if off > len(want)/1000 {
				t.Errorf("%s: %d alpha values off by one", fg.ID, off)
			}
			checkLayers(t, fg.ID, r)
		}
	}
	// Too big for the canvas and no scale range: shrunk to fit, reported.
	r := mustComposite(t, fgs[0], nil, bgs[0], 0, Options{Width: 640, Height: 480})
	p := r.Record.Layers[0]
	if !r.Record.Shrunk || p.H > 480 || p.W > 640 || (p.H != 480 && p.W != 640) {
		t.Errorf("placement %+v: want shrunk to touch the 640x480 canvas", p)
	}
	dump(t, fgs, bgs)
}

// checkLayers: the image is the blend of the returned layers, B shows
// through where alpha is 0, F where it is 1.
func checkLayers(t *testing.T, id string, r *Result) {
	t.Helper()
	img, al, f, b := bytesOf(t, r.Image), bytesOf(t, r.Alpha), bytesOf(t, r.F), bytesOf(t, r.B)
	for p, av := range al {
		a := float64(av) / 255
		for c := 0; c < 3; c++ {
			i := 3*p + c
			want := a*float64(f[i]) + (1-a)*float64(b[i])
			if d := float64(img[i]) - want; d > 1 || d < -1 || (av == 0 && img[i] != b[i]) || (av == 255 && img[i] != f[i]) {
				t.Fatalf("%s: pixel %d channel %d = %d, alpha %d, F %d, B %d", id, p, c, img[i], av, f[i], b[i])
			}
		}
	}
}

// dump writes a few composites and a contact sheet to $COMPOSITE_DUMP, for
// looking at by eye.
func dump(t *testing.T, fgs []*Foreground, bgs []*Background) {
	dir := os.Getenv("COMPOSITE_DUMP")
	if dir == "" {
		return
	}
	proc, _ := ParseProcedural("procedural")
	var rs []*Result
	for i := range 6 {
		o := Options{Seed: 1, Width: 1080, Height: 1440, ScaleLo: 0.6, ScaleHi: 1.0, Flip: true, Harmonize: 0.3 * float64(i%2)}
		bg := bgs[i%len(bgs)]
		if i >= 4 {
			b, err := loadBackground(proc[i%len(proc)])
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			bg = b
		}
		var second *Foreground
		if i == 3 {
			second = fgs[i+1]
		}
		r := mustComposite(t, fgs[i], second, bg, i, o)
		gocv.IMWrite(filepath.Join(dir, fmt.Sprintf("composite%d.png", i)), r.Image)
		rs = append(rs, r)
	}
	sheet, err := ContactSheet(rs, 240)
	if err != nil {
		t.Fatal(err)
	}
	defer sheet.Close()
	gocv.IMWrite(filepath.Join(dir, "sheet.png"), sheet)
}

func TestRealCutoutsLookPremultiplied(t *testing.T) {
	cut, _ := filepath.Glob(filepath.Join(shareddata.Dir(t, "data/p3m"), "cutouts", "*.png"))
	if len(cut) == 0 {
		t.Skip("skipping: no cut-outs")
	}
	fg, err := loadCutout(cut[0], false)
	if err != nil {
		t.Fatal(err)
	}
	defer fg.Close()
	if !fg.LooksPremultiplied {
		t.Errorf("%s: the P3M cut-outs store colour multiplied by alpha; want LooksPremultiplied", cut[0])
	}
}
