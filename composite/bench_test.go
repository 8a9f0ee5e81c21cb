package composite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
)

// BenchmarkComposite: one real cut-out (1920x1080, premultiplied) over a
// real photo on a 1080x1440 canvas, scaled, random position and flip;
// inputs decoded once, as a worker caching them would. Reports
// composites/s of wall time and per CPU-second of process time (steadier
// on a shared machine); run under `taskset -c 0` for a one-core figure, as
// OpenCV otherwise spreads resizes over its own threads.
func BenchmarkComposite(b *testing.B) {
	dir := shareddata.Dir(b, "data")
	fg, err := loadCutout(filepath.Join(dir, "p3m", "cutouts", "p_09ba26b4.png"), true)
	if err != nil {
		b.Fatal(err)
	}
	defer fg.Close()
	photo, err := loadBackground(filepath.Join(dir, "backgrounds", "coffee.png"))
	if err != nil {
		b.Fatal(err)
	}
	defer photo.Close()
	stripes, _ := loadBackground("procedural:stripes")
	base := Options{Seed: 1, Width: 1080, Height: 1440, ScaleLo: 0.6, ScaleHi: 1.0, Position: Random, Flip: true}
	realism := base
	realism.LinearLight, realism.Harmonize, realism.BgBlur, realism.Noise = true, 0.3, 2, 2
	for _, c := range []struct {
		name string
		bg   *Background
		o    Options
	}{{"photo", photo, base}, {"procedural", stripes, base}, {"photo-realism", photo, realism}} {
		b.Run(c.name, func(b *testing.B) {
			k := 0
			cpu0 := fixture.CPUTime().Seconds()
			for b.Loop() {
				r, err := Composite(context.Background(), fg, nil, c.bg, k, c.o)
				if err != nil {
					b.Fatal(err)
				}
				r.Close()
				k++
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "composites/s")
			b.ReportMetric(float64(b.N)/(fixture.CPUTime().Seconds()-cpu0), "composites/cpu-s")
		})
	}
}
