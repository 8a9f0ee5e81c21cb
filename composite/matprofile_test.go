//go:build matprofile

package composite

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/internal/matleak"
	"github.com/segtool/segtool/internal/shareddata"
	"gocv.io/x/gocv"
)

// TestMatProfile runs loads (good and bad), composites (procedural and
// real, every option), plans and a contact sheet, closes what it gets, and
// expects gocv's count of live Mats back where it started.
// Run: go test -tags matprofile ./composite/
func TestMatProfile(t *testing.T) {
	leaks := matleak.Start(t)
	func() {
		ctx := context.Background()
		dir := t.TempDir()
		bad := filepath.Join(dir, "bad.jpg")
		os.WriteFile(bad, []byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 16}, 0o644)
		rgb := gocv.NewMatWithSize(8, 8, gocv.MatTypeCV8UC3)
		gocv.IMWrite(filepath.Join(dir, "rgb.png"), rgb)
		rgb.Close()
		clear := gocv.NewMatWithSizeFromScalar(gocv.Scalar{}, 8, 8, gocv.MatTypeCV8UC4)
		gocv.IMWrite(filepath.Join(dir, "clear.png"), clear)
		clear.Close()
		for _, p := range []string{"rgb.png", "clear.png", "bad.jpg", "none.png"} {
			if fg, err := loadCutout(filepath.Join(dir, p), false); err == nil {
				fg.Close()
				t.Errorf("%s loaded", p)
			}
		}
		if _, err := loadBackground(bad); err == nil {
			t.Error("bad background loaded")
		}

		var fgs []*Foreground
		var bgs []*Background
		if d, ok := shareddata.Find(); ok {
			cut, _ := filepath.Glob(filepath.Join(d, "data", "p3m", "cutouts", "*.png"))
			photos, _ := filepath.Glob(filepath.Join(d, "data", "backgrounds", "*"))
			for _, p := range cut[:min(3, len(cut))] {
				fg, err := loadCutout(p, true)
				if err != nil {
					t.Fatal(err)
				}
				fgs = append(fgs, fg)
			}
			for _, p := range photos[:min(3, len(photos))] {
				bg, err := loadBackground(p)
				if err != nil {
					t.Fatal(err)
				}
				bgs = append(bgs, bg)
			}
		}
		a := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(200, 0, 0, 0), 120, 90, gocv.MatTypeCV8UC1)
		f := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(10, 100, 200, 0), 120, 90, gocv.MatTypeCV8UC3)
		synth, err := NewForeground("synth", f, a, false)
		a.Close()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		fgs = append(fgs, synth)
		proc, _ := ParseProcedural("procedural")
		for _, id := range proc {
			bg, _ := loadBackground(id)
			bgs = append(bgs, bg)
		}
		var ids, bgIDs []string
		for _, fg := range fgs {
			ids = append(ids, fg.ID)
		}
		for _, bg := range bgs {
			bgIDs = append(bgIDs, bg.ID)
		}
		o := Options{Seed: 2, Width: 360, Height: 480, ScaleLo: 0.5, ScaleHi: 1.2, Position: Random, Flip: true,
			Multi: 0.5, PerFg: len(bgs), Harmonize: 0.4, BgBlur: 1.5, Noise: 2, Layers: true}
		items, err := Plan(ids, bgIDs, o)
		if err != nil {
			t.Fatal(err)
		}
		var keep []*Result
		for i, it := range items {
			oi := o
			oi.LinearLight = i%2 == 0
			oi.Layers = i%3 != 0
			oi.Fit = []Fit{CoverRandom, CoverTopLeft, Stretch}[i%3]
			var second *Foreground
			if it.Second >= 0 {
				second = fgs[it.Second]
			}
			r, err := Composite(ctx, fgs[it.Fg], second, bgs[it.Bg], it.Index, oi)
			if err != nil {
				t.Fatal(err)
			}
			if len(keep) < 4 {
				keep = append(keep, r)
			} else {
				r.Close()
			}
		}
		r, err := Composite(ctx, fgs[0], nil, bgs[0], 0, Options{Width: 50, Height: 40}) // shrunk
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := Composite(cctx, fgs[0], nil, bgs[0], 0, o); err == nil {
			t.Error("cancelled composite ran")
		}
		sheet, err := ContactSheet(keep, 64)
		if err != nil {
			t.Fatal(err)
		}
		sheet.Close()
		for _, r := range keep {
			r.Close()
		}
		for _, fg := range fgs {
			fg.Close()
		}
		for _, bg := range bgs {
			bg.Close()
		}
	}()
	leaks.Check("composite")
}
