// Package synth draws a small synthetic portrait dataset for
// `segtool demo-data`: head-and-shoulders people with soft, strand-like hair
// mattes over textured backgrounds, written in the raw source layouts that
// build-dataset ingests (the "folder" layout and Penn-Fudan Pedestrian), plus
// a few RGBA cut-outs for the composite demo.
//
// The package owns the drawing and the on-disk layout of that demo data;
// nothing else. Output depends only on Options: the same seed gives
// byte-identical files.
package synth

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"gocv.io/x/gocv"
)

// Defaults for zero Options fields.
const (
	DefaultCount  = 12
	DefaultWidth  = 256
	DefaultHeight = 320
)

const (
	maxCutouts   = 4    // a few are enough for the composite demo
	trimapRadius = 3    // unknown band grown around soft alpha, in pixels
	jpegQuality  = 95   // folder-layout images
	pngLevel     = 3    // zlib level: PNGs of noisy pictures gain little from more effort
	maxSide      = 4096 // guards against typos like --width 25600
)

// Layout folder names under the output directory.
const (
	FolderDir    = "folder"
	PennFudanDir = "pennfudan"
	CutoutsDir   = "cutouts"
)

// Options says what Generate draws.
type Options struct {
	// Count is the number of samples in each layout (default 12; negative
	// is an error). cutouts/ gets min(Count, 4).
	Count int
	// Seed picks the pictures; equal seeds give byte-identical files.
	Seed int64
	// Width and Height are the portrait size in pixels (default 256x320,
	// each 64..4096). Pedestrian scenes swap the two (landscape for the
	// default size) and add up to a quarter (width) and an eighth (height)
	// at random per scene, as the real photos vary in size.
	Width, Height int
	// Force allows writing into a directory that already holds the layouts:
	// files this package would name there are removed first, nothing else.
	Force bool
}

// Summary reports what Generate wrote.
type Summary struct {
	Dir       string // the output directory
	Portraits int    // samples in folder/
	Scenes    int    // samples in pennfudan/
	People    int    // pedestrians over all scenes
	Cutouts   int    // files in cutouts/
	Files     int    // files written
	Bytes     int64  // bytes written
}

// Random streams, one per kind of picture, so sample i is the same picture
// whatever Count is.
const (
	streamPortrait = iota + 1
	streamScene
	streamCutout
)

func newRand(seed int64, stream, i int) *rand.Rand {
	return rand.New(rand.NewPCG(uint64(seed), uint64(stream)<<32|uint64(i)))
}

// Generate draws the demo dataset into dir:
//
//	folder/images/portrait_0000.jpg     RGB JPEG, quality 95
//	folder/alphas/portrait_0000.png     8-bit matte
//	folder/masks/portrait_0000.png      0/255, alpha >= 128
//	folder/trimaps/portrait_0000.png    0/128/255
//	pennfudan/PNGImages/SynthPed00001.png
//	pennfudan/PedMasks/SynthPed00001_mask.png   ids 0, 1..N
//	pennfudan/Annotation/SynthPed00001.txt      PASCAL Annotation 1.00
//	cutouts/cutout_0000.png             RGBA
//
// It refuses to write when dir already holds any of the three layout
// folders unless opt.Force is set. Every file is written to a temporary name
// and renamed, so readers never see half a file.
func Generate(ctx context.Context, dir string, opt Options) (Summary, error) {
	opt, err := opt.resolve()
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Dir: dir}
	if err := prepare(dir, opt.Force); err != nil {
		return sum, err
	}
	wr := writer{sum: &sum}

	for i := range opt.Count {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if err := writePortrait(&wr, dir, i, newRand(opt.Seed, streamPortrait, i), opt); err != nil {
			return sum, err
		}
		sum.Portraits++
	}
	for i := range opt.Count {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		rng := newRand(opt.Seed, streamScene, i)
		w := opt.Height + rng.IntN(opt.Height/4+1)
		h := opt.Width + rng.IntN(opt.Width/8+1)
		n, err := writeScene(&wr, dir, fmt.Sprintf("SynthPed%05d", i+1), rng, w, h)
		if err != nil {
			return sum, err
		}
		sum.Scenes++
		sum.People += n
	}
	for i := range min(opt.Count, maxCutouts) {
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if err := writeCutout(&wr, dir, i, newRand(opt.Seed, streamCutout, i), opt); err != nil {
			return sum, err
		}
		sum.Cutouts++
	}
	return sum, nil
}

