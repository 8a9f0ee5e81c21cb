package main

import (
	"errors"
	"fmt"
	"path/filepath"

	"github.com/segtool/segtool/composite"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/jobs"
	"github.com/urfave/cli/v2"
)

// protocolComposition1k names the Deep Image Matting test protocol.
const protocolComposition1k = "composition-1k"

func compositeCommand() *cli.Command {
	return &cli.Command{
		Name:      "composite",
		Usage:     "composite foreground cut-outs over backgrounds into a canonical matting dataset",
		UsageText: "segtool composite --fg SRC --bg SRC --out DATASET [--per-fg N] [--seed S] [options]",
		Description: `Pastes each foreground over --per-fg backgrounds and writes a canonical
dataset: images/<id>.png (or .jpg), alphas/<id>.png, masks/<id>.png
(alpha >= 128), manifest.jsonl, dataset.json and rejects.jsonl, with
--save-layers also fg/<id>.png and bg/<id>.png (the placed F and B).

--fg is one of:
   DIR             a folder of RGBA cut-outs (PNG or WebP with alpha)
   DATASET         a canonical dataset with alphas/; the foreground colour is
                   the image itself, an approximation that carries a faint
                   fringe of the old background into soft edges such as hair
   folder:DIR      DIR/fg/<stem>.* paired with DIR/alpha/<stem>.* (the Deep
                   Image Matting layout; the same approximation)
--bg is a folder of images (JPEG, PNG, WebP; grey and palette converted), or
procedural:stripes,checks,noise,gradient,blobs (drawn afresh per composite).

Rows have ids <fg id>__<index>; all composites of one foreground share its
split (its own split for a DATASET, else from --split), so no person is in
two splits; source = [foreground, background, second foreground]; and
extra.composite records every draw (placement, scale, flip, background
crop). Every draw is a function of (--seed, foreground, index): the same
seed gives the same bytes whatever --workers.

Bad inputs become lines in rejects.jsonl and never stop the run: a cut-out
without alpha (use folder: with an alpha dir), a fully transparent one, a
background that cannot be read. A cut-out larger than the canvas with no
--scale is scaled down to fit and counted in the summary.

--protocol composition-1k follows Xu et al. 2017 (Deep Image Matting): 20
backgrounds per foreground (change with --per-fg, e.g. 100 for training),
canvas of the foreground's size, no scaling, backgrounds scaled up only when
smaller and cut from the top left.

Examples:

   segtool composite --fg cutouts --bg photos --out comp --per-fg 5 --seed 1
   segtool composite --fg p3m/cutouts --premultiplied --bg photos --out comp \
      --size 1080x1440 --scale 0.5,1.0 --position random --flip --harmonize 0.3
   segtool composite --fg folder:Adobe/test --bg voc --out dim-test --protocol composition-1k
   segtool composite --fg demo/ds --bg procedural:stripes,checks --out comp --preview 8
   segtool composite --fg cutouts --bg photos --out comp --resume   # continue an interrupted run`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "fg", Usage: "foregrounds: a cut-out folder, a canonical dataset, or folder:DIR (required)"},
			&cli.StringFlag{Name: "bg", Usage: "backgrounds: an image folder, or procedural:KIND,... (required)"},
			&cli.StringFlag{Name: "out", Usage: "dataset folder to write (required)"},
			nameFlag(),
			&cli.IntFlag{Name: "per-fg", Value: 1, Usage: "backgrounds (composites) per foreground"},
			&cli.Int64Flag{Name: "seed", Value: 1, Usage: "seed for every draw and for splits"},
			&cli.BoolFlag{Name: "allow-repeat", Usage: "let one foreground reuse backgrounds when --per-fg exceeds their number"},
			&cli.StringFlag{Name: "protocol", Usage: "a preset: composition-1k (Deep Image Matting test rules)"},
			&cli.StringFlag{Name: "size", Usage: "canvas WxH (default: each foreground's own size)"},
			&cli.StringFlag{Name: "scale", Usage: "lo,hi: the cut-out's height as a share of the canvas height, drawn uniformly (default: native size)"},
			&cli.StringFlag{Name: "position", Value: string(composite.Bottom), Usage: "bottom, center or random"},
			&cli.Float64Flag{Name: "multi", Usage: "probability of a second foreground in a composite"},
			&cli.BoolFlag{Name: "flip", Usage: "mirror each cut-out with probability 0.5"},
			&cli.StringFlag{Name: "bg-fit", Value: string(composite.CoverRandom), Usage: "how backgrounds meet the canvas: cover-random, cover-topleft or stretch"},
			&cli.BoolFlag{Name: "linear", Usage: "blend in linear light instead of sRGB codes"},
			&cli.BoolFlag{Name: "premultiplied", Usage: "the cut-outs' colour is premultiplied by alpha (P3M cut-outs are)"},
			&cli.Float64Flag{Name: "harmonize", Usage: "0..1: move the foreground's colour statistics toward the background's"},
			&cli.Float64Flag{Name: "bg-blur", Usage: "Gaussian blur sigma for the background, in pixels"},
			&cli.Float64Flag{Name: "noise", Usage: "Gaussian noise sigma added to the image, in 8-bit levels"},
			&cli.BoolFlag{Name: "save-layers", Usage: "also write the placed foreground (fg/) and background (bg/)"},
			&cli.IntFlag{Name: "preview", Usage: "write a contact sheet of K composites to <out>/preview.png"},
			&cli.StringFlag{Name: "split", Value: "0.8,0.1,0.1", Usage: "train,val,test ratios for foregrounds without a split"},
			&cli.StringFlag{Name: "image-format", Value: "png", Usage: "images/ format: png or jpg"},
			jpegQualityFlag(),
		}, outputFlags("composites", "input")...),
		Action: runComposite,
	}
}

