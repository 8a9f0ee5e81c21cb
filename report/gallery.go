package report

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"math"
	"os"
	"path/filepath"
	"sort"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/eval"
)

// GalleryDir is the report's gallery folder.
const GalleryDir = "gallery"

// Gallery is the worst images of the first run by one metric.
type Gallery struct {
	Run   string        `json:"run"`
	By    string        `json:"by"`
	Items []GalleryItem `json:"items"`
	// Note says why panels are missing (no preds/, no dataset).
	Note string `json:"note,omitempty"`
}

// GalleryItem is one image: its value and its panel.
type GalleryItem struct {
	ID    string  `json:"id"`
	Value float64 `json:"value"`
	// Panel is image | truth | prediction | errors, relative to the report
	// folder; "" when it could not be drawn.
	Panel string `json:"panel,omitempty"`
	Note  string `json:"note,omitempty"`
}

// panelHeight is the height of each image in a gallery panel.
const panelHeight = 240

// Worst returns the k images of run with the worst per-image value of
// metric (lowest where higher is better), ties by id.
func Worst(run *Run, k int, metric string) ([]GalleryItem, error) {
	m, ok := eval.DefaultRegistry().Lookup(metric)
	if !ok {
		return nil, &dataset.OptionError{Field: "By", Err: fmt.Errorf("%s: not a per-image metric", metric)}
	}
	ids, vals, _ := run.PerImage(metric)
	idx := make([]int, len(ids))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool {
		va, vb := vals[idx[a]], vals[idx[b]]
		if va != vb {
			return (va < vb) == m.HigherBetter
		}
		return ids[idx[a]] < ids[idx[b]]
	})
	var out []GalleryItem
	for _, i := range idx[:min(k, len(idx))] {
		out = append(out, GalleryItem{ID: ids[i], Value: vals[i]})
	}
	return out, nil
}

// drawGallery draws each item's panel into dir/gallery. What cannot be
// drawn is a note.
func drawGallery(dir string, run *Run, g *Gallery) error {
	if run.Dir == "" {
		g.Note = "the run was given as a results.json file: no predictions to show"
		return nil
	}
	preds := filepath.Join(run.Dir, eval.PredsDir)
	if st, err := os.Stat(preds); err != nil || !st.IsDir() {
		g.Note = fmt.Sprintf("no %s/ in %s: rerun eval saving its predictions to see the worst images", eval.PredsDir, run.Dir)
		return nil
	}
	if run.Samples == nil {
		g.Note = fmt.Sprintf("the dataset %s is not readable as it was: no images to show", run.Results.Dataset.Path)
		return nil
	}
	if err := os.MkdirAll(filepath.Join(dir, GalleryDir), 0o755); err != nil {
		return err
	}
	thr := run.Results.Options.Threshold
	for i := range g.Items {
		it := &g.Items[i]
		s, ok := run.Samples[it.ID]
		if !ok {
			it.Note = "not in the dataset's manifest"
			continue
		}
		rel := filepath.ToSlash(filepath.Join(GalleryDir, fmt.Sprintf("%02d_%s.jpg", i+1, safeName(it.ID))))
		b, err := panelJPEG(run.Results.Dataset.Path, s, filepath.Join(preds, it.ID+".png"), thr, it.ID)
		if err != nil {
			it.Note = err.Error()
			continue
		}
		if err := dataset.WriteFileAtomic(filepath.Join(dir, rel), b); err != nil {
			return err
		}
		it.Panel = rel
	}
	return nil
}

// safeName keeps ids usable as file names.
func safeName(id string) string {
	b := []byte(id)
	for i, c := range b {
		ok := c == '-' || c == '_' || c == '.' || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		if !ok {
			b[i] = '_'
		}
	}
	return string(b)
}

// mats closes every Mat it was given.
type mats []*gocv.Mat

// readGuarded decodes a file through dataset's guarded decoder (size from
// the header first); an unreadable file is an empty Mat, as IMRead gives.
func readGuarded(path string, flags gocv.IMReadFlag) gocv.Mat {
	b, err := os.ReadFile(path)
	if err != nil {
		return gocv.NewMat()
	}
	m, err := dataset.Decoder{}.Decode(path, b, flags)
	if err != nil {
		return gocv.NewMat()
	}
	return m
}

func (ms *mats) add(m gocv.Mat) *gocv.Mat {
	p := &m
	*ms = append(*ms, p)
	return p
}

func (ms mats) close() {
	for _, m := range ms {
		m.Close()
	}
}

