package eval

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"image"
	"math"
	"strconv"

	"github.com/segtool/segtool/sheet"
	"gocv.io/x/gocv"

	"github.com/segtool/segtool/dataset"
)

// toByte maps a probability to 0..255, rounding; NaN becomes 0.
func toByte(v float32) uint8 {
	if !(v > 0) {
		return 0
	}
	if v >= 1 {
		return 255
	}
	return uint8(v*255 + 0.5)
}

func probBytes(prob []float32) []uint8 {
	b := make([]uint8, len(prob))
	for i, v := range prob {
		b[i] = toByte(v)
	}
	return b
}

// writeFunc writes a file whole: dataset.WriteFileAtomic, or a test's
// failing stand-in.
type writeFunc func(path string, data []byte) error

// savePred writes the prediction as an 8-bit PNG, the format --preds reads.
func savePred(write writeFunc, path string, prob []float32, w, h int) error {
	m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC1, probBytes(prob))
	if err != nil {
		return err
	}
	defer m.Close()
	return writeEncoded(write, path, gocv.PNGFileExt, m)
}

func writeEncoded(write writeFunc, path string, ext gocv.FileExt, m gocv.Mat) error {
	buf, err := gocv.IMEncode(ext, m)
	if err != nil {
		return fmt.Errorf("encode %s: %w", path, err)
	}
	defer buf.Close()
	// GetBytes aliases C memory: copy before the buffer is closed.
	return write(path, bytes.Clone(buf.GetBytes()))
}

// overlayHeight is the height of each panel in an overlay.
const overlayHeight = 256

// saveOverlay writes image | ground truth | prediction | error side by
// side. The ground truth is the alpha where there is one, else the mask;
// the error is |prediction - ground truth| in the "hot" colour map.
func saveOverlay(write writeFunc, path string, j *job) error {
	gt := j.alpha
	if gt == nil {
		gt = j.mask
	}
	pred := probBytes(j.prob)
	diff := make([]uint8, len(pred))
	for i := range pred {
		d := int(pred[i]) - int(gt[i])
		if d < 0 {
			d = -d
		}
		diff[i] = uint8(d)
	}
	img, err := gocv.NewMatFromBytes(j.h, j.w, gocv.MatTypeCV8UC3, j.bgr)
	if err != nil {
		return err
	}
	defer img.Close()
	panels := []gocv.Mat{img}
	for k, plane := range [][]uint8{gt, pred, diff} {
		g, err := gocv.NewMatFromBytes(j.h, j.w, gocv.MatTypeCV8UC1, plane)
		if err != nil {
			return err
		}
		c := gocv.NewMat()
		if k == 2 {
			gocv.ApplyColorMap(g, &c, gocv.ColormapHot)
		} else {
			gocv.CvtColor(g, &c, gocv.ColorGrayToBGR)
		}
		g.Close()
		defer c.Close()
		panels = append(panels, c)
	}
	w := int(math.Round(float64(j.w) * overlayHeight / float64(j.h)))
	tiles := make([]sheet.Tile, len(panels))
	for i, p := range panels {
		tiles[i].Image = sheet.Scaled(p, image.Pt(max(w, 1), overlayHeight))
		defer tiles[i].Image.Close()
	}
	strip, _, err := sheet.Build(tiles, sheet.Layout{Cols: len(tiles)})
	if err != nil {
		return err
	}
	defer strip.Close()
	return writeEncoded(write, path, gocv.JPEGFileExt, strip)
}

// writeCSV writes per_image.csv: one row per image, the per-image value of
// every metric of the groups not in skip (empty where undefined), then the
// stage times.
func writeCSV(path string, rows []Row, skip []string) error {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	ms := runMetrics(skip, hasClips(rows))
	head := []string{"id", "split", "status", "reason", "width", "height", "tiles", "nonfinite"}
	for _, m := range ms {
		head = append(head, m.Name)
	}
	inst := hasRecords(rows)
	if inst {
		head = append(head, matchColumns()...)
	}
	head = append(head, "decode_ms", "preprocess_ms", "inference_ms", "postprocess_ms", "metrics_ms", "total_ms")
	if err := w.Write(head); err != nil {
		return err
	}
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
	for _, r := range rows {
		rec := []string{r.ID, r.Split, r.Status, r.Reason, strconv.Itoa(r.Width), strconv.Itoa(r.Height), strconv.Itoa(r.Tiles), strconv.Itoa(r.NonFinite)}
		for _, m := range ms {
			v, ok := 0.0, false
			if r.Score != nil {
				v, ok = m.PerImage(r.Score)
			}
			if ok {
				rec = append(rec, f(v))
			} else {
				rec = append(rec, "")
			}
		}
		if inst {
			rec = append(rec, matchCells(r)...)
		}
		t := r.MS
		rec = append(rec, f(t.Decode), f(t.Preprocess), f(t.Inference), f(t.Postprocess), f(t.Metrics), f(t.Total))
		if err := w.Write(rec); err != nil {
			return err
		}
	}
	return flushCSV(path, w, &b)
}

// flushCSV writes what w holds in b to path, atomically.
func flushCSV(path string, w *csv.Writer, b *bytes.Buffer) error {
	w.Flush()
	if err := w.Error(); err != nil {
		return err
	}
	return dataset.WriteFileAtomic(path, b.Bytes())
}