func (o Options) resolve() (Options, error) {
	if o.Count == 0 {
		o.Count = DefaultCount
	}
	if o.Width == 0 {
		o.Width = DefaultWidth
	}
	if o.Height == 0 {
		o.Height = DefaultHeight
	}
	if o.Count < 0 {
		return o, fmt.Errorf("synth: count %d is negative", o.Count)
	}
	if o.Width < 64 || o.Height < 64 || o.Width > maxSide || o.Height > maxSide {
		return o, fmt.Errorf("synth: size %dx%d outside 64..%d", o.Width, o.Height, maxSide)
	}
	return o, nil
}

// layoutDirs lists the folders Generate writes, with the names of the files
// it puts there (for Force's clean-up).
func layoutDirs() []struct{ dir, pattern string } {
	return []struct{ dir, pattern string }{
		{filepath.Join(FolderDir, "images"), "portrait_[0-9]*.jpg"},
		{filepath.Join(FolderDir, "alphas"), "portrait_[0-9]*.png"},
		{filepath.Join(FolderDir, "masks"), "portrait_[0-9]*.png"},
		{filepath.Join(FolderDir, "trimaps"), "portrait_[0-9]*.png"},
		{filepath.Join(PennFudanDir, "PNGImages"), "SynthPed[0-9]*.png"},
		{filepath.Join(PennFudanDir, "PedMasks"), "SynthPed[0-9]*_mask.png"},
		{filepath.Join(PennFudanDir, "Annotation"), "SynthPed[0-9]*.txt"},
		{CutoutsDir, "cutout_[0-9]*.png"},
	}
}

// refuseExisting refuses earlier output: any of the folders tops in dir,
// unless force.
func refuseExisting(dir string, force bool, tops ...string) error {
	for _, top := range tops {
		p := filepath.Join(dir, top)
		if _, err := os.Lstat(p); err == nil && !force {
			return fmt.Errorf("synth: %s already exists (set Force to overwrite): %w", p, fs.ErrExist)
		} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("synth: %w", err)
		}
	}
	return nil
}

// prepare checks dir for earlier output, clears our own files from it when
// forced (so a smaller Count leaves no stale samples behind), and creates
// the folders.
func prepare(dir string, force bool) error {
	if err := refuseExisting(dir, force, FolderDir, PennFudanDir, CutoutsDir); err != nil {
		return err
	}
	for _, l := range layoutDirs() {
		d := filepath.Join(dir, l.dir)
		if force {
			if err := removeMatching(d, l.pattern); err != nil {
				return err
			}
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	}
	return nil
}

// removeMatching deletes the files in d named by pattern, and the temporary
// files a killed run may have left for them (see writer.write).
func removeMatching(d, pattern string) error {
	ents, err := os.ReadDir(d)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("synth: clearing %s: %w", d, err)
	}
	for _, e := range ents {
		name := e.Name()
		ours, _ := filepath.Match(pattern, name) // patterns are constants, known valid
		if !ours && strings.HasPrefix(name, ".") && strings.HasSuffix(name, ".tmp") {
			ours, _ = filepath.Match("."+pattern+".*.tmp", name)
		}
		if !ours || e.IsDir() {
			continue
		}
		if err := os.Remove(filepath.Join(d, name)); err != nil {
			return fmt.Errorf("synth: %w", err)
		}
	}
	return nil
}

