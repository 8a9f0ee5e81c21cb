package apply

import (
	"context"
	"image"
	"math"
	"os"
	"path/filepath"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/models"
)

// sinetPredictor opens ../shared/models/SINet.onnx with the sinet preset.
func sinetPredictor(t *testing.T) *models.Predictor {
	t.Helper()
	dir := shareddata.Dir(t, "models")
	if _, err := models.LibraryPath(); err != nil {
		t.Skipf("skipping: %v", err)
	}
	path := filepath.Join(dir, "SINet.onnx")
	info, err := models.ReadModelInfo(path)
	if err != nil {
		t.Fatal(err)
	}
	spec, err := models.Detect(models.Presets()["sinet"], info.Inputs, info.Outputs)
	if err != nil {
		t.Fatal(err)
	}
	s, err := models.Open(path, spec, models.SessionOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return models.NewPredictor(s, models.FitResize, image.Point{}, 0)
}

// readAlpha reads a P3M reference matte as [0, 1] values.
func readAlpha(t *testing.T, path string) []float32 {
	t.Helper()
	m := gocv.IMRead(path, gocv.IMReadGrayScale)
	defer m.Close()
	if m.Empty() {
		t.Fatalf("cannot read %s", path)
	}
	b := m.ToBytes()
	a := make([]float32, len(b))
	for i, v := range b {
		a[i] = float32(v) / 255
	}
	return a
}

// SINet on the nine P3M portraits writes all four effects and a contact
// sheet; the mattes overlap the reference mattes as the models README says
// SINet does (IoU about 0.8 or better), and the cut-outs carry the matte.
func TestApplySINetP3M(t *testing.T) {
	p3m := shareddata.Dir(t, "data/p3m")
	bgs := shareddata.Dir(t, "data/backgrounds")
	pred := sinetPredictor(t)
	out := filepath.Join(t.TempDir(), "out")
	sheet := filepath.Join(out, "sheet.png")
	sum, err := Run(context.Background(), pred, Options{
		In: filepath.Join(p3m, "images"), Out: out, Effects: Effects(), Background: bgs,
		Blur: BlurOptions{FgEdge: true}, Sheet: sheet, SheetRows: 9, SheetCell: 120,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != sum.Inputs || sum.Inputs < 9 || sum.Files != 4*sum.Inputs || sum.Sheet != sheet {
		t.Fatalf("summary %+v", sum)
	}
	t.Logf("%d portraits, %.1f MP, in %v", sum.Done, sum.Megapixels, sum.Elapsed)
	var inter, union float64
	for _, it := range sum.Items {
		stem := stemOf(it.Input)
		ref := readAlpha(t, filepath.Join(p3m, "alphas", stem+".png"))
		matte := readAlpha(t, filepath.Join(out, "matte", stem+".png"))
		cut := gocv.IMRead(filepath.Join(out, "cutout", stem+".png"), gocv.IMReadUnchanged)
		cb := cut.ToBytes()
		if cut.Channels() != 4 || len(cb) != 4*len(matte) {
			t.Fatalf("%s: cutout %d channels, %d bytes", stem, cut.Channels(), len(cb))
		}
		cut.Close()
		for i, a := range matte {
			if cb[4*i+3] != uint8(a*255+0.5) {
				t.Fatalf("%s: cutout alpha %d at %d, matte %v", stem, cb[4*i+3], i, a)
			}
			p, g := a >= 0.5, ref[i] >= 0.5
			if p && g {
				inter++
			}
			if p || g {
				union++
			}
		}
		for _, e := range []string{"blur", "replace"} {
			m := gocv.IMRead(filepath.Join(out, e, stem+".jpg"), gocv.IMReadColor)
			if m.Cols()*m.Rows() != len(matte) {
				t.Errorf("%s %s: %dx%d", e, stem, m.Cols(), m.Rows())
			}
			m.Close()
		}
	}
	if iou := inter / union; iou < 0.7 {
		t.Errorf("matte IoU against the P3M mattes %.3f, want about 0.8 or better", iou)
	} else {
		t.Logf("matte IoU against the P3M mattes: %.3f", iou)
	}
	if st, err := os.Stat(sheet); err != nil || st.Size() == 0 {
		t.Errorf("sheet: %v", err)
	}
}

// The trimap refinement pulls SINet's edges toward the P3M mattes: the
// mean |alpha error| over the reference's transition pixels (0 < a < 1)
// falls (measured over all transition pixels of the nine: 0.193 for the
// mask, 0.144 refined with the defaults).
func TestTrimapRefineSINetP3M(t *testing.T) {
	p3m := shareddata.Dir(t, "data/p3m")
	pred := sinetPredictor(t)
	files, _, err := listImages(filepath.Join(p3m, "images"))
	if err != nil {
		t.Fatal(err)
	}
	var errMask, errRefined float64
	n := 0
	for _, f := range files {
		img, err := readImage(f)
		if err != nil {
			t.Fatal(err)
		}
		prob, err := pred.Predict(img)
		if err != nil {
			t.Fatal(err)
		}
		ref := readAlpha(t, filepath.Join(p3m, "alphas", stemOf(f)+".png"))
		mask, err := Refine(context.Background(), img, prob, RefineOptions{})
		if err != nil {
			t.Fatal(err)
		}
		refined, err := Refine(context.Background(), img, prob, RefineOptions{Trimap: true})
		img.Close()
		if err != nil {
			t.Fatal(err)
		}
		for i, g := range ref {
			if g > 0 && g < 1 {
				errMask += math.Abs(float64(mask[i] - g))
				errRefined += math.Abs(float64(refined[i] - g))
				n++
			}
		}
	}
	errMask /= float64(n)
	errRefined /= float64(n)
	t.Logf("mean |alpha error| over %d transition pixels: mask %.4f, trimap-refined %.4f", n, errMask, errRefined)
	if errRefined >= errMask {
		t.Errorf("trimap refinement did not lower the transition error: %.4f -> %.4f", errMask, errRefined)
	}
}
