package jobs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"gocv.io/x/gocv"

	"github.com/segtool/segtool/apply"
	"github.com/segtool/segtool/dataset"
	"github.com/segtool/segtool/internal/fixture"
	"github.com/segtool/segtool/internal/shareddata"
	"github.com/segtool/segtool/internal/testmodel"
	"github.com/segtool/segtool/temporal"
)

// applyRedModel is a stand-in for a segmentation model: the person is where
// the red channel is >= 128, as the oracle model of models/onnxbuild.
type applyRedModel struct{}

func (applyRedModel) Predict(img gocv.Mat) ([]float32, error) {
	px := img.ToBytes()
	p := make([]float32, img.Cols()*img.Rows())
	for i := range p {
		if px[3*i+2] >= 128 {
			p[i] = 1
		}
	}
	return p, nil
}

// applyLevelModel predicts one value for the whole frame: its first pixel's
// red channel / 255.
type applyLevelModel struct{}

func (applyLevelModel) Predict(img gocv.Mat) ([]float32, error) {
	px := img.ToBytes()
	p := make([]float32, img.Cols()*img.Rows())
	for i := range p {
		p[i] = float32(px[2]) / 255
	}
	return p, nil
}

// applyPortrait writes a w x h image: a red "person" rectangle on a textured
// green background.
func applyPortrait(t testing.TB, path string, w, h int) {
	t.Helper()
	px := make([]uint8, 3*w*h)
	for y := range h {
		for x := range w {
			i := 3 * (y*w + x)
			px[i], px[i+1], px[i+2] = uint8(x*5), 120+uint8(y%7)*10, 20
			if x > w/4 && x < 3*w/4 && y > h/5 {
				px[i+2] = 220
			}
		}
	}
	applyWriteBGR(t, path, w, h, px)
}

func applyWriteBGR(t testing.TB, path string, w, h int, px []uint8) {
	t.Helper()
	m, err := gocv.NewMatFromBytes(h, w, gocv.MatTypeCV8UC3, px)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if !gocv.IMWrite(path, m) {
		t.Fatalf("write %s", path)
	}
}