func writePortrait(wr *writer, dir string, i int, rng *rand.Rand, opt Options) error {
	s, err := Portrait(rng, opt.Width, opt.Height)
	if err != nil {
		return err
	}
	defer s.Close()
	stem := fmt.Sprintf("portrait_%04d", i)
	f := filepath.Join(dir, FolderDir)
	if err := wr.encode(filepath.Join(f, "images", stem+".jpg"), s.Image); err != nil {
		return err
	}
	if err := wr.encode(filepath.Join(f, "alphas", stem+".png"), s.Alpha); err != nil {
		return err
	}
	ap, err := s.Alpha.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("synth: %s matte: %w", stem, err)
	}
	mask := gocv.NewMatWithSize(opt.Height, opt.Width, gocv.MatTypeCV8UC1)
	defer mask.Close()
	mp, err := mask.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("synth: %s mask: %w", stem, err)
	}
	binarize(mp, ap)
	if err := wr.encode(filepath.Join(f, "masks", stem+".png"), mask); err != nil {
		return err
	}
	tri, err := trimap(s.Alpha, trimapRadius)
	if err != nil {
		return fmt.Errorf("synth: %s trimap: %w", stem, err)
	}
	defer tri.Close()
	return wr.encode(filepath.Join(f, "trimaps", stem+".png"), tri)
}

func writeScene(wr *writer, dir, stem string, rng *rand.Rand, w, h int) (int, error) {
	sc, err := Pedestrians(rng, w, h)
	if err != nil {
		return 0, err
	}
	defer sc.Close()
	p := filepath.Join(dir, PennFudanDir)
	if err := wr.encode(filepath.Join(p, "PNGImages", stem+".png"), sc.Image); err != nil {
		return 0, err
	}
	if err := wr.encode(filepath.Join(p, "PedMasks", stem+"_mask.png"), sc.IDs); err != nil {
		return 0, err
	}
	ann := annotation(stem, w, h, sc.Boxes)
	if err := wr.write(filepath.Join(p, "Annotation", stem+".txt"), []byte(ann)); err != nil {
		return 0, err
	}
	return len(sc.Boxes), nil
}

func writeCutout(wr *writer, dir string, i int, rng *rand.Rand, opt Options) error {
	s, err := Portrait(rng, opt.Width, opt.Height)
	if err != nil {
		return err
	}
	defer s.Close()
	bgra := gocv.NewMat()
	defer bgra.Close()
	gocv.CvtColor(s.Person, &bgra, gocv.ColorBGRToBGRA)
	bp, err := bgra.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("synth: cutout %d: %w", i, err)
	}
	ap, err := s.Alpha.DataPtrUint8()
	if err != nil {
		return fmt.Errorf("synth: cutout %d: %w", i, err)
	}
	for k, a := range ap {
		bp[4*k+3] = a
	}
	return wr.encode(filepath.Join(dir, CutoutsDir, fmt.Sprintf("cutout_%04d.png", i)), bgra)
}

// binarize writes 255 where alpha >= 128 and 0 elsewhere.
func binarize(dst, alpha []byte) {
	for i, a := range alpha {
		dst[i] = 0
		if a >= 128 {
			dst[i] = 255
		}
	}
}

// trimap marks as unknown (128) every pixel within radius of a soft one
// (0 < alpha < 255); elsewhere 255 for opaque and 0 for clear alpha.
func trimap(alpha gocv.Mat, radius int) (gocv.Mat, error) {
	ap, err := alpha.DataPtrUint8()
	if err != nil {
		return gocv.Mat{}, err
	}
	soft := gocv.NewMatWithSize(alpha.Rows(), alpha.Cols(), gocv.MatTypeCV8UC1)
	defer soft.Close()
	sp, err := soft.DataPtrUint8()
	if err != nil {
		return gocv.Mat{}, err
	}
	for i, a := range ap {
		sp[i] = 0
		if a > 0 && a < 255 {
			sp[i] = 255
		}
	}
	kernel := gocv.GetStructuringElement(gocv.MorphEllipse, image.Pt(2*radius+1, 2*radius+1))
	defer kernel.Close()
	grown := gocv.NewMat()
	defer grown.Close()
	gocv.Dilate(soft, &grown, kernel)
	gp, err := grown.DataPtrUint8()
	if err != nil {
		return gocv.Mat{}, err
	}
	out := gocv.NewMatWithSize(alpha.Rows(), alpha.Cols(), gocv.MatTypeCV8UC1)
	op, err := out.DataPtrUint8()
	if err != nil {
		out.Close()
		return gocv.Mat{}, err
	}
	for i, a := range ap {
		switch {
		case gp[i] != 0:
			op[i] = 128
		case a == 255:
			op[i] = 255
		default:
			op[i] = 0
		}
	}
	return out, nil
}

