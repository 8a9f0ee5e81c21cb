package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/trimap"
	"github.com/urfave/cli/v2"
)

// boundaryColour is the colour of superpixel boundaries (B, G, R): yellow.
var boundaryColour = [3]uint8{0, 255, 255}

func superpixelsCommand() *cli.Command {
	return &cli.Command{
		Name:      "superpixels",
		Usage:     "draw the SLIC superpixels of one image, to choose --superpixels and --compactness for segtool trimap",
		UsageText: "segtool superpixels --image FILE --out FILE.png [--superpixels N | --region-size S] [--compactness m] [--iterations k]",
		Description: `Segments the image into SLIC superpixels (Achanta et al. 2012), the units of
segtool trimap --method superpixel, and writes the image with the label
boundaries drawn in yellow, one pixel wide, as a PNG. Use it to see how a
--superpixels / --compactness choice follows hair and edges before running
trimap over a dataset: more superpixels give a thinner unknown band, a
higher compactness more regular (less edge-hugging) cells.

The image runs on --workers cores; the labels do not depend on it.

Examples:

   segtool superpixels --image demo/ds/images/portrait_0000.jpg --out sp.png
   segtool superpixels --image photo.jpg --out sp.png --superpixels 3000 --compactness 20
   segtool superpixels --image photo.jpg --out sp.png --region-size 40`,
		Flags: slices.Concat([]cli.Flag{
			&cli.StringFlag{Name: "image", Usage: "image file (required)"},
			&cli.StringFlag{Name: "out", Usage: "PNG file to write (required)"},
		}, slicSizeFlags(), []cli.Flag{
			&cli.Float64Flag{Name: "compactness", Value: trimap.DefaultCompactness, Usage: "compactness m: larger gives more regular superpixels"},
			&cli.IntFlag{Name: "iterations", Value: trimap.DefaultIterations, Usage: "SLIC iterations"},
		}),
		Action: runSuperpixels,
	}
}

// slicSizeFlags set how many superpixels superpixels and bench slic
// draw; slicFlags reads them.
func slicSizeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.IntFlag{Name: "superpixels", DefaultText: "one per 400 pixels, at most 5000", Usage: "superpixel count N"},
		&cli.IntFlag{Name: "region-size", DefaultText: "off", Usage: "grid step S in pixels, instead of --superpixels"},
	}
}

// slicFlags reads --superpixels, --region-size and --compactness (and
// --iterations where the command has it) for an image of pixels pixels.
func slicFlags(c *cli.Context, pixels int) (trimap.SLICOptions, error) {
	o := trimap.SLICOptions{Superpixels: c.Int("superpixels"), RegionSize: c.Int("region-size"), Compactness: c.Float64("compactness"),
		Iterations: trimap.DefaultIterations}
	if c.IsSet("iterations") {
		o.Iterations = c.Int("iterations")
	}
	switch {
	case c.IsSet("superpixels") && c.IsSet("region-size"):
		return o, usageError("--superpixels and --region-size exclude each other")
	case c.IsSet("superpixels") && trimap.CheckSuperpixelCount(o.Superpixels, pixels) != nil:
		return o, usageError("--superpixels must be between 1 and the image's %d pixels, not %d", pixels, o.Superpixels)
	case c.IsSet("region-size") && o.RegionSize < 1:
		return o, usageError("--region-size must be at least 1 pixel, not %d", o.RegionSize)
	case !(o.Compactness > 0) || o.Compactness > 1e6:
		return o, usageError("--compactness must be > 0, not %g", o.Compactness)
	case o.Iterations < 1:
		return o, usageError("--iterations must be at least 1, not %d", o.Iterations)
	}
	return o, nil
}

// readImageFlag reads the image named by a flag; a file that is not there
// is a usage error naming the flag.
func readImageFlag(c *cli.Context, flag string) (trimap.Image, error) {
	p := c.String(flag)
	if _, err := os.Stat(p); errors.Is(err, fs.ErrNotExist) {
		return trimap.Image{}, usageError("--%s: %s does not exist", flag, p)
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return trimap.Image{}, err
	}
	m, _, _, err := dataset.Decoder{MaxPixels: c.Int64("max-pixels")}.RGB(p, b)
	if err != nil {
		return trimap.Image{}, err
	}
	defer m.Close()
	return trimap.ImageFromMat(m)
}

func runSuperpixels(c *cli.Context) error {
	if err := requireFlags(c, "image", "out"); err != nil {
		return err
	}
	out := c.String("out")
	if !strings.EqualFold(filepath.Ext(out), ".png") {
		return usageError("--out must name a .png file, not %q", out)
	}
	if c.IsSet("superpixels") && c.Int("superpixels") < 1 {
		return usageError("--superpixels must be at least 1, not %d", c.Int("superpixels"))
	}
	im, err := readImageFlag(c, "image")
	if err != nil {
		return err
	}
	o, err := slicFlags(c, im.W*im.H)
	if err != nil {
		return err
	}
	o.Workers = c.Int("workers")
	start := time.Now()
	sp, err := trimap.SLIC(c.Context, im, o)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	drawn, err := trimap.DrawBoundaries(im, sp, boundaryColour)
	if err != nil {
		return err
	}
	if err := trimap.WriteImage(out, drawn); err != nil {
		return err
	}
	summary(c, fmt.Sprintf("superpixels: %d superpixels (grid step %d px, compactness %g) over the %dx%d image %s in %d ms; boundaries drawn on %s.",
		sp.N, sp.S, o.Compactness, im.W, im.H, c.String("image"), elapsed.Milliseconds(), out),
		map[string]any{"command": "superpixels", "image": c.String("image"), "out": out, "width": im.W, "height": im.H,
			"superpixels": sp.N, "grid_step": sp.S, "compactness": o.Compactness, "iterations": o.Iterations,
			"wall_s": elapsed.Seconds()})
	return nil
}
