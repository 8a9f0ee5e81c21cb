package main

import (
	"fmt"
	"image"
	"math/rand/v2"
	"runtime"
	"slices"

	"github.com/segtool/segtool/synth"
	"github.com/segtool/segtool/trimap"
	"github.com/urfave/cli/v2"
)

func benchSlicCommand() *cli.Command {
	return &cli.Command{
		Name:      "slic",
		Usage:     "ms per megapixel of SLIC superpixels (segtool trimap's costly step), on one core and on all",
		UsageText: "segtool bench slic [--image FILE | --size 1000x1000] [--superpixels N] [--compactness m] [-n 10]",
		Description: `Runs SLIC -n times (after one untimed run) on one image, first
single-threaded, then split over all cores by bands of rows, and prints
milliseconds per image and per megapixel for both and the speed-up. The
labels are the same either way. The image is --image, or a synthetic
portrait of --size (default 1000x1000).

segtool trimap runs one image per core instead, which scales better over a
dataset; this measures the per-image cost and what cores buy for a single
large image (segtool superpixels).

Examples:

   segtool bench slic
   segtool bench slic --image demo/src/folder/images/portrait_0000.jpg -n 20
   segtool bench slic --size 2000x1500 --superpixels 5000 --compactness 20`,
		Flags: slices.Concat([]cli.Flag{
			&cli.StringFlag{Name: "image", Usage: "image to segment"},
			&cli.StringFlag{Name: "size", Usage: "synthetic portrait WxH, without --image (default 1000x1000)"},
		}, slicSizeFlags(), []cli.Flag{
			&cli.Float64Flag{Name: "compactness", Value: trimap.DefaultCompactness, Usage: "compactness m"},
			&cli.IntFlag{Name: "n", Value: 10, Usage: "timed runs per setting"},
		}),
		Action: runBenchSlic,
	}
}

// benchImage loads --image or draws a synthetic portrait of --size.
func benchImage(c *cli.Context) (trimap.Image, string, error) {
	if c.IsSet("image") {
		if c.IsSet("size") {
			return trimap.Image{}, "", usageError("--size and --image exclude each other: the image has its own size")
		}
		im, err := readImageFlag(c, "image")
		return im, c.String("image"), err
	}
	size := image.Pt(1000, 1000)
	if c.IsSet("size") {
		var err error
		if size, err = parseSize("size", c.String("size")); err != nil {
			return trimap.Image{}, "", err
		}
		if size.X < 32 || size.Y < 32 {
			return trimap.Image{}, "", usageError("--size must be at least 32x32, not %s", c.String("size"))
		}
	}
	p, err := synth.Portrait(rand.New(rand.NewPCG(1, 0x511c)), size.X, size.Y)
	if err != nil {
		return trimap.Image{}, "", err
	}
	defer p.Close()
	im, err := trimap.ImageFromMat(p.Image)
	return im, "a synthetic portrait", err
}

func runBenchSlic(c *cli.Context) error {
	n := c.Int("n")
	if n < 1 {
		return usageError("-n must be at least 1, not %d", n)
	}
	if c.IsSet("superpixels") && c.Int("superpixels") < 1 {
		return usageError("--superpixels must be at least 1, not %d", c.Int("superpixels"))
	}
	im, name, err := benchImage(c)
	if err != nil {
		return err
	}
	o, err := slicFlags(c, im.W*im.H)
	if err != nil {
		return err
	}
	var ts []trimap.SLICTiming
	for _, workers := range []int{1, 0} {
		o.Workers = workers
		t, err := trimap.TimeSLIC(c.Context, im, o, n)
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	cores := runtime.GOMAXPROCS(0)
	one, all := ts[0], ts[1]
	speedup := one.MsPerMegapixel() / max(all.MsPerMegapixel(), 1e-9)
	mp := float64(im.W*im.H) / 1e6
	if c.String("log-format") == "json" {
		summary(c, "", map[string]any{"command": "bench slic", "image": name, "width": im.W, "height": im.H,
			"superpixels": one.Superpixels, "compactness": o.Compactness, "runs": n, "cores": cores,
			"ms_per_megapixel_1_core": one.MsPerMegapixel(), "ms_per_megapixel_all_cores": all.MsPerMegapixel(), "speedup": speedup})
		return nil
	}
	w := c.App.Writer
	fmt.Fprintf(w, "bench slic: %s (%dx%d, %.2f MP), %d superpixels, compactness %g, %d runs per setting\n\n",
		name, im.W, im.H, mp, one.Superpixels, o.Compactness, n)
	var rows [][]string
	for _, t := range ts {
		label := "1"
		if t.Workers == 0 {
			label = fmt.Sprintf("%d (all cores)", cores)
		}
		ms := 1000 * t.Total.Seconds() / float64(t.Runs)
		rows = append(rows, []string{label, fmt.Sprintf("%.1f", ms), fmt.Sprintf("%.1f", t.MsPerMegapixel()),
			fmt.Sprintf("%.2f", 1000/max(t.MsPerMegapixel(), 1e-9))})
	}
	table(w, []string{"workers", "ms/image", "ms/MP", "MP/s"}, rows)
	fmt.Fprintf(w, "\nspeed-up on %d cores: %.2fx\n", cores, speedup)
	return nil
}