// applyPhotoFolder writes three portraits (two JPEG, one PNG), a truncated
// JPEG, a text file named .jpg, a README and a dot-file.
func applyPhotoFolder(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "photos")
	applyPortrait(t, filepath.Join(dir, "b.jpg"), 48, 40)
	applyPortrait(t, filepath.Join(dir, "a.png"), 40, 48)
	applyPortrait(t, filepath.Join(dir, "c10.jpg"), 32, 32)
	b, err := os.ReadFile(filepath.Join(dir, "b.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"cut.jpg":    b[:len(b)/2],
		"notes.jpg":  []byte("not a picture\n"),
		"README.txt": []byte("holiday photos\n"),
		"._b.jpg":    {0, 5, 22, 7},
	}
	for n, d := range files {
		if err := os.WriteFile(filepath.Join(dir, n), d, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestApplyAllEffects(t *testing.T) {
	in := applyPhotoFolder(t)
	bg := filepath.Join(t.TempDir(), "bg.png")
	applyPortrait(t, bg, 60, 20) // another aspect: cover-fitted and noted
	out := filepath.Join(t.TempDir(), "out")
	var mu sync.Mutex
	var reported []ApplyImage
	var progressed int
	o := ApplyOptions{
		In: in, Out: out, Effects: apply.Effects(), Background: bg, Workers: 3,
		Blur: apply.BlurOptions{Sigma: 3, FgEdge: true}, Refine: apply.RefineOptions{Feather: 1},
		Sheet: filepath.Join(out, "sheet.png"), SheetCell: 40,
		Report:   func(it ApplyImage) { reported = append(reported, it) },
		Progress: func(done, total int) { mu.Lock(); progressed = max(progressed, done); mu.Unlock() },
	}
	sum, err := Apply(context.Background(), applyRedModel{}, o)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Inputs != 5 || sum.Done != 3 || sum.Skipped != 2 || sum.Ignored != 2 || sum.Files != 12 || progressed != 5 || len(reported) != 5 {
		t.Errorf("summary %+v, progress %d, %d reports; want 5 inputs, 3 done, 2 skipped, 2 ignored, 12 files", sum, progressed, len(reported))
	}
	// Natural order: a, b, c10, cut, notes.
	var order []string
	for _, it := range sum.Images {
		order = append(order, filepath.Base(it.Input))
		if it.Status == ApplySkipped && it.Reason == "" {
			t.Errorf("%s skipped without a reason", it.Input)
		}
		if it.Status == ApplyOK && len(it.Notes) == 0 {
			t.Errorf("%s: the background of another aspect was not noted", it.Input)
		}
	}
	if strings.Join(order, " ") != "a.png b.jpg c10.jpg cut.jpg notes.jpg" {
		t.Errorf("order %v", order)
	}
	for _, f := range []string{"blur/a.png", "blur/b.jpg", "replace/c10.jpg", "cutout/b.png", "matte/a.png", "matte/c10.png", "sheet.png"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	cut := gocv.IMRead(filepath.Join(out, "cutout/b.png"), gocv.IMReadUnchanged)
	defer cut.Close()
	if cut.Channels() != 4 || cut.Cols() != 48 || cut.Rows() != 40 {
		t.Errorf("cutout: %d channels, %dx%d", cut.Channels(), cut.Cols(), cut.Rows())
	}
	sheet := gocv.IMRead(filepath.Join(out, "sheet.png"), gocv.IMReadColor)
	defer sheet.Close()
	// Header 30 + 3 rows of 40 + gaps of 6.
	if sheet.Rows() != 30+3*(40+6) {
		t.Errorf("sheet is %dx%d, want 3 rows of 40 px panels", sheet.Cols(), sheet.Rows())
	}

	// Again without Force: refused before any work, naming the count.
	_, err = Apply(context.Background(), applyRedModel{}, o)
	if !errors.Is(err, dataset.ErrExists) || !strings.Contains(err.Error(), "13 of 21") {
		t.Errorf("second run: %v, want ErrExists for 13 of 21 outputs (5 inputs x 4 effects + the sheet)", err)
	}
	o.Force = true
	if _, err := Apply(context.Background(), applyRedModel{}, o); err != nil {
		t.Errorf("with force: %v", err)
	}
}

// The matte of a person drawn in red is exactly the red region (no
// refinement); a single input and a single effect can name the file.
func TestApplySingleFile(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "me.png")
	applyPortrait(t, in, 40, 50)
	out := filepath.Join(dir, "me-matte.png")
	sum, err := Apply(context.Background(), applyRedModel{}, ApplyOptions{In: in, Out: out, Effects: []apply.Effect{apply.EffectMatte}})
	if err != nil || sum.Done != 1 {
		t.Fatalf("%+v %v", sum, err)
	}
	m := gocv.IMRead(out, gocv.IMReadGrayScale)
	defer m.Close()
	px := m.ToBytes()
	for y := range 50 {
		for x := range 40 {
			want := uint8(0)
			if x > 10 && x < 30 && y > 10 {
				want = 255
			}
			if px[y*40+x] != want {
				t.Fatalf("matte (%d,%d) = %d, want %d", x, y, px[y*40+x], want)
			}
		}
	}
}

func TestApplyOptionErrors(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "me.png")
	applyPortrait(t, in, 20, 20)
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o755)
	for _, c := range []struct {
		o     ApplyOptions
		field string
	}{
		{ApplyOptions{In: in, Out: dir + "/o", Effects: []apply.Effect{apply.EffectReplace}}, "Background"},
		{ApplyOptions{In: in, Out: dir + "/o", Effects: []apply.Effect{apply.EffectBlur}, Background: in}, "Background"},
		{ApplyOptions{In: in, Out: dir + "/o.jpg", Effects: []apply.Effect{apply.EffectCutout}}, "Out"},
		{ApplyOptions{In: in, Out: dir + "/o.png", Effects: []apply.Effect{apply.EffectCutout, apply.EffectMatte}}, "Out"},
		{ApplyOptions{In: dir + "/none.png", Out: dir + "/o", Effects: []apply.Effect{apply.EffectBlur}}, "In"},
		{ApplyOptions{In: empty, Out: dir + "/o", Effects: []apply.Effect{apply.EffectBlur}}, "In"},
		{ApplyOptions{In: in, Out: dir + "/o", Effects: []apply.Effect{apply.EffectBlur}, Temporal: temporal.Spec{Kind: temporal.EMA, Param: 1}}, "Temporal"},
		{ApplyOptions{In: in, Out: dir + "/o", Effects: []apply.Effect{apply.EffectBlur}, Blur: apply.BlurOptions{Kernel: 4}}, "Blur.Kernel"},
		{ApplyOptions{In: in, Out: dir + "/o", Effects: []apply.Effect{apply.EffectBlur}, Refine: apply.RefineOptions{Feather: -2}}, "Refine.Feather"},
		{ApplyOptions{In: in, Out: dir + "/o", Effects: []apply.Effect{apply.EffectBlur}, Harmonize: 0.5}, "Harmonize"},
		{ApplyOptions{In: in, Out: in, Effects: []apply.Effect{apply.EffectMatte}}, "Out"}, // would overwrite the input
		{ApplyOptions{In: in, Out: dir + "/o"}, "Effects"},
	} {
		err := CheckApply(c.o)
		var oe *dataset.OptionError
		if !errors.As(err, &oe) || oe.Field != c.field {
			t.Errorf("%+v: %v, want an option error for %s", c.o, err, c.field)
		}
	}
}

// Frames are smoothed strictly in order whatever the number of workers,
// and an unreadable frame neither breaks nor reorders the chain: with
// decay 0.5 and frames alternating 0 and 1 (the broken frame left out),
// the soft mattes are 255·(0, 0.5, 0.25, 0.625, 0.3125, 0.65625).
func TestApplyTemporalEMAOrder(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "frames")
	levels := []uint8{0, 255, 0, 255, 0, 255}
	names := []string{}
	for k, v := range levels {
		n := fmt.Sprintf("frame%d.png", k+1) // frame1..frame3, then frame13..frame15: natural order, not bytewise
		if k >= 3 {
			n = fmt.Sprintf("frame%d.png", 10+k)
		}
		names = append(names, n)
		applyWriteBGR(t, filepath.Join(dir, n), 8, 6, applySolid(8, 6, 0, 0, v))
	}
	if err := os.WriteFile(filepath.Join(dir, "frame5.png"), []byte("broken"), 0o644); err != nil {
		t.Fatal(err)
	}
	want := []uint8{0, 128, 64, 159, 80, 167} // round(255·s)
	for _, workers := range []int{1, 4} {
		out := filepath.Join(t.TempDir(), "mattes")
		sum, err := Apply(context.Background(), applyLevelModel{}, ApplyOptions{In: dir, Out: out, Effects: []apply.Effect{apply.EffectMatte},
			Refine: apply.RefineOptions{Soft: true}, Temporal: temporal.Spec{Kind: temporal.EMA, Param: 0.5}, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Done != 6 || sum.Skipped != 1 {
			t.Errorf("workers %d: %d done, %d skipped", workers, sum.Done, sum.Skipped)
		}
		for k, n := range names {
			m := gocv.IMRead(filepath.Join(out, n), gocv.IMReadGrayScale)
			v := m.ToBytes()[0]
			m.Close()
			if v != want[k] {
				t.Errorf("workers %d: %s matte %d, want %d", workers, n, v, want[k])
			}
		}
	}
}

func TestApplyNaturalLess(t *testing.T) {
	names := []string{"frame10.png", "frame2.png", "frame1.png", "Frame3.png", "frame002.png", "a", "frame", "frame1b.png"}
	sort.Slice(names, func(i, j int) bool { return applyNaturalLess(names[i], names[j]) })
	want := "Frame3.png a frame frame1.png frame1b.png frame002.png frame2.png frame10.png"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestApplyOutputNames(t *testing.T) {
	got := applyOutputNames([]string{"in/a.jpg", "in/a.png", "in/b.JPEG"}, []apply.Effect{apply.EffectBlur, apply.EffectMatte}, "out")
	want := [][]string{
		{"out/blur/a_jpg.jpg", "out/matte/a_jpg.png"},
		{"out/blur/a_png.png", "out/matte/a_png.png"},
		{"out/blur/b.jpg", "out/matte/b.png"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v\nwant %v", got, want)
	}
}

// Saved predictions stand in for a model: with Soft the matte is the
// saved prediction itself; a prediction of the wrong size or a missing one
// skips its image.
func TestApplySavedPredictions(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in")
	preds := filepath.Join(dir, "preds")
	for _, n := range []string{"a", "b", "c"} {
		applyPortrait(t, filepath.Join(in, n+".jpg"), 20, 10)
	}
	ramp := make([]uint8, 20*10)
	for i := range ramp {
		ramp[i] = uint8(i)
	}
	os.MkdirAll(preds, 0o755)
	for n, m := range map[string][]uint8{"a": ramp, "b": ramp[:100]} {
		w := 20
		if n == "b" {
			w = 10
		}
		g, _ := gocv.NewMatFromBytes(len(m)/w, w, gocv.MatTypeCV8UC1, m)
		gocv.IMWrite(filepath.Join(preds, n+".png"), g)
		g.Close()
	}
	out := filepath.Join(dir, "out")
	sum, err := Apply(context.Background(), nil, ApplyOptions{In: in, Out: out, Preds: preds, Effects: []apply.Effect{apply.EffectMatte}, Refine: apply.RefineOptions{Soft: true}})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != 1 || sum.Skipped != 2 {
		t.Errorf("%d done, %d skipped; want a done, b (10x10) and c (missing) skipped", sum.Done, sum.Skipped)
	}
	m := gocv.IMRead(filepath.Join(out, "a.png"), gocv.IMReadGrayScale)
	defer m.Close()
	if got := m.ToBytes(); string(got) != string(ramp) {
		t.Errorf("matte is not the saved prediction")
	}
	if _, err := Apply(context.Background(), applyRedModel{}, ApplyOptions{In: in, Out: out + "2", Preds: preds, Effects: []apply.Effect{apply.EffectMatte}}); err == nil {
		t.Error("a model and saved predictions both accepted")
	}
}

// applySolid returns w*h pixels of one BGR colour.
func applySolid(w, h int, b, g, r uint8) []uint8 {
	px := make([]uint8, 3*w*h)
	for i := 0; i < len(px); i += 3 {
		px[i], px[i+1], px[i+2] = b, g, r
	}
	return px
}

// applyReadAlpha reads a P3M reference matte as [0, 1] values.
func applyReadAlpha(t *testing.T, path string) []float32 {
	t.Helper()
	b, _, _ := fixture.ReadGray(t, path)
	return apply.AlphaFromBytes(b)
}

// SINet on the nine P3M portraits writes all four effects and a contact
// sheet; the mattes overlap the reference mattes as the models README says
// SINet does (IoU about 0.8 or better), and the cut-outs carry the matte.
func TestApplySINetP3M(t *testing.T) {
	p3m := shareddata.Dir(t, "data/p3m")
	bgs := shareddata.Dir(t, "data/backgrounds")
	pred := testmodel.SINet(t)
	out := filepath.Join(t.TempDir(), "out")
	sheet := filepath.Join(out, "sheet.png")
	sum, err := Apply(context.Background(), pred, ApplyOptions{
		In: filepath.Join(p3m, "images"), Out: out, Effects: apply.Effects(), Background: bgs,
		Blur: apply.BlurOptions{FgEdge: true}, Sheet: sheet, SheetRows: 9, SheetCell: 120,
	})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Done != sum.Inputs || sum.Inputs < 9 || sum.Files != 4*sum.Inputs || sum.Preview != sheet {
		t.Fatalf("summary %+v", sum)
	}
	t.Logf("%d portraits, %.1f MP, in %v", sum.Done, sum.Megapixels, sum.Elapsed)
	var inter, union float64
	for _, it := range sum.Images {
		stem := applyStem(it.Input)
		ref := applyReadAlpha(t, filepath.Join(p3m, "alphas", stem+".png"))
		matte := applyReadAlpha(t, filepath.Join(out, "matte", stem+".png"))
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

// MODNet's one-frame delay on a folder of frames predicting 0, 0, 1, 0, 0
// (a one-frame spike): the spike's neighbours agree and it differs from
// both by more than 0.1, so it becomes their mean, 0; every frame is
// written, the last one flushed, whatever the number of workers.
func TestApplyTemporalOFDSpike(t *testing.T) {
	if (temporal.Spec{Kind: temporal.OFD}).New().Delay() == 0 {
		t.Skip("skipping: the temporal package's ofd filter is not there yet")
	}
	dir := filepath.Join(t.TempDir(), "frames")
	for k, v := range []uint8{0, 0, 255, 0, 0} {
		applyWriteBGR(t, filepath.Join(dir, fmt.Sprintf("f%d.png", k)), 4, 3, applySolid(4, 3, 0, 0, v))
	}
	for _, workers := range []int{1, 3} {
		out := filepath.Join(t.TempDir(), "mattes")
		sum, err := Apply(context.Background(), applyLevelModel{}, ApplyOptions{In: dir, Out: out, Effects: []apply.Effect{apply.EffectMatte},
			Refine: apply.RefineOptions{Soft: true}, Temporal: temporal.Spec{Kind: temporal.OFD}, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Done != 5 {
			t.Errorf("workers %d: %d done, want 5", workers, sum.Done)
		}
		for k := range 5 {
			m := gocv.IMRead(filepath.Join(out, fmt.Sprintf("f%d.png", k)), gocv.IMReadGrayScale)
			if m.Empty() {
				t.Errorf("workers %d: frame %d not written", workers, k)
				continue
			}
			if v := m.ToBytes()[0]; v != 0 {
				t.Errorf("workers %d: frame %d matte %d, want 0", workers, k, v)
			}
			m.Close()
		}
	}
}
