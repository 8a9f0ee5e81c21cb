//go:build unix

package jobs_test

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/jobs"
	"gocv.io/x/gocv"
)

// The benchmark fixture: buildBenchPairs portrait photos in the folder
// layout, images/<stem>.jpg (RGB, JPEG quality 95) and masks/<stem>.png
// (one channel, 0/255).
const (
	buildBenchPairs  = 200
	buildBenchWidth  = 600
	buildBenchHeight = 800
	buildBenchSeed   = 20240601
)

// buildBenchFixture draws the pairs into root/src, root being a temporary
// folder removed when the benchmark ends (no TestMain: package jobs' tests
// are shared by every job), and returns root and the pairs' stems.
func buildBenchFixture(b *testing.B) (root string, stems []string) {
	b.Helper()
	root = b.TempDir()
	stems, err := buildBenchWritePairs(filepath.Join(root, "src"), buildBenchPairs, 2)
	if err != nil {
		b.Fatalf("bench fixture: %v", err)
	}
	return root, stems
}

// buildBenchWritePairs draws n pairs into src with the given number of
// goroutines. Pair i depends only on (buildBenchSeed, i).
func buildBenchWritePairs(src string, n, workers int) ([]string, error) {
	for _, sub := range []string{"images", "masks"} {
		if err := os.MkdirAll(filepath.Join(src, sub), 0o755); err != nil {
			return nil, err
		}
	}
	stems := make([]string, n)
	errs := make([]error, n)
	work := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				stems[i] = fmt.Sprintf("person_%04d", i)
				errs[i] = buildBenchWritePair(src, stems[i], uint64(i))
			}
		}()
	}
	for i := 0; i < n; i++ {
		work <- i
	}
	close(work)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return stems, nil
}