// parseScale reads --scale lo,hi.
func parseScale(s string) (lo, hi float64, err error) {
	if scanPair(s, "%g", &lo, &hi) && lo > 0 && lo <= hi && hi <= 8 {
		return lo, hi, nil
	}
	return 0, 0, usageError("--scale must be lo,hi with 0 < lo <= hi <= 8 (e.g. 0.5,1.0), not %q", s)
}

// compositeOptions turns the flags into composite.Options.
func compositeOptions(c *cli.Context) (composite.Options, error) {
	o := composite.Options{Seed: c.Int64("seed"), PerFg: c.Int("per-fg")}
	switch p := c.String("protocol"); p {
	case "":
	case protocolComposition1k:
		for _, f := range []string{"size", "scale", "bg-fit"} {
			if c.IsSet(f) {
				return o, usageError("--%s conflicts with --protocol %s, which fixes the canvas, the scale and the background fit", f, p)
			}
		}
		o = composite.Composition1k(o.Seed)
		if c.IsSet("per-fg") {
			o.PerFg = c.Int("per-fg")
		}
	default:
		return o, usageError("--protocol must be %s, not %q", protocolComposition1k, p)
	}
	if o.PerFg < 1 {
		return o, usageError("--per-fg must be at least 1, not %d", o.PerFg)
	}
	if s := c.String("size"); s != "" {
		size, err := parseSize("size", s)
		if err != nil {
			return o, err
		}
		o.Width, o.Height = size.X, size.Y
	}
	if s := c.String("scale"); s != "" {
		var err error
		if o.ScaleLo, o.ScaleHi, err = parseScale(s); err != nil {
			return o, err
		}
	}
	switch p := composite.Position(c.String("position")); p {
	case composite.Bottom, composite.Center, composite.Random:
		o.Position = p
	default:
		return o, usageError("--position must be bottom, center or random, not %q", p)
	}
	if c.String("protocol") == "" {
		switch f := composite.Fit(c.String("bg-fit")); f {
		case composite.CoverRandom, composite.CoverTopLeft, composite.Stretch:
			o.Fit = f
		default:
			return o, usageError("--bg-fit must be cover-random, cover-topleft or stretch, not %q", f)
		}
	}
	o.Multi, o.Harmonize, o.BgBlur, o.Noise = c.Float64("multi"), c.Float64("harmonize"), c.Float64("bg-blur"), c.Float64("noise")
	switch {
	case !(o.Multi >= 0 && o.Multi <= 1):
		return o, usageError("--multi must be a probability in [0, 1], not %g", o.Multi)
	case !(o.Harmonize >= 0 && o.Harmonize <= 1):
		return o, usageError("--harmonize must be in [0, 1], not %g", o.Harmonize)
	case !(o.BgBlur >= 0 && o.BgBlur <= 1000):
		return o, usageError("--bg-blur must be a sigma >= 0, not %g", o.BgBlur)
	case !(o.Noise >= 0 && o.Noise <= 1000):
		return o, usageError("--noise must be a sigma >= 0, not %g", o.Noise)
	}
	o.Flip, o.LinearLight, o.Layers, o.AllowRepeat = c.Bool("flip"), c.Bool("linear"), c.Bool("save-layers"), c.Bool("allow-repeat")
	if err := o.Validate(); err != nil {
		return o, usageError("%v", err)
	}
	return o, nil
}