// annotation renders a Penn-Fudan annotation file: PASCAL Annotation
// Version 1.00 text with the original's line shapes, boxes 1-based and
// inclusive (the original's "Top left pixel co-ordinates : (1, 1)").
func annotation(stem string, w, h int, boxes []image.Rectangle) string {
	const label = `"PASpersonWalking"`
	var b strings.Builder
	b.WriteString("# Compatible with PASCAL Annotation Version 1.00\n")
	fmt.Fprintf(&b, "Image filename : \"PennFudanPed/PNGImages/%s.png\"\n", stem)
	fmt.Fprintf(&b, "Image size (X x Y x C) : %d x %d x 3\n", w, h)
	b.WriteString("Database : \"The Penn-Fudan-Pedestrian Database\"\n")
	fmt.Fprintf(&b, "Objects with ground truth : %d {%s }\n", len(boxes), strings.Repeat(" "+label, len(boxes)))
	b.WriteString("# Note there may be some objects not included in the ground truth list for they are severe-occluded\n")
	b.WriteString("# or have very small size.\n")
	b.WriteString("# Top left pixel co-ordinates : (1, 1)\n")
	for i, r := range boxes {
		if i > 0 {
			b.WriteString("\n")
		}
		n := i + 1
		fmt.Fprintf(&b, "# Details for pedestrian %d (%s)\n", n, label)
		fmt.Fprintf(&b, "Original label for object %d %s : \"PennFudanPed\"\n", n, label)
		fmt.Fprintf(&b, "Bounding box for object %d %s (Xmin, Ymin) - (Xmax, Ymax) : (%d, %d) - (%d, %d)\n",
			n, label, r.Min.X+1, r.Min.Y+1, r.Max.X, r.Max.Y)
		fmt.Fprintf(&b, "Pixel mask for object %d %s : \"PennFudanPed/PedMasks/%s_mask.png\"\n", n, label, stem)
	}
	return b.String()
}

// writer writes files atomically and counts them.
type writer struct{ sum *Summary }

// encode writes m as a JPEG or PNG file, by path's extension.
func (wr *writer) encode(path string, m gocv.Mat) error {
	ext, params := gocv.PNGFileExt, []int{gocv.IMWritePngCompression, pngLevel}
	if filepath.Ext(path) == ".jpg" {
		ext, params = gocv.JPEGFileExt, []int{gocv.IMWriteJpegQuality, jpegQuality}
	}
	buf, err := gocv.IMEncodeWithParams(ext, m, params)
	if err != nil {
		return fmt.Errorf("synth: encoding %s: %w", path, err)
	}
	defer buf.Close()
	if buf.Len() == 0 { // OpenCV reports failure as an empty buffer
		return fmt.Errorf("synth: encoding %s: encoder produced nothing", path)
	}
	return wr.write(path, buf.GetBytes())
}

// write puts data at path by way of a temporary file in the same folder and
// a rename, so the file appears whole or not at all.
func (wr *writer) write(path string, data []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("synth: writing %s: %w", path, err)
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Chmod(0o644) // CreateTemp makes 0600; these are ordinary data files
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("synth: writing %s: %w", path, err)
	}
	wr.sum.Files++
	wr.sum.Bytes += int64(len(data))
	return nil
}