// buildBenchWritePair draws one portrait: a two-axis colour gradient, some
// background clutter, a person (body ellipse, head, arm) in other colours,
// a light blur and sensor-like noise; the mask is the person's silhouette.
func buildBenchWritePair(src, stem string, i uint64) error {
	rng := rand.New(rand.NewPCG(buildBenchSeed, i))
	w, h := buildBenchWidth, buildBenchHeight
	img := gocv.NewMatWithSize(h, w, gocv.MatTypeCV8UC3)
	defer img.Close()
	px, err := img.DataPtrUint8()
	if err != nil {
		return err
	}
	var c0, cx, cy [3]float64
	for k := range 3 {
		c0[k] = float64(rng.IntN(200) + 20)
		cx[k] = float64(rng.IntN(120) - 60)
		cy[k] = float64(rng.IntN(120) - 60)
	}
	for y := 0; y < h; y++ {
		fy := float64(y) / float64(h)
		row := px[y*w*3 : (y+1)*w*3]
		for x := 0; x < w; x++ {
			fx := float64(x) / float64(w)
			for k := range 3 {
				row[x*3+k] = buildBenchClamp8(c0[k] + cx[k]*fx + cy[k]*fy)
			}
		}
	}
	randColor := func() color.RGBA {
		return color.RGBA{R: uint8(rng.IntN(256)), G: uint8(rng.IntN(256)), B: uint8(rng.IntN(256))}
	}
	// Background clutter: boxes and discs.
	for range 6 + rng.IntN(6) {
		x, y := rng.IntN(w), rng.IntN(h)
		if rng.IntN(2) == 0 {
			gocv.Rectangle(&img, image.Rect(x, y, x+20+rng.IntN(200), y+20+rng.IntN(200)), randColor(), -1)
		} else {
			gocv.Circle(&img, image.Pt(x, y), 10+rng.IntN(80), randColor(), -1)
		}
	}
	// The person, drawn into the image and the mask alike.
	mask := gocv.NewMatWithSizeFromScalar(gocv.NewScalar(0, 0, 0, 0), h, w, gocv.MatTypeCV8UC1)
	defer mask.Close()
	cxp := w/2 + rng.IntN(w/5) - w/10
	headR := 50 + rng.IntN(30)
	headY := 140 + rng.IntN(80)
	body := image.Pt(120+rng.IntN(60), 260+rng.IntN(80))
	bodyC := image.Pt(cxp, headY+headR+body.Y-10)
	tilt := float64(rng.IntN(21) - 10)
	arm := image.Pt(cxp+body.X-10, bodyC.Y-body.Y/3)
	shirt, skin := randColor(), color.RGBA{R: uint8(180 + rng.IntN(60)), G: uint8(120 + rng.IntN(60)), B: uint8(90 + rng.IntN(60))}
	white := color.RGBA{R: 255, G: 255, B: 255}
	for _, d := range []struct {
		m *gocv.Mat
		c [3]color.RGBA
	}{{&img, [3]color.RGBA{shirt, skin, shirt}}, {&mask, [3]color.RGBA{white, white, white}}} {
		gocv.Ellipse(d.m, bodyC, body, tilt, 0, 360, d.c[0], -1)
		gocv.Circle(d.m, image.Pt(cxp, headY), headR, d.c[1], -1)
		gocv.Ellipse(d.m, arm, image.Pt(25, 110), 25+tilt, 0, 360, d.c[2], -1)
	}
	gocv.GaussianBlur(img, &img, image.Pt(3, 3), 0, 0, gocv.BorderReflect101)
	// Noise: a triangular distribution on [-15, 15] (sd about 6) per byte.
	for j := 0; j < len(px); j += 8 {
		r := rng.Uint64()
		for k := 0; k < 8 && j+k < len(px); k++ {
			b := byte(r >> (8 * k))
			px[j+k] = buildBenchClamp8(float64(px[j+k]) + float64(int(b&15)+int(b>>4)-15))
		}
	}
	if !gocv.IMWriteWithParams(filepath.Join(src, "images", stem+".jpg"), img, []int{gocv.IMWriteJpegQuality, 95}) {
		return fmt.Errorf("write image %s", stem)
	}
	if !gocv.IMWrite(filepath.Join(src, "masks", stem+".png"), mask) {
		return fmt.Errorf("write mask %s", stem)
	}
	return nil
}

func buildBenchClamp8(v float64) uint8 {
	switch {
	case v <= 0:
		return 0
	case v >= 255:
		return 255
	}
	return uint8(v + 0.5)
}

// buildBareCopy is the floor Build is measured against: per pair, decode the
// image and the mask with gocv and write them again with IMWrite's defaults
// (JPEG quality 95, as Build; PNG with OpenCV's fast settings), with a
// bounded pool of workers goroutines.
func buildBareCopy(src, out string, stems []string, workers int) error {
	for _, sub := range []string{"images", "masks"} {
		if err := os.MkdirAll(filepath.Join(out, sub), 0o755); err != nil {
			return err
		}
	}
	var (
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	fail := func(err error) { errOnce.Do(func() { firstErr = err }) }
	work := make(chan string)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for stem := range work {
				img := gocv.IMRead(filepath.Join(src, "images", stem+".jpg"), gocv.IMReadColor)
				if img.Empty() {
					fail(fmt.Errorf("read image %s", stem))
				} else if !gocv.IMWrite(filepath.Join(out, "images", stem+".jpg"), img) {
					fail(fmt.Errorf("write image %s", stem))
				}
				img.Close()
				mask := gocv.IMRead(filepath.Join(src, "masks", stem+".png"), gocv.IMReadGrayScale)
				if mask.Empty() {
					fail(fmt.Errorf("read mask %s", stem))
				} else if !gocv.IMWrite(filepath.Join(out, "masks", stem+".png"), mask) {
					fail(fmt.Errorf("write mask %s", stem))
				}
				mask.Close()
			}
		}()
	}
	for _, s := range stems {
		work <- s
	}
	close(work)
	wg.Wait()
	return firstErr
}