func runComposite(c *cli.Context) error {
	if err := requireFlags(c, "fg", "bg", "out"); err != nil {
		return err
	}
	co, err := compositeOptions(c)
	if err != nil {
		return err
	}
	o := jobs.CompositeOptions{
		Fg: c.String("fg"), Bg: c.String("bg"), Out: c.String("out"), Name: c.String("name"), Version: version,
		Composite: co, Premultiplied: c.Bool("premultiplied"), Protocol: c.String("protocol"),
		ImageFormat: c.String("image-format"), JPEGQuality: c.Int("jpeg-quality"), Preview: c.Int("preview"),
		RunOptions: runOptions(c),
	}
	if o.Ratios, err = dataset.ParseRatios(c.String("split")); err != nil {
		return usageError("--split: %v", err)
	}
	switch {
	case o.ImageFormat != "png" && o.ImageFormat != "jpg":
		return usageError("--image-format must be png or jpg, not %q", o.ImageFormat)
	case o.JPEGQuality < 1 || o.JPEGQuality > 100:
		return usageError("--jpeg-quality must be 1..100, not %d", o.JPEGQuality)
	case o.Preview < 0:
		return usageError("--preview must be a count >= 0, not %d", o.Preview)
	case o.Force && o.Resume:
		return usageError("--force and --resume exclude each other")
	}
	var finish func()
	o.Progress, finish = progress(c, "composite")
	sum, err := jobs.Composite(c.Context, o)
	finish()
	switch {
	case errors.Is(err, composite.ErrTooFewBackgrounds):
		return usageError("--per-fg %d exceeds the %d usable backgrounds: lower it, or pass --allow-repeat to reuse backgrounds", max(1, co.PerFg), sum.Backgrounds)
	case err != nil && !errors.Is(err, jobs.ErrNoComposites):
		return err // cliError names the flag of an option fault
	}
	log := logger(c)
	if n := len(sum.LooksPremultiplied); n > 0 {
		log.Warn("cut-outs look premultiplied (colour never exceeds alpha in soft edges) and will composite with dark fringes: pass --premultiplied",
			"count", n, "example", filepath.Join(o.Fg, sum.LooksPremultiplied[0]))
	}
	warnRejects(c, "inputs", sum.Tally, o.Out)
	printCompositeSummary(c, sum)
	return err
}

func printCompositeSummary(c *cli.Context, s jobs.CompositeSummary) {
	text := fmt.Sprintf("composite: %d of %d planned composites of %d foregrounds (%s) over %d backgrounds in %s (%s); %d inputs rejected, %d kept but flagged; %d files written, %d composites reused; %.1fs, %.1f composites/s.",
		s.Samples, s.Planned, s.Foregrounds, s.FgKind, s.Backgrounds, s.Out, splitCounts(s.Counts), s.Rejects, s.Flagged,
		s.Files, s.Reused, s.Elapsed.Seconds(), float64(s.Planned)/max(s.Elapsed.Seconds(), 1e-9))
	text += rejectReasons(s.RejectCodes)
	if s.Shrunk > 0 {
		text += fmt.Sprintf(" %d composites had a cut-out larger than the canvas, scaled down to fit (give --scale or a larger --size to control it).", s.Shrunk)
	}
	if s.MultiDropped > 0 {
		text += fmt.Sprintf(" %d second foregrounds were left out because they belong to another split.", s.MultiDropped)
	}
	if s.Preview != "" {
		text += " Preview: " + s.Preview + "."
	}
	summary(c, text, map[string]any{
		"command": "composite", "out": s.Out, "fg_kind": s.FgKind, "foregrounds": s.Foregrounds, "backgrounds": s.Backgrounds,
		"planned": s.Planned, "samples": s.Samples, "splits": s.Counts, "rejects": s.Rejects, "flagged": s.Flagged,
		"reject_codes": s.RejectCodes, "shrunk": s.Shrunk, "multi_dropped": s.MultiDropped,
		"looks_premultiplied": s.LooksPremultiplied, "files_written": s.Files, "reused": s.Reused,
		"preview": s.Preview, "wall_s": s.Elapsed.Seconds(),
		"samples_per_s": float64(s.Planned) / max(s.Elapsed.Seconds(), 1e-9),
	})
}