// panelJPEG draws image | truth | prediction | errors for one sample. The
// error map binarises the saved 8-bit prediction v as eval does the
// probability (v/255 > threshold, i.e. v > floor(255·threshold)); a
// probability within half a grey level of the threshold may land on the
// other side of it than in the scores.
func panelJPEG(dsDir string, s dataset.Sample, predPath string, thr float64, id string) ([]byte, error) {
	for _, p := range []string{filepath.Join(dsDir, s.Image), predPath} {
		if _, err := os.Stat(p); err != nil {
			return nil, fmt.Errorf("no %s", filepath.Base(p))
		}
	}
	var ms mats
	defer func() { ms.close() }()
	img := ms.add(readGuarded(filepath.Join(dsDir, s.Image), gocv.IMReadColor))
	if img.Empty() {
		return nil, fmt.Errorf("cannot read %s", s.Image)
	}
	gtPath, gtThr := s.Mask, float32(127) // mask 0/255: person >= 128
	if gtPath == "" {
		gtPath = s.Alpha // alpha only: person = alpha >= 128, as eval
	}
	gt := ms.add(readGuarded(filepath.Join(dsDir, gtPath), gocv.IMReadGrayScale))
	pred := ms.add(readGuarded(predPath, gocv.IMReadGrayScale))
	if gt.Empty() {
		return nil, fmt.Errorf("cannot read %s", gtPath)
	}
	if pred.Empty() {
		return nil, fmt.Errorf("no prediction %s", filepath.Base(predPath))
	}
	w, h := img.Cols(), img.Rows()
	if gt.Cols() != w || gt.Rows() != h || pred.Cols() != w || pred.Rows() != h {
		return nil, fmt.Errorf("sizes differ: image %dx%d, truth %dx%d, prediction %dx%d", w, h, gt.Cols(), gt.Rows(), pred.Cols(), pred.Rows())
	}
	gtBin := ms.add(gocv.NewMat())
	gocv.Threshold(*gt, gtBin, gtThr, 255, gocv.ThresholdBinary)
	predBin := ms.add(gocv.NewMat())
	gocv.Threshold(*pred, predBin, float32(math.Floor(255*thr)), 255, gocv.ThresholdBinary)
	notGT, notPred := ms.add(gocv.NewMat()), ms.add(gocv.NewMat())
	gocv.BitwiseNot(*gtBin, notGT)
	gocv.BitwiseNot(*predBin, notPred)
	fp, fn, tp := ms.add(gocv.NewMat()), ms.add(gocv.NewMat()), ms.add(gocv.NewMat())
	gocv.BitwiseAnd(*predBin, *notGT, fp)
	gocv.BitwiseAnd(*gtBin, *notPred, fn)
	gocv.BitwiseAnd(*gtBin, *predBin, tp)

	// Errors over the image dimmed to grey; true positives light grey,
	// false positives (predicted person, truth background) Okabe-Ito
	// orange, false negatives Okabe-Ito blue (BGR here).
	grey := ms.add(gocv.NewMat())
	gocv.CvtColor(*img, grey, gocv.ColorBGRToGray)
	dim := ms.add(gocv.NewMat())
	grey.ConvertToWithParams(dim, gocv.MatTypeCV8U, 0.35, 0)
	errMap := ms.add(gocv.NewMat())
	gocv.CvtColor(*dim, errMap, gocv.ColorGrayToBGR)
	for _, f := range []struct {
		mask *gocv.Mat
		c    gocv.Scalar
	}{{tp, gocv.NewScalar(200, 200, 200, 0)}, {fp, gocv.NewScalar(0, 159, 230, 0)}, {fn, gocv.NewScalar(178, 114, 0, 0)}} {
		// 75% colour over the dimmed image, so the scene stays legible.
		fill := ms.add(gocv.NewMatWithSizeFromScalar(f.c, h, w, gocv.MatTypeCV8UC3))
		mix := ms.add(gocv.NewMat())
		gocv.AddWeighted(*errMap, 0.25, *fill, 0.75, 0, mix)
		mix.CopyToWithMask(errMap, *f.mask)
	}
	gtBGR, predBGR := ms.add(gocv.NewMat()), ms.add(gocv.NewMat())
	gocv.CvtColor(*gt, gtBGR, gocv.ColorGrayToBGR)
	gocv.CvtColor(*pred, predBGR, gocv.ColorGrayToBGR)

	pw := max(int(math.Round(float64(w)*panelHeight/float64(h))), 1)
	labels := []string{id, "truth", "prediction", "FP orange, FN blue"}
	var sheet *gocv.Mat
	for k, p := range []*gocv.Mat{img, gtBGR, predBGR, errMap} {
		r := ms.add(gocv.NewMat())
		gocv.Resize(*p, r, image.Pt(pw, panelHeight), 0, 0, gocv.InterpolationArea)
		// A white header with the label, a white gap on the right.
		framed := ms.add(gocv.NewMat())
		gocv.CopyMakeBorder(*r, framed, 26, 0, 0, 6, gocv.BorderConstant, color.RGBA{255, 255, 255, 0})
		label := fitText(labels[k], pw)
		gocv.PutText(framed, label, image.Pt(4, 19), gocv.FontHersheySimplex, 0.5, color.RGBA{0, 0, 0, 0}, 1)
		if sheet == nil {
			sheet = framed
			continue
		}
		next := ms.add(gocv.NewMat())
		gocv.Hconcat(*sheet, *framed, next)
		sheet = next
	}
	buf, err := gocv.IMEncodeWithParams(gocv.JPEGFileExt, *sheet, []int{gocv.IMWriteJpegQuality, 90})
	if err != nil {
		return nil, err
	}
	defer buf.Close()
	return bytes.Clone(buf.GetBytes()), nil
}

// fitText shortens s until it fits w pixels in the label font.
func fitText(s string, w int) string {
	for len(s) > 3 && gocv.GetTextSize(s, gocv.FontHersheySimplex, 0.5, 1).X > w-8 {
		s = s[:len(s)-4] + "..."
	}
	return s
}