// BenchmarkBuildVsBare compares jobs.Build on the folder layout with
// buildBareCopy over the same pairs at the same worker count. Build should reach
// at least 80% of bare's pairs/s; the ratio is printed per worker count.
// Besides wall-clock pairs/s it reports cpu-ms/pair (user+system time of
// the whole process while timed), which shows the cost difference even on
// a machine whose cores are shared with other work.
func BenchmarkBuildVsBare(b *testing.B) {
	root, stems := buildBenchFixture(b)
	src, outRoot := filepath.Join(root, "src"), filepath.Join(root, "out")
	if err := os.MkdirAll(outRoot, 0o755); err != nil {
		b.Fatal(err)
	}
	var seq atomic.Int64
	workerCounts := []int{1, 2}
	// Pairs, wall seconds and CPU seconds per "build/1"-style key, summed
	// over every run of that case in this process (the N=1 probe, the timed
	// runs, -count).
	type tally struct{ pairs, secs, cpu float64 }
	tallies := map[string]*tally{}
	cases := []struct {
		name string
		run  func(b *testing.B, out string, workers int)
	}{
		{"build", func(b *testing.B, out string, workers int) {
			sum, err := jobs.Build(context.Background(), jobs.BuildOptions{
				Format: "folder", Src: src, Out: out, Version: "bench",
				RunOptions: jobs.RunOptions{Workers: workers},
			})
			if err != nil {
				b.Fatal(err)
			}
			if sum.Samples != len(stems) || sum.Rejects != 0 {
				b.Fatalf("build: %d samples, %d rejects; want %d, 0", sum.Samples, sum.Rejects, len(stems))
			}
		}},
		{"bare", func(b *testing.B, out string, workers int) {
			if err := buildBareCopy(src, out, stems, workers); err != nil {
				b.Fatal(err)
			}
		}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for _, workers := range workerCounts {
				b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
					var cpu time.Duration
					b.ResetTimer()
					for i := 0; i < b.N; i++ {
						out := filepath.Join(outRoot, fmt.Sprintf("%s-w%d-%d", c.name, workers, seq.Add(1)))
						c0 := fixture.CPUTime()
						c.run(b, out, workers)
						cpu += fixture.CPUTime() - c0
						b.StopTimer()
						if err := os.RemoveAll(out); err != nil {
							b.Fatal(err)
						}
						b.StartTimer()
					}
					b.ReportMetric(float64(len(stems)*b.N)/b.Elapsed().Seconds(), "pairs/s")
					b.ReportMetric(cpu.Seconds()*1e3/float64(len(stems)*b.N), "cpu-ms/pair")
					key := fmt.Sprintf("%s/%d", c.name, workers)
					if tallies[key] == nil {
						tallies[key] = &tally{}
					}
					tallies[key].pairs += float64(len(stems) * b.N)
					tallies[key].secs += b.Elapsed().Seconds()
					tallies[key].cpu += cpu.Seconds()
				})
			}
		})
	}
	// A parent benchmark's b.Log only shows under -v, so the summary goes
	// to stdout.
	for _, workers := range workerCounts {
		bu, ba := tallies[fmt.Sprintf("build/%d", workers)], tallies[fmt.Sprintf("bare/%d", workers)]
		if bu != nil && ba != nil && bu.secs > 0 && ba.secs > 0 {
			rb, rr := bu.pairs/bu.secs, ba.pairs/ba.secs
			cb, cr := bu.cpu*1e3/bu.pairs, ba.cpu*1e3/ba.pairs
			fmt.Printf("BuildVsBare workers=%d: build %.1f pairs/s, bare %.1f pairs/s, build/bare = %.2f (target >= 0.80); "+
				"cpu: build %.2f ms/pair, bare %.2f ms/pair, bare/build = %.2f\n", workers, rb, rr, rb/rr, cb, cr, cr/cb)
		}
	}
}
